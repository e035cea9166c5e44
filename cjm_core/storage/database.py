"""The one connection helper of the store: opening the DuckDB file, a cursor per thread, write
transactions, migrations and checkpoints. The repositories (``*_repo.py``) only run SQL through it.

One DuckDB file holds everything (DESIGN §8). Its path comes from ``$CJM_DB``; the default is
``workspaces.duckdb`` at the repository root (git-ignored).

Migrations
----------
``schema_migrations`` holds one row per applied migration (``version``, ``name``,
``applied_at``). :data:`MIGRATIONS` is an append-only list; opening the file read-write applies
the missing ones, each in its own transaction. A feature that needs a table adds a migration at
the end of the list and never edits an old one.

Durability and concurrency
--------------------------
Every save is one transaction (BEGIN ... COMMIT) followed by a CHECKPOINT. DuckDB's write-ahead
log makes a committed transaction survive a killed process; a transaction cut short leaves
nothing behind. One process holds the file read-write (DuckDB takes an OS file lock); each
thread uses its own cursor and writes are serialised by a per-file lock. A second process that
tries to open the file, read-write *or* read-only, gets :class:`~cjm_core.errors.StoreLocked`.
"""

from __future__ import annotations

import os
import re
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from cjm_core.errors import ReadOnlyError, StoreError, StoreLocked

DB_ENV = "CJM_DB"
DEFAULT_DB_NAME = "workspaces.duckdb"

#: a DuckDB cursor (a connection object in DuckDB's Python API)
Cursor = duckdb.DuckDBPyConnection
#: one result row, read by column name
Record = dict[str, Any]

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
    (
        6,
        "a workspace's events read where they live (a data-lake source, issue 15)",
        (
            """CREATE TABLE event_sources (
                workspace_id VARCHAR PRIMARY KEY,
                kind VARCHAR NOT NULL CHECK (kind IN ('parquet', 'delta', 'table')),
                location VARCHAR NOT NULL,
                engine VARCHAR NOT NULL CHECK (engine IN ('local', 'spark')),
                master VARCHAR NOT NULL,
                saved_at TIMESTAMP NOT NULL
            )""",
        ),
    ),
    (
        7,
        "a content digest per saved table (the app's cache key without hashing on load)",
        ("ALTER TABLE datasets ADD COLUMN digest VARCHAR",),
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


def resolve(path: str | Path | None) -> Path:
    """The absolute path of a database file (the default one for None)."""
    return (Path(path).expanduser() if path is not None else default_db_path()).absolute()


# -- running statements -------------------------------------------------------------------------


def run(cur: Cursor, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Run a statement to its end (DuckDB keeps a half-read result busy otherwise)."""
    return cur.execute(sql, params or []).fetchall()


def scalar(cur: Cursor, sql: str, params: list[Any] | None = None) -> Any:
    """The first column of the first row, or None when there is no row."""
    rows = run(cur, sql, params)
    return rows[0][0] if rows else None


def records(cur: Cursor, sql: str, params: list[Any] | None = None) -> list[Record]:
    """Every row of a query as a dict keyed by column name (never read a row by position)."""
    rows = run(cur, sql, params)
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in rows]


def record(cur: Cursor, sql: str, params: list[Any] | None = None) -> Record | None:
    """The first row of a query by column name, or None."""
    found = records(cur, sql, params)
    return found[0] if found else None


# -- time: the file keeps naive UTC ---------------------------------------------------------------


def now() -> datetime:
    """The current time as the store keeps it: naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def utc(value: datetime | None) -> datetime | None:
    """A stored (naive UTC) timestamp as an aware one."""
    return None if value is None else value.replace(tzinfo=UTC)


def aware(value: datetime) -> datetime:
    """A stored timestamp that is never NULL, as an aware one."""
    return value.replace(tzinfo=UTC)


def naive_utc(value: datetime | None) -> datetime | None:
    """A timestamp as the store keeps it: naive UTC (a naive input is taken as UTC)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise StoreError(f"Expected a date and time, got {value!r}.")
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None)


# -- the connection ------------------------------------------------------------------------------

_WRITE_LOCKS: dict[str, threading.RLock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def _write_lock(path: Path) -> threading.RLock:
    # per file, not per Database, so two stores on one file in one process still serialise
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


class Database:
    """One open DuckDB file: a cursor per thread, serialised write transactions, migrations.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     db = Database(Path(d) / "ws.duckdb")
    ...     with db.transaction() as cur:
    ...         _ = run(cur, "INSERT INTO settings VALUES ('w', 'n', 'v', ?)", [now()])
    ...     print(db.records("SELECT name, value FROM settings"))
    ...     db.close()
    [{'name': 'n', 'value': 'v'}]
    """

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False) -> None:
        self.path = resolve(path)
        self.read_only = read_only
        self.write_lock = _write_lock(self.path)
        self._cursors: dict[int, tuple[weakref.ref[threading.Thread], Cursor]] = {}
        self._cursors_guard = threading.Lock()
        self.closed = False
        self._con = _connect(self.path, read_only)
        try:
            # text columns reach polars as Arrow string views, its own layout (DuckDB hands
            # them out from Arrow format 1.4 on): a 10M-event table reads ≈ 3-5% faster; one
            # setting for the whole file, every cursor included
            run(self._con, "SET produce_arrow_string_view = true")
            run(self._con, "SET arrow_output_version = '1.4'")
            if read_only:
                self._check_version()
            else:
                self._migrate()
        except BaseException:
            self._con.close()
            raise

    def close(self) -> None:
        """Close every thread's cursor and the connection; later calls raise StoreError."""
        with self.write_lock, self._cursors_guard:
            if self.closed:
                return
            self.closed = True
            for _, cursor in self._cursors.values():
                cursor.close()
            self._cursors.clear()
            self._con.close()

    def cursor(self) -> Cursor:
        """This thread's cursor; cursors of finished threads are closed as new ones appear."""
        if self.closed:
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
    def transaction(self) -> Iterator[Cursor]:
        """One write transaction, then a checkpoint; rolled back whole on any error."""
        if self.read_only:
            raise ReadOnlyError(f"The workspace database {self.path} is open read-only.")
        with self.write_lock:
            cur = self.cursor()
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

    @contextmanager
    def snapshot(self) -> Iterator[Cursor]:
        """One read transaction: every query inside sees the same state of the file."""
        cur = self.cursor()
        cur.begin()
        try:
            yield cur
        finally:
            cur.rollback()

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one read on this thread's cursor (rows as tuples; for counts and checks)."""
        return run(self.cursor(), sql, params)

    def records(self, sql: str, params: list[Any] | None = None) -> list[Record]:
        """Run one read on this thread's cursor; rows by column name."""
        return records(self.cursor(), sql, params)

    def record(self, sql: str, params: list[Any] | None = None) -> Record | None:
        """The first row of one read by column name, or None."""
        return record(self.cursor(), sql, params)

    # -- migrations -------------------------------------------------------------------------------

    def _applied_version(self) -> int:
        exists = scalar(
            self.cursor(),
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'",
        )
        if not exists:
            return 0
        return int(scalar(self.cursor(), "SELECT coalesce(max(version), 0) FROM schema_migrations"))

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
        with self.transaction() as cur:
            run(
                cur,
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
            )
        version = self._check_version()
        for number, name, statements in MIGRATIONS:
            if number <= version:
                continue
            with self.transaction() as cur:
                for statement in statements:
                    run(cur, statement)
                run(cur, "INSERT INTO schema_migrations VALUES (?, ?, ?)", [number, name, now()])

    @property
    def schema_version(self) -> int:
        """The highest migration applied to this file."""
        return self._applied_version()
