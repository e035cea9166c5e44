"""Screenshots of every page for review (`make screenshots`): the real app on a fresh database with
the sample workspaces, driven by Playwright in Debian's Chromium, each page at 1600×1000 and the
map's presentation mode at 1920×1080 and 1280×720. The folder is not committed (.gitignore).

    python -m scripts.screenshots [--out screenshots] [--ws sample-4742]
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
PAGE_SIZE = {"width": 1600, "height": 1000}
PROJECTORS = [{"width": 1920, "height": 1080}, {"width": 1280, "height": 720}]


def page_names() -> list[str]:
    """The app's page paths, read from app.py's ``PAGES`` without running it."""
    for node in ast.parse((ROOT / "app.py").read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "PAGES":
            return [name for name, _, _ in ast.literal_eval(node.value)]
    raise SystemExit("app.py has no PAGES list")


@contextmanager
def app_server(db: Path):
    """``streamlit run app.py`` on a free port and the database ``db``; yields the URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(db.parent / "streamlit.log", "w+")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port",
         str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=dict(os.environ, CJM_DB=str(db)), stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None:
                    log.seek(0)
                    raise SystemExit("the app did not start:\n" + log.read()[-2000:]) from None
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def settle(page, quiet_s: float = 2.0, timeout_s: float = 180.0) -> None:
    """Wait until the page shows something and its script has been idle (no running indicator)
    for ``quiet_s`` seconds, so the charts have drawn."""
    page.locator("[data-testid=stMain] [data-testid=stElementContainer]").first.wait_for(
        timeout=timeout_s * 1000)
    status = page.locator("[data-testid=stStatusWidget]")
    deadline, quiet_since = time.monotonic() + timeout_s, time.monotonic()
    while time.monotonic() < deadline:
        if status.count() and status.first.is_visible():
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_s and charts_drawn(page):
            return
        page.wait_for_timeout(200)


def charts_drawn(page) -> bool:
    """Every Vega-Lite chart on the page has drawn its SVG or canvas."""
    return page.evaluate("""() => [...document.querySelectorAll(
        '[data-testid="stVegaLiteChart"], [data-testid="stArrowVegaLiteChart"]')]
        .every(c => { const g = c.querySelector('svg, canvas');
                      return g && g.getBoundingClientRect().height > 0; })""")


def content_height(page) -> int:
    """The page's whole height: Streamlit scrolls its main area, not the document, so a
    full-page screenshot would stop at the window's edge."""
    height = page.evaluate("""() => {
        const main = document.querySelector('[data-testid="stMain"]');
        return Math.max(main ? main.scrollHeight : 0, document.documentElement.scrollHeight);
    }""")
    return min(max(int(height), PAGE_SIZE["height"]), 12_000)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "screenshots"))
    parser.add_argument("--ws", default="sample-4742", help="workspace to show")
    parser.add_argument("--pages", help="comma-separated page paths (default: every page)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    exe = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if exe is None:
        raise SystemExit("Chromium is missing: apt-get install -y chromium")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, app_server(Path(tmp) / "ws.duckdb") as url, \
            sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        page = browser.new_page(viewport=PAGE_SIZE)
        names = page_names()
        chosen = args.pages.split(",") if args.pages else names
        for i, name in ((names.index(n) + 1, n) for n in chosen if n in names):
            page.goto(f"{url}/{name}?ws={args.ws}", wait_until="domcontentloaded")
            settle(page)
            path = out / f"{i:02d}_{name}.png"
            page.screenshot(path=str(path))  # the first screen, as a user sees it
            print(path)
            whole = out / f"{i:02d}_{name}_whole.png"
            page.set_viewport_size({"width": PAGE_SIZE["width"], "height": content_height(page)})
            settle(page)
            page.screenshot(path=str(whole))
            page.set_viewport_size(PAGE_SIZE)
            print(whole)
        for size in PROJECTORS:
            wall = browser.new_page(viewport=size)
            wall.goto(f"{url}/journey_map?ws={args.ws}&present=1", wait_until="domcontentloaded")
            settle(wall)
            path = out / f"present_{size['width']}x{size['height']}.png"
            wall.screenshot(path=str(path))  # the screen as the room sees it, no scrolling
            print(path)
            wall.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
