"""From upload bytes to loaded tables: read, suggest table and roles (or reuse a saved mapping),
validate. The app and ``python -m cjm_core inspect`` both go through :func:`ingest`, so they see the
same tables, roles and problems.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cjm_core.ingest.dates import Order, two_digit_year_notes
from cjm_core.ingest.read import (
    WHITESPACE,
    RawTable,
    detect_format,
    parquet_rows,
    read_file,
    read_parquet_part,
    read_text_blocks,
    read_text_part,
)
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


def _choice(raw: RawTable, table: str | None, overrides: dict[str, str | None] | None,
            lookup: MappingLookup | None) -> Choice:
    """The table and roles for a raw table: suggested (or a saved mapping), or the caller's."""
    if table is None and not overrides:
        return suggest(raw, lookup=lookup)
    profiles: dict = {}
    picked = table or suggest_table(raw.frame, hint=raw.sheet or raw.source, profiles=profiles)
    return choose(raw, picked, overrides, profiles=profiles)


#: rows of a Parquet file's head that role suggestion may look at (it profiles the first 5,000
#: non-empty values of a column, looking at 5,000, 20,000, 80,000, then 320,000 rows)
_HEAD_ROWS = 320_000


def _parquet_columns(data: bytes, name: str, keep: Collection[str], *, table: str | None,
                     overrides: dict[str, str | None] | None, lookup: MappingLookup | None
                     ) -> tuple[RawTable, Choice] | None:
    """The table and roles suggested on a Parquet file's head, and only the columns they and
    ``keep`` need read in full; None when the head could suggest otherwise than the whole file
    (a column with too few values in it) or it holds no table."""
    total = parquet_rows(data, name)
    head = read_parquet_part(data, name, n_rows=_HEAD_ROWS)
    picked = _narrowed(head, keep, total > _HEAD_ROWS, table, overrides, lookup)
    if picked is None:
        return None
    choice, ordered = picked
    return read_parquet_part(data, name, columns=ordered), choice


def _narrowed(head: RawTable, keep: Collection[str], more: bool, table: str | None,
              overrides: dict[str, str | None] | None, lookup: MappingLookup | None
              ) -> tuple[Choice, list[str]] | None:
    """The choice suggested on a file's head, cut to the columns it and ``keep`` need, and
    those columns in the file's order; None when the head could suggest otherwise than the
    whole file (``more`` rows follow and a column has too few values in the head) or it holds
    no table."""
    if more and any(
            int(head.frame.get_column(c).head(_HEAD_ROWS).is_not_null().sum()) < _PROFILED
            for c in data_columns(head)):
        return None
    choice = _choice(head, table, overrides, lookup)
    if not holds_table(head, choice):
        return None
    wanted = set(required_roles(choice.table)) | set(keep)
    columns = {choice.roles.get(k, k) for k in wanted} & set(data_columns(head))
    columns |= {c for r, c in choice.roles.items() if r in wanted}
    ordered = [c for c in data_columns(head) if c in columns]
    choice.roles = {r: c for r, c in choice.roles.items() if c in columns}
    choice.reasons = {r: why for r, why in choice.reasons.items() if r in choice.roles}
    return choice, ordered


def _text_columns(data: bytes, name: str, keep: Collection[str], *, table: str | None,
                  overrides: dict[str, str | None] | None, lookup: MappingLookup | None
                  ) -> tuple[RawTable, Choice] | None:
    """:func:`_parquet_columns` for a delimited text file: the table and roles suggested on
    its first ``_HEAD_ROWS`` lines, then only the fields they and ``keep`` need read from the
    whole file (:func:`read_text_part`). None, and the caller reads the whole file, unless the
    head is plain (see :func:`_text_head`) and the whole file is read the same way."""
    cut = _line_end(data, _HEAD_ROWS)
    if cut is None:
        return None
    picked = _text_head(data[:cut], name, keep, table, overrides, lookup)
    if picked is None:
        return None
    raw = picked.narrow(read_text_part(data, name, columns=picked.positions))
    return None if raw is None else (raw, picked.choice)


def _text_head(head: bytes, name: str, keep: Collection[str], table: str | None,
               overrides: dict[str, str | None] | None, lookup: MappingLookup | None
               ) -> _TextPlan | None:
    """The choice a text file's head suggests, cut to the columns it and ``keep`` need: the
    choice, those columns, every column's name, the positions to read (the needed ones and the
    record's last, which tells a short record) and the delimiter. None unless the head is
    plain: the column labels on its first line, unquoted, every labelled column kept, and no
    quoted cell left open where the head is cut."""
    if head.count(b'"') % 2:
        return None
    first = head[:head.find(b"\n")]
    if b"\0" in first or b'"' in first:
        return None  # UTF-16, or a label quoted: the labels' positions are unsure
    heads = read_file(head, name)
    if len(heads) != 1 or heads[0].header_row != 1 or heads[0].delimiter in (None, WHITESPACE):
        return None
    raw = heads[0]
    names = data_columns(raw)
    delimiter = str(raw.delimiter)
    if first.count(delimiter.encode()) + 1 != len(names):
        return None  # a column the reader dropped (no label, no value)
    picked = _narrowed(raw, keep, True, table, overrides, lookup)
    if picked is None:
        return None
    choice, ordered = picked
    last = names[-1]  # always read: a record short of it is judged by the whole read
    positions = [names.index(c) for c in ordered if c != last] + [len(names) - 1]
    return _TextPlan(choice, ordered, names, positions, delimiter)


@dataclass(frozen=True)
class _TextPlan:
    """What a text file's head decided (:func:`_text_head`): the choice, the needed columns
    (file order), every column's name, the positions to read and the delimiter."""

    choice: Choice
    ordered: list[str]
    names: list[str]
    positions: list[int]
    delimiter: str

    def narrow(self, raw: RawTable | None) -> RawTable | None:
        """A narrow read checked against the head (header on the first line, the columns at the
        positions asked for), without the last column when only the check needed it."""
        names = self.names
        if raw is None or raw.header_row != 1 or data_columns(raw) != [
                names[j] for j in self.positions]:
            return None
        if names[-1] not in self.ordered:
            frame = raw.frame.drop(names[-1])
            raw = replace(raw, frame=frame,
                          normalised=frame if raw.normalised is not None else None)
        return raw


#: from this size a text file on disk read for some columns is read a block at a time
_BLOCKS_FROM = 32 << 20


def ingest_path(
    path: Path,
    *,
    table: str | None = None,
    overrides: dict[str, str | None] | None = None,
    date_order: Order | None = None,
    scales: dict[str, int] | None = None,
    keep: Collection[str] | None = None,
) -> list[TableLoad]:
    """:func:`ingest` of a file on disk (the command line). A large delimited text file of
    which ``keep`` asks for some columns is read a block of lines at a time
    (:func:`read_text_blocks`): its bytes are never held whole, so a 1 GB export peaks at the
    frame of its needed columns rather than at the file plus that frame. Every other file, and
    one whose layout the block reader cannot be sure of, is read whole by :func:`ingest`."""
    if keep is not None and path.stat().st_size >= _BLOCKS_FROM and _is_text(path):
        head = _file_head(path, _HEAD_ROWS)
        picked = (None if head is None
                  else _text_head(head, path.name, keep, table, overrides, None))
        if picked is not None:
            raw = picked.narrow(read_text_blocks(path, path.name, columns=picked.positions,
                                                 delimiter=picked.delimiter))
            if raw is not None:
                return [load(raw, _with_options(picked.choice, date_order, scales))]
    return ingest(path.read_bytes(), path.name, table=table, overrides=overrides,
                  date_order=date_order, scales=scales, keep=keep)


def _with_options(choice: Choice, date_order: Order | None,
                  scales: dict[str, int] | None) -> Choice:
    """The caller's date order and scales on a suggested choice."""
    if date_order is not None:
        choice.date_order = date_order
    if scales:
        choice.scales = {**choice.scales, **scales}
    return choice


def _is_text(path: Path) -> bool:
    """Whether a file is a text table by its name and first bytes (no workbook, Parquet or
    JSON)."""
    with path.open("rb") as fh:
        start = fh.read(1 << 16)
    if start.startswith((b"PK", b"\xd0\xcf\x11\xe0")):  # a zip (workbook) or an old .xls
        return False
    return detect_format(start, path.name) == "text"


def _file_head(path: Path, lines: int) -> bytes | None:
    """The bytes of a file's first ``lines`` lines (through the line break), None when it
    holds no more lines than that."""
    buf = b""
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 23):
            buf += chunk
            at = _line_end(buf, lines)
            if at is not None:
                return buf[:at]
    return None


def _line_end(data: bytes, lines: int) -> int | None:
    """The offset just past the ``lines``-th line break, None when the data hold no more
    lines than that.

    >>> _line_end(b"a\\nb\\nc\\n", 2), _line_end(b"a\\nb\\n", 2)
    (4, None)
    """
    block, start, seen = 1 << 23, 0, 0
    while start < len(data):
        n = data.count(b"\n", start, start + block)
        if seen + n >= lines:
            at = start - 1
            for _ in range(lines - seen):
                at = data.find(b"\n", at + 1)
            return at + 1 if at + 1 < len(data) else None
        seen += n
        start += block
    return None


#: non-empty values role suggestion profiles per column
_PROFILED = 5000


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
    keep: Collection[str] | None = None,
) -> list[TableLoad]:
    """Read an upload and load every table it holds, exactly as the app does.

    ``table``, ``overrides``, ``date_order`` and ``scales`` apply to every raw table read (the
    command line's ``--table``, ``--map``, ``--date-order`` and ``--scale``). Sheets that hold no
    table are left out unless nothing in the file holds one (then every sheet is returned so its
    problems can be shown) or ``keep_all_sheets`` is set.

    ``keep`` (roles or column names) asks for only those columns besides the table's required
    roles: a Parquet file is then read in two steps, its head to suggest the table and roles,
    then only the columns needed (the others are never read). The loaded rows and values of
    those columns are those the whole file gives. Other formats are read whole.
    """
    kind = detect_format(data, name) if keep is not None and not sheets else None
    if kind in ("parquet", "text"):
        narrow = _parquet_columns if kind == "parquet" else _text_columns
        narrowed = narrow(data, name, keep or (), table=table, overrides=overrides,
                          lookup=lookup)
        if narrowed is not None:
            raw, choice = narrowed
            return [load(raw, _with_options(choice, date_order, scales))]
    loads = []
    for raw in read_file(data, name, sheets=sheets):
        loads.append((raw, _with_options(_choice(raw, table, overrides, lookup), date_order,
                                         scales)))
    kept = [(r, c) for r, c in loads if holds_table(r, c)]
    if keep_all_sheets or not kept or sheets:
        kept = loads
    return [load(raw, choice) for raw, choice in kept]
