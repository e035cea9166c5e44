"""Shared fixtures: an isolated workspace database per test, and the real Streamlit server."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# a page's unexpected exception reaches the tests (app.py otherwise shows a message with an id),
# with its message (the shipped config redacts it: client.showErrorDetails = "none")
os.environ.setdefault("CJM_RAISE_ERRORS", "1")
os.environ.setdefault("STREAMLIT_CLIENT_SHOW_ERROR_DETAILS", "full")

ROOT = Path(__file__).resolve().parent.parent
FILES = Path(__file__).resolve().parent / "files"
CHROMIUM = "/usr/bin/chromium"
#: the process id of each running `server` fixture, by its URL (for memory checks)
SERVER_PIDS: dict[str, int] = {}


@pytest.fixture
def db_path(tmp_path, monkeypatch) -> Path:
    """A fresh DuckDB file for the test, also handed to the app through CJM_DB."""
    path = tmp_path / "ws.duckdb"
    monkeypatch.setenv("CJM_DB", str(path))
    return path


@pytest.fixture
def store(tmp_path):
    """A workspace store on a fresh DuckDB file, closed after the test."""
    from cjm_core.storage.store import Store

    s = Store(tmp_path / "ws.duckdb")
    yield s
    s.close()


@pytest.fixture
def ws(store) -> str:
    """A 4742 (audio-video) workspace in that store."""
    from cjm_core.model.journey import default_journey

    return store.create_workspace("Hi-Fi Müller", default_journey("4742"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium_path() -> str | None:
    """Debian's Chromium; under `make test` (CJM_REQUIRE_BROWSER=1) its absence is a failure."""
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if path is None:
        if os.environ.get("CJM_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required for browser tests (apt-get install -y chromium)")
        pytest.skip("Chromium is not installed; `make test` installs it and runs these tests")
    return path


@contextlib.contextmanager
def running_server(db: Path, log_dir: Path):
    """The real app: `streamlit run app.py` on a free port with the database ``db``; yields its
    URL and records its pid in :data:`SERVER_PIDS`."""
    port = _free_port()
    env = dict(os.environ, CJM_DB=str(db))
    log = open(log_dir / "streamlit.log", "w+")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
         "--server.port", str(port), "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
        if proc.poll() is not None:
            break
    else:
        proc.kill()
    if proc.poll() is not None:
        log.seek(0)
        pytest.fail("streamlit did not start:\n" + log.read()[-3000:])
    SERVER_PIDS[url] = proc.pid
    try:
        yield url
    finally:
        SERVER_PIDS.pop(url, None)
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The real app on its own fresh database."""
    db = tmp_path_factory.mktemp("server") / "ws.duckdb"
    with running_server(db, tmp_path_factory.mktemp("log")) as url:
        yield url


@pytest.fixture
def browser_page():
    """A Chromium page through Playwright (sync API), closed after the test."""
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=exe, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  # a page answered through page.route (the CSP test) counts as public,
                  # and Chromium would then block its websocket to the local server
                  "--disable-features=LocalNetworkAccessChecks"],
        )
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        yield page
        context.close()
        browser.close()


def pytest_configure(config):
    """AppTest runs read the shipped config, which redacts error messages; the tests want them
    (a `streamlit run` server gets the same from STREAMLIT_CLIENT_SHOW_ERROR_DETAILS)."""
    from streamlit import config as st_config

    st_config.get_config_options()
    st_config.set_option("client.showErrorDetails", "full")


def pytest_sessionfinish(session, exitstatus):
    """Close the databases the app layer kept open, so the interpreter's shutdown does not print
    nanobind reference-leak noise after pytest's summary line."""
    import gc

    from cjm_core.storage.store import Store

    for store in list(Store._shared.values()):
        store.close()
    Store._shared.clear()
    gc.collect()


# -- page tests (Streamlit AppTest) --------------------------------------------------------------


def open_page(page: str, ws: str | None = None, **params: str):
    """The real app opened on ``app_pages/<page>.py``, on workspace ``ws`` and with ``params``
    in its URL, as a shared link opens it; fails on any exception of either run."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    if ws:
        at.query_params["ws"] = ws
    at.query_params.update(params)
    at.run()
    assert not at.exception, at.exception
    at.switch_page(f"app_pages/{page}.py")
    at.run()
    assert not at.exception, at.exception
    return at


def tiles(at) -> dict[str, str]:
    """The page's metric tiles, label -> value as shown."""
    return {m.label: m.value for m in at.metric}


@dataclass
class FakeUpload:
    """What the Data page reads from ``st.file_uploader``: a name and the bytes."""

    name: str
    data: bytes
    #: a new id for every upload, as Streamlit gives (the page hashes a file once per id)
    file_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def getvalue(self) -> bytes:
        return self.data


@pytest.fixture
def upload(monkeypatch) -> list[FakeUpload]:
    """The Data page's uploader hands over the files appended to this list (AppTest cannot
    upload); every other uploader stays real."""
    import streamlit as st

    files: list[FakeUpload] = []
    real = st.file_uploader

    def fake(label, *args, **kwargs):
        if kwargs.get("key") == "uploads":
            return list(files)
        return real(label, *args, **kwargs)

    monkeypatch.setattr(st, "file_uploader", fake)
    return files
