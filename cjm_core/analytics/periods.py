"""Cuts and periods shared by the metric modules: grouping a table by the cut dimensions
(touchpoint, stage, channel, period = "YYYY-MM", complexity, ...), turning grouped figures into
``Metric`` objects, and the period-over-period comparison of DESIGN §5 (default: the last 12
months against the 12 before)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl

from cjm_core.errors import CJMError
from cjm_core.metric import LOW_SAMPLE_N, Metric, Unit
from cjm_core.model.dataset import DATE_COLUMN, Dataset

__all__ = [
    "DATE_COLUMNS",
    "add_period",
    "by_period",
    "change",
    "cut",
    "dated_tables",
    "has_dates",
    "last_periods",
    "metrics_frame",
    "no_dates_note",
    "shift_months",
    "undated_tables",
]

#: date column of a table, in the order they are looked for when a "period" cut is asked for
DATE_COLUMNS = ("timestamp", "opened_at", "order_date")


def has_dates(frame: pl.DataFrame | None, table: str) -> bool:
    """Whether a table can be placed in time: it has its date column (``timestamp`` for events
    and feedback, ``opened_at`` for support, ``order_date`` for orders) with at least one date.
    ``funnel_counts`` has none (its ``period`` is a label, not a date).

    >>> fb = pl.DataFrame({"touchpoint": ["Web"], "csat": [5]})
    >>> has_dates(fb, "feedback"), has_dates(fb.with_columns(timestamp=datetime(2025, 1, 2)),
    ...                                      "feedback")
    (False, True)
    """
    col = DATE_COLUMN.get(table)
    return (frame is not None and col is not None and col in frame.columns
            and frame.get_column(col).null_count() < frame.height)


def dated_tables(dataset: Dataset) -> list[str]:
    """The present tables that have dates (see :func:`has_dates`), in table order."""
    return [name for name, frame in dataset.tables().items() if has_dates(frame, name)]


def undated_tables(dataset: Dataset) -> list[str]:
    """The present, non-empty tables without dates: a period filter leaves them whole, and
    period over period leaves them out (they cannot be split into periods).

    >>> from cjm_core.model.journey import default_journey
    >>> ev = pl.DataFrame({"customer_id": ["a"], "timestamp": [datetime(2025, 1, 2)]})
    >>> fb = pl.DataFrame({"touchpoint": ["Web"], "csat": [5]})
    >>> undated_tables(Dataset(default_journey("4742"), events=ev, feedback=fb))
    ['feedback']
    """
    return [name for name, frame in dataset.tables().items()
            if frame.height and not has_dates(frame, name)]


_NO_DATES = ("No dates: none of the tables has a date, so there are no periods to compare. "
             "Map a date column (" + ", ".join(DATE_COLUMNS) + ") on the Data page.")


def no_dates_note(undated: Sequence[str], *, any_dated: bool = True) -> str | None:
    """What period over period says about tables without dates (None when every table has).

    >>> no_dates_note(["feedback"])
    'No dates in feedback: its figures are left out of the period comparison.'
    >>> no_dates_note(["feedback"], any_dated=False)[:42]
    'No dates: none of the tables has a date, s'
    """
    if not any_dated:
        return _NO_DATES
    if not undated:
        return None
    names = " and ".join([", ".join(undated[:-1]), undated[-1]] if len(undated) > 1
                         else undated)
    whose = "their" if len(undated) > 1 else "its"
    return f"No dates in {names}: {whose} figures are left out of the period comparison."


def _date_column(frame: pl.DataFrame, date_col: str | None) -> str | None:
    if date_col is not None:
        return date_col if date_col in frame.columns else None
    return next((c for c in DATE_COLUMNS if c in frame.columns), None)


def add_period(frame: pl.DataFrame, date_col: str | None = None) -> pl.DataFrame:
    """Add a ``period`` column ("YYYY-MM", the month of the table's date column).

    >>> df = pl.DataFrame({"timestamp": [datetime(2024, 3, 5, 10)]})
    >>> add_period(df)["period"].to_list()
    ['2024-03']
    """
    col = _date_column(frame, date_col)
    if col is None:
        raise CJMError("cannot cut by period: the table has no date column "
                       f"(looked for {', '.join(DATE_COLUMNS)})", code="missing-role")
    return frame.with_columns(pl.col(col).dt.strftime("%Y-%m").alias("period"))


def cut(frame: pl.DataFrame, by: Sequence[str] | None, date_col: str | None = None
        ) -> tuple[pl.DataFrame, list[str]]:
    """The frame ready to group by the cut dimensions ``by``, and the key columns.

    Keys become strings; "period" is derived from the date column when the table has none;
    rows with a missing key value are left out of the cut (the overall figure keeps them).
    A dimension the table lacks raises ``CJMError`` (code ``missing-role``).

    >>> df = pl.DataFrame({"touchpoint": ["a", None, "b"], "csat": [5, 4, 1]})
    >>> cut(df, ["touchpoint"])[0].height
    2
    """
    keys = list(dict.fromkeys(by or []))
    if not keys:
        return frame, []
    if "period" in keys and "period" not in frame.columns:
        frame = add_period(frame, date_col)
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        raise CJMError(f"cannot cut by {', '.join(missing)}: the table has no such column",
                       code="missing-role")
    frame = frame.with_columns(pl.col(k).cast(pl.String) for k in keys)
    return frame.drop_nulls(keys), keys


def grouped(frame: pl.DataFrame, keys: list[str], aggs: list[pl.Expr]) -> pl.DataFrame:
    """Aggregate overall (no keys: one row, even for an empty frame) or per key, sorted."""
    if not keys:
        return frame.select(aggs)
    return frame.group_by(keys).agg(aggs).sort(keys)


def to_metrics(table: pl.DataFrame, name: str, keys: list[str], unit: Unit,
               value: str = "value", n: str = "n", low: str | None = "low",
               high: str | None = "high") -> list[Metric]:
    """One ``Metric`` per row of an aggregated table (rows already sorted by the keys)."""
    cols = [*keys, value, n] + [c for c in (low, high) if c is not None]
    out = []
    for row in table.select(cols).iter_rows(named=True):
        out.append(Metric(
            name,
            _num(row[value]),
            int(row[n] or 0),
            _num(row[low]) if low else None,
            _num(row[high]) if high else None,
            {k: row[k] for k in keys},
            unit,
        ))
    return out


def _num(x) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if x != x else x  # NaN -> None


def metrics_frame(metrics: Sequence[Metric]) -> pl.DataFrame:
    """Metrics as a table: metric, one column per cut key, value, low, high, n, low_sample, unit.

    The shape the charts take (``interval_chart``, ``heatmap``, ``trend_chart``).

    >>> ms = [Metric("csat", 0.9, 40, 0.8, 0.95, {"touchpoint": "Web"})]
    >>> metrics_frame(ms).columns
    ['metric', 'touchpoint', 'value', 'low', 'high', 'n', 'low_sample', 'unit']
    """
    keys = list(dict.fromkeys(k for m in metrics for k in m.by))
    schema = {"metric": pl.String, **dict.fromkeys(keys, pl.String), "value": pl.Float64,
              "low": pl.Float64, "high": pl.Float64, "n": pl.Int64, "low_sample": pl.Boolean,
              "unit": pl.String}
    rows = [{"metric": m.metric, **{k: m.by.get(k) for k in keys}, "value": m.value,
             "low": m.low, "high": m.high, "n": m.n, "low_sample": m.low_sample, "unit": m.unit}
            for m in metrics]
    return pl.DataFrame(rows, schema=schema, orient="row")


def by_period(metrics: Sequence[Metric], metric: str | None = None) -> pl.DataFrame:
    """A monthly trend from metrics cut by period (e.g. ``csat(fb, by=["period"])``): columns
    period, value, low, high, n, low_sample (plus any other cut keys), sorted by period.

    >>> ms = [Metric("nps", 20.0, 50, by={"period": "2024-02"}, unit="nps"),
    ...       Metric("nps", 10.0, 40, by={"period": "2024-01"}, unit="nps")]
    >>> by_period(ms)["period"].to_list()
    ['2024-01', '2024-02']
    """
    chosen = [m for m in metrics if "period" in m.by and (metric is None or m.metric == metric)]
    frame = metrics_frame(chosen)
    if "period" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, pl.String).alias("period"))
    keys = [c for c in frame.columns if c not in ("metric", "value", "low", "high", "n",
                                                   "low_sample", "unit", "period")]
    return frame.sort(["metric", *keys, "period"])


# ----------------------------------------------------------------------------- period over period


def shift_months(moment: datetime, months: int) -> datetime:
    """``moment`` moved by a number of calendar months (day clamped to the month's length).

    >>> shift_months(datetime(2024, 3, 31), -1)
    datetime.datetime(2024, 2, 29, 0, 0)
    """
    total = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    next_month = date(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_month - timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def _data_bounds(dataset: Dataset) -> tuple[datetime | None, datetime | None]:
    lows, highs = [], []
    for name, frame in dataset.tables().items():
        col = DATE_COLUMN.get(name)
        if col and col in frame.columns and frame.height:
            s = frame.get_column(col)
            if s.dtype in (pl.Datetime, pl.Date) or isinstance(s.dtype, pl.Datetime):
                lo, hi = s.min(), s.max()
                if isinstance(lo, date) and isinstance(hi, date):  # a datetime is a date too
                    lows.append(_as_datetime(lo))
                    highs.append(_as_datetime(hi))
    return (min(lows) if lows else None), (max(highs) if highs else None)


def _as_datetime(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime(value.year, value.month, value.day)


def last_periods(dataset: Dataset, months: int = 12, end: date | datetime | None = None
                 ) -> tuple[Dataset, Dataset, dict]:
    """Split a dataset into the current period and the one before it, for period-over-period
    comparison (DESIGN §5, default the last 12 months against the 12 before).

    ``end`` is exclusive; by default it is midnight after the latest date in any table, so the
    current period is [end − months, end) and the previous one [end − 2·months, end − months).
    The boundaries dict holds ``current_start``, ``current_end``, ``previous_start``,
    ``previous_end``, ``months``, ``data_start``, ``data_end``, ``previous_complete``
    (whether the data reach back to the first day of the previous period) and ``undated``
    (the tables without dates, see :func:`undated_tables`). An undated table is absent from both
    periods: kept whole in each, it would be compared with itself. With no dated table at all
    there is nothing to compare: ``CJMError`` saying "No dates".

    >>> from cjm_core.model.journey import default_journey
    >>> ev = pl.DataFrame({"customer_id": ["a", "b", "c"], "stage": ["x"] * 3,
    ...                    "timestamp": [datetime(2023, 6, 1), datetime(2024, 5, 1),
    ...                                  datetime(2024, 12, 31, 9)]})
    >>> cur, prev, b = last_periods(Dataset(default_journey("4742"), events=ev))
    >>> cur.events.height, prev.events.height, b["current_start"]
    (2, 1, datetime.datetime(2024, 1, 1, 0, 0))
    """
    if months < 1:
        raise ValueError("months must be at least 1")
    data_start, data_end = _data_bounds(dataset)
    if not dated_tables(dataset) or (end is None and data_end is None):
        raise CJMError(_NO_DATES, code="missing-role")
    if end is None:
        assert data_end is not None  # the check above; said for the type checker
        stop = datetime(data_end.year, data_end.month, data_end.day) + timedelta(days=1)
    else:
        stop = _as_datetime(end)
    current_start = shift_months(stop, -months)
    previous_start = shift_months(stop, -2 * months)
    bounds = {
        "months": months,
        "current_start": current_start,
        "current_end": stop,
        "previous_start": previous_start,
        "previous_end": current_start,
        "data_start": data_start,
        "data_end": data_end,
        "previous_complete": (data_start is not None
                              and data_start < previous_start + timedelta(days=1)),
        "undated": undated_tables(dataset),
    }
    dropped: dict[str, Any] = {t: None for t, frame in dataset.tables().items()
                               if not has_dates(frame, t)}
    current = replace(dataset.filter(start=current_start, end=stop), **dropped)
    previous = replace(dataset.filter(start=previous_start, end=current_start), **dropped)
    return current, previous, bounds


def _by_key(by: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in sorted(by.items()))


def change(current: Sequence[Metric], previous: Sequence[Metric]) -> pl.DataFrame:
    """Compare two periods' metrics, matched on metric name and cut.

    Columns: metric, by (the cut as ``key=value; ...``, empty for overall), unit, value_now,
    value_before, abs_change (now − before), rel_change (abs_change / |before|, null when before
    is 0 or missing), n_now, n_before, low_sample (either side below n = 30). A metric present
    on one side only keeps nulls on the other. Sorted by metric, by.

    >>> now = [Metric("csat", 0.9, 100)]
    >>> before = [Metric("csat", 0.8, 80)]
    >>> change(now, before).select(pl.col("abs_change", "rel_change").round(4)).rows()
    [(0.1, 0.125)]
    """
    def frame(ms: Sequence[Metric], suffix: str) -> pl.DataFrame:
        return pl.DataFrame(
            [(m.metric, _by_key(m.by), m.unit, m.value, m.n) for m in ms],
            schema={"metric": pl.String, "by": pl.String, f"unit_{suffix}": pl.String,
                    f"value_{suffix}": pl.Float64, f"n_{suffix}": pl.Int64},
            orient="row",
        ).unique(["metric", "by"], keep="first", maintain_order=True)

    now, before = frame(current, "now"), frame(previous, "before")
    out = now.join(before, on=["metric", "by"], how="full", coalesce=True)
    abs_change = pl.col("value_now") - pl.col("value_before")
    return out.select(
        "metric",
        "by",
        pl.coalesce("unit_now", "unit_before").alias("unit"),
        "value_now",
        "value_before",
        abs_change.alias("abs_change"),
        pl.when(pl.col("value_before").abs() > 0)
        .then(abs_change / pl.col("value_before").abs()).alias("rel_change"),
        pl.col("n_now").fill_null(0),
        pl.col("n_before").fill_null(0),
        ((pl.col("n_now").fill_null(0) < LOW_SAMPLE_N)
         | (pl.col("n_before").fill_null(0) < LOW_SAMPLE_N)).alias("low_sample"),
    ).sort(["metric", "by"])

