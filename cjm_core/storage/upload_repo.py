"""The upload history of a workspace: one line per file or sheet loaded (rows in / loaded /
rejected). :class:`~cjm_core.storage.table_repo.TableRepo` writes a line in the same transaction
as the data it saves."""

from __future__ import annotations

from cjm_core.storage.database import Cursor, Database, aware, now, run
from cjm_core.storage.names import check_id, check_table
from cjm_core.storage.rows import Upload
from cjm_core.storage.workspace_repo import WorkspaceRepo


class UploadRepo:
    """Record and list uploads."""

    def __init__(self, db: Database, workspaces: WorkspaceRepo) -> None:
        self.db = db
        self.workspaces = workspaces

    def record(self, workspace_id: str, *, source: str, sheet: str, table: str, rows_in: int,
               rows_loaded: int, rows_rejected: int) -> None:
        check_table(table)
        with self.db.transaction() as cur:
            self.workspaces.require(cur, workspace_id)
            self.insert(cur, workspace_id, source=source, sheet=sheet, table=table,
                        rows_in=rows_in, rows_loaded=rows_loaded, rows_rejected=rows_rejected)

    @staticmethod
    def insert(cur: Cursor, workspace_id: str, *, source: str, sheet: str, table: str,
               rows_in: int, rows_loaded: int, rows_rejected: int) -> None:
        """Add one history line inside the caller's transaction."""
        run(cur, "INSERT INTO uploads (id, workspace_id, source, sheet, table_name, rows_in, "
            "rows_loaded, rows_rejected, uploaded_at) "
            "VALUES (nextval('upload_seq'), ?, ?, ?, ?, ?, ?, ?, ?)",
            [workspace_id, source or "", sheet or "", table, int(rows_in), int(rows_loaded),
             int(rows_rejected), now()])

    def history(self, workspace_id: str) -> list[Upload]:
        check_id(workspace_id)
        rows = self.db.records(
            "SELECT source, sheet, table_name, rows_in, rows_loaded, rows_rejected, uploaded_at "
            "FROM uploads WHERE workspace_id = ? ORDER BY id", [workspace_id])
        return [Upload(source=r["source"], sheet=r["sheet"], table=r["table_name"],
                       rows_in=r["rows_in"], rows_loaded=r["rows_loaded"],
                       rows_rejected=r["rows_rejected"], uploaded_at=aware(r["uploaded_at"]))
                for r in rows]

    @staticmethod
    def delete_all(cur: Cursor, workspace_id: str) -> None:
        """Forget a workspace's history (inside the caller's transaction)."""
        run(cur, "DELETE FROM uploads WHERE workspace_id = ?", [workspace_id])
