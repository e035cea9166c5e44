"""Zipped workbooks (XLSX, ODS) inflated under hard limits before any reader sees them.

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

from cjm_core import limits
from cjm_core.errors import IngestError, UnsafeWorkbook

_CHUNK = 1 << 20
#: compressed bytes handed to the inflater at a time
_FEED = 64 << 10
#: parts whose cells are counted (XLSX sheets, the ODS content)
_SHEET_PART = re.compile(r"xl/worksheets/[^/]+\.xml|content\.xml")
_STRINGS_PART = re.compile(r"xl/sharedStrings\.xml")
_XML_PART = re.compile(r".*\.(?:xml|rels)")
#: a cell element: ``<c r=..>`` / ``<c>`` in XLSX, ``<table:table-cell`` in ODS
_CELL = (b"<c ", b"<c>", b"<table:table-cell")
_STRING = (b"<si>", b"<si ")
#: DTDs are never needed in a workbook and are how entity-expansion bombs start
_DTD = (b"<!DOCTYPE", b"<!ENTITY")
#: bytes carried from one chunk to the next, so a tag cut by a chunk boundary is still seen
_OVERLAP = 32


@dataclass(frozen=True)
class ZipLimits:
    """The limits a workbook's parts are held to (defaults from :mod:`cjm_core.limits`)."""

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
    if len(infos) > lim.max_entries:
        raise UnsafeWorkbook(f"'{name}' holds {len(infos):,} parts (limit "
                             f"{lim.max_entries:,}); refused as unsafe.")
    declared = sum(i.file_size for i in infos)
    if declared > lim.max_total:
        raise UnsafeWorkbook(f"'{name}' would unpack to {declared / limits.MB:,.0f} MB (limit "
                             f"{lim.max_total / limits.MB:,.0f} MB); refused as a possible "
                             "zip bomb.")
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


class _Counter:
    """Running totals over the parts inflated so far."""

    def __init__(self, name: str, lim: ZipLimits) -> None:
        self.name, self.lim = name, lim
        self.total = self.cells = self.strings = 0

    def add(self, info: zipfile.ZipInfo, inflated: int, consumed: int, size: int) -> None:
        lim, name = self.lim, self.name
        self.total += size
        if self.total > lim.max_total:
            raise UnsafeWorkbook(f"'{name}' unpacks to more than "
                                 f"{lim.max_total / limits.MB:,.0f} MB (limit); refused as a "
                                 "possible zip bomb.")
        ratio = inflated / max(consumed, 1)
        if inflated >= lim.min_ratio_bytes and ratio > lim.max_ratio:
            raise UnsafeWorkbook(f"'{name}': part '{info.filename}' is compressed more than "
                                 f"{lim.max_ratio}:1 (limit {lim.max_ratio}:1); refused as a "
                                 "possible zip bomb.")

    def scan(self, info: zipfile.ZipInfo, text: bytes, seen: bytes) -> None:
        """Count cells and strings in ``text``, whose start ``seen`` (the previous chunk's
        tail, so that a tag cut by the chunk boundary is found) was counted already, and
        refuse DTDs."""
        name, lim = self.name, self.lim
        if any(d in text for d in _DTD):
            raise UnsafeWorkbook(f"'{name}': part '{info.filename}' declares a DTD or entities, "
                                 "which workbooks never need; refused as unsafe.")
        if _SHEET_PART.fullmatch(info.filename):
            self.cells += sum(text.count(c) - seen.count(c) for c in _CELL)
            if self.cells > lim.max_cells:
                raise UnsafeWorkbook(f"'{name}' holds more than {lim.max_cells:,} cells "
                                     "(limit); refused as too large to open safely. Export it "
                                     "as CSV.")
        elif _STRINGS_PART.fullmatch(info.filename):
            self.strings += sum(text.count(s) - seen.count(s) for s in _STRING)
            if self.strings > lim.max_strings:
                raise UnsafeWorkbook(f"'{name}' holds more than {lim.max_strings:,} shared "
                                     "strings (limit); refused as too large to open safely.")


def _copy_part(data: bytes, info: zipfile.ZipInfo, rebuilt: zipfile.ZipFile,
               counter: _Counter) -> None:
    xml = bool(_XML_PART.fullmatch(info.filename))
    tail = b""
    target = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    with rebuilt.open(target, "w") as dst:
        for chunk, inflated, consumed in _inflate(data, info, counter.name):
            counter.add(info, inflated, consumed, len(chunk))
            if xml:
                text = tail + chunk
                counter.scan(info, text, tail)
                tail = text[-_OVERLAP:]
            dst.write(chunk)


def _inflate(data: bytes, info: zipfile.ZipInfo, name: str
             ) -> Iterator[tuple[bytes, int, int]]:
    """The part's bytes in chunks of at most ``_CHUNK``, each with the bytes inflated so far
    and the compressed bytes consumed so far. Inflating here rather than through
    :mod:`zipfile` is what lets the ratio be judged on the bytes consumed, chunk by chunk."""
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
    crc = inflated = consumed = 0
    while consumed < len(raw) or (inflater is not None and inflater.unconsumed_tail):
        if stored:
            chunk = bytes(raw[consumed:consumed + _CHUNK])
            consumed += len(chunk)
        else:
            feed = inflater.unconsumed_tail or raw[consumed:consumed + _FEED]
            fresh = 0 if inflater.unconsumed_tail else len(feed)
            chunk = inflater.decompress(feed, _CHUNK)
            consumed += fresh
            if not chunk and inflater.eof:
                break
        inflated += len(chunk)
        crc = zlib.crc32(chunk, crc)
        if inflated > info.file_size:
            raise UnsafeWorkbook(f"'{name}': part '{info.filename}' inflates to more than the "
                                 f"{info.file_size:,} bytes it declares; refused as a forged "
                                 "file (possible zip bomb).")
        yield chunk, inflated, consumed - (len(inflater.unconsumed_tail) if inflater else 0)
    if inflated != info.file_size or crc != info.CRC:
        raise IngestError(f"'{name}': part '{info.filename}' is damaged (its size or checksum "
                          "does not match); save or download it again.")
