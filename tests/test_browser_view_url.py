"""A share link reproduces the funnel view in the real app (Chromium, DESIGN §8): opened in a fresh
browser, a Funnel address with mode, window and steps shows those controls and the core's figures
for that funnel, and changing a control rewrites the address bar."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest

from cjm_core.analytics.funnel import FunnelQuery, funnel
from cjm_core.storage.store import Store
from cjm_core.storage.workspaces import ensure_sample_workspace, load_dataset

pytestmark = pytest.mark.browser

STEPS = ["Discovery", "Online research", "Purchase"]


def metrics(page) -> dict[str, str]:
    out = {}
    for m in page.locator("[data-testid=stMetric]").all():
        label = m.locator("[data-testid=stMetricLabel]").inner_text().strip()
        out[label] = m.locator("[data-testid=stMetricValue]").inner_text().strip()
    return out


def test_a_funnel_link_reproduces_the_strict_seven_day_funnel(server, browser_page, tmp_path):
    store = Store(tmp_path / "core.duckdb")
    try:
        data = load_dataset(store, ensure_sample_workspace(store))
    finally:
        store.close()
    res = funnel(data.events, FunnelQuery(steps=STEPS, mode="strict", window=timedelta(days=7)),
                 data.journey)
    first, last, _low = res.totals()

    page = browser_page
    page.goto(server + "/", wait_until="domcontentloaded")  # a session runs the entry point
    page.get_by_text("Overview").first.wait_for(timeout=90_000)
    query = urlencode({"funnel_mode": "strict", "funnel_window": "7",
                       "funnel_steps": ",".join(STEPS)})
    page.goto(f"{server}/funnel?{query}", wait_until="domcontentloaded")
    page.get_by_text("Entered at the first step").first.wait_for(timeout=90_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=60_000)

    window = page.get_by_label("Conversion window", exact=True)
    assert window.input_value() == "7"
    assert page.get_by_role("combobox", name="Order", exact=True).input_value() == "strict"
    chosen = page.locator("[data-testid=stMultiSelect]").filter(
        has_text="Steps, in order").locator("[data-tag]").all_inner_texts()
    assert [c.strip() for c in chosen] == STEPS, chosen
    shown = metrics(page)
    assert shown["Entered at the first step"] == f"{first:,}"
    assert shown["Converted (all steps)"] == f"{last:,}"
    assert shown["Entered mid-journey"] == f"{res.entered_mid_journey:,}"
    # the page keeps the view in the address bar, so the link can be passed on again
    assert "funnel_mode=strict" in page.url and "funnel_window=7" in page.url

    # changing a control rewrites the address
    window.fill("14")
    window.press("Enter")
    page.wait_for_function("() => location.search.includes('funnel_window=14')",
                           timeout=60_000)
    assert "funnel_mode=strict" in page.url
