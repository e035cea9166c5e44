"""Every page runs on the sample workspace without an exception (Streamlit AppTest)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

PAGES = [
    "app_pages/overview.py", "app_pages/journey_map.py", "app_pages/funnel.py",
    "app_pages/channels.py", "app_pages/touchpoints.py", "app_pages/post_purchase.py",
    "app_pages/benchmarks.py", "app_pages/data.py", "app_pages/share.py",
]


@pytest.fixture
def app(db_path):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def test_first_open_loads_the_sample_workspace(app):
    assert app.session_state["workspace_id"] == "sample-4742"
    sidebar_text = " ".join(t.value for t in app.sidebar.text)
    assert "events:" in sidebar_text and "feedback:" in sidebar_text


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(app, page):
    app.switch_page(page)
    app.run()
    assert not app.exception, app.exception
    assert app.title, f"{page} shows no title"


def test_switcher_offers_the_other_industries(app):
    switcher = app.sidebar.selectbox(key="workspace_switcher")
    labels = " ".join(switcher.options)
    assert "ISIC 4773" in labels and "ISIC 4741" in labels
    switcher.set_value("sample-4773").run()
    assert not app.exception, app.exception
    assert app.session_state["workspace_id"] == "sample-4773"
    assert app.query_params["ws"] == ["sample-4773"] or app.query_params["ws"] == "sample-4773"


def test_every_navigation_page_is_tested():
    import ast

    tree = ast.parse((ROOT / "app.py").read_text())
    listed = next(n for n in tree.body if isinstance(n, ast.Assign)
                  and getattr(n.targets[0], "id", "") == "PAGES")
    names = [e.elts[0].value for e in listed.value.elts]
    assert sorted(f"app_pages/{n}.py" for n in names) == sorted(PAGES)
