"""The real server in Chromium against a forged workbook (issue 11 §1): an upload whose sheet
declares 900 kB but inflates to 1.2 GB is refused with a message, no traceback, and the
server's memory stays under 1 GB."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import zip_bombs as zb
from tests.conftest import SERVER_PIDS

pytestmark = pytest.mark.browser


def _peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM line")


def test_a_forged_bomb_upload_is_refused_and_the_server_stays_small(server, browser_page,
                                                                    tmp_path):
    bomb = tmp_path / "Umsatz_2025.xlsx"
    bomb.write_bytes(zb.xlsx(zb.bomb_sheet(1200), declare_sheet=900_000))
    page = browser_page
    page.goto(server + "/data", wait_until="domcontentloaded")
    page.get_by_text("Upload exports").first.wait_for(timeout=60_000)
    page.locator("input[type=file]").first.set_input_files(str(bomb))
    page.get_by_text("refused as a forged file").first.wait_for(timeout=60_000)
    body = page.locator("body").inner_text()
    assert "Traceback" not in body and "Umsatz_2025.xlsx" in body
    assert _peak_rss_mb(SERVER_PIDS[server]) < 1024


def test_rejected_rows_download_is_neutralised_with_one_extension(server, browser_page,
                                                                  tmp_path):
    upload = tmp_path / "events_f.csv"
    upload.write_text("customer,time,stage\n"
                      "a,2025-01-01 10:00,Discovery\n"
                      '=HYPERLINK("http://evil.example/x","click"),,Purchase\n'
                      "b,2025-01-02 11:00,Purchase\n")
    page = browser_page
    page.goto(server + "/data", wait_until="domcontentloaded")
    page.get_by_text("Upload exports").first.wait_for(timeout=60_000)
    page.locator("input[type=file]").first.set_input_files(str(upload))
    button = page.get_by_role("button", name="Download rejected rows (CSV)")
    button.first.wait_for(timeout=60_000)
    with page.expect_download(timeout=30_000) as info:
        button.first.click()
    download = info.value
    assert download.suggested_filename == "rejected_events_f.csv"
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text
    # tables show no built-in "Download as CSV" (it would write the cell raw)
    page.locator("[data-testid=stDataFrame]").first.hover()
    assert page.get_by_role("button", name="Download as CSV").count() == 0


def test_viewers_see_no_deploy_button_or_emoji_boxes(server, browser_page):
    page = browser_page
    page.goto(server + "/benchmarks", wait_until="domcontentloaded")
    page.get_by_text("Gaps").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    assert page.get_by_role("button", name="Deploy").count() == 0
    body = page.locator("body").inner_text()
    assert not any(mark in body for mark in "✅❌🟡⚪")
