"""Overview: the headline figures with their change and trend, the funnel at a glance, the
scorecard against each target's band, and the top 3 friction points with a link to each; all of
them over the same months (the last 12 of the data shown, or all of it without dates)."""

from __future__ import annotations

import streamlit as st

import ui
from cjm_core.analytics.overview_tiles import (
    bullet_rows,
    friction_link,
    funnel_bars,
    headline_tiles,
    overview_funnel,
    window_filters,
)
from cjm_core.analytics.scorecard import overview
from cjm_core.metric import CATALOGUE
from cjm_core.model.filters import FILTER_SETTINGS
from cjm_core.present.charts import bullet_chart, compact_funnel_chart
from cjm_core.present.report import build_report
from cjm_core.present.tables import GAPS_HELP, gaps_view
from cjm_core.storage.workspaces import workspace_targets

#: where a friction point is looked into: page file -> its title in the navigation
PAGE_TITLES = {"funnel": "Funnel", "touchpoints": "Touchpoints"}

ws_id = ui.page_setup()
store = ui.workspace_store()
ws = store.get_workspace(ws_id)
targets = workspace_targets(store, ws_id)
# the page's figures, started side by side with the filters' choices on a first view
data, key = ui.filtered_dataset(ws_id, ahead=lambda d: [
    (overview, d, targets), (headline_tiles, d), (overview_funnel, d)])

st.title(ui.md_escape(ws.name))
st.caption("Journey: " + ui.md_escape(" → ".join(s.name for s in data.journey.stages)))

if not data.tables():
    st.info("This workspace has no data yet: upload your exports on the Data page.")
    st.stop()

card, points = ui.compute(key, overview, data, targets)
with ui.guard(stop=True):
    tiles = ui.compute(key, headline_tiles, data)

# -- headline tiles: the figure now, its change and its line ----------------------------------
if tiles.tiles:
    for col, t in zip(st.columns(len(tiles.tiles)), tiles.tiles, strict=True):
        info = CATALOGUE.get(t.name)
        what = info.definition if info else "customers with an event of the journey's first step"
        col.metric(t.label, t.value_text, delta=t.delta_text, delta_color=t.colour,
                   delta_arrow=t.arrow, chart_data=list(t.series) or None, chart_type="line",
                   border=True, help=f"{what}; n = {t.n:,}. "
                   + (f"Line: {t.series_note}." if t.series else t.series_note.capitalize()))
p = tiles.periods
if p and tiles.compared:
    st.caption(f"Every figure on this page: the last {p['months']} months of the data shown "
               f"({tiles.current}). Tiles {tiles.compared}: green is better, red worse. Lines "
               "month by month; conversion and repeat purchases over the "
               f"{p['months']} months up to each month.")
elif p:
    st.caption(f"Every figure on this page: the last {p['months']} months of the data shown "
               f"({tiles.current}); the data do not reach back to an earlier period, so there "
               "is no change to show.")
if p and tiles.note:  # a table without dates: its tile shows all of it, without a change
    st.caption(tiles.note)
elif tiles.note:
    st.caption("All the data; " + tiles.note[0].lower() + tiles.note[1:])

# -- the funnel at a glance and the targets ---------------------------------------------------
funnel_col, targets_col = st.columns([2, 3], gap="large")
with funnel_col:
    st.subheader("Funnel")
    result = ui.compute(key, overview_funnel, data)
    bars = funnel_bars(result.table, points) if result is not None else None
    if bars is not None and bars.height:
        st.altair_chart(compact_funnel_chart(bars, height=max(160, 34 * bars.height)),
                        width="stretch")
        st.caption("Customers reaching each stage · share of the first. Red: the way into a "
                   "stage named below as a friction point.")
    else:
        st.info("The funnel needs an events table (customer, timestamp, stage) or a "
                "funnel_counts table.")
with targets_col:
    st.subheader("Against the industry's targets" + (f" · {tiles.current}" if p else ""))
    marks, zones = bullet_rows(card.gaps)
    if marks.height:
        st.altair_chart(bullet_chart(marks, zones), width="stretch")
        st.caption((f"Levels over {tiles.current}, as the tiles; relative targets (change): "
                    f"{tiles.current} against the {p['months']} months before. " if p
                    else "Levels over all the data (no dates). ")
                   + "Each row on its own scale. "
                   "Green band: where the target is met (darker: "
                   "the target range or the higher band); black tick: the target; dot: the "
                   "measured figure with its 95% interval. ✓ met · ≈ within the interval · "
                   "✗ missed · – no data.")
    else:
        st.info(f"No targets are set for ISIC {data.journey.isic}.")

# -- top 3 friction points, each with a link to its page --------------------------------------
st.subheader("Top 3 friction points")
st.caption("Ranked by impact: customers lost at a step, or answers below the top boxes at a "
           "touchpoint, times the gap to target (largest = 1). Fix these first.")
if not points:
    st.info("No friction point stands out, or the data has neither events nor CSAT by "
            "touchpoint.")
steps = result.steps if result is not None else []
# the link keeps the workspace (or the share link's token) and the sidebar's filters
keep = {name: st.query_params.get_all(name) for name in
        [ui.WS_PARAM, *(s.name for s in FILTER_SETTINGS)] if st.query_params.get_all(name)}
# ... and opens on this page's months, so the page shows the card's figures
keep.update({name: [value] for name, value in window_filters(p).items()})
for rank, (col, point) in enumerate(zip(st.columns(3), points, strict=False), start=1):
    page, view = friction_link(point, steps)
    with col.container(border=True, height="stretch"):
        kind = "Funnel step" if point.kind == "step" else "Touchpoint"
        st.markdown(f"**{rank}. {ui.md_escape(point.name)}** · {kind.lower()} · "
                    f"impact {point.impact:.2f}")
        ev = point.evidence
        if point.kind == "step":
            st.markdown(f"#### {ev['lost']:,} customers lost")
        else:
            st.markdown(f"#### {ev['below_top_boxes']:,} unhappy answers")
        st.write(ui.md_escape(point.summary))
        comments = ev.get("worst_comments") or []
        if comments:
            st.caption(f"Worst comment: “{ui.md_escape(comments[0])}”")
        st.page_link(f"app_pages/{page}.py", label=f"Open in {PAGE_TITLES[page]}",
                     icon=":material/arrow_forward:", query_params={**keep, **view},
                     help=f"{kind}: the {PAGE_TITLES[page]} page with this "
                          + ("step" if point.kind == "step" else "touchpoint")
                          + " chosen and the same filters")

# -- the scorecard as a table, for the exact figures ------------------------------------------
with st.expander("Scorecard as a table"):
    if p:
        st.caption(f"Levels are judged on {tiles.current}; relative targets on "
                   f"{tiles.current} against the {p['months']} months "
                   "before." + ("" if p.get("previous_complete", True)
                                else " The earlier period is only partly covered by the data."))
    st.dataframe(gaps_view(card.gaps), hide_index=True, width="stretch", column_config={
        title: st.column_config.TextColumn(title, help=text) for title, text in GAPS_HELP.items()})

# -- the whole analysis as one file to mail, written only when asked for -----------------------
st.download_button(
    "Download the report (HTML)", lambda: build_report(data, targets=targets, workspace=ws.name),
    file_name="customer_journey_report.html", mime="text/html", key="overview_report",
    icon=":material/download:",
    help="This page's figures and the Funnel, Channels, Touchpoints and Post-purchase tables "
         "in one file that opens offline, under the sidebar's filters.")
