"""The local engine: the engine seam's passes over a polars frame in this process.

The frame is cut into ``parts`` slices by a hash of the customer id (every customer's events in
one slice), each slice gives a partial, the partials are added: exactly what the Spark engine
does with its partitions, so both engines share one definition. ``parts=1`` (the default) is one
pass over the whole frame; more parts only exercise the merge.

>>> from datetime import datetime
>>> ev = pl.DataFrame({"customer_id": ["a", "a", "b"],
...     "timestamp": [datetime(2025, 1, 1, 10), datetime(2025, 1, 1, 11), datetime(2025, 1, 1)],
...     "stage": ["Look", "Buy", "Look"]})
>>> LocalEngine(ev, parts=2).funnel(FunnelQuery(steps=["Look", "Buy"])).table["reached"].to_list()
[2, 1]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Literal

import polars as pl

from cjm_core.analytics.funnel import FunnelQuery, FunnelResult
from cjm_core.engine import passes
from cjm_core.engine.partials import CountPartial, FunnelPartial, merge_all
from cjm_core.errors import QueryError
from cjm_core.metric import Metric
from cjm_core.model.journey import Journey


class LocalEngine:
    """Figures of an events frame through partials merged by addition."""

    name = "local"

    def __init__(self, events: pl.DataFrame, parts: int = 1) -> None:
        self.events = events if passes.ROW in events.columns else events.with_row_index(
            passes.ROW).with_columns(pl.col(passes.ROW).cast(pl.Int64))
        self.parts = max(1, int(parts))

    def _slices(self, columns: Sequence[str]) -> Iterator[pl.DataFrame]:
        missing = [c for c in columns if c not in self.events.columns]
        if missing:
            raise QueryError(f"The events table has no column {missing[0]!r}.")
        frame = self.events.select(*dict.fromkeys([*columns, passes.ROW]))
        if self.parts == 1:
            yield frame
            return
        part = pl.col("customer_id").hash(seed=17) % self.parts
        for i in range(self.parts):
            yield frame.filter(part == i)

    def funnel(self, query: FunnelQuery | None = None, journey: Journey | None = None
               ) -> FunnelResult:
        """The funnel of :func:`cjm_core.analytics.funnel.funnel` (plus ``median_rel_error``)."""
        plan = passes.make_plan(query or FunnelQuery(), journey)
        cols = plan.columns()
        stats = passes.TimeStats()
        for part in self._slices(cols):
            stats = stats.merge(passes.time_stats(part, plan))
        plan = passes.with_time(plan, stats)
        partials = [passes.funnel_partial(part, plan) for part in self._slices(cols)]
        total = merge_all(partials, FunnelPartial.empty(plan.k))
        return passes.funnel_result(total, plan, stats, dict(self.events.schema))

    def transitions(self, by: Literal["channel", "touchpoint"] = "channel", *,
                    drop_self: bool = False) -> pl.DataFrame:
        """The table of :func:`cjm_core.analytics.channels.transitions`."""
        partials = [passes.transitions_partial(part, by)
                    for part in self._slices(["customer_id", "timestamp", by])]
        return passes.transitions_result(merge_all(partials, CountPartial()), drop_self)

    def _channel_total(self, journey: Journey) -> CountPartial:
        cols = [c for c in ("customer_id", "timestamp", "stage", "channel")
                if c in self.events.columns]
        return merge_all([passes.channel_partial(part, journey) for part in self._slices(cols)],
                         CountPartial())

    def omnichannel(self, journey: Journey) -> list[Metric]:
        """The metrics of :func:`cjm_core.analytics.channels.omnichannel` (events only)."""
        return passes.omnichannel_result(self._channel_total(journey))

    def online_to_store(self, journey: Journey) -> Metric:
        """The metric of :func:`cjm_core.analytics.channels.online_to_store` (events only)."""
        return passes.online_to_store_result(self._channel_total(journey))
