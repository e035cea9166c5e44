"""Overview: the scorecard against the industry's targets and the top 3 friction points."""

from __future__ import annotations

import streamlit as st

import ui
from cjm_core.analytics.scorecard import overview
from cjm_core.industries.journeys import INDUSTRIES
from cjm_core.industries.targets import gaps_table
from cjm_core.storage.workspaces import workspace_targets

ws_id = ui.page_setup()
store = ui.workspace_store()
data, key = ui.filtered_dataset(ws_id)
ws = store.get_workspace(ws_id)
targets = workspace_targets(store, ws_id)

st.title(ui.md_escape(ws.name))
st.caption(f"ISIC {data.journey.isic}: {INDUSTRIES.get(data.journey.isic, 'custom industry')} · "
           + ui.md_escape(" → ".join(s.name for s in data.journey.stages)))

if not data.tables():
    st.info("This workspace has no data yet: upload your exports on the Data page.")
    st.stop()

counts = store.table_counts(ws_id)
cols = st.columns(5)
for col, table in zip(cols, ["events", "feedback", "support", "orders", "funnel_counts"],
                      strict=True):
    col.metric(table.replace("_", " ").title(), f"{counts.get(table, 0):,}", help="rows saved")

st.subheader("Top 3 friction points")
st.caption("Ranked by impact: customers lost at a step, or answers below the top boxes at a "
           "touchpoint, times the gap to target. Fix these first.")
card, points = ui.compute(key, overview, data, targets)
if not points:
    st.info("No friction point stands out, or the data has neither events nor CSAT by "
            "touchpoint.")
for rank, point in enumerate(points, start=1):
    with st.container(border=True):
        st.markdown(f"**{rank}. {point.kind.title()}: {ui.md_escape(point.name)}** "
                    f"· impact {point.impact:.2f}")
        st.text(point.summary)
        comments = point.evidence.get("worst_comments") or []
        if comments:
            st.caption("Worst comments")
            for c in comments:
                st.text(f"“{c}”")

st.subheader("Scorecard against the industry targets")
p = card.periods
if p:
    st.caption(f"Levels are judged on the data shown; relative targets on "
               f"{p['current_start']:%b %Y}–{p['current_end']:%b %Y} against the 12 months "
               "before." + ("" if p.get("previous_complete", True)
                            else " The earlier period is only partly covered by the data."))
st.dataframe(gaps_table(card.gaps), hide_index=True, width="stretch", column_config={
    "goal": "target", "target": "what",
    "distance": st.column_config.TextColumn("distance", help="in the metric's own unit; "
                                            "negative = short of the target"),
    "note": "note (for no data: what is missing)"})
