"""A workspace's tables and journey in one object, with the shared filters (period, channel,
segment) every page applies, and a content digest for caching in the app layer."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cached_property
from typing import Any

import polars as pl

from cjm_core.model.journey import Journey, stage_names, stages_played

#: the date column of each table that a period filter applies to
DATE_COLUMN = {
    "events": "timestamp",
    "feedback": "timestamp",
    "support": "opened_at",
    "orders": "order_date",
}
TABLE_NAMES = ("events", "feedback", "support", "orders", "funnel_counts")


@dataclass(frozen=True)
class Dataset:
    """The five tables (any may be missing) with role-named columns, and the journey.

    >>> from cjm_core.model.journey import default_journey
    >>> ev = pl.DataFrame({"customer_id": ["a", "b"], "channel": ["web", "store"]})
    >>> Dataset(default_journey("4742"), events=ev).filter(channel="web").events.height
    1
    """

    journey: Journey
    events: pl.DataFrame | None = None
    feedback: pl.DataFrame | None = None
    support: pl.DataFrame | None = None
    orders: pl.DataFrame | None = None
    funnel_counts: pl.DataFrame | None = None

    def tables(self) -> dict[str, pl.DataFrame]:
        """The tables that are present, by name."""
        return {t: f for t in TABLE_NAMES if (f := getattr(self, t)) is not None}

    def has(self, table: str, *columns: str) -> bool:
        """Whether a table is present and has every named column with some non-null value."""
        frame = getattr(self, table)
        if frame is None or frame.height == 0:
            return False
        return all(c in frame.columns and frame[c].null_count() < frame.height for c in columns)

    def table(self, name: str) -> pl.DataFrame:
        """A table known to be present (``has`` said so): the frame, typed as one.

        >>> from cjm_core.model.journey import default_journey
        >>> Dataset(default_journey("4742")).table("events")
        Traceback (most recent call last):
        ...
        KeyError: 'no events table'
        """
        frame = getattr(self, name)
        if frame is None:
            raise KeyError(f"no {name} table")
        return frame

    def values(self, table: str, column: str) -> list[str]:
        """Distinct non-null values of a column, sorted (for pickers)."""
        frame = getattr(self, table)
        if frame is None or column not in frame.columns:
            return []
        return sorted(str(v) for v in frame[column].drop_nulls().unique().to_list())

    def dimensions(self, table: str = "events", max_values: int = 200) -> list[str]:
        """Columns of a table usable as a breakdown: text columns other than ids and times,
        with at most ``max_values`` distinct values.

        >>> from cjm_core.model.journey import default_journey
        >>> ev = pl.DataFrame({"customer_id": ["a", "b"], "channel": ["web", "store"],
        ...                    "revenue": [1.0, 2.0]})
        >>> Dataset(default_journey("4742"), events=ev).dimensions()
        ['channel']
        """
        frame = getattr(self, table)
        if frame is None:
            return []
        skip = {"customer_id", "ticket_id", "order_id", "comment"}
        return [c for c, t in frame.schema.items()
                if c not in skip and (t in (pl.String, pl.Categorical) or isinstance(t, pl.Enum))
                if frame[c].n_unique() <= max_values]

    def with_stage_names(self) -> Dataset:
        """The dataset with stage values that mean a journey stage but are spelt differently
        (case, accents, punctuation: "online research" for "Online research") renamed to that
        stage's name in every table with a stage column, so every figure counts them there.

        >>> from cjm_core.model.journey import default_journey
        >>> ev = pl.DataFrame({"stage": ["online research", "PURCHASE", "Unboxing"]})
        >>> Dataset(default_journey("4742"), events=ev).with_stage_names().events["stage"].to_list()
        ['Online research', 'Purchase', 'Unboxing']
        """
        out: dict[str, Any] = {}  # table name -> frame, for dataclasses.replace
        for name, frame in self.tables().items():
            if "stage" not in frame.columns or frame.height == 0:
                continue
            values = frame["stage"].cast(pl.String).drop_nulls().unique().to_list()
            mapping = stage_names(self.journey, values)
            if mapping:
                out[name] = frame.with_columns(pl.col("stage").cast(pl.String).replace(mapping))
        return replace(self, **out) if out else self

    @cached_property
    def roles_played(self) -> dict[str, bool]:
        """For each stage role, whether the journey gives it to a stage the events have (any
        role the journey sets counts when there are no events with stages to check).

        >>> from cjm_core.model.journey import default_journey
        >>> ev = pl.DataFrame({"stage": ["Cart", "Purchase"]})
        >>> played = Dataset(default_journey("4773"), events=ev).roles_played
        >>> played["cart"], played["support"]
        (True, False)
        """
        if not self.has("events", "stage"):
            return {r: bool(k) for r, k in self.journey.stage_roles.items()}
        values = self.table("events")["stage"].cast(pl.String).drop_nulls().unique().to_list()
        return stages_played(self.journey, values)

    def digest(self) -> str:
        """Content digest of the tables and journey: the cache key for everything derived."""
        h = hashlib.blake2b(self.journey.to_json().encode(), digest_size=16)
        for name, frame in self.tables().items():
            h.update(name.encode())
            h.update(str(frame.schema).encode())
            h.update(frame.hash_rows(seed=0).to_numpy().tobytes() if frame.height else b"")
        return h.hexdigest()

    def filter(
        self,
        *,
        start: date | datetime | None = None,
        end: date | datetime | None = None,
        channel: str | list[str] | None = None,
        segment: str | list[str] | None = None,
    ) -> Dataset:
        """The shared filters. ``start`` inclusive, ``end`` exclusive; ``channel`` keeps rows of
        that channel in every table that has one; ``segment`` keeps the customers whose events
        carry that segment, in every table that has a customer_id (and feedback/events rows of
        that segment where the table has a segment column itself); rows of a table with neither
        cannot be tied to the segment and are left out."""
        out: dict[str, Any] = {}  # table name -> frame, for dataclasses.replace
        customers = self._segment_customers(segment)
        for name, frame in self.tables().items():
            out[name] = _filter_one(frame, DATE_COLUMN.get(name), start, end, channel,
                                    segment, customers)
        return replace(self, **out)

    def _segment_customers(self, segment: str | list[str] | None) -> pl.Series | None:
        if segment is None or not self.has("events", "segment", "customer_id"):
            return None
        values = [segment] if isinstance(segment, str) else list(segment)
        return (self.table("events").filter(pl.col("segment").is_in(values))
                .get_column("customer_id").unique())


def _filter_one(
    frame: pl.DataFrame,
    date_col: str | None,
    start,
    end,
    channel,
    segment,
    customers: pl.Series | None,
) -> pl.DataFrame:
    cond = pl.lit(True)
    if date_col and date_col in frame.columns:
        if start is not None:
            cond &= pl.col(date_col) >= _dt(start)
        if end is not None:
            cond &= pl.col(date_col) < _dt(end)
    if channel is not None and "channel" in frame.columns:
        values = [channel] if isinstance(channel, str) else list(channel)
        cond &= pl.col("channel").is_in(values)
    if segment is not None:
        values = [segment] if isinstance(segment, str) else list(segment)
        if "segment" in frame.columns:
            cond &= pl.col("segment").is_in(values)
        elif customers is not None and "customer_id" in frame.columns:
            cond &= pl.col("customer_id").is_in(customers.implode())
        else:  # rows that cannot be tied to the segment are not the segment's
            cond &= pl.lit(False)
    return frame.filter(cond)


def _dt(value: date | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
