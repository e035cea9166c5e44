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
        "The workbook declares an unsafe size or compression ratio (possible zip bomb)."
    ),
    "empty-file": "The file or sheet holds no data rows.",
    "encoding-replaced": "Some bytes could not be decoded and were replaced.",
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
    "out-of-range": "A number lies outside the range its role allows.",
    "negative-duration": "An end time lies before its start time.",
    # table level
    "ambiguous-date-order": (
        "Every date fits both day-first and month-first; the order must be chosen."
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
