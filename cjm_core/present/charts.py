"""Chart builders: tables in, ``alt.Chart`` out. They never render; pages show
them, the HTML report and exports turn them into SVG, and tests read ``chart.to_dict()``."""

from __future__ import annotations

import altair as alt
import polars as pl

STATUS_COLOURS = {"met": "#2e7d32", "within": "#f9a825", "missed": "#c62828", "no data": "#9e9e9e"}
PERCENT = ".0%"
#: what a builder returns: one chart, or charts layered (``alt.layer`` may give a facet chart)
Figure = alt.Chart | alt.LayerChart | alt.FacetChart


def funnel_chart(table: pl.DataFrame, breakdown: tuple[str, ...] = ()) -> Figure:
    """Customers reaching each step, with conversion in the tooltip; one colour per segment.

    >>> t = pl.DataFrame({"step_index": [1, 2], "step": ["A", "B"], "reached": [10, 4],
    ...                   "step_conversion": [1.0, 0.4], "overall_conversion": [1.0, 0.4],
    ...                   "lost": [0, 6]})
    >>> [layer["mark"]["type"] for layer in funnel_chart(t).to_dict()["layer"]]
    ['bar', 'text']
    """
    steps = table.sort("step_index")["step"].unique(maintain_order=True).to_list()
    frame = table.with_columns(
        pl.concat_str([pl.col(c).cast(pl.String) for c in breakdown], separator=" / ")
        .alias("segment") if breakdown else pl.lit("all").alias("segment")
    )
    tooltip = [
        alt.Tooltip("step:N", title="Step"),
        alt.Tooltip("segment:N", title="Segment"),
        alt.Tooltip("reached:Q", title="Customers reaching", format=","),
        alt.Tooltip("step_conversion:Q", title="From previous step", format=".1%"),
        alt.Tooltip("overall_conversion:Q", title="From first step", format=".1%"),
        alt.Tooltip("lost:Q", title="Lost at this step", format=","),
    ]
    base = alt.Chart(frame).encode(
        x=alt.X("step:N", sort=steps, title=None, axis=alt.Axis(labelAngle=0, labelLimit=160)),
        y=alt.Y("reached:Q", title="Customers reaching the step"),
        tooltip=tooltip,
    )
    if breakdown:
        return base.mark_bar().encode(color=alt.Color("segment:N", title=" / ".join(breakdown)),
                                      xOffset="segment:N")
    bars = base.mark_bar(color="#1f77b4")
    labels = base.mark_text(dy=-6, fontSize=12).encode(
        text=alt.Text("overall_conversion:Q", format=PERCENT))
    return alt.layer(bars, labels)


def interval_chart(frame: pl.DataFrame, category: str, *, target: float | None = None,
                   title: str = "", value_format: str = PERCENT) -> Figure:
    """A point per category with its interval and n; low samples hollow; an optional target rule.

    ``frame`` has columns ``category``, value, low, high, n, low_sample.
    """
    order = frame.sort("value", nulls_last=True)[category].to_list()
    base = alt.Chart(frame).encode(
        y=alt.Y(f"{category}:N", sort=order, title=None, axis=alt.Axis(labelLimit=240)),
        tooltip=[alt.Tooltip(f"{category}:N", title=category.replace("_", " ").capitalize()),
                 alt.Tooltip("value:Q", title=title or "Value", format=value_format),
                 alt.Tooltip("low:Q", title="95% interval from", format=value_format),
                 alt.Tooltip("high:Q", title="to", format=value_format),
                 alt.Tooltip("n:Q", title="Answers", format=",")],
    )
    # the axis in the value's own unit (84% rather than 0.84)
    rules = base.mark_rule(color="#555").encode(
        x=alt.X("low:Q", title=title, axis=alt.Axis(format=value_format)), x2="high:Q")
    points = base.mark_point(size=90, filled=True, stroke="#1f77b4", strokeWidth=2).encode(
        x="value:Q",
        fill=alt.condition("datum.low_sample", alt.value("white"), alt.value("#1f77b4")),
    )
    layers = [rules, points]
    if target is not None:
        layers.append(alt.Chart(pl.DataFrame({"target": [target]})).mark_rule(
            color=STATUS_COLOURS["missed"], strokeDash=[6, 4]).encode(x="target:Q"))
    return alt.layer(*layers)


def heatmap(frame: pl.DataFrame, row: str, column: str, *, value_format: str = PERCENT,
            title: str = "CSAT") -> alt.Chart:
    """Rows × columns coloured by value, with n and interval in the tooltip.

    ``frame`` has columns ``row``, ``column``, value, low, high, n.
    """
    return alt.Chart(frame).mark_rect().encode(
        x=alt.X(f"{column}:O", title=None),
        y=alt.Y(f"{row}:N", title=None),
        color=alt.Color("value:Q", title=title, scale=alt.Scale(scheme="redyellowgreen")),
        tooltip=[alt.Tooltip(f"{row}:N"), alt.Tooltip(f"{column}:O"),
                 alt.Tooltip("value:Q", format=value_format),
                 alt.Tooltip("low:Q", format=value_format),
                 alt.Tooltip("high:Q", format=value_format), alt.Tooltip("n:Q", format=",")],
    )


def distribution_chart(frame: pl.DataFrame, score: str = "score") -> alt.Chart:
    """Share of answers per score; ``frame`` has columns ``score``, count, share."""
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X(f"{score}:O", title=score),
        y=alt.Y("share:Q", axis=alt.Axis(format=PERCENT), title="Share of answers"),
        tooltip=[alt.Tooltip(f"{score}:O"), alt.Tooltip("count:Q", format=","),
                 alt.Tooltip("share:Q", format=".1%")],
    )


def matrix_chart(transitions: pl.DataFrame) -> alt.Chart:
    """Transition matrix: from (rows) × to (columns) coloured by share of the row's moves."""
    return alt.Chart(transitions).mark_rect().encode(
        x=alt.X("target:N", title="to"),
        y=alt.Y("source:N", title="from"),
        color=alt.Color("share:Q", scale=alt.Scale(scheme="blues"), title="share"),
        tooltip=[alt.Tooltip("source:N", title="from"), alt.Tooltip("target:N", title="to"),
                 alt.Tooltip("count:Q", format=","), alt.Tooltip("share:Q", format=".1%")],
    )


def trend_chart(frame: pl.DataFrame, *, value_format: str = PERCENT, title: str = "") -> Figure:
    """A metric per period (columns period, value, low, high, n) with its interval band."""
    base = alt.Chart(frame).encode(x=alt.X("period:O", title=None))
    band = base.mark_area(opacity=0.2).encode(y=alt.Y("low:Q", title=title), y2="high:Q")
    line = base.mark_line(point=True).encode(
        y="value:Q",
        tooltip=[alt.Tooltip("period:O"), alt.Tooltip("value:Q", format=value_format),
                 alt.Tooltip("n:Q", format=",")])
    return alt.layer(band, line)


#: the Overview's bullet rows: where the target is met (light), a target range or the higher band
#: inside it (dark), the rest of the row's scale (grey)
ZONE_COLOURS = {"met": "#c8e6c9", "target range": "#81c784", "good": "#c8e6c9",
                "excellent": "#81c784"}
_FRICTION_BAR = "#e45756"
_BAR = "#4c78a8"


def compact_funnel_chart(bars: pl.DataFrame, *, height: int = 260) -> Figure:
    """The journey funnel at a glance: one horizontal bar per step (customers reaching it), its
    count and share of the first step at the bar's end; the bars a friction point names in red.

    ``bars`` is :func:`cjm_core.analytics.overview_tiles.funnel_bars`' table.

    >>> b = pl.DataFrame({"step_index": [1, 2], "step": ["Look", "Buy"], "reached": [10, 4],
    ...                   "share": [1.0, 0.4], "lost": [0, 6], "step_conversion": [1.0, 0.4],
    ...                   "label": ["10 · 100.0%", "4 · 40.0%"], "friction": [False, True]})
    >>> spec = compact_funnel_chart(b).to_dict()
    >>> [layer["mark"]["type"] for layer in spec["layer"]]
    ['bar', 'text']
    """
    order = bars.sort("step_index")["step"].to_list()
    top = max([float(v) for v in bars["reached"].drop_nulls().to_list()] or [0.0]) or 1.0
    base = alt.Chart(bars).encode(
        y=alt.Y("step:N", sort=order, title=None,
                axis=alt.Axis(labelLimit=220, labelFontSize=13, ticks=False, domain=False)),
        tooltip=[alt.Tooltip("step:N", title="Step"),
                 alt.Tooltip("reached:Q", title="Customers reaching", format=","),
                 alt.Tooltip("share:Q", title="Of the first step", format=".1%"),
                 alt.Tooltip("step_conversion:Q", title="From the step before", format=".1%"),
                 alt.Tooltip("lost:Q", title="Lost on the way in", format=",")],
    )
    bar = base.mark_bar(height={"band": 0.75}, cornerRadiusEnd=3).encode(
        x=alt.X("reached:Q", title=None, axis=None,
                scale=alt.Scale(domain=[0, top * 1.5], nice=False)),
        color=alt.condition("datum.friction", alt.value(_FRICTION_BAR), alt.value(_BAR)),
    )
    text = base.mark_text(align="left", dx=5, fontSize=13).encode(
        x="reached:Q", text="label:N")
    return alt.layer(bar, text, description="overview-funnel").properties(height=height)


def bullet_chart(points: pl.DataFrame, zones: pl.DataFrame, *, row_height: int = 46) -> Figure:
    """The scorecard as bullet rows against each target's band: per row (its own scale mapped
    to 0–1) a grey track, the band where the target is met, a black tick at the threshold with
    the target written under it, the 95% interval and the measured point coloured by status;
    the figure and status mark to the right.

    ``points`` and ``zones`` are :func:`cjm_core.analytics.overview_tiles.bullet_rows`' two
    tables.

    >>> p = pl.DataFrame({"row": ["NPS"], "order": [0], "point": [""], "value": [0.625],
    ...     "low": [0.55], "high": [0.7], "threshold": [0.65], "status": ["within"],
    ...     "row_status": ["within"], "value_text": ["25"], "target": ["≥ 30"],
    ...     "right": ["25  ≈ within"], "finding": ["NPS: 25 ..."], "scale": ["−100 to 100"],
    ...     "n": [120]})
    >>> z = pl.DataFrame({"row": ["NPS"], "order": [0], "x": [0.65], "x2": [1.0],
    ...                   "zone": ["met"]})
    >>> [layer["mark"]["type"] for layer in bullet_chart(p, z).to_dict()["layer"]]
    ['bar', 'bar', 'tick', 'text', 'rule', 'point', 'text']
    """
    rows = points.select("row", "order").unique("row", keep="first", maintain_order=True)
    order = rows.sort("order")["row"].to_list()
    y = alt.Y("row:N", sort=order, title=None,
              axis=alt.Axis(labelLimit=260, labelFontSize=13, ticks=False, domain=False,
                            labelPadding=8))
    def pos(name: str) -> alt.X:  # one scale for every layer: the rows' 0–1, text beyond
        return alt.X(f"{name}:Q", title=None, axis=None,
                     scale=alt.Scale(domain=[0, 1.75], nice=False))

    x = pos("x")
    track = alt.Chart(rows.with_columns(x=pl.lit(0.0), x2=pl.lit(1.0))).mark_bar(
        color="#eeeeee", height={"band": 0.42}).encode(y=y, x=x, x2="x2:Q")
    zone = alt.Chart(zones).mark_bar(height={"band": 0.42}).encode(
        y=y, x=x, x2="x2:Q",
        color=alt.Color("zone:N", legend=None,
                        scale=alt.Scale(domain=list(ZONE_COLOURS), range=list(
                            ZONE_COLOURS.values()))),
        tooltip=[alt.Tooltip("row:N", title="Target"), alt.Tooltip("zone:N", title="Band")])
    one = points.unique("row", keep="first", maintain_order=True)
    tick = alt.Chart(one).mark_tick(color="#222222", thickness=3, size=26).encode(
        y=y, x=pos("threshold"))
    target = alt.Chart(one).mark_text(dy=19, fontSize=11, color="#555555").encode(
        y=y, x=pos("threshold"), text="target:N")
    measured = points.filter(pl.col("value").is_not_null())
    status = alt.Color("status:N", legend=None, scale=alt.Scale(
        domain=list(STATUS_COLOURS), range=list(STATUS_COLOURS.values())))
    tooltip = [alt.Tooltip("row:N", title="Target"), alt.Tooltip("point:N", title="At"),
               alt.Tooltip("value_text:N", title="Measured"),
               alt.Tooltip("target:N", title="Target"), alt.Tooltip("status:N", title="Status"),
               alt.Tooltip("n:Q", title="n", format=","),
               alt.Tooltip("scale:N", title="Row's scale"),
               alt.Tooltip("finding:N", title="In words")]
    interval = alt.Chart(measured.filter(pl.col("low").is_not_null())).mark_rule(
        color="#555555", strokeWidth=2).encode(
        y=y, x=pos("low"),
        x2="high:Q", tooltip=tooltip)
    point = alt.Chart(measured).mark_point(filled=True, size=170, opacity=0.9, stroke="white",
                                           strokeWidth=1).encode(
        y=y, x=pos("value"),
        color=status, tooltip=tooltip)
    right = alt.Chart(one.with_columns(x=pl.lit(1.03))).mark_text(
        align="left", fontSize=14, fontWeight="bold").encode(
        y=y, x=x, text="right:N",
        color=alt.Color("row_status:N", legend=None, scale=alt.Scale(
            domain=list(STATUS_COLOURS), range=list(STATUS_COLOURS.values()))))
    height = row_height * max(1, len(order))
    # the bands' colours and the statuses' colours are two scales, not one
    return alt.layer(track, zone, tick, target, interval, point, right,
                     description="overview-bullets").resolve_scale(
        color="independent").properties(height=height).configure_view(strokeWidth=0)
