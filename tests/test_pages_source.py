"""A workspace whose events are in a data lake (issue 15), through the real pages (AppTest):
the Funnel shows exactly the counts of ``cjm_core.engine``'s local engine and of
``analytics.funnel.funnel`` on the same events, with the local engine and with Spark local[2];
the sidebar's filters are pushed into the read; the Data page sets, tests and clears the source
with clear messages; other pages say they use the uploaded tables only.

The Spark test needs Java and pyspark: under `make test` (CJM_REQUIRE_BROWSER=1) or with CI set
it must run; elsewhere it is skipped with the reason (as tests/test_engine_spark.py)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from cjm_core.analytics.funnel import FunnelQuery, funnel
from cjm_core.demo.sample import generate_events
from cjm_core.engine.local import LocalEngine
from cjm_core.model.dataset import Dataset
from cjm_core.model.filters import Filters
from cjm_core.model.journey import default_journey
from cjm_core.storage.store import EventSource, Store
from tests.conftest import open_page, tiles

JOURNEY = default_journey("4742")
STEPS = [s.name for s in JOURNEY.stages]
QUERY = FunnelQuery(steps=STEPS, window=timedelta(days=30))  # the page's defaults


def _lake(tmp_path: Path) -> tuple[Path, pl.DataFrame]:
    """A small Parquet folder (three files) of 800 generated events."""
    events = generate_events(800, "4742", seed=5, categorical=False)
    folder = tmp_path / "lake"
    folder.mkdir()
    for i, part in enumerate(events.iter_slices(300)):
        part.write_parquet(folder / f"part-{i:02d}.parquet")
    return folder, events


def _workspace(db_path: Path, source: EventSource | None) -> str:
    store = Store(db_path)
    try:
        ws = store.create_workspace("Lake", JOURNEY)
        if source is not None:
            store.save_event_source(ws, source)
    finally:
        store.close()
    return ws


def _expected(events: pl.DataFrame, filters: Filters | None = None) -> dict[str, str]:
    kept = (filters or Filters()).apply(Dataset(JOURNEY, events=events)).events
    assert kept is not None
    core = funnel(kept, QUERY, JOURNEY)
    local = LocalEngine(kept).funnel(QUERY, JOURNEY)
    assert core.table["reached"].to_list() == local.table["reached"].to_list()
    assert core.entered_mid_journey == local.entered_mid_journey
    first, last, _ = core.totals()
    return {"Entered at the first step": f"{first:,}", "Converted (all steps)": f"{last:,}",
            "Entered mid-journey": f"{core.entered_mid_journey:,}"}


def _caption(at) -> str:
    return " ".join(c.value for c in at.caption)


def _check_funnel(db_path: Path, tmp_path: Path, engine: str, master: str = "") -> None:
    folder, events = _lake(tmp_path)
    ws = _workspace(db_path, EventSource("parquet", str(folder), engine, master))
    at = open_page("funnel", ws)
    assert tiles(at) == _expected(events)
    where = "Spark (local[2])" if engine == "spark" else "the local engine"
    assert f"Computed on {where} from parquet:" in _caption(at), _caption(at)
    assert f"events read of the source's {events.height:,}" in _caption(at)
    assert not at.error, [e.value for e in at.error]
    # a sidebar filter is pushed into the read: the counts of the filtered events
    assert at.multiselect(key="channel").options == ["app", "phone", "store", "web"]
    at.multiselect(key="channel").set_value(["web"]).run()
    assert not at.exception, at.exception
    assert tiles(at) == _expected(events, Filters(channel=("web",)))
    assert tiles(at) != _expected(events)


def test_funnel_of_a_parquet_source_on_the_local_engine(db_path, tmp_path):
    _check_funnel(db_path, tmp_path, "local")


def test_a_missing_folder_is_a_message_not_a_traceback(db_path, tmp_path):
    ws = _workspace(db_path, EventSource("parquet", str(tmp_path / "nowhere")))
    at = open_page("funnel", ws)
    assert "No Parquet file at" in " ".join(e.value for e in at.error)
    assert not at.metric


def test_a_source_without_a_stage_column_is_named(db_path, tmp_path):
    folder = tmp_path / "lake"
    folder.mkdir()
    pl.DataFrame({"customer_id": ["a"], "when": [1]}).write_parquet(folder / "p.parquet")
    at = open_page("funnel", _workspace(db_path, EventSource("parquet", str(folder))))
    text = " ".join(e.value for e in at.error)
    assert "timestamp, stage" in text and "Data page" in text


def test_other_pages_say_they_use_the_uploaded_tables_only(db_path, tmp_path):
    folder, _ = _lake(tmp_path)
    ws = _workspace(db_path, EventSource("parquet", str(folder)))
    for page in ("overview", "channels"):
        at = open_page(page, ws)
        assert any("uploaded tables only" in i.value for i in at.info), page


def test_the_data_page_sets_tests_and_clears_the_source(db_path, tmp_path):
    folder, events = _lake(tmp_path)
    ws = _workspace(db_path, None)
    at = open_page("data", ws)
    assert any(h.value == "Events from a data lake (Spark)" for h in at.header)
    at.text_input(key="lake_location").set_value("   ")
    at.button(key="lake_save").click().run()
    assert not at.exception, at.exception
    assert any("needs a location" in e.value for e in at.error)
    at.text_input(key="lake_location").set_value(str(tmp_path / "nowhere"))
    at.button(key="lake_test").click().run()
    assert any("No Parquet file at" in e.value for e in at.error)
    at.text_input(key="lake_location").set_value(str(folder))
    at.button(key="lake_test").click().run()
    assert not at.exception, at.exception
    assert any(f"{events.height:,} events" in s.value for s in at.success)
    at.button(key="lake_save").click().run()
    assert any("Source saved" in s.value for s in at.success)
    with Store(db_path) as store:
        assert store.get_event_source(ws) == EventSource("parquet", str(folder))
    at.radio(key="lake_engine").set_value("spark").run()
    at.text_input(key="lake_master").set_value("http://nope")
    at.button(key="lake_save").click().run()
    assert any("not a Spark master" in e.value for e in at.error)
    at.button(key="lake_clear").click().run()
    assert not at.exception, at.exception
    with Store(db_path) as store:
        assert store.get_event_source(ws) is None


@pytest.mark.parametrize("role", ["view", "edit"])
def test_only_the_owner_sees_the_source_setting(db_path, tmp_path, role):
    # an edit link must not point the workspace at any path the server can read
    folder, _ = _lake(tmp_path)
    ws = _workspace(db_path, EventSource("parquet", str(folder)))
    with Store(db_path) as store:
        token, _ = store.create_share_link(ws, role)
    at = open_page("data", token)
    assert at.session_state["share_role"] == role
    assert not any(h.value == "Events from a data lake (Spark)" for h in at.header)
    at = open_page("funnel", token)  # but it reads the lake's funnel
    assert "Computed on the local engine from parquet:" in _caption(at)


# -- Spark local[2] ------------------------------------------------------------------------------


@pytest.fixture
def spark_app():
    """Java and pyspark present (or a failure under make test / CI); the app's Spark session
    stopped afterwards, and the environment it set put back."""
    from tests.test_engine_spark import _missing

    reason = _missing()
    if reason:
        if os.environ.get("CJM_REQUIRE_BROWSER") == "1" or os.environ.get("CI"):
            pytest.fail(f"Spark tests must run under make test / CI: {reason}")
        pytest.skip(reason)
    from pyspark.sql import SparkSession

    before = SparkSession.getActiveSession()
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "PYSPARK_PYTHON")}
    yield
    import ui

    ui._spark.clear()
    ui._source_facts.clear()
    ui._source_funnel.clear()
    if before is None:
        active = SparkSession.getActiveSession()
        if active is not None:
            active.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_funnel_of_a_parquet_source_on_spark(db_path, tmp_path, spark_app):
    _check_funnel(db_path, tmp_path, "spark", "local[2]")


def test_a_missing_folder_on_spark_is_a_message(db_path, tmp_path, spark_app):
    ws = _workspace(db_path, EventSource("parquet", str(tmp_path / "nowhere"), "spark"))
    at = open_page("funnel", ws)
    assert "the path does not exist" in " ".join(e.value for e in at.error)
