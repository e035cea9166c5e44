"""Markdown and HTML in user and URL text never become live links or images (issue 11 §3): a
workspace whose name, stages and events carry payloads is opened on every page of the real
server in Chromium, and the rendered DOM holds no link or image from them."""

from __future__ import annotations

import urllib.parse
from datetime import datetime, timedelta

import polars as pl
import pytest

from tests.conftest import running_server

pytestmark = pytest.mark.browser

LINK = "[Session expired: click here](http://evil.example/login)"
IMAGE = "![x](http://127.0.0.1:9/track.png)"
HTML = '<img src="http://127.0.0.1:9/html.png">'
PAGES = ["overview", "journey_map", "funnel", "channels", "touchpoints", "post_purchase",
         "benchmarks", "data", "share"]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A server whose one workspace is named, staged and filled with payloads."""
    from cjm_core.model.journey import journey_from_rows
    from cjm_core.storage.store import Store

    db = tmp_path_factory.mktemp("hostile") / "ws.duckdb"
    stages = [LINK, IMAGE, HTML]
    t0 = datetime(2025, 1, 6, 10)
    rows = [(f"c{i}", t0 + timedelta(hours=i + j), stages[j], "web" if j else LINK)
            for i in range(6) for j in range(3 - i % 2)]
    events = pl.DataFrame(rows, schema=["customer_id", "timestamp", "stage", "channel"],
                          orient="row")
    with Store(db) as store:
        ws = store.create_workspace(LINK + " " + IMAGE, journey_from_rows(
            "4742", stages, {"purchase": stages[2]}))
        store.save_table(ws, "events", events)
    with running_server(db, tmp_path_factory.mktemp("log")) as url:
        yield url, ws


def _no_payload_elements(page) -> None:
    """No link or image leaves the app's own host for the payloads' hosts (GitHub-flavoured
    markdown also links a bare http://… by itself, so every address counts, however it came
    out; the app's own links may carry the workspace id, which is made from its name)."""
    foreign = page.evaluate("""() => [...document.querySelectorAll('a[href], img[src]')]
        .map(e => new URL(e.getAttribute('href') || e.getAttribute('src'), location.href))
        .filter(u => u.host !== location.host).map(u => u.href)""")
    assert not [u for u in foreign if "evil" in u or "127.0.0.1:9" in u], foreign


@pytest.mark.parametrize("name", PAGES)
def test_no_page_turns_user_text_into_links_or_images(hostile, browser_page, name):
    url, ws = hostile
    page = browser_page
    page.goto(f"{url}/{name}?ws={ws}", wait_until="domcontentloaded")
    page.locator("[data-testid=stSidebar]").first.wait_for(timeout=60_000)
    page.wait_for_timeout(2500)  # let the page finish its run
    _no_payload_elements(page)
    body = page.locator("body").inner_text()
    assert "Traceback" not in body
    if name in ("overview", "data"):  # the workspace name is shown there, as text
        assert "Session expired: click here" in body


def test_a_markdown_workspace_parameter_is_shown_as_text(hostile, browser_page):
    url, _ws = hostile
    page = browser_page
    bad = urllib.parse.quote(LINK + IMAGE)
    page.goto(f"{url}/overview?ws={bad}", wait_until="domcontentloaded")
    page.get_by_text("There is no workspace").first.wait_for(timeout=60_000)
    _no_payload_elements(page)
    warning = page.get_by_text("There is no workspace").first.inner_text().replace("\u2060", "")
    assert "(http://evil.example/login)![x](http://127.0.0.1:9/track.png)" in warning
