"""Benchmarks: every target of the workspace's industry with its gap, and the targets to edit."""

from __future__ import annotations

import streamlit as st

import ui
from cjm_core.analytics.overview_tiles import span
from cjm_core.analytics.scorecard import scorecard
from cjm_core.present.tables import GAPS_HELP, gaps_view, targets_edited, targets_view
from cjm_core.storage.workspaces import (
    reset_workspace_targets,
    save_workspace_targets,
    workspace_targets,
)

ws_id = ui.page_setup()
store = ui.workspace_store()
data, key = ui.filtered_dataset(ws_id)
targets = workspace_targets(store, ws_id)
st.title("Benchmarks")
ui.show_flash()
st.caption(f"Targets for ISIC {data.journey.isic}, from the industry's seed document; edit them "
           "below for this workspace.")

card = ui.compute(key, scorecard, data, targets)
st.subheader("Gaps")
p = card.periods
if p:
    months = span(p["current_start"], p["current_end"])
    st.caption(f"Levels judged on the last {p['months']} months of the data shown ({months}), "
               f"as on the Overview; relative targets on {months} against the {p['months']} "
               "months before.")
else:
    st.caption("Judged on all the data: no table has dates, so relative targets have no "
               "earlier period to compare with.")
st.dataframe(gaps_view(card.gaps), hide_index=True, width="stretch", column_config={
    title: st.column_config.TextColumn(title, help=text) for title, text in GAPS_HELP.items()})
st.caption("Status: met; within the interval (the target lies inside the value's 95% interval); "
           "missed; no data (the note says which table or role is missing).")

st.subheader("Targets")
if not ui.can_edit():
    st.dataframe(targets_view(targets), hide_index=True, width="stretch", placeholder="–")
    st.stop()
editable = workspace_targets(store, ws_id, include_disabled=True)
edited = st.data_editor(
    targets_view(editable, editable=True), hide_index=True, width="stretch",
    key="targets_editor", placeholder="–",  # a threshold the target does not use
    disabled=["Metric", "Target", "Better", "Where", "Scale", "Seed wording", "Seed file"],
    column_config={
        "low": st.column_config.NumberColumn(
            "Lower threshold", format="%g",
            help="in the target's unit; percentages as numbers: 85 = 85%, a change of +10% = 10"),
        "high": st.column_config.NumberColumn(
            "Upper threshold", format="%g",
            help="in the target's unit; percentages as numbers: 30 = 30%, a change of −10% = −10; "
                 "hours, NPS points and scores as they are"),
        "enabled": st.column_config.CheckboxColumn("On", help="judge this target"),
    },
)
a, b = st.columns([1, 4])
if a.button("Save targets", type="primary", key="save_targets"):
    with ui.guard():
        save_workspace_targets(store, ws_id, targets_edited(editable, edited.to_dicts()))
        ui.flash("Targets saved for this workspace.")
        st.rerun()
if b.button("Back to the industry's targets", key="reset_targets"):
    reset_workspace_targets(store, ws_id)
    st.rerun()
