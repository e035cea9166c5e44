"""The whole analysis as one self-contained HTML document, for mailing to people without the app.

Why: a store manager forwards the findings to a regional head or a supplier who has no access to
the dashboard. The file must open offline and safely: no external scripts, stylesheets, fonts or
images (charts are inline SVG drawn by vl-convert from the same Altair builders the pages use), a
Content-Security-Policy that forbids scripts and fetches, and every piece of uploaded text
(workspace, stage, touchpoint and channel names, comments) HTML-escaped.

Every number comes from a core function (scorecard, funnel, friction, satisfaction, channels,
support, loyalty, periods); this module only lays them out, in the Overview's months (the last
12 of the data, :func:`cjm_core.analytics.scorecard.judged_window`) and under the tables' rules
the pages follow (:mod:`cjm_core.present.tables`): labelled columns, percentages with one
decimal and their 95% interval, counts with separators, NPS whole, durations in days, hours and
minutes, "–" for nothing. Rates carry their n, figures below n = 30 are marked "low sample", and
a section whose table is missing says which table to upload.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import altair as alt
import polars as pl

from cjm_core.analytics.channels import transitions
from cjm_core.analytics.friction import Friction, csat_target_from
from cjm_core.analytics.funnel import FunnelResult, journey_funnel
from cjm_core.analytics.overview_tiles import span
from cjm_core.analytics.periods import by_period, change, metrics_frame, no_dates_note
from cjm_core.analytics.satisfaction import csat, distribution, satisfaction_table
from cjm_core.analytics.scorecard import all_metrics, judged_window, scorecard, top_friction
from cjm_core.errors import CJMError
from cjm_core.industries.journeys import INDUSTRIES
from cjm_core.industries.targets import Gap, Target, availability, evaluate, targets_for
from cjm_core.metric import LOW_SAMPLE_N, Metric, format_interval, label
from cjm_core.model.dataset import DATE_COLUMN, Dataset
from cjm_core.model.journey import roles_text
from cjm_core.present import charts
from cjm_core.present.tables import (
    DASH,
    cell,
    changes_table,
    cut_title,
    gaps_view,
    satisfaction_view,
)

__all__ = ["build_report"]

_SUPPORT = ("fcr", "resolution_hours_median", "resolution_hours_mean", "resolution_hours_p90",
            "resolved_within_24h", "resolved_within_48h", "open_cases")
_LOYALTY = ("repeat_purchase_rate", "clv", "average_order_value", "purchase_frequency")
_SCORES = ("csat", "nps", "ces")
_CHANNEL = ("omnichannel_share", "omnichannel_conversion", "online_to_store_conversion")
_ROLE_FUNNEL = ("cart_abandonment", "inquiry_consultation_dropoff")
_CHART_WIDTH = 620
_MINUS = "\u2212"
_SVG_NAMESPACES = (' xmlns="http://www.w3.org/2000/svg"', ' xmlns:xlink="http://www.w3.org/1999/xlink"')


# ----------------------------------------------------------------------------- safe HTML


class _Html(str):
    """Text that is already HTML (built here from escaped parts); anything else gets escaped."""


def _e(value: object) -> _Html:
    """``value`` as HTML: trusted fragments pass, everything else is escaped (quotes too)."""
    if isinstance(value, _Html):
        return value
    return _Html(html.escape("" if value is None else str(value), quote=True))


def _tag(name: str, *children: object, cls: str | None = None) -> _Html:
    attr = f' class="{html.escape(cls)}"' if cls else ""
    return _Html(f"<{name}{attr}>" + "".join(_e(c) for c in children) + f"</{name}>")


def _join(parts: Iterable[object], sep: str = "") -> _Html:
    return _Html(sep.join(_e(p) for p in parts))


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]],
           numeric: Sequence[int] = ()) -> _Html:
    """A plain table; ``numeric`` column indices are right-aligned."""
    head = _tag("tr", *(_tag("th", h) for h in headers))
    body = [_tag("tr", *(_tag("td", c, cls="num" if i in numeric else None)
                         for i, c in enumerate(row))) for row in rows]
    return _Html(f"<table><thead>{head}</thead><tbody>{''.join(body)}</tbody></table>")


def _missing(what: str) -> _Html:
    return _tag("p", "Not available: ", what, cls="missing")


# ----------------------------------------------------------------------------- numbers


def _n(n: int | None) -> _Html:
    if n is None:
        return _e(DASH)
    flag = _tag("span", "low sample", cls="low") if n < LOW_SAMPLE_N else ""
    return _join([f"{n:,}", " " if flag else "", flag])


def _cut(by: dict[str, str]) -> str:
    """A metric's cut in words ("Channel: web"), "all" for the whole.

    >>> _cut({"channel": "web", "stage_role": "support"}), _cut({})
    ('Channel: web, Stage role: support', 'all')
    """
    return ", ".join(f"{cut_title(k)}: {v}" for k, v in by.items()) or "all"


def _metric_rows(metrics: Sequence[Metric]) -> list[list[object]]:
    return [[label(m.metric), _cut(m.by), format_interval(m.value, m.low, m.high, m.unit),
             _n(m.n)] for m in metrics]


def _metric_table(metrics: Sequence[Metric]) -> _Html:
    return _table(["Metric", "Where", "Value (95% interval)", "n"], _metric_rows(metrics),
                  numeric=(2, 3))


# ----------------------------------------------------------------------------- charts


def _svg(chart: alt.TopLevelMixin, width: int = _CHART_WIDTH, height: int | None = None
         ) -> _Html:
    """An Altair chart as inline SVG (vl-convert renders it offline; text in it is escaped)."""
    import vl_convert as vlc

    size = {"width": width} | ({"height": height} if height else {})
    spec = chart.properties(**size).to_dict()
    try:
        svg = vlc.vegalite_to_svg(spec)
    except ValueError as exc:  # a chart that cannot be drawn must not cost the whole report
        return _missing(f"the chart could not be drawn ({exc})")
    # inline SVG needs no namespace declarations in HTML; dropping them leaves no URL at all
    for ns in _SVG_NAMESPACES:
        svg = svg.replace(ns, "")
    return _Html(f'<figure class="chart">{svg}</figure>')


# ----------------------------------------------------------------------------- context


@dataclass
class _Context:
    """What several sections share, computed once. ``data`` is what the sections show: the
    months levels are judged on (:func:`judged_window`); ``whole`` is every row, for the
    header's period and the monthly trend."""

    data: Dataset
    whole: Dataset
    targets: list[Target]
    gaps: list[Gap]
    current: list[Metric]
    recent: list[Metric] | None
    previous: list[Metric] | None
    periods: dict | None
    funnel: FunnelResult | None
    funnel_error: str | None


def _context(data: Dataset, targets: list[Target]) -> _Context:
    recent: list[Metric] | None
    previous: list[Metric] | None
    periods: dict | None
    window = data
    try:
        sc = scorecard(data, targets)
        gaps, current, recent, previous, periods = (sc.gaps, sc.current, sc.recent,
                                                    sc.previous, sc.periods)
        window, _ = judged_window(data)
    except CJMError:  # no dated rows: levels only, relative targets say what they need
        current = all_metrics(data)
        gaps = evaluate(targets, current, None, available=availability(data),
                        journey=data.journey)
        recent = previous = periods = None
    result, error = None, None
    try:
        result = journey_funnel(window.journey, window.events, window.funnel_counts)
    except (CJMError, ValueError) as exc:
        error = str(exc)
    return _Context(window, data, targets, gaps, current, recent, previous, periods or None,
                    result, error)


def _figures_cover(ctx: _Context) -> str:
    """Which months the figures are over, as the header says it."""
    p = ctx.periods
    if not p:
        return "all the data (no table has dates)"
    last = p["current_end"] - timedelta(days=1)
    text = (f"the last {p['months']} months of the data, {p['current_start']:%Y-%m-%d} to "
            f"{last:%Y-%m-%d}; changes against the {p['months']} months before")
    if p.get("undated"):
        text += "; tables without dates (" + ", ".join(_table_name(t) for t in p["undated"]) \
            + ") whole"
    return text


def _table_name(table: str) -> str:
    return table.replace("_", " ")


def _period_covered(data: Dataset) -> str:
    days: list[tuple[int, int, int]] = []
    for name, frame in data.tables().items():
        col = DATE_COLUMN.get(name)
        if col in frame.columns and frame.schema[col].is_temporal():
            days += [(d.year, d.month, d.day) for d in (frame[col].min(), frame[col].max())
                     if isinstance(d, date)]  # a datetime is a date too
    if not days:
        return "no dated rows"
    (y0, m0, d0), (y1, m1, d1) = min(days), max(days)
    return f"{y0:04d}-{m0:02d}-{d0:02d} to {y1:04d}-{m1:02d}-{d1:02d}"


# ----------------------------------------------------------------------------- sections


def _header(ctx: _Context, title: str, workspace: str | None, generated_at: datetime) -> _Html:
    data = ctx.whole
    isic = data.journey.isic
    industry = INDUSTRIES.get(isic, "custom industry")
    rows = [["Workspace", workspace or DASH], ["Industry", f"ISIC {isic}: {industry}"],
            ["Period covered", _period_covered(data)],
            ["Figures cover", _figures_cover(ctx)],
            ["Generated", f"{generated_at:%Y-%m-%d %H:%M}"],
            ["Journey", " → ".join(s.name for s in data.journey.stages)],
            ["Stage roles", roles_text(data.journey) or DASH]]
    tables = data.tables()
    loaded = ", ".join(f"{_table_name(t)} ({f.height:,} rows)" for t, f in tables.items()) \
        or "none"
    rows.append(["Tables", loaded])
    meta = _Html("".join(_tag("tr", _tag("th", k), _tag("td", v)) for k, v in rows))
    return _join([_tag("h1", title), _Html(f'<table class="meta">{meta}</table>')])


def _scorecard(ctx: _Context) -> _Html:
    if not ctx.gaps:
        return _missing(f"no targets are set for ISIC {ctx.data.journey.isic}.")
    view = gaps_view(ctx.gaps)
    status = view.columns.index("Status")
    numeric = tuple(view.columns.index(c) for c in ("Value (95% interval)", "n", "Distance"))
    rows = [[_status_cell(g.status, text) if i == status else text
             for i, text in enumerate(row)]
            for g, row in zip(ctx.gaps, view.iter_rows(), strict=True)]
    counts = {s: sum(g.status == s for g in ctx.gaps) for s in charts.STATUS_COLOURS}
    summary = ", ".join(f"{c} {s}" for s, c in counts.items() if c)
    months = (f"the last {ctx.periods['months']} months" if ctx.periods else "all the data")
    note = (f"Levels are judged on {months}; relative targets (\"vs the previous period\") "
            "on the last 12 months against the 12 before. Distance in the metric's own unit, "
            "between rates in percentage points. Status: met; within = the 95% interval "
            "reaches the target; missed; no data = the table or role named is missing.")
    return _join([_tag("p", summary), _table(view.columns, rows, numeric=numeric),
                  _tag("p", note, cls="note")])


def _status_cell(status: str, text: str) -> _Html:
    return _tag("span", text, cls="status status-" + status.replace(" ", "-"))


def _friction_evidence(f: Friction) -> _Html:
    """The worst comments behind a friction point (its figures are in its finding's sentence)."""
    comments = f.evidence.get("worst_comments") or []
    if not comments:
        return _join([])
    return _join([_tag("p", "Worst comments:"),
                  _tag("ul", *(_tag("li", _tag("q", c)) for c in comments), cls="comments")])


def _friction(ctx: _Context) -> _Html:
    data = ctx.data
    if ctx.funnel is None and not data.has("feedback", "csat", "touchpoint"):
        return _missing("friction points need an events table (customer_id, timestamp, stage) "
                        "or a funnel_counts table, and/or a feedback table with csat and "
                        "touchpoint columns. Upload one of them.")
    points = top_friction(data, ctx.targets, top=3)
    if not points:
        return _tag("p", "No step or touchpoint stands out: no drop-off above the other steps' "
                         "median and no touchpoint below the CSAT target.")
    items = []
    for f in points:
        kind = "Funnel step" if f.kind == "step" else "Touchpoint"
        items.append(_tag("li", _tag("h3", f"{kind}: {f.name}"),
                          _tag("p", f.summary, f" Impact {f.impact:.2f} (largest = 1)."),
                          _friction_evidence(f), cls="friction"))
    intro = ("Impact = customers lost (or answers below the top boxes) × the gap to the "
             "target, normalised to the largest.")
    return _join([_tag("p", intro, cls="note"), _tag("ol", *items)])


def _funnel_rows(table: pl.DataFrame) -> list[list[object]]:
    rows = []
    for r in table.sort("step_index").iter_rows(named=True):
        rows.append([r["step_index"], r["step"], cell(r["reached"], "count"),
                     format_interval(r["step_conversion"], r.get("low"), r.get("high")),
                     cell(r["overall_conversion"], "rate"), cell(r["lost"], "count"),
                     _n(r.get("n")), cell(r.get("median_seconds"), "seconds")])
    return rows


def _funnel(ctx: _Context) -> _Html:
    if ctx.funnel_error:
        return _missing(f"the funnel could not be computed: {ctx.funnel_error}")
    if ctx.funnel is None:
        return _missing("the funnel needs an events table (customer_id, timestamp, stage) or "
                        "a funnel_counts table (stage, customers). Upload one of them.")
    res = ctx.funnel
    table = _table(["#", "Step", "Customers reaching", "From previous step (95% interval)",
                    "From first step", "Lost", "n", "Median time from previous"],
                   _funnel_rows(res.table), numeric=(0, 2, 3, 4, 5, 6, 7))
    side = (f"{res.customers:,} customers; {res.entered_mid_journey:,} entered mid-journey "
            f"(no event of the first step, only of later ones; counted separately); "
            f"{res.open_windows:,} still inside their window at the end of the data; "
            f"{res.dropped_rows:,} rows without customer, stage or timestamp left out.")
    if res.missing_steps:
        side += (" No data for " + ", ".join(res.missing_steps) + ": no event has "
                 + ("this stage" if len(res.missing_steps) == 1 else "these stages")
                 + ", so the funnel leaves it out.")
    parts = [_svg(charts.funnel_chart(res.table)), table, _tag("p", side, cls="note")]
    roles = [m for m in ctx.current if m.metric in _ROLE_FUNNEL and not m.by]
    if roles:
        parts += [_tag("h3", "Stage-role drop-offs"), _metric_table(roles)]
    return _join(parts)


def _channels(ctx: _Context) -> _Html:
    data = ctx.data
    if not data.has("events", "customer_id", "timestamp", "channel"):
        return _missing("channel figures need an events table with customer_id, timestamp and "
                        "channel columns. Upload it.")
    parts = []
    figures = [m for m in ctx.current if m.metric in _CHANNEL and not m.by]
    if figures:
        parts.append(_metric_table(figures))
    else:
        parts.append(_missing("omnichannel and online-to-store conversion need the journey's "
                              "purchase stage role or an orders table."))
    trans = transitions(data.table("events"), "channel")
    moves = trans.filter(~pl.col("self_transition")).sort(
        ["count", "source", "target"], descending=[True, False, False]).head(10)
    if moves.height:
        rows = [[r["source"], r["target"], cell(r["count"], "count"), cell(r["share"], "rate")]
                for r in moves.iter_rows(named=True)]
        parts += [_tag("h3", "Top transitions between channels"),
                  _table(["From", "To", "Customers' moves", "Share of moves from 'From'"], rows,
                         numeric=(2, 3)),
                  _svg(charts.matrix_chart(trans), width=260, height=260)]
    return _join(parts)


def _touchpoints(ctx: _Context) -> _Html:
    data = ctx.data
    if not data.has("feedback", "touchpoint"):
        return _missing("touchpoint figures need a feedback table with a touchpoint column and "
                        "csat, nps or ces scores. Upload it.")
    feedback = data.table("feedback")
    scores = [s for s in _SCORES if s in feedback.columns
              and feedback[s].null_count() < feedback.height]
    view = satisfaction_view(satisfaction_table(feedback, "touchpoint"), "touchpoint", scores)
    parts = [_table(view.columns, view.iter_rows(),
                    numeric=tuple(range(1, view.width - 1)))]
    if data.has("feedback", "csat"):
        by_touchpoint = csat(data.table("feedback"), by=["touchpoint"])
        frame = metrics_frame(by_touchpoint).drop("metric", "unit")
        target = csat_target_from(ctx.targets)
        parts += [_tag("h3", "CSAT per touchpoint (hollow points: low sample; dashed line: ",
                       f"target {cell(target, 'rate')})"),
                  _svg(charts.interval_chart(frame, "touchpoint", target=target, title="CSAT")),
                  _tag("h3", "CSAT answers, all touchpoints"),
                  _svg(charts.distribution_chart(distribution(data.table("feedback"), "csat")),
                       width=320)]
    return _join(parts)


def _support_loyalty(ctx: _Context) -> _Html:
    support = [m for m in ctx.current if m.metric in _SUPPORT]
    loyalty = [m for m in ctx.current if m.metric in _LOYALTY]
    parts: list[object] = [_tag("h3", "Support")]
    parts.append(_metric_table(support) if support else _missing(
        "support figures need a support table (opened_at, resolved_at, first_contact_resolved "
        "or contacts, complexity, channel). Upload it."))
    parts.append(_tag("h3", "Loyalty"))
    parts.append(_metric_table(loyalty) if loyalty else _missing(
        "loyalty figures need an orders table (customer_id, order_date, amount). Upload it."))
    return _join(parts)


def _period(ctx: _Context) -> _Html:
    if not ctx.periods or ctx.recent is None or ctx.previous is None:
        return _missing("period over period needs dated rows (timestamp, opened_at or "
                        "order_date) in at least one table.")
    p = ctx.periods
    table = changes_table(change(ctx.recent, ctx.previous).filter(pl.col("by") == "")
                          ).drop("Cut")  # overall figures only
    head = (f"Last {p['months']} months ({span(p['current_start'], p['current_end'])}) "
            f"against the {p['months']} before ({span(p['previous_start'], p['previous_end'])})"
            ". Overall figures; changes between rates in percentage points (pp).")
    parts: list[object] = [_tag("p", head, cls="note")]
    if not p.get("previous_complete"):
        parts.append(_tag("p", "The data do not reach back to the start of the previous "
                               "period: its figures cover only part of it.", cls="missing"))
    if p.get("undated"):  # tables without dates are left out, not compared with themselves
        parts.append(_tag("p", no_dates_note(p["undated"]), cls="missing"))
    parts.append(_table(table.columns, table.iter_rows(),
                        numeric=tuple(range(1, table.width - 1))))
    if ctx.whole.has("feedback", "csat", "timestamp"):
        trend = by_period(csat(ctx.whole.table("feedback"), by=["period"]))
        parts += [_tag("h3", "CSAT by month"), _svg(charts.trend_chart(trend, title="CSAT"))]
    return _join(parts)


_SECTIONS: list[tuple[str, str, Callable[[_Context], _Html]]] = [
    ("scorecard", "Scorecard against the industry targets", _scorecard),
    ("friction", "Top 3 friction points", _friction),
    ("funnel", "Funnel", _funnel),
    ("channels", "Channels", _channels),
    ("touchpoints", "Touchpoints", _touchpoints),
    ("support-loyalty", "Support and loyalty", _support_loyalty),
    ("periods", "Period over period", _period),
]


def _section(ctx: _Context, anchor: str, heading: str,
             build: Callable[[_Context], _Html]) -> _Html:
    try:
        body = build(ctx)
    except CJMError as exc:  # a section the data cannot support explains itself
        body = _missing(str(exc))
    return _Html(f'<section id="{anchor}">' + _tag("h2", heading) + body + "</section>")


# ----------------------------------------------------------------------------- document


_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
        "form-action 'none'; base-uri 'none'")


def _style() -> str:
    status = "".join(f".status-{s.replace(' ', '-')}{{background:{c}}}"
                     for s, c in charts.STATUS_COLOURS.items())
    return (
        "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;"
        "max-width:1000px;margin:2em auto;padding:0 1em;color:#222;line-height:1.4}"
        "h1{font-size:1.6em;margin-bottom:.3em}h2{border-bottom:2px solid #ddd;"
        "padding-bottom:.2em;margin-top:2em}h3{font-size:1.05em;margin:1.2em 0 .4em}"
        "table{border-collapse:collapse;margin:.5em 0;font-size:.85em}"
        "th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}"
        "th{background:#f4f4f4}td.num{text-align:right}"
        "table.meta th{width:9em}.status{color:#fff;padding:.1em .45em;border-radius:3px;"
        "font-weight:600;white-space:nowrap}" + status +
        ".low{color:#b26a00;font-size:.85em;white-space:nowrap}"
        ".missing{background:#fff8e1;border-left:4px solid #f9a825;padding:.4em .7em}"
        ".note{color:#555;font-size:.9em}.cut{color:#555}"
        "nav ol{columns:2}figure.chart{margin:.8em 0}figure.chart svg{max-width:100%;"
        "height:auto}.comments q{font-style:italic}li.friction{margin-bottom:1em}"
        "@media print{body{margin:0;max-width:none}nav{display:none}"
        "section,figure,table,li.friction{break-inside:avoid}h2{break-after:avoid}}"
    )


def build_report(data: Dataset, *, targets: list[Target] | None = None,
                 title: str | None = None, generated_at: datetime | None = None,
                 workspace: str | None = None) -> str:
    """The whole analysis as one self-contained, printable HTML document.

    ``targets``: the workspace's targets (default: the industry's, ``targets_for(isic)``);
    ``title``: the heading (default names the workspace or the industry); ``generated_at``:
    the time printed in the header (default now); ``workspace``: its name for the header.
    Sections: scorecard, top 3 friction points, funnel, channels, touchpoints, support and
    loyalty, period over period. Nothing is fetched when the file is opened.

    >>> from cjm_core.model.journey import default_journey
    >>> fb = pl.DataFrame({"touchpoint": ["<b>Shop</b>", "Hotline"], "csat": [5, 2]})
    >>> doc = build_report(Dataset(default_journey("4742"), feedback=fb))
    >>> "&lt;b&gt;Shop&lt;/b&gt;" in doc and "<b>Shop" not in doc and "http://" not in doc
    True
    """
    targets = targets if targets is not None else targets_for(data.journey.isic)
    generated_at = generated_at or datetime.now()
    isic = data.journey.isic
    title = title or (f"Customer journey report: {workspace}" if workspace
                      else f"Customer journey report, ISIC {isic}")
    ctx = _context(data, targets)
    nav = _tag("nav", _tag("ol", *(_Html(f'<li><a href="#{a}">{html.escape(h)}</a></li>')
                                   for a, h, _ in _SECTIONS)))
    body = _join([_header(ctx, title, workspace, generated_at), nav,
                  *(_section(ctx, a, h, b) for a, h, b in _SECTIONS),
                  _tag("footer", _tag("p", "Rates are shown with their n; figures from fewer "
                                           f"than {LOW_SAMPLE_N} answers or customers are "
                                           "marked low sample.", cls="note"))])
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(title)}</title>\n<style>{_style()}</style>\n</head>\n"
            f"<body>\n{body}\n</body>\n</html>\n")
