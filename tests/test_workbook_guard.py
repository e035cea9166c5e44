"""Zip bombs whose declared sizes lie (issue 11 §1): limits hold on the bytes actually
inflated, every damaged zip is a message, and no generated bomb costs more than a few MB."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import time
import tracemalloc
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cjm_core.errors import IngestError, UnsafeWorkbook
from cjm_core.ingest import limits
from cjm_core.ingest.read import read_file
from cjm_core.ingest.workbook_guard import ZipLimits, check_ole, inflate_checked
from tests import zip_bombs as zb
from tests.conftest import FILES, ROOT

SMALL = [["customer_id", "timestamp", "stage"], ["c1", "2025-01-01", "Purchase"]]


def test_an_honest_workbook_is_rebuilt_part_for_part():
    data = zb.xlsx(zb.sheet(SMALL))
    out = inflate_checked(data, "ok.xlsx")
    a, b = zipfile.ZipFile(io.BytesIO(data)), zipfile.ZipFile(io.BytesIO(out))
    assert a.namelist() == b.namelist()
    assert all(a.read(n) == b.read(n) for n in a.namelist())
    assert read_file(data, "ok.xlsx")[0].frame.height == 1


def test_a_sheet_declaring_900kb_that_inflates_far_more_is_refused_at_900kb():
    data = zb.xlsx(zb.bomb_sheet(40), declare_sheet=900_000)
    tracemalloc.start()
    with pytest.raises(UnsafeWorkbook, match=r"inflates to more than the 900,000 bytes it "
                                             r"declares; refused as a forged file"):
        inflate_checked(data, "forged.xlsx")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 4 * limits.MB


def test_declared_sizes_that_tell_the_truth_are_refused_by_ratio_before_inflating():
    data = zb.xlsx(zb.bomb_sheet(40))  # 40 MB of one repeated row: ratio ~250:1
    tracemalloc.start()
    with pytest.raises(UnsafeWorkbook, match=r"compressed [\d,]+:1 \(limit 100:1, 40 MB"):
        inflate_checked(data, "bomb.xlsx")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 * limits.MB


def test_total_and_cell_limits_hold_on_what_is_inflated():
    data = zb.xlsx(zb.sheet([["a", "b"]] * 50))
    with pytest.raises(UnsafeWorkbook, match="more than 40 cells"):
        inflate_checked(data, "x.xlsx", ZipLimits(max_cells=40))
    with pytest.raises(UnsafeWorkbook, match="would unpack to"):
        inflate_checked(data, "x.xlsx", ZipLimits(max_total=1000))
    # declaring less than the truth gets past the directory check, not past the count
    lying = zb.forge([("xl/worksheets/sheet1.xml", [b"<c>" * 3000])],
                     {"xl/worksheets/sheet1.xml": 10})
    with pytest.raises(IngestError):
        inflate_checked(lying, "x.xlsx", ZipLimits(max_total=5000))


def test_cells_cut_by_a_chunk_boundary_are_counted_once(monkeypatch):
    import cjm_core.ingest.workbook_guard as sz

    monkeypatch.setattr(sz, "_CHUNK", 7)  # every "<c>" and many "<c " straddle a boundary
    body = b"<sheetData>" + b"<c>1</c><c r='A1'>2</c>" * 40 + b"</sheetData>"
    data = zb.forge([("xl/worksheets/sheet1.xml", [body])])
    counter_limits = ZipLimits(max_cells=80)
    inflate_checked(data, "x.xlsx", counter_limits)  # exactly 80 cells: allowed
    with pytest.raises(UnsafeWorkbook, match="more than 79 cells"):
        inflate_checked(data, "x.xlsx", ZipLimits(max_cells=79))


def test_shared_strings_many_parts_dtds_and_passwords():
    strings = zb.forge([("xl/sharedStrings.xml", [b"<sst>" + b"<si><t>x</t></si>" * 500
                                                  + b"</sst>"])])
    with pytest.raises(UnsafeWorkbook, match="more than 100 shared strings"):
        inflate_checked(strings, "s.xlsx", ZipLimits(max_strings=100))
    many = zb.forge([(f"x/{i}.xml", [b"<a/>"]) for i in range(60)])
    with pytest.raises(UnsafeWorkbook, match="holds 60 parts"):
        inflate_checked(many, "m.xlsx", ZipLimits(max_entries=50))
    dtd = zb.xlsx(zb.sheet(SMALL), extra=[("xl/styles.xml", [
        b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><x>&b;</x>'])])
    with pytest.raises(UnsafeWorkbook, match="DTD"):
        inflate_checked(dtd, "d.xlsx")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.xml", b"<a/>")
    locked = bytearray(buf.getvalue())
    locked[6] |= 1  # the encryption flag, in the local header and in the directory
    locked[locked.rfind(b"PK\x01\x02") + 8] |= 1
    with pytest.raises(IngestError, match="password"):
        inflate_checked(bytes(locked), "p.xlsx")


def test_bad_crc_and_garbage_are_messages_not_tracebacks():
    with pytest.raises(IngestError, match="damaged"):
        inflate_checked(zb.xlsx(zb.sheet(SMALL), bad_crc=True), "crc.xlsx")
    with pytest.raises(IngestError, match="damaged"):
        inflate_checked(b"PK\x03\x04" + b"\x00" * 50, "junk.xlsx")
    with pytest.raises(IngestError, match=r"damaged"):
        read_file(zb.xlsx(zb.sheet(SMALL), bad_crc=True), "crc.xlsx")


@settings(max_examples=40, deadline=None)
@given(inflated_mb=st.integers(1, 30),
       declared=st.sampled_from(["truth", "less", "more", "tiny"]),
       bad_crc=st.booleans(),
       extra_parts=st.integers(0, 300),
       strings=st.integers(0, 200_000))
def test_no_generated_bomb_costs_more_than_a_few_mb(inflated_mb, declared, bad_crc,
                                                    extra_parts, strings):
    """Whatever a forged workbook declares, checking it holds at most a few MB at once, and
    it is refused (or, when every limit holds, rebuilt) without any exception but ours."""
    real = inflated_mb * (1 << 20)
    size = {"truth": None, "less": real // 3, "more": real * 3, "tiny": 1000}[declared]
    extra = [(f"xl/media/p{i}.xml", [b"<p/>"]) for i in range(extra_parts)]
    if strings:
        extra.append(("xl/sharedStrings.xml",
                      [b"<sst>", b"<si><t>s</t></si>" * strings, b"</sst>"]))
    data = zb.xlsx(zb.bomb_sheet(inflated_mb), declare_sheet=size, bad_crc=bad_crc,
                   extra=extra)
    lim = ZipLimits(max_entries=200, max_strings=100_000)
    tracemalloc.start()
    with contextlib.suppress(UnsafeWorkbook, IngestError):
        inflate_checked(data, "fuzz.xlsx", lim)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 16 * limits.MB + 2 * len(data)


#: runs the command line in a fresh process and writes that process's own peak RSS (VmHWM) to
#: a file at exit: ru_maxrss of a child would include the parent's size at the fork
_MEASURED = """
import atexit, sys
def peak():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            return line.split()[1]
atexit.register(lambda: open(sys.argv[1], 'w').write(peak()))
from cjm_core.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _run_measured(args: list[str], tmp_path) -> tuple[int, str, float, float]:
    """A whole process: exit code, output, seconds and its own peak RSS in MB."""
    peak_file = tmp_path / "peak_kb"
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", _MEASURED, str(peak_file), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    return (proc.returncode, proc.stdout + proc.stderr, time.monotonic() - start,
            int(peak_file.read_text()) / 1024)


@pytest.fixture(scope="module")
def forged(tmp_path_factory) -> dict[str, str]:
    """The issue's two forged workbooks: a sheet inflating to 1.2 GB that declares 900 kB,
    and the same declaring 1 kB."""
    folder = tmp_path_factory.mktemp("bombs")
    out = {}
    for label, declared in (("900kb", 900_000), ("1kb", 1000)):
        path = folder / f"bomb_{label}.xlsx"
        path.write_bytes(zb.xlsx(zb.bomb_sheet(1200), declare_sheet=declared))
        out[label] = str(path)
    return out


@pytest.mark.parametrize("label", ["900kb", "1kb"])
def test_inspect_on_a_forged_bomb_exits_2_in_seconds_under_1gb(forged, label, tmp_path):
    code, out, seconds, rss_mb = _run_measured(["inspect", forged[label], "--json"], tmp_path)
    assert code == 2, out
    assert "Traceback" not in out and '"unsafe-workbook"' in out and "declares" in out
    assert seconds < 20 and rss_mb < 1024, (seconds, rss_mb)


def _xls_with_workbook_size(size: int) -> bytes:
    """The legacy fixture with its Workbook stream's declared size forged in the directory."""
    import struct

    data = bytearray((FILES / "legacy_export.xls").read_bytes())
    first_dir = struct.unpack_from("<I", data, 0x30)[0]
    entry = 512 + first_dir * 512 + 128  # entry 1 is the Workbook stream
    assert data[entry:entry + 16].decode("utf-16-le") == "Workbook"
    struct.pack_into("<I", data, entry + 120, size)
    return bytes(data)


def test_a_legacy_xls_whose_stream_is_larger_than_the_file_is_refused():
    honest = (FILES / "legacy_export.xls").read_bytes()
    check_ole(honest, "ok.xls")
    with pytest.raises(UnsafeWorkbook, match=r"declares 2,000,000,000 bytes in a file of"):
        check_ole(_xls_with_workbook_size(2_000_000_000), "forged.xls")
    with pytest.raises(UnsafeWorkbook, match="forged"):
        read_file(_xls_with_workbook_size(2_000_000_000), "forged.xls")
    with pytest.raises(IngestError, match="directory cannot be read"):
        check_ole(honest[:600], "cut.xls")


def _ods_with_rows(extra_rows: str) -> bytes:
    """The LibreOffice fixture with ``extra_rows`` (content.xml markup) after its rows."""
    src = zipfile.ZipFile(FILES / "libreoffice_export.ods")
    content = src.read("content.xml").decode()
    at = content.index("</table:table>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "content.xml":
                data = (content[:at] + extra_rows + content[at:]).encode()
            out.writestr(info, data)
    return buf.getvalue()


def test_an_ods_whose_repeats_declare_billions_of_cells_is_refused():
    # 2 KB of XML: one row repeated a million times, each with a value repeated 1,000 times
    bomb = _ods_with_rows(
        '<table:table-row table:number-rows-repeated="1000000"><table:table-cell '
        'table:number-columns-repeated="1000" office:value-type="float" office:value="1">'
        "<text:p>1</text:p></table:table-cell></table:table-row>")
    assert len(bomb) < 4000
    with pytest.raises(UnsafeWorkbook, match="more than 5,000,000 cells"):
        read_file(bomb, "bomb.ods")


def test_libreoffices_trailing_empty_repeated_rows_are_not_counted():
    # every LibreOffice sheet ends like this: a million empty rows of 1,024 empty cells
    ods = _ods_with_rows(
        '<table:table-row table:number-rows-repeated="1048573"><table:table-cell '
        'table:number-columns-repeated="1024"/></table:table-row>')
    assert read_file(ods, "export.ods")[0].frame.height == 2


def test_ods_repeats_split_across_chunks_are_counted(monkeypatch):
    import cjm_core.ingest.workbook_guard as wg

    monkeypatch.setattr(wg, "_CHUNK", 5)  # every tag is cut by a chunk boundary
    ods = _ods_with_rows(
        '<table:table-row table:number-rows-repeated="40"><table:table-cell '
        'table:number-columns-repeated="3" office:value-type="float" office:value="1">'
        "<text:p>1</text:p></table:table-cell></table:table-row>")
    # the fixture's 3 rows x 3 cells, and 40 x 3 repeated ones: 129
    inflate_checked(ods, "x.ods", ZipLimits(max_cells=129))
    with pytest.raises(UnsafeWorkbook, match="more than 128 cells"):
        inflate_checked(ods, "x.ods", ZipLimits(max_cells=128))
