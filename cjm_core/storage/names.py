"""The names the store checks or derives before any SQL runs: workspace ids and display names,
table names, and the folding of column names behind header signatures and id slugs."""

from __future__ import annotations

import re
import unicodedata

from cjm_core.errors import StoreError
from cjm_core.model.schema import TABLES

#: workspace ids: lowercase letters, digits, "-" and "_", starting with a letter or digit
WORKSPACE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def valid_id(workspace_id: object) -> bool:
    """Whether ``workspace_id`` is a well-formed workspace id.

    >>> valid_id("sample-4742"), valid_id("../x"), valid_id(None)
    (True, False, False)
    """
    return isinstance(workspace_id, str) and bool(WORKSPACE_ID_RE.match(workspace_id))


def check_id(workspace_id: object) -> str:
    """A valid workspace id, or StoreError (ids come from pages and URLs).

    >>> check_id("sample-4742")
    'sample-4742'
    """
    if not isinstance(workspace_id, str) or not WORKSPACE_ID_RE.match(workspace_id):
        raise StoreError(
            f"{workspace_id!r} is not a valid workspace id: use 1-64 lowercase letters, "
            "digits, '-' or '_'."
        )
    return workspace_id


def check_name(name: str) -> str:
    """A workspace's display name with its whitespace folded; StoreError if empty or too long.

    >>> check_name("  Hi-Fi   Müller ")
    'Hi-Fi Müller'
    """
    clean = " ".join(str(name).split())
    if not clean:
        raise StoreError("A workspace needs a name.")
    if len(clean) > 200:
        raise StoreError("A workspace name can be at most 200 characters long.")
    return clean


def check_table(table: str) -> str:
    """A table name a workspace can hold (:data:`cjm_core.model.schema.TABLES`), or StoreError."""
    if table not in TABLES:
        known = ", ".join(TABLES)
        raise StoreError(f"{table!r} is not a table a workspace can hold; use one of {known}.")
    return table


def signature_fold(text: str) -> str:
    """Fold a column name for header signatures: lowercase, no accents, punctuation as one space.

    Kept here rather than reusing :func:`cjm_core.ingest.roles.fold` on purpose: signatures are
    saved on disk, so this must never change when role matching is tuned. It is fully case-blind
    ("CustomerID" and "CUSTOMERID" fold alike).

    >>> signature_fold("  Kunden-Nr. (ÉTÉ)__ "), signature_fold("Größe")
    ('kunden nr ete', 'grosse')
    """
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", plain).split())


def slug(name: str) -> str:
    """The workspace id a name suggests.

    >>> slug("Hi-Fi Müller")
    'hi-fi-muller'
    """
    return re.sub(r"[^a-z0-9]+", "-", signature_fold(name)).strip("-")[:40].strip("-")
