"""Share links: one row per link with its role (view / edit), who made it and when, an optional
expiry, its revocation time and a label. The token itself is never stored, only its SHA-256
hash; a token is looked up by its hash and every lookup re-reads the row, so a revoked link stops
working on the very next request."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from datetime import datetime
from typing import Any

from cjm_core.errors import ShareLinkExpired, ShareLinkRevoked, StoreError
from cjm_core.storage import database
from cjm_core.storage.database import Cursor, Database, Record, naive_utc, record, run, utc
from cjm_core.storage.names import check_id
from cjm_core.storage.rows import ShareLink
from cjm_core.storage.workspace_repo import WorkspaceRepo

# the clock is read as database.now(), not imported by name, so a test can move it (expiry)
#: bytes of randomness in a share-link token (256 bits; the issue asks for at least 128)
TOKEN_BYTES = 32
ROLES = ("view", "edit")
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{22,128}")
_LINK_TEXT_MAX = 200
# the workspace's created_at tells links of a deleted workspace from those of a new workspace
# that happens to get the same id: only links made after it count
_LINK_QUERY = ("SELECT l.id, l.workspace_id, l.role, l.created_by, l.created_at, l.expires_at, "
               "l.revoked_at, l.label, l.token_hash, w.created_at AS workspace_created_at "
               "FROM share_links l LEFT JOIN workspaces w ON w.id = l.workspace_id WHERE ")


def token_hash(token: str) -> str:
    """The stored form of a share-link token: its SHA-256, hex.

    A plain fast hash is enough here, unlike for passwords: a token carries 256 random bits, so
    there is nothing to guess from a leaked hash, and a slow KDF would only slow every request.

    >>> token_hash("abc")[:16]
    'ba7816bf8f01cfea'
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_role(role: str) -> str:
    """A share-link role ("view" or "edit"), or StoreError."""
    if role not in ROLES:
        raise StoreError(f"{role!r} is not a share-link role; use 'view' or 'edit'.")
    return role


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _link_text(text: str, what: str) -> str:
    clean = " ".join(str(text).split())
    if len(clean) > _LINK_TEXT_MAX:
        raise StoreError(f"A share link's {what} can be at most {_LINK_TEXT_MAX} characters long.")
    return clean


def _share_link(row: Record) -> ShareLink:
    return ShareLink(id=row["id"], workspace_id=row["workspace_id"], role=row["role"],
                     created_by=row["created_by"], created_at=database.aware(row["created_at"]),
                     expires_at=utc(row["expires_at"]), revoked_at=utc(row["revoked_at"]),
                     label=row["label"])


def _live(row: Record, now: datetime | None) -> ShareLink:
    """The link of a row, or ShareLinkRevoked / ShareLinkExpired if it no longer opens."""
    link = _share_link(row)
    ws_created = row["workspace_created_at"]
    if row["revoked_at"] is not None:
        raise ShareLinkRevoked(
            f"This share link was revoked on {_when(row['revoked_at'])}. Ask the workspace's "
            "owner for a new link.")
    if ws_created is None or ws_created > row["created_at"]:
        raise ShareLinkRevoked(
            "The workspace this share link opened has been deleted. Ask its owner for a "
            "new link.")
    moment = naive_utc(now) if now is not None else database.now()
    if row["expires_at"] is not None and row["expires_at"] <= moment:
        raise ShareLinkExpired(
            f"This share link expired on {_when(row['expires_at'])}. Ask the workspace's owner "
            "for a new link.")
    return link


class ShareLinkRepo:
    """Make, resolve, list, revoke and rotate share links."""

    def __init__(self, db: Database, workspaces: WorkspaceRepo) -> None:
        self.db = db
        self.workspaces = workspaces

    def _rows(self, where: str, params: list[Any]) -> list[Record]:
        return self.db.records(_LINK_QUERY + where, params)

    def create(self, workspace_id: str, role: str, *, created_by: str = "",
               expires_at: datetime | None = None, label: str = "") -> tuple[str, ShareLink]:
        check_role(role)
        expires = naive_utc(expires_at)
        stamp = database.now()
        if expires is not None and expires <= stamp:
            raise StoreError("A share link's expiry must lie in the future.")
        created_by, label = _link_text(created_by, "creator"), _link_text(label, "label")
        token = secrets.token_urlsafe(TOKEN_BYTES)
        link_id = uuid.uuid4().hex[:16]
        with self.db.transaction() as cur:
            self.workspaces.require(cur, workspace_id)
            self._insert(cur, link_id, workspace_id, token, role, created_by, stamp, expires,
                         label)
        return token, ShareLink(link_id, workspace_id, role, created_by, database.aware(stamp),
                                utc(expires), None, label)

    @staticmethod
    def _insert(cur: Cursor, link_id: str, workspace_id: str, token: str, role: str,
                created_by: str, created_at: datetime, expires: datetime | None,
                label: str) -> None:
        run(cur, "INSERT INTO share_links (id, workspace_id, token_hash, role, created_by, "
            "created_at, expires_at, revoked_at, label) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)",
            [link_id, workspace_id, token_hash(token), role, created_by, created_at, expires,
             label])

    def resolve(self, token: str, *, now: datetime | None = None) -> ShareLink | None:
        if not isinstance(token, str) or not _TOKEN_RE.fullmatch(token):
            return None
        digest = token_hash(token)
        rows = self._rows("l.token_hash = ?", [digest])
        if not rows or not hmac.compare_digest(rows[0]["token_hash"].encode(), digest.encode()):
            return None
        return _live(rows[0], now)

    def check(self, link_id: str, *, now: datetime | None = None) -> ShareLink:
        rows = self._rows("l.id = ?", [str(link_id)])
        if not rows:
            raise StoreError(f"There is no share link {link_id!r}.")
        return _live(rows[0], now)

    def get(self, link_id: str) -> ShareLink:
        rows = self._rows("l.id = ?", [str(link_id)])
        if not rows:
            raise StoreError(f"There is no share link {link_id!r}.")
        return _share_link(rows[0])

    def list(self, workspace_id: str, *, active_only: bool = True,
             now: datetime | None = None) -> list[ShareLink]:
        check_id(workspace_id)
        moment = naive_utc(now) if now is not None else database.now()
        where = "l.workspace_id = ? AND w.created_at <= l.created_at"
        params: list[Any] = [workspace_id]
        if active_only:
            where += " AND l.revoked_at IS NULL AND (l.expires_at IS NULL OR l.expires_at > ?)"
            params.append(moment)
        rows = self._rows(where + " ORDER BY l.created_at DESC, l.id", params)
        return [_share_link(r) for r in rows]

    @staticmethod
    def _owned(cur: Cursor, link_id: str, workspace_id: str | None) -> Record:
        row = record(cur, "SELECT workspace_id, role, expires_at, revoked_at, label, created_by "
                     "FROM share_links WHERE id = ?", [str(link_id)])
        if row is None or (workspace_id is not None and row["workspace_id"] != workspace_id):
            where = "" if workspace_id is None else f" for workspace {workspace_id!r}"
            raise StoreError(f"There is no share link {link_id!r}{where}.")
        return row

    def revoke(self, link_id: str, *, workspace_id: str | None = None) -> None:
        with self.db.transaction() as cur:
            self._owned(cur, link_id, workspace_id)
            run(cur, "UPDATE share_links SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                [database.now(), str(link_id)])

    def rotate(self, link_id: str, *, workspace_id: str | None = None,
               created_by: str | None = None) -> str:
        with self.db.transaction() as cur:
            old = self._owned(cur, link_id, workspace_id)
            if old["revoked_at"] is not None:
                raise StoreError("A revoked share link cannot be rotated; make a new link.")
            stamp = database.now()
            if old["expires_at"] is not None and old["expires_at"] <= stamp:
                raise StoreError("An expired share link cannot be rotated; make a new link.")
            self.workspaces.require(cur, old["workspace_id"])
            who = old["created_by"] if created_by is None else _link_text(created_by, "creator")
            token = secrets.token_urlsafe(TOKEN_BYTES)
            run(cur, "UPDATE share_links SET revoked_at = ? WHERE id = ?", [stamp, str(link_id)])
            self._insert(cur, uuid.uuid4().hex[:16], old["workspace_id"], token, old["role"],
                         who, stamp, old["expires_at"], old["label"])
        return token
