"""The workspace store: the one object the app and the command line open (DESIGN §8).

:class:`Store` is the composition root: it opens one :class:`~cjm_core.storage.database.Database`
(the connection, its thread cursors, transactions and migrations) and hands each concern to a
small repository over it, every one returning typed rows (:mod:`cjm_core.storage.rows`):

- workspaces: ``workspace_repo.WorkspaceRepo`` (table ``workspaces``)
- journey: ``journey_repo.JourneyRepo`` (``workspaces.journey``, JSON)
- tables: ``table_repo.TableRepo`` (``datasets`` and one ``ds_<n>`` per saved table)
- uploads: ``upload_repo.UploadRepo`` (``uploads``)
- mappings: ``mapping_repo.MappingRepo`` (``mappings``)
- settings: ``setting_repo.SettingRepo`` (``settings``)
- map versions: ``map_version_repo.MapVersionRepo`` (``map_versions``)
- share links: ``share_link_repo.ShareLinkRepo`` (``share_links``, token hashes only)
- event source: ``source_repo.SourceRepo`` (``event_sources``: events read where they live)

Its methods are the :class:`~cjm_core.storage.protocol.WorkspaceStore` protocol, which a share
link's :class:`~cjm_core.storage.scoped.ScopedStore` implements too (:meth:`Store.for_role`).
Inside one process, use :meth:`Store.shared` so every thread shares one connection; a second
process gets :class:`~cjm_core.errors.StoreLocked`.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from cjm_core.errors import AccessDenied
from cjm_core.model.journey import Journey
from cjm_core.storage.database import (
    DB_ENV,
    MIGRATIONS,
    SCHEMA_VERSION,
    Cursor,
    Database,
    default_db_path,
    resolve,
)
from cjm_core.storage.journey_repo import JourneyRepo
from cjm_core.storage.map_version_repo import MapVersionRepo
from cjm_core.storage.mapping_repo import MappingRepo, column_signature
from cjm_core.storage.names import WORKSPACE_ID_RE, signature_fold
from cjm_core.storage.protocol import (
    READ_METHODS,
    SCOPED_READS,
    SCOPED_WRITES,
    WRITE_METHODS,
    SaveMode,
    WorkspaceStore,
)
from cjm_core.storage.rows import MapBody, Mapping, MapVersion, ShareLink, Upload, Workspace
from cjm_core.storage.scoped import EditStore, ReadOnlyStore, ScopedStore, scoped_store
from cjm_core.storage.setting_repo import SettingRepo
from cjm_core.storage.share_link_repo import (
    ROLES,
    TOKEN_BYTES,
    ShareLinkRepo,
    check_role,
    token_hash,
)
from cjm_core.storage.source_repo import EventSource, SourceRepo
from cjm_core.storage.table_repo import TableRepo, UploadNote
from cjm_core.storage.upload_repo import UploadRepo
from cjm_core.storage.workspace_repo import WorkspaceRepo

__all__ = [
    "DB_ENV",
    "MIGRATIONS",
    "READ_METHODS",
    "ROLES",
    "SCHEMA_VERSION",
    "SCOPED_READS",
    "SCOPED_WRITES",
    "TOKEN_BYTES",
    "WORKSPACE_ID_RE",
    "WRITE_METHODS",
    "EditStore",
    "EventSource",
    "MapBody",
    "MapVersion",
    "Mapping",
    "ReadOnlyStore",
    "ScopedStore",
    "ShareLink",
    "Store",
    "Upload",
    "Workspace",
    "WorkspaceStore",
    "default_db_path",
    "signature_fold",
    "token_hash",
]


class Store(WorkspaceStore):
    """The workspace database: workspaces, their tables, mappings, journeys, maps and links.

    >>> import tempfile
    >>> from cjm_core.model.journey import default_journey
    >>> with tempfile.TemporaryDirectory() as d:
    ...     store = Store(Path(d) / "ws.duckdb")
    ...     ws = store.create_workspace("Hi-Fi Müller", default_journey("4742"))
    ...     store.save_table(ws, "funnel_counts", pl.DataFrame({"stage": ["a"], "customers": [3]}))
    ...     print(ws, store.table_counts(ws))
    ...     store.close()
    hi-fi-muller {'funnel_counts': 1}
    """

    _shared: ClassVar[dict[str, Store]] = {}
    _shared_guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False) -> None:
        self.db = Database(path, read_only=read_only)
        self.workspaces = WorkspaceRepo(self.db)
        self.journeys = JourneyRepo(self.db, self.workspaces)
        self.upload_history = UploadRepo(self.db, self.workspaces)
        self.tables = TableRepo(self.db, self.workspaces, self.upload_history)
        self.mappings = MappingRepo(self.db)
        self.settings = SettingRepo(self.db, self.workspaces)
        self.maps = MapVersionRepo(self.db, self.workspaces)
        self.links = ShareLinkRepo(self.db, self.workspaces)
        self.sources = SourceRepo(self.db, self.workspaces)

    @property
    def path(self) -> Path:
        """The database file."""
        return self.db.path

    @property
    def read_only(self) -> bool:
        """True when the file was opened read-only (every write raises ReadOnlyError)."""
        return self.db.read_only

    # -- lifecycle ----------------------------------------------------------------------------

    @classmethod
    def shared(cls, path: str | Path | None = None) -> Store:
        """The one read-write store of this process for ``path`` (what the app uses)."""
        resolved = resolve(path)
        key = str(resolved)
        with cls._shared_guard:
            store = cls._shared.get(key)
            if store is None or store.db.closed:
                store = cls(resolved)
                cls._shared[key] = store
            return store

    def close(self) -> None:
        """Close every thread's cursor and the connection; later calls raise StoreError."""
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"Store({str(self.path)!r}, {mode})"

    @property
    def schema_version(self) -> int:
        """The highest migration applied to this file."""
        return self.db.schema_version

    def _transaction(self) -> AbstractContextManager[Cursor]:
        # for tests that write a row the way an older app did
        return self.db.transaction()

    def _rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.db.rows(sql, params)

    # -- workspaces ---------------------------------------------------------------------------

    def create_workspace(self, name: str, journey: Journey, *,
                         workspace_id: str | None = None) -> str:
        """Create a workspace and return its id (a slug of the name unless one is given)."""
        return self.workspaces.create(name, journey, workspace_id=workspace_id)

    def list_workspaces(self) -> list[Workspace]:
        """All workspaces, by name then id."""
        return self.workspaces.list()

    def get_workspace(self, workspace_id: str) -> Workspace:
        """One workspace; StoreError if there is none with that id."""
        return self.workspaces.get(workspace_id)

    def has_workspace(self, workspace_id: str) -> bool:
        """Whether a workspace with this id exists (False for ids that are not valid)."""
        return self.workspaces.has(workspace_id)

    def rename_workspace(self, workspace_id: str, name: str) -> None:
        """Give a workspace a new display name; its id stays."""
        self.workspaces.rename(workspace_id, name)

    def delete_workspace(self, workspace_id: str) -> None:
        """Delete a workspace with its tables, upload history, settings and maps, in one
        transaction. Its share links stay listed as dead: they were made before any workspace
        that later gets the same id, so they never open it."""
        with self.db.transaction() as cur:
            self.workspaces.require(cur, workspace_id)
            self.tables.delete_all(cur, workspace_id)
            self.upload_history.delete_all(cur, workspace_id)
            self.settings.delete_all(cur, workspace_id)
            self.maps.delete_all(cur, workspace_id)
            self.sources.delete_all(cur, workspace_id)
            self.workspaces.delete(cur, workspace_id)

    def data_updated_at(self, workspace_id: str) -> datetime | None:
        """When the workspace's data last changed (for the map's staleness note)."""
        return self.get_workspace(workspace_id).data_updated_at

    # -- journey ------------------------------------------------------------------------------

    def save_journey(self, workspace_id: str, journey: Journey) -> None:
        """Replace the workspace's journey definition (stages, stage roles, ISIC code)."""
        self.journeys.save(workspace_id, journey)

    def get_journey(self, workspace_id: str) -> Journey:
        """The workspace's journey definition."""
        return self.journeys.get(workspace_id)

    # -- journey-map versions -----------------------------------------------------------------

    def save_map_version(self, workspace_id: str, body: str, *, expected: int | None,
                         author: str = "", note: str = "", map_name: str = "main") -> int:
        """Save a map as a new version and return its number. Every save is a new version; no
        version is ever overwritten.

        ``expected`` is the version the editor started from (None for a new map). If someone
        saved a newer version in between, :class:`~cjm_core.errors.MapConflict` is raised and
        nothing is written, so two people editing at once never lose each other's work
        silently; the caller can show both and save again with ``expected`` set to the newer
        version.
        """
        return self.maps.save(workspace_id, body, expected=expected, author=author, note=note,
                              map_name=map_name)

    def map_versions(self, workspace_id: str, map_name: str = "main") -> list[MapVersion]:
        """The history, newest first (no bodies)."""
        return self.maps.history(workspace_id, map_name)

    def load_map_version(self, workspace_id: str, version: int | None = None,
                         map_name: str = "main") -> MapBody | None:
        """(version, body) of a version, the latest when ``version`` is None; None if none."""
        return self.maps.load(workspace_id, version, map_name)

    # -- settings -----------------------------------------------------------------------------

    def save_setting(self, workspace_id: str, name: str, value: str) -> None:
        """Save one named per-workspace setting (a JSON text), replacing the previous value."""
        self.settings.save(workspace_id, name, value)

    def get_setting(self, workspace_id: str, name: str) -> str | None:
        """A per-workspace setting saved with :meth:`save_setting`, or None."""
        return self.settings.get(workspace_id, name)

    def delete_setting(self, workspace_id: str, name: str) -> None:
        """Forget a per-workspace setting (back to the default)."""
        self.settings.delete(workspace_id, name)

    # -- event source -------------------------------------------------------------------------

    def get_event_source(self, workspace_id: str) -> EventSource | None:
        """The workspace's events read where they live (a data lake), or None: uploaded tables."""
        return self.sources.get(workspace_id)

    def save_event_source(self, workspace_id: str, event_source: EventSource) -> None:
        """Point the workspace's events at a source (checked; replaces the previous one)."""
        self.sources.save(workspace_id, event_source)

    def delete_event_source(self, workspace_id: str) -> None:
        """Forget the source: the workspace's events are its uploaded tables again."""
        self.sources.delete(workspace_id)

    # -- tables -------------------------------------------------------------------------------

    def save_table(self, workspace_id: str, table: str, frame: pl.DataFrame, *,
                   source: str = "", mode: SaveMode = "replace", sheet: str = "",
                   rows_in: int | None = None, rows_rejected: int = 0) -> None:
        """Save one table of a workspace in one transaction.

        ``mode="append"`` adds the rows after the saved ones (columns are matched by name; new
        columns are added, missing ones become null). Giving ``rows_in`` also records the upload
        in the history in the same transaction, with ``rows_loaded = frame.height``.
        """
        note = None if rows_in is None else UploadNote(rows_in, rows_rejected, sheet)
        self.tables.save(workspace_id, {table: frame}, sources={table: source},
                         uploads={table: note}, mode=mode)

    def save_tables(self, workspace_id: str, tables: dict[str, pl.DataFrame], *,
                    sources: dict[str, str] | None = None,
                    uploads: dict[str, dict[str, Any]] | None = None) -> None:
        """Replace several tables of a workspace in ONE transaction (all or nothing).

        ``uploads`` optionally maps a table to ``{"rows_in": .., "rows_rejected": .., "sheet": ..}``
        to record in the upload history with it.
        """
        notes = {t: UploadNote.of(u, tables[t].height if t in tables else 0)
                 for t, u in (uploads or {}).items()}
        self.tables.save(workspace_id, tables, sources=sources or {}, uploads=notes)

    def load_table(self, workspace_id: str, table: str) -> pl.DataFrame | None:
        """A saved table with its column names, dtypes and row order; None if never saved."""
        return self.tables.load(workspace_id, table)

    def table_counts(self, workspace_id: str) -> dict[str, int]:
        """Rows per saved table, in the order of cjm_core.model.schema.TABLES."""
        return self.tables.counts(workspace_id)

    def table_versions(self, workspace_id: str) -> dict[str, str]:
        """A token per saved table that changes whenever the table changes (for cache keys):
        its content digest, kept since each save (equal rows, equal digest; an append gives a
        new one), or for a table saved before digests were kept a token starting with
        ``table_repo.UNHASHED`` (hash its rows for a content key)."""
        return self.tables.versions(workspace_id)

    def delete_table(self, workspace_id: str, table: str) -> None:
        """Remove one table from a workspace (no error if it was not saved)."""
        self.tables.delete(workspace_id, table)

    def verify(self) -> list[str]:
        """Consistency problems, empty when healthy: every saved table is there with its row
        count, no data table is left over, nothing points at a missing workspace."""
        return self.tables.verify()

    # -- upload history -----------------------------------------------------------------------

    def record_upload(self, workspace_id: str, *, source: str, sheet: str, table: str,
                      rows_in: int, rows_loaded: int, rows_rejected: int) -> None:
        """Add one line to the upload history (use save_table(rows_in=...) to do it atomically)."""
        self.upload_history.record(workspace_id, source=source, sheet=sheet, table=table,
                                   rows_in=rows_in, rows_loaded=rows_loaded,
                                   rows_rejected=rows_rejected)

    def uploads(self, workspace_id: str) -> list[Upload]:
        """Upload history of a workspace, oldest first."""
        return self.upload_history.history(workspace_id)

    # -- mappings -----------------------------------------------------------------------------

    column_signature = staticmethod(column_signature)

    def save_mapping(self, columns: list[str], table: str, roles: dict[str, str], *,
                     date_order: str | None = None,
                     scales: dict[str, int] | None = None) -> None:
        """Remember which table and roles an export with these columns maps to.

        ``roles`` maps role name -> column name; ``scales`` score role -> the scale the user
        chose. Saving again for the same header replaces it.
        """
        self.mappings.save(columns, table, roles, date_order=date_order, scales=scales)

    def find_mapping(self, columns: list[str]) -> Mapping | None:
        """The saved mapping for an export with these columns, or None.

        Role columns are given back as spelled in ``columns`` (matched by
        :func:`~cjm_core.storage.names.signature_fold`); a role whose column cannot be found is
        left out.
        """
        return self.mappings.find(columns)

    # -- share links --------------------------------------------------------------------------

    def create_share_link(self, workspace_id: str, role: str, *, created_by: str = "",
                          expires_at: datetime | None = None,
                          label: str = "") -> tuple[str, ShareLink]:
        """Make a share link for a workspace; returns ``(token, link)``.

        The token (``secrets.token_urlsafe(32)``: 256 random bits) is shown to the owner once
        and goes into the URL as ``?ws=<token>``; the database keeps only its SHA-256 hash.
        ``expires_at`` (UTC when naive) must lie in the future; None means no expiry.
        """
        return self.links.create(workspace_id, role, created_by=created_by,
                                 expires_at=expires_at, label=label)

    def resolve_share_token(self, token: str, *, now: datetime | None = None) -> ShareLink | None:
        """The link a token opens; None for a token that was never issued.

        Looked up by its SHA-256 hash, then compared with :func:`hmac.compare_digest`. Nothing is
        cached: a link revoked a moment ago raises ShareLinkRevoked on the very next call, an
        expired one ShareLinkExpired (``now`` is for tests).
        """
        return self.links.resolve(token, now=now)

    def check_share_link(self, link_id: str, *, now: datetime | None = None) -> ShareLink:
        """The link with this id if it still opens; ShareLinkRevoked / ShareLinkExpired if not,
        StoreError if there is no such link."""
        return self.links.check(link_id, now=now)

    def get_share_link(self, link_id: str) -> ShareLink:
        """One link by id, revoked or not; StoreError if there is none."""
        return self.links.get(link_id)

    def share_links(self, workspace_id: str, *, active_only: bool = True,
                    now: datetime | None = None) -> list[ShareLink]:
        """A workspace's links, newest first, with who made them and when.

        ``active_only`` leaves out revoked and expired links; links left over from a deleted
        workspace of the same id are never listed.
        """
        return self.links.list(workspace_id, active_only=active_only, now=now)

    def revoke_share_link(self, link_id: str, *, workspace_id: str | None = None) -> None:
        """Revoke a link for good: the next request with its token is refused. Revoking twice
        keeps the first time; there is no way to revive a revoked link.

        ``workspace_id``, when given, must be the link's workspace (a guard for pages that take
        the link id from a widget).
        """
        self.links.revoke(link_id, workspace_id=workspace_id)

    def rotate_share_link(self, link_id: str, *, workspace_id: str | None = None,
                          created_by: str | None = None) -> str:
        """Replace a link's token: the old link is revoked and a new one with the same role,
        expiry and label is made, in one transaction. Returns the new token.

        A revoked or expired link cannot be rotated (that would revive it): make a new one.
        """
        return self.links.rotate(link_id, workspace_id=workspace_id, created_by=created_by)

    # -- role-scoped stores -------------------------------------------------------------------

    def for_role(self, workspace_id: str, role: str, *,
                 link_id: str | None = None) -> ScopedStore:
        """A store on ONE workspace with a role's rights (what a share-link session uses).

        ``"view"`` gives a :class:`ReadOnlyStore` (reads only); ``"edit"`` an :class:`EditStore`
        that also writes that workspace's data, journey, settings and maps, but never manages
        share links or deletes the workspace. With ``link_id`` every call first checks that the
        link still opens, so revoking stops an open session too.
        """
        check_role(role)
        self.get_workspace(workspace_id)
        return scoped_store(self, workspace_id, role, link_id)

    def for_token(self, token: str) -> ScopedStore:
        """The scoped store a share-link token grants; AccessDenied for an unknown token,
        ShareLinkRevoked / ShareLinkExpired for a dead one."""
        link = self.resolve_share_token(token)
        if link is None:
            raise AccessDenied(
                "This share link is not valid: check that it was copied whole, or ask the "
                "workspace's owner for a new one.")
        return self.for_role(link.workspace_id, link.role, link_id=link.id)

