"""Validation problems: a stable code, where it is (row as the user sees it, column), the raw value
and a plain message. The catalogue below is the single source of truth for codes; the README and a
test check that every code is documented."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning"]

#: code -> one-line description shown in the README and the app's help.
CODES: dict[str, str] = {
    # file level
    "unreadable-file": "The file could not be read as any supported format.",
    "file-too-large": "The file is larger than the upload limit.",
    "unsafe-workbook": (
        "The workbook would inflate past a limit (size, compression ratio, parts, cells), lies "
        "about its sizes or declares a DTD (possible zip bomb); it was not opened."
    ),
    "empty-file": "The file or sheet holds no data rows.",
    "encoding-replaced": "Some bytes could not be decoded and were replaced.",
    "nul-byte": "A cell held a NUL byte (padding from an old system); the byte was removed.",
    "read-as-text": "A file named like a workbook holds text; it was read as text.",
    "skipped-row": "A line above the header row (a title or note) was skipped.",
    # header level
    "blank-label": "A column has no header; it was named after its position.",
    "duplicate-label": "Two columns share a header; the later one was renamed.",
    "missing-role": "A required role has no column assigned.",
    "unknown-column": "A mapped column does not exist in the file.",
    # row level
    "extra-cell": "A row has more cells than the header.",
    "missing-cell": "A row has fewer cells than the header.",
    "blank-row": "A row is entirely empty; it was skipped.",
    "missing-value": "A required value is empty.",
    "bad-date": "A value could not be read as a date in the column's format.",
    "bad-number": "A value could not be read as a number.",
    "bad-boolean": "A value could not be read as yes/no.",
    "out-of-range": "A number lies outside the range its role allows (a score: its scale).",
    "negative-duration": "An end time lies before its start time.",
    # table level
    "ambiguous-date-order": (
        "Every date fits both day-first and month-first; the order must be chosen."
    ),
    "ambiguous-scale": (
        "A score column states no scale and its answers fit two; the scale must be chosen."
    ),
    "two-digit-year": (
        "Dates with two-digit years were read with the pivot 69: 69-99 are 1969-1999, "
        "00-68 are 2000-2068 (a note; every such date loads)."
    ),
}


@dataclass(frozen=True)
class Problem:
    """One validation problem. ``row`` is the row number as the user sees it in their file."""

    code: str
    message: str
    row: int | None = None
    column: str | None = None
    value: str | None = None
    severity: Severity = "error"

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown problem code {self.code!r}")

    def to_dict(self) -> dict:
        """The JSON shape used by ``inspect --json``."""
        d = asdict(self)
        d.pop("severity")
        d["severity"] = self.severity
        return d


def code_counts(problems: list[Problem], rejected_codes: list[str | None] | None = None,
                blanked: dict[str, int] | None = None) -> dict[str, int]:
    """How many rows (or cells) each problem code concerns (1 for a note about the whole
    table), most frequent first.

    ``problems`` may be a truncated listing, so rows rejected for a code are counted from
    ``rejected_codes`` (one comma-joined string of codes per rejected row) when given, and cells
    blanked in loaded rows from ``blanked`` (code -> cells, ``LoadResult.blanked_codes``); other
    warnings on kept rows and table-level notes that rejected nothing are counted from the listing.

    >>> p = [Problem("blank-row", "…", row=3, severity="warning"), Problem("bad-date", "…", row=4)]
    >>> code_counts(p, ["bad-date", "bad-date, bad-number"])
    {'bad-date': 2, 'blank-row': 1, 'bad-number': 1}
    >>> code_counts([Problem("missing-role", "…")], ["missing-role"] * 5)
    {'missing-role': 5}
    >>> code_counts([Problem("bad-number", "…", row=2, severity="warning")], [], {"bad-number": 7})
    {'bad-number': 7}
    """
    counts: dict[str, int] = {}
    for joined in rejected_codes or []:
        for code in {c.strip() for c in (joined or "").split(",") if c.strip()}:
            counts[code] = counts.get(code, 0) + 1
    by_rows = set(counts)
    for code, n in (blanked or {}).items():
        counts[code] = counts.get(code, 0) + n
    for p in problems:
        if p.severity == "warning" and p.row is not None and blanked is not None and (
            p.code in blanked
        ):
            continue  # a blanked cell, counted exactly above
        if rejected_codes is None or p.severity == "warning" or (
            p.row is None and p.code not in by_rows
        ):
            counts[p.code] = counts.get(p.code, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], list(CODES).index(kv[0]))))
