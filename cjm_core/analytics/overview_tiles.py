"""The Overview's pictures as numbers: the headline tiles (value, the period before, the change and
a month-by-month line), the compact funnel's bars, the scorecard as bullet rows against each
target's band, and where each friction point is looked into.

Why: the Overview is read from across the table. Each picture shows figures computed here, so a
unit test on a tiny frame checks every number the page draws (DESIGN §5).

Tiles compare the last 12 months with the 12 before (DESIGN §5 "Period over period"), as the
scorecard's relative targets do; data without dates get the figure of all the data and no
change. The funnel's bars, the bullet rows and the friction points are over the same months
(:func:`cjm_core.analytics.scorecard.judged_window`): one figure per metric on the page.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Literal

import polars as pl

from cjm_core.analytics.friction import Friction
from cjm_core.analytics.funnel import (
    FunnelQuery,
    FunnelResult,
    funnel,
    funnel_metrics,
    journey_funnel,
)
from cjm_core.analytics.loyalty import loyalty_metrics
from cjm_core.analytics.periods import (
    add_period,
    has_dates,
    last_periods,
    no_dates_note,
    shift_months,
)
from cjm_core.analytics.satisfaction import ces, csat, nps
from cjm_core.analytics.scorecard import judged_window, shared_journey_funnel, shared_periods
from cjm_core.industries.targets import RELATIVE_KINDS, Gap
from cjm_core.metric import Metric, format_value, info
from cjm_core.model import settings as S
from cjm_core.model.dataset import DATE_COLUMN, Dataset
from cjm_core.present.findings import sentence

__all__ = ["HEADLINE", "STATUS_SHORT", "Tile", "Tiles", "bullet_rows", "figure", "friction_link",
           "funnel_bars", "headline_tiles", "overview_funnel", "shown_months", "span",
           "window_filters"]

_MINUS = "\u2212"
Arrow = Literal["up", "down", "off"]
Colour = Literal["green", "red", "gray"]

#: the tiles, in the order a manager reads them: how many came, how many bought, how they felt,
#: whether they came back
HEADLINE: tuple[str, ...] = ("customers", "overall_conversion", "csat", "nps", "ces",
                             "repeat_purchase_rate")
#: tile labels where the catalogue's is too long for a tile (the help gives the definition)
_LABELS = {"customers": "Customers entering", "repeat_purchase_rate": "Repeat buyers"}
_UNITS = {"customers": "count"}


def _unit(name: str) -> str:
    return _UNITS.get(name) or info(name).unit


def _direction(name: str) -> str:
    return "higher" if name == "customers" else info(name).direction


def figure(value: float | None, unit: str) -> str:
    """A tile's figure: counts with separators, rates with one decimal, NPS whole.

    >>> figure(1229, "count"), figure(0.3512, "rate"), figure(30.18, "nps"), figure(2.196, "score")
    ('1,229', '35.1%', '30', '2.20')
    """
    if value is not None and unit == "nps":
        return f"{round(value):d}".replace("-", _MINUS)
    return format_value(value, unit)


@dataclass(frozen=True)
class Tile:
    """One headline figure: ``value`` now (the last 12 months, or all the data without dates),
    ``previous`` (the 12 months before), ``series`` month by month for the sparkline
    (``periods`` are its "YYYY-MM" months) and what the line shows (``series_note``).

    >>> t = Tile("csat", 0.82, 400, previous=0.80)
    >>> t.value_text, t.delta_text, t.arrow, t.colour
    ('82.0%', '+2.0 pp', 'up', 'green')
    >>> Tile("ces", 2.3, 90, previous=2.1).colour  # more effort is worse
    'red'
    """

    name: str
    value: float | None
    n: int
    previous: float | None = None
    series: tuple[float, ...] = ()
    periods: tuple[str, ...] = ()
    series_note: str = ""

    @property
    def label(self) -> str:
        return _LABELS.get(self.name) or info(self.name).label

    @property
    def unit(self) -> str:
        return _unit(self.name)

    @property
    def value_text(self) -> str:
        return figure(self.value, self.unit)

    @property
    def delta(self) -> float | None:
        """Now − before, in the figure's unit (a rate's in fractions: 0.02 = 2 points)."""
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def delta_text(self) -> str | None:
        """The change as a person reads it: rates in percentage points, NPS in points, scores
        with two decimals, counts as a number and a percentage; None without a previous
        period."""
        d = self.delta
        if d is None:
            return None
        if self.unit == "rate":
            text = f"{d * 100:+.1f} pp"
        elif self.unit == "nps":
            text = f"{round(d):+d} points"
        elif self.unit == "count":
            rel = f" ({d / self.previous * 100:+.1f}%)" if self.previous else ""
            text = f"{d:+,.0f}{rel}"
        else:
            text = f"{d:+.2f}"
        return text.replace("-", _MINUS)

    @property
    def arrow(self) -> Arrow:
        """Which way the figure moved (no arrow when the change rounds to nothing)."""
        text = self.delta_text
        if text is None or not re.search(r"[1-9]", text.split(" (")[0]):
            return "off"
        assert self.delta is not None
        return "up" if self.delta > 0 else "down"

    @property
    def colour(self) -> Colour:
        """Green when the figure moved the better way, red the worse, grey when it did not."""
        if self.arrow == "off":
            return "gray"
        better = "up" if _direction(self.name) == "higher" else "down"
        return "green" if self.arrow == better else "red"


@dataclass(frozen=True)
class Tiles:
    """The headline tiles, the periods they compare (``last_periods``' bounds, {} without
    dates) and a quiet note when there is nothing to compare."""

    tiles: list[Tile]
    periods: dict = field(default_factory=dict)
    note: str | None = None

    @property
    def current(self) -> str:
        """The months the figures cover, e.g. "Jan–Dec 2025" ("" without dates)."""
        p = self.periods
        return span(p["current_start"], p["current_end"]) if p else ""

    @property
    def compared(self) -> str:
        """"vs Jan–Dec 2024": what the change is against ("" without a previous period)."""
        p = self.periods
        if not p or not any(t.delta is not None for t in self.tiles):
            return ""
        return "vs " + span(p["previous_start"], p["previous_end"])


def span(start: datetime, end: datetime) -> str:
    """The months of [start, end) as a person writes them.

    >>> span(datetime(2024, 1, 1), datetime(2025, 1, 1)), span(datetime(2024, 3, 5),
    ...                                                        datetime(2025, 3, 5))
    ('Jan–Dec 2024', 'Mar 2024–Mar 2025')
    """
    last = end if end.day > 1 else shift_months(end, -1)  # the end is exclusive
    if start.year == last.year:
        return f"{start:%b}–{last:%b %Y}"
    return f"{start:%b %Y}–{last:%b %Y}"


def shown_months(data: Dataset) -> str:
    """The months the dated tables of ``data`` span ("Jan 2024–Dec 2025"), for the pages that
    show all the data shown rather than the Overview's last 12 months; "" without dates.

    >>> from cjm_core.model.journey import journey_from_rows
    >>> ev = pl.DataFrame({"customer_id": ["a", "b"], "stage": ["Look", "Look"],
    ...     "timestamp": [datetime(2024, 1, 10), datetime(2025, 12, 31, 18)]})
    >>> orders = pl.DataFrame({"customer_id": ["a"], "order_date": [datetime(2023, 11, 2)],
    ...                        "amount": [9.5]})
    >>> shown_months(Dataset(journey_from_rows("4742", ["Look"], {}), events=ev, orders=orders))
    'Nov 2023–Dec 2025'
    """
    ends = []
    for name, frame in data.tables().items():
        if has_dates(frame, name):
            column = frame.get_column(DATE_COLUMN[name])
            if column.dtype.is_temporal():
                # as calendar days: zoned and naive tables compare
                ends += [datetime(v.year, v.month, v.day) for v in (column.min(), column.max())
                         if isinstance(v, date)]
    if not ends:
        return ""
    return span(min(ends), max(ends) + timedelta(days=1))


def _overall(ms: Sequence[Metric], name: str) -> Metric | None:
    return next((m for m in ms if m.metric == name and not m.by), None)


def _levels(data: Dataset, *, share: bool = True) -> dict[str, Metric]:
    """The headline metrics of a dataset (overall, no cut); absent when the data lack them.
    The journey funnel is the one the scorecard and the Overview's funnel count over the same
    frames (:func:`shared_journey_funnel`), unless ``share`` is False (a frame of its own)."""
    out: dict[str, Metric] = {}
    count = shared_journey_funnel if share else journey_funnel
    result = count(data.journey, data.events, data.funnel_counts)
    if result is not None and result.table.height:
        m = _overall(funnel_metrics(result), "overall_conversion")
        if m is not None and m.n:
            out["overall_conversion"] = m
            out["customers"] = Metric("customers", float(m.n), m.n, unit="count")
    fb = data.feedback
    for name, fn in (("csat", csat), ("nps", nps), ("ces", ces)):
        if fb is not None and name in fb.columns and fb[name].null_count() < fb.height:
            m = _overall(fn(fb), name)
            if m is not None and m.value is not None:
                out[name] = m
    if "ces" not in out and data.has("support", "ces"):
        m = _overall(ces(data.table("support")), "ces")
        if m is not None and m.value is not None:
            out["ces"] = m
    if data.has("orders", "customer_id", "order_date", "amount"):
        m = _overall(loyalty_metrics(data.table("orders")), "repeat_purchase_rate")
        if m is not None and m.value is not None:
            out["repeat_purchase_rate"] = m
    return out


def _months(start: datetime, end: datetime) -> list[str]:
    """The months that [start, end) touches, as "YYYY-MM".

    >>> _months(datetime(2024, 11, 14), datetime(2025, 2, 14))
    ['2024-11', '2024-12', '2025-01', '2025-02']
    """
    out, moment = [], datetime(start.year, start.month, 1)
    while moment < end:
        out.append(f"{moment:%Y-%m}")
        moment = shift_months(moment, 1)
    return out


def _entrants_by_month(data: Dataset) -> dict[str, float]:
    """Customers entering the journey per month of entry (the month of a customer's
    first-step event that starts their funnel)."""
    if not data.has("events", "customer_id", "timestamp", "stage"):
        return {}
    # journey_funnel(journey, events), shared: the events have the funnel's columns, so the
    # funnel counts are not read
    result = shared_journey_funnel(data.journey, data.events, data.funnel_counts)
    if result is None or not result.steps:
        return {}
    events = add_period(data.table("events"), "timestamp")
    by_month = funnel(events, FunnelQuery(steps=list(result.steps), breakdown=("period",)),
                      data.journey)
    first = by_month.table.filter(pl.col("step_index") == 1).sort("period")
    return {p: float(r) for p, r in zip(first["period"], first["reached"], strict=True)
            if p is not None}


def _scores_by_month(data: Dataset) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    fb = data.feedback
    if fb is None or not has_dates(fb, "feedback"):
        return out
    for name, fn in (("csat", csat), ("nps", nps), ("ces", ces)):
        if name in fb.columns and fb[name].null_count() < fb.height:
            out[name] = {m.by["period"]: m.value for m in fn(fb, by=["period"])
                         if m.value is not None}
    return out


def _rolling(data: Dataset, months: list[str], window: int) -> dict[str, dict[str, float]]:
    """Overall conversion and repeat purchase rate over the ``window`` months up to the end of
    each month: a single month's rate would count customers who had no time to buy or come
    back yet, and not match the tile's figure (the last point is the tile's value)."""
    out: dict[str, dict[str, float]] = {"overall_conversion": {}, "repeat_purchase_rate": {}}
    ends = {month: shift_months(datetime.strptime(month, "%Y-%m"), 1) for month in months}
    if not ends:
        return out
    # the rows of every month's window, cut once: each month then filters far fewer rows (the
    # same rows as filtering the whole data, since its window lies inside this span)
    span = replace(data, feedback=None, support=None).filter(
        start=shift_months(min(ends.values()), -window), end=max(ends.values()))
    for month, end in ends.items():
        part = span.filter(start=shift_months(end, -window), end=end)
        for name, m in _levels(part, share=False).items():
            if name in out and m.value is not None:
                out[name][month] = m.value
    return out


def headline_tiles(data: Dataset, months: int = 12) -> Tiles:
    """The headline tiles of :data:`HEADLINE` the data support, in that order.

    With dates: each figure over the last ``months`` months, the figure of the months before
    and a line month by month (customers and conversion per month of entry; CSAT, NPS, CES per
    month of the answer; repeat purchase rate over the ``months`` months up to each month).
    Without: the figure over all the data, nothing to compare, and a note saying so.

    >>> from datetime import timedelta
    >>> from cjm_core.model.journey import journey_from_rows
    >>> j = journey_from_rows("4742", ["Look", "Buy"], {})
    >>> t0 = datetime(2024, 1, 10)
    >>> ev = pl.DataFrame({"customer_id": ["a", "a", "b", "c", "c"], "stage": ["Look", "Buy",
    ...     "Look", "Look", "Buy"], "timestamp": [t0, t0, t0, t0 + timedelta(days=400),
    ...     t0 + timedelta(days=400)]})
    >>> tiles = headline_tiles(Dataset(j, events=ev))
    >>> [(t.name, t.value_text, t.delta_text) for t in tiles.tiles]
    [('customers', '1', '−1 (−50.0%)'), ('overall_conversion', '100.0%', '+50.0 pp')]
    """
    dated = any(has_dates(frame, name) for name, frame in data.tables().items())
    if not dated:
        now = _levels(data)
        return Tiles([Tile(name, now[name].value, now[name].n) for name in HEADLINE
                      if name in now], {}, no_dates_note([], any_dated=False))
    # the same periods (the same objects) as the scorecard's and the compact funnel's, so the
    # funnels over them are counted once
    _, shared_recent, shared_before, bounds = shared_periods(data, months)
    if shared_recent is not None and shared_before is not None:
        recent, before = shared_recent, shared_before
    else:  # cannot be: the data have dates
        recent, before, bounds = last_periods(data, months)
    now, then = _levels(recent), _levels(before)
    months_shown = _months(bounds["current_start"], bounds["current_end"])
    series = {"customers": _entrants_by_month(recent), **_scores_by_month(recent),
              **_rolling(data, months_shown, months)}
    rolling = f"over the {months} months up to each month"
    notes = {"customers": "customers entering each month", "overall_conversion": rolling,
             "repeat_purchase_rate": rolling}
    # a table without dates is left out of both periods: its figures over all of it, unchanged
    whole = _levels(data) if bounds.get("undated") else {}
    tiles = []
    for name in HEADLINE:
        if name not in now:
            if name in whole:
                tiles.append(Tile(name, whole[name].value, whole[name].n,
                                  series_note="all the data: its table has no dates"))
            continue
        line = series.get(name, {})
        shown = [p for p in months_shown if p in line]
        previous = then.get(name)
        tiles.append(Tile(name, now[name].value, now[name].n,
                          previous.value if previous is not None else None,
                          tuple(line[p] for p in shown), tuple(shown),
                          notes.get(name, "month by month")))
    return Tiles(tiles, bounds, no_dates_note(bounds.get("undated") or []))


# ----------------------------------------------------------------------------- compact funnel


def overview_funnel(data: Dataset, months: int = 12) -> FunnelResult | None:
    """The journey funnel over the tiles' months (:func:`judged_window`), so its first bar is
    the "Customers entering" tile and its last share the conversion tile; None without events
    or funnel counts.

    >>> from datetime import timedelta
    >>> from cjm_core.model.journey import journey_from_rows
    >>> t0, t1 = datetime(2024, 1, 10), datetime(2025, 2, 14)  # a is 13 months before b, c
    >>> ev = pl.DataFrame({"customer_id": ["a", "a", "b", "b", "c"],
    ...     "stage": ["Look", "Buy", "Look", "Buy", "Look"], "timestamp": [t0, t0, t1, t1, t1]})
    >>> j = journey_from_rows("4742", ["Look", "Buy"], {})
    >>> overview_funnel(Dataset(j, events=ev)).table["reached"].to_list()
    [2, 1]
    """
    window, _ = judged_window(data, months)
    return shared_journey_funnel(window.journey, window.events, window.funnel_counts)


def window_filters(periods: dict) -> dict[str, str]:
    """The sidebar's period filter (URL parameters, first and last day inclusive) that shows the
    months of ``periods`` (:func:`last_periods`' bounds) on another page; {} without them. It
    never starts before the data's first day, so a narrower filter the user set is kept.

    >>> window_filters({"current_start": datetime(2025, 1, 1),
    ...                 "current_end": datetime(2026, 1, 1)})
    {'start': '2025-01-01', 'end': '2025-12-31'}
    >>> window_filters({"current_start": datetime(2024, 9, 1), "current_end": datetime(2025, 9, 1),
    ...                 "data_start": datetime(2025, 6, 3, 14)})
    {'start': '2025-06-03', 'end': '2025-08-31'}
    """
    if not periods:
        return {}
    start = periods["current_start"]
    first = periods.get("data_start")
    if first is not None:
        start = max(start, datetime(first.year, first.month, first.day))
    last = periods["current_end"] - timedelta(days=1)  # the end is exclusive
    return {"start": f"{start:%Y-%m-%d}", "end": f"{last:%Y-%m-%d}"}


def funnel_bars(table: pl.DataFrame, friction: Sequence[Friction] = ()) -> pl.DataFrame:
    """The journey funnel as the Overview's bars: step_index, step, reached, share of the first
    step, lost on the way in (customers the step before had and this one has not), its
    step conversion, a label ("822 · 66.9%") and whether a friction point names the way in.

    >>> t = pl.DataFrame({"step_index": [1, 2, 3], "step": ["Look", "Demo", "Buy"],
    ...                   "reached": [1000, 400, 300], "lost": [None, 600, 100],
    ...                   "step_conversion": [None, 0.4, 0.75]})
    >>> funnel_bars(t)["label"].to_list()
    ['1,000 · 100.0%', '400 · 40.0%', '300 · 30.0%']
    """
    if table.height == 0 or "reached" not in table.columns:
        return pl.DataFrame(schema={"step_index": pl.Int64, "step": pl.String,
                                    "reached": pl.Int64, "share": pl.Float64, "lost": pl.Int64,
                                    "step_conversion": pl.Float64, "label": pl.String,
                                    "friction": pl.Boolean})
    rows = table.sort("step_index")
    if "period" in rows.columns:
        rows = rows.drop("period")
    first = rows["reached"][0] or 0
    flagged = {f.evidence.get("to_step") for f in friction if f.kind == "step"}
    out = rows.select(
        pl.col("step_index").cast(pl.Int64), pl.col("step").cast(pl.String),
        pl.col("reached").cast(pl.Int64),
        (pl.col("reached") / first if first else pl.lit(None)).cast(pl.Float64).alias("share"),
        (pl.col("lost").cast(pl.Int64) if "lost" in rows.columns
         else pl.lit(None, pl.Int64)).alias("lost"),
        (pl.col("step_conversion").cast(pl.Float64) if "step_conversion" in rows.columns
         else pl.lit(None, pl.Float64)).alias("step_conversion"),
    )
    labels = [f"{format_value(r, 'count')} · {format_value(s, 'rate')}"
              for r, s in zip(out["reached"], out["share"], strict=True)]
    return out.with_columns(pl.Series("label", labels, pl.String),
                            pl.col("step").is_in(list(flagged)).alias("friction"))


# ----------------------------------------------------------------------------- bullet rows

_SCALE = re.compile(r"\((\d+)–(\d+) scale\)")


def _target_short(g: Gap) -> str:
    return g.target.replace(" vs the previous period", "")


def _axis(unit: str, gaps: Sequence[Gap]) -> tuple[float, float]:
    """Each row's own scale: rates 0–100%, NPS −100…100, scores their scale, changes symmetric
    around 0, hours and amounts from 0 to a quarter past the largest figure."""
    numbers = [abs(v) for g in gaps for v in (g.value, g.low, g.high, *_edges(g))
               if v is not None and math.isfinite(v)]
    top = max(numbers, default=1.0) or 1.0
    if unit == "rate":
        return 0.0, 1.0
    if unit == "nps":
        return -100.0, 100.0
    if unit == "score":
        found = next((_SCALE.search(g.target) for g in gaps if _SCALE.search(g.target)), None)
        low, high = (float(found.group(1)), float(found.group(2))) if found else (1.0, 5.0)
        return low, max(high, top)
    if unit == "relative_change":
        half = max(0.2, top * 1.25)
        return -half, half
    return 0.0, top * 1.25


def _edges(g: Gap) -> list[float]:
    """The numbers in the gap's target text's thresholds (from the distance: value − distance
    or value + distance is the threshold)."""
    if g.value is None or g.distance is None:
        return []
    return [g.value - g.distance, g.value + g.distance]


def _threshold(g: Gap, better: str) -> float | None:
    if g.value is None or g.distance is None:
        return None
    return g.value - g.distance if better == "higher" else g.value + g.distance


_BANDS = re.compile(r"≥ ([−\-+]?[\d.]+)%? (\w+)")


def _number(text: str, unit: str) -> float:
    v = float(text.replace("−", "-"))
    return v / 100 if unit in ("rate", "relative_change") else v


def _range(g: Gap, unit: str) -> tuple[float, float] | None:
    m = re.match(r"([−\-+]?[\d.]+)(?:%| h)? to ([−\-+]?[\d.]+)", g.target)
    if not m:
        return None
    return _number(m.group(1), unit), _number(m.group(2), unit)


def _better(g: Gap) -> str:
    known = {"level_max": "lower", "level_min": "higher"}
    if g.kind in known:
        return known[g.kind]
    try:
        return info(g.metric).direction
    except KeyError:
        return "higher"


def _zones(g: Gap, unit: str, lo: float, hi: float, better: str
           ) -> list[tuple[float, float, str]]:
    """Where the target is met (light), and a target range or higher band inside it (dark)."""
    if g.kind == "bands":
        edges = [(name, _number(v, unit)) for v, name in _BANDS.findall(g.target)]
        edges.sort(key=lambda e: e[1])
        return [(v, edges[i + 1][1] if i + 1 < len(edges) else hi, name)
                for i, (name, v) in enumerate(edges)]
    threshold = _threshold(g, better)
    if threshold is None:
        return []
    met = (threshold, hi, "met") if better == "higher" else (lo, threshold, "met")
    zones = [met]
    span = _range(g, unit)
    if span is not None:
        zones.append((span[0], span[1], "target range"))
    return zones


def _position(v: float | None, lo: float, hi: float) -> float | None:
    if v is None:
        return None
    return min(1.0, max(0.0, (v - lo) / (hi - lo)))


def _row_label(g: Gap, several: bool) -> str:
    """The target's label, ", change" for a relative target, and the cut unless the label
    already names it ("CSAT after purchase" at stage Purchase)."""
    text = g.label
    if g.kind in RELATIVE_KINDS:
        text += ", change"
    cut = [str(v) for v in g.by.values() if str(v).lower() not in g.label.lower()]
    if cut and not several:
        text += " (" + ", ".join(cut) + ")"
    return text


#: a status beside a bullet row, short: the chart's caption spells "≈ within the interval" out
STATUS_SHORT = {"met": "✓ met", "within": "≈ within", "missed": "✗ missed",
                "no data": "– no data"}


def _right_text(group: list[Gap], unit: str) -> str:
    """The figure and its status ("69.9%  ✗ missed"); for a row of many points, how many have
    each status ("17 ✓ · 8 ≈ · 1 ✗")."""
    if len(group) > 1:
        counts = {s: sum(g.status == s for g in group) for s in STATUS_SHORT}
        return " · ".join(f"{c} {STATUS_SHORT[s][0]}" for s, c in counts.items() if c)
    g = group[0]
    if g.value is None:
        return STATUS_SHORT["no data"]
    return f"{figure(g.value, unit)}  {STATUS_SHORT.get(g.status, g.status)}"


#: a row of several points takes the colour of its worst status
_SEVERITY = {"no data": 0, "met": 1, "within": 2, "missed": 3}


def bullet_rows(gaps: Sequence[Gap]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The scorecard as bullet rows: one row per target (a target over every touchpoint is one
    row with a point per touchpoint), each on its own scale mapped to 0–1.

    Returns ``(points, zones)``. ``points``: row, order, point (the cut's value, or ""), value,
    low, high and threshold as positions 0–1 on the row's scale, status, row_status (the
    worst of the row's points), texts
    ``value_text``, ``target`` (short), ``right`` (figure and status mark, or the count of
    each status), ``finding`` (the target gap's sentence), ``scale`` ("0% to 100%"), n.
    ``zones``: row, order, x, x2 (positions), zone ("met", "target range" or a band's name).

    >>> g = Gap("nps", "NPS", {}, 25.0, 10.0, 40.0, "≥ 30", -5.0, "within", None, "", n=120,
    ...         unit="nps", kind="level_min")
    >>> points, zones = bullet_rows([g])
    >>> points.select("value", "threshold", "right").row(0)
    (0.625, 0.65, '25  ≈ within')
    >>> zones.select("x", "x2", "zone").row(0)
    (0.65, 1.0, 'met')
    """
    groups: dict[tuple[str, str], list[Gap]] = {}
    for g in gaps:
        groups.setdefault((g.metric, g.label), []).append(g)
    points, zones = [], []
    for order, group in enumerate(groups.values()):
        several = len(group) > 1
        first = group[0]
        unit = "relative_change" if first.kind in RELATIVE_KINDS else first.unit
        lo, hi = _axis(unit, group)
        better = _better(first)
        row = _row_label(first, several)
        right = _right_text(group, unit)
        measured = next((g for g in group if g.value is not None), first)
        for x, x2, name in _zones(measured, unit, lo, hi, better):
            a, b = _position(x, lo, hi), _position(x2, lo, hi)
            if a is not None and b is not None and b > a:
                zones.append({"row": row, "order": order, "x": a, "x2": b, "zone": name})
        threshold = _position(_threshold(measured, better), lo, hi)
        worst = max((g.status for g in group), key=lambda status: _SEVERITY[status])
        for g in group:
            points.append({
                "row": row, "order": order,
                "point": ", ".join(str(v) for v in g.by.values()) if several else "",
                # a row of many points shows where they lie, not many overlapping intervals
                "value": _position(g.value, lo, hi),
                "low": None if several else _position(g.low, lo, hi),
                "high": None if several else _position(g.high, lo, hi), "threshold": threshold,
                "status": g.status, "row_status": worst, "value_text": figure(g.value, unit),
                "target": _target_short(g), "right": right,
                "finding": sentence("target_gap", label=_row_label(g, False), value=g.value,
                                    unit=unit, target=g.target, status=g.status),
                "scale": f"{figure(lo, unit)} to {figure(hi, unit)}", "n": g.n,
            })
    schema = {"row": pl.String, "order": pl.Int64, "point": pl.String, "value": pl.Float64,
              "low": pl.Float64, "high": pl.Float64, "threshold": pl.Float64,
              "status": pl.String, "row_status": pl.String, "value_text": pl.String,
              "target": pl.String,
              "right": pl.String, "finding": pl.String, "scale": pl.String, "n": pl.Int64}
    zone_schema = {"row": pl.String, "order": pl.Int64, "x": pl.Float64, "x2": pl.Float64,
                   "zone": pl.String}
    return (pl.DataFrame(points, schema=schema, orient="row"),
            pl.DataFrame(zones, schema=zone_schema, orient="row"))


# ----------------------------------------------------------------------------- friction links


def friction_link(point: Friction, steps: Sequence[str]) -> tuple[str, dict[str, str]]:
    """Where a friction point is looked into: the page (file name under ``app_pages``) and its
    view settings as URL parameters (``cjm_core.model.settings``). A step opens the Funnel
    over the journey's steps up to the one customers did not reach; a touchpoint opens
    Touchpoints on its CSAT answers and comments.

    >>> step = Friction("step", "Demo → Buy", 1.0, {"from_step": "Demo", "to_step": "Buy"})
    >>> friction_link(step, ["Look", "Demo", "Buy", "Loyalty"])
    ('funnel', {'funnel_steps': 'Look,Demo,Buy'})
    >>> friction_link(Friction("touchpoint", "Hotline", 0.5), [])
    ('touchpoints', {'tp_by': 'touchpoint', 'tp_score': 'csat', 'tp_touchpoint': 'Hotline'})
    """
    if point.kind == "step":
        to = point.evidence.get("to_step")
        chosen = list(steps[: steps.index(to) + 1]) if to in steps else [
            point.evidence.get("from_step", ""), to or ""]
        return "funnel", {S.FUNNEL_STEPS.name: S.FUNNEL_STEPS.dump(chosen)}
    return "touchpoints", {S.TP_BY.name: "touchpoint", S.TP_SCORE.name: "csat",
                           S.TP_TOUCHPOINT.name: S.TP_TOUCHPOINT.dump(point.name)}
