"""An unexpected error on a page (issue 11 §3): the page shows a short message with an error
id, logs the traceback under that id, and shows no traceback or server path."""

from __future__ import annotations

import logging

from streamlit.testing.v1 import AppTest

import cjm_core.analytics.scorecard
from tests.conftest import ROOT


def test_an_unexpected_error_is_a_message_with_an_id_that_is_logged(db_path, monkeypatch,
                                                                    caplog):
    def broken(*_args, **_kwargs):
        raise RuntimeError("/srv/secret/path.py exploded")

    monkeypatch.setattr(cjm_core.analytics.scorecard, "overview", broken)
    monkeypatch.delenv("CJM_RAISE_ERRORS")  # as in production
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    with caplog.at_level(logging.ERROR, logger="cjm"):
        at.run()
    assert not at.exception
    message = " ".join(e.value for e in at.error)
    assert "Something went wrong on this page" in message
    error_id = message.rsplit("error id: ", 1)[1].rstrip(".")
    assert len(error_id) == 8
    assert "/srv/secret" not in message
    logged = [r for r in caplog.records if error_id in r.getMessage()]
    assert logged and logged[0].exc_info[0] is RuntimeError


def test_under_the_test_suite_errors_still_reach_the_test(db_path, monkeypatch):
    monkeypatch.setattr(cjm_core.analytics.scorecard, "overview",
                        lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert at.exception and "boom" in at.exception[0].message


def test_the_shipped_config_shows_no_error_details_and_looks_nothing_up():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"
    assert config["browser"]["serverAddress"] == "localhost"  # no external-IP lookup at start
    assert config["client"]["toolbarMode"] == "viewer"  # no Deploy button or developer menu


def test_a_bad_stage_parameter_opens_the_nearest_stage(db_path):
    # seen: ?present=1&stage=abc raised ValueError; stage=-3 showed "Stage -2 of 7"
    for param, want in (("abc", 1), ("-3", 1), ("99", 7), ("2", 3)):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.query_params["present"] = "1"
        at.query_params["stage"] = param
        at.run()
        at.switch_page("app_pages/journey_map.py")
        at.run()
        assert not at.exception, (param, at.exception)
        assert any(m.value.startswith(f"**Stage {want} of 7") for m in at.markdown), param
