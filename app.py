"""Entry point: page config, the workspace from the URL, navigation and the shared sidebar."""

from __future__ import annotations

import streamlit as st

import ui
from cjm_core.errors import CJMError

st.set_page_config(page_title="Customer Journey Analytics", page_icon="🧭", layout="wide")

PAGES = [
    st.Page("pages/overview.py", title="Overview", icon="🏠", default=True, url_path="overview"),
    st.Page("pages/data.py", title="Data", icon="📥", url_path="data"),
]


def sidebar(ws_id: str) -> None:
    store = ui.get_store()
    choices = ui.workspace_choices()
    with st.sidebar:
        picked = st.selectbox(
            "Workspace", options=list(choices), index=list(choices).index(ws_id),
            format_func=choices.get, key="workspace_switcher",
        )
        if picked != ws_id:
            st.query_params[ui.WS_PARAM] = picked
            st.rerun()
        ws = store.get_workspace(ws_id)
        st.caption(f"Industry: ISIC {ws.isic}")
        counts = store.table_counts(ws_id)
        if counts:
            st.markdown("**Tables**")
            for table, rows in counts.items():
                st.text(f"{table}: {rows:,} rows")
        else:
            st.info("No data yet: upload files on the Data page.")


try:
    workspace_id = ui.current_workspace_id()
    st.session_state["workspace_id"] = workspace_id
    sidebar(workspace_id)
except CJMError as exc:
    ui.show_error(exc)
    st.stop()

st.navigation(PAGES).run()
