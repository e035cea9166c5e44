"""Support figures of DESIGN §5: first-contact resolution over resolved cases, resolution time in
hours (median, mean, P90, share within 24 h / 48 h) and open cases, overall or cut by complexity
(simple / complex), channel or period (month the case was opened)."""

from __future__ import annotations

import polars as pl

from cjm_core.analytics.periods import cut, grouped, to_metrics
from cjm_core.analytics.stats import t_interval_expr, wilson_expr
from cjm_core.errors import CJMError
from cjm_core.metric import Metric

__all__ = ["SUPPORT_CUTS", "fcr", "open_cases", "resolution", "support_metrics"]

#: the cuts ``support_metrics`` gives besides the overall figures
SUPPORT_CUTS = (("complexity",), ("channel",))
_HOUR_US = 3_600_000_000


def _usable(frame: pl.DataFrame | None, column: str) -> bool:
    return frame is not None and column in frame.columns and \
        frame.get_column(column).null_count() < frame.height


def _resolved(support: pl.DataFrame) -> pl.Expr:
    """Resolved cases: a resolution time is given (all cases when the column is not mapped)."""
    return pl.col("resolved_at").is_not_null() if "resolved_at" in support.columns else pl.lit(True)


def fcr(support: pl.DataFrame, by: list[str] | None = None) -> list[Metric]:
    """First-contact resolution: resolved cases closed at the first contact / all resolved
    cases (open cases do not count), with its Wilson 95 % interval.

    Read from ``first_contact_resolved``; where that is missing, from ``contacts == 1``.

    >>> from datetime import datetime as dt
    >>> s = pl.DataFrame({"first_contact_resolved": [True, False, True, False],
    ...                   "resolved_at": [dt(2024, 1, 1), dt(2024, 1, 2), dt(2024, 1, 2), None]})
    >>> m = fcr(s)[0]
    >>> round(m.value, 4), m.n
    (0.6667, 3)
    """
    has_flag = _usable(support, "first_contact_resolved")
    has_contacts = _usable(support, "contacts")
    if not (has_flag or has_contacts):
        raise CJMError("first-contact resolution needs first_contact_resolved or contacts",
                       code="missing-role")
    sources = []
    if has_flag:
        sources.append(pl.col("first_contact_resolved").cast(pl.Boolean))
    if has_contacts:
        sources.append(pl.col("contacts") == 1)
    flag = pl.coalesce(sources) if len(sources) > 1 else sources[0]
    frame = support.filter(_resolved(support)).with_columns(flag.alias("__first"))
    frame = frame.filter(pl.col("__first").is_not_null())
    frame, keys = cut(frame, by, "opened_at")
    table = grouped(frame, keys, [pl.col("__first").sum().alias("x"), pl.len().alias("n")])
    low, high = wilson_expr("x", "n")
    table = table.with_columns(
        pl.when(pl.col("n") > 0).then(pl.col("x") / pl.col("n")).alias("value"), low, high)
    return to_metrics(table, "fcr", keys, "rate")


def _hours(support: pl.DataFrame) -> pl.DataFrame:
    for col in ("opened_at", "resolved_at"):
        if col not in support.columns:
            raise CJMError(f"resolution time needs {col}: map it in the support table",
                           code="missing-role")
    hours = (pl.col("resolved_at") - pl.col("opened_at")).dt.total_microseconds() / _HOUR_US
    # a case resolved before it was opened is a data error (reported by validation): left out
    return support.with_columns(hours.alias("__hours")).filter(pl.col("__hours") >= 0)


def resolution(support: pl.DataFrame, by: list[str] | None = None) -> list[Metric]:
    """Resolution time of resolved cases in hours (resolved_at − opened_at):
    ``resolution_hours_median``, ``resolution_hours_mean`` (t-interval),
    ``resolution_hours_p90`` (linear interpolation, as numpy's default), and the shares
    ``resolved_within_24h`` / ``resolved_within_48h`` (≤ 24 h / ≤ 48 h, Wilson interval).

    >>> from datetime import datetime as dt, timedelta as td
    >>> t0 = dt(2024, 1, 1)
    >>> s = pl.DataFrame({"opened_at": [t0] * 4,
    ...                   "resolved_at": [t0 + td(hours=h) for h in (2, 10, 30, 60)]})
    >>> [(m.metric, round(m.value, 2)) for m in resolution(s)]  # doctest: +NORMALIZE_WHITESPACE
    [('resolution_hours_median', 20.0), ('resolution_hours_mean', 25.5),
     ('resolution_hours_p90', 51.0), ('resolved_within_24h', 0.5), ('resolved_within_48h', 0.75)]
    """
    frame, keys = cut(_hours(support), by, "opened_at")
    h = pl.col("__hours")
    table = grouped(frame, keys, [
        h.median().alias("median"),
        h.mean().alias("mean"),
        h.std().alias("sd"),
        h.quantile(0.9, interpolation="linear").alias("p90"),
        (h <= 24).sum().alias("x24"),
        (h <= 48).sum().alias("x48"),
        pl.len().alias("n"),
    ])
    t_low, t_high = t_interval_expr("mean", "sd", "n")
    table = table.with_columns(t_low.alias("mean_low"), t_high.alias("mean_high"))
    for hours in (24, 48):
        low, high = wilson_expr(f"x{hours}", "n")
        table = table.with_columns(
            pl.when(pl.col("n") > 0).then(pl.col(f"x{hours}") / pl.col("n")).alias(f"r{hours}"),
            low.alias(f"r{hours}_low"), high.alias(f"r{hours}_high"))
    return [
        *to_metrics(table, "resolution_hours_median", keys, "hours", "median", low=None,
                    high=None),
        *to_metrics(table, "resolution_hours_mean", keys, "hours", "mean", low="mean_low",
                    high="mean_high"),
        *to_metrics(table, "resolution_hours_p90", keys, "hours", "p90", low=None, high=None),
        *to_metrics(table, "resolved_within_24h", keys, "rate", "r24", low="r24_low",
                    high="r24_high"),
        *to_metrics(table, "resolved_within_48h", keys, "rate", "r48", low="r48_low",
                    high="r48_high"),
    ]


def open_cases(support: pl.DataFrame, by: list[str] | None = None) -> list[Metric]:
    """Open cases (no ``resolved_at``): value = how many, n = all cases in the cut. Counted, not
    dropped: they are left out of FCR and resolution time but shown here.

    >>> from datetime import datetime as dt
    >>> m = open_cases(pl.DataFrame({"resolved_at": [dt(2024, 1, 1), None, None]}))[0]
    >>> m.value, m.n, m.unit
    (2.0, 3, 'count')
    """
    if support is None or "resolved_at" not in support.columns:
        raise CJMError("open cases need resolved_at: map it in the support table",
                       code="missing-role")
    frame, keys = cut(support, by, "opened_at")
    table = grouped(frame, keys, [pl.col("resolved_at").is_null().sum().alias("value"),
                                  pl.len().alias("n")])
    return to_metrics(table, "open_cases", keys, "count", low=None, high=None)


def support_metrics(support: pl.DataFrame) -> list[Metric]:
    """Every support figure the table allows, overall, by complexity and by channel (cuts the
    table lacks and figures whose columns are missing are skipped).

    >>> from datetime import datetime as dt
    >>> s = pl.DataFrame({"opened_at": [dt(2024, 1, 1)], "resolved_at": [dt(2024, 1, 2)],
    ...                   "contacts": [1], "channel": ["phone"]})
    >>> sorted({m.metric for m in support_metrics(s)})[:3]
    ['fcr', 'open_cases', 'resolution_hours_mean']
    """
    if support is None or support.height == 0:
        return []
    can_fcr = _usable(support, "first_contact_resolved") or _usable(support, "contacts")
    can_time = "opened_at" in support.columns and _usable(support, "resolved_at")
    can_open = "resolved_at" in support.columns
    out: list[Metric] = []
    for by in ((), *SUPPORT_CUTS):
        if any(not _usable(support, c) for c in by):
            continue
        cuts = list(by) or None
        if can_fcr:
            out += fcr(support, cuts)
        if can_time:
            out += resolution(support, cuts)
        if can_open:
            out += open_cases(support, cuts)
    return out
