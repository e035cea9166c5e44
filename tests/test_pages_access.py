"""The app's own gate when hosting: a password from the environment, compared in constant time
and slowed down after failures; a share link gets in without it."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

import ui
from cjm_core.storage.access import GLOBAL_KEY, Throttle
from tests.conftest import ROOT


@pytest.fixture
def gated(db_path, monkeypatch):
    monkeypatch.setenv("CJM_PASSWORD", "correct horse")
    monkeypatch.setattr(ui._THROTTLE, "_sleep", lambda s: None)  # no real waiting in tests
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_password_is_asked_and_a_wrong_one_refused(gated):
    assert gated.text_input(key="app_password")
    assert "workspace_id" not in gated.session_state
    gated.text_input(key="app_password").input("wrong")
    gated.button(key="app_enter").click().run()
    assert [e.value for e in gated.error] == ["That password is not right."]
    assert ui._THROTTLE.failures(GLOBAL_KEY) >= 1
    gated.text_input(key="app_password").input("correct horse")
    gated.button(key="app_enter").click().run()
    assert not gated.exception, gated.exception
    assert gated.session_state["workspace_id"] == "sample-4742"


def test_a_share_link_needs_no_password(gated):
    store = ui.get_store()
    from cjm_core.storage.workspaces import ensure_sample_workspace

    ws = ensure_sample_workspace(store, "4741")
    token, _ = store.create_share_link(ws, "view")
    viewer = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    viewer.query_params["ws"] = token
    viewer.run()
    assert not viewer.exception, viewer.exception
    assert viewer.session_state["workspace_id"] == ws
    assert not viewer.get("text_input")


def test_a_colleagues_correct_password_never_waits_for_a_guessers_failures(db_path,
                                                                           monkeypatch):
    # seen: one counter for the whole app made a correct login wait 27 s behind an attacker
    now, slept = [0.0], []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    monkeypatch.setenv("CJM_PASSWORD", "correct horse")
    monkeypatch.setattr(ui, "_THROTTLE", Throttle(clock=lambda: now[0], sleep=sleep))
    guesser = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    guesser.run()
    for i in range(12):
        guesser.text_input(key="app_password").input(f"guess {i}")
        guesser.button(key="app_enter").click().run()
    assert sum(slept) > 0  # the guesser was slowed down
    slept.clear()
    colleague = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    colleague.run()
    colleague.text_input(key="app_password").input("correct horse")
    colleague.button(key="app_enter").click().run()
    assert not colleague.exception, colleague.exception
    assert colleague.session_state["workspace_id"] == "sample-4742"
    assert slept == []  # not one second of the guesser's penalty
