"""Overview and Benchmarks as behaviour, not only "renders" (issue 12 §4): a target saved for the
workspace changes the gap the pages show, and the Overview shows the core's top friction points
and scorecard for the same data and targets."""

from __future__ import annotations

from dataclasses import replace

from streamlit.testing.v1 import AppTest

from cjm_core.analytics.scorecard import overview
from cjm_core.present.tables import gaps_view
from cjm_core.storage.store import Store
from cjm_core.storage.workspaces import (
    ensure_sample_workspace,
    load_dataset,
    save_workspace_targets,
    workspace_targets,
)
from tests.conftest import ROOT


def _open(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.switch_page(f"app_pages/{page}.py")
    at.run()
    assert not at.exception, at.exception
    return at


def _repeat_row(at: AppTest) -> dict:
    gaps = at.dataframe[0].value
    return gaps[gaps["Metric"] == "Repeat purchase rate"].iloc[0].to_dict()


def _set_repeat_target(db_path, low: float, high: float) -> None:
    store = Store(db_path)
    try:
        ws = ensure_sample_workspace(store)
        targets = [replace(t, low=low, high=high) if t.metric == "repeat_purchase_rate" else t
                   for t in workspace_targets(store, ws)]
        save_workspace_targets(store, ws, targets)
    finally:
        store.close()


def test_a_saved_target_changes_the_gap_on_benchmarks_and_overview(db_path):
    # the sample's repeat purchase rate over its last 12 months is about 20%: at the edge of
    # 20-30%, far short of 40-50%
    at = _open("benchmarks")
    assert _repeat_row(at)["Status"] in ("✓ met", "≈ within the interval")
    _set_repeat_target(db_path, 0.40, 0.50)
    for page in ("benchmarks", "overview"):
        row = _repeat_row(_open(page))
        assert row["Target"] == "40% to 50%" and row["Status"].endswith("missed"), (page, row)


def test_overview_shows_the_cores_friction_points_and_scorecard(db_path):
    store = Store(db_path)
    try:
        ws = ensure_sample_workspace(store)
        data, targets = load_dataset(store, ws), workspace_targets(store, ws)
    finally:
        store.close()
    card, points = overview(data, targets)
    at = _open("overview")
    shown = [m.value for m in at.markdown if m.value.startswith(("**1.", "**2.", "**3."))]
    assert len(shown) == len(points) == 3
    for text, point in zip(shown, points, strict=True):
        assert point.name.split(" → ")[0] in text.replace("\\", "")
        assert f"impact {point.impact:.2f}" in text
    want = gaps_view(card.gaps)
    got = at.dataframe[0].value
    assert list(got["Status"]) == want["Status"].to_list()
    assert list(got["Value (95% interval)"]) == want["Value (95% interval)"].to_list()
