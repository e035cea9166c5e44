"""Named per-workspace settings (JSON texts, e.g. the edited benchmark targets)."""

from __future__ import annotations

from cjm_core.storage.database import Cursor, Database, now, run
from cjm_core.storage.names import check_id
from cjm_core.storage.workspace_repo import WorkspaceRepo


class SettingRepo:
    """One value per (workspace, name); saving again replaces it."""

    def __init__(self, db: Database, workspaces: WorkspaceRepo) -> None:
        self.db = db
        self.workspaces = workspaces

    def save(self, workspace_id: str, name: str, value: str) -> None:
        with self.db.transaction() as cur:
            self.workspaces.require(cur, workspace_id)
            run(cur, "DELETE FROM settings WHERE workspace_id = ? AND name = ?",
                [workspace_id, name])
            run(cur, "INSERT INTO settings (workspace_id, name, value, saved_at) "
                "VALUES (?, ?, ?, ?)", [workspace_id, name, value, now()])

    def get(self, workspace_id: str, name: str) -> str | None:
        check_id(workspace_id)
        row = self.db.record("SELECT value FROM settings WHERE workspace_id = ? AND name = ?",
                             [workspace_id, name])
        return None if row is None else str(row["value"])

    def delete(self, workspace_id: str, name: str) -> None:
        with self.db.transaction() as cur:
            run(cur, "DELETE FROM settings WHERE workspace_id = ? AND name = ?",
                [workspace_id, name])

    @staticmethod
    def delete_all(cur: Cursor, workspace_id: str) -> None:
        """Forget every setting of a workspace (inside the caller's transaction)."""
        run(cur, "DELETE FROM settings WHERE workspace_id = ?", [workspace_id])
