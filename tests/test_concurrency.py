"""20 sessions at once on ONE shared store (DESIGN §10, issue 5 §6): threads upload tables, edit
journeys and settings, save map versions with the expected-version protocol and make and revoke
share links, in their own and in shared workspaces. Nothing may fail, nothing may be lost, and
every save must be readable afterwards, also after reopening the file."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cjm_core.errors import MapConflict, ReadOnlyError, ShareLinkRevoked
from cjm_core.model.journey import default_journey
from cjm_core.storage.store import Store

THREADS = 20
SHARED = 4  # shared workspaces: 5 threads each write the same one
ROUNDS = 3
ISICS = ("4773", "4741", "4742")


def events(thread: int, round_: int, n: int = 50) -> pl.DataFrame:
    return pl.DataFrame({
        "customer_id": [f"t{thread}-c{k}" for k in range(n)],
        "stage": [f"s{k % 5}" for k in range(n)],
        "thread": [thread] * n,
        "round": [round_] * n,
        "k": list(range(n)),
    })


def orders(thread: int, round_: int) -> pl.DataFrame:
    return pl.DataFrame({"customer_id": [f"t{thread}"], "amount": [thread * 100.0 + round_],
                         "round": [round_]})


@pytest.fixture
def shared_store(tmp_path: Path):
    path = tmp_path / "ws.duckdb"
    store = Store.shared(path)
    yield store
    store.close()
    Store._shared.pop(str(store.path), None)


def session(store: Store, i: int, own: str, shared: str, barrier: threading.Barrier,
            log: dict) -> None:
    """One user's session: what a page run would do, several times."""
    rnd = random.Random(i)
    barrier.wait()
    for r in range(ROUNDS):
        # an upload of two tables into the session's own workspace, all or nothing
        store.save_tables(own, {"events": events(i, r), "orders": orders(i, r)},
                          sources={"events": f"export-{i}-{r}.csv"},
                          uploads={"events": {"rows_in": 50, "rows_rejected": 0}})
        # the shared workspace grows by appends from 5 sessions at once
        store.save_table(shared, "events", events(i, r, n=10), mode="append")
        # edits: journey and settings
        store.save_journey(own, default_journey(ISICS[(i + r) % 3]))
        store.save_setting(shared, f"note-{i}-{r}", f'{{"thread": {i}, "round": {r}}}')
        # the map: read the latest, save on top of it, retry when someone else was quicker
        while True:
            latest = store.load_map_version(shared)
            expected = latest[0] if latest else None
            body = f'{{"by": {i}, "round": {r}}}'
            try:
                version = store.save_map_version(shared, body, expected=expected,
                                                 author=f"t{i}")
            except MapConflict:
                continue
            log["maps"].append((shared, version, body))
            break
        # share links: make two, revoke one
        keep, _ = store.create_share_link(shared, "view", created_by=f"t{i}")
        gone, gone_link = store.create_share_link(shared, "edit", created_by=f"t{i}")
        store.revoke_share_link(gone_link.id)
        log["links"].append((shared, keep, gone))
        # reads in between, and a view handle that must not write
        assert store.load_table(own, "events").height == 50
        view = store.for_token(keep)
        assert view.table_counts(shared)["events"] >= 10
        try:
            view.save_setting(shared, "hack", "1")
        except ReadOnlyError:
            pass
        else:  # pragma: no cover - a failure is reported through log["errors"]
            raise AssertionError("a view link could write")
        if rnd.random() < 0.5:
            store.table_versions(own)


def check(store: Store, own: list[str], shared: list[str], log: dict) -> None:
    # own workspaces: the last upload of each session, whole, with its upload history
    for i, ws in enumerate(own):
        assert_frame_equal(store.load_table(ws, "events"), events(i, ROUNDS - 1))
        assert_frame_equal(store.load_table(ws, "orders"), orders(i, ROUNDS - 1))
        assert store.table_counts(ws) == {"events": 50, "orders": 1}
        assert len(store.uploads(ws)) == ROUNDS
        assert store.get_journey(ws).isic == ISICS[(i + ROUNDS - 1) % 3]
    # shared workspaces: every appended row exactly once
    for s, ws in enumerate(shared):
        writers = [i for i in range(THREADS) if i % SHARED == s]
        got = store.load_table(ws, "events").sort("thread", "round", "k")
        want = pl.concat([events(i, r, n=10) for i in writers for r in range(ROUNDS)])
        assert_frame_equal(got, want.sort("thread", "round", "k"))
        for i in writers:
            for r in range(ROUNDS):
                assert store.get_setting(ws, f"note-{i}-{r}") == \
                    f'{{"thread": {i}, "round": {r}}}'
        assert store.get_setting(ws, "hack") is None
        # map versions: unique, contiguous 1..n, every body readable as saved
        saved = sorted((v, b) for w, v, b in log["maps"] if w == ws)
        assert [v for v, _ in saved] == list(range(1, len(writers) * ROUNDS + 1))
        assert [h.version for h in store.map_versions(ws)] == [v for v, _ in reversed(saved)]
        for version, body in saved:
            assert store.load_map_version(ws, version) == (version, body)
        assert len(store.share_links(ws)) == len(writers) * ROUNDS
        assert len(store.share_links(ws, active_only=False)) == 2 * len(writers) * ROUNDS
    for ws, keep, gone in log["links"]:
        assert store.resolve_share_token(keep).workspace_id == ws
        with pytest.raises(ShareLinkRevoked):
            store.resolve_share_token(gone)
    assert store.verify() == []


def test_twenty_sessions_at_once_lose_nothing(shared_store: Store):
    store = shared_store
    assert Store.shared(store.path) is store
    own = [store.create_workspace(f"Own {i}", default_journey("4773")) for i in range(THREADS)]
    shared = [store.create_workspace(f"Team {s}", default_journey("4742"))
              for s in range(SHARED)]
    barrier = threading.Barrier(THREADS)
    log: dict = {"maps": [], "links": [], "errors": []}
    lock = threading.Lock()

    def run(i: int) -> None:
        try:
            session(Store.shared(store.path), i, own[i], shared[i % SHARED], barrier, log)
        except BaseException as exc:  # collected and asserted below
            with lock:
                log["errors"].append((i, repr(exc)))
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i,), name=f"session-{i}")
               for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a session hung"
    assert log["errors"] == []
    assert len(log["maps"]) == THREADS * ROUNDS
    check(store, own, shared, log)
    # and everything is still there after a restart
    path = store.path
    store.close()
    Store._shared.pop(str(path), None)
    with Store(path) as again:
        check(again, own, shared, log)
