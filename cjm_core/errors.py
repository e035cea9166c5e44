"""The few named exceptions the core raises; the app shows them in one place."""

from __future__ import annotations


class CJMError(Exception):
    """Base class: every error the core raises on purpose carries a user-facing message."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class IngestError(CJMError):
    """A file cannot be read at all (unknown format, broken bytes, too large, unsafe workbook)."""

    code = "unreadable-file"


class UploadTooLarge(IngestError):
    """The upload exceeds the configured size limit."""

    code = "file-too-large"


class UnsafeWorkbook(IngestError):
    """A workbook looks like a zip bomb or is too big to open safely."""

    code = "unsafe-workbook"


class StoreError(CJMError):
    """The workspace store refused an operation."""

    code = "store-error"


class StoreLocked(StoreError):
    """Another process holds the workspace database for writing."""

    code = "store-locked"


class ReadOnlyError(StoreError):
    """A write was attempted through a read-only (view) handle."""

    code = "read-only"


class QueryError(CJMError, ValueError):
    """A question the data cannot answer as asked (a funnel step twice, a missing column, a
    journey without stages); the message says what to change."""

    code = "bad-query"


class MapConflict(StoreError):
    """Someone saved a newer version of the map since this editor opened it."""

    code = "map-conflict"

    def __init__(self, message: str, *, latest: int | None) -> None:
        super().__init__(message)
        self.latest = latest


class ShareLinkRevoked(CJMError):
    """A share link was revoked (or its workspace deleted); the app shows a page saying so."""

    code = "share-link-revoked"


class ShareLinkExpired(CJMError):
    """A share link has passed its expiry time; the app shows a page saying so."""

    code = "share-link-expired"


class AccessDenied(StoreError):
    """A share link's handle asked for something its link does not grant (another workspace,
    deleting the workspace, managing share links)."""

    code = "access-denied"


class UsageError(CJMError):
    """A command-line argument that cannot be used (a bad window, an unknown role, too few
    steps); the command exits 2 with this message."""

    code = "bad-argument"
