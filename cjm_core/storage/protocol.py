"""What a page may ask of a store: :class:`WorkspaceStore`, implemented by the owner's
:class:`~cjm_core.storage.store.Store` and by a share link's
:class:`~cjm_core.storage.scoped.ScopedStore`.

The protocol is split by what a method does, so code and tests can enumerate each group:
:class:`WorkspaceReads` (reading one workspace), :class:`WorkspaceWrites` (changing one
workspace's data; a view link refuses them) and :class:`OwnerOperations` (creating and deleting
workspaces and managing share links; only the owner may).

>>> "save_table" in WRITE_METHODS and "get_workspace" in READ_METHODS
True
>>> OWNER_WRITES[:2]
('create_workspace', 'delete_workspace')
"""

from __future__ import annotations

import inspect
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

import polars as pl

from cjm_core.model.journey import Journey
from cjm_core.storage.rows import MapBody, Mapping, MapVersion, ShareLink, Upload, Workspace
from cjm_core.storage.source_repo import EventSource

SaveMode = Literal["replace", "append"]


@runtime_checkable
class WorkspaceReads(Protocol):
    """Reading workspaces, their tables, journey, settings, maps and history."""

    @property
    def read_only(self) -> bool:
        """True when writes are refused (a read-only file, or a view link)."""
        ...

    def list_workspaces(self) -> list[Workspace]: ...

    def has_workspace(self, workspace_id: str) -> bool: ...

    def get_workspace(self, workspace_id: str) -> Workspace: ...

    def get_journey(self, workspace_id: str) -> Journey: ...

    def load_table(self, workspace_id: str, table: str) -> pl.DataFrame | None: ...

    def table_counts(self, workspace_id: str) -> dict[str, int]: ...

    def table_versions(self, workspace_id: str) -> dict[str, str]: ...

    def uploads(self, workspace_id: str) -> list[Upload]: ...

    def map_versions(self, workspace_id: str, map_name: str = "main") -> list[MapVersion]: ...

    def load_map_version(self, workspace_id: str, version: int | None = None,
                         map_name: str = "main") -> MapBody | None: ...

    def data_updated_at(self, workspace_id: str) -> datetime | None: ...

    def get_setting(self, workspace_id: str, name: str) -> str | None: ...

    def find_mapping(self, columns: list[str]) -> Mapping | None: ...

    def get_event_source(self, workspace_id: str) -> EventSource | None: ...

    @staticmethod
    def column_signature(columns: list[str]) -> str: ...


@runtime_checkable
class WorkspaceWrites(Protocol):
    """Changing a workspace's data, journey, settings, maps and history, and saving mappings."""

    def save_table(self, workspace_id: str, table: str, frame: pl.DataFrame, *,
                   source: str = "", mode: SaveMode = "replace", sheet: str = "",
                   rows_in: int | None = None, rows_rejected: int = 0) -> None: ...

    def save_tables(self, workspace_id: str, tables: dict[str, pl.DataFrame], *,
                    sources: dict[str, str] | None = None,
                    uploads: dict[str, dict[str, Any]] | None = None) -> None: ...

    def delete_table(self, workspace_id: str, table: str) -> None: ...

    def save_journey(self, workspace_id: str, journey: Journey) -> None: ...

    def save_setting(self, workspace_id: str, name: str, value: str) -> None: ...

    def delete_setting(self, workspace_id: str, name: str) -> None: ...

    def save_map_version(self, workspace_id: str, body: str, *, expected: int | None,
                         author: str = "", note: str = "", map_name: str = "main") -> int: ...

    def record_upload(self, workspace_id: str, *, source: str, sheet: str, table: str,
                      rows_in: int, rows_loaded: int, rows_rejected: int) -> None: ...

    def rename_workspace(self, workspace_id: str, name: str) -> None: ...

    def save_mapping(self, columns: list[str], table: str, roles: dict[str, str], *,
                     date_order: str | None = None,
                     scales: dict[str, int] | None = None) -> None: ...

    def save_event_source(self, workspace_id: str, event_source: EventSource) -> None: ...

    def delete_event_source(self, workspace_id: str) -> None: ...


@runtime_checkable
class OwnerOperations(Protocol):
    """What only the owner may do: make and delete workspaces, list and manage share links."""

    def create_workspace(self, name: str, journey: Journey, *,
                         workspace_id: str | None = None) -> str: ...

    def delete_workspace(self, workspace_id: str) -> None: ...

    def create_share_link(self, workspace_id: str, role: str, *, created_by: str = "",
                          expires_at: datetime | None = None,
                          label: str = "") -> tuple[str, ShareLink]: ...

    def revoke_share_link(self, link_id: str, *, workspace_id: str | None = None) -> None: ...

    def rotate_share_link(self, link_id: str, *, workspace_id: str | None = None,
                          created_by: str | None = None) -> str: ...

    def share_links(self, workspace_id: str, *, active_only: bool = True,
                    now: datetime | None = None) -> list[ShareLink]: ...


@runtime_checkable
class WorkspaceStore(WorkspaceReads, WorkspaceWrites, OwnerOperations, Protocol):
    """Everything a page may ask of a store; the owner's store grants it all, a share link's
    scoped store refuses writes (view) or owner operations (edit) with a typed error."""


def methods(protocol: type) -> tuple[str, ...]:
    """The public methods a protocol class declares itself, in declaration order.

    >>> methods(OwnerOperations)[:2]
    ('create_workspace', 'delete_workspace')
    """
    return tuple(name for name, value in vars(protocol).items()
                 if not name.startswith("_") and (inspect.isfunction(value)
                                                  or isinstance(value, staticmethod)))


def _takes_workspace(protocol: type, name: str) -> bool:
    params = list(inspect.signature(getattr(protocol, name)).parameters)
    return params[1:2] == ["workspace_id"]


READ_METHODS = methods(WorkspaceReads)
#: every method that changes something: a view link refuses each with ReadOnlyError
WRITE_METHODS = methods(WorkspaceWrites) + tuple(
    m for m in methods(OwnerOperations) if m != "share_links")
#: the owner's operations that write (an edit link refuses them with AccessDenied)
OWNER_WRITES = tuple(m for m in methods(OwnerOperations) if m != "share_links")
#: reads a scoped store passes on for its own workspace (the first argument) and refuses for any
#: other with AccessDenied (``has_workspace`` answers False instead)
SCOPED_READS = tuple(m for m in READ_METHODS
                     if _takes_workspace(WorkspaceReads, m) and m != "has_workspace")
#: writes an edit link passes on for its own workspace (the first argument)
SCOPED_WRITES = tuple(m for m in methods(WorkspaceWrites) if _takes_workspace(WorkspaceWrites, m))
