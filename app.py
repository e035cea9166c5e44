"""Entry point: navigation. Each page starts with ``ui.page_setup()`` (page config, the workspace
from the URL or the session, the shared sidebar), so a page works however Streamlit starts it."""

from __future__ import annotations

import streamlit as st

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
st.navigation([
    st.Page(f"app_pages/{name}.py", title=title, icon=f":material/{icon}:", url_path=name,
            default=i == 0)
    for i, (name, title, icon) in enumerate(PAGES)
], position=position).run()
