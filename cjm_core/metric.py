"""The one shape every computed figure takes, so pages, the command line and benchmarks gaps all
read the same thing: a value with its n, interval, cut and a low-sample flag (DESIGN §5)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

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



_MINUS = "\u2212"


def format_value(value: float | None, unit: str) -> str:
    """A figure as the report prints it: rates and relative changes as percentages with one
    decimal, NPS with one decimal, scores with two, hours with one, money with thousands
    separators, counts as whole numbers; "—" when there is no value.

    >>> format_value(0.5515873, "rate"), format_value(30.18, "nps"), format_value(28.53, "hours")
    ('55.2%', '30.2', '28.5 h')
    >>> format_value(-0.115, "relative_change"), format_value(None, "rate")
    ('−11.5%', '—')
    """
    if value is None:
        return "—"
    text = {
        "rate": lambda v: f"{v * 100:.1f}%",
        "relative_change": lambda v: f"{v * 100:+.1f}%",
        "nps": lambda v: f"{v:.1f}",
        "score": lambda v: f"{v:.2f}",
        "hours": lambda v: f"{v:.1f} h",
        "money": lambda v: f"{v:,.2f}",
        "count": lambda v: f"{v:,.0f}",
        "per_customer": lambda v: f"{v:.2f}",
    }.get(unit, lambda v: f"{v:.4g}")(value)
    return text.replace("-", _MINUS)
