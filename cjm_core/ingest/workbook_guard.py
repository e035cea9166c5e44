"""Workbooks checked before any reader sees them: zipped ones (XLSX, ODS) inflated under hard
limits (:func:`inflate_checked`), legacy XLS files' stream sizes held to the file's own size
(:func:`check_ole`).

A zip file declares each part's sizes, and a forged one lies: a 3.5 MB workbook can declare a
900 kB sheet that inflates to 1.2 GB, and a reader that trusts the zip (calamine does) inflates
all of it. So the limits are enforced here on the bytes actually inflated: each part is
inflated in chunks, counted against its declared size (inflating past it is a forgery), the
total, its compression ratio so far, the number of cells and shared strings, and refused at
the first chunk over; a part whose size or CRC does not match is a damaged file. The reader
then gets a copy rebuilt from exactly the bytes counted (stored, not compressed again), so it
cannot inflate anything else.

>>> import io, zipfile
>>> buf = io.BytesIO()
>>> with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
...     z.writestr("content.xml", "<a/>")
>>> zipfile.ZipFile(io.BytesIO(inflate_checked(buf.getvalue(), "t.ods"))).read("content.xml")
b'<a/>'
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from cjm_core.errors import IngestError, UnsafeWorkbook
from cjm_core.ingest import limits

_CHUNK = 1 << 20
#: compressed bytes handed to the inflater at a time
_FEED = 64 << 10
#: parts whose cells are counted (XLSX sheets, the ODS content)
_SHEET_PART = re.compile(r"xl/worksheets/[^/]+\.xml|content\.xml")
_STRINGS_PART = re.compile(r"xl/sharedStrings\.xml")
_XML_PART = re.compile(r".*\.(?:xml|rels)")
#: a cell element in XLSX (``<c r=..>``, ``<c>``; the few other tags starting so, such as
#: ``<cols>``, only make the count err on the safe side), and in ODS
_CELL = b"<c"
#: an ODS row or cell start tag (its attributes), and the repeat attributes that make one tag
#: stand for many rows or cells: a 2 KB content.xml can declare billions of cells this way
_ODS_TAG = re.compile(rb"<table:(table-row|table-cell|covered-table-cell)\b([^>]*)>")
_ODS_REPEAT = re.compile(rb'number-(?:rows|columns)-repeated="(\d{1,12})"')
_STRING = b"<si"
#: DTDs are never needed in a workbook and are how entity-expansion bombs start
_DTD = (b"<!DOCTYPE", b"<!ENTITY")


@dataclass(frozen=True)
class ZipLimits:
    """The limits a workbook's parts are held to (defaults from :mod:`cjm_core.ingest.limits`)."""

    max_total: int = limits.MAX_UNCOMPRESSED_BYTES
    max_ratio: int = limits.MAX_COMPRESSION_RATIO
    min_ratio_bytes: int = limits.RATIO_MIN_ENTRY_BYTES
    max_entries: int = limits.MAX_ZIP_ENTRIES
    max_cells: int = limits.MAX_SHEET_CELLS
    max_strings: int = limits.MAX_SHEET_CELLS


def open_zip(data: bytes, name: str) -> zipfile.ZipFile:
    """The zip directory of ``data``; a damaged one is an :class:`IngestError`."""
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
        msg = (f"'{name}' starts like a zip/Excel file but is damaged or truncated "
               f"({exc}); save or download it again.")
        raise IngestError(msg) from exc


def inflate_checked(data: bytes, name: str, lim: ZipLimits | None = None) -> bytes:
    """``data`` (a zip) rebuilt from its parts inflated under ``lim``; raises
    :class:`UnsafeWorkbook` naming the limit a part goes over, or :class:`IngestError` when a
    part is damaged, encrypted or compressed in a way a workbook never is."""
    lim = lim or ZipLimits()
    zf = open_zip(data, name)
    infos = zf.infolist()
    check_declared(infos, name, lim)
    out = io.BytesIO()
    counter = _Counter(name, lim)
    try:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as rebuilt:
            for info in infos:
                if not info.is_dir():
                    _copy_part(data, info, rebuilt, counter)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, struct.error,
            EOFError, ValueError, OSError) as exc:
        raise IngestError(f"'{name}': part of the workbook is damaged or unreadable ({exc}); "
                          "save or download it again.") from exc
    return out.getvalue()


def check_declared(infos: list[zipfile.ZipInfo], name: str, lim: ZipLimits) -> None:
    """The cheap first refusal, from the zip directory alone: too many parts, a declared
    total over the limit, or a part declaring a ratio over the limit. Declarations can lie,
    so :func:`inflate_checked` holds the same limits again on what it inflates."""
    if len(infos) > lim.max_entries:
        raise UnsafeWorkbook(f"'{name}' holds {len(infos):,} parts (limit "
                             f"{lim.max_entries:,}); refused as unsafe.")
    declared = sum(i.file_size for i in infos)
    if declared > lim.max_total:
        raise UnsafeWorkbook(f"'{name}' would unpack to {declared / limits.MB:,.0f} MB (limit "
                             f"{lim.max_total / limits.MB:,.0f} MB); refused as a possible "
                             "zip bomb.")
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= lim.min_ratio_bytes and ratio > lim.max_ratio:
            raise UnsafeWorkbook(
                f"'{name}': part '{info.filename}' is compressed {ratio:,.0f}:1 (limit "
                f"{lim.max_ratio}:1, {info.file_size / limits.MB:,.0f} MB unpacked); refused "
                "as a possible zip bomb.")


class _Counter:
    """Running totals over the parts inflated so far."""

    def __init__(self, name: str, lim: ZipLimits) -> None:
        self.name, self.lim = name, lim
        self.total = self.cells = self.strings = 0

    def add(self, info: zipfile.ZipInfo, inflated: int, size: int) -> None:
        lim, name = self.lim, self.name
        self.total += size
        if self.total > lim.max_total:
            raise UnsafeWorkbook(f"'{name}' unpacks to more than "
                                 f"{lim.max_total / limits.MB:,.0f} MB (limit); refused as a "
                                 "possible zip bomb.")
        ratio = inflated / max(info.compress_size, 1)
        if inflated >= lim.min_ratio_bytes and ratio > lim.max_ratio:
            raise UnsafeWorkbook(f"'{name}': part '{info.filename}' is compressed more than "
                                 f"{lim.max_ratio}:1 (limit {lim.max_ratio}:1); refused as a "
                                 "possible zip bomb.")

    def counted(self, info: zipfile.ZipInfo) -> tuple[bytes, str] | None:
        """What is counted in this part: its pattern and the counter's name, or None."""
        if _SHEET_PART.fullmatch(info.filename) and info.filename != "content.xml":
            return _CELL, "cells"
        if _STRINGS_PART.fullmatch(info.filename):
            return _STRING, "strings"
        return None

    def count(self, info: zipfile.ZipInfo, what: str, found: int) -> None:
        n = getattr(self, what) + found
        setattr(self, what, n)
        cap = self.lim.max_cells if what == "cells" else self.lim.max_strings
        if n > cap:
            noun = "cells" if what == "cells" else "shared strings"
            raise UnsafeWorkbook(f"'{self.name}' holds more than {cap:,} {noun} (limit); "
                                 "refused as too large to open safely. Export it as CSV.")


class _OdsCells:
    """Counts the cells an ODS ``content.xml`` stands for, repeats included: each cell that
    holds a value counts its columns-repeated times the rows-repeated of its row. Empty cells
    are left out: LibreOffice ends every sheet with a million repeated empty rows, which the
    reader skips."""

    def __init__(self) -> None:
        self.row_repeat = 1
        self.carry = b""

    def feed(self, chunk: bytes) -> int:
        text = self.carry + chunk
        cut = text.rfind(b"<")
        if cut >= 0 and text.find(b">", cut) < 0:  # a tag cut by the chunk boundary
            text, self.carry = text[:cut], text[cut:]
        else:
            self.carry = b""
        found = 0
        for m in _ODS_TAG.finditer(text):
            kind, attrs = m.group(1), m.group(2)
            rep = _ODS_REPEAT.search(attrs)
            times = int(rep.group(1)) if rep else 1
            if kind == b"table-row":
                self.row_repeat = times
            elif b"value-type" in attrs:
                found += times * self.row_repeat
        return found


def _copy_part(data: bytes, info: zipfile.ZipInfo, rebuilt: zipfile.ZipFile,
               counter: _Counter) -> None:
    xml = bool(_XML_PART.fullmatch(info.filename))
    counted = counter.counted(info)
    ods = _OdsCells() if info.filename == "content.xml" else None
    edge = len(counted[0]) - 1 if counted else 0
    tail = b""
    target = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    with rebuilt.open(target, "w") as dst:
        for chunk, inflated in _inflate(data, info, counter.name):
            counter.add(info, inflated, len(chunk))
            if xml and inflated == len(chunk) and any(d in chunk for d in _DTD):
                # a DTD can only stand in the prolog, so the first chunk tells
                raise UnsafeWorkbook(f"'{counter.name}': part '{info.filename}' declares a DTD "
                                     "or entities, which workbooks never need; refused as "
                                     "unsafe.")
            if ods is not None:
                counter.count(info, "cells", ods.feed(chunk))
            if counted:
                pattern, what = counted
                # a tag cut by the chunk boundary lies within `edge` bytes of either side
                found = chunk.count(pattern) + (tail + chunk[:edge]).count(pattern)
                counter.count(info, what, found)
                tail = chunk[-edge:]
            dst.write(chunk)


def _inflate(data: bytes, info: zipfile.ZipInfo, name: str
             ) -> Iterator[tuple[bytes, int]]:
    """The part's bytes in chunks of at most ``_CHUNK``, each with the bytes inflated so far;
    inflating past the declared size is refused at once (so with the directory's checks, the
    declared ratio and total bound what is inflated), and a size or CRC that does not match
    at the end is a damaged part."""
    if info.flag_bits & 0x1:
        raise IngestError(f"'{name}' is password-protected; save it without a password and "
                          "upload it again.")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise IngestError(f"'{name}': part '{info.filename}' uses a compression method "
                          f"({info.compress_type}) that workbooks do not use.")
    off = info.header_offset
    if data[off:off + 4] != b"PK\x03\x04":
        raise IngestError(f"'{name}': part '{info.filename}' is missing; the file is damaged.")
    n, m = struct.unpack_from("<HH", data, off + 26)
    begin = off + 30 + n + m
    raw = memoryview(data)[begin:begin + info.compress_size]
    if len(raw) < info.compress_size:
        raise IngestError(f"'{name}': part '{info.filename}' is cut short; the file is "
                          "truncated.")
    stored = info.compress_type == zipfile.ZIP_STORED
    inflater = None if stored else zlib.decompressobj(-15)
    crc = inflated = fed = 0
    while fed < len(raw) or (inflater is not None and inflater.unconsumed_tail):
        if inflater is None:  # stored
            chunk = bytes(raw[fed:fed + _CHUNK])
            fed += len(chunk)
        else:
            tail = inflater.unconsumed_tail
            feed = tail or raw[fed:fed + _FEED]
            fed += 0 if tail else len(feed)
            chunk = inflater.decompress(feed, _CHUNK)
            if not chunk and inflater.eof:
                break
        inflated += len(chunk)
        crc = zlib.crc32(chunk, crc)
        if inflated > info.file_size:
            raise UnsafeWorkbook(f"'{name}': part '{info.filename}' inflates to more than the "
                                 f"{info.file_size:,} bytes it declares; refused as a forged "
                                 "file (possible zip bomb).")
        yield chunk, inflated
    if inflated != info.file_size or crc != info.CRC:
        raise IngestError(f"'{name}': part '{info.filename}' is damaged (its size or checksum "
                          "does not match); save or download it again.")


def check_ole(data: bytes, name: str, lim: ZipLimits | None = None) -> None:
    """Refuse a legacy XLS (OLE2 compound file) whose directory declares a stream larger than
    the file itself (nothing in an OLE file is compressed, so such a size is forged) or more
    entries than a workbook has; a directory that cannot be read is an :class:`IngestError`.

    >>> try:
    ...     check_ole(b"not ole", "x.xls")
    ... except IngestError as exc:
    ...     print(exc.code)
    unreadable-file
    """
    import olefile

    lim = lim or ZipLimits()
    try:
        ole = olefile.OleFileIO(data)
    except (OSError, ValueError, IndexError, struct.error) as exc:
        raise IngestError(f"'{name}' starts like an Excel 97-2003 file but its directory cannot "
                          f"be read ({exc}); save or download it again.") from exc
    entries = [e for e in ole.direntries if e is not None]
    if len(entries) > lim.max_entries:
        raise UnsafeWorkbook(f"'{name}' holds {len(entries):,} entries (limit "
                             f"{lim.max_entries:,}); refused as unsafe.")
    for e in entries:
        if e.entry_type == olefile.STGTY_STREAM and e.size > len(data):
            raise UnsafeWorkbook(f"'{name}': stream '{e.name}' declares {e.size:,} bytes in a "
                                 f"file of {len(data):,}; refused as a forged file.")
