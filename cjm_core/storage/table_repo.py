"""The tables of a workspace: one catalogue row per (workspace, table) in ``datasets`` and the data
in a physical table ``ds_<n>`` (``n`` from a sequence, so no user text ever reaches SQL).

Columns are stored by position as ``c0, c1, ...`` plus ``_ord`` (row order), so user column names
with spaces, quotes, markup or letters that differ only in case never meet SQL; the frame's exact
polars schema is kept beside it (an empty frame as Arrow IPC bytes) and restores the names and
the dtypes DuckDB does not keep (Categorical, Enum, Duration, Int128).
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from collections.abc import Mapping as MappingOf
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from cjm_core.errors import StoreError
from cjm_core.model.schema import TABLES
from cjm_core.parallel import run_both
from cjm_core.storage.database import Cursor, Database, Record, now, record, records, run, scalar
from cjm_core.storage.names import check_id, check_table
from cjm_core.storage.rows import StoredTable
from cjm_core.storage.upload_repo import UploadRepo
from cjm_core.storage.workspace_repo import WorkspaceRepo

SaveMode = Literal["replace", "append"]
_ORD = "_ord"
PHYSICAL_RE = re.compile(r"ds_[0-9]+")
_DATASET_COLUMNS = ("workspace_id, table_name, physical, schema_ipc, n_rows, source, version, "
                    "digest")
#: how a table saved before digests were kept is named in :meth:`TableRepo.versions`
UNHASHED = "unhashed:"


@dataclass(frozen=True)
class UploadNote:
    """What to write in the upload history with a save (``rows_loaded`` is the frame's height)."""

    rows_in: int
    rows_rejected: int = 0
    sheet: str = ""

    @classmethod
    def of(cls, upload: MappingOf[str, Any] | None, rows_loaded: int) -> UploadNote | None:
        """From the ``{"rows_in", "rows_rejected", "sheet"}`` dict callers pass; None for none."""
        if upload is None:
            return None
        return cls(rows_in=int(upload.get("rows_in", rows_loaded)),
                   rows_rejected=int(upload.get("rows_rejected", 0)),
                   sheet=str(upload.get("sheet", "")))


# -- frames <-> physical tables -------------------------------------------------------------------


def phys(name: str) -> str:
    """The quoted name of a physical data table; only names this module generates pass."""
    if not PHYSICAL_RE.fullmatch(name):
        raise StoreError(f"Unexpected data table name {name!r} in the workspace database.")
    return f'"{name}"'


def _check_storable(frame: pl.DataFrame) -> None:
    """Refuse columns DuckDB cannot hold, before anything is written or hashed (hashing Python
    objects on a second thread while this one reads the frame deadlocks in polars)."""
    for name, dtype in frame.schema.items():
        if dtype == pl.Object:
            raise StoreError(f"Column {name!r} holds Python objects, which cannot be saved.")


def _storable(frame: pl.DataFrame) -> pl.DataFrame:
    """Positional column names and dtypes DuckDB round-trips; the schema blob restores the rest."""
    _check_storable(frame)
    casts: list[pl.Expr] = []
    for i, (name, dtype) in enumerate(frame.schema.items()):
        col = pl.col(name)
        if isinstance(dtype, pl.Categorical | pl.Enum) or dtype in (pl.Int128, pl.UInt128):
            col = col.cast(pl.String)
        elif isinstance(dtype, pl.Duration):
            col = col.cast(pl.Int64)
        casts.append(col.alias(f"c{i}"))
    return frame.select(casts)


def _schema_blob(frame: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.clear().write_ipc(buf)
    return buf.getvalue()


def _schema_of(blob: bytes) -> pl.Schema:
    return pl.read_ipc(io.BytesIO(bytes(blob))).schema


def content_digest(frame: pl.DataFrame) -> str:
    """A digest of a frame's schema and rows (order included): equal frames give equal digests.

    >>> a = pl.DataFrame({"x": [1, 2]})
    >>> content_digest(a) == content_digest(pl.DataFrame({"x": [1, 2]})) != content_digest(a[::-1])
    True
    """
    h = hashlib.blake2b(str(frame.schema).encode(), digest_size=16)
    if frame.height:
        h.update(frame.hash_rows(seed=0).to_numpy().tobytes())
    return h.hexdigest()


def appended_digest(before: str | None, added: pl.DataFrame) -> str | None:
    """The digest of a table after rows were appended: a new value for every append, from the
    old digest and the new rows' (None stays None: an old table is hashed when loaded)."""
    if before is None:
        return None
    h = hashlib.blake2b(f"{before}+".encode(), digest_size=16)
    h.update(content_digest(added).encode())
    return h.hexdigest()


def _registered(cur: Cursor, frame: pl.DataFrame, offset: int) -> str:
    data = _storable(frame).with_row_index(_ORD, offset=offset)
    name = f"_incoming_{uuid.uuid4().hex}"
    cur.register(name, data)
    return name


def _create(cur: Cursor, physical: str, frame: pl.DataFrame) -> None:
    view = _registered(cur, frame, 0)
    try:
        run(cur, f'CREATE TABLE {phys(physical)} AS SELECT * FROM "{view}"')
    finally:
        cur.unregister(view)


def _insert(cur: Cursor, physical: str, frame: pl.DataFrame, *, offset: int) -> None:
    if frame.height == 0:
        return
    view = _registered(cur, frame, offset)
    try:
        run(cur, f'INSERT INTO {phys(physical)} BY NAME SELECT * FROM "{view}"')
    finally:
        cur.unregister(view)


def _read(cur: Cursor, physical: str, schema: pl.Schema) -> pl.DataFrame:
    names = list(schema)
    if not names:
        return pl.DataFrame(schema=schema)
    cols = ", ".join(f"c{i}" for i in range(len(names)))
    # DuckDB keeps insertion order, so the rows come in file order without an ORDER BY (which
    # cost 1-4 s of a 10M-row workspace's 1.2 s read); the order column says whether they did
    raw = cur.sql(f'SELECT {cols}, {_ORD} FROM {phys(physical)}').pl()
    if not raw.get_column(_ORD).is_sorted():
        raw = raw.sort(_ORD)
    raw = raw.drop(_ORD)
    return raw.rename(dict(zip(raw.columns, names, strict=True))).cast(schema)


def _stored(row: Record) -> StoredTable:
    return StoredTable(workspace_id=row["workspace_id"], table=row["table_name"],
                       physical=row["physical"], schema_ipc=bytes(row["schema_ipc"]),
                       n_rows=int(row["n_rows"]), source=row["source"],
                       version=int(row["version"]), digest=row["digest"])


def _stored_table(cur: Cursor, workspace_id: str, table: str) -> StoredTable | None:
    row = record(cur, f"SELECT {_DATASET_COLUMNS} FROM datasets "
                 "WHERE workspace_id = ? AND table_name = ?", [workspace_id, table])
    return None if row is None else _stored(row)


def _upsert(cur: Cursor, t: StoredTable) -> None:
    run(cur,
        f"INSERT INTO datasets ({_DATASET_COLUMNS}, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (workspace_id, table_name) DO UPDATE SET physical = excluded.physical, "
        "schema_ipc = excluded.schema_ipc, n_rows = excluded.n_rows, "
        "source = excluded.source, version = excluded.version, digest = excluded.digest, "
        "updated_at = excluded.updated_at",
        [t.workspace_id, t.table, t.physical, t.schema_ipc, t.n_rows, t.source, t.version,
         t.digest, now()])


class TableRepo:
    """Save, load, list and delete the tables of a workspace; a save can record its upload in
    the same transaction.

    The frames of the last save are kept by their content digest (frames are immutable, and the
    caller usually holds them anyway), so loading a table just saved, as the first page after an
    upload does, returns them instead of reading the rows back from DuckDB."""

    def __init__(self, db: Database, workspaces: WorkspaceRepo, uploads: UploadRepo) -> None:
        self.db = db
        self.workspaces = workspaces
        self.uploads = uploads
        self._kept: dict[str, pl.DataFrame] = {}  # content digest -> frame, of the last save

    def save(self, workspace_id: str, tables: MappingOf[str, pl.DataFrame], *,
             sources: MappingOf[str, str], uploads: MappingOf[str, UploadNote | None],
             mode: SaveMode = "replace") -> None:
        """Save tables in ONE transaction (all or nothing) and note that the data changed."""
        for table in tables:
            check_table(table)
        kept: dict[str, pl.DataFrame] = {}
        with self.db.transaction() as cur:
            self.workspaces.require(cur, workspace_id)
            for table, frame in tables.items():
                whole = self._save_one(cur, workspace_id, table, frame, sources.get(table, ""),
                                       mode, uploads.get(table))
                if whole is not None:
                    kept[whole[0]] = whole[1]
            self.workspaces.touch_data(cur, workspace_id)
        self._kept = kept  # only once committed; a clone, so no later in-place edit reaches it

    def _save_one(self, cur: Cursor, workspace_id: str, table: str, frame: pl.DataFrame,
                  source: str, mode: str, upload: UploadNote | None
                  ) -> tuple[str, pl.DataFrame] | None:
        """Save one table; its digest and whole frame when the save wrote all of its rows."""
        if not isinstance(frame, pl.DataFrame):
            raise StoreError(f"Table {table!r} must be a polars DataFrame, not {type(frame)}.")
        if mode not in ("replace", "append"):
            raise StoreError(f"Unknown save mode {mode!r}; use 'replace' or 'append'.")
        _check_storable(frame)
        old = _stored_table(cur, workspace_id, table)
        if mode == "append" and old is not None:
            old_schema = _schema_of(old.schema_ipc)
            if frame.schema == old_schema:
                _insert(cur, old.physical, frame, offset=old.n_rows)
                _upsert(cur, StoredTable(workspace_id, table, old.physical, old.schema_ipc,
                                         old.n_rows + frame.height, source, old.version + 1,
                                         appended_digest(old.digest, frame)))
                self._record(cur, workspace_id, table, source, upload, frame.height)
                return None
            before = _read(cur, old.physical, old_schema)
            frame = pl.concat([before, frame], how="diagonal_relaxed")
        physical = f"ds_{scalar(cur, 'SELECT nextval(?)', ['dataset_seq'])}"
        saved = frame  # the digest is hashed while DuckDB writes (both release the GIL)
        _, digest = run_both(lambda: _create(cur, physical, saved),
                             lambda: content_digest(saved))
        if old is not None:
            run(cur, f"DROP TABLE {phys(old.physical)}")
        _upsert(cur, StoredTable(workspace_id, table, physical, _schema_blob(frame), frame.height,
                                 source, old.version + 1 if old else 1, digest))
        self._record(cur, workspace_id, table, source, upload, frame.height)
        return digest, frame.clone()

    def _record(self, cur: Cursor, workspace_id: str, table: str, source: str,
                upload: UploadNote | None, rows_loaded: int) -> None:
        if upload is None:
            return
        self.uploads.insert(cur, workspace_id, source=source, sheet=upload.sheet, table=table,
                            rows_in=upload.rows_in, rows_loaded=rows_loaded,
                            rows_rejected=upload.rows_rejected)

    def load(self, workspace_id: str, table: str) -> pl.DataFrame | None:
        check_id(workspace_id)
        check_table(table)
        # one read transaction so a concurrent replace cannot drop the table between the lookups
        with self.db.snapshot() as cur:
            stored = _stored_table(cur, workspace_id, table)
            if stored is None:
                return None
            kept = self._kept.get(stored.digest or "")
            if kept is not None:  # the rows this process just saved: equal digest, equal rows
                return kept
            return _read(cur, stored.physical, _schema_of(stored.schema_ipc))

    def _catalogue(self, workspace_id: str) -> dict[str, StoredTable]:
        check_id(workspace_id)
        rows = self.db.records(f"SELECT {_DATASET_COLUMNS} FROM datasets WHERE workspace_id = ?",
                               [workspace_id])
        found = {r["table_name"]: _stored(r) for r in rows}
        return {t: found[t] for t in TABLES if t in found}

    def counts(self, workspace_id: str) -> dict[str, int]:
        return {t: s.n_rows for t, s in self._catalogue(workspace_id).items()}

    def versions(self, workspace_id: str) -> dict[str, str]:
        """Each table's content digest; a table saved before digests were kept gets a token
        starting with :data:`UNHASHED` that names this file, the table and its version (unique
        in the process, but not a content digest: hash the rows instead)."""
        return {t: s.digest or f"{UNHASHED}{self.db.path}/{workspace_id}/{s.physical}/"
                               f"v{s.version}/{s.n_rows}"
                for t, s in self._catalogue(workspace_id).items()}

    def delete(self, workspace_id: str, table: str) -> None:
        check_table(table)
        with self.db.transaction() as cur:
            self.workspaces.require(cur, workspace_id)
            stored = _stored_table(cur, workspace_id, table)
            if stored is None:
                return
            run(cur, f"DROP TABLE {phys(stored.physical)}")
            run(cur, "DELETE FROM datasets WHERE workspace_id = ? AND table_name = ?",
                [workspace_id, table])
            self.workspaces.touch_data(cur, workspace_id)

    @staticmethod
    def delete_all(cur: Cursor, workspace_id: str) -> None:
        """Drop every table of a workspace (inside the caller's transaction)."""
        for row in records(cur, "SELECT physical FROM datasets WHERE workspace_id = ?",
                           [workspace_id]):
            run(cur, f"DROP TABLE IF EXISTS {phys(row['physical'])}")
        run(cur, "DELETE FROM datasets WHERE workspace_id = ?", [workspace_id])

    def verify(self) -> list[str]:
        """Consistency problems, empty when healthy: every saved table is there with its row
        count, no data table is left over, nothing points at a missing workspace."""
        with self.db.snapshot() as cur:
            datasets = records(cur, "SELECT workspace_id, table_name, physical, n_rows "
                               "FROM datasets")
            found = records(cur, "SELECT table_name FROM duckdb_tables()")
            tables = {r["table_name"] for r in found if PHYSICAL_RE.fullmatch(r["table_name"])}
            workspaces = {r["id"] for r in records(cur, "SELECT id FROM workspaces")}
            problems = [f"data table {name} belongs to no saved table"
                        for name in sorted(tables - {d["physical"] for d in datasets})]
            for d in datasets:
                where = f"{d['workspace_id']}/{d['table_name']}"
                if d["workspace_id"] not in workspaces:
                    problems.append(f"{where} belongs to a missing workspace")
                if d["physical"] not in tables:
                    problems.append(f"{where}: data table {d['physical']} is missing")
                    continue
                found = scalar(cur, f"SELECT count(*) FROM {phys(d['physical'])}")
                if found != d["n_rows"]:
                    problems.append(f"{where}: {found} rows stored, {d['n_rows']} recorded")
            stray = records(cur, "SELECT DISTINCT workspace_id FROM uploads")
            problems += [f"uploads of missing workspace {r['workspace_id']}" for r in stray
                         if r["workspace_id"] not in workspaces]
            return problems
