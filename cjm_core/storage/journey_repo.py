"""A workspace's journey definition (stages, stage roles, industry), kept as JSON on its row."""

from __future__ import annotations

from cjm_core.model.journey import Journey
from cjm_core.storage.database import Database, now, run
from cjm_core.storage.names import check_id
from cjm_core.storage.workspace_repo import WorkspaceRepo


class JourneyRepo:
    """Read and replace the journey of a workspace."""

    def __init__(self, db: Database, workspaces: WorkspaceRepo) -> None:
        self.db = db
        self.workspaces = workspaces

    def save(self, workspace_id: str, journey: Journey) -> None:
        with self.db.transaction() as cur:
            self.workspaces.require(cur, workspace_id)
            run(cur, "UPDATE workspaces SET journey = ?, isic = ?, updated_at = ? WHERE id = ?",
                [journey.to_json(), journey.isic, now(), workspace_id])

    def get(self, workspace_id: str) -> Journey:
        check_id(workspace_id)
        row = self.db.record("SELECT journey FROM workspaces WHERE id = ?", [workspace_id])
        if row is None:
            raise self.workspaces.missing(workspace_id)
        return Journey.from_json(row["journey"])
