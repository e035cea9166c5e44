"""Forged workbooks for the hostile-input tests: zips written byte by byte, so a part can
declare sizes that lie about what it inflates to (what :mod:`zipfile` never writes)."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable, Iterator

CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    b'officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    b'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    b'<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8"?>'
              b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              b'<sheetData>')
SHEET_TAIL = b"</sheetData></worksheet>"


def _row(i: int, cells: list[str]) -> bytes:
    return (f'<row r="{i}">' + "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>'
                                       for v in cells) + "</row>").encode()


def sheet(rows: list[list[str]]) -> Iterator[bytes]:
    """An honest small sheet of inline strings."""
    yield SHEET_HEAD
    for i, r in enumerate(rows, start=1):
        yield _row(i, r)
    yield SHEET_TAIL


def bomb_sheet(inflated_mb: int) -> Iterator[bytes]:
    """A sheet of about ``inflated_mb`` MB: a header row, then the same row over and over."""
    yield SHEET_HEAD + _row(1, ["customer_id", "timestamp", "stage"])
    row = _row(2, ["c1", "2025-01-01", "Purchase"])
    block = row * ((1 << 20) // len(row))
    for _ in range(inflated_mb):
        yield block
    yield SHEET_TAIL


def forge(parts: Iterable[tuple[str, Iterable[bytes]]],
          declare: dict[str, int] | None = None, bad_crc: bool = False) -> bytes:
    """A zip of deflated ``parts``; ``declare`` gives a part a forged uncompressed size (in
    the local header and the directory alike), ``bad_crc`` forges every CRC."""
    declare = declare or {}
    body, directory = bytearray(), bytearray()
    count = 0
    for name, chunks in parts:
        comp = zlib.compressobj(9, zlib.DEFLATED, -15)
        data, crc, size = bytearray(), 0, 0
        for chunk in chunks:
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
            data += comp.compress(chunk)
        data += comp.flush()
        crc = crc ^ 0xFFFFFFFF if bad_crc else crc
        usize = declare.get(name, size) & 0xFFFFFFFF
        fn = name.encode()
        offset = len(body)
        body += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data),
                            usize, len(fn), 0) + fn + data
        directory += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc,
                                 len(data), usize, len(fn), 0, 0, 0, 0, 0, offset) + fn
        count += 1
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(directory), len(body), 0)
    return bytes(body + directory + end)


def xlsx(sheet_chunks: Iterable[bytes], declare_sheet: int | None = None,
         bad_crc: bool = False, extra: list[tuple[str, Iterable[bytes]]] = ()) -> bytes:
    """A minimal XLSX whose one sheet is ``sheet_chunks``."""
    parts = [("[Content_Types].xml", [CONTENT_TYPES]), ("_rels/.rels", [RELS]),
             ("xl/workbook.xml", [WORKBOOK]), ("xl/_rels/workbook.xml.rels", [WORKBOOK_RELS]),
             ("xl/worksheets/sheet1.xml", sheet_chunks), *extra]
    declare = {} if declare_sheet is None else {"xl/worksheets/sheet1.xml": declare_sheet}
    return forge(parts, declare, bad_crc)
