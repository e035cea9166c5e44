"""Spreadsheet exports that cannot smuggle a formula into Excel or LibreOffice: the one place
every download and every command-line ``--out`` that writes CSV or XLSX goes through (DESIGN §7,
§10). A text cell starting with = + - − @ tab or CR gets a leading apostrophe, so a spreadsheet
shows it as text instead of running it; XLSX cells are written as strings, never as formulas.
JSON is a data format, not a spreadsheet: it is kept faithful.

Public names: :data:`DANGEROUS_START`, :func:`neutralise`, :func:`safe_frame`,
:func:`safe_csv`, :func:`safe_xlsx`, :func:`frame_download`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import polars as pl

from cjm_core.errors import QueryError

__all__ = ["DANGEROUS_START", "XLSX_MAX_COLS", "XLSX_MAX_ROWS", "frame_download", "neutralise",
           "safe_csv", "safe_frame", "safe_xlsx"]

#: a spreadsheet reads a cell starting with one of these as a formula (or strips it oddly)
DANGEROUS_START = ("=", "+", "-", "−", "@", "\t", "\r")
XLSX_MAX_ROWS = 1_048_576
XLSX_MAX_COLS = 16_384
_EXACT_INT = 2**53  # larger integers lose digits as spreadsheet numbers: written as text
CSV_MIME = "text/csv"
#: the suffixes of the files people upload, dropped from a download's name before its own
_DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xls", ".ods", ".parquet", ".json",
                  ".jsonl", ".ndjson")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(text: str) -> str:
    """``text`` made safe for a spreadsheet cell: a leading apostrophe when it starts with
    = + - − @ tab or CR, so it is shown as text and never run as a formula.

    Leading spaces and line feeds are looked through too, since some spreadsheet programs trim
    them before reading a formula.

    >>> neutralise("=1+1"), neutralise("−2 stars"), neutralise("fine"), neutralise("")
    ("'=1+1", "'−2 stars", 'fine', '')
    >>> neutralise("  =1+1"), neutralise("@SUM(A1)")[:2]
    ("'  =1+1", "'@")
    """
    dangerous = text.lstrip(" \n").startswith(DANGEROUS_START) or text.startswith(
        DANGEROUS_START)
    return "'" + text if dangerous else text


def _dangerous(expr: pl.Expr) -> pl.Expr:
    trimmed = expr.str.strip_chars_start(" \n")
    hit = pl.lit(False)
    for start in DANGEROUS_START:
        hit = hit | expr.str.starts_with(start) | trimmed.str.starts_with(start)
    return hit


def _neutralised(expr: pl.Expr) -> pl.Expr:
    """The polars form of :func:`neutralise` (same characters, one expression)."""
    return pl.when(_dangerous(expr)).then(pl.lit("'") + expr).otherwise(expr)


def _json_text(series: pl.Series) -> pl.Series:
    """Lists, structs, binary and objects as JSON-ish text (a slow path for rare columns)."""
    def text(value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, bytes):
            return value.decode("utf-8", errors="replace")
        return json.dumps(value, ensure_ascii=False, default=str)
    return pl.Series(series.name, [text(v) for v in series.to_list()], dtype=pl.String)


def safe_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every text cell neutralised (numbers, dates and booleans untouched);
    list, struct and binary columns become text first.

    >>> safe_frame(pl.DataFrame({"a": ["=1+1", "ok"], "n": [-1, 2]})).rows()
    [("'=1+1", -1), ('ok', 2)]
    """
    odd = [n for n, d in frame.schema.items() if d.is_nested() or d in (pl.Object, pl.Binary)]
    if odd:
        frame = frame.with_columns([_json_text(frame.get_column(n)) for n in odd])
    exprs = []
    for i, (name, dtype) in enumerate(frame.schema.items()):
        col = pl.nth(i)  # by position: a column named "*" or "^a.*$" is just a name
        if dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum):
            exprs.append(_neutralised(col.cast(pl.String)).alias(name))
        else:
            exprs.append(col)
    return frame.select(exprs)


def safe_csv(frame: pl.DataFrame) -> str:
    """The frame as CSV text with every text cell (and column name) neutralised, so a
    spreadsheet shows ``=HYPERLINK(...)`` as text instead of running it.

    >>> print(safe_csv(pl.DataFrame({"=name": ["@SUM(A1)", "Müller"], "n": [-3, 4]})), end="")
    '=name,n
    '@SUM(A1),-3
    Müller,4
    """
    if not frame.columns:
        return ""
    # the header as one more row of text, so polars quotes it exactly like the cells (a column
    # name with a comma, quote, CR or LF stays one field)
    names = [neutralise(c) for c in frame.columns]
    header = pl.DataFrame([pl.Series(f"c{i}", [n], dtype=pl.String) for i, n in enumerate(names)])
    return (header.write_csv(include_header=False)
            + safe_frame(frame).write_csv(include_header=False))


def _cell_writer(ws: Any, dtype: pl.DataType, formats: dict[str, Any]) -> Callable[..., Any]:
    if dtype == pl.Boolean:
        return ws.write_boolean
    if dtype.is_integer():
        def write_int(r: int, c: int, v: int) -> Any:
            if abs(v) > _EXACT_INT:
                return ws.write_string(r, c, str(v))
            return ws.write_number(r, c, v)
        return write_int
    if dtype.is_float() or dtype.is_decimal():
        return lambda r, c, v: ws.write_number(r, c, float(v) if isinstance(v, Decimal) else v)
    if dtype == pl.Date:
        return lambda r, c, v: ws.write_datetime(r, c, v, formats["date"])
    if isinstance(dtype, pl.Datetime):
        return lambda r, c, v: ws.write_datetime(r, c, v, formats["datetime"])
    if dtype == pl.Time:
        return lambda r, c, v: ws.write_datetime(r, c, v, formats["time"])
    # text (already neutralised), durations and anything else: written as a string, never a
    # formula, a number or a link
    return lambda r, c, v: ws.write_string(r, c, v if isinstance(v, str) else
                                           neutralise(str(v)))


def safe_xlsx(frame: pl.DataFrame, *, sheet: str = "Data") -> bytes:
    """The frame as an XLSX workbook: text cells written as strings (never as formulas, links
    or numbers) and neutralised too, numbers as numbers, dates as dates.

    Raises :class:`~cjm_core.errors.QueryError` when the frame is larger than one sheet can
    hold (1,048,576 rows, 16,384 columns): export CSV instead.

    >>> data = safe_xlsx(pl.DataFrame({"a": ["=cmd|' /C calc'!A0"], "n": [1.5]}))
    >>> data[:2]
    b'PK'
    """
    import xlsxwriter

    if frame.height + 1 > XLSX_MAX_ROWS or frame.width > XLSX_MAX_COLS:
        raise QueryError(
            f"{frame.height:,} rows × {frame.width:,} columns do not fit one spreadsheet sheet "
            f"({XLSX_MAX_ROWS - 1:,} rows, {XLSX_MAX_COLS:,} columns at most); export CSV.")
    safe = safe_frame(frame)
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {
        "in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
        "strings_to_numbers": False, "nan_inf_to_errors": True, "remove_timezone": True,
    })
    ws = book.add_worksheet(sheet[:31] or "Data")
    formats = {"date": book.add_format({"num_format": "yyyy-mm-dd"}),
               "datetime": book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
               "time": book.add_format({"num_format": "hh:mm:ss"})}
    bold = book.add_format({"bold": True})
    for j, name in enumerate(safe.columns):
        ws.write_string(0, j, neutralise(name), bold)
    for j, (name, dtype) in enumerate(safe.schema.items()):
        write = _cell_writer(ws, dtype, formats)
        for i, value in enumerate(safe.get_column(name).to_list(), start=1):
            if value is not None:
                write(i, j, value)
    book.close()
    return buf.getvalue()


def frame_download(frame: pl.DataFrame, file_name: str) -> tuple[bytes, str, str]:
    """A table as a download: (bytes, MIME type, file name with exactly one extension). The
    name's extension picks the format, ``.xlsx`` or else CSV (UTF-8 with a BOM, so Excel
    reads accents); either way every text cell is neutralised.

    >>> data, mime, name = frame_download(pl.DataFrame({"a": ["=1"]}), "rejected_ev.xlsx.csv")
    >>> name, mime, data.decode("utf-8-sig").splitlines()[1]
    ('rejected_ev.csv', 'text/csv', "'=1")
    """
    stem = file_name
    while stem.lower().endswith(_DATA_SUFFIXES):  # "rejected_events.csv.csv" had two
        stem = stem.rsplit(".", 1)[0]
    if file_name.lower().endswith(".xlsx"):
        return safe_xlsx(frame), XLSX_MIME, f"{stem}.xlsx"
    return safe_csv(frame).encode("utf-8-sig"), CSV_MIME, f"{stem}.csv"
