"""Presentation mode in the real app at projector size: full width, no sidebar, nothing overflows
the viewport horizontally, and the stage arrows step through the stages."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_presentation_mode_fits_a_1920_projector(server, browser_page, tmp_path):
    page = browser_page
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(server + "/journey_map?present=1", wait_until="domcontentloaded")
    chart = page.locator(".vega-embed").first
    chart.wait_for(timeout=90_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(tmp_path / "present.png"))
    assert not page.locator("[data-testid=stSidebar]").is_visible()
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth,"
        " Math.max(...[...document.querySelectorAll('.vega-embed')]"
        ".map(e => e.getBoundingClientRect().right))]")
    scroll_width, inner_width, chart_right = widths
    assert scroll_width <= inner_width, widths
    assert chart_right <= inner_width, widths
    box = chart.bounding_box()
    assert box["width"] > 1920 * 0.8, box  # full width
    page.get_by_role("button", name="▶").click()
    page.wait_for_function("() => location.search.includes('stage=1')", timeout=30_000)
