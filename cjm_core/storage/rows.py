"""The typed rows the store hands out: one frozen dataclass per kind of row, built from a
query's columns by name. Nothing here touches the database, so any layer may import them.

>>> from datetime import UTC, datetime
>>> MapVersion(2, "Ana", "", datetime(2025, 1, 1, tzinfo=UTC)).version
2
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple


@dataclass(frozen=True)
class Workspace:
    """One workspace as listed; timestamps are UTC."""

    id: str
    name: str
    isic: str
    created_at: datetime
    updated_at: datetime
    data_updated_at: datetime | None


@dataclass(frozen=True)
class Mapping:
    """A saved column mapping: which table an export loads into and which column plays each role.

    ``roles`` maps role name -> column name, spelled as in the columns passed to
    :meth:`~cjm_core.storage.store.Store.find_mapping` (so a header that changed only in case or
    accents still maps).
    """

    table: str
    roles: dict[str, str]
    date_order: str | None = None
    columns: list[str] = field(default_factory=list)
    #: score role -> the scale the user chose (5, 7, 10)
    scales: dict[str, int] = field(default_factory=dict)
    signature: str = ""
    saved_at: datetime | None = None


@dataclass(frozen=True)
class MapVersion:
    """One saved version of a journey map as listed in its history (without its body)."""

    version: int
    author: str
    note: str
    saved_at: datetime


class MapBody(NamedTuple):
    """One version of a journey map with its body (a JSON text); unpacks as ``version, body``."""

    version: int
    body: str


@dataclass(frozen=True)
class Upload:
    """One line of a workspace's upload history; ``rows_in = rows_loaded + rows_rejected``."""

    source: str
    sheet: str
    table: str
    rows_in: int
    rows_loaded: int
    rows_rejected: int
    uploaded_at: datetime


@dataclass(frozen=True)
class StoredTable:
    """The catalogue row of one saved table: where its data lives and how to read it back."""

    workspace_id: str
    table: str
    physical: str
    schema_ipc: bytes
    n_rows: int
    source: str
    version: int
    #: content digest of the saved rows (None in rows saved before it was kept: hash on load)
    digest: str | None = None


@dataclass(frozen=True)
class ShareLink:
    """One share link as listed (never its token); timestamps are UTC."""

    id: str
    workspace_id: str
    role: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    label: str

    @property
    def active(self) -> bool:
        """Neither revoked nor past its expiry (at the time of asking)."""
        expired = self.expires_at is not None and self.expires_at <= datetime.now(UTC)
        return self.revoked_at is None and not expired
