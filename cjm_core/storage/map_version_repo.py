"""Journey-map versions: every save is a new version, none is ever overwritten, and a save
based on an older version than the latest is refused (:class:`~cjm_core.errors.MapConflict`)."""

from __future__ import annotations

from cjm_core.errors import MapConflict
from cjm_core.storage.database import Cursor, Database, aware, now, run, scalar
from cjm_core.storage.names import check_id
from cjm_core.storage.rows import MapBody, MapVersion
from cjm_core.storage.workspace_repo import WorkspaceRepo


class MapVersionRepo:
    """Save, list and load the versions of a workspace's maps."""

    def __init__(self, db: Database, workspaces: WorkspaceRepo) -> None:
        self.db = db
        self.workspaces = workspaces

    def save(self, workspace_id: str, body: str, *, expected: int | None, author: str = "",
             note: str = "", map_name: str = "main") -> int:
        with self.db.transaction() as cur:
            self.workspaces.require(cur, workspace_id)
            latest = scalar(cur, "SELECT max(version) FROM map_versions WHERE workspace_id = ? "
                            "AND map_name = ?", [workspace_id, map_name])
            if latest != expected:
                raise MapConflict(
                    f"Someone saved version {latest} of this map after you opened version "
                    f"{expected}. Your edits are kept on screen: review the newer version, "
                    "then save again to make yours the latest.", latest=latest)
            version = int(latest or 0) + 1
            run(cur, "INSERT INTO map_versions (workspace_id, map_name, version, body, author, "
                "note, saved_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [workspace_id, map_name, version, body, author, note, now()])
            return version

    def history(self, workspace_id: str, map_name: str = "main") -> list[MapVersion]:
        check_id(workspace_id)
        rows = self.db.records("SELECT version, author, note, saved_at FROM map_versions "
                               "WHERE workspace_id = ? AND map_name = ? ORDER BY version DESC",
                               [workspace_id, map_name])
        return [MapVersion(version=r["version"], author=r["author"], note=r["note"],
                           saved_at=aware(r["saved_at"])) for r in rows]

    def load(self, workspace_id: str, version: int | None = None,
             map_name: str = "main") -> MapBody | None:
        check_id(workspace_id)
        if version is None:
            row = self.db.record("SELECT version, body FROM map_versions WHERE workspace_id = ? "
                                 "AND map_name = ? ORDER BY version DESC LIMIT 1",
                                 [workspace_id, map_name])
        else:
            row = self.db.record("SELECT version, body FROM map_versions WHERE workspace_id = ? "
                                 "AND map_name = ? AND version = ?",
                                 [workspace_id, map_name, int(version)])
        return None if row is None else MapBody(int(row["version"]), row["body"])

    @staticmethod
    def delete_all(cur: Cursor, workspace_id: str) -> None:
        """Forget every map version of a workspace (inside the caller's transaction)."""
        run(cur, "DELETE FROM map_versions WHERE workspace_id = ?", [workspace_id])
