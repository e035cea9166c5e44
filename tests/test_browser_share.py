"""Sharing and hostile text in the real app (Chromium): a view link in a second browser context
shows the same page and filters without edit controls, an edit link can save, a revoked link shows
the revoked page; markup in a file name or column name is shown as text and runs nothing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.conftest import chromium_path

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), headless=True,
                               args=["--no-sandbox", "--disable-gpu",
                                     "--disable-background-networking", "--no-first-run"])
        yield b
        b.close()


def new_page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    return page, dialogs


def idle(page) -> None:
    """Wait until the app is not running a script (clicks during a rerun can be dropped)."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=60_000)


def create_link(page, role_label: str, previous: str = "") -> str:
    idle(page)
    page.get_by_text(role_label).first.click()
    page.get_by_role("button", name="Create link").click()
    code = page.locator("[data-testid=stCode]").first
    code.wait_for(timeout=60_000)
    # the new link replaces the one shown before once the rerun lands
    page.wait_for_function(
        "prev => { const c = document.querySelector('[data-testid=stCode]');"
        " return c && c.innerText.includes('?ws=') && (!prev || !c.innerText.includes(prev)); }",
        arg=previous, timeout=60_000)
    return re.search(r"\?ws=([A-Za-z0-9_\-]+)", code.inner_text()).group(1)


def test_view_and_edit_links_then_revoke(server, browser):
    owner, _ = new_page(browser)
    owner.goto(server + "/share", wait_until="domcontentloaded")
    owner.get_by_text("Create link").first.wait_for(timeout=90_000)
    view_token = create_link(owner, "view only")
    owner.wait_for_timeout(500)
    edit_token = create_link(owner, "can edit", previous=view_token)
    assert view_token != edit_token

    viewer, _ = new_page(browser)
    viewer.goto(f"{server}/benchmarks?ws={view_token}&channel=web", wait_until="domcontentloaded")
    viewer.get_by_text("Gaps").first.wait_for(timeout=90_000)
    body = viewer.locator("body").inner_text()
    assert "Shared with you: view only" in body
    assert "Save targets" not in body
    # the sidebar's filter chips come with the page's last render: wait for them, not a guess
    viewer.locator("[data-testid=stSidebar] [data-tag]").first.wait_for(timeout=30_000)
    chips = viewer.locator("[data-testid=stSidebar] [data-tag]").all_inner_texts()
    assert any("web" in c for c in chips)  # the sender's filter came with the link
    viewer.goto(f"{server}/journey_map?ws={view_token}", wait_until="domcontentloaded")
    viewer.get_by_text("Journey map").first.wait_for(timeout=90_000)
    viewer.wait_for_timeout(1500)
    assert viewer.get_by_role("button", name="Save as a new version").count() == 0

    editor, _ = new_page(browser)
    editor.goto(f"{server}/journey_map?ws={edit_token}", wait_until="domcontentloaded")
    editor.get_by_role("button", name="Save as a new version").wait_for(timeout=90_000)
    editor.get_by_role("button", name="Save as a new version").click()
    editor.get_by_text("Version 1 · last updated").first.wait_for(timeout=60_000)

    owner.goto(server + "/share", wait_until="domcontentloaded")
    owner.get_by_text("Active links").first.wait_for(timeout=60_000)
    owner.get_by_role("button", name="Revoke").first.wait_for(timeout=60_000)
    for _ in range(20):  # one revoke per rerun; a click that lands mid-rerun is clicked again
        n = owner.get_by_role("button", name="Revoke").count()
        if n == 0:
            break
        idle(owner)
        owner.get_by_role("button", name="Revoke").first.click()
        try:
            owner.wait_for_function(
                "n => [...document.querySelectorAll('button')]"
                ".filter(b => b.innerText.trim() === 'Revoke').length < n", arg=n,
                timeout=10_000)
        except PlaywrightTimeout:
            continue
    owner.get_by_text("No active links").first.wait_for(timeout=60_000)

    viewer.goto(f"{server}/?ws={view_token}", wait_until="domcontentloaded")
    viewer.get_by_text("This link no longer works").first.wait_for(timeout=60_000)


def test_markup_in_names_is_shown_as_text(server, browser, tmp_path):
    page, dialogs = new_page(browser)
    page.goto(server + "/data", wait_until="domcontentloaded")
    page.get_by_text("Upload exports").first.wait_for(timeout=90_000)
    hostile = tmp_path / f"{XSS}.csv"
    hostile.write_text(f"customer,timestamp,stage,{XSS}\n"
                       f"a,2025-01-01 10:00,Discovery,{XSS}\n")
    page.locator("input[type=file]").first.set_input_files(str(hostile))
    page.get_by_text("Suggested roles").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    assert XSS in page.locator("body").inner_text()  # shown as text
    assert page.locator("img[src=x]").count() == 0  # never parsed as markup
    assert dialogs == []


def test_the_link_shown_is_whole_and_opens_the_workspace_in_a_new_browser(server, browser):
    owner, _ = new_page(browser)
    owner.goto(server + "/share", wait_until="domcontentloaded")
    owner.get_by_text("Create link").first.wait_for(timeout=90_000)
    token = create_link(owner, "view only")
    shown = owner.locator("[data-testid=stCode]").first.inner_text().strip()
    assert shown == f"{server}/?ws={token}"  # the app's own address, not a fragment
    assert owner.locator("[data-testid=stImage] img").count() >= 1  # the QR code
    viewer, _ = new_page(browser)  # a new context: no session, no cookie of the owner's
    viewer.goto(shown, wait_until="domcontentloaded")
    viewer.get_by_text("Shared with you: view only").first.wait_for(timeout=90_000)
