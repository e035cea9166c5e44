"""Overview: what the workspace holds. (The scorecard and friction points come with analytics.)"""

from __future__ import annotations

import polars as pl
import streamlit as st

import ui
from cjm_core.journey import INDUSTRIES

ws_id = ui.page_setup()
store = ui.get_store()
ws = store.get_workspace(ws_id)
journey = store.get_journey(ws_id)

st.title(ws.name)
st.caption(f"ISIC {journey.isic}: {INDUSTRIES.get(journey.isic, 'custom industry')}")

counts = store.table_counts(ws_id)
cols = st.columns(5)
for col, table in zip(cols, ["events", "feedback", "support", "orders", "funnel_counts"],
                      strict=True):
    col.metric(table.replace("_", " ").title(), f"{counts.get(table, 0):,}", help="rows loaded")

st.subheader("Journey")
st.markdown(" → ".join(s.name for s in journey.stages))

uploads = store.uploads(ws_id)
if uploads:
    st.subheader("Uploads")
    st.dataframe(pl.DataFrame(uploads), hide_index=True, width="stretch")
