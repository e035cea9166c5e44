"""The workspace store: the one module that opens the DuckDB database file (DESIGN §8).

One DuckDB file holds workspaces, their loaded tables, the saved column mappings and each
workspace's journey definition. Its path comes from ``$CJM_DB``; the default is
``workspaces.duckdb`` at the repository root (git-ignored).

Layout
------
- ``schema_migrations``: one row per applied migration (``version``, ``name``, ``applied_at``).
  :data:`MIGRATIONS` is an append-only list; opening the store read-write applies the missing
  ones, each in its own transaction. Later features (journey-map versions, share links) add a
  migration at the end of the list and never edit an old one.
- ``workspaces``: id, name, isic, journey (JSON of :class:`~cjm_core.model.journey.Journey`),
timestamps.
- ``datasets``: one row per (workspace, table) naming its physical table ``ds_<n>`` (``n`` from a
  sequence, so no user text ever reaches SQL), the row count, the source, a version counter and
  the frame's exact polars schema (an empty frame as Arrow IPC bytes).
- ``ds_<n>``: the data, one physical table per (workspace, table). Columns are stored by
  position as ``c0, c1, ...`` plus ``_ord`` (row order), so user column names with spaces,
  quotes, markup or letters that differ only in case never meet SQL; the stored schema maps
  them back and restores dtypes DuckDB does not keep (Categorical, Enum, Duration, Int128).
- ``uploads``: upload history (source, sheet, table, rows in / loaded / rejected, time).
- ``mappings``: column roles (and the date order and score scales the user chose, migration 5)
  keyed by :meth:`Store.column_signature` of the export's header, so the same export uploaded
  again is mapped without clicks.
- ``share_links`` (migration 4): one row per share link: its role (view / edit), who made it and
  when, optional expiry, revocation time and label. The token itself is never stored, only its
  SHA-256 hash; see :meth:`Store.create_share_link`.

Durability and concurrency
--------------------------
Every save is one transaction (BEGIN ... COMMIT) followed by a CHECKPOINT. DuckDB's write-ahead
log makes a committed transaction survive a killed process; a transaction cut short leaves
nothing behind. One process holds the file read-write (DuckDB takes an OS file lock); each
thread uses its own cursor and writes are serialised by a per-file lock. A second process that
tries to open the file, read-write *or* read-only, gets :class:`~cjm_core.errors.StoreLocked`:
DuckDB refuses any second process while one holds the file for writing. Inside one process,
use :meth:`Store.shared` so every thread shares one connection.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import threading
import unicodedata
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal, NoReturn

import duckdb
import polars as pl

from cjm_core.errors import (
    AccessDenied,
    MapConflict,
    ReadOnlyError,
    ShareLinkExpired,
    ShareLinkRevoked,
    StoreError,
    StoreLocked,
)
from cjm_core.model.journey import Journey
from cjm_core.model.schema import TABLES

DB_ENV = "CJM_DB"
DEFAULT_DB_NAME = "workspaces.duckdb"

#: workspace ids: lowercase letters, digits, "-" and "_", starting with a letter or digit
WORKSPACE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_ROW_COLUMN = "__row__"
_ORD = "_ord"
_PHYSICAL_RE = re.compile(r"ds_[0-9]+")

#: append-only list of (version, name, statements); never edit a released entry
MIGRATIONS: list[tuple[int, str, tuple[str, ...]]] = [
    (
        1,
        "workspaces, datasets, uploads, mappings",
        (
            """CREATE TABLE workspaces (
                id VARCHAR PRIMARY KEY,
                name VARCHAR NOT NULL,
                isic VARCHAR NOT NULL,
                journey VARCHAR NOT NULL,
                created_at TIMESTAMP NOT NULL,
                updated_at TIMESTAMP NOT NULL,
                data_updated_at TIMESTAMP
            )""",
            "CREATE SEQUENCE dataset_seq START 1",
            """CREATE TABLE datasets (
                workspace_id VARCHAR NOT NULL,
                table_name VARCHAR NOT NULL,
                physical VARCHAR NOT NULL,
                schema_ipc BLOB NOT NULL,
                n_rows BIGINT NOT NULL,
                source VARCHAR NOT NULL,
                version BIGINT NOT NULL,
                updated_at TIMESTAMP NOT NULL,
                PRIMARY KEY (workspace_id, table_name)
            )""",
            "CREATE SEQUENCE upload_seq START 1",
            """CREATE TABLE uploads (
                id BIGINT PRIMARY KEY,
                workspace_id VARCHAR NOT NULL,
                source VARCHAR NOT NULL,
                sheet VARCHAR NOT NULL,
                table_name VARCHAR NOT NULL,
                rows_in BIGINT NOT NULL,
                rows_loaded BIGINT NOT NULL,
                rows_rejected BIGINT NOT NULL,
                uploaded_at TIMESTAMP NOT NULL
            )""",
            """CREATE TABLE mappings (
                signature VARCHAR PRIMARY KEY,
                table_name VARCHAR NOT NULL,
                columns VARCHAR NOT NULL,
                roles VARCHAR NOT NULL,
                date_order VARCHAR,
                saved_at TIMESTAMP NOT NULL
            )""",
        ),
    ),
    (
        2,
        "per-workspace settings (e.g. edited benchmark targets)",
        (
            """CREATE TABLE settings (
                workspace_id VARCHAR NOT NULL,
                name VARCHAR NOT NULL,
                value VARCHAR NOT NULL,
                saved_at TIMESTAMP NOT NULL,
                PRIMARY KEY (workspace_id, name)
            )""",
        ),
    ),
    (
        3,
        "journey-map versions",
        (
            """CREATE TABLE map_versions (
                workspace_id VARCHAR NOT NULL,
                map_name VARCHAR NOT NULL,
                version BIGINT NOT NULL,
                body VARCHAR NOT NULL,
                author VARCHAR NOT NULL,
                note VARCHAR NOT NULL,
                saved_at TIMESTAMP NOT NULL,
                PRIMARY KEY (workspace_id, map_name, version)
            )""",
        ),
    ),
    (
        4,
        "share links (tokens stored as SHA-256 hashes only)",
        (
            """CREATE TABLE share_links (
                id VARCHAR PRIMARY KEY,
                workspace_id VARCHAR NOT NULL,
                token_hash VARCHAR NOT NULL UNIQUE,
                role VARCHAR NOT NULL CHECK (role IN ('view', 'edit')),
                created_by VARCHAR NOT NULL,
                created_at TIMESTAMP NOT NULL,
                expires_at TIMESTAMP,
                revoked_at TIMESTAMP,
                label VARCHAR NOT NULL
            )""",
            "CREATE INDEX share_links_workspace ON share_links (workspace_id)",
        ),
    ),
    (
        5,
        "score scales chosen by the user, saved with the column mapping",
        ("ALTER TABLE mappings ADD COLUMN scales VARCHAR",),
    ),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


def default_db_path() -> Path:
    """Where the database lives: ``$CJM_DB`` if set, else ``workspaces.duckdb`` at the repo root.

    >>> default_db_path().name in {"workspaces.duckdb", Path(os.environ.get(DB_ENV, "x")).name}
    True
    """
    env = os.environ.get(DB_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[2] / DEFAULT_DB_NAME


@dataclass(frozen=True)
class Workspace:
    """One workspace as listed; timestamps are UTC."""

    id: str
    name: str
    isic: str
    created_at: datetime
    updated_at: datetime
    data_updated_at: datetime | None


@dataclass(frozen=True)
class Mapping:
    """A saved column mapping: which table an export loads into and which column plays each role.

    ``roles`` maps role name -> column name, spelled as in the columns passed to
    :meth:`Store.find_mapping` (so a header that changed only in case or accents still maps).
    """

    table: str
    roles: dict[str, str]
    date_order: str | None = None
    columns: list[str] = field(default_factory=list)
    #: score role -> the scale the user chose (5, 7, 10)
    scales: dict[str, int] = field(default_factory=dict)
    signature: str = ""
    saved_at: datetime | None = None


def signature_fold(text: str) -> str:
    """Fold a column name for header signatures: lowercase, no accents, punctuation as one space.

    Kept here rather than reusing :func:`cjm_core.ingest.roles.fold` on purpose: signatures are
    saved
    on disk, so this must never change when role matching is tuned. It is fully case-blind
    ("CustomerID" and "CUSTOMERID" fold alike).

    >>> signature_fold("  Kunden-Nr. (ÉTÉ)__ "), signature_fold("Größe")
    ('kunden nr ete', 'grosse')
    """
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", plain).split())


def _q(cur: Any, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Run a statement to its end (DuckDB 2 keeps a half-read result busy otherwise)."""
    return cur.execute(sql, params or []).fetchall()


def _one(cur: Any, sql: str, params: list[Any] | None = None) -> tuple[Any, ...] | None:
    rows = _q(cur, sql, params)
    return rows[0] if rows else None


def _resolve(path: str | Path | None) -> Path:
    return (Path(path).expanduser() if path is not None else default_db_path()).absolute()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", signature_fold(name)).strip("-")[:40].strip("-")


_WRITE_LOCKS: dict[str, threading.RLock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def _write_lock(path: Path) -> threading.RLock:
    # per file, not per Store, so two Store objects on one file in one process still serialise
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(str(path), threading.RLock())


def _lock_message(path: Path, exc: Exception) -> str:
    pid = re.search(r"PID (\d+)", str(exc))
    who = f"another process (PID {pid.group(1)})" if pid else "another process"
    return (
        f"The workspace database {path} is in use by {who}. Only one app or CLI can use a "
        f"database file at a time: close the other one, or point {DB_ENV} at another file."
    )


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    if read_only and not path.exists():
        raise StoreError(f"There is no workspace database at {path} to open read-only.")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" in text.lower():
            raise StoreLocked(_lock_message(path, exc)) from exc
        raise StoreError(f"Cannot open the workspace database {path}: {text}") from exc
    except duckdb.Error as exc:
        raise StoreError(f"Cannot open the workspace database {path}: {exc}") from exc


# -- frames <-> physical tables ---------------------------------------------------------------


def _phys(name: str) -> str:
    """The quoted name of a physical data table; only names this module generates pass."""
    if not _PHYSICAL_RE.fullmatch(name):
        raise StoreError(f"Unexpected data table name {name!r} in the workspace database.")
    return f'"{name}"'


def _storable(frame: pl.DataFrame) -> pl.DataFrame:
    """Positional column names and dtypes DuckDB round-trips; the schema blob restores the rest."""
    casts: list[pl.Expr] = []
    for i, (name, dtype) in enumerate(frame.schema.items()):
        col = pl.col(name)
        if isinstance(dtype, pl.Categorical | pl.Enum) or dtype in (pl.Int128, pl.UInt128):
            col = col.cast(pl.String)
        elif isinstance(dtype, pl.Duration):
            col = col.cast(pl.Int64)
        elif dtype == pl.Object:
            raise StoreError(f"Column {name!r} holds Python objects, which cannot be saved.")
        casts.append(col.alias(f"c{i}"))
    return frame.select(casts)


def _schema_blob(frame: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.clear().write_ipc(buf)
    return buf.getvalue()


def _schema_of(blob: bytes) -> pl.Schema:
    return pl.read_ipc(io.BytesIO(bytes(blob))).schema


class Store:
    """The workspace database: workspaces, their tables, mappings and journeys.

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
        self.path = _resolve(path)
        self.read_only = read_only
        self._write = _write_lock(self.path)
        self._cursors: dict[int, tuple[weakref.ref[threading.Thread], Any]] = {}
        self._cursors_guard = threading.Lock()
        self._closed = False
        self._con = _connect(self.path, read_only)
        try:
            if read_only:
                self._check_version()
            else:
                self._migrate()
        except BaseException:
            self._con.close()
            raise

    # -- lifecycle ----------------------------------------------------------------------------

    @classmethod
    def shared(cls, path: str | Path | None = None) -> Store:
        """The one read-write store of this process for ``path`` (what the app uses)."""
        resolved = _resolve(path)
        key = str(resolved)
        with cls._shared_guard:
            store = cls._shared.get(key)
            if store is None or store._closed:
                store = cls(resolved)
                cls._shared[key] = store
            return store

    def close(self) -> None:
        """Close every thread's cursor and the connection; later calls raise StoreError."""
        with self._write, self._cursors_guard:
            if self._closed:
                return
            self._closed = True
            for _, cursor in self._cursors.values():
                cursor.close()
            self._cursors.clear()
            self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"Store({str(self.path)!r}, {mode})"

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor; cursors of finished threads are closed as new ones appear."""
        if self._closed:
            raise StoreError(f"The workspace database {self.path} is closed.")
        ident = threading.get_ident()
        with self._cursors_guard:
            entry = self._cursors.get(ident)
            thread = threading.current_thread()
            if entry is not None and entry[0]() is thread:
                return entry[1]
            for key, (ref, cursor) in list(self._cursors.items()):
                alive = ref()
                if alive is None or not alive.is_alive() or key == ident:
                    cursor.close()
                    del self._cursors[key]
            cursor = self._con.cursor()
            self._cursors[ident] = (weakref.ref(thread), cursor)
            return cursor

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One write transaction, then a checkpoint; rolled back whole on any error."""
        if self.read_only:
            raise ReadOnlyError(f"The workspace database {self.path} is open read-only.")
        with self._write:
            cur = self._cursor()
            cur.begin()
            try:
                yield cur
            except BaseException:
                cur.rollback()
                raise
            try:
                cur.commit()
            except duckdb.Error as exc:
                raise StoreError(f"Saving to {self.path} failed: {exc}") from exc
            # a reader may hold an older snapshot; the commit is already safe in the WAL then
            with suppress(duckdb.TransactionException):
                cur.execute("CHECKPOINT")

    def _rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return _q(self._cursor(), sql, params)

    # -- migrations ---------------------------------------------------------------------------

    def _applied_version(self) -> int:
        exists = self._rows(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
        )[0][0]
        if not exists:
            return 0
        return self._rows("SELECT coalesce(max(version), 0) FROM schema_migrations")[0][0]

    def _check_version(self) -> int:
        version = self._applied_version()
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"The workspace database {self.path} was written by a newer version of the app "
                f"(schema {version}, this app knows up to {SCHEMA_VERSION}); update the app."
            )
        if self.read_only and version < SCHEMA_VERSION:
            raise StoreError(
                f"The workspace database {self.path} needs an upgrade; open it read-write once."
            )
        return version

    def _migrate(self) -> None:
        with self._transaction() as cur:
            _q(
                cur,
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
            )
        version = self._check_version()
        for number, name, statements in MIGRATIONS:
            if number <= version:
                continue
            with self._transaction() as cur:
                for statement in statements:
                    _q(cur, statement)
                _q(
                    cur,
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)", [number, name, _now()]
                )

    @property
    def schema_version(self) -> int:
        """The highest migration applied to this file."""
        return self._applied_version()

    # -- workspaces ---------------------------------------------------------------------------

    @staticmethod
    def _check_id(workspace_id: str) -> str:
        if not isinstance(workspace_id, str) or not WORKSPACE_ID_RE.match(workspace_id):
            raise StoreError(
                f"{workspace_id!r} is not a valid workspace id: use 1-64 lowercase letters, "
                "digits, '-' or '_'."
            )
        return workspace_id

    @staticmethod
    def _check_name(name: str) -> str:
        clean = " ".join(str(name).split())
        if not clean:
            raise StoreError("A workspace needs a name.")
        if len(clean) > 200:
            raise StoreError("A workspace name can be at most 200 characters long.")
        return clean

    def _exists(self, cur: Any, workspace_id: str) -> bool:
        row = _one(cur, "SELECT 1 FROM workspaces WHERE id = ?", [workspace_id])
        return row is not None

    def _require(self, cur: Any, workspace_id: str) -> None:
        self._check_id(workspace_id)
        if not self._exists(cur, workspace_id):
            raise StoreError(f"There is no workspace {workspace_id!r} in {self.path}.")

    def _new_id(self, cur: Any, name: str) -> str:
        base = _slug(name) or uuid.uuid4().hex[:12]
        candidate, n = base, 1
        while self._exists(cur, candidate):
            n += 1
            candidate = f"{base}-{n}"
        return candidate

    def create_workspace(
        self, name: str, journey: Journey, *, workspace_id: str | None = None
    ) -> str:
        """Create a workspace and return its id (a slug of the name unless one is given)."""
        clean = self._check_name(name)
        with self._transaction() as cur:
            if workspace_id is None:
                workspace_id = self._new_id(cur, clean)
            self._check_id(workspace_id)
            if self._exists(cur, workspace_id):
                raise StoreError(f"A workspace {workspace_id!r} already exists.")
            now = _now()
            _q(
                cur,
                "INSERT INTO workspaces VALUES (?, ?, ?, ?, ?, ?, NULL)",
                [workspace_id, clean, journey.isic, journey.to_json(), now, now],
            )
        return workspace_id

    def _workspace(self, row: tuple[Any, ...]) -> Workspace:
        return Workspace(row[0], row[1], row[2], _utc(row[3]), _utc(row[4]), _utc(row[5]))

    _WS_COLUMNS = "id, name, isic, created_at, updated_at, data_updated_at"

    def list_workspaces(self) -> list[Workspace]:
        """All workspaces, by name then id."""
        rows = self._rows(f"SELECT {self._WS_COLUMNS} FROM workspaces ORDER BY lower(name), id")
        return [self._workspace(r) for r in rows]

    def get_workspace(self, workspace_id: str) -> Workspace:
        """One workspace; StoreError if there is none with that id."""
        self._check_id(workspace_id)
        rows = self._rows(f"SELECT {self._WS_COLUMNS} FROM workspaces WHERE id = ?", [workspace_id])
        if not rows:
            raise StoreError(f"There is no workspace {workspace_id!r} in {self.path}.")
        return self._workspace(rows[0])

    def has_workspace(self, workspace_id: str) -> bool:
        """Whether a workspace with this id exists (False for ids that are not valid)."""
        if not isinstance(workspace_id, str) or not WORKSPACE_ID_RE.match(workspace_id):
            return False
        return bool(self._rows("SELECT 1 FROM workspaces WHERE id = ?", [workspace_id]))

    def rename_workspace(self, workspace_id: str, name: str) -> None:
        """Give a workspace a new display name; its id stays."""
        clean = self._check_name(name)
        with self._transaction() as cur:
            self._require(cur, workspace_id)
            _q(
                cur,
                "UPDATE workspaces SET name = ?, updated_at = ? WHERE id = ?",
                [clean, _now(), workspace_id],
            )

    def delete_workspace(self, workspace_id: str) -> None:
        """Delete a workspace with its tables and upload history."""
        with self._transaction() as cur:
            self._require(cur, workspace_id)
            tables = _q(
                cur,
                "SELECT physical FROM datasets WHERE workspace_id = ?", [workspace_id]
            )
            for (physical,) in tables:
                _q(cur, f'DROP TABLE IF EXISTS {_phys(physical)}')
            for table in ("datasets", "uploads", "settings", "map_versions"):
                _q(cur, f"DELETE FROM {table} WHERE workspace_id = ?", [workspace_id])
            _q(cur, "DELETE FROM workspaces WHERE id = ?", [workspace_id])

    # -- journey-map versions -----------------------------------------------------------------

    def save_map_version(self, workspace_id: str, body: str, *, expected: int | None,
                         author: str = "", note: str = "", map_name: str = "main") -> int:
        """Save a map as a new version and return its number. Every save is a new version; no
        version is ever overwritten.

        ``expected`` is the version the editor started from (None for a new map). If someone
        saved a newer version in between, :class:`MapConflict` is raised and nothing is written,
        so two people editing at once never lose each other's work silently; the caller can
        show both and save again with ``expected`` set to the newer version.
        """
        with self._transaction() as cur:
            self._require(cur, workspace_id)
            row = _one(cur, "SELECT max(version) FROM map_versions WHERE workspace_id = ? "
                       "AND map_name = ?", [workspace_id, map_name])
            latest = row[0] if row and row[0] is not None else None
            if latest != expected:
                raise MapConflict(
                    f"Someone saved version {latest} of this map after you opened version "
                    f"{expected}. Your edits are kept on screen: review the newer version, "
                    "then save again to make yours the latest.", latest=latest)
            version = (latest or 0) + 1
            _q(cur, "INSERT INTO map_versions VALUES (?, ?, ?, ?, ?, ?, ?)",
               [workspace_id, map_name, version, body, author, note, _now()])
            return version

    def map_versions(self, workspace_id: str, map_name: str = "main") -> list[dict]:
        """The history, newest first: version, author, note, saved_at (no bodies)."""
        self._check_id(workspace_id)
        rows = self._rows("SELECT version, author, note, saved_at FROM map_versions "
                          "WHERE workspace_id = ? AND map_name = ? ORDER BY version DESC",
                          [workspace_id, map_name])
        return [{"version": v, "author": a, "note": n, "saved_at": _utc(t)}
                for v, a, n, t in rows]

    def load_map_version(self, workspace_id: str, version: int | None = None,
                         map_name: str = "main") -> tuple[int, str] | None:
        """(version, body) of a version, the latest when ``version`` is None; None if none."""
        self._check_id(workspace_id)
        if version is None:
            rows = self._rows("SELECT version, body FROM map_versions WHERE workspace_id = ? "
                              "AND map_name = ? ORDER BY version DESC LIMIT 1",
                              [workspace_id, map_name])
        else:
            rows = self._rows("SELECT version, body FROM map_versions WHERE workspace_id = ? "
                              "AND map_name = ? AND version = ?",
                              [workspace_id, map_name, int(version)])
        return (int(rows[0][0]), rows[0][1]) if rows else None

    def data_updated_at(self, workspace_id: str) -> datetime | None:
        """When the workspace's data last changed (for the map's staleness note)."""
        return self.get_workspace(workspace_id).data_updated_at

    # -- settings -----------------------------------------------------------------------------

    def save_setting(self, workspace_id: str, name: str, value: str) -> None:
        """Save one named per-workspace setting (a JSON text), replacing the previous value."""
        with self._transaction() as cur:
            self._require(cur, workspace_id)
            _q(cur, "DELETE FROM settings WHERE workspace_id = ? AND name = ?",
               [workspace_id, name])
            _q(cur, "INSERT INTO settings VALUES (?, ?, ?, ?)",
               [workspace_id, name, value, _now()])

    def get_setting(self, workspace_id: str, name: str) -> str | None:
        """A per-workspace setting saved with :meth:`save_setting`, or None."""
        self._check_id(workspace_id)
        rows = self._rows("SELECT value FROM settings WHERE workspace_id = ? AND name = ?",
                          [workspace_id, name])
        return rows[0][0] if rows else None

    def delete_setting(self, workspace_id: str, name: str) -> None:
        """Forget a per-workspace setting (back to the default)."""
        with self._transaction() as cur:
            _q(cur, "DELETE FROM settings WHERE workspace_id = ? AND name = ?",
               [workspace_id, name])

    # -- journey ------------------------------------------------------------------------------

    def save_journey(self, workspace_id: str, journey: Journey) -> None:
        """Replace the workspace's journey definition (stages, stage roles, ISIC code)."""
        with self._transaction() as cur:
            self._require(cur, workspace_id)
            _q(
                cur,
                "UPDATE workspaces SET journey = ?, isic = ?, updated_at = ? WHERE id = ?",
                [journey.to_json(), journey.isic, _now(), workspace_id],
            )

    def get_journey(self, workspace_id: str) -> Journey:
        """The workspace's journey definition."""
        self._check_id(workspace_id)
        rows = self._rows("SELECT journey FROM workspaces WHERE id = ?", [workspace_id])
        if not rows:
            raise StoreError(f"There is no workspace {workspace_id!r} in {self.path}.")
        return Journey.from_json(rows[0][0])

    # -- tables -------------------------------------------------------------------------------

    @staticmethod
    def _check_table(table: str) -> str:
        if table not in TABLES:
            known = ", ".join(TABLES)
            raise StoreError(f"{table!r} is not a table a workspace can hold; use one of {known}.")
        return table

    def save_table(
        self,
        workspace_id: str,
        table: str,
        frame: pl.DataFrame,
        *,
        source: str = "",
        mode: Literal["replace", "append"] = "replace",
        sheet: str = "",
        rows_in: int | None = None,
        rows_rejected: int = 0,
    ) -> None:
        """Save one table of a workspace in one transaction.

        ``mode="append"`` adds the rows after the saved ones (columns are matched by name; new
        columns are added, missing ones become null). Giving ``rows_in`` also records the upload
        in the history in the same transaction, with ``rows_loaded = frame.height``.
        """
        upload = None if rows_in is None else {"sheet": sheet, "rows_in": rows_in,
                                               "rows_rejected": rows_rejected}
        with self._transaction() as cur:
            self._require(cur, workspace_id)
            self._save(cur, workspace_id, table, frame, source, mode, upload)
            self._touch_data(cur, workspace_id)

    def save_tables(
        self,
        workspace_id: str,
        tables: dict[str, pl.DataFrame],
        *,
        sources: dict[str, str] | None = None,
        uploads: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        """Replace several tables of a workspace in ONE transaction (all or nothing).

        ``uploads`` optionally maps a table to ``{"rows_in": .., "rows_rejected": .., "sheet": ..}``
        to record in the upload history with it.
        """
        sources = sources or {}
        uploads = uploads or {}
        for table in tables:
            self._check_table(table)
        with self._transaction() as cur:
            self._require(cur, workspace_id)
            for table, frame in tables.items():
                self._save(cur, workspace_id, table, frame, sources.get(table, ""), "replace",
                           uploads.get(table))
            self._touch_data(cur, workspace_id)

    def _touch_data(self, cur: Any, workspace_id: str) -> None:
        now = _now()
        _q(
            cur,
            "UPDATE workspaces SET updated_at = ?, data_updated_at = ? WHERE id = ?",
            [now, now, workspace_id],
        )

    def _save(
        self,
        cur: Any,
        workspace_id: str,
        table: str,
        frame: pl.DataFrame,
        source: str,
        mode: str,
        upload: dict[str, Any] | None,
    ) -> None:
        self._check_table(table)
        if not isinstance(frame, pl.DataFrame):
            raise StoreError(f"Table {table!r} must be a polars DataFrame, not {type(frame)}.")
        if mode not in ("replace", "append"):
            raise StoreError(f"Unknown save mode {mode!r}; use 'replace' or 'append'.")
        old = _one(
            cur,
            "SELECT physical, schema_ipc, n_rows, version FROM datasets "
            "WHERE workspace_id = ? AND table_name = ?",
            [workspace_id, table],
        )
        if mode == "append" and old is not None:
            old_schema = _schema_of(old[1])
            if frame.schema == old_schema:
                self._insert(cur, old[0], frame, offset=old[2])
                self._upsert_dataset(cur, workspace_id, table, old[0], old[1],
                                     old[2] + frame.height, source, old[3] + 1)
                self._record(cur, workspace_id, table, source, upload, frame.height)
                return
            before = self._read(cur, old[0], old_schema)
            frame = pl.concat([before, frame], how="diagonal_relaxed")
        physical = f"ds_{_one(cur, 'SELECT nextval(?)', ['dataset_seq'])[0]}"
        self._create(cur, physical, frame)
        if old is not None:
            _q(cur, f'DROP TABLE {_phys(old[0])}')
        self._upsert_dataset(cur, workspace_id, table, physical, _schema_blob(frame),
                             frame.height, source, (old[3] + 1) if old else 1)
        self._record(cur, workspace_id, table, source, upload, frame.height)

    @staticmethod
    def _registered(cur: Any, frame: pl.DataFrame, offset: int) -> str:
        data = _storable(frame).with_row_index(_ORD, offset=offset)
        name = f"_incoming_{uuid.uuid4().hex}"
        cur.register(name, data)
        return name

    def _create(self, cur: Any, physical: str, frame: pl.DataFrame) -> None:
        view = self._registered(cur, frame, 0)
        try:
            _q(cur, f'CREATE TABLE {_phys(physical)} AS SELECT * FROM "{view}"')
        finally:
            cur.unregister(view)

    def _insert(self, cur: Any, physical: str, frame: pl.DataFrame, *, offset: int) -> None:
        if frame.height == 0:
            return
        view = self._registered(cur, frame, offset)
        try:
            _q(cur, f'INSERT INTO {_phys(physical)} BY NAME SELECT * FROM "{view}"')
        finally:
            cur.unregister(view)

    @staticmethod
    def _upsert_dataset(cur: Any, workspace_id: str, table: str, physical: str, blob: bytes,
                        n_rows: int, source: str, version: int) -> None:
        _q(
            cur,
            "INSERT INTO datasets VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (workspace_id, table_name) DO UPDATE SET physical = excluded.physical, "
            "schema_ipc = excluded.schema_ipc, n_rows = excluded.n_rows, "
            "source = excluded.source, version = excluded.version, "
            "updated_at = excluded.updated_at",
            [workspace_id, table, physical, blob, n_rows, source, version, _now()],
        )

    def _record(self, cur: Any, workspace_id: str, table: str, source: str,
                upload: dict[str, Any] | None, rows_loaded: int) -> None:
        if upload is None:
            return
        self._insert_upload(
            cur, workspace_id, source=source, sheet=str(upload.get("sheet", "")), table=table,
            rows_in=int(upload.get("rows_in", rows_loaded)), rows_loaded=rows_loaded,
            rows_rejected=int(upload.get("rows_rejected", 0)),
        )

    @staticmethod
    def _read(cur: Any, physical: str, schema: pl.Schema) -> pl.DataFrame:
        names = list(schema)
        if not names:
            return pl.DataFrame(schema=schema)
        cols = ", ".join(f"c{i}" for i in range(len(names)))
        raw = cur.sql(f'SELECT {cols} FROM {_phys(physical)} ORDER BY {_ORD}').pl()
        return raw.rename(dict(zip(raw.columns, names, strict=True))).cast(dict(schema))

    def load_table(self, workspace_id: str, table: str) -> pl.DataFrame | None:
        """A saved table with its column names, dtypes and row order; None if never saved."""
        self._check_id(workspace_id)
        self._check_table(table)
        cur = self._cursor()
        # one read transaction so a concurrent replace cannot drop the table between the lookups
        cur.begin()
        try:
            row = _one(
                cur,
                "SELECT physical, schema_ipc, n_rows FROM datasets "
                "WHERE workspace_id = ? AND table_name = ?",
                [workspace_id, table],
            )
            if row is None:
                return None
            return self._read(cur, row[0], _schema_of(row[1]))
        finally:
            cur.rollback()

    def table_counts(self, workspace_id: str) -> dict[str, int]:
        """Rows per saved table, in the order of cjm_core.model.schema.TABLES."""
        self._check_id(workspace_id)
        rows = dict(self._rows(
            "SELECT table_name, n_rows FROM datasets WHERE workspace_id = ?", [workspace_id]
        ))
        return {t: rows[t] for t in TABLES if t in rows}

    def table_versions(self, workspace_id: str) -> dict[str, str]:
        """A token per saved table that changes whenever the table changes (for cache keys)."""
        self._check_id(workspace_id)
        rows = self._rows(
            "SELECT table_name, physical, version, n_rows FROM datasets WHERE workspace_id = ?",
            [workspace_id],
        )
        found = {t: f"{workspace_id}/{p}/v{v}/{n}" for t, p, v, n in rows}
        return {t: found[t] for t in TABLES if t in found}

    def delete_table(self, workspace_id: str, table: str) -> None:
        """Remove one table from a workspace (no error if it was not saved)."""
        self._check_table(table)
        with self._transaction() as cur:
            self._require(cur, workspace_id)
            row = _one(
                cur,
                "SELECT physical FROM datasets WHERE workspace_id = ? AND table_name = ?",
                [workspace_id, table],
            )
            if row is None:
                return
            _q(cur, f'DROP TABLE {_phys(row[0])}')
            _q(
                cur,
                "DELETE FROM datasets WHERE workspace_id = ? AND table_name = ?",
                [workspace_id, table],
            )
            self._touch_data(cur, workspace_id)

    def verify(self) -> list[str]:
        """Consistency problems, empty when healthy: every saved table is there with its row
        count, no data table is left over, nothing points at a missing workspace."""
        cur = self._cursor()
        cur.begin()
        try:
            datasets = _q(cur, "SELECT workspace_id, table_name, physical, n_rows FROM datasets")
            tables = {
                name for (name,) in _q(cur, "SELECT table_name FROM duckdb_tables()")
                if _PHYSICAL_RE.fullmatch(name)
            }
            workspaces = {wid for (wid,) in _q(cur, "SELECT id FROM workspaces")}
            problems = [
                f"data table {name} belongs to no saved table"
                for name in sorted(tables - {d[2] for d in datasets})
            ]
            for wid, table, physical, n_rows in datasets:
                where = f"{wid}/{table}"
                if wid not in workspaces:
                    problems.append(f"{where} belongs to a missing workspace")
                if physical not in tables:
                    problems.append(f"{where}: data table {physical} is missing")
                    continue
                found = _q(cur, f"SELECT count(*) FROM {_phys(physical)}")[0][0]
                if found != n_rows:
                    problems.append(f"{where}: {found} rows stored, {n_rows} recorded")
            stray = _q(cur, "SELECT DISTINCT workspace_id FROM uploads")
            problems += [f"uploads of missing workspace {w}" for (w,) in stray
                         if w not in workspaces]
            return problems
        finally:
            cur.rollback()

    # -- upload history -----------------------------------------------------------------------

    def record_upload(self, workspace_id: str, *, source: str, sheet: str, table: str,
                      rows_in: int, rows_loaded: int, rows_rejected: int) -> None:
        """Add one line to the upload history (use save_table(rows_in=...) to do it atomically)."""
        self._check_table(table)
        with self._transaction() as cur:
            self._require(cur, workspace_id)
            self._insert_upload(cur, workspace_id, source=source, sheet=sheet, table=table,
                                rows_in=rows_in, rows_loaded=rows_loaded,
                                rows_rejected=rows_rejected)

    @staticmethod
    def _insert_upload(cur: Any, workspace_id: str, *, source: str, sheet: str, table: str,
                       rows_in: int, rows_loaded: int, rows_rejected: int) -> None:
        _q(
            cur,
            "INSERT INTO uploads VALUES (nextval('upload_seq'), ?, ?, ?, ?, ?, ?, ?, ?)",
            [workspace_id, source or "", sheet or "", table, int(rows_in), int(rows_loaded),
             int(rows_rejected), _now()],
        )

    def uploads(self, workspace_id: str) -> list[dict[str, Any]]:
        """Upload history of a workspace, oldest first."""
        self._check_id(workspace_id)
        rows = self._rows(
            "SELECT source, sheet, table_name, rows_in, rows_loaded, rows_rejected, uploaded_at "
            "FROM uploads WHERE workspace_id = ? ORDER BY id",
            [workspace_id],
        )
        keys = ("source", "sheet", "table", "rows_in", "rows_loaded", "rows_rejected", "at")
        return [dict(zip(keys, (*r[:6], _utc(r[6])), strict=True)) for r in rows]

    # -- mappings -----------------------------------------------------------------------------

    @staticmethod
    def column_signature(columns: list[str]) -> str:
        """Stable hash of an export's header: folded, sorted names, ignoring ``__row__``.

        >>> Store.column_signature(["Kunde", "Datum"]) == Store.column_signature(["DATUM", "kunde"])
        True
        """
        names = sorted(signature_fold(c) for c in columns if c != _ROW_COLUMN)
        return hashlib.sha256(json.dumps(names, ensure_ascii=False).encode()).hexdigest()[:32]

    def save_mapping(self, columns: list[str], table: str, roles: dict[str, str], *,
                     date_order: str | None = None, scales: dict[str, int] | None = None
                     ) -> None:
        """Remember which table and roles an export with these columns maps to.

        ``roles`` maps role name -> column name; ``scales`` score role -> the scale the user
        chose. Saving again for the same header replaces it.
        """
        self._check_table(table)
        signature = self.column_signature(columns)
        with self._transaction() as cur:
            _q(
                cur,
                "INSERT INTO mappings (signature, table_name, columns, roles, date_order, "
                "saved_at, scales) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (signature) DO UPDATE "
                "SET table_name = excluded.table_name, columns = excluded.columns, "
                "roles = excluded.roles, date_order = excluded.date_order, "
                "saved_at = excluded.saved_at, scales = excluded.scales",
                [signature, table, json.dumps(list(columns), ensure_ascii=False),
                 json.dumps(dict(roles), ensure_ascii=False), date_order, _now(),
                 json.dumps({r: int(n) for r, n in (scales or {}).items()})],
            )

    def find_mapping(self, columns: list[str]) -> Mapping | None:
        """The saved mapping for an export with these columns, or None.

        Role columns are given back as spelled in ``columns`` (matched by
        :func:`signature_fold`); a role whose column cannot be found is left out.
        """
        signature = self.column_signature(columns)
        rows = self._rows(
            "SELECT table_name, columns, roles, date_order, saved_at, scales FROM mappings "
            "WHERE signature = ?",
            [signature],
        )
        if not rows:
            return None
        table, _saved_columns, roles_json, date_order, saved_at, scales_json = rows[0]
        by_fold: dict[str, str] = {}
        for column in columns:
            by_fold.setdefault(signature_fold(column), column)
        roles = {}
        for role, column in json.loads(roles_json).items():
            if column in columns:
                roles[role] = column
            elif signature_fold(column) in by_fold:
                roles[role] = by_fold[signature_fold(column)]
        return Mapping(table=table, roles=roles, date_order=date_order, columns=list(columns),
                       signature=signature, saved_at=_utc(saved_at),
                       scales=json.loads(scales_json) if scales_json else {})

    # -- share links (migration 4) ------------------------------------------------------------

    _LINK_COLUMNS = ("l.id, l.workspace_id, l.role, l.created_by, l.created_at, l.expires_at, "
                     "l.revoked_at, l.label")

    def create_share_link(self, workspace_id: str, role: str, *, created_by: str = "",
                          expires_at: datetime | None = None,
                          label: str = "") -> tuple[str, ShareLink]:
        """Make a share link for a workspace; returns ``(token, link)``.

        The token (``secrets.token_urlsafe(32)``: 256 random bits) is shown to the owner once
        and goes into the URL as ``?ws=<token>``; the database keeps only its SHA-256 hash.
        ``expires_at`` (UTC when naive) must lie in the future; None means no expiry.
        """
        _check_role(role)
        expires = _naive_utc(expires_at)
        now = _now()
        if expires is not None and expires <= now:
            raise StoreError("A share link's expiry must lie in the future.")
        created_by, label = _link_text(created_by, "creator"), _link_text(label, "label")
        token = secrets.token_urlsafe(TOKEN_BYTES)
        link_id = uuid.uuid4().hex[:16]
        with self._transaction() as cur:
            self._require(cur, workspace_id)
            _q(cur, "INSERT INTO share_links VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)",
               [link_id, workspace_id, token_hash(token), role, created_by, now, expires, label])
        return token, ShareLink(link_id, workspace_id, role, created_by, _utc(now),
                                _utc(expires), None, label)

    def _link_rows(self, where: str, params: list[Any]) -> list[tuple[Any, ...]]:
        # the workspace's created_at tells links of a deleted workspace from those of a new
        # workspace that happens to get the same id: only links made after it count
        return self._rows(
            f"SELECT {self._LINK_COLUMNS}, l.token_hash, w.created_at FROM share_links l "
            f"LEFT JOIN workspaces w ON w.id = l.workspace_id WHERE {where}", params)

    @staticmethod
    def _live(row: tuple[Any, ...], now: datetime | None) -> ShareLink:
        """The link of a row, or ShareLinkRevoked / ShareLinkExpired if it no longer opens."""
        link = _share_link(row[:8])
        ws_created = row[9]
        if row[6] is not None:
            raise ShareLinkRevoked(
                f"This share link was revoked on {_when(row[6])}. Ask the workspace's owner "
                "for a new link.")
        if ws_created is None or ws_created > row[4]:
            raise ShareLinkRevoked(
                "The workspace this share link opened has been deleted. Ask its owner for a "
                "new link.")
        moment = _naive_utc(now) if now is not None else _now()
        if row[5] is not None and row[5] <= moment:
            raise ShareLinkExpired(
                f"This share link expired on {_when(row[5])}. Ask the workspace's owner for a "
                "new link.")
        return link

    def resolve_share_token(self, token: str, *, now: datetime | None = None) -> ShareLink | None:
        """The link a token opens; None for a token that was never issued.

        Looked up by its SHA-256 hash, then compared with :func:`hmac.compare_digest`. Nothing is
        cached: a link revoked a moment ago raises :class:`ShareLinkRevoked` on the very next
        call, an expired one :class:`ShareLinkExpired` (``now`` is for tests).
        """
        if not isinstance(token, str) or not _TOKEN_RE.fullmatch(token):
            return None
        digest = token_hash(token)
        rows = self._link_rows("l.token_hash = ?", [digest])
        if not rows or not hmac.compare_digest(rows[0][8].encode(), digest.encode()):
            return None
        return self._live(rows[0], now)

    def check_share_link(self, link_id: str, *, now: datetime | None = None) -> ShareLink:
        """The link with this id if it still opens; ShareLinkRevoked / ShareLinkExpired if not,
        StoreError if there is no such link."""
        rows = self._link_rows("l.id = ?", [str(link_id)])
        if not rows:
            raise StoreError(f"There is no share link {link_id!r}.")
        return self._live(rows[0], now)

    def get_share_link(self, link_id: str) -> ShareLink:
        """One link by id, revoked or not; StoreError if there is none."""
        rows = self._link_rows("l.id = ?", [str(link_id)])
        if not rows:
            raise StoreError(f"There is no share link {link_id!r}.")
        return _share_link(rows[0][:8])

    def share_links(self, workspace_id: str, *, active_only: bool = True,
                    now: datetime | None = None) -> list[ShareLink]:
        """A workspace's links, newest first, with who made them and when.

        ``active_only`` leaves out revoked and expired links; links left over from a deleted
        workspace of the same id are never listed.
        """
        self._check_id(workspace_id)
        moment = _naive_utc(now) if now is not None else _now()
        where = "l.workspace_id = ? AND w.created_at <= l.created_at"
        params: list[Any] = [workspace_id]
        if active_only:
            where += " AND l.revoked_at IS NULL AND (l.expires_at IS NULL OR l.expires_at > ?)"
            params.append(moment)
        rows = self._link_rows(where + " ORDER BY l.created_at DESC, l.id", params)
        return [_share_link(r[:8]) for r in rows]

    def _owned_link(self, cur: Any, link_id: str, workspace_id: str | None) -> tuple[Any, ...]:
        row = _one(cur, "SELECT workspace_id, role, expires_at, revoked_at, label, created_by "
                   "FROM share_links WHERE id = ?", [str(link_id)])
        if row is None or (workspace_id is not None and row[0] != workspace_id):
            where = "" if workspace_id is None else f" for workspace {workspace_id!r}"
            raise StoreError(f"There is no share link {link_id!r}{where}.")
        return row

    def revoke_share_link(self, link_id: str, *, workspace_id: str | None = None) -> None:
        """Revoke a link for good: the next request with its token is refused. Revoking twice
        keeps the first time; there is no way to revive a revoked link.

        ``workspace_id``, when given, must be the link's workspace (a guard for pages that take
        the link id from a widget).
        """
        with self._transaction() as cur:
            self._owned_link(cur, link_id, workspace_id)
            _q(cur, "UPDATE share_links SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
               [_now(), str(link_id)])

    def rotate_share_link(self, link_id: str, *, workspace_id: str | None = None,
                          created_by: str | None = None) -> str:
        """Replace a link's token: the old link is revoked and a new one with the same role,
        expiry and label is made, in one transaction. Returns the new token.

        A revoked or expired link cannot be rotated (that would revive it): make a new one.
        """
        with self._transaction() as cur:
            ws, role, expires, revoked, label, creator = self._owned_link(
                cur, link_id, workspace_id)
            if revoked is not None:
                raise StoreError("A revoked share link cannot be rotated; make a new link.")
            now = _now()
            if expires is not None and expires <= now:
                raise StoreError("An expired share link cannot be rotated; make a new link.")
            self._require(cur, ws)
            who = creator if created_by is None else _link_text(created_by, "creator")
            token = secrets.token_urlsafe(TOKEN_BYTES)
            _q(cur, "UPDATE share_links SET revoked_at = ? WHERE id = ?", [now, str(link_id)])
            _q(cur, "INSERT INTO share_links VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)",
               [uuid.uuid4().hex[:16], ws, token_hash(token), role, who, now, expires, label])
        return token

    # -- role-scoped handles ------------------------------------------------------------------

    def for_role(self, workspace_id: str, role: str, *,
                 link_id: str | None = None) -> ScopedStore:
        """A handle on ONE workspace with a role's rights (what a share-link session uses).

        ``"view"`` reads only; ``"edit"`` also writes that workspace's data, journey, settings
        and maps, but never manages share links or deletes the workspace. With ``link_id`` every
        call first checks that the link still opens, so revoking stops an open session too.
        """
        _check_role(role)
        self.get_workspace(workspace_id)
        return ScopedStore(self, workspace_id, role, link_id)

    def for_token(self, token: str) -> ScopedStore:
        """The scoped handle a share-link token grants; AccessDenied for an unknown token,
        ShareLinkRevoked / ShareLinkExpired for a dead one."""
        link = self.resolve_share_token(token)
        if link is None:
            raise AccessDenied(
                "This share link is not valid: check that it was copied whole, or ask the "
                "workspace's owner for a new one.")
        return self.for_role(link.workspace_id, link.role, link_id=link.id)


#: bytes of randomness in a share-link token (256 bits; the issue asks for at least 128)
TOKEN_BYTES = 32
ROLES = ("view", "edit")
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{22,128}")
_LINK_TEXT_MAX = 200


def token_hash(token: str) -> str:
    """The stored form of a share-link token: its SHA-256, hex.

    A plain fast hash is enough here, unlike for passwords: a token carries 256 random bits, so
    there is nothing to guess from a leaked hash, and a slow KDF would only slow every request.

    >>> token_hash("abc")[:16]
    'ba7816bf8f01cfea'
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ShareLink:
    """One share link as listed (never its token); timestamps are UTC."""

    id: str
    workspace_id: str
    role: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    label: str

    @property
    def active(self) -> bool:
        """Neither revoked nor past its expiry (at the time of asking)."""
        expired = self.expires_at is not None and self.expires_at <= datetime.now(UTC)
        return self.revoked_at is None and not expired


def _share_link(row: tuple[Any, ...]) -> ShareLink:
    return ShareLink(row[0], row[1], row[2], row[3], _utc(row[4]), _utc(row[5]), _utc(row[6]),
                     row[7])


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise StoreError(f"{role!r} is not a share-link role; use 'view' or 'edit'.")
    return role


def _naive_utc(value: datetime | None) -> datetime | None:
    """A timestamp as the store keeps it: naive UTC (a naive input is taken as UTC)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise StoreError(f"Expected a date and time, got {value!r}.")
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None)


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _link_text(text: str, what: str) -> str:
    clean = " ".join(str(text).split())
    if len(clean) > _LINK_TEXT_MAX:
        raise StoreError(f"A share link's {what} can be at most {_LINK_TEXT_MAX} characters long.")
    return clean


class ScopedStore:
    """A store handle limited to one workspace and one role; see :meth:`Store.for_role`.

    It has the same method names and arguments as :class:`Store`, so pages can use either.
    Any other workspace id raises :class:`AccessDenied` ("not shared with this link"); a view
    handle refuses every write with :class:`ReadOnlyError`; an edit handle refuses deleting the
    workspace and managing share links with :class:`AccessDenied`.

    >>> import tempfile
    >>> from cjm_core.model.journey import default_journey
    >>> with tempfile.TemporaryDirectory() as d, Store(Path(d) / "ws.duckdb") as store:
    ...     ws = store.create_workspace("Shop", default_journey("4773"))
    ...     view = store.for_role(ws, "view")
    ...     try:
    ...         view.save_setting(ws, "targets", "{}")
    ...     except ReadOnlyError as exc:
    ...         print(exc.code, view.get_workspace(ws).name)
    read-only Shop
    """

    def __init__(self, store: Store, workspace_id: str, role: str,
                 link_id: str | None = None) -> None:
        self._store = store
        self.workspace_id = workspace_id
        self.role = _check_role(role)
        self.link_id = link_id

    @property
    def read_only(self) -> bool:
        """True for a view handle (pages hide edit controls on it)."""
        return self.role == "view"

    @property
    def can_edit(self) -> bool:
        """True for an edit handle."""
        return self.role == "edit"

    def __repr__(self) -> str:
        return f"ScopedStore({self.workspace_id!r}, {self.role!r})"

    def _live(self) -> None:
        if self.link_id is not None:
            self._store.check_share_link(self.link_id)

    def _check(self, workspace_id: object, *, write: bool) -> None:
        self._live()
        if write and self.read_only:
            raise ReadOnlyError("This workspace is shared with you read-only; it cannot be "
                                "changed through this link.")
        if not isinstance(workspace_id, str) or workspace_id != self.workspace_id:
            raise AccessDenied("That workspace is not shared with this link.")

    def _owner_only(self, what: str, *, write: bool = True) -> NoReturn:
        self._live()
        if write and self.read_only:
            raise ReadOnlyError(f"This workspace is shared with you read-only; {what} is not "
                                "possible through this link.")
        raise AccessDenied(f"Only the workspace's owner can {what}; a share link cannot.")

    # workspace-independent helpers
    column_signature = staticmethod(Store.column_signature)

    def list_workspaces(self) -> list[Workspace]:
        """Only the shared workspace."""
        self._live()
        return [self._store.get_workspace(self.workspace_id)]

    def has_workspace(self, workspace_id: str) -> bool:
        """True only for the shared workspace."""
        self._live()
        return workspace_id == self.workspace_id and self._store.has_workspace(workspace_id)

    def find_mapping(self, columns: list[str]) -> Mapping | None:
        """A saved column mapping (mappings are keyed by header, not by workspace)."""
        self._live()
        return self._store.find_mapping(columns)

    def save_mapping(self, columns: list[str], table: str, roles: dict[str, str], *,
                     date_order: str | None = None, scales: dict[str, int] | None = None
                     ) -> None:
        """Remember a column mapping (edit handles only)."""
        self._live()
        if self.read_only:
            raise ReadOnlyError("This workspace is shared with you read-only; mappings cannot "
                                "be saved through this link.")
        self._store.save_mapping(columns, table, roles, date_order=date_order, scales=scales)

    # owner-only operations, refused on any share-link handle
    def create_workspace(self, *args: Any, **kwargs: Any) -> str:
        """Refused: a share link cannot create workspaces."""
        self._owner_only("create a workspace")

    def delete_workspace(self, *args: Any, **kwargs: Any) -> None:
        """Refused: a share link cannot delete its workspace."""
        self._owner_only("delete the workspace")

    def create_share_link(self, *args: Any, **kwargs: Any) -> tuple[str, ShareLink]:
        """Refused: a share link cannot make share links."""
        self._owner_only("make share links")

    def revoke_share_link(self, *args: Any, **kwargs: Any) -> None:
        """Refused: a share link cannot revoke share links."""
        self._owner_only("revoke share links")

    def rotate_share_link(self, *args: Any, **kwargs: Any) -> str:
        """Refused: a share link cannot rotate share links."""
        self._owner_only("rotate share links")

    def share_links(self, *args: Any, **kwargs: Any) -> list[ShareLink]:
        """Refused: a share link cannot list the workspace's links."""
        self._owner_only("list share links", write=False)


#: Store methods a scoped handle passes on for its own workspace (first argument)
SCOPED_READS = ("get_workspace", "get_journey", "load_table", "table_counts", "table_versions",
                "uploads", "map_versions", "load_map_version", "data_updated_at", "get_setting")
#: ... and those it passes on for an edit handle only
SCOPED_WRITES = ("save_table", "save_tables", "delete_table", "save_journey", "save_setting",
                 "delete_setting", "save_map_version", "record_upload", "rename_workspace")


def _scoped(name: str, *, write: bool) -> Any:
    target = getattr(Store, name)

    @functools.wraps(target)
    def method(self: ScopedStore, workspace_id: str, *args: Any, **kwargs: Any) -> Any:
        self._check(workspace_id, write=write)
        return getattr(self._store, name)(workspace_id, *args, **kwargs)

    method.__doc__ = (f"Store.{name} for the shared workspace only"
                      + (" (edit handles only)." if write else "."))
    return method


for _name in SCOPED_READS:
    setattr(ScopedStore, _name, _scoped(_name, write=False))
for _name in SCOPED_WRITES:
    setattr(ScopedStore, _name, _scoped(_name, write=True))
del _name
