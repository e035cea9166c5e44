"""Share links in the store: hashed tokens, roles, expiry, revoke and rotate, and the role-scoped
handle that refuses a view link's writes and any other workspace (tampering) at the core."""

from __future__ import annotations

import datetime as dt
import inspect
import typing
from typing import NoReturn

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cjm_core.errors import (
    AccessDenied,
    CJMError,
    ReadOnlyError,
    ShareLinkExpired,
    ShareLinkRevoked,
    StoreError,
)
from cjm_core.model.journey import default_journey
from cjm_core.storage.protocol import (
    OWNER_WRITES,
    READ_METHODS,
    WRITE_METHODS,
    OwnerOperations,
    WorkspaceReads,
    WorkspaceStore,
    WorkspaceWrites,
)
from cjm_core.storage.scoped import EditStore, ReadOnlyStore
from cjm_core.storage.source_repo import EventSource
from cjm_core.storage.store import (
    SCHEMA_VERSION,
    SCOPED_READS,
    SCOPED_WRITES,
    ScopedStore,
    ShareLink,
    Store,
    token_hash,
)

UTC = dt.UTC


@pytest.fixture
def other(store: Store) -> str:
    ws = store.create_workspace("Other shop", default_journey("4773"))
    store.save_table(ws, "funnel_counts", pl.DataFrame({"stage": ["secret"], "customers": [9]}))
    store.save_setting(ws, "targets", '{"secret": 1}')
    return ws


def _raw_rows(store: Store) -> list[tuple]:
    return store._rows("SELECT * FROM share_links")


# -- tokens -------------------------------------------------------------------------------------


def test_migration_4_adds_the_share_links_table(store: Store):
    assert SCHEMA_VERSION >= 4
    assert store.schema_version == SCHEMA_VERSION
    names = {r[0] for r in store._rows(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'share_links'")}
    assert {"id", "workspace_id", "token_hash", "role", "created_by", "created_at",
            "expires_at", "revoked_at", "label"} <= names


def test_token_is_long_random_and_stored_only_as_its_hash(store: Store, ws: str):
    tokens = [store.create_share_link(ws, "view")[0] for _ in range(5)]
    assert len(set(tokens)) == 5
    for token in tokens:
        assert len(token) >= 43  # token_urlsafe(32): 256 bits, base64url without padding
    dump = repr(_raw_rows(store))
    for token in tokens:
        assert token not in dump
        assert token_hash(token) in dump
    # the database file itself never holds a token either
    store.close()
    data = store.path.read_bytes() + (
        store.path.with_suffix(".duckdb.wal").read_bytes()
        if store.path.with_suffix(".duckdb.wal").exists() else b"")
    for token in tokens:
        assert token.encode() not in data


def test_resolve_returns_the_link_with_role_label_and_creator(store: Store, ws: str):
    token, made = store.create_share_link(ws, "edit", created_by="Anna", label="Workshop")
    link = store.resolve_share_token(token)
    assert link == made
    assert (link.workspace_id, link.role, link.created_by, link.label) == (
        ws, "edit", "Anna", "Workshop")
    assert link.created_at.tzinfo is not None and link.revoked_at is None and link.active


@pytest.mark.parametrize("bad", ["", "x", "not a token", "a" * 43, None, 42, "ü" * 43,
                                 "A" * 5000])
def test_unknown_or_malformed_tokens_resolve_to_none(store: Store, ws: str, bad):
    store.create_share_link(ws, "view")
    assert store.resolve_share_token(bad) is None


def test_a_token_differing_in_one_character_does_not_open(store: Store, ws: str):
    token, _ = store.create_share_link(ws, "view")
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert store.resolve_share_token(flipped) is None
    assert store.resolve_share_token(token.upper() if token != token.upper() else
                                     token.lower()) is None


def test_roles_and_workspace_are_checked_on_create(store: Store, ws: str):
    with pytest.raises(StoreError, match="role"):
        store.create_share_link(ws, "admin")
    with pytest.raises(StoreError, match="no workspace"):
        store.create_share_link("nope", "view")
    with pytest.raises(StoreError, match="future"):
        store.create_share_link(ws, "view", expires_at=dt.datetime.now(UTC) - dt.timedelta(1))
    with pytest.raises(StoreError, match="at most"):
        store.create_share_link(ws, "view", label="x" * 201)
    assert store.share_links(ws) == []


# -- revoke, expire, rotate ---------------------------------------------------------------------


def test_revoking_takes_effect_on_the_very_next_request(store: Store, ws: str):
    token, link = store.create_share_link(ws, "view")
    assert store.resolve_share_token(token) is not None
    store.revoke_share_link(link.id)
    with pytest.raises(ShareLinkRevoked, match="revoked") as info:
        store.resolve_share_token(token)
    assert isinstance(info.value, CJMError) and info.value.code == "share-link-revoked"
    assert store.share_links(ws) == []
    [listed] = store.share_links(ws, active_only=False)
    assert listed.revoked_at is not None and not listed.active


def test_a_revoked_link_is_never_revived(store: Store, ws: str):
    token, link = store.create_share_link(ws, "edit")
    store.revoke_share_link(link.id)
    first = store.get_share_link(link.id).revoked_at
    store.revoke_share_link(link.id)  # twice: no error, first time kept
    assert store.get_share_link(link.id).revoked_at == first
    with pytest.raises(StoreError, match="revoked share link cannot be rotated"):
        store.rotate_share_link(link.id)
    # "turning sharing off and on": settings and new links never touch the revoked row
    store.save_setting(ws, "sharing", "off")
    store.save_setting(ws, "sharing", "on")
    store.create_share_link(ws, "edit")
    with pytest.raises(ShareLinkRevoked):
        store.resolve_share_token(token)
    with pytest.raises(ShareLinkRevoked):
        store.for_token(token)
    # a fresh store on the same file (a restart) agrees
    path = store.path
    store.close()
    with Store(path) as again, pytest.raises(ShareLinkRevoked):
        again.resolve_share_token(token)


def test_expired_links_raise_expired_and_drop_out_of_the_list(store: Store, ws: str):
    soon = dt.datetime.now(UTC) + dt.timedelta(hours=1)
    token, link = store.create_share_link(ws, "view", expires_at=soon)
    assert store.resolve_share_token(token) == link
    assert link.expires_at == soon.replace(microsecond=soon.microsecond)
    later = soon + dt.timedelta(seconds=1)
    with pytest.raises(ShareLinkExpired, match="expired") as info:
        store.resolve_share_token(token, now=later)
    assert info.value.code == "share-link-expired"
    assert store.share_links(ws, now=later) == []
    assert [x.id for x in store.share_links(ws, active_only=False, now=later)] == [link.id]
    # revoked beats expired: the page says revoked
    store.revoke_share_link(link.id)
    with pytest.raises(ShareLinkRevoked):
        store.resolve_share_token(token, now=later)


def test_naive_expiry_is_taken_as_utc(store: Store, ws: str):
    naive = (dt.datetime.now(UTC) + dt.timedelta(days=2)).replace(tzinfo=None)
    _, link = store.create_share_link(ws, "view", expires_at=naive)
    assert link.expires_at == naive.replace(tzinfo=UTC)
    assert store.share_links(ws)[0].expires_at == naive.replace(tzinfo=UTC)


def test_rotate_revokes_the_old_token_and_keeps_role_expiry_label(store: Store, ws: str):
    soon = dt.datetime.now(UTC) + dt.timedelta(days=7)
    old, link = store.create_share_link(ws, "edit", created_by="Anna", expires_at=soon,
                                        label="Board")
    new = store.rotate_share_link(link.id)
    assert new != old
    with pytest.raises(ShareLinkRevoked):
        store.resolve_share_token(old)
    fresh = store.resolve_share_token(new)
    assert (fresh.role, fresh.expires_at, fresh.label, fresh.created_by) == (
        "edit", link.expires_at, "Board", "Anna")
    assert fresh.id != link.id
    assert [x.id for x in store.share_links(ws)] == [fresh.id]
    assert store.resolve_share_token(store.rotate_share_link(fresh.id, created_by="Ben")
                                     ).created_by == "Ben"


def test_rotating_an_expired_link_is_refused(store: Store, ws: str, monkeypatch):
    import cjm_core.storage.database as store_module

    _, link = store.create_share_link(
        ws, "view", expires_at=dt.datetime.now(UTC) + dt.timedelta(minutes=1))
    real_now = store_module.now
    monkeypatch.setattr(store_module, "now", lambda: real_now() + dt.timedelta(hours=1))
    with pytest.raises(StoreError, match="expired share link cannot be rotated"):
        store.rotate_share_link(link.id)


def test_revoke_and_rotate_check_the_workspace_when_given(store: Store, ws: str, other: str):
    _, link = store.create_share_link(ws, "view")
    with pytest.raises(StoreError, match="no share link"):
        store.revoke_share_link(link.id, workspace_id=other)
    with pytest.raises(StoreError, match="no share link"):
        store.rotate_share_link(link.id, workspace_id=other)
    with pytest.raises(StoreError, match="no share link"):
        store.revoke_share_link("does-not-exist")
    assert store.share_links(ws)[0].revoked_at is None


def test_list_shows_who_made_each_link_newest_first(store: Store, ws: str, other: str):
    _, a = store.create_share_link(ws, "view", created_by="Anna", label="team")
    _, b = store.create_share_link(ws, "edit", created_by="Ben", label="workshop")
    store.create_share_link(other, "view")
    links = store.share_links(ws)
    assert [x.id for x in links] == [b.id, a.id]
    assert [(x.created_by, x.role, x.label) for x in links] == [
        ("Ben", "edit", "workshop"), ("Anna", "view", "team")]
    assert all(isinstance(x, ShareLink) and x.workspace_id == ws for x in links)


def test_links_of_a_deleted_workspace_never_open_a_new_one_with_the_same_id(store: Store):
    ws = store.create_workspace("Shop", default_journey("4773"))
    token, _ = store.create_share_link(ws, "edit")
    store.delete_workspace(ws)
    with pytest.raises(ShareLinkRevoked, match="deleted"):
        store.resolve_share_token(token)
    again = store.create_workspace("Shop", default_journey("4773"))
    assert again == ws
    with pytest.raises(ShareLinkRevoked, match="deleted"):
        store.resolve_share_token(token)
    assert store.share_links(again, active_only=False) == []


@settings(max_examples=25, deadline=None)
@given(label=st.text(max_size=60), who=st.text(max_size=60))
def test_labels_and_creators_are_kept_as_plain_text(tmp_path_factory, label, who):
    path = tmp_path_factory.mktemp("links") / "ws.duckdb"
    with Store(path) as store:
        ws = store.create_workspace("Shop", default_journey("4773"))
        token, _ = store.create_share_link(ws, "view", label=label, created_by=who)
        link = store.resolve_share_token(token)
        assert link.label == " ".join(label.split())
        assert link.created_by == " ".join(who.split())


# -- role-scoped handles --------------------------------------------------------------------------


#: writes of the workspace that only its owner may make, though they are workspace writes
SOURCE_WRITES = ("save_event_source", "delete_event_source")


def _call_args(store: Store, ws: str) -> dict[str, tuple[tuple, dict]]:
    """Plausible arguments for every scoped write, aimed at ``ws``."""
    frame = pl.DataFrame({"stage": ["a"], "customers": [1]})
    return {
        "save_table": ((ws, "funnel_counts", frame), {}),
        "save_tables": ((ws, {"funnel_counts": frame}), {}),
        "delete_table": ((ws, "funnel_counts"), {}),
        "save_journey": ((ws, default_journey("4741")), {}),
        "save_setting": ((ws, "targets", "{}"), {}),
        "delete_setting": ((ws, "targets"), {}),
        "save_map_version": ((ws, "{}"), {"expected": None}),
        "record_upload": ((ws,), {"source": "x.csv", "sheet": "", "table": "events",
                                  "rows_in": 1, "rows_loaded": 1, "rows_rejected": 0}),
        "rename_workspace": ((ws, "Renamed"), {}),
        "save_event_source": ((ws, EventSource("parquet", "/data/events", "spark")), {}),
        "delete_event_source": ((ws,), {}),
    }


def _snapshot(store: Store, ws: str) -> tuple:
    return (store.get_workspace(ws).name, store.table_counts(ws), store.get_setting(ws, "targets"),
            store.map_versions(ws), len(store.uploads(ws)), store.get_journey(ws).isic,
            store.get_event_source(ws))


def test_view_handle_reads_its_workspace(store: Store, ws: str):
    store.save_table(ws, "funnel_counts", pl.DataFrame({"stage": ["a"], "customers": [3]}))
    view = store.for_role(ws, "view")
    assert isinstance(view, ScopedStore) and view.read_only and not view.can_edit
    assert view.get_workspace(ws).id == ws
    assert view.table_counts(ws) == {"funnel_counts": 1}
    assert view.load_table(ws, "funnel_counts")["customers"].to_list() == [3]
    assert view.get_journey(ws).isic == "4742"
    assert [w.id for w in view.list_workspaces()] == [ws]
    assert view.has_workspace(ws)


def test_view_handle_refuses_every_write(store: Store, ws: str):
    store.save_setting(ws, "targets", '{"kept": 1}')
    view = store.for_role(ws, "view")
    before = _snapshot(store, ws)
    calls = _call_args(store, ws)
    assert set(calls) == set(SCOPED_WRITES)
    for name, (args, kwargs) in calls.items():
        with pytest.raises(ReadOnlyError):
            getattr(view, name)(*args, **kwargs)
    with pytest.raises(ReadOnlyError):
        view.save_mapping(["a"], "events", {"stage": "a"})
    for name in ("delete_workspace", "create_share_link", "revoke_share_link",
                 "rotate_share_link", "create_workspace"):
        with pytest.raises(ReadOnlyError):
            getattr(view, name)(ws)
    assert _snapshot(store, ws) == before
    assert store.find_mapping(["a"]) is None


def test_no_handle_reaches_another_workspace(store: Store, ws: str, other: str):
    for role in ("view", "edit"):
        handle = store.for_role(ws, role)
        for name in SCOPED_READS:
            args = {"load_table": (other, "funnel_counts"),
                    "get_setting": (other, "targets")}.get(name, (other,))
            with pytest.raises(AccessDenied, match="not shared with this link"):
                getattr(handle, name)(*args)
        for bad in (other, other.upper(), f"{ws}/../{other}", None, 1, [ws]):
            with pytest.raises(StoreError):
                handle.get_workspace(bad)
        assert not handle.has_workspace(other)
        assert [w.id for w in handle.list_workspaces()] == [ws]
    edit = store.for_role(ws, "edit")
    before = _snapshot(store, other)
    for name, (args, kwargs) in _call_args(store, other).items():
        with pytest.raises(AccessDenied):
            getattr(edit, name)(*args, **kwargs)
    assert _snapshot(store, other) == before


def test_edit_handle_writes_its_workspace_but_not_owner_things(store: Store, ws: str):
    edit = store.for_role(ws, "edit")
    assert edit.can_edit and not edit.read_only
    for name, (args, kwargs) in _call_args(store, ws).items():
        if name in SOURCE_WRITES:  # the owner's: checked below
            continue
        getattr(edit, name)(*args, **kwargs)
    for name in SOURCE_WRITES:
        args, kwargs = _call_args(store, ws)[name]
        with pytest.raises(AccessDenied, match="owner"):
            getattr(edit, name)(*args, **kwargs)
    assert store.get_event_source(ws) is None
    assert store.get_workspace(ws).name == "Renamed"
    assert store.map_versions(ws)[0].version == 1
    assert store.get_journey(ws).isic == "4741"
    edit.save_mapping(["a"], "events", {"stage": "a"})
    assert store.find_mapping(["a"]).roles == {"stage": "a"}
    for name in ("delete_workspace", "create_share_link", "revoke_share_link",
                 "rotate_share_link", "share_links", "create_workspace"):
        with pytest.raises(AccessDenied, match="owner"):
            getattr(edit, name)(ws)
    assert store.has_workspace(ws)
    assert not hasattr(edit, "verify") and not hasattr(edit, "for_role")


# -- the WorkspaceStore protocol ------------------------------------------------------------------

PROTOCOLS = (WorkspaceReads, WorkspaceWrites, OwnerOperations, WorkspaceStore)
#: a plausible value for each parameter name of the protocol's methods
ARGS = {"table": "funnel_counts", "frame": pl.DataFrame({"stage": ["a"], "customers": [1]}),
        "tables": {"funnel_counts": pl.DataFrame({"stage": ["a"], "customers": [1]})},
        "journey": default_journey("4741"), "name": "targets", "value": "{}", "body": "{}",
        "expected": None, "source": "x.csv", "sheet": "", "rows_in": 1, "rows_loaded": 1,
        "rows_rejected": 0, "columns": ["a"], "roles": {"stage": "a"}, "role": "view",
        "event_source": EventSource("parquet", "/data/events")}


def _required_args(name: str, ws: str, link_id: str) -> tuple[tuple, dict]:
    """Arguments for every required parameter of a protocol method, from its signature, so a
    write method added to the protocol is covered without touching this test."""
    proto = next(p for p in PROTOCOLS if name in vars(p))
    args: list = []
    kwargs: dict = {}
    for param in list(inspect.signature(getattr(proto, name)).parameters.values())[1:]:
        if param.default is not inspect.Parameter.empty:
            continue
        value = {"workspace_id": ws, "link_id": link_id}.get(param.name, ARGS.get(param.name))
        if param.kind is inspect.Parameter.KEYWORD_ONLY:
            kwargs[param.name] = value
        else:
            args.append(value)
    return tuple(args), kwargs


def _defined_by(cls: type, name: str) -> type:
    return next(c for c in cls.__mro__ if name in vars(c))


def test_both_stores_implement_the_workspace_store_protocol(store: Store, ws: str):
    view, edit = store.for_role(ws, "view"), store.for_role(ws, "edit")
    assert isinstance(view, ReadOnlyStore) and isinstance(edit, EditStore)
    for handle in (store, view, edit):
        assert isinstance(handle, WorkspaceStore)
    # every method is written out by the store itself, none falls back to a protocol stub
    for cls in (Store, ReadOnlyStore, EditStore):
        for name in (*READ_METHODS, *WRITE_METHODS, "share_links"):
            assert _defined_by(cls, name) not in PROTOCOLS, (cls.__name__, name)
    assert set(SCOPED_WRITES) < set(WRITE_METHODS)
    assert set(SCOPED_READS) < set(READ_METHODS)


def test_every_write_of_the_read_only_store_raises_read_only_error(store: Store, ws: str,
                                                                   other: str):
    _, link = store.create_share_link(ws, "view")
    view = store.for_role(ws, "view", link_id=link.id)
    before, before_other = _snapshot(store, ws), _snapshot(store, other)
    assert len(WRITE_METHODS) >= 15
    for name in WRITE_METHODS:
        # refused in the types too: each write is declared NoReturn on the read-only store
        assert name in vars(ReadOnlyStore), name
        assert typing.get_type_hints(getattr(ReadOnlyStore, name))["return"] is NoReturn, name
        for target in (ws, other):
            args, kwargs = _required_args(name, target, link.id)
            with pytest.raises(ReadOnlyError):
                getattr(view, name)(*args, **kwargs)
    assert _snapshot(store, ws) == before and _snapshot(store, other) == before_other
    assert [x.id for x in store.share_links(ws)] == [link.id]
    assert store.find_mapping(["a"]) is None


def test_the_edit_store_refuses_every_owner_operation(store: Store, ws: str):
    _, link = store.create_share_link(ws, "edit")
    edit = store.for_role(ws, "edit", link_id=link.id)
    for name in (*OWNER_WRITES, "share_links"):
        args, kwargs = _required_args(name, ws, link.id)
        with pytest.raises(AccessDenied, match="owner"):
            getattr(edit, name)(*args, **kwargs)
    assert store.has_workspace(ws) and store.check_share_link(link.id).id == link.id


def test_for_role_checks_role_and_workspace(store: Store, ws: str):
    with pytest.raises(StoreError, match="role"):
        store.for_role(ws, "owner")
    with pytest.raises(StoreError, match="no workspace"):
        store.for_role("missing", "view")


def test_for_token_gives_the_links_role_and_dies_with_the_link(store: Store, ws: str):
    view_token, view_link = store.create_share_link(ws, "view")
    edit_token, _ = store.create_share_link(ws, "edit")
    view = store.for_token(view_token)
    assert (view.workspace_id, view.role, view.link_id) == (ws, "view", view_link.id)
    with pytest.raises(ReadOnlyError):
        view.save_setting(ws, "targets", "{}")
    edit = store.for_token(edit_token)
    edit.save_setting(ws, "targets", '{"a": 1}')
    assert store.get_setting(ws, "targets") == '{"a": 1}'
    with pytest.raises(AccessDenied, match="not valid"):
        store.for_token("x" * 43)
    # a session holding the handle loses access the moment the link is revoked
    store.revoke_share_link(view_link.id)
    with pytest.raises(ShareLinkRevoked):
        view.table_counts(ws)
    with pytest.raises(ShareLinkRevoked):
        view.list_workspaces()
