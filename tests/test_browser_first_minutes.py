"""A manager's first minutes in the real app (issue 13, Done when): every page at its own
address, a new workspace keeping its industry through a journey save, and an export nobody on
the team wrote filling the Overview without the journey being edited."""

from __future__ import annotations

import ast
import re

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.browser

WAIT = 60_000
#: the app's pages (path, title, icon), read from app.py without running it
PAGES = next(ast.literal_eval(node.value) for node in ast.parse((ROOT / "app.py").read_text()).body
             if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "PAGES")


def _ready(page) -> None:
    """The page's script has finished: the running indicator is gone."""
    page.wait_for_timeout(500)
    page.locator("[data-testid=stStatusWidget]").wait_for(state="hidden", timeout=WAIT)


def _new_workspace(page, url: str, name: str, industry: str) -> None:
    """Create a workspace from the Data page's "New workspace" form, as a user does."""
    page.goto(url + "/data", wait_until="domcontentloaded")
    page.get_by_text("New workspace").first.wait_for(timeout=WAIT)
    page.get_by_text("New workspace").first.click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Name").press("Enter")
    _ready(page)
    box = page.locator("[data-testid=stSelectbox]").filter(has_text="Industry").first
    box.click()
    page.get_by_role("option", name=re.compile(f"^{industry} ")).click()
    _ready(page)
    page.get_by_role("button", name="Create").click()
    page.get_by_text(f"Industry: ISIC {industry}").first.wait_for(timeout=WAIT)
    _ready(page)


@pytest.mark.parametrize(("path", "title"), [(name, title) for name, title, _ in PAGES])
def test_every_page_has_its_own_address(server, browser_page, path, title):
    page = browser_page
    page.goto(f"{server}/{path}?ws=sample-4742", wait_until="domcontentloaded")
    page.get_by_text("events: ").first.wait_for(timeout=WAIT)
    _ready(page)
    body = page.locator("body").inner_text()
    assert "Page not found" not in body
    assert re.search(rf"/{path}\?ws=sample-4742$", page.url), page.url
    # the navigation marks the page as the current one
    current = page.locator("[data-testid=stSidebarNav] a[aria-current=page]")
    assert current.inner_text().strip().endswith(title)


def test_the_bare_address_opens_the_overview_with_the_links_parameters(server, browser_page):
    page = browser_page
    page.goto(f"{server}/?ws=sample-4773", wait_until="domcontentloaded")
    page.wait_for_url(re.compile(r"/overview\?ws=sample-4773$"), timeout=WAIT)
    page.get_by_text("events: ").first.wait_for(timeout=WAIT)
    assert "Page not found" not in page.locator("body").inner_text()


def test_a_new_workspace_keeps_its_industry_through_a_journey_save(server, browser_page):
    page = browser_page
    _new_workspace(page, server, "Elektro Schmidt", "4773")
    page.get_by_role("button", name="Save journey").click()
    page.get_by_text("Journey saved.").first.wait_for(timeout=WAIT)
    _ready(page)
    assert page.get_by_text("Industry: ISIC 4773").first.is_visible()
    page.reload(wait_until="domcontentloaded")
    page.get_by_text("Industry: ISIC 4773").first.wait_for(timeout=WAIT)
    assert "ISIC 4742" not in page.locator("[data-testid=stSidebar]").inner_text()


def _unfamiliar_export() -> bytes:
    """A shop export shaped like none of ours: German headers, ';', the shop's own stage names;
    customer i goes 1 + i % 5 stages deep and every eighth is a walk-in who starts in store."""
    stages = ["Werbung gesehen", "Online recherchiert", "Beratung im Laden", "Kauf",
              "Reklamation"]
    lines = ["Kunde;Zeitpunkt;Phase;Kanal"]
    for i in range(120):
        start = 2 if i % 8 == 7 else 0
        for d, stage in enumerate(stages[start:start + 1 + i % 5]):
            channel = "Web" if start + d < 2 else "Laden"
            lines.append(f"K{i:03d};2025-{1 + i % 12:02d}-{1 + d + i % 7:02d} 1{d}:00;"
                         f"{stage};{channel}")
    return ("\n".join(lines) + "\n").encode()


def test_an_unfamiliar_export_fills_the_overview_without_editing_the_journey(
        server, browser_page, tmp_path):
    page = browser_page
    _new_workspace(page, server, "Hifi Studio Nord", "4742")
    export = tmp_path / "shop_export.csv"
    export.write_bytes(_unfamiliar_export())
    page.locator("input[type=file]").first.set_input_files(str(export))
    page.get_by_role("button", name="Save to workspace").click()
    page.get_by_text(re.compile(r"Saved: events")).first.wait_for(timeout=WAIT)
    _ready(page)
    sidebar = page.locator("[data-testid=stSidebar]").inner_text()
    assert "No data yet" not in sidebar and "events: " in sidebar
    # the journey follows the data: nothing to edit, no stage the journey does not name
    body = page.locator("body").inner_text()
    assert "Stages in your events that the journey does not name" not in body

    page.locator("[data-testid=stSidebarNav] a").filter(has_text="Overview").click()
    page.wait_for_url(re.compile(r"/overview\?ws="), timeout=WAIT)
    page.get_by_text("Top 3 friction points").first.wait_for(timeout=WAIT)
    _ready(page)
    body = page.locator("body").inner_text()
    assert "Hifi Studio Nord" in body
    assert "Werbung gesehen → Online recherchiert → Beratung im Laden → Kauf → " \
           "Reklamation" in body
    assert "no data yet" not in body.lower()
    # the funnel's steps are named as the shop names them, with figures
    assert "Beratung im Laden" in body and "Kauf" in body
    assert re.search(r"\d+(\.\d)?\s?%", body), "no percentage on the Overview"
