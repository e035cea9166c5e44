"""The shared filters every page applies (period, channel, segment): one source of truth for their
names, defaults and help, their URL form, and the choices a dataset offers."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import cast

import polars as pl

from cjm_core.analytics.periods import has_dates
from cjm_core.model.dataset import DATE_COLUMN, Dataset
from cjm_core.model.settings import Setting, dump_names, names

#: widget keys equal these names, and so do the URL's query parameters (the registry's `Setting`,
#: as for every page's view settings in `cjm_core.model.settings`)
FILTER_SETTINGS = (
    Setting("start", None, "First day of the period (inclusive)",
            date.fromisoformat, date.isoformat),
    Setting("end", None, "Last day of the period (inclusive)",
            date.fromisoformat, date.isoformat),
    Setting("channel", [], "Only rows of these channels (every table that has a channel)",
            names, dump_names),
    Setting("segment", [], "Only customers of these segments or personas", names, dump_names),
)


@dataclass(frozen=True)
class Filters:
    """Filter values; empty means no filter.

    >>> f = Filters.from_query({"start": "2025-01-01", "channel": "web,store"})
    >>> f.channel, f.to_query()["start"]
    (('web', 'store'), '2025-01-01')
    """

    start: date | None = None
    end: date | None = None
    channel: tuple[str, ...] = ()
    segment: tuple[str, ...] = ()

    def apply(self, dataset: Dataset) -> Dataset:
        """The dataset under these filters. The period applies only to tables with dates
        (`cjm_core.analytics.periods.has_dates`): an undated survey stays whole, since none of its
        answers can be placed in or out of the period; in a table with dates, rows without one
        are left out. Channel and segment apply to every table as usual.

        >>> from datetime import datetime
        >>> import polars as pl
        >>> from cjm_core.model.journey import default_journey
        >>> ev = pl.DataFrame({"customer_id": ["a", "b"],
        ...                    "timestamp": [datetime(2025, 1, 2), datetime(2025, 6, 1)]})
        >>> fb = pl.DataFrame({"touchpoint": ["Web", "Store"], "csat": [5, 2]})
        >>> out = Filters(start=date(2025, 3, 1)).apply(
        ...     Dataset(default_journey("4742"), events=ev, feedback=fb))
        >>> out.events.height, out.feedback.height
        (1, 2)
        """
        if self.is_empty():
            return dataset
        channel, segment = list(self.channel) or None, list(self.segment) or None
        out = dataset.filter(
            start=self.start,
            end=self.end + timedelta(days=1) if self.end else None,
            channel=channel,
            segment=segment,
        )
        undated = [t for t, frame in dataset.tables().items() if not has_dates(frame, t)]
        if undated and (self.start or self.end):
            whole = dataset.filter(channel=channel, segment=segment)
            out = replace(out, **{t: getattr(whole, t) for t in undated})
        return out

    def is_empty(self) -> bool:
        return not (self.start or self.end or self.channel or self.segment)

    def to_query(self) -> dict[str, str]:
        """URL parameters of the filters that are set."""
        values = {"start": self.start, "end": self.end, "channel": list(self.channel),
                  "segment": list(self.segment)}
        texts = {s.name: s.to_text(values[s.name]) for s in FILTER_SETTINGS}
        return {name: text for name, text in texts.items() if text is not None}

    @classmethod
    def from_query(cls, params: dict[str, str]) -> Filters:
        """Read filters from URL parameters; values that do not parse are ignored."""
        read = {s.name: s.read(params) for s in FILTER_SETTINGS}
        return cls(start=read["start"], end=read["end"], channel=tuple(read["channel"]),
                   segment=tuple(read["segment"]))


@dataclass(frozen=True)
class Facets:
    """What a dataset offers to filter on."""

    first_day: date | None = None
    last_day: date | None = None
    channels: list[str] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)


def facets(dataset: Dataset) -> Facets:
    """Date range, channels and segments present in a dataset.

    >>> from datetime import datetime
    >>> import polars as pl
    >>> from cjm_core.model.journey import default_journey
    >>> ev = pl.DataFrame({"timestamp": [datetime(2025, 1, 2), datetime(2025, 3, 4)],
    ...                    "channel": ["web", "store"], "segment": ["a", None]})
    >>> facets(Dataset(default_journey("4742"), events=ev))
    Facets(first_day=datetime.date(2025, 1, 2), last_day=datetime.date(2025, 3, 4), \
channels=['store', 'web'], segments=['a'])
    """
    lows: list[datetime] = []
    highs: list[datetime] = []
    channels: set[str] = set()
    segments: set[str] = set()
    queries = []  # one query per table, all collected together (polars runs them side by side)
    for name, frame in dataset.tables().items():
        col = DATE_COLUMN.get(name)
        exprs = []
        if col is not None and has_dates(frame, name):
            exprs += [pl.col(col).min().alias("lo"), pl.col(col).max().alias("hi")]
        exprs += [pl.col(c).drop_nulls().unique().implode().alias(c)
                  for c in ("channel", "segment") if c in frame.columns]
        if exprs:
            queries.append(frame.lazy().select(exprs))
    for row in (f.row(0, named=True) for f in pl.collect_all(queries)):
        if "lo" in row:  # date columns are read as Datetime (ingest)
            lows.append(cast(datetime, row["lo"]))
            highs.append(cast(datetime, row["hi"]))
        channels |= set(row.get("channel") or ())
        segments |= set(row.get("segment") or ())
    return Facets(
        first_day=min(lows).date() if lows else None,
        last_day=max(highs).date() if highs else None,
        channels=sorted(channels),
        segments=sorted(segments),
    )
