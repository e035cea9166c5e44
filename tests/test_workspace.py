"""Workspace services: sample workspaces on first start, saving uploads, reusing mappings."""

from __future__ import annotations

import pytest

from cjm_core.errors import StoreError
from cjm_core.ingest.pipeline import choose, ingest, load
from cjm_core.storage.store import Store
from cjm_core.storage.workspaces import ensure_sample_workspace, new_workspace, save_loads

CSV = (
    b"Kunde;Zeitpunkt;Phase;Kanal;Notiz\n"
    b"K1;2025-03-01 10:00;Discovery;Web;a\n"
    b"K1;2025-03-02 11:00;Purchase;Store;b\n"
    b"K2;2025-03-03 12:00;Discovery;App;c\n"
)


@pytest.fixture
def store(db_path):
    s = Store(db_path)
    yield s
    s.close()


def test_sample_workspace_is_created_once_with_every_table(store):
    ws = ensure_sample_workspace(store, "4742")
    assert ensure_sample_workspace(store, "4742") == ws
    assert [w.id for w in store.list_workspaces()] == [ws]
    counts = store.table_counts(ws)
    assert {"events", "feedback", "support", "orders"} <= set(counts)
    assert all(n > 100 for t, n in counts.items() if t != "funnel_counts")
    assert store.get_journey(ws).isic == "4742"


def test_saved_upload_is_readable_and_its_mapping_is_reused(store):
    ws = new_workspace(store, "Hi-Fi Müller", "4742")
    first = ingest(CSV, "export.csv", lookup=store.find_mapping)
    assert first[0].result.table == "events" and not first[0].choice.mapping_reused
    # the user maps the free-text column to 'segment' by hand before saving
    chosen = load(first[0].raw, choose(first[0].raw, "events", {"segment": "Notiz"}))
    assert save_loads(store, ws, [chosen]) == {"events": 3}
    events = store.load_table(ws, "events")
    assert events["customer_id"].to_list() == ["K1", "K1", "K2"]
    assert store.uploads(ws)[0].rows_loaded == 3

    again = ingest(CSV, "export (2).csv", lookup=store.find_mapping)
    assert again[0].choice.mapping_reused
    assert again[0].result.roles["segment"] == "Notiz"


def test_a_load_with_nothing_valid_never_wipes_saved_data(store):
    ws = new_workspace(store, "Shop", "4773")
    save_loads(store, ws, ingest(CSV, "export.csv"))
    broken = CSV.replace(b"2025-03-01 10:00", b"gestern").replace(
        b"2025-03-02 11:00", b"heute").replace(b"2025-03-03 12:00", b"morgen")
    loads = ingest(broken, "broken.csv")
    assert loads[0].result.rows_loaded == 0
    save_loads(store, ws, loads)
    assert store.table_counts(ws)["events"] == 3
    assert store.uploads(ws)[-1].rows_rejected == 3


def test_two_uploads_of_the_same_table_at_once_are_refused(store):
    ws = new_workspace(store, "Shop", "4773")
    loads = ingest(CSV, "a.csv") + ingest(CSV, "b.csv")
    with pytest.raises(StoreError, match="same table"):
        save_loads(store, ws, loads)
    assert store.table_counts(ws).get("events", 0) == 0


def test_a_workspace_needs_a_name(store):
    with pytest.raises(StoreError, match="name"):
        new_workspace(store, "  ", "4742")
