"""Entry point: navigation. Each page starts with ``ui.page_setup()`` (page config, the workspace
from the URL or the session, the shared sidebar), so a page works however Streamlit starts it."""

from __future__ import annotations

import logging
import os
import uuid

import streamlit as st

log = logging.getLogger("cjm")

#: (file and URL path, title, Material icon); the first is the default page
PAGES = [
    ("overview", "Overview", "home"),
    ("journey_map", "Journey map", "map"),
    ("funnel", "Funnel", "filter_alt"),
    ("channels", "Channels", "alt_route"),
    ("touchpoints", "Touchpoints", "star"),
    ("post_purchase", "Post-purchase", "support_agent"),
    ("benchmarks", "Benchmarks", "target"),
    ("data", "Data", "upload_file"),
    ("share", "Share", "share"),
]

# presentation mode (?present=1) shows the page alone, without the navigation
position = "hidden" if st.query_params.get("present") == "1" else "sidebar"
pages = [st.Page(f"app_pages/{name}.py", title=title, icon=f":material/{icon}:", url_path=name)
         for name, title, icon in PAGES]


def home() -> None:
    """The address without a path opens the first page at its own path (``/overview``), with
    the link's parameters, so every page, the first included, has one address."""
    st.switch_page(pages[0], query_params=st.query_params.to_dict())


page = st.navigation([st.Page(home, title="Home", url_path="home", default=True,
                              visibility="hidden"), *pages], position=position)
try:
    page.run()
except Exception:  # the one place an unexpected error becomes a message (st.stop passes)
    if os.environ.get("CJM_RAISE_ERRORS") == "1":  # the test suite wants to see the error
        raise
    error_id = uuid.uuid4().hex[:8]
    log.exception("unexpected error %s on page %r", error_id, page.title)
    st.error(f"Something went wrong on this page. Reload it; if it happens again, give whoever "
             f"hosts the app this error id: {error_id}.")
