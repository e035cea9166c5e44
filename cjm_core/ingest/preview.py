"""The first rows of an upload under the chosen roles, for the user to check before saving
(issue 13 §1): each mapped role is a column headed "customer id (cust_no)", in the table's role
order, with the cells as they were read."""

from __future__ import annotations

import polars as pl

from cjm_core.ingest.read import RawTable
from cjm_core.model.schema import ROW, TABLES

__all__ = ["PREVIEW_ROWS", "preview", "role_header", "unused_columns"]

#: rows a preview shows
PREVIEW_ROWS = 10


def role_header(role: str, column: str) -> str:
    """A preview column's header: the role in words, then the user's column.

    >>> role_header("customer_id", "cust_no")
    'customer id (cust_no)'
    """
    return f"{role.replace('_', ' ')} ({column})"


def preview(raw: RawTable, table: str, roles: dict[str, str], rows: int = PREVIEW_ROWS
            ) -> pl.DataFrame:
    """The first ``rows`` rows of ``raw`` with one text column per mapped role, in the order
    of the table's roles (``roles``: role -> the user's column; roles the table does not have
    and columns the file does not have are left out); empty cells read as "".

    >>> raw = RawTable("a.csv", None, pl.DataFrame({ROW: [3, 2], "when": [None, "1.2."],
    ...     "cust_no": ["K2", "K1"], "note": ["y", "x"]}), header_row=1)
    >>> p = preview(raw, "events", {"timestamp": "when", "customer_id": "cust_no"})
    >>> p.columns, p.rows()
    (['customer id (cust_no)', 'timestamp (when)'], [('K1', '1.2.'), ('K2', '')])
    """
    # the first rows as the user numbers them (a frame's own order is not to be relied on)
    head = raw.frame.bottom_k(rows, by=ROW).sort(ROW) if ROW in raw.frame.columns \
        else raw.frame.head(rows)
    shown = [(r.name, roles[r.name]) for r in TABLES[table]
             if r.name in roles and roles[r.name] in head.columns and roles[r.name] != ROW]
    return pl.DataFrame(
        {role_header(role, col): head[col].cast(pl.String).fill_null("") for role, col in shown},
        schema={role_header(role, col): pl.String for role, col in shown})


def unused_columns(raw: RawTable, roles: dict[str, str]) -> list[str]:
    """The user's columns no role reads (they are not saved), in file order.

    >>> raw = RawTable("a.csv", None, pl.DataFrame({ROW: [2], "a": ["1"], "b": ["2"]}), 1)
    >>> unused_columns(raw, {"customer_id": "a"})
    ['b']
    """
    used = set(roles.values())
    return [c for c in raw.frame.columns if c != ROW and c not in used]
