"""The Benchmarks page's targets editor, now in words, still saves the thresholds typed into it
(Streamlit AppTest; the edit state is seeded as AppTest allows)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from cjm_core.storage.store import Store
from cjm_core.storage.workspaces import ensure_sample_workspace, workspace_targets
from tests.conftest import ROOT


def test_an_edited_threshold_and_a_switched_off_target_are_saved(db_path):
    with Store(db_path) as store:
        ws = ensure_sample_workspace(store, "4742")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["ws"] = ws
    at.run()
    at.switch_page("app_pages/benchmarks.py").run()
    assert not at.exception, at.exception
    editor = at.data_editor(key="targets_editor")
    shown = editor.value
    assert shown["Metric"].iloc[3] == "Repeat purchase rate"
    assert shown["Where"].iloc[2] == "the stage with the support role"

    at.session_state["targets_editor"] = {
        "edited_rows": {3: {"low": 40, "high": 50}, 0: {"enabled": False}},
        "added_rows": [], "deleted_rows": []}
    at.run()
    at.button(key="save_targets").click().run()
    assert not at.exception, at.exception
    with Store(db_path) as store:
        saved = workspace_targets(store, ws, include_disabled=True)
    repeat = next(t for t in saved if t.metric == "repeat_purchase_rate")
    assert (repeat.low, repeat.high) == (0.4, 0.5)
    assert not next(t for t in saved if t.metric == "nps").enabled
    gaps = at.dataframe[0].value
    assert gaps.loc[gaps["Metric"] == "Repeat purchase rate", "Target"].item() == "40% to 50%"


def test_thresholds_read_in_the_targets_unit(db_path):
    """A rate's threshold is typed as a percentage (20 for 20%), not as a fraction."""
    with Store(db_path) as store:
        ws = ensure_sample_workspace(store, "4742")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["ws"] = ws
    at.run()
    at.switch_page("app_pages/benchmarks.py").run()
    shown = at.data_editor(key="targets_editor").value.set_index("Metric")
    assert (shown.loc["Repeat purchase rate", "low"], shown.loc["Repeat purchase rate", "high"]) \
        == (20.0, 30.0)
    assert shown.loc["Simple inquiries resolved at first contact", "low"] == 80.0
    assert shown.loc["Time to resolution, complex issues", "high"] == 48.0  # hours as they are
