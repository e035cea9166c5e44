"""Entry point: navigation. Each page starts with ``ui.page_setup()`` (page config, the workspace
from the URL or the session, the shared sidebar), so a page works however Streamlit starts it."""

from __future__ import annotations

import streamlit as st

PAGES = [
    st.Page("app_pages/overview.py", title="Overview", icon="🏠", default=True,
            url_path="overview"),
    st.Page("app_pages/data.py", title="Data", icon="📥", url_path="data"),
]

st.navigation(PAGES).run()
