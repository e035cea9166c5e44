"""The workspace store: round trips, mappings, journeys, threads, a second process, a killed one."""

from __future__ import annotations

import datetime as dt
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from cjm_core.errors import ReadOnlyError, StoreError, StoreLocked
from cjm_core.model.journey import Journey, Stage, default_journey
from cjm_core.storage import table_repo
from cjm_core.storage.store import (
    DB_ENV,
    SCHEMA_VERSION,
    Mapping,
    Store,
    default_db_path,
    signature_fold,
)
from cjm_core.storage.table_repo import UNHASHED, content_digest

ROOT = Path(__file__).resolve().parent.parent
CHILD = Path(__file__).resolve().parent / "store_child.py"
sys.path.insert(0, str(CHILD.parent))
from store_child import crash_frames  # noqa: E402

NASTY_NAMES = [
    "Kunden Nr.",
    'say "hi"',
    "it's",
    "<img src=x onerror=alert(1)>",
    "Größe 🚀",
    "a; DROP TABLE workspaces; --",
    "Region",
    "region",  # differs only in case: DuckDB identifiers would collide
    "",
    " ",
    "_ord",
    "c0",
]


def every_dtype() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": ["c1", None, "ç-ü-東京"],
            "visits": pl.Series([1, None, -3], dtype=pl.Int64),
            "revenue": [1.5, None, float("nan")],
            "vip": [True, None, False],
            "timestamp": pl.Series(
                [dt.datetime(2024, 1, 1, 12, 0, 0, 123456), None, dt.datetime(1999, 12, 31)],
                dtype=pl.Datetime("us"),
            ),
            "day": [dt.date(2024, 2, 29), None, dt.date(1970, 1, 1)],
            "all_null": pl.Series([None, None, None], dtype=pl.String),
            "segment": pl.Series(["a", "b", None], dtype=pl.Categorical),
            "complexity": pl.Series(["simple", "complex", "simple"],
                                    dtype=pl.Enum(["simple", "complex"])),
            "wait": pl.Series([dt.timedelta(seconds=5), None, dt.timedelta(days=2)]),
            "local": pl.Series([dt.datetime(2024, 3, 31, 1, 30)] * 3).dt.replace_time_zone(
                "Europe/Berlin"
            ),
            "small": pl.Series([1, 2, 255], dtype=pl.UInt8),
            "tags": [["x", "y"], None, []],
        }
    )


# -- paths ------------------------------------------------------------------------------------


def test_default_path_is_beside_the_app_and_ignored(monkeypatch):
    monkeypatch.delenv(DB_ENV, raising=False)
    assert default_db_path() == ROOT / "workspaces.duckdb"
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(ROOT / "workspaces.duckdb")], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0


def test_env_var_sets_the_path(monkeypatch, tmp_path):
    monkeypatch.setenv(DB_ENV, str(tmp_path / "elsewhere.duckdb"))
    assert default_db_path() == tmp_path / "elsewhere.duckdb"
    with Store() as s:
        assert s.path == tmp_path / "elsewhere.duckdb"
    assert (tmp_path / "elsewhere.duckdb").exists()


# -- workspaces -------------------------------------------------------------------------------


def test_workspace_lifecycle(store: Store):
    a = store.create_workspace("Hi-Fi Müller", default_journey("4742"))
    b = store.create_workspace("Hi-Fi Müller", default_journey("4741"))
    c = store.create_workspace("🚀", default_journey("4773"), workspace_id="shop_3")
    assert (a, b, c) == ("hi-fi-muller", "hi-fi-muller-2", "shop_3")
    listed = store.list_workspaces()
    assert [w.id for w in listed] == ["hi-fi-muller", "hi-fi-muller-2", "shop_3"]
    assert [w.isic for w in listed] == ["4742", "4741", "4773"]
    first = store.get_workspace(a)
    assert first.name == "Hi-Fi Müller"
    assert first.created_at.tzinfo == dt.UTC
    assert first.data_updated_at is None

    store.rename_workspace(a, "  Hi-Fi   Meier ")
    renamed = store.get_workspace(a)
    assert renamed.name == "Hi-Fi Meier"
    assert renamed.updated_at >= first.updated_at
    assert renamed.created_at == first.created_at

    store.save_table(a, "funnel_counts", pl.DataFrame({"stage": ["a"], "customers": [1]}))
    store.delete_workspace(a)
    assert [w.id for w in store.list_workspaces()] == ["hi-fi-muller-2", "shop_3"]
    assert not store.has_workspace(a)
    assert store.verify() == []


def test_workspace_without_a_sluggable_name_gets_a_random_id(store: Store):
    wid = store.create_workspace("东京", default_journey("4742"))
    assert len(wid) == 12
    assert store.get_workspace(wid).name == "东京"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.get_workspace("nope"), "no workspace 'nope'"),
        (lambda s: s.rename_workspace("nope", "x"), "no workspace 'nope'"),
        (lambda s: s.delete_workspace("nope"), "no workspace 'nope'"),
        (lambda s: s.get_journey("nope"), "no workspace 'nope'"),
        (lambda s: s.save_table("nope", "events", pl.DataFrame()), "no workspace 'nope'"),
        (lambda s: s.get_workspace("../etc"), "not a valid workspace id"),
        (lambda s: s.load_table('x"; drop', "events"), "not a valid workspace id"),
        (lambda s: s.create_workspace("  ", default_journey("4742")), "needs a name"),
        (
            lambda s: s.create_workspace("x", default_journey("4742"), workspace_id="Big Id"),
            "not a valid workspace id",
        ),
    ],
)
def test_bad_workspace_calls_say_what_is_wrong(store: Store, call, message):
    with pytest.raises(StoreError, match=message):
        call(store)


def test_duplicate_workspace_id_is_refused(store: Store, ws: str):
    with pytest.raises(StoreError, match="already exists"):
        store.create_workspace("Again", default_journey("4742"), workspace_id=ws)


# -- tables -----------------------------------------------------------------------------------


def read_back(store: Store, ws: str, table: str) -> pl.DataFrame | None:
    """The table as DuckDB returns it: through a second store on the file, which has not kept
    the frames of the last save."""
    with Store(store.path) as other:
        return other.load_table(ws, table)


def test_every_dtype_round_trips(store: Store, ws: str):
    frame = every_dtype()
    store.save_table(ws, "events", frame, source="pos.csv")
    assert_frame_equal(store.load_table(ws, "events"), frame)
    assert_frame_equal(read_back(store, ws, "events"), frame)
    assert store.get_workspace(ws).data_updated_at is not None


def test_any_column_name_round_trips(store: Store, ws: str):
    frame = pl.DataFrame({name: [f"{i}", None] for i, name in enumerate(NASTY_NAMES)})
    store.save_table(ws, "feedback", frame)
    back = read_back(store, ws, "feedback")
    assert back.columns == NASTY_NAMES
    assert_frame_equal(back, frame)
    assert_frame_equal(store.load_table(ws, "feedback"), frame)
    # the store's own tables survived the column named like an injection
    assert [w.id for w in store.list_workspaces()] == [ws]


def test_row_order_is_kept(store: Store, ws: str):
    rng = random.Random(7)
    keys = [rng.randrange(10**9) for _ in range(50_000)]
    frame = pl.DataFrame({"k": keys, "pos": range(len(keys))})
    store.save_table(ws, "orders", frame)
    assert store.load_table(ws, "orders")["k"].to_list() == keys
    assert read_back(store, ws, "orders")["k"].to_list() == keys


def test_missing_table_is_none_and_unknown_table_is_refused(store: Store, ws: str):
    assert store.load_table(ws, "orders") is None
    with pytest.raises(StoreError, match="not a table a workspace can hold"):
        store.save_table(ws, "customers", pl.DataFrame({"a": [1]}))
    with pytest.raises(StoreError, match="not a table"):
        store.load_table(ws, "sqlite_master")


def test_replace_then_append(store: Store, ws: str):
    first = pl.DataFrame({"stage": ["visit", "buy"], "customers": [10, 4]})
    store.save_table(ws, "funnel_counts", first)
    store.save_table(ws, "funnel_counts", first.reverse())
    assert_frame_equal(store.load_table(ws, "funnel_counts"), first.reverse())
    assert_frame_equal(read_back(store, ws, "funnel_counts"), first.reverse())

    more = pl.DataFrame({"stage": ["return"], "customers": [2]})
    store.save_table(ws, "funnel_counts", more, mode="append")
    store.save_table(ws, "funnel_counts", more.clear(), mode="append")
    assert store.load_table(ws, "funnel_counts")["stage"].to_list() == ["buy", "visit", "return"]
    assert store.table_counts(ws) == {"funnel_counts": 3}


def test_append_with_other_columns_widens_the_table(store: Store, ws: str):
    store.save_table(ws, "events", pl.DataFrame({"a": [1], "b": ["x"]}))
    store.save_table(ws, "events", pl.DataFrame({"c": [True], "a": [2]}), mode="append")
    expected = pl.DataFrame({"a": [1, 2], "b": ["x", None], "c": [None, True]})
    assert_frame_equal(store.load_table(ws, "events"), expected)
    assert_frame_equal(read_back(store, ws, "events"), expected)


def test_append_to_nothing_saves(store: Store, ws: str):
    frame = pl.DataFrame({"a": [1, 2]})
    store.save_table(ws, "orders", frame, mode="append")
    assert_frame_equal(store.load_table(ws, "orders"), frame)


def test_save_tables_is_all_or_nothing(store: Store, ws: str):
    store.save_table(ws, "orders", pl.DataFrame({"amount": [1.0]}))
    bad = pl.DataFrame({"obj": pl.Series([object()], dtype=pl.Object)})
    with pytest.raises(StoreError, match="Python objects"):
        store.save_tables(ws, {"events": pl.DataFrame({"a": [1]}), "orders": bad})
    assert store.table_counts(ws) == {"orders": 1}
    assert store.load_table(ws, "events") is None
    assert store.verify() == []


def test_table_counts_versions_and_delete(store: Store, ws: str):
    store.save_tables(
        ws,
        {"orders": pl.DataFrame({"x": [1, 2, 3]}), "events": pl.DataFrame({"y": [1]})},
        sources={"orders": "shop.xlsx"},
    )
    assert store.table_counts(ws) == {"events": 1, "orders": 3}  # in schema order
    before = store.table_versions(ws)
    store.save_table(ws, "orders", pl.DataFrame({"x": [4]}), mode="append")
    after = store.table_versions(ws)
    assert after["events"] == before["events"]
    assert after["orders"] != before["orders"]
    store.delete_table(ws, "orders")
    assert store.table_counts(ws) == {"events": 1}
    assert store.verify() == []


def test_uploads_history(store: Store, ws: str):
    frame = pl.DataFrame({"a": [1, 2]})
    store.save_table(ws, "events", frame, source="pos.csv", sheet="", rows_in=3, rows_rejected=1)
    store.save_tables(
        ws,
        {"orders": frame},
        sources={"orders": "shop.xlsx"},
        uploads={"orders": {"sheet": "Bestellungen", "rows_in": 2, "rows_rejected": 0}},
    )
    store.record_upload(ws, source="crm.csv", sheet="", table="support", rows_in=5,
                        rows_loaded=0, rows_rejected=5)
    store.save_table(ws, "events", frame)  # no rows_in: not an upload
    history = store.uploads(ws)
    assert [(h.source, h.sheet, h.table, h.rows_in, h.rows_loaded,
             h.rows_rejected) for h in history] == [
        ("pos.csv", "", "events", 3, 2, 1),
        ("shop.xlsx", "Bestellungen", "orders", 2, 2, 0),
        ("crm.csv", "", "support", 5, 0, 5),
    ]
    assert all(h.rows_in == h.rows_loaded + h.rows_rejected for h in history)
    assert all(h.uploaded_at.tzinfo == dt.UTC for h in history)


# -- mappings ---------------------------------------------------------------------------------


def test_signature_ignores_order_case_accents_punctuation_and_row_column():
    one = Store.column_signature(["Kunden-Nr.", "Datum", "Étape", "__row__"])
    two = Store.column_signature(["étape", "KUNDEN NR", "datum"])
    assert one == two
    assert one != Store.column_signature(["Kunden-Nr.", "Datum"])
    assert signature_fold("Kunden_Nr.") == "kunden nr"


@given(st.lists(st.text(max_size=12), max_size=8), st.randoms())
@settings(max_examples=60, deadline=None)
def test_signature_does_not_depend_on_column_order(columns, rnd):
    shuffled = list(columns)
    rnd.shuffle(shuffled)
    assert Store.column_signature(columns) == Store.column_signature(shuffled)


def test_same_export_again_finds_its_mapping(store: Store):
    header = ["Kunden-Nr.", "Zeitpunkt", "Étape", "Filiale"]
    roles = {"customer_id": "Kunden-Nr.", "timestamp": "Zeitpunkt", "stage": "Étape"}
    assert store.find_mapping(header) is None
    store.save_mapping(header, "events", roles, date_order="dmy")

    again = store.find_mapping(["filiale", "ETAPE", "kunden nr", "zeitpunkt", "__row__"])
    assert isinstance(again, Mapping)
    assert again.table == "events"
    assert again.date_order == "dmy"
    # role columns come back as spelled in the new upload
    assert again.roles == {"customer_id": "kunden nr", "timestamp": "zeitpunkt", "stage": "ETAPE"}

    store.save_mapping(header, "events", {"customer_id": "Kunden-Nr."})
    assert store.find_mapping(header).roles == {"customer_id": "Kunden-Nr."}
    assert store.find_mapping(header).date_order is None
    assert store.find_mapping([*header, "Extra"]) is None


# -- journey ----------------------------------------------------------------------------------


def test_journey_round_trip(store: Store, ws: str):
    assert store.get_journey(ws) == default_journey("4742")
    custom = Journey(
        isic="4773",
        stages=[Stage("walk_in", "Walk-in 🚶"), Stage("buy", "<b>Kauf</b>")],
        stage_roles={"purchase": "buy"},
    )
    store.save_journey(ws, custom)
    assert store.get_journey(ws) == custom
    assert store.get_workspace(ws).isic == "4773"


# -- restart, read-only, migrations -----------------------------------------------------------


def test_everything_survives_close_and_reopen(tmp_path: Path):
    path = tmp_path / "ws.duckdb"
    frame = every_dtype()
    with Store(path) as s:
        wid = s.create_workspace("Laden", default_journey("4741"))
        s.save_table(wid, "events", frame, source="a.csv", rows_in=3)
        s.save_mapping(["A", "B"], "orders", {"amount": "A"})
        s.save_journey(wid, default_journey("4773"))
    with Store(path) as s:
        assert [w.name for w in s.list_workspaces()] == ["Laden"]
        assert_frame_equal(s.load_table(wid, "events"), frame)
        assert s.find_mapping(["b", "a"]).roles == {"amount": "a"}
        assert s.get_journey(wid) == default_journey("4773")
        assert len(s.uploads(wid)) == 1
        assert s.schema_version == SCHEMA_VERSION
    with pytest.raises(StoreError, match="closed"):
        s.list_workspaces()


def test_read_only_store_reads_and_refuses_writes(tmp_path: Path):
    path = tmp_path / "ws.duckdb"
    with Store(path) as s:
        wid = s.create_workspace("Laden", default_journey("4741"))
    with Store(path, read_only=True) as ro:
        assert [w.id for w in ro.list_workspaces()] == [wid]
        with pytest.raises(ReadOnlyError, match="read-only"):
            ro.rename_workspace(wid, "x")


def test_read_only_needs_an_existing_file(tmp_path: Path):
    with pytest.raises(StoreError, match="no workspace database"):
        Store(tmp_path / "missing.duckdb", read_only=True)


def test_not_a_database_gets_a_message(tmp_path: Path):
    path = tmp_path / "notes.duckdb"
    path.write_text("this is not a database\n" * 100)
    with pytest.raises(StoreError, match=r"Cannot open the workspace database .*notes\.duckdb"):
        Store(path)


def test_migrations_are_recorded_once(tmp_path: Path):
    path = tmp_path / "ws.duckdb"
    Store(path).close()
    with Store(path) as s:
        assert s.schema_version == SCHEMA_VERSION
        assert s._rows("SELECT count(*) FROM schema_migrations")[0][0] == SCHEMA_VERSION


# -- threads ----------------------------------------------------------------------------------


def test_shared_is_one_instance_per_path_across_threads(tmp_path: Path):
    path = tmp_path / "ws.duckdb"
    seen: list[Store] = []
    threads = [threading.Thread(target=lambda: seen.append(Store.shared(path))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert len({id(s) for s in seen}) == 1
        assert Store.shared(str(path)) is seen[0]
    finally:
        seen[0].close()
    reopened = Store.shared(path)
    assert reopened is not seen[0]
    reopened.close()


def test_eight_threads_saving_at_once(store: Store):
    ids = [store.create_workspace(f"Shop {n}", default_journey("4742")) for n in range(8)]
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work(n: int) -> None:
        try:
            start.wait()
            wid = ids[n]
            for round_ in range(5):
                frame = pl.DataFrame({"n": [n] * (100 + round_), "r": [round_] * (100 + round_)})
                store.save_table(wid, "events", frame)
                store.save_table(wid, "orders", frame.head(1), mode="append")
                store.save_mapping([f"col {n}"], "events", {"stage": f"col {n}"})
                assert store.load_table(wid, "events").height == 100 + round_
                store.table_counts(wid)
        except BaseException as exc:  # collected and re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for n, wid in enumerate(ids):
        events = store.load_table(wid, "events")
        assert events.height == 104
        assert set(events["n"]) == {n}
        assert set(events["r"]) == {4}
        assert store.load_table(wid, "orders")["r"].to_list() == [0, 1, 2, 3, 4]
        assert store.find_mapping([f"COL {n}"]).roles == {"stage": f"COL {n}"}
    assert store.verify() == []


# -- other processes --------------------------------------------------------------------------


def _child(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


@pytest.mark.timeout(60)
def test_second_process_gets_a_clear_message(tmp_path: Path):
    path = tmp_path / "held.duckdb"
    child = _child("hold", str(path))
    try:
        assert child.stdout.readline().strip() == "READY"
        with pytest.raises(StoreLocked) as info:
            Store(path)
        message = str(info.value)
        assert str(path) in message
        assert "in use by another process" in message
        assert f"PID {child.pid}" in message
        # DuckDB refuses read-only opens too while another process holds the file read-write
        with pytest.raises(StoreLocked):
            Store(path, read_only=True)
    finally:
        child.stdin.close()
        child.wait(timeout=30)
    with Store(path) as s:  # free again once the holder is gone
        assert s.list_workspaces() == []


@pytest.mark.timeout(120)
def test_killed_mid_save_loses_nothing_acknowledged(tmp_path: Path):
    path = tmp_path / "crash.duckdb"
    rows = 200_000
    rng = random.Random(20240601)
    acked: set[int] = set()
    begun_not_acked = 0
    for round_ in range(6):
        first = round_ * 1000
        child = _child("crash", str(path), str(rows), str(first))
        stop_after = rng.randint(1, 3)
        seen = 0
        try:
            for line in child.stdout:
                word, number = line.split()
                if word == "ACK":
                    acked.add(int(number))
                    seen += 1
                elif seen >= stop_after:  # a save has just begun: kill it somewhere inside
                    threading.Event().wait(rng.uniform(0.0, 0.12))
                    child.send_signal(signal.SIGKILL)
                    begun_not_acked += 1
                    break
        finally:
            child.kill()
            child.wait(timeout=30)
        assert child.returncode == -signal.SIGKILL, "the child should have been killed"
        _check_crash_db(path, rows, acked)
    assert len(acked) >= 6
    assert begun_not_acked == 6


def _check_crash_db(path: Path, rows: int, acked: set[int]) -> None:
    with Store(path) as s:
        assert s.verify() == []
        present = {int(w.id.removeprefix("crash-")) for w in s.list_workspaces()}
        assert acked <= present
        for i in sorted(present):
            wid = f"crash-{i}"
            expected = crash_frames(i, rows)
            counts = s.table_counts(wid)
            if i in acked:
                assert counts == {"events": rows, "funnel_counts": 2}
            if i % 2:  # saved with save_tables: both tables or neither
                assert set(counts) in (set(), {"events", "funnel_counts"})
            for table, frame in expected.items():
                got = s.load_table(wid, table)
                if got is not None:  # whatever is there is whole
                    assert got.height == frame.height
                    assert got["k" if table == "events" else "customers"].sum() == (
                        frame["k" if table == "events" else "customers"].sum()
                    )
                    assert_frame_equal(got, frame)
            history = s.uploads(wid)
            assert len(history) == (1 if "events" in counts else 0)
            for h in history:
                assert (h.rows_in, h.rows_loaded, h.rows_rejected) == (rows + 1, rows, 1)



def test_settings_round_trip_survive_restart_and_go_with_the_workspace(tmp_path):
    from cjm_core.model.journey import default_journey

    path = tmp_path / "settings.duckdb"
    with Store(path) as store:
        ws = store.create_workspace("Shop", default_journey("4742"))
        assert store.get_setting(ws, "targets") is None
        store.save_setting(ws, "targets", '{"a": 1}')
        store.save_setting(ws, "targets", '{"a": 2}')
    with Store(path) as store:
        assert store.get_setting(ws, "targets") == '{"a": 2}'
        store.delete_setting(ws, "targets")
        assert store.get_setting(ws, "targets") is None
        store.save_setting(ws, "targets", "[]")
        store.delete_workspace(ws)
        assert store._rows("SELECT count(*) FROM settings", [])[0][0] == 0


def test_map_versions_conflicts_history_and_restart(tmp_path):
    from cjm_core.errors import MapConflict
    from cjm_core.model.journey import default_journey

    path = tmp_path / "maps.duckdb"
    with Store(path) as store:
        ws = store.create_workspace("Shop", default_journey("4742"))
        assert store.load_map_version(ws) is None
        assert store.save_map_version(ws, '{"v": 1}', expected=None, author="ana") == 1
        # Ben opened version 1 too; Ana saves version 2 first
        assert store.save_map_version(ws, '{"v": 2}', expected=1, author="ana") == 2
        with pytest.raises(MapConflict, match="version 2") as err:
            store.save_map_version(ws, '{"v": "ben"}', expected=1, author="ben")
        assert err.value.latest == 2
        assert store.load_map_version(ws) == (2, '{"v": 2}')  # nothing half-written
        # Ben saves on top of the newer version: both versions are kept
        assert store.save_map_version(ws, '{"v": "ben"}', expected=2, author="ben") == 3
        # restore = the old body saved again as the newest version
        _, old = store.load_map_version(ws, 1)
        store.save_map_version(ws, old, expected=3, note="restored version 1")
    with Store(path) as store:
        history = store.map_versions(ws)
        assert [h.version for h in history] == [4, 3, 2, 1]
        assert history[0].note == "restored version 1" and history[1].author == "ben"
        assert store.load_map_version(ws) == (4, '{"v": 1}')
        assert store.load_map_version(ws, 3) == (3, '{"v": "ben"}')
        store.delete_workspace(ws)
        assert store._rows("SELECT count(*) FROM map_versions", [])[0][0] == 0


# -- content digests (the app's cache key without hashing on load) -----------------------------


def test_digest_follows_the_content_through_replace_and_append(store: Store, ws: str):
    frame = pl.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"]})
    store.save_table(ws, "events", frame)
    first = store.table_versions(ws)["events"]
    assert first == content_digest(frame) == content_digest(store.load_table(ws, "events"))
    store.save_table(ws, "events", frame.clone())  # the same rows again: the same digest
    assert store.table_versions(ws)["events"] == first
    store.save_table(ws, "events", frame.with_columns(pl.col("x") + 1))
    changed = store.table_versions(ws)["events"]
    assert changed != first
    store.save_table(ws, "events", frame.head(1), mode="append")  # same columns: rows added
    appended = store.table_versions(ws)["events"]
    assert appended not in (first, changed)
    store.save_table(ws, "events", pl.DataFrame({"x": [9]}), mode="append")  # fewer columns
    widened = store.table_versions(ws)["events"]
    assert widened not in (first, changed, appended)
    assert widened == content_digest(store.load_table(ws, "events"))


def _drop_digests(path: Path) -> None:
    """Make a file look as it did before digests were kept (schema 6, no digest column)."""
    import duckdb

    con = duckdb.connect(str(path))
    con.execute("ALTER TABLE datasets DROP COLUMN digest")
    con.execute("DELETE FROM schema_migrations WHERE version = 7")
    con.close()


def test_a_table_saved_before_digests_still_loads_and_is_named_by_file(tmp_path: Path):
    frame = every_dtype()
    paths = [tmp_path / "a.duckdb", tmp_path / "b.duckdb"]
    for path in paths:
        with Store(path) as s:
            s.create_workspace("Laden", default_journey("4741"), workspace_id="laden")
            s.save_table("laden", "events", frame)
        _drop_digests(path)
    tokens = []
    for path in paths:
        with Store(path) as s:  # the migration adds the column, empty for the old row
            assert s.schema_version == SCHEMA_VERSION
            assert_frame_equal(s.load_table("laden", "events"), frame)
            token = s.table_versions("laden")["events"]
            assert token.startswith(UNHASHED) and str(path) in token
            tokens.append(token)
            s.save_table("laden", "events", frame.head(1), mode="append")
            assert s.table_versions("laden")["events"].startswith(UNHASHED)  # still unknown
            assert s.load_table("laden", "events").height == 4
            s.save_table("laden", "events", frame)  # a replace keeps a digest again
            assert s.table_versions("laden")["events"] == content_digest(frame)
    assert tokens[0] != tokens[1]  # the same table in two files: two tokens


def test_a_table_just_saved_loads_without_a_read_until_it_changes(store: Store, ws: str,
                                                                 monkeypatch):
    frame = pl.DataFrame({"customer_id": ["a", "b"], "stage": ["Visit", "Buy"]})
    store.save_table(ws, "events", frame)
    reads = []
    monkeypatch.setattr(table_repo, "_read", lambda *a: reads.append(a) or pl.DataFrame())
    assert_frame_equal(store.load_table(ws, "events"), frame)  # the saved frame, kept
    assert reads == []
    monkeypatch.undo()
    with Store(store.path) as other:  # another store on the file replaces the rows
        other.save_table(ws, "events", frame.reverse())
    assert_frame_equal(store.load_table(ws, "events"), frame.reverse())  # read: new digest
    store.save_table(ws, "events", frame.head(1), mode="append")  # not kept: the rows are read
    assert store.load_table(ws, "events")["customer_id"].to_list() == ["b", "a", "a"]
    store.save_table(ws, "orders", pl.DataFrame({"order_id": [1]}))  # the last save's only
    assert store.load_table(ws, "events")["customer_id"].to_list() == ["b", "a", "a"]
