"""What a share link grants: a :class:`ScopedStore` limited to one workspace, as a
:class:`ReadOnlyStore` (view links: every write raises :class:`~cjm_core.errors.ReadOnlyError`)
or an :class:`EditStore` (edit links: writes to that workspace; owner operations raise
:class:`~cjm_core.errors.AccessDenied`). Both implement
:class:`~cjm_core.storage.protocol.WorkspaceStore`, so pages use either like the owner's store.

Any other workspace id raises AccessDenied ("not shared with this link"). With a link id, every
call first checks that the link still opens, so revoking it stops an open session too.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

import polars as pl

from cjm_core.errors import AccessDenied, ReadOnlyError
from cjm_core.model.journey import Journey
from cjm_core.storage.mapping_repo import column_signature
from cjm_core.storage.protocol import SaveMode, WorkspaceStore
from cjm_core.storage.rows import MapBody, Mapping, MapVersion, ShareLink, Upload, Workspace
from cjm_core.storage.share_link_repo import check_role
from cjm_core.storage.source_repo import EventSource

if TYPE_CHECKING:
    from cjm_core.storage.store import Store

_READ_ONLY = "This workspace is shared with you read-only; "


class ScopedStore(WorkspaceStore):
    """The reads every share link grants, limited to its workspace; see :meth:`Store.for_role`.

    >>> import tempfile
    >>> from pathlib import Path
    >>> from cjm_core.model.journey import default_journey
    >>> from cjm_core.storage.store import Store
    >>> with tempfile.TemporaryDirectory() as d, Store(Path(d) / "ws.duckdb") as store:
    ...     ws = store.create_workspace("Shop", default_journey("4773"))
    ...     view = store.for_role(ws, "view")
    ...     try:
    ...         view.save_setting(ws, "targets", "{}")
    ...     except ReadOnlyError as exc:
    ...         print(type(view).__name__, exc.code, view.get_workspace(ws).name)
    ReadOnlyStore read-only Shop
    """

    role: ClassVar[str]

    def __init__(self, store: Store, workspace_id: str, link_id: str | None = None) -> None:
        self._store = store
        self.workspace_id = workspace_id
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
        return f"{type(self).__name__}({self.workspace_id!r}, {self.role!r})"

    def _live(self) -> None:
        if self.link_id is not None:
            self._store.check_share_link(self.link_id)

    def _scope(self, workspace_id: object) -> str:
        """``workspace_id`` if it is the shared one (and the link still opens)."""
        self._live()
        if not isinstance(workspace_id, str) or workspace_id != self.workspace_id:
            raise AccessDenied("That workspace is not shared with this link.")
        return workspace_id

    def _owner_only(self, what: str) -> NoReturn:
        self._live()
        raise AccessDenied(f"Only the workspace's owner can {what}; a share link cannot.")

    # -- reads ------------------------------------------------------------------------------------

    column_signature = staticmethod(column_signature)

    def list_workspaces(self) -> list[Workspace]:
        """Only the shared workspace."""
        self._live()
        return [self._store.get_workspace(self.workspace_id)]

    def has_workspace(self, workspace_id: str) -> bool:
        """True only for the shared workspace."""
        self._live()
        return workspace_id == self.workspace_id and self._store.has_workspace(workspace_id)

    def get_workspace(self, workspace_id: str) -> Workspace:
        return self._store.get_workspace(self._scope(workspace_id))

    def get_journey(self, workspace_id: str) -> Journey:
        return self._store.get_journey(self._scope(workspace_id))

    def load_table(self, workspace_id: str, table: str) -> pl.DataFrame | None:
        return self._store.load_table(self._scope(workspace_id), table)

    def table_counts(self, workspace_id: str) -> dict[str, int]:
        return self._store.table_counts(self._scope(workspace_id))

    def table_versions(self, workspace_id: str) -> dict[str, str]:
        return self._store.table_versions(self._scope(workspace_id))

    def uploads(self, workspace_id: str) -> list[Upload]:
        return self._store.uploads(self._scope(workspace_id))

    def map_versions(self, workspace_id: str, map_name: str = "main") -> list[MapVersion]:
        return self._store.map_versions(self._scope(workspace_id), map_name)

    def load_map_version(self, workspace_id: str, version: int | None = None,
                         map_name: str = "main") -> MapBody | None:
        return self._store.load_map_version(self._scope(workspace_id), version, map_name)

    def data_updated_at(self, workspace_id: str) -> datetime | None:
        return self._store.data_updated_at(self._scope(workspace_id))

    def get_setting(self, workspace_id: str, name: str) -> str | None:
        return self._store.get_setting(self._scope(workspace_id), name)

    def get_event_source(self, workspace_id: str) -> EventSource | None:
        return self._store.get_event_source(self._scope(workspace_id))

    def find_mapping(self, columns: list[str]) -> Mapping | None:
        """A saved column mapping (mappings are keyed by header, not by workspace)."""
        self._live()
        return self._store.find_mapping(columns)

    def share_links(self, workspace_id: str, *, active_only: bool = True,
                    now: datetime | None = None) -> list[ShareLink]:
        """Refused: a share link cannot list the workspace's links."""
        self._owner_only("list share links")


class ReadOnlyStore(ScopedStore):
    """A view link's store: reads its workspace; every write raises ReadOnlyError (its return
    type is ``NoReturn``), checked by ``tests/test_share_links.py`` against
    :data:`~cjm_core.storage.protocol.WRITE_METHODS`."""

    role = "view"

    def _refuse(self, what: str = "it cannot be changed through this link") -> NoReturn:
        self._live()
        raise ReadOnlyError(f"{_READ_ONLY}{what}.")

    def save_table(self, workspace_id: str, table: str, frame: pl.DataFrame, *,
                   source: str = "", mode: SaveMode = "replace", sheet: str = "",
                   rows_in: int | None = None, rows_rejected: int = 0) -> NoReturn:
        self._refuse()

    def save_tables(self, workspace_id: str, tables: dict[str, pl.DataFrame], *,
                    sources: dict[str, str] | None = None,
                    uploads: dict[str, dict[str, Any]] | None = None) -> NoReturn:
        self._refuse()

    def delete_table(self, workspace_id: str, table: str) -> NoReturn:
        self._refuse()

    def save_journey(self, workspace_id: str, journey: Journey) -> NoReturn:
        self._refuse()

    def save_setting(self, workspace_id: str, name: str, value: str) -> NoReturn:
        self._refuse()

    def delete_setting(self, workspace_id: str, name: str) -> NoReturn:
        self._refuse()

    def save_map_version(self, workspace_id: str, body: str, *, expected: int | None,
                         author: str = "", note: str = "", map_name: str = "main") -> NoReturn:
        self._refuse()

    def record_upload(self, workspace_id: str, *, source: str, sheet: str, table: str,
                      rows_in: int, rows_loaded: int, rows_rejected: int) -> NoReturn:
        self._refuse()

    def rename_workspace(self, workspace_id: str, name: str) -> NoReturn:
        self._refuse()

    def save_mapping(self, columns: list[str], table: str, roles: dict[str, str], *,
                     date_order: str | None = None,
                     scales: dict[str, int] | None = None) -> NoReturn:
        self._refuse("mappings cannot be saved through this link")

    def save_event_source(self, workspace_id: str, event_source: EventSource) -> NoReturn:
        self._refuse("its event source cannot be changed through this link")

    def delete_event_source(self, workspace_id: str) -> NoReturn:
        self._refuse("its event source cannot be changed through this link")

    def create_workspace(self, name: str, journey: Journey | None = None, *,
                         workspace_id: str | None = None) -> NoReturn:
        self._refuse("create a workspace is not possible through this link")

    def delete_workspace(self, workspace_id: str) -> NoReturn:
        self._refuse("delete the workspace is not possible through this link")

    def create_share_link(self, workspace_id: str, role: str = "view", *, created_by: str = "",
                          expires_at: datetime | None = None, label: str = "") -> NoReturn:
        self._refuse("make share links is not possible through this link")

    def revoke_share_link(self, link_id: str, *, workspace_id: str | None = None) -> NoReturn:
        self._refuse("revoke share links is not possible through this link")

    def rotate_share_link(self, link_id: str, *, workspace_id: str | None = None,
                          created_by: str | None = None) -> NoReturn:
        self._refuse("rotate share links is not possible through this link")


class EditStore(ScopedStore):
    """An edit link's store: writes its workspace's data, journey, settings and maps; never
    deletes the workspace or manages share links (AccessDenied)."""

    role = "edit"

    def save_table(self, workspace_id: str, table: str, frame: pl.DataFrame, *,
                   source: str = "", mode: SaveMode = "replace", sheet: str = "",
                   rows_in: int | None = None, rows_rejected: int = 0) -> None:
        self._store.save_table(self._scope(workspace_id), table, frame, source=source, mode=mode,
                               sheet=sheet, rows_in=rows_in, rows_rejected=rows_rejected)

    def save_tables(self, workspace_id: str, tables: dict[str, pl.DataFrame], *,
                    sources: dict[str, str] | None = None,
                    uploads: dict[str, dict[str, Any]] | None = None) -> None:
        self._store.save_tables(self._scope(workspace_id), tables, sources=sources,
                                uploads=uploads)

    def delete_table(self, workspace_id: str, table: str) -> None:
        self._store.delete_table(self._scope(workspace_id), table)

    def save_journey(self, workspace_id: str, journey: Journey) -> None:
        self._store.save_journey(self._scope(workspace_id), journey)

    def save_setting(self, workspace_id: str, name: str, value: str) -> None:
        self._store.save_setting(self._scope(workspace_id), name, value)

    def delete_setting(self, workspace_id: str, name: str) -> None:
        self._store.delete_setting(self._scope(workspace_id), name)

    def save_map_version(self, workspace_id: str, body: str, *, expected: int | None,
                         author: str = "", note: str = "", map_name: str = "main") -> int:
        return self._store.save_map_version(self._scope(workspace_id), body, expected=expected,
                                            author=author, note=note, map_name=map_name)

    def record_upload(self, workspace_id: str, *, source: str, sheet: str, table: str,
                      rows_in: int, rows_loaded: int, rows_rejected: int) -> None:
        self._store.record_upload(self._scope(workspace_id), source=source, sheet=sheet,
                                  table=table, rows_in=rows_in, rows_loaded=rows_loaded,
                                  rows_rejected=rows_rejected)

    def rename_workspace(self, workspace_id: str, name: str) -> None:
        self._store.rename_workspace(self._scope(workspace_id), name)

    def save_mapping(self, columns: list[str], table: str, roles: dict[str, str], *,
                     date_order: str | None = None,
                     scales: dict[str, int] | None = None) -> None:
        self._live()
        self._store.save_mapping(columns, table, roles, date_order=date_order, scales=scales)

    # where the events are read from is the owner's: an edit link could otherwise point the
    # workspace at any file or table the server can read and see its columns and row count
    def save_event_source(self, workspace_id: str, event_source: EventSource) -> NoReturn:
        self._owner_only("change where the workspace's events are read from")

    def delete_event_source(self, workspace_id: str) -> NoReturn:
        self._owner_only("change where the workspace's events are read from")

    def create_workspace(self, name: str, journey: Journey | None = None, *,
                         workspace_id: str | None = None) -> NoReturn:
        self._owner_only("create a workspace")

    def delete_workspace(self, workspace_id: str) -> NoReturn:
        self._owner_only("delete the workspace")

    def create_share_link(self, workspace_id: str, role: str = "view", *, created_by: str = "",
                          expires_at: datetime | None = None, label: str = "") -> NoReturn:
        self._owner_only("make share links")

    def revoke_share_link(self, link_id: str, *, workspace_id: str | None = None) -> NoReturn:
        self._owner_only("revoke share links")

    def rotate_share_link(self, link_id: str, *, workspace_id: str | None = None,
                          created_by: str | None = None) -> NoReturn:
        self._owner_only("rotate share links")


def scoped_store(store: Store, workspace_id: str, role: str,
                 link_id: str | None = None) -> ScopedStore:
    """The scoped store a role grants: a ReadOnlyStore for "view", an EditStore for "edit"."""
    kind = ReadOnlyStore if check_role(role) == "view" else EditStore
    return kind(store, workspace_id, link_id)
