"""The reverse-proxy example's security headers (issue 11 §3): the real app, served in Chromium
under exactly the Content-Security-Policy of deploy/nginx.conf, renders its pages and charts
with no policy violation."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.browser

CONF = (ROOT / "deploy" / "nginx.conf").read_text()


def _header(name: str) -> str:
    m = re.search(rf'add_header {name} "([^"]+)" always;', CONF)
    assert m, f"deploy/nginx.conf sets no {name}"
    return m.group(1)


def test_the_example_proxy_sets_frame_and_content_policies():
    assert _header("X-Frame-Options") == "DENY"
    csp = _header("Content-Security-Policy")
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "default-src 'self'" in csp


@pytest.mark.parametrize("page_name", ["overview", "funnel", "channels", "touchpoints",
                                       "journey_map"])
def test_pages_render_under_the_proxys_content_security_policy(server, browser_page, page_name):
    csp = _header("Content-Security-Policy")
    page = browser_page
    violations = []
    # Streamlit fetches a page's Material tab icon from Google's font CDN: the policy blocks
    # it on purpose (no request to a third party; the tab shows no icon), so it is not counted
    page.on("console", lambda msg: violations.append(msg.text)
            if "Content Security Policy" in msg.text and "fonts.gstatic.com" not in msg.text
            else None)

    def with_policy(route):
        response = route.fetch()
        headers = {**response.headers, "content-security-policy": csp}
        route.fulfill(response=response, headers=headers)

    page.route("**/*", with_policy)
    page.goto(f"{server}/{page_name}", wait_until="domcontentloaded")
    page.locator("[data-testid=stSidebar]").first.wait_for(timeout=60_000)
    if page_name == "overview":  # tiles with their sparklines, then the charts
        page.locator("[data-testid=stMetric]").first.wait_for(timeout=60_000)
    # a chart has drawn (Vega-Lite renders SVG or canvas; Plotly its own SVG)
    page.locator("[data-testid=stVegaLiteChart] canvas, [data-testid=stVegaLiteChart] svg, "
                 ".js-plotly-plot svg").first.wait_for(timeout=60_000)
    # requests still in flight must not be answered after the page is gone
    page.unroute_all(behavior="ignoreErrors")
    assert violations == []
