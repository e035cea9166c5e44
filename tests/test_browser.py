"""The real server in Chromium: upload a messy CSV, see the suggested roles and the report."""

from __future__ import annotations

import re

import pytest

from tests.conftest import FILES

pytestmark = pytest.mark.browser


def test_upload_messy_csv_shows_roles_and_report(server, browser_page):
    page = browser_page
    page.goto(server + "/data", wait_until="domcontentloaded")
    page.get_by_text("Upload exports").first.wait_for(timeout=60_000)
    page.locator("input[type=file]").first.set_input_files(
        str(FILES / "messy_german_export_bad_date_and_number.csv"))
    page.get_by_text("Suggested roles").first.wait_for(timeout=60_000)
    # the German headers were recognised: the customer id role (labelled in words, required)
    # is mapped to Kunden-Nr
    role_box = page.locator("[data-testid=stSelectbox]").filter(has_text="customer id *")
    role_box.first.wait_for(timeout=30_000)
    assert role_box.first.locator("input").input_value() == "Kunden-Nr"
    page.get_by_text(re.compile(r"rows loaded")).first.wait_for(timeout=30_000)
    page.get_by_text("Validation report").first.wait_for(timeout=30_000)
    body = page.locator("body").inner_text()
    assert "Partial load" in body
    assert "bad-date × 1" in body and "bad-number × 1" in body
    assert "5 of 6 rows loaded, 1 rejected, 1 bad cell left empty" in body
