"""Before saving, the Data page shows the upload's first rows headed by the chosen roles, and
says what it is doing while it reads, checks and saves (issue 13 §1; Streamlit AppTest, the
upload widget stood in for)."""

from __future__ import annotations

import contextlib

import pytest
from streamlit.testing.v1 import AppTest

from cjm_core.ingest.preview import role_header
from cjm_core.model.journey import default_journey
from cjm_core.model.schema import TABLES
from cjm_core.storage.store import Store
from tests.conftest import ROOT, FakeUpload

#: 15 events whose headers the role suggestion reads (cust_no, when, step, kanal), one column no
#: role reads (memo); row i is customer K<i>
EVENTS = "cust_no,when,step,kanal,memo\n" + "".join(
    f"K{i},2025-01-{i + 1:02d} 10:00,{'Browse' if i % 2 else 'Buy'},web,F{i % 3}\n"
    for i in range(15))


def data_page(db_path) -> AppTest:
    with Store(db_path) as store:
        ws = store.create_workspace("Laden", default_journey("4773"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["ws"] = ws
    at.run()
    at.switch_page("app_pages/data.py")
    at.run()
    assert not at.exception, at.exception
    return at


def chosen_roles(at: AppTest, table: str = "events") -> dict[str, str]:
    """role -> column as the role selectboxes show them now."""
    prefix = "role:"
    out = {}
    for box in at.selectbox:
        if box.key and box.key.startswith(prefix) and box.key.endswith(
                tuple(f":{table}:{r.name}" for r in TABLES[table])):
            role = box.key.rsplit(":", 1)[1]
            if box.value != "— none —":
                out[role] = box.value
    return out


def preview_of(at: AppTest):
    """The preview table: the one headed "<role> (<column>)" (a dataframe's key is not exposed)."""
    return next(d for d in at.dataframe
                if len(d.value.columns) and str(d.value.columns[0]).startswith("customer id ("))


def test_the_preview_is_headed_by_the_chosen_roles(db_path, upload):
    upload.append(FakeUpload("export.csv", EVENTS.encode()))
    at = data_page(db_path)
    roles = chosen_roles(at)
    assert roles == {"customer_id": "cust_no", "timestamp": "when", "stage": "step",
                     "channel": "kanal"}
    shown = preview_of(at).value
    order = [r.name for r in TABLES["events"] if r.name in roles]
    assert list(shown.columns) == [role_header(r, roles[r]) for r in order]
    assert list(shown.columns) == ["customer id (cust_no)", "timestamp (when)", "stage (step)",
                                   "channel (kanal)"]
    assert len(shown) == 10  # the first ten of fifteen rows
    assert shown["customer id (cust_no)"].tolist() == [f"K{i}" for i in range(10)]
    text = " ".join(m.value for m in at.markdown)
    assert "the first 10 of 15 rows" in text
    assert "Not saved (no role reads them): memo" in " ".join(c.value for c in at.caption)

    # a changed role changes the preview at once
    box = next(b for b in at.selectbox if b.key and b.key.endswith(":events:channel"))
    box.set_value("memo").run()
    assert not at.exception, at.exception
    assert "channel (memo)" in preview_of(at).value.columns
    assert "channel (kanal)" not in preview_of(at).value.columns


def test_reading_says_how_many_rows(db_path, upload):
    upload.append(FakeUpload("export.csv", EVENTS.encode()))
    at = data_page(db_path)
    # labels are markdown: the file name's dot comes escaped
    assert [s.label.replace("\\", "") for s in at.status] == ["Read export.csv: 15 rows"]
    assert at.status[0].state == "complete"


@pytest.fixture
def progress(monkeypatch):
    """st.status and st.spinner record the text open around each call of save_loads and of the
    cached table check (a spinner leaves nothing in AppTest's tree, a status goes with the
    rerun after a save)."""
    import streamlit as st

    import ui
    from cjm_core.storage import workspaces

    open_now: list[str] = []
    seen: dict[str, list[list[str]]] = {"save": [], "check": []}

    def spy(real):
        @contextlib.contextmanager
        def wrapped(text, *args, **kwargs):
            with real(text, *args, **kwargs) as inner:
                open_now.append(text.replace("\\", ""))  # markdown escapes
                try:
                    yield inner
                finally:
                    open_now.pop()
        return wrapped

    def recording(name, real):
        def call(*args, **kwargs):
            seen[name].append(list(open_now))
            return real(*args, **kwargs)
        return call

    monkeypatch.setattr(st, "status", spy(st.status))
    monkeypatch.setattr(st, "spinner", spy(st.spinner))
    monkeypatch.setattr(workspaces, "save_loads", recording("save", workspaces.save_loads))
    monkeypatch.setattr(ui, "load_choice", recording("check", ui.load_choice))
    return seen


def test_checking_and_saving_run_inside_a_progress_message(db_path, upload, progress):
    upload.append(FakeUpload("export.csv", EVENTS.encode()))
    at = data_page(db_path)
    assert progress["check"], "the table was not checked"
    assert all(any(t.startswith("Checking 15 rows of export.csv as events") for t in stack)
               for stack in progress["check"]), progress["check"]

    at.button(key="save_uploads").click().run()
    assert not at.exception, at.exception
    assert progress["save"] == [["Saving 15 rows of 1 table to the workspace…"]]
    assert "Saved: events (15 rows)" in " ".join(s.value for s in at.success)


def test_an_upload_is_hashed_once_and_its_check_not_copied_on_reruns(db_path, upload,
                                                                     monkeypatch):
    import cjm_core.ingest.pipeline as pipeline
    import ui

    hashed = []
    real = pipeline.digest
    monkeypatch.setattr(pipeline, "digest", lambda data: hashed.append(len(data)) or real(data))
    upload.append(FakeUpload("export.csv", EVENTS.encode()))
    at = data_page(db_path)
    at.run()
    at.run()
    assert hashed == [len(EVENTS.encode())]  # one upload, three runs of the page: one hash
    upload.append(FakeUpload("export.csv", EVENTS.encode()))  # the same file again: a new id
    at.run()
    assert len(hashed) == 2
    # the page's cached parse and check are the same objects on every rerun (no copies)
    raws = ui.read_upload(real(EVENTS.encode()), EVENTS.encode(), "export.csv")
    assert ui.read_upload(real(EVENTS.encode()), EVENTS.encode(), "export.csv") is raws
