"""From upload bytes to loaded tables: read, suggest table and roles (or reuse a saved mapping),
validate. The app and ``python -m cjm_core inspect`` both go through :func:`ingest`, so they see the
same tables, roles and problems.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cjm_core.ingest.dates import Order, two_digit_year_notes
from cjm_core.ingest.read import RawTable, read_file
from cjm_core.ingest.roles import suggest_table, suggest_with_reasons
from cjm_core.ingest.validate import LoadResult, load_table
from cjm_core.model.schema import FEEDBACK_SCORES, ROW, TABLES, required_roles

#: a function that returns a saved mapping (table, roles, date_order, scales) for a list of columns
MappingLookup = Callable[[list[str]], Any]


@dataclass
class Choice:
    """What the user chose (or the app suggested) for one raw table."""

    table: str
    roles: dict[str, str]
    date_order: Order | None = None
    reasons: dict[str, str] = field(default_factory=dict)
    mapping_reused: bool = False
    #: score role -> the scale the user chose (5, 7, 10); others are read from header or answers
    scales: dict[str, int] = field(default_factory=dict)


@dataclass
class TableLoad:
    """One raw table (a file, or a sheet of a workbook) and what loading it gave."""

    raw: RawTable
    choice: Choice
    result: LoadResult

    @property
    def source(self) -> str:
        return self.raw.source

    @property
    def sheet(self) -> str | None:
        return self.raw.sheet

    @property
    def columns(self) -> list[str]:
        return data_columns(self.raw)

    def to_dict(self) -> dict[str, Any]:
        """The ``inspect --json`` entry for this table."""
        reader_notes = [p for p in self.raw.problems if p.row is None]
        return {
            "source": self.raw.source,
            "sheet": self.raw.sheet,
            "table": self.result.table,
            "status": self.result.status,
            "rows_in": self.result.rows_in,
            "rows_loaded": self.result.rows_loaded,
            "rows_rejected": self.result.rows_rejected,
            "cells_blanked": self.result.cells_blanked,
            "roles": dict(self.result.roles),
            "scales": {r: s.to_dict() for r, s in self.result.scale_details.items()},
            "mapping_reused": self.choice.mapping_reused,
            "date_formats": dict(self.result.date_formats),
            "encoding": self.raw.encoding,
            "delimiter": self.raw.delimiter,
            "header_row": self.raw.header_row,
            "problem_count": self.result.problem_count,
            "problems": [p.to_dict() for p in
                         dedupe_problems(reader_notes + list(self.result.problems))],
            "questions": [q.to_dict() if hasattr(q, "to_dict") else vars(q)
                          for q in self.result.questions],
        }


def dedupe_problems(problems: list) -> list:
    seen, out = set(), []
    for p in problems:
        key = (p.code, p.row, p.column, p.value)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def data_columns(raw: RawTable) -> list[str]:
    """The user's columns of a raw table (without the internal row-number column)."""
    return [c for c in raw.frame.columns if c != ROW]


def digest(data: bytes) -> str:
    """Content digest of an upload, the cache key for everything computed from it.

    >>> digest(b"a,b\\n1,2\\n")[:12]
    'a2b7d5004d96'
    """
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def holds_table(raw: RawTable, choice: Choice) -> bool:
    """Whether a raw table looks like one of the five tables (its required roles were found).

    Workbooks often carry an "Info" or notes sheet; those are offered but not loaded by default.
    """
    if raw.frame.height == 0 or len(data_columns(raw)) < 2:
        return False
    if choice.table == "feedback":
        return any(r in choice.roles for r in FEEDBACK_SCORES)
    return all(r in choice.roles for r in required_roles(choice.table))


def suggest(raw: RawTable, *, lookup: MappingLookup | None = None) -> Choice:
    """Suggest the table and roles for a raw table, reusing a saved mapping for the same columns."""
    columns = data_columns(raw)
    saved = lookup(columns) if lookup else None
    if saved is not None and set(saved.roles.values()) <= set(columns):
        return Choice(saved.table, dict(saved.roles), saved.date_order, mapping_reused=True,
                      scales=dict(getattr(saved, "scales", None) or {}))
    profiles: dict = {}  # value profiles shared by the table and the role suggestions
    table = suggest_table(raw.frame, hint=raw.sheet or raw.source, profiles=profiles)
    return choose(raw, table, profiles=profiles)


def choose(
    raw: RawTable,
    table: str,
    overrides: dict[str, str | None] | None = None,
    *,
    profiles: dict | None = None,
) -> Choice:
    """Roles suggested for ``table``, with the user's overrides on top (None unassigns a role).

    ``profiles`` is the value-profile cache of an earlier :func:`suggest_table` on the same frame.
    """
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}; choose one of {', '.join(TABLES)}")
    roles, reasons = suggest_with_reasons(raw.frame, table, profiles)
    for role, column in (overrides or {}).items():
        if column is None:
            roles.pop(role, None)
            reasons.pop(role, None)
            continue
        # a column plays one role: taking it away from another role
        for other in [r for r, c in roles.items() if c == column and r != role]:
            roles.pop(other)
            reasons.pop(other, None)
        roles[role] = column
        reasons[role] = "chosen by you"
    return Choice(table, roles, reasons=reasons)


def load(raw: RawTable, choice: Choice) -> TableLoad:
    """Validate and type one raw table under a choice."""
    result = load_table(raw, choice.table, choice.roles, date_order=choice.date_order,
                        scales=choice.scales)
    _note_two_digit_years(raw, result)
    return TableLoad(raw, choice, result)


def _note_two_digit_years(raw: RawTable, result: LoadResult) -> None:
    """The ``two-digit-year`` note (the pivot, with the earliest and latest date read) first in
    the load's report, where ``inspect`` and the Data page show it."""
    notes = two_digit_year_notes(raw.frame, result.date_formats)
    if notes:
        result.problems[:0] = notes
        result.problem_count += len(notes)


def ingest(
    data: bytes,
    name: str,
    *,
    sheets: list[str] | None = None,
    table: str | None = None,
    overrides: dict[str, str | None] | None = None,
    date_order: Order | None = None,
    scales: dict[str, int] | None = None,
    lookup: MappingLookup | None = None,
    keep_all_sheets: bool = False,
) -> list[TableLoad]:
    """Read an upload and load every table it holds, exactly as the app does.

    ``table``, ``overrides``, ``date_order`` and ``scales`` apply to every raw table read (the
    command line's ``--table``, ``--map``, ``--date-order`` and ``--scale``). Sheets that hold no
    table are left out unless nothing in the file holds one (then every sheet is returned so its
    problems can be shown) or ``keep_all_sheets`` is set.
    """
    loads = []
    for raw in read_file(data, name, sheets=sheets):
        if table is None and not overrides:
            choice = suggest(raw, lookup=lookup)
        else:
            profiles: dict = {}
            picked = table or suggest_table(raw.frame, hint=raw.sheet or raw.source,
                                            profiles=profiles)
            choice = choose(raw, picked, overrides, profiles=profiles)
        if date_order is not None:
            choice.date_order = date_order
        if scales:
            choice.scales = {**choice.scales, **scales}
        loads.append((raw, choice))
    kept = [(r, c) for r, c in loads if holds_table(r, c)]
    if keep_all_sheets or not kept or sheets:
        kept = loads
    return [load(raw, choice) for raw, choice in kept]
