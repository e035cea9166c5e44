"""The one shape every computed figure takes, so pages, the command line and benchmarks gaps all
read the same thing: a value with its n, interval, cut and a low-sample flag (DESIGN §5)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

import polars as pl

#: below this n a figure is marked "low sample" (DESIGN §5)
LOW_SAMPLE_N = 30

Unit = Literal["rate", "nps", "score", "hours", "money", "count", "per_customer"]


@dataclass(frozen=True)
class Metric:
    """One figure. Rates are fractions 0–1, NPS is −100…100, times in hours, money as uploaded.

    >>> m = Metric("csat", 0.8, n=20, low=0.58, high=0.92, by={"touchpoint": "Hotline"})
    >>> m.low_sample, m.to_dict()["by"]
    (True, {'touchpoint': 'Hotline'})
    """

    metric: str
    value: float | None
    n: int
    low: float | None = None
    high: float | None = None
    by: dict[str, str] = field(default_factory=dict)
    unit: Unit = "rate"

    @property
    def low_sample(self) -> bool:
        return self.n < LOW_SAMPLE_N

    def to_dict(self) -> dict:
        """The ``metrics --json`` entry."""
        d = asdict(self)
        d["low_sample"] = self.low_sample
        return d


def metrics_frame(metrics: list[Metric]) -> pl.DataFrame:
    """A list of metrics as a table: one column per ``by`` key (null where a metric is not cut
    by it), then metric, value, n, low, high, low_sample, unit; rows in the list's order.

    >>> metrics_frame([Metric("nps", 25.0, 4, unit="nps"),
    ...                Metric("csat", 0.5, 2, by={"touchpoint": "Web"})]).columns
    ['touchpoint', 'metric', 'value', 'n', 'low', 'high', 'low_sample', 'unit']
    """
    keys: list[str] = []
    for m in metrics:
        keys += [k for k in m.by if k not in keys]
    data = {k: [m.by.get(k) for m in metrics] for k in keys}
    data |= {
        "metric": [m.metric for m in metrics],
        "value": [m.value for m in metrics],
        "n": [m.n for m in metrics],
        "low": [m.low for m in metrics],
        "high": [m.high for m in metrics],
        "low_sample": [m.low_sample for m in metrics],
        "unit": [m.unit for m in metrics],
    }
    schema = {k: pl.String for k in keys} | {
        "metric": pl.String, "value": pl.Float64, "n": pl.Int64, "low": pl.Float64,
        "high": pl.Float64, "low_sample": pl.Boolean, "unit": pl.String}
    return pl.DataFrame(data, schema=schema)
