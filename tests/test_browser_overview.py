"""The Overview read in the real app (Chromium, issue 13 §3): at 1600×1000 the sample workspace
opens on pictures — headline tiles with their change and line, the funnel at a glance, the
targets as bullet rows and three friction cards — and a card's link opens its page with the
point chosen and the workspace and filters kept in the address."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from cjm_core.analytics.overview_tiles import headline_tiles
from cjm_core.analytics.scorecard import overview
from cjm_core.model.filters import Filters
from cjm_core.storage.store import Store
from cjm_core.storage.workspaces import ensure_sample_workspace, load_dataset, workspace_targets

pytestmark = pytest.mark.browser
WAIT = 90_000
SHOT = "/tmp/shots/overview.png"


def _settled(page) -> None:
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=WAIT)


@pytest.fixture(scope="module")
def expected(tmp_path_factory):
    """The core's own tiles and friction points for the sample workspace."""
    store = Store(tmp_path_factory.mktemp("core") / "core.duckdb")
    try:
        ws = ensure_sample_workspace(store)
        data = load_dataset(store, ws)
        targets = workspace_targets(store, ws)
        _card, points = overview(data, targets)
        _card, web = overview(Filters.from_query({"channel": "web"}).apply(data), targets)
        return headline_tiles(data), points, web
    finally:
        store.close()


def _open_overview(page, server: str, query: str = "") -> None:
    page.set_viewport_size({"width": 1600, "height": 1000})
    page.goto(f"{server}/overview?ws=sample-4742{query}", wait_until="domcontentloaded")
    page.get_by_text("Top 3 friction points").first.wait_for(timeout=WAIT)
    # both charts drawn (Vega renders an SVG or a canvas in each)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=stVegaLiteChart]')]"
        ".filter(c => c.querySelector('svg, canvas')).length >= 2", timeout=WAIT)
    _settled(page)


def test_the_overview_leads_with_pictures_and_a_card_opens_its_page(server, browser_page,
                                                                     expected):
    tiles, points, _web = expected
    page = browser_page
    _open_overview(page, server)

    shown = page.locator("[data-testid=stMetric]")
    assert shown.count() == len(tiles.tiles) == 6
    for i, t in enumerate(tiles.tiles):
        tile = shown.nth(i)
        assert tile.locator("[data-testid=stMetricLabel]").inner_text().strip() == t.label
        assert tile.locator("[data-testid=stMetricValue]").inner_text().strip() == t.value_text
        delta = tile.locator("[data-testid=stMetricDelta]")
        assert delta.is_visible() and t.delta_text in delta.inner_text(), t.label
        assert tile.locator("svg, canvas").count() >= 1, f"{t.label}: no line"
        assert tile.is_visible() and tile.bounding_box()["y"] < 400  # the top of the page

    charts = page.locator("[data-testid=stVegaLiteChart]")
    assert charts.count() == 2
    for i in range(2):
        assert charts.nth(i).is_visible() and charts.nth(i).bounding_box()["height"] > 150
    # the chart builders' descriptions reach the page: the funnel and the bullet rows
    body = page.locator("body").inner_text()
    assert "Funnel" in body and "Against the industry's targets" in body

    links = page.locator("[data-testid=stPageLink]").filter(has_text="Open in")
    assert links.count() == 3 == len(points)
    for i, point in enumerate(points):
        assert links.nth(i).is_visible()
        # the card holding the i-th link names the i-th friction point
        card = page.locator("[data-testid=stVerticalBlock]").filter(
            has=links.nth(i)).filter(has_text=f"{i + 1}. {point.name}")
        assert card.count() >= 1, point.name
    page.screenshot(path=SHOT, full_page=False)
    page.screenshot(path=SHOT.replace(".png", "_full.png"), full_page=True)

    # the first card is a funnel step: its link opens the Funnel up to the step it names
    first = points[0]
    assert first.kind == "step"
    links.nth(0).click()
    page.wait_for_url(re.compile(r"/funnel\?"), timeout=WAIT)
    page.get_by_text("Entered at the first step").first.wait_for(timeout=WAIT)
    _settled(page)
    query = parse_qs(urlparse(page.url).query)
    assert query["ws"] == ["sample-4742"]
    steps = query["funnel_steps"][0].split(",")
    assert steps[-2:] == [first.evidence["from_step"], first.evidence["to_step"]]
    chosen = page.locator("[data-testid=stMultiSelect]").filter(
        has_text="Steps, in order").locator("[data-tag]").all_inner_texts()
    assert [c.strip() for c in chosen] == steps


def test_a_touchpoint_card_keeps_the_filter_and_opens_touchpoints(server, browser_page,
                                                                  expected):
    _tiles, _points, web = expected
    page = browser_page
    _open_overview(page, server, "&channel=web")
    # the cards of the filtered data: the core's friction points under channel = web
    cards = page.locator("[data-testid=stPageLink]").filter(has_text="Open in")
    cards.nth(len(web) - 1).wait_for(timeout=WAIT)
    assert cards.count() == len(web)
    link = cards.filter(has=page.locator("a[href*='touchpoints']")).locator("a[href]")
    assert cards.filter(has=page.locator("a[href*='touchpoints']")).count() == sum(
        p.kind == "touchpoint" for p in web) >= 1
    href = parse_qs(urlparse(link.first.get_attribute("href")).query)
    assert href["channel"] == ["web"]
    link.first.click()
    page.wait_for_url(re.compile(r"/touchpoints\?"), timeout=WAIT)
    page.get_by_text("One touchpoint").first.wait_for(timeout=WAIT)
    _settled(page)
    query = parse_qs(urlparse(page.url).query)
    assert query["channel"] == ["web"] and query["ws"] == ["sample-4742"]
    # the card's touchpoint is the one chosen on the page (Touchpoints leaves it out of the
    # address when it is the page's own default, the worst), the filter still set
    name = href["tp_touchpoint"][0]
    assert query.get("tp_touchpoint", [name]) == [name]
    assert page.get_by_text(f"Worst comments at {name}").first.is_visible()
    sidebar = page.locator("[data-testid=stSidebar]").inner_text()
    assert "web" in sidebar
