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
        y=alt.Y(f"{category}:N", sort=order, title=None),
        tooltip=[alt.Tooltip(f"{category}:N"), alt.Tooltip("value:Q", format=value_format),
                 alt.Tooltip("low:Q", format=value_format),
                 alt.Tooltip("high:Q", format=value_format), alt.Tooltip("n:Q", format=",")],
    )
    rules = base.mark_rule(color="#555").encode(x=alt.X("low:Q", title=title), x2="high:Q")
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
