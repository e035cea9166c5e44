"""Entry point: navigation. Each page starts with ``ui.page_setup()`` (page config, the workspace
from the URL or the session, the shared sidebar), so a page works however Streamlit starts it."""

from __future__ import annotations

import streamlit as st

PAGES = [
    st.Page("app_pages/overview.py", title="Overview", icon=":material/home:", default=True,
            url_path="overview"),
    st.Page("app_pages/funnel.py", title="Funnel", icon=":material/filter_alt:", url_path="funnel"),
    st.Page("app_pages/channels.py", title="Channels", icon=":material/alt_route:", url_path="channels"),
    st.Page("app_pages/touchpoints.py", title="Touchpoints", icon=":material/star:", url_path="touchpoints"),
    st.Page("app_pages/post_purchase.py", title="Post-purchase", icon=":material/support_agent:",
            url_path="post_purchase"),
    st.Page("app_pages/benchmarks.py", title="Benchmarks", icon=":material/target:", url_path="benchmarks"),
    st.Page("app_pages/data.py", title="Data", icon=":material/upload_file:", url_path="data"),
]

st.navigation(PAGES).run()
