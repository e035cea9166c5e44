"""``ui.dataset``: the workspace's data cached by a content key (the digests the store keeps), so
the first view does not hash every row, and no two databases in one process share an entry
unless they hold the same data."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import ui
from cjm_core.model.journey import default_journey
from cjm_core.storage.store import Store

EVENTS_A = pl.DataFrame({"customer_id": ["a", "b"], "stage": ["Discovery", "Purchase"]})
EVENTS_B = pl.DataFrame({"customer_id": ["c", "d"], "stage": ["Purchase", "Discovery"]})


def _db(path: Path, events: pl.DataFrame, *, digests: bool = True) -> Path:
    """A file holding workspace "laden" with these events (its first saved table, ds_1)."""
    with Store(path) as s:
        s.create_workspace("Laden", default_journey("4742"), workspace_id="laden")
        s.save_table("laden", "events", events)
    if not digests:  # as a file saved before digests were kept
        import duckdb

        con = duckdb.connect(str(path))
        con.execute("ALTER TABLE datasets DROP COLUMN digest")
        con.execute("DELETE FROM schema_migrations WHERE version = 7")
        con.close()
    return path


@pytest.mark.parametrize("digests", [True, False])
def test_two_databases_with_the_same_shapes_do_not_share_an_entry(tmp_path, monkeypatch,
                                                                  digests):
    # same workspace id, same physical table name, version and row count: only the rows differ
    a = _db(tmp_path / "a.duckdb", EVENTS_A, digests=digests)
    b = _db(tmp_path / "b.duckdb", EVENTS_B, digests=digests)
    got = {}
    for name, path in (("a", a), ("b", b)):
        monkeypatch.setenv("CJM_DB", str(path))
        got[name] = ui.dataset("laden", lake_note=False)
    (data_a, key_a), (data_b, key_b) = got["a"], got["b"]
    assert key_a != key_b
    assert_frame_equal(data_a.table("events"), EVENTS_A)
    assert_frame_equal(data_b.table("events"), EVENTS_B)
    for path in (a, b):
        Store.shared(path).close()


def test_the_key_follows_a_save_and_the_map_digest_is_the_datasets(tmp_path, monkeypatch):
    path = _db(tmp_path / "ws.duckdb", EVENTS_A)
    monkeypatch.setenv("CJM_DB", str(path))
    data, key = ui.dataset("laden", lake_note=False)
    assert key.startswith("tables:")  # from the kept digests: nothing hashed on load
    assert ui.data_digest(key, data) == data.digest()  # what a journey map records
    store = ui.get_store()
    store.save_table("laden", "events", EVENTS_B)
    newer, newer_key = ui.dataset("laden", lake_note=False)
    assert newer_key != key
    assert_frame_equal(newer.table("events"), EVENTS_B)
    store.save_table("laden", "events", EVENTS_A.head(1), mode="append")
    appended, appended_key = ui.dataset("laden", lake_note=False)
    assert appended_key not in (key, newer_key)
    assert appended.table("events").height == 3
    store.save_journey("laden", default_journey("4773"))
    assert ui.dataset("laden", lake_note=False)[1] != appended_key
    Store.shared(path).close()


def test_a_workspace_saved_before_digests_is_hashed_on_load(tmp_path, monkeypatch):
    path = _db(tmp_path / "ws.duckdb", EVENTS_A, digests=False)
    monkeypatch.setenv("CJM_DB", str(path))
    data, key = ui.dataset("laden", lake_note=False)
    assert key == data.digest()
    assert ui.data_digest(key, data) == key
    Store.shared(path).close()


def test_prefetch_fills_the_cache_and_leaves_errors_to_the_pages_call():
    from cjm_core.errors import CJMError

    calls: list[str] = []

    def square(x: int) -> int:
        calls.append("square")
        return x * x

    def broken() -> None:
        calls.append("broken")
        raise CJMError("no events")

    key = f"prefetch-test-{id(calls)}"
    ui.prefetch(key, [(square, 3), (broken,)])  # no error here
    assert sorted(calls) == ["broken", "square"]
    assert ui.compute(key, square, 3) == 9
    assert calls.count("square") == 1  # computed once, by the prefetch
    with pytest.raises(CJMError, match="no events"):
        ui.compute(key, broken)  # raised where the page calls it


def test_a_workspace_with_events_begins_pandas_import_before_its_read(tmp_path, monkeypatch):
    # pandas' import overlaps the first read of the tables (issue 14)
    db = _db(tmp_path / "w.duckdb", EVENTS_A)
    monkeypatch.setenv("CJM_DB", str(db))
    started = []
    monkeypatch.setattr(ui, "_pandas_started", threading.Event())
    monkeypatch.setattr(ui, "_import_pandas", lambda: started.append(1))
    ui.dataset("laden", lake_note=False)
    ui.dataset("laden", lake_note=False)  # once per process
    ui.import_pandas_ahead()
    time.sleep(0.2)
    assert started == [1]
    Store.shared(db).close()


def test_a_workspace_without_events_begins_no_import(tmp_path, monkeypatch):
    with Store(tmp_path / "f.duckdb") as s:
        s.create_workspace("Laden", default_journey("4742"), workspace_id="laden")
        s.save_table("laden", "feedback", pl.DataFrame({"touchpoint": ["Web"], "csat": [5]}))
    monkeypatch.setenv("CJM_DB", str(tmp_path / "f.duckdb"))
    monkeypatch.setattr(ui, "_pandas_started", threading.Event())
    ui.dataset("laden", lake_note=False)
    assert not ui._pandas_started.is_set()
    Store.shared(tmp_path / "f.duckdb").close()
