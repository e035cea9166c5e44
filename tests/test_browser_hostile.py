"""The real server in Chromium against a forged workbook (issue 11 §1): an upload whose sheet
declares 900 kB but inflates to 1.2 GB is refused with a message, no traceback, and the
server's memory stays under 1 GB."""

from __future__ import annotations

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
