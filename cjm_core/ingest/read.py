"""Turn uploaded bytes and a file name into raw string tables, the same way for the app and the CLI.

Every data column of a text file or workbook comes out as ``pl.String`` (stripped; empty or
whitespace-only cells are null), with a first column ``__row__`` holding the row number as the
user sees it in their file, so that later validation problems can point at the right line.
Nothing here parses dates or numbers. A Parquet or JSON column that already has a type (time
stamps, dates, numbers, booleans; :mod:`cjm_core.ingest.typed`) keeps it; its other columns are
text as above.

Formats are recognised by their magic bytes first and the file extension second, so a CSV saved as
``.xls`` or an XLSX saved as ``.csv`` still reads.

>>> t = read_file(b"id;stage\\nC1;Kauf\\n", "x.csv")[0]
>>> t.delimiter, t.header_row, t.frame.columns, t.frame.row(0)
(';', 1, ['__row__', 'id', 'stage'], (2, 'C1', 'Kauf'))
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path, PurePath
from typing import BinaryIO, cast

import numpy as np
import polars as pl

from cjm_core.errors import IngestError, UnsafeWorkbook, UploadTooLarge
from cjm_core.ingest import limits
from cjm_core.ingest.problems import Problem
from cjm_core.ingest.typed import as_text_expr, keeps_type
from cjm_core.ingest.workbook_guard import (
    ZipLimits,
    check_declared,
    check_ole,
    inflate_checked,
    open_zip,
)
from cjm_core.model.schema import ROW
from cjm_core.parallel import pmap, run_both

WHITESPACE = "whitespace"
DELIMITERS = (",", ";", "\t", "|")
WORKBOOK_KINDS = ("xlsx", "xls", "ods", "xlsb")

_SNIFF_BYTES = 64 * 1024
_SNIFF_LINES = 50
_HEADER_SCAN_ROWS = 50
_DIMENSION_SCAN_BYTES = 16 * 1024
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_CP1252_UNDEFINED = (0x81, 0x8D, 0x8F, 0x90, 0x9D)
_LETTER = re.compile(r"[^\W\d_]")
_QUOTED = re.compile(r'"(?:[^"]|"")*"')
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
_ISO_DATETIME = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?$"


@dataclass
class RawTable:
    """One table read from a file (or one sheet of a workbook), every data column as text, but
    the typed columns of a Parquet or JSON file (:func:`cjm_core.ingest.typed.keeps_type`).

    ``frame`` starts with ``__row__`` (Int64, the row number as the user sees it); ``header_row``
    is the row of the column labels (0 when the format has none: Parquet, JSON, an empty file).
    """

    source: str
    sheet: str | None
    frame: pl.DataFrame
    header_row: int
    problems: list[Problem] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None
    #: the frame this reader produced, every cell already stripped: validation skips its own
    #: stripping while ``frame`` is still that very object
    normalised: pl.DataFrame | None = field(default=None, repr=False, compare=False)

    @property
    def columns(self) -> list[str]:
        """The data column names (without ``__row__``)."""
        return [c for c in self.frame.columns if c != ROW]

    @property
    def where(self) -> str:
        """File name and sheet as a user would say it, for messages."""
        return f"{self.source} (sheet '{self.sheet}')" if self.sheet else self.source


@dataclass
class _Grid:
    """Cells before the header is known: columns ``c0..cN`` (stripped, blank -> null)."""

    cells: pl.DataFrame
    rownum: pl.Series
    #: fields per record in a text file; None when every record has every field (and for sheets)
    counts: pl.Series | None = None


def scan_cells(body: bytes, delimiter: str, start: int = 0) -> tuple[bool, bool]:
    """:func:`cjm_core.ingest.text_kernels.scan_cells`, its compiled code (numba) imported on
    the first text file read rather than with this module."""
    from cjm_core.ingest.text_kernels import scan_cells as scan

    return scan(body, delimiter, start)


def _may_need_strip(values: pl.Series) -> bool:
    """:func:`cjm_core.ingest.text_kernels.may_need_strip` (compiled, imported on first use)."""
    from cjm_core.ingest.text_kernels import may_need_strip

    return may_need_strip(values)


def _falses(n: int) -> pl.Series:
    """``n`` times False, built natively (a Python list of a million bools is slow)."""
    return pl.repeat(False, n, dtype=pl.Boolean, eager=True).alias("")


# --------------------------------------------------------------------------- public entry points


def read_file(
    data: bytes,
    name: str,
    *,
    sheets: list[str] | None = None,
    max_bytes: int | None = None,
) -> list[RawTable]:
    """Read an uploaded file into one :class:`RawTable` per table (one per non-empty sheet).

    ``sheets`` limits a workbook to the named sheets; it is ignored for other formats. A file
    with no data rows gives a table with 0 rows and an ``empty-file`` warning, never an error.
    Raises :class:`UploadTooLarge`, :class:`UnsafeWorkbook` or :class:`IngestError`.

    >>> [t.frame.height for t in read_file(b"a,b\\n1,2\\n3,4\\n", "t.csv")]
    [2]
    """
    _check_size(len(data), name, max_bytes)
    kind = detect_format(data, name)
    _check_rows(data, name, kind)
    if kind in WORKBOOK_KINDS:
        return _read_workbook(data, name, kind, sheets)
    if kind == "parquet":
        return [_read_parquet(data, name)]
    if kind == "json":
        return [_check_height(_read_json(data, name))]
    whole = _read_text(data, name)
    assert whole is not None  # only a read of some columns gives up
    table = _check_height(whole)
    ext = PurePath(name).suffix.lower()
    if ext in (".xlsx", ".xls", ".xlsb", ".ods"):  # a CSV saved under a workbook's name
        table.problems.insert(0, Problem(
            "read-as-text", f"'{name}' is named like a {ext} workbook but holds text; it was "
            "read as text (delimiter and encoding sniffed).", severity="warning"))
    return [table]


def _check_size(size: int, name: str, limit: int | None = None) -> None:
    """Refuse an upload of more than ``limit`` bytes (default :data:`limits.MAX_UPLOAD_BYTES`)."""
    limit = limits.MAX_UPLOAD_BYTES if limit is None else limit
    if size > limit:
        raise UploadTooLarge(f"'{name}' is {size / limits.MB:.1f} MB; the upload limit is "
                             f"{limit / limits.MB:.1f} MB (CJM_MAX_UPLOAD_MB).")


def _check_rows(data: bytes, name: str, kind: str) -> None:
    """Refuse a table with more rows than :data:`limits.MAX_ROWS` before reading it: line
    breaks of a text or JSON-lines file (counted when its first 64 KB suggest it may be near
    the limit; a file whose lines only shrink further on is caught after the read, by
    :func:`_check_height`), the row count a Parquet file's footer states (workbooks are held
    to their cell limit while they are inflated)."""
    if kind in WORKBOOK_KINDS:
        return
    if kind == "parquet":
        import pyarrow.parquet as pq

        try:
            rows = pq.ParquetFile(io.BytesIO(data)).metadata.num_rows
        except (OSError, ValueError) as exc:
            raise IngestError(f"'{name}' could not be read as Parquet: {exc}") from exc
    elif len(data) <= limits.MAX_ROWS:  # fewer bytes than the limit: fewer lines too
        return
    else:  # counting every line break costs a third of a read: only when the head says so
        head = data[:_SNIFF_BYTES]
        per_line = len(head) / max(1, head.count(b"\n"))
        rows = data.count(b"\n") if len(data) / per_line > limits.MAX_ROWS / 4 else 0
    if rows > limits.MAX_ROWS:
        raise UploadTooLarge(f"'{name}' holds {rows:,} rows; at most {limits.MAX_ROWS:,} can be "
                             "loaded (CJM_MAX_ROWS). Split the export or filter it first.")


def _check_height(table: RawTable) -> RawTable:
    if table.frame.height > limits.MAX_ROWS:
        raise UploadTooLarge(f"'{table.source}' holds {table.frame.height:,} rows; at most "
                             f"{limits.MAX_ROWS:,} can be loaded (CJM_MAX_ROWS). Split the export "
                             "or filter it first.")
    return table


def list_sheets(data: bytes, name: str) -> list[str]:
    """Sheet names of a workbook, in workbook order; ``[]`` for any other format.

    >>> list_sheets(b"a,b\\n1,2\\n", "t.csv")
    []
    """
    kind = detect_format(data, name)
    if kind not in WORKBOOK_KINDS:
        return []
    return list(_open_workbook(data, name, kind).sheet_names)


def detect_format(data: bytes, name: str) -> str:
    """``xlsx``/``xlsb``/``ods``/``xls``/``parquet``/``json``/``text``: magic bytes, then name.

    >>> detect_format(b"PAR1....", "events.csv"), detect_format(b'{"a": 1}', "e.ndjson")
    ('parquet', 'json')
    """
    if data.startswith(_ZIP_MAGICS):
        return _zip_kind(data, name)
    if data.startswith(_OLE2_MAGIC):
        return "xls"
    if data.startswith(b"PAR1"):
        return "parquet"
    ext = PurePath(name).suffix.lower()
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if ext in (".json", ".jsonl", ".ndjson") or head.startswith(b"{"):
        return "json"
    return "text"


def check_workbook_safety(
    data: bytes,
    name: str,
    *,
    max_uncompressed: int | None = None,
    max_ratio: int | None = None,
    min_ratio_bytes: int | None = None,
    max_entries: int | None = None,
    max_cells: int | None = None,
) -> None:
    """Refuse a zipped workbook that declares itself a zip bomb, before anything is inflated.

    Reads only the zip directory (declared sizes) and the first few KB of each worksheet, where
    ``<dimension ref="A1:XFD1048576"/>`` declares the sheet's size. Limits default to
    :mod:`cjm_core.ingest.limits`. Raises :class:`UnsafeWorkbook`. Declarations can lie: reading a
    workbook also inflates it under the same limits (:mod:`cjm_core.ingest.workbook_guard`).
    """
    lim = ZipLimits(max_total=max_uncompressed or limits.MAX_UNCOMPRESSED_BYTES,
                    max_ratio=max_ratio or limits.MAX_COMPRESSION_RATIO,
                    min_ratio_bytes=min_ratio_bytes or limits.RATIO_MIN_ENTRY_BYTES,
                    max_entries=max_entries or limits.MAX_ZIP_ENTRIES)
    zf = open_zip(data, name)
    infos = zf.infolist()
    check_declared(infos, name, lim)
    _check_dimensions(zf, infos, name, max_cells or limits.MAX_SHEET_CELLS)


def _check_dimensions(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], name: str,
                      max_cells: int) -> None:
    for info in infos:
        if re.fullmatch(r"xl/worksheets/[^/]+\.xml", info.filename):
            cells = _declared_cells(zf, info)
            if cells > max_cells:
                raise UnsafeWorkbook(
                    f"'{name}': sheet part '{info.filename}' declares {cells:,} cells (limit "
                    f"{max_cells:,}); refused as too large to open safely. Export it as CSV."
                )


# --------------------------------------------------------------------------- workbooks


def _zip_kind(data: bytes, name: str) -> str:
    names = set(open_zip(data, name).namelist())
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "xl/workbook.bin" in names:
        return "xlsb"
    if "content.xml" in names:
        return "ods"
    raise IngestError(f"'{name}' is a zip archive but not an Excel or OpenDocument workbook.")


def _declared_cells(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    with zf.open(info) as fh:
        head = fh.read(_DIMENSION_SCAN_BYTES)
    m = _DIMENSION.search(head)
    if not m:
        return 0
    c1, r1, c2, r2 = m.groups()
    if c2 is None:
        return 1
    cols = abs(_col_number(c2.decode()) - _col_number(c1.decode())) + 1
    return cols * (abs(int(r2) - int(r1)) + 1)


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _open_workbook(data: bytes, name: str, kind: str):  # -> fastexcel.ExcelReader
    import fastexcel

    if kind == "xls":
        check_ole(data, name)
    else:  # the reader gets only bytes inflated here under the limits, never the upload itself
        data = inflate_checked(data, name)
        zf = open_zip(data, name)
        _check_dimensions(zf, zf.infolist(), name, limits.MAX_SHEET_CELLS)
    try:
        return fastexcel.read_excel(data)
    except fastexcel.FastExcelError as exc:
        first = str(exc).splitlines()[0]
        raise IngestError(f"'{name}' could not be opened as a {kind} workbook: {first}") from exc


def _read_workbook(data: bytes, name: str, kind: str, wanted: list[str] | None) -> list[RawTable]:
    import fastexcel

    reader = _open_workbook(data, name, kind)
    names = list(reader.sheet_names)
    if wanted is not None:
        unknown = [s for s in wanted if s not in names]
        if unknown:
            raise IngestError(f"'{name}' has no sheet named {', '.join(map(repr, unknown))}.")
        names = [s for s in names if s in wanted]
    tables = []
    for sheet in names:
        try:
            # eager: one Arrow batch straight from the cells, ~2x faster than the lazy sheet
            loaded = reader.load_sheet(sheet, header_row=None, skip_rows=0, dtypes="string",
                                       eager=True)
            raw = pl.DataFrame(loaded)
        except fastexcel.FastExcelError as exc:
            first = str(exc).splitlines()[0]
            raise IngestError(f"'{name}', sheet '{sheet}' could not be read: {first}") from exc
        if raw.width == 0 or raw.height == 0:
            continue
        raw = raw.rename({c: f"c{j}" for j, c in enumerate(raw.columns)})
        cells = _normalise(_fix_sheet_cells(raw, kind))
        if not cells.select(pl.any_horizontal(pl.all().is_not_null()).any()).item():
            continue
        grid = _Grid(cells, pl.int_range(1, cells.height + 1, eager=True, dtype=pl.Int64))
        tables.append(_finish(grid, source=name, sheet=sheet))
    if not tables:
        first_sheet = names[0] if names else None
        tables.append(_empty_table(name, first_sheet, f"'{name}' has no sheet with data."))
    return tables


def _fix_sheet_cells(raw: pl.DataFrame, kind: str) -> pl.DataFrame:
    """Dates as ISO text: drop an all-midnight time, turn time-only cells into ``HH:MM:SS``.

    Each step runs once per column and only where it can change something (the eager engine
    does not share repeated sub-expressions).
    """
    cols = raw.columns
    if kind == "ods":
        raw = raw.select(
            pl.col(c).str.replace(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})", "${1} ${2}") for c in cols
        )
    times = raw.select(pl.col(c).str.starts_with("1899-12-3").any() for c in cols).row(0)
    if any(times):
        raw = raw.with_columns(
            pl.col(c).str.replace(r"^1899-12-3[01] (\d{2}:\d{2}:\d{2}(?:\.\d+)?)$", "${1}")
            for c, t in zip(cols, times, strict=True) if t
        )
    any_dt = raw.select(pl.col(c).str.contains(_ISO_DATETIME).any() for c in cols).row(0)
    dated = [c for c, d in zip(cols, any_dt, strict=True) if d]
    if not dated:
        return raw
    all_midnight = raw.select(
        (~pl.col(c).str.contains(_ISO_DATETIME) | pl.col(c).str.contains(r" 00:00:00(?:\.0+)?$"))
        .fill_null(True).all() for c in dated
    ).row(0)
    return raw.with_columns(
        pl.when(pl.col(c).str.contains(_ISO_DATETIME)).then(pl.col(c).str.slice(0, 10))
        .otherwise(pl.col(c)).alias(c)
        for c, m in zip(dated, all_midnight, strict=True) if m
    )


# --------------------------------------------------------------------------- text files


def _read_text(data: bytes, name: str, columns: list[int] | None = None) -> RawTable | None:
    """A text table. UTF-8 is first taken on the word of the file's first 64 KB: polars checks
    every cell as it reads and refuses bad UTF-8, and only then is the whole file checked (and,
    when it is not UTF-8, read again as cp1252). A scan of its own would cost a tenth of the read.

    ``columns`` (0-based positions) reads only those fields of every record (see
    :func:`read_text_part`); None is then returned when polars' reader cannot take the file as
    it is (ragged records, multi-line cells, a whitespace layout).
    """
    try:
        return _read_text_as(data, name, trust_head=True, columns=columns)
    except (UnicodeDecodeError, pl.exceptions.ComputeError):
        if _is_utf8(data):
            raise
        return _read_text_as(data, name, trust_head=False, columns=columns)


def read_text_part(data: bytes, name: str, *, columns: list[int]) -> RawTable | None:
    """Only the fields at ``columns`` (0-based, ascending, ending with the record's last field,
    which tells a short record) of a delimited text file, read as
    :func:`read_file` reads the whole file but never holding the other fields: for a caller
    that needs a few columns of a large export (the command line's funnel), after suggesting
    roles on its head. Row numbers are those of the whole file. None when the reader would have
    to fall back to its slower paths (ragged or multi-line records, a whitespace layout): the
    caller then reads the whole file.

    >>> body = b"id,stage,note\\nC1,Buy,x\\nC2,Look,y\\n"
    >>> read_text_part(body, "t.csv", columns=[0, 2]).frame.rows()
    [(2, 'C1', 'x'), (3, 'C2', 'y')]
    >>> read_text_part(b"id,stage,note\\nC1,Buy,x,extra\\n", "t.csv", columns=[0, 2]) is None
    True
    """
    _check_size(len(data), name)
    _check_rows(data, name, "text")
    table = _read_text(data, name, columns)
    return None if table is None else _check_height(table)


#: bytes read at a time by :func:`read_text_blocks` (a block then runs on to its next line end)
_BLOCK_BYTES = 128 << 20


def read_text_blocks(path: Path, name: str, *, columns: list[int], delimiter: str,
                     block: int | None = None) -> RawTable | None:
    """:func:`read_text_part` of a file on disk, read a block of whole lines at a time, so
    that the file's bytes are never held whole: each block's fields at ``columns`` are read,
    checked (every record as wide as the header) and kept, and the blocks' cells then make one
    table as :func:`read_file` would have made it. Only for UTF-8 files without quotes or NUL
    bytes, ``delimiter``-separated; None otherwise, and for a record not as wide as the header
    (the caller reads the whole file, which judges it)."""
    _check_size(path.stat().st_size, name)
    cells: list[pl.DataFrame] = []
    rownums: list[pl.Series] = []
    lines = 0
    with path.open("rb") as fh:
        blocks = _line_blocks(fh, block or _BLOCK_BYTES)
        data = next(blocks, None)
        bom = data is not None and data.startswith(codecs.BOM_UTF8)
        skip = 3 if bom else 0
        while data is not None:
            # the next block is read while this one is parsed (reading leaves the GIL free)
            grid, data = run_both(partial(_narrow_block, data, delimiter, skip, columns),
                                  partial(next, blocks, None))
            if grid is None:
                return None
            skip = 0
            cells.append(grid.cells)
            rownums.append(grid.rownum + lines)
            lines += grid.cells.height
            if lines > limits.MAX_ROWS + 1:
                raise UploadTooLarge(f"'{name}' holds more than {limits.MAX_ROWS:,} rows; at "
                                     f"most {limits.MAX_ROWS:,} can be loaded (CJM_MAX_ROWS). "
                                     "Split the export or filter it first.")
    if not cells:
        return None
    grid = _Grid(pl.concat(cells, rechunk=False), pl.concat(rownums, rechunk=False))
    del cells, rownums
    encoding = "utf-8-sig" if bom else "utf-8"
    return _check_height(_finish(grid, source=name, sheet=None, delimiter=delimiter,
                                 encoding=encoding))


def _narrow_block(data: bytes, delimiter: str, skip: int, columns: list[int]) -> _Grid | None:
    """One block's fields at ``columns`` (:func:`_read_narrow`), None for a quote or a NUL."""
    if b"\0" in data:
        return None
    edge_space, has_quote = scan_cells(data, delimiter, skip)
    return _read_narrow(data, delimiter, skip, columns, edge_space, has_quote)


def _line_blocks(fh: BinaryIO, size: int) -> Iterator[bytes]:
    """A file's bytes in blocks of about ``size`` bytes, each ending with a line end (the last
    one with the file); each block's bytes are copied once from what was read."""
    carry = b""
    while chunk := fh.read(size):
        cut = chunk.rfind(b"\n") + 1
        if cut == 0:
            carry += chunk
            continue
        yield b"".join((carry, memoryview(chunk)[:cut])) if cut < len(chunk) or carry else chunk
        carry = chunk[cut:]
    if carry:
        yield carry


def _read_text_as(data: bytes, name: str, *, trust_head: bool,
                  columns: list[int] | None = None) -> RawTable | None:
    # a UTF-8 BOM stays in front of the bytes polars reads (it skips one itself): cutting it
    # off would copy the whole upload
    body, skip, encoding, problems = _decode_keeping_bom(data, name, trust_head=trust_head)
    text_head = body[skip:skip + _SNIFF_BYTES].decode("utf-8", errors="ignore")
    if not text_head.strip():
        return _empty_table(name, None, f"'{name}' is empty.", encoding=encoding)
    start = text_head.lstrip()[:2048].lower()
    if start.startswith("<") and any(tag in start for tag in ("<html", "<table", "<!doctype")):
        raise IngestError(
            f"'{name}' is a web page (HTML), not a table file; open it in a spreadsheet program "
            "and save it as XLSX or CSV."
        )
    delimiter = sniff_delimiter(text_head)
    if columns is not None and delimiter == WHITESPACE:
        return None
    if delimiter == WHITESPACE:
        grid = _split_whitespace(body[skip:])
    else:
        fast = _read_delimited_fast(body, delimiter, skip, columns)
        if fast is None and columns is not None:
            return None
        grid = (fast if fast is not None
                else _read_delimited_slow(body[skip:].decode("utf-8"), delimiter))
    table = _finish(grid, source=name, sheet=None, delimiter=delimiter, encoding=encoding)
    table.problems[:0] = problems
    if any(p.code == "nul-byte" for p in problems):
        table = _report_nul_cells(table)
    return table


def _decode(data: bytes, name: str) -> tuple[bytes, str, list[Problem]]:
    """UTF-8 bytes without BOM for polars, the encoding's name and any encoding warning."""
    body, skip, encoding, problems = _decode_keeping_bom(data, name)
    return (body[skip:] if skip else body), encoding, problems


def _decode_keeping_bom(
    data: bytes, name: str, *, trust_head: bool = False
) -> tuple[bytes, int, str, list[Problem]]:
    """:func:`_decode`, but valid UTF-8 after a BOM is returned as it came, BOM included, with
    the number of bytes to skip for the text (3, else 0). With ``trust_head``, bytes without a
    BOM whose first 64 KB are UTF-8 are taken as UTF-8 unchecked (the caller's reader checks)."""
    problems: list[Problem] = []
    skip = 0
    if data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
        if _is_utf8(data):
            body, skip = data, len(codecs.BOM_UTF8)
        else:
            body = (_strict_or_replace(data[3:], "utf-8", name, problems) or "").encode("utf-8")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
        body = (_strict_or_replace(data, "utf-16", name, problems) or "").encode("utf-8")
    elif (utf16 := _utf16_without_bom(data)) is not None:
        encoding = utf16
        body = (_strict_or_replace(data, utf16, name, problems) or "").encode("utf-8")
    elif _is_utf8(data[:_SNIFF_BYTES], final=False) if trust_head else _is_utf8(data):
        body, encoding = data, "utf-8"
    else:
        encoding = "cp1252"
        body = (_strict_or_replace(data, "cp1252", name, problems) or "").encode("utf-8")
    body = _mark_nuls(body, name, problems)
    head = body[skip:skip + _SNIFF_BYTES]
    _refuse_binary(head, name)
    if b"\n" not in head and b"\r" in head:
        body = body.replace(b"\r", b"\n")  # classic Mac line endings
    return body, skip, encoding, problems


def _is_utf8(data: bytes, *, final: bool = True) -> bool:
    """Whether ``data`` is valid UTF-8, checked without holding the whole text as a ``str``.
    With ``final`` False, a character cut off at the end is allowed (``data`` is a head).

    ``isascii`` is a fast scan; otherwise the bytes are decoded a megabyte at a time and the text
    dropped (a one-shot decode of a 100 MB upload would hold 100-200 MB more at its peak).
    """
    if data.isascii():
        return True
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(view), _UTF8_CHUNK):
            decoder.decode(view[start:start + _UTF8_CHUNK])
        decoder.decode(b"", final=final)
    except UnicodeDecodeError:
        return False
    return True


_UTF8_CHUNK = 1 << 20


def _strict_or_replace(raw: bytes, encoding: str, name: str, problems: list[Problem]) -> str | None:
    """Decode strictly; on failure decode with U+FFFD and add an ``encoding-replaced`` warning.

    Returns None when strict UTF-8 decoding of ``raw`` succeeded (the bytes can be used as is).
    """
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        text = raw.decode(encoding, errors="replace")
        count = text.count("\ufffd")
        problems.append(
            Problem(
                "encoding-replaced",
                f"'{name}': {count:,} byte sequence(s) are not valid {encoding} and were "
                "replaced by '\ufffd'.",
                severity="warning",
            )
        )
        return text
    return None if encoding == "utf-8" else text


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:4096]
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    even_nul = sample[0::2].count(0) / pairs
    odd_nul = sample[1::2].count(0) / pairs
    if odd_nul > 0.3 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.3 and odd_nul < 0.05:
        return "utf-16-be"
    return None


#: stands in for a NUL byte of a text file until the cells holding one are reported
_NUL_MARK = "\ue000"
#: NUL bytes a text file may hold (one per this many bytes, at least 16) before it counts as
#: binary; old point-of-sale exports pad some fields with them
_NUL_EVERY = 1000


def _mark_nuls(body: bytes, name: str, problems: list[Problem]) -> bytes:
    """A text body with a few NUL bytes, each replaced by :data:`_NUL_MARK` and a note left
    for :func:`_report_nul_cells`; a body with many stays as it is (refused as binary)."""
    if b"\x00" not in body:  # memchr: a few ms where counting would cost a tenth of a read
        return body
    nuls = body.count(b"\x00")
    if nuls > max(16, len(body) // _NUL_EVERY):
        return body
    problems.append(Problem("nul-byte", f"'{name}' holds {nuls:,} NUL byte(s); they were removed "
                            "and the cells that held them are listed.", severity="warning"))
    return body.replace(b"\x00", _NUL_MARK.encode())


def _report_nul_cells(table: RawTable) -> RawTable:
    """Each cell (and header) that held a NUL byte: a ``nul-byte`` warning with its row, column
    and raw value, the byte removed."""
    frame = table.frame
    names = {c: c.replace(_NUL_MARK, "") for c in frame.columns}
    for old, new in names.items():
        if old != new:
            table.problems.append(Problem(
                "nul-byte", f"{table.where}: the header '{new}' held a NUL byte; it was removed.",
                row=table.header_row, column=new, value=old.replace(_NUL_MARK, "\\x00"),
                severity="warning"))
    frame = frame.rename(names)
    columns = [c for c in frame.columns if c != ROW]
    for col in columns:
        hit = frame.filter(pl.col(col).str.contains(_NUL_MARK, literal=True))
        for row, value in hit.select(ROW, col).iter_rows():
            table.problems.append(Problem(
                "nul-byte", f"Row {row}, column '{col}': a NUL byte was removed from the cell.",
                row=row, column=col, value=value.replace(_NUL_MARK, "\\x00"),
                severity="warning"))
    table.frame = frame.with_columns(pl.col(c).str.replace_all(_NUL_MARK, "", literal=True)
                                     for c in columns)
    table.normalised = None
    return table


def _refuse_binary(body: bytes, name: str) -> None:
    sample = body[:_SNIFF_BYTES]
    controls = sum(sample.count(b) for b in range(32) if b not in (9, 10, 13))
    if b"\x00" in sample or controls > max(8, len(sample) // 100):
        ext = PurePath(name).suffix.lower()
        hint = (
            f" It is named '{ext}' but is not a valid workbook of that type."
            if ext in (".xlsx", ".xls", ".ods", ".xlsb", ".parquet")
            else ""
        )
        raise IngestError(
            f"'{name}' is not a readable table: it holds binary data, not text.{hint} "
            "Supported: CSV/TSV/TXT, XLSX/XLS/ODS, Parquet, JSON lines."
        )


def sniff_delimiter(sample: str) -> str:
    """The delimiter whose count per line (outside quotes) is most consistent, else whitespace.

    >>> sniff_delimiter("a;b;c\\n1,5;2;3\\n4;5;6\\n")
    ';'
    >>> sniff_delimiter("id   date\\n1    20250304\\n")
    'whitespace'
    """
    cut = sample.rfind("\n")
    sample = sample[:cut] if cut > 0 and len(sample) >= _SNIFF_BYTES else sample
    unquoted = _QUOTED.sub("Q", sample)
    lines = [ln for ln in unquoted.splitlines() if ln.strip()][:_SNIFF_LINES]
    if not lines:
        return ","
    best: tuple[float, int, str] | None = None
    for delim in DELIMITERS:
        counts = [ln.count(delim) for ln in lines]
        nonzero = [c for c in counts if c]
        if not nonzero:
            continue
        mode = Counter(nonzero).most_common(1)[0][0]
        score = (sum(c == mode for c in counts) / len(counts), mode, delim)
        if best is None or score[:2] > best[:2]:
            best = score
    # every line with the same number of whitespace-separated fields beats a delimiter that
    # is not on every line the same number of times and not in the first line (a "1,011.77"
    # among padded columns); a real delimiter separates the header's labels too
    ws_counts = {len(ln.split()) for ln in lines}
    ws_constant = len(ws_counts) == 1 and min(ws_counts) >= 2
    if best is not None and best[0] >= 0.5 and not (
        ws_constant and best[0] < 1 and best[2] not in lines[0]
    ):
        return best[2]
    if ws_constant:
        return WHITESPACE
    for splitter in (r"\s{2,}", r"\s+"):
        split_counts = [len(re.split(splitter, ln.strip())) for ln in lines]
        mode, freq = Counter(split_counts).most_common(1)[0]
        if mode >= 2 and freq / len(lines) >= 0.8:
            return WHITESPACE
    return best[2] if best is not None else ","


def _read_delimited_fast(body: bytes, delimiter: str, skip: int = 0,
                         columns: list[int] | None = None) -> _Grid | None:
    """polars' reader, all columns as text; None when lines are ragged (slow path takes over).
    ``columns``: only the fields at those positions (then None too when a record may be short
    of one: the caller reads the whole file instead).

    ``skip`` is the length of a BOM in front of ``body`` (polars skips it itself). Most exports
    have no cell with whitespace at an edge: a compiled scan of the bytes says so at memory
    speed, and then the cells are read as they are. Otherwise reading, stripping and blanking
    run as one streaming query, so the unstripped cells never exist as a second whole frame next
    to the stripped ones (that copy was the largest part of an upload's peak memory).
    """
    edge_space, has_quote = scan_cells(body, delimiter, skip)
    if columns is not None:
        return _read_narrow(body, delimiter, skip, columns, edge_space, has_quote)
    frame = _read_cells(body, delimiter, edge_space, has_quote, None)
    if frame is None:
        return None
    names = [c for c in frame.columns if c not in (_INDEX, _NEWLINES)]
    width = len(names)
    index = frame.get_column(_INDEX)
    if not index.is_sorted():  # the streaming engine keeps this order; never rely on it blindly
        frame = frame.sort(_INDEX)
        index = frame.get_column(_INDEX)
    rownum = index  # the record's number from 1: its line, unless quoted cells hold line breaks
    if has_quote:
        newlines_per_record = frame.get_column(_NEWLINES)
        if newlines_per_record.sum() > 0:
            rownum = rownum + newlines_per_record.cum_sum().shift(1, fill_value=0)
    cells = frame.select(names)
    del frame
    candidates = cells.get_column(f"c{width - 1}").is_null()
    if width == 1 or not candidates.any():
        return _Grid(cells, rownum)  # every record has every field
    if has_quote and (rownum != index).any():
        return None  # multi-line cells and possibly short rows: let the csv module count fields
    picked = _lines(body, rownum.filter(candidates) - 1)
    if has_quote:
        picked = picked.str.replace_all(_QUOTED.pattern, "Q")
    counted = (picked.str.count_matches(delimiter, literal=True) + 1).cast(pl.Int64)
    fields = pl.when(picked.str.strip_chars() == "").then(0).otherwise(counted)
    counts = pl.repeat(width, cells.height, dtype=pl.Int64, eager=True).alias("n")
    counts = counts.scatter(candidates.arg_true(), pl.select(fields).to_series())
    return _Grid(cells, rownum, counts)


def _read_narrow(body: bytes, delimiter: str, skip: int, columns: list[int], edge_space: bool,
                 has_quote: bool) -> _Grid | None:
    """Only the fields at ``columns`` (the last of them the record's last field) of a file
    without quotes, one record per line; None for any record that is not as wide as the header
    (short, or long), so that the whole file's read judges it (it flags or rejects such rows)."""
    if has_quote or len(delimiter.encode()) != 1:
        return None  # a quoted delimiter would hide a long record from the count below
    # polars does not check the fields it skips, so a record with more fields than the header
    # would pass unseen: the file's delimiters are counted beside the read
    frame, delimiters = run_both(
        lambda: _read_cells(body, delimiter, edge_space, False, columns),
        lambda: _count_byte(body, ord(delimiter), skip))
    if frame is None:
        return None
    if not frame.get_column(_INDEX).is_sorted():
        frame = frame.sort(_INDEX)
    index = frame.get_column(_INDEX)
    cells = frame.drop(_INDEX)
    whole, blank = columns[-1] + 1, 0
    short_of_last = cells.get_column(cells.columns[-1]).is_null()
    if short_of_last.any():  # blank lines, an empty last cell, or a short record
        picked = _lines(body, index.filter(short_of_last) - 1)
        counted = (picked.str.count_matches(delimiter, literal=True) + 1).cast(pl.Int64)
        fields = pl.when(picked.str.strip_chars() == "").then(0).otherwise(counted)
        short, blank = pl.select(((fields != whole) & (fields != 0)).any().alias("short"),
                                 (fields == 0).sum().alias("blank")).row(0)
        if short:
            return None
    if delimiters != (whole - 1) * (cells.height - blank):
        return None  # a long record
    return _Grid(cells, index)


def _count_byte(body: bytes, byte: int, start: int) -> int:
    """How often ``byte`` occurs in ``body[start:]`` (numpy, a block at a time: no temporary
    the size of the file)."""
    a = np.frombuffer(body, dtype=np.uint8)
    step = 1 << 22
    return sum(int(np.count_nonzero(a[i:i + step] == byte)) for i in range(start, a.size, step))


def _read_cells(body: bytes, delimiter: str, edge_space: bool, has_quote: bool,
                columns: list[int] | None) -> pl.DataFrame | None:
    """The cells of :func:`_read_delimited_fast`, stripped when ``edge_space``; None when
    polars refuses the layout. ``columns`` (some fields only) comes from
    :func:`_read_narrow`, which reads no file with quotes, so no record spans lines."""
    try:
        if edge_space:
            return _read_stripping(body, delimiter, has_quote, columns)
        frame = _read_as_is(body, delimiter, has_quote, columns)
        if frame is not None and has_quote and frame.get_column(_NEWLINES).sum() > 0:
            # a quoted cell holds a line break, which the scan cannot judge: it may sit at
            # the cell's edge, so this file is stripped after all
            return _read_stripping(body, delimiter, has_quote)
        return frame
    except pl.exceptions.PolarsError:
        return None


def _csv_options(delimiter: str, has_quote: bool = True) -> dict:
    # without a quote anywhere the reader may skip its quote handling (about 5% faster)
    return dict(has_header=False, infer_schema=False, separator=delimiter,
                quote_char='"' if has_quote else None,
                raise_if_empty=False, truncate_ragged_lines=False)


def _newline_counts(raw: list[pl.Expr]) -> list[pl.Expr]:
    """Line breaks inside quoted cells per record: they shift the row numbers after them."""
    return [pl.sum_horizontal(c.str.count_matches("\n", literal=True) for c in raw)
            .cast(pl.Int64).alias(_NEWLINES)]


def _read_as_is(body: bytes, delimiter: str, has_quote: bool,
                columns: list[int] | None = None) -> pl.DataFrame | None:
    """The cells as polars reads them, for a file whose cells need no stripping. Empty cells
    are null already; a quoted empty cell (``""``) is made null too. ``columns``: only the
    fields at those positions."""
    frame = pl.read_csv(body, empty_string_is_null=True, columns=columns,
                        **_csv_options(delimiter, has_quote))
    if frame.width == 0:
        return None
    raw = [pl.col(c) for c in frame.columns]
    names = [f"c{j}" for j in range(frame.width)]
    if has_quote:
        cells = [pl.when(c.str.len_bytes() == 0).then(None).otherwise(c).alias(n)
                 for c, n in zip(raw, names, strict=True)]
        extra = _newline_counts(raw)
    else:
        cells = [c.alias(n) for c, n in zip(raw, names, strict=True)]
        extra = []
    index = pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(_INDEX)
    return frame.select(index, *cells, *extra)


def _read_stripping(body: bytes, delimiter: str, has_quote: bool,
                    columns: list[int] | None = None) -> pl.DataFrame | None:
    """Read, strip every cell and blank the empty ones in one streaming query (``columns``:
    only the fields at those positions)."""
    scan = pl.scan_csv(body, empty_string_is_null=False, **_csv_options(delimiter, has_quote))
    width = len(scan.collect_schema())
    if width == 0:
        return None
    every = scan.collect_schema().names()
    if columns is not None:
        if any(j >= width for j in columns):
            return None
        scan = scan.select(every[j] for j in columns)
        width = len(columns)
    raw = [pl.col(c) for c in scan.collect_schema().names()]
    newlines = _newline_counts(raw) if has_quote else []
    names = [f"c{j}" for j in range(width)]
    stripped = scan.with_row_index(_INDEX, offset=1).select(
        pl.col(_INDEX).cast(pl.Int64),
        *[c.str.strip_chars().alias(n) for c, n in zip(raw, names, strict=True)],
        *newlines,
    )
    return stripped.select(
        _INDEX,
        *[pl.when(pl.col(n).str.len_bytes() == 0).then(None).otherwise(pl.col(n)).alias(n)
          for n in names],
        *[_NEWLINES] if has_quote else [],
    ).collect(engine="streaming")


_INDEX = "__index__"
_NEWLINES = "__newlines__"


def _lines(body: bytes, wanted: pl.Series | None = None) -> pl.Series:
    """Physical lines (without line ends), blank ones included, read natively by polars.

    ``wanted`` (0-based line numbers, ascending) keeps only those lines: the file is then read
    as a stream and only the wanted lines are kept, not a second copy of the whole file.
    """
    unused = next((b for b in "\x1f\x1e\x1d\x01" if b.encode() not in body), None)
    if unused is None:
        text = body.decode("utf-8").replace("\r\n", "\n")
        lines = pl.Series([text]).str.split("\n").explode()
        lines = lines.head(-1) if text.endswith("\n") else lines
        return lines if wanted is None else lines.gather(wanted)
    scan = pl.scan_csv(
        body,
        has_header=False,
        separator=unused,
        quote_char=None,
        infer_schema=False,
        empty_string_is_null=False,
        raise_if_empty=False,
    )
    if wanted is None:
        return scan._collect_eager().to_series()  # as pl.read_csv does
    picked = (
        scan.with_row_index(_INDEX)
        .filter(pl.col(_INDEX).cast(pl.Int64).is_in(wanted.cast(pl.Int64).implode()))
        .collect(engine="streaming")
    )
    index = picked.get_column(_INDEX)
    if not index.is_sorted():
        picked = picked.sort(_INDEX)
    return picked.drop(_INDEX).to_series()


def _read_delimited_slow(text: str, delimiter: str) -> _Grid:
    """Python's csv module: records where each record starts and how many cells it has."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"')
    records: list[list[str]] = []
    starts: list[int] = []
    previous = 0
    for record in reader:
        starts.append(previous + 1)
        records.append(record)
        previous = reader.line_num
    return _grid_from_records(records, starts)


def _grid_from_records(records: list[list[str]], starts: list[int]) -> _Grid:
    width = max((len(r) for r in records), default=0)
    columns = {
        f"c{j}": pl.Series([r[j] if j < len(r) else None for r in records], dtype=pl.String)
        for j in range(width)
    }
    counts = pl.Series("n", [len(r) if any(c.strip() for c in r) else 0 for r in records])
    return _Grid(
        _normalise(pl.DataFrame(columns)),
        pl.Series(ROW, starts, dtype=pl.Int64),
        counts.cast(pl.Int64),
    )


def _split_whitespace(body: bytes) -> _Grid:
    """Columns separated by runs of whitespace.

    Any run of whitespace separates fields when that gives every non-blank line of the file the
    same number of fields: a log with single spaces in its header and padded columns below
    (``customer_id date qty`` over ``00001 19970101  1``), where two spaces would merge the
    first two labels. Otherwise two or more spaces do when that is consistent near the top
    (values holding single spaces: ``In-store demo``), else any run.
    """
    lines = _lines(body).str.strip_chars()
    if _any_run_constant(lines):
        pattern = r"\s+"
    elif _two_space_consistent(lines.head(_SNIFF_LINES)):
        pattern = r"\s{2,}"
    else:
        pattern = r"\s+"
    parts = lines.str.replace_all(pattern, "\x1f").str.split("\x1f")
    counts = pl.select(
        pl.when(lines == "").then(0).otherwise(parts.list.len()).cast(pl.Int64)
    ).to_series()
    width = int(cast(int | None, counts.max()) or 0)  # polars types max() loosely
    cells = pl.DataFrame({f"c{j}": parts.list.get(j, null_on_oob=True) for j in range(width)})
    rownum = pl.int_range(1, len(lines) + 1, eager=True, dtype=pl.Int64)
    return _Grid(_normalise(cells), rownum, counts)


def _any_run_constant(lines: pl.Series) -> bool:
    """Whether splitting every non-blank (stripped) line on any run of whitespace gives one
    field count, of at least two."""
    counts = lines.filter(lines != "").str.count_matches(r"\s+")
    low = cast(int | None, counts.min())  # polars types min() loosely
    return len(counts) > 0 and low == counts.max() and (low or 0) >= 1


def _two_space_consistent(lines: pl.Series) -> bool:
    counts = [len(re.split(r"\s{2,}", ln)) for ln in lines.to_list() if ln]
    if not counts:
        return False
    mode, freq = Counter(counts).most_common(1)[0]
    return mode >= 2 and freq == len(counts)


# --------------------------------------------------------------------------- parquet and JSON


def _read_parquet(data: bytes, name: str, columns: list[str] | None = None,
                  n_rows: int | None = None) -> RawTable:
    try:
        frame = pl.read_parquet(io.BytesIO(data), columns=columns, n_rows=n_rows)
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise IngestError(f"'{name}' could not be read as Parquet: {exc}") from exc
    return _typed_table(frame, name, rownum=None)


def parquet_rows(data: bytes, name: str) -> int:
    """The number of rows a Parquet file's footer states."""
    import pyarrow.parquet as pq

    try:
        return int(pq.ParquetFile(io.BytesIO(data)).metadata.num_rows)
    except (OSError, ValueError) as exc:
        raise IngestError(f"'{name}' could not be read as Parquet: {exc}") from exc


def read_parquet_part(data: bytes, name: str, *, columns: list[str] | None = None,
                      n_rows: int | None = None) -> RawTable:
    """A Parquet file's first ``n_rows`` rows, or only the named ``columns`` (in the file's
    order), read as :func:`read_file` reads the whole file: for a caller that needs a few
    columns of a large file (the command line's funnel), after suggesting roles on the head.
    Row numbers are those of the whole file.

    >>> buf = io.BytesIO(); pl.DataFrame({"a": [1, 2], "b": ["x", None]}).write_parquet(buf)
    >>> read_parquet_part(buf.getvalue(), "t.parquet", columns=["b"]).frame.rows()
    [(1, 'x')]
    """
    _check_size(len(data), name)
    _check_rows(data, name, "parquet")
    return _read_parquet(data, name, columns, n_rows)


def _read_json(data: bytes, name: str) -> RawTable:
    body, encoding, problems = _decode(data, name)
    stripped = body.lstrip()
    if not stripped:
        return _empty_table(name, None, f"'{name}' is empty.", encoding=encoding)
    try:
        if stripped.startswith(b"["):
            frame = pl.read_json(io.BytesIO(body), infer_schema_length=None)
            rownum = None
        else:
            frame = pl.read_ndjson(io.BytesIO(body), infer_schema_length=None)
            lines = pl.Series([body.decode("utf-8")]).str.split("\n").explode()
            rownum = (lines.str.strip_chars() != "").arg_true().cast(pl.Int64) + 1
    except pl.exceptions.PolarsError as exc:
        reason = _first_bad_json_line(body)
        raise IngestError(f"'{name}' is not valid JSON lines: {reason}") from exc
    table = _typed_table(frame, name, rownum=rownum, encoding=encoding)
    table.problems[:0] = problems
    return table


def _first_bad_json_line(body: bytes) -> str:
    for number, line in enumerate(body.decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            return f"line {number}: {exc}"
        if not isinstance(value, dict):
            return f"line {number} is not a JSON object"
    return "its records do not share one structure"


#: rows from which a typed table's text columns are checked before they are stripped
_CHECK_ROWS = 1_000_000


def _typed_table(
    frame: pl.DataFrame, name: str, *, rownum: pl.Series | None, encoding: str | None = None
) -> RawTable:
    if rownum is None or len(rownum) != frame.height:
        rownum = pl.int_range(1, frame.height + 1, eager=True, dtype=pl.Int64)
    # typed columns (time stamps, numbers, booleans) stay typed; the others become text
    kept = {c for c, dt in frame.schema.items() if keeps_type(dt)}
    texts = [c for c in frame.columns if c not in kept]
    cells = frame.select(pl.col(c) if c in kept else as_text_expr(c, frame.schema[c])
                         for c in frame.columns)
    # a text column with no empty value and no whitespace at an edge is kept as it is; a small
    # table (a file's head) is stripped at once, which costs less than the compiled check's
    # first call in a fresh process (numba's start)
    if frame.height >= _CHECK_ROWS:
        texts = [c for c, dirty in zip(texts, pmap(lambda c: _may_need_strip(cells[c]), texts),
                                       strict=True) if dirty]
    if texts:
        cells = cells.with_columns(_normalise(cells.select(texts)))
    cells = cells.rename({c: f"c{j}" for j, c in enumerate(cells.columns)})
    names, problems = _clean_names(list(frame.columns), list(range(frame.width)), 0, name)
    blank = cells.select(~pl.any_horizontal(pl.all().is_not_null())).to_series()
    if cells.width == 0:
        blank = _falses(frame.height)
    if blank.any():  # a filter copies every column: only when some row is blank
        problems += _blank_row_problems(rownum.filter(blank), name)
        cells, rownum = cells.filter(~blank), rownum.filter(~blank)
    del frame
    out = cells.rename(dict(zip(cells.columns, names, strict=True)))
    out = out.insert_column(0, rownum.alias(ROW))
    if out.height == 0:
        problems.append(_empty_problem(name, f"'{name}' holds no records."))
    return RawTable(name, None, out, 0, problems, encoding=encoding, normalised=out)


# --------------------------------------------------------------------------- header and rows


def _normalise(frame: pl.DataFrame) -> pl.DataFrame:
    """Strip every cell; empty or whitespace-only cells become null.

    Two passes on purpose: in one expression the eager engine would strip every cell twice.
    """
    stripped = frame.select(pl.col(c).cast(pl.String).str.strip_chars() for c in frame.columns)
    return stripped.select(
        pl.when(pl.col(c).str.len_bytes() == 0).then(None).otherwise(pl.col(c)).alias(c)
        for c in stripped.columns
    )


def _detect_header(rows: list[tuple]) -> int | None:
    """Index of the header among the first rows: the first row nearly as wide as the table.

    Title rows ("Sales export Q3 2025", "Stand: 01.10.2025") fill one or two cells, so they are
    passed over; the header must fill at least 60 % as many cells as the widest row near the top.
    Among such rows one made mostly of text labels is preferred when it comes right after a
    numeric one (a stray line of totals above the header).
    """
    widths = [sum(v is not None for v in r) for r in rows]
    filled = [i for i, w in enumerate(widths) if w]
    if not filled:
        return None
    widest = max(widths)
    wide = [i for i in filled if widths[i] >= max(2, math.ceil(0.6 * widest))]
    if not wide:
        return filled[0]
    first = wide[0]
    nxt = wide[1] if len(wide) > 1 else -1
    if nxt == first + 1 and not _mostly_text(rows[first]) and _mostly_text(rows[nxt]):
        return nxt
    return first


def _mostly_text(row: tuple) -> bool:
    cells = [v for v in row if v is not None]
    return 2 * sum(bool(_LETTER.search(v)) for v in cells) >= len(cells)


def _clean_names(
    labels: list[str | None], positions: list[int], header_row: int, where: str
) -> tuple[list[str], list[Problem]]:
    """Collapse whitespace, name blank labels ``column_<n>``, suffix duplicates ``_2``, ``_3``."""
    problems: list[Problem] = []
    names: list[str] = []
    seen: set[str] = {ROW}
    row = header_row or None
    for label, pos in zip(labels, positions, strict=True):
        name = " ".join(str(label).split()) if label is not None else ""
        if not name:
            name = f"column_{pos + 1}"
            problems.append(
                Problem(
                    "blank-label",
                    f"{where}: column {pos + 1} has no header; it was named '{name}'.",
                    row=row,
                    column=name,
                    severity="warning",
                )
            )
        base, n = name, 1
        while name.casefold() in seen:
            n += 1
            name = f"{base}_{n}"
        if n > 1:
            problems.append(
                Problem(
                    "duplicate-label",
                    f"{where}: header '{base}' appears more than once; column {pos + 1} was "
                    f"renamed '{name}'.",
                    row=row,
                    column=name,
                    value=base,
                    severity="warning",
                )
            )
        seen.add(name.casefold())
        names.append(name)
    return names, problems


def _finish(
    grid: _Grid,
    *,
    source: str,
    sheet: str | None,
    delimiter: str | None = None,
    encoding: str | None = None,
) -> RawTable:
    """Find the header, name the columns, drop blank rows, flag short and long rows."""
    where = f"{source} (sheet '{sheet}')" if sheet else source
    cells = grid.cells
    head = cells.head(_HEADER_SCAN_ROWS).rows()
    h = _detect_header(head)
    if h is None:
        return _empty_table(source, sheet, f"'{where}' is empty.", encoding, delimiter)
    header_row = int(grid.rownum[h])
    body = cells.slice(h + 1)
    rownum = grid.rownum.slice(h + 1)
    counts = grid.counts.slice(h + 1) if grid.counts is not None else None
    header_fields = int(grid.counts[h]) if grid.counts is not None else cells.width
    has_data = body.select(pl.all().is_not_null().any()).row(0) if body.height else ()
    keep = [
        j
        for j in range(min(header_fields, cells.width))
        if head[h][j] is not None or (has_data and has_data[j])
    ]
    names, problems = _clean_names([head[h][j] for j in keep], keep, header_row, where)
    problems += _above_header(head[:h], grid.rownum[:h].to_list(), header_row, where)
    blank = body.select(~pl.any_horizontal(pl.all().is_not_null())).to_series()
    problems += _blank_row_problems(rownum.filter(blank), where)
    if counts is not None:
        need = keep[-1] + 1 if keep else 0
        problems += _ragged_problems(
            body, rownum, counts, blank, need, header_fields, delimiter, where
        )
    frame = body.filter(~blank).select(
        [pl.col(f"c{j}").alias(n) for j, n in zip(keep, names, strict=True)]
    )
    frame = frame.insert_column(0, rownum.filter(~blank).alias(ROW))
    if frame.height == 0:
        problems.append(_empty_problem(where, f"'{where}' has a header but no data rows."))
    problems.sort(key=lambda p: (p.row is not None, p.row or 0))
    return RawTable(source, sheet, frame, header_row, problems, encoding, delimiter, frame)


def _above_header(rows: list[tuple], rownums: list[int], header_row: int, where: str
                  ) -> list[Problem]:
    """A note for the non-blank lines above the header (titles, notes, a lost header of a
    file whose layout the sniff misjudged): skipped, never silently.

    >>> [p.message for p in _above_header([("Export 2025", None)], [1], 2, "a.csv")]
    ["a.csv: row 1 above the header (row 2) was skipped: 'Export 2025'."]
    """
    out = []
    for row, cells in zip(rownums, rows, strict=True):
        text = " ".join(str(c) for c in cells if c not in (None, ""))
        if text:
            out.append(Problem("skipped-row", f"{where}: row {row} above the header (row "
                               f"{header_row}) was skipped: {text[:80]!r}.", row=int(row),
                               value=text[:200], severity="warning"))
    return out


def _ragged_problems(
    body: pl.DataFrame,
    rownum: pl.Series,
    counts: pl.Series,
    blank: pl.Series,
    need: int,
    header_fields: int,
    delimiter: str | None,
    where: str,
) -> list[Problem]:
    """``missing-cell`` for rows shorter than the last used column, ``extra-cell`` for non-empty
    cells beyond the header (an empty trailing cell, e.g. a trailing delimiter, is harmless)."""
    extra_cols = [f"c{j}" for j in range(header_fields, body.width)]
    extra_data = (
        body.select(pl.any_horizontal(pl.col(extra_cols).is_not_null())).to_series()
        if extra_cols
        else _falses(body.height)
    )
    short = (counts < need) & ~blank
    long = (counts > header_fields) & extra_data
    bad = short | long
    if not bad.any():
        return []
    sep = "  " if delimiter in (None, WHITESPACE) else delimiter
    problems = []
    picked = body.filter(bad)
    for cells, row, n in zip(
        picked.iter_rows(), rownum.filter(bad), counts.filter(bad), strict=True
    ):
        value = sep.join(c or "" for c in cells[:n])
        if n > header_fields:
            code, what = "extra-cell", f"has {n} cells but the header has {header_fields}"
            tail = "; the extra cells were dropped."
        else:
            code, what = "missing-cell", f"has {n} cells but {need} are expected"
            tail = "; the missing cells were left empty."
        problems.append(
            Problem(code, f"{where}: row {row} {what}{tail}", row=row, value=value)
        )
    return problems


def _blank_row_problems(rows: pl.Series, where: str) -> list[Problem]:
    return [
        Problem("blank-row", f"{where}: row {r} is empty and was skipped.", row=r,
                severity="warning")
        for r in rows.to_list()
    ]


def _empty_problem(where: str, message: str) -> Problem:
    return Problem("empty-file", message, severity="warning")


def _empty_table(
    source: str,
    sheet: str | None,
    message: str,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> RawTable:
    frame = pl.DataFrame({ROW: pl.Series([], dtype=pl.Int64)})
    problem = _empty_problem(source, message)
    return RawTable(source, sheet, frame, 0, [problem], encoding, delimiter, frame)
