"""Chart builders and display helpers for the Channels, Touchpoints and Post-purchase pages.

Like :mod:`cjm_core.present.charts`: tables or metrics in, ``go.Figure`` / ``pl.DataFrame`` / text
out,
nothing rendered here. The text helpers give every figure the same look on every page: a value
in its unit, and a caption with its n, its 95 % interval and the low-sample mark (DESIGN §5).
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
import polars as pl

from cjm_core.analytics.channels import sankey_data
from cjm_core.metric import LOW_SAMPLE_N, Metric, format_value, label

__all__ = [
    "LOW_SAMPLE_MARK",
    "change_table",
    "metric_caption",
    "transition_sankey",
    "wide_metrics",
]

LOW_SAMPLE_MARK = "low sample (n < 30)"
#: Tableau 10, the colours Altair uses by default
PALETTE = ("#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2",
           "#ff9da6", "#9d755d", "#bab0ac")


def _fade(hex_colour: str, alpha: float = 0.35) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def metric_caption(m: Metric, what: str = "") -> str:
    """The line under a tile: n (of ``what``), the 95 % interval when there is one, and the
    low-sample mark below n = 30.

    >>> m = Metric("fcr", 0.6, n=20, low=0.39, high=0.78)
    >>> metric_caption(m, "resolved cases")
    'n = 20 resolved cases · 95% CI 39.0% – 78.0% · low sample (n < 30)'
    """
    parts = [f"n = {m.n:,}" + (f" {what}" if what else "")]
    if m.low is not None and m.high is not None:
        parts.append(f"95% CI {format_value(m.low, m.unit)} – {format_value(m.high, m.unit)}")
    if m.low_sample:
        parts.append(LOW_SAMPLE_MARK)
    return " · ".join(parts)


def transition_sankey(transitions: pl.DataFrame, top: int | None = None) -> go.Figure:
    """A Sankey of the ``top`` largest transitions (all when None), from
    :func:`cjm_core.analytics.channels.transitions`; sources on the left, targets on the right, and
    the
    count and the share of the source's moves in each link's tooltip.

    >>> t = pl.DataFrame({"source": ["web", "web", "app"], "target": ["store", "web", "web"],
    ...     "count": [5, 1, 3], "share": [5 / 6, 1 / 6, 1.0]})
    >>> fig = transition_sankey(t, top=2)
    >>> fig.data[0].link.value, fig.data[0].node.label
    ((5, 3), ('app', 'web', 'store', 'web'))
    """
    shown = transitions.sort(["count", "source", "target"], descending=[True, False, False])
    if top is not None:
        shown = shown.head(top)
    d = sankey_data(shown)
    labels = d["node"]["label"]
    # one colour per value on both sides; links take their source's colour, lighter
    names = sorted(set(labels))
    colour = {v: PALETTE[i % len(PALETTE)] for i, v in enumerate(names)}
    fig = go.Figure(go.Sankey(
        arrangement="snap",
        node={"label": labels, "pad": 12, "thickness": 14,
              "color": [colour[v] for v in labels],
              "hovertemplate": "%{label}: %{value:,} moves<extra></extra>"},
        link={**d["link"],
              "color": [_fade(colour[labels[i]]) for i in d["link"]["source"]],
              "hovertemplate": "%{source.label} → %{target.label}<br>%{value:,} moves, "
                               "%{customdata:.1%} of the moves from %{source.label}"
                               "<extra></extra>"},
    ))
    side = max(d["node"]["side"].count("source"), d["node"]["side"].count("target"))
    height = max(360, min(1000, 28 * side))
    fig.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 10}, height=height)
    return fig


def wide_metrics(metrics: Sequence[Metric], cut: str) -> pl.DataFrame:
    """Metrics cut by one dimension as one row per value of the cut: the cut, then ``<metric>``
    (value) and ``<metric>_n`` for each metric in first-seen order, and ``low_sample`` (any of
    the row's n below 30). Metrics with other or further cuts are left out. Sorted by the cut.

    >>> ms = [Metric("fcr", 0.7, 40, by={"channel": "web"}),
    ...       Metric("fcr", 0.5, 12, by={"channel": "phone"}),
    ...       Metric("open_cases", 3.0, 50, by={"channel": "web"}, unit="count"),
    ...       Metric("fcr", 0.6, 52)]
    >>> wide_metrics(ms, "channel").rows()
    [('phone', 0.5, 12, None, None, True), ('web', 0.7, 40, 3.0, 50, False)]
    """
    chosen = [m for m in metrics if list(m.by) == [cut]]
    names = list(dict.fromkeys(m.metric for m in chosen))
    schema: dict[str, type[pl.DataType]] = {cut: pl.String}
    for name in names:
        schema[name] = pl.Float64
        schema[f"{name}_n"] = pl.Int64
    rows: dict[str, dict] = {}
    for m in chosen:
        row = rows.setdefault(m.by[cut], {cut: m.by[cut]})
        row[m.metric] = m.value
        row[f"{m.metric}_n"] = m.n
    frame = pl.DataFrame(list(rows.values()), schema=schema)
    ns = [pl.col(f"{name}_n") for name in names]
    low = (pl.min_horizontal(ns).fill_null(0) < LOW_SAMPLE_N) if ns else pl.lit(False)
    return frame.with_columns(low.alias("low_sample")).sort(cut)


def change_table(change: pl.DataFrame) -> pl.DataFrame:
    """The period-over-period table of :func:`cjm_core.analytics.periods.change` made readable:
    each metric's ``label`` from the catalogue; ``now``, ``before`` and ``change`` (absolute, in
    the metric's unit; percentage points for rates) as text in each metric's unit, beside the
    numeric ``rel_change``, n and low-sample columns.

    >>> from cjm_core.analytics.periods import change
    >>> c = change([Metric("fcr", 0.66, 300), Metric("clv", 700.0, 500, unit="money")],
    ...            [Metric("fcr", 0.60, 240), Metric("clv", 720.0, 420, unit="money")])
    >>> change_table(c).select("metric", "now", "before", "change").rows()
    [('clv', '700.00', '720.00', '−20.00'), ('fcr', '66.0%', '60.0%', '+6.0 pp')]
    >>> change_table(c)["label"].to_list()
    ['Customer lifetime value (historic)', 'First-contact resolution']
    """
    def text(value: float | None, unit: str | None, signed: bool = False) -> str:
        if value is None:
            return "–"
        if signed:
            if unit == "rate":
                s = f"{value * 100:+.1f} pp"
            else:
                s = format_value(value, unit or "")
                s = s if s.startswith(("+", "-")) else ("+" + s if value >= 0 else s)
            return s.replace("-", "−")
        return format_value(value, unit or "")

    rows = change.select("value_now", "value_before", "abs_change", "unit").rows()
    return change.with_columns(
        pl.Series("label", [label(m) for m in change["metric"]], dtype=pl.String),
        pl.Series("now", [text(a, u) for a, _, _, u in rows], dtype=pl.String),
        pl.Series("before", [text(b, u) for _, b, _, u in rows], dtype=pl.String),
        pl.Series("change", [text(c, u, True) for _, _, c, u in rows], dtype=pl.String),
    ).select("metric", "label", "by", "now", "before", "change", "rel_change", "n_now",
             "n_before", "low_sample")
