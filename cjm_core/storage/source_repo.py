"""A workspace's event source: events read where they live (a Parquet or Delta folder, a
catalog table) through an engine, instead of uploaded tables (issue 15). Only the pointer is
stored; the map, targets and links stay in the workspace store.

>>> EventSource.parse("parquet", " /data/events ", "spark", "").spec
'parquet:/data/events'
>>> EventSource.parse("table", "sales.events", "local", "").engine
Traceback (most recent call last):
...
cjm_core.errors.UsageError: The local engine reads Parquet only; choose Spark for a table source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cjm_core.errors import UsageError
from cjm_core.storage.database import Cursor, Database, now, run
from cjm_core.storage.names import check_id
from cjm_core.storage.workspace_repo import WorkspaceRepo

#: what a source may be, in the words of the engine's source spec (``kind:location``)
KINDS = ("parquet", "delta", "table")
ENGINES = ("local", "spark")
DEFAULT_MASTER = "local[2]"
_MASTER_RE = re.compile(r"^(local(\[(\d+|\*)(,\s*\d+)?\])?|(spark|sc|k8s)://\S+|yarn)$")
_TABLE_RE = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*){0,2}$")
MAX_LOCATION = 2000


@dataclass(frozen=True)
class EventSource:
    """Where a workspace's events are read: ``kind`` (parquet, delta, table), ``location`` (a
    path, glob or URI; a table name), the ``engine`` (local or spark) and the Spark ``master``
    (``local[2]``, ``spark://host:port``, ``yarn`` or ``sc://host:port``; empty for local)."""

    kind: str
    location: str
    engine: str = "local"
    master: str = ""

    @property
    def spec(self) -> str:
        """The engine's source spec, e.g. ``parquet:/data/events``."""
        return f"{self.kind}:{self.location}"

    @property
    def where(self) -> str:
        """Where it is computed, for a caption: ``Spark (local[2])`` or ``the local engine``."""
        return f"Spark ({self.master})" if self.engine == "spark" else "the local engine"

    @classmethod
    def parse(cls, kind: str, location: str, engine: str = "local",
              master: str = "") -> EventSource:
        """A checked source (surrounding spaces dropped) or a UsageError saying what is wrong."""
        kind = (kind or "").strip().lower()
        location = (location or "").strip()
        engine = (engine or "").strip().lower()
        master = (master or "").strip()
        if kind not in KINDS:
            raise UsageError(f"Unknown source kind {kind!r}: choose parquet, delta or table.")
        if not location:
            raise UsageError("The source needs a location: a folder, file or glob of Parquet "
                             "files, a Delta folder, or a table name.")
        if len(location) > MAX_LOCATION or any(ord(ch) < 32 for ch in location):
            raise UsageError("The location is too long or holds control characters.")
        if kind == "table" and not _TABLE_RE.match(location):
            raise UsageError(f"{location!r} is not a table name (name, db.name or "
                             "catalog.db.name).")
        if engine not in ENGINES:
            raise UsageError(f"Unknown engine {engine!r}: choose local or spark.")
        if engine == "local":
            if kind != "parquet":
                raise UsageError("The local engine reads Parquet only; choose Spark for a "
                                 f"{kind} source.")
            return cls(kind, location, engine, "")
        master = master or DEFAULT_MASTER
        if not _MASTER_RE.match(master):
            raise UsageError(f"{master!r} is not a Spark master: use local[2], "
                             "spark://host:port, yarn or sc://host:port (Spark Connect).")
        return cls(kind, location, engine, master)


class SourceRepo:
    """At most one event source per workspace; saving again replaces it."""

    def __init__(self, db: Database, workspaces: WorkspaceRepo) -> None:
        self.db = db
        self.workspaces = workspaces

    def save(self, workspace_id: str, source: EventSource) -> None:
        checked = EventSource.parse(source.kind, source.location, source.engine, source.master)
        with self.db.transaction() as cur:
            self.workspaces.require(cur, workspace_id)
            run(cur, "DELETE FROM event_sources WHERE workspace_id = ?", [workspace_id])
            run(cur, "INSERT INTO event_sources (workspace_id, kind, location, engine, master, "
                "saved_at) VALUES (?, ?, ?, ?, ?, ?)",
                [workspace_id, checked.kind, checked.location, checked.engine, checked.master,
                 now()])

    def get(self, workspace_id: str) -> EventSource | None:
        check_id(workspace_id)
        row = self.db.record("SELECT kind, location, engine, master FROM event_sources "
                             "WHERE workspace_id = ?", [workspace_id])
        if row is None:
            return None
        return EventSource(str(row["kind"]), str(row["location"]), str(row["engine"]),
                           str(row["master"]))

    def delete(self, workspace_id: str) -> None:
        with self.db.transaction() as cur:
            self.workspaces.require(cur, workspace_id)
            self.delete_all(cur, workspace_id)

    @staticmethod
    def delete_all(cur: Cursor, workspace_id: str) -> None:
        """Forget a workspace's source (inside the caller's transaction)."""
        run(cur, "DELETE FROM event_sources WHERE workspace_id = ?", [workspace_id])
