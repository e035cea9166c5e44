"""Workspaces: the rows of ``workspaces`` (id, name, industry, journey, timestamps), and
:meth:`WorkspaceRepo.require`, which every other repository's writes run first."""

from __future__ import annotations

import uuid

from cjm_core.errors import StoreError
from cjm_core.model.journey import Journey
from cjm_core.storage.database import Cursor, Database, Record, aware, now, record, run, utc
from cjm_core.storage.names import check_id, check_name, slug, valid_id
from cjm_core.storage.rows import Workspace

_COLUMNS = "id, name, isic, created_at, updated_at, data_updated_at"


def _workspace(row: Record) -> Workspace:
    return Workspace(id=row["id"], name=row["name"], isic=row["isic"],
                     created_at=aware(row["created_at"]), updated_at=aware(row["updated_at"]),
                     data_updated_at=utc(row["data_updated_at"]))


class WorkspaceRepo:
    """Create, list, rename and remove workspace rows."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def missing(self, workspace_id: str) -> StoreError:
        return StoreError(f"There is no workspace {workspace_id!r} in {self.db.path}.")

    @staticmethod
    def exists(cur: Cursor, workspace_id: str) -> bool:
        found = record(cur, "SELECT 1 AS one FROM workspaces WHERE id = ?", [workspace_id])
        return found is not None

    def require(self, cur: Cursor, workspace_id: str) -> None:
        """StoreError unless ``workspace_id`` is valid and names a workspace (inside a write)."""
        check_id(workspace_id)
        if not self.exists(cur, workspace_id):
            raise self.missing(workspace_id)

    def _new_id(self, cur: Cursor, name: str) -> str:
        base = slug(name) or uuid.uuid4().hex[:12]
        candidate, n = base, 1
        while self.exists(cur, candidate):
            n += 1
            candidate = f"{base}-{n}"
        return candidate

    def create(self, name: str, journey: Journey, *, workspace_id: str | None = None) -> str:
        clean = check_name(name)
        with self.db.transaction() as cur:
            if workspace_id is None:
                workspace_id = self._new_id(cur, clean)
            check_id(workspace_id)
            if self.exists(cur, workspace_id):
                raise StoreError(f"A workspace {workspace_id!r} already exists.")
            stamp = now()
            run(cur, "INSERT INTO workspaces (id, name, isic, journey, created_at, updated_at, "
                "data_updated_at) VALUES (?, ?, ?, ?, ?, ?, NULL)",
                [workspace_id, clean, journey.isic, journey.to_json(), stamp, stamp])
        return workspace_id

    def list(self) -> list[Workspace]:
        rows = self.db.records(f"SELECT {_COLUMNS} FROM workspaces ORDER BY lower(name), id")
        return [_workspace(r) for r in rows]

    def get(self, workspace_id: str) -> Workspace:
        check_id(workspace_id)
        row = self.db.record(f"SELECT {_COLUMNS} FROM workspaces WHERE id = ?", [workspace_id])
        if row is None:
            raise self.missing(workspace_id)
        return _workspace(row)

    def has(self, workspace_id: str) -> bool:
        if not valid_id(workspace_id):
            return False
        return self.exists(self.db.cursor(), workspace_id)

    def rename(self, workspace_id: str, name: str) -> None:
        clean = check_name(name)
        with self.db.transaction() as cur:
            self.require(cur, workspace_id)
            run(cur, "UPDATE workspaces SET name = ?, updated_at = ? WHERE id = ?",
                [clean, now(), workspace_id])

    @staticmethod
    def delete(cur: Cursor, workspace_id: str) -> None:
        """Remove the workspace row (inside the caller's transaction, after its data)."""
        run(cur, "DELETE FROM workspaces WHERE id = ?", [workspace_id])

    @staticmethod
    def touch_data(cur: Cursor, workspace_id: str) -> None:
        """Note that the workspace's data changed now (the map's staleness note reads it)."""
        stamp = now()
        run(cur, "UPDATE workspaces SET updated_at = ?, data_updated_at = ? WHERE id = ?",
            [stamp, stamp, workspace_id])
