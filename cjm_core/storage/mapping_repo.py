"""Saved column mappings, keyed by a signature of an export's header, so the same export
uploaded again is mapped without clicks. Mappings belong to the file, not to one workspace."""

from __future__ import annotations

import hashlib
import json

from cjm_core.model.schema import ROW
from cjm_core.storage.database import Database, now, run, utc
from cjm_core.storage.names import check_table, signature_fold
from cjm_core.storage.rows import Mapping

#: the row-number column ingest adds; not part of an export's header


def column_signature(columns: list[str]) -> str:
    """Stable hash of an export's header: folded, sorted names, ignoring ``__row__``.

    >>> column_signature(["Kunde", "Datum"]) == column_signature(["DATUM", "kunde"])
    True
    """
    names = sorted(signature_fold(c) for c in columns if c != ROW)
    return hashlib.sha256(json.dumps(names, ensure_ascii=False).encode()).hexdigest()[:32]


class MappingRepo:
    """Save and find column mappings."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def save(self, columns: list[str], table: str, roles: dict[str, str], *,
             date_order: str | None = None, scales: dict[str, int] | None = None) -> None:
        check_table(table)
        signature = column_signature(columns)
        with self.db.transaction() as cur:
            run(
                cur,
                "INSERT INTO mappings (signature, table_name, columns, roles, date_order, "
                "saved_at, scales) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (signature) DO UPDATE "
                "SET table_name = excluded.table_name, columns = excluded.columns, "
                "roles = excluded.roles, date_order = excluded.date_order, "
                "saved_at = excluded.saved_at, scales = excluded.scales",
                [signature, table, json.dumps(list(columns), ensure_ascii=False),
                 json.dumps(dict(roles), ensure_ascii=False), date_order, now(),
                 json.dumps({r: int(n) for r, n in (scales or {}).items()})],
            )

    def find(self, columns: list[str]) -> Mapping | None:
        signature = column_signature(columns)
        row = self.db.record(
            "SELECT table_name, roles, date_order, saved_at, scales FROM mappings "
            "WHERE signature = ?", [signature])
        if row is None:
            return None
        by_fold: dict[str, str] = {}
        for column in columns:
            by_fold.setdefault(signature_fold(column), column)
        roles = {}
        for role, column in json.loads(row["roles"]).items():
            if column in columns:
                roles[role] = column
            elif signature_fold(column) in by_fold:
                roles[role] = by_fold[signature_fold(column)]
        return Mapping(table=row["table_name"], roles=roles, date_order=row["date_order"],
                       columns=list(columns), signature=signature, saved_at=utc(row["saved_at"]),
                       scales=json.loads(row["scales"]) if row["scales"] else {})
