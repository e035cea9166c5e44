"""The Funnel page (Streamlit AppTest): its tiles equal the core's funnel on the same data, a
step with no event in the data is named in a warning, and the per-stage option says that it
ignores the window and the order."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from cjm_core.analytics.funnel import FunnelQuery, funnel
from cjm_core.model.journey import default_journey
from cjm_core.storage.store import Store
from cjm_core.storage.workspaces import ensure_sample_workspace, load_dataset
from tests.conftest import open_page, tiles


def test_tiles_equal_the_core_on_the_sample_workspace(db_path):
    store = Store(db_path)
    try:
        data = load_dataset(store, ensure_sample_workspace(store))
    finally:
        store.close()
    steps = [s.name for s in data.journey.stages]
    res = funnel(data.events, FunnelQuery(steps=steps, window=timedelta(days=30)), data.journey)
    at = open_page("funnel")
    t = tiles(at)
    first, last, _low = res.totals()
    assert t["Entered at the first step"] == f"{first:,}"
    assert t["Converted (all steps)"] == f"{last:,}"
    assert t["Entered mid-journey"] == f"{res.entered_mid_journey:,}"
    assert not at.warning  # every journey stage occurs in the sample


def _walk_in_workspace(db_path) -> str:
    """A 4742 workspace whose events hold three of the journey's seven stages, with a walk-in
    who visited the store before seeing the ad."""
    t0 = datetime(2025, 2, 1, 10, 0)
    rows = [("walk_in_then_ad", 0, "In-store demo"), ("walk_in_then_ad", 60, "Discovery"),
            ("walk_in_then_ad", 120, "Online research"), ("researched", 0, "Discovery"),
            ("researched", 30, "Online research"), ("looked", 0, "Discovery"),
            ("walk_in_only", 0, "In-store demo")]
    events = pl.DataFrame(
        {"customer_id": [r[0] for r in rows],
         "timestamp": [t0 + timedelta(minutes=r[1]) for r in rows],
         "stage": [r[2] for r in rows]},
        schema={"customer_id": pl.String, "timestamp": pl.Datetime("us"), "stage": pl.String})
    store = Store(db_path)
    try:
        ws = store.create_workspace("Walk-ins", default_journey("4742"))
        store.save_table(ws, "events", events)
    finally:
        store.close()
    return ws


def test_missing_steps_are_named_and_walk_ins_are_in_step_one(db_path):
    at = open_page("funnel", _walk_in_workspace(db_path))
    warning = " ".join(w.value for w in at.warning)
    # stages of the journey that no event has: named, not shown as silent zeros
    for name in ("Purchase", "Delivery & installation", "Support", "Loyalty & advocacy"):
        assert name in warning, warning
    assert "In-store demo" not in warning
    t = tiles(at)
    # the walk-in who later saw the ad is in step 1 (3 customers did Discovery); only the
    # walk-in who never did step 1 entered mid-journey
    assert t["Entered at the first step"] == "3"
    assert t["Entered mid-journey"] == "1"


def test_each_stage_on_its_own_says_it_ignores_window_and_order(db_path):
    at = open_page("funnel", _walk_in_workspace(db_path))
    at.radio(key="funnel_mid").set_value("per_stage").run()
    assert not at.exception, at.exception
    text = " ".join(c.value for c in at.caption)
    assert "ignoring the conversion window and the order" in text


def test_the_table_reads_as_labels_percentages_and_durations(db_path):
    at = open_page("funnel")
    shown = at.dataframe[0].value
    assert list(shown.columns)[:4] == ["#", "Step", "Customers", "From previous step"]
    assert "step_conversion" not in shown.columns and "median_seconds" not in shown.columns
    first = shown.iloc[0]
    assert first["Customers"] == tiles(at)["Entered at the first step"]  # "1,523", not 1523
    second = shown.iloc[1]
    assert second["From previous step"].endswith("%)")  # rate with its interval
    assert any(unit in second["Median time"] for unit in (" d ", " h ", " min", " s"))
