"""Reading only the needed columns of a text export (issue 14: the command line's funnel on a
10M-event CSV reads 3 of its 9 fields). The narrow read must load the same rows with the same
values as reading the whole file, on every layout real exports have; where it cannot be sure
(a quoted label, ragged or multi-line records, a title above the header) it reads the whole
file instead."""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cjm_core.ingest import pipeline
from cjm_core.ingest.pipeline import ingest
from cjm_core.model.schema import ROW

EVENT_ROLES = {"customer_id", "timestamp", "stage"}


@pytest.fixture
def small_head(monkeypatch):
    """A head of 8 lines and role suggestion content with 4 values, so small files narrow."""
    monkeypatch.setattr(pipeline, "_HEAD_ROWS", 8)
    monkeypatch.setattr(pipeline, "_PROFILED", 4)


def _both(data: bytes, name: str = "e.csv"):
    whole = ingest(data, name)[0].result
    part = ingest(data, name, keep=set())[0].result
    return whole, part


def _same_loaded(whole, part) -> None:
    assert part.table == whole.table
    assert part.rows_loaded == whole.rows_loaded
    assert part.roles == {r: whole.roles[r] for r in part.roles}
    assert part.data.equals(whole.data.select(part.data.columns))


def test_a_large_export_is_read_narrow_with_the_same_rows_and_values(monkeypatch):
    from cjm_core.demo.sample import generate_events

    monkeypatch.setattr(pipeline, "_HEAD_ROWS", 6000)
    monkeypatch.setattr(pipeline, "_PROFILED", 200)  # revenue: only on purchases
    frame = generate_events(9000, "4742", seed=3, categorical=False)
    data = frame.with_columns(pl.col("timestamp").dt.strftime("%Y-%m-%d %H:%M:%S")
                              ).write_csv().encode()
    whole, part = _both(data)
    assert set(part.data.columns) == EVENT_ROLES  # the narrow read was taken
    assert len(whole.data.columns) > len(part.data.columns)
    _same_loaded(whole, part)
    assert (part.rows_in, part.status) == (whole.rows_in, whole.status)
    by = ingest(data, "e.csv", keep={"channel", "region"})[0].result
    assert set(by.data.columns) == EVENT_ROLES | {"channel", "region"}


def _csv(rows: list[list[str]], sep: str = ",", crlf: bool = False) -> bytes:
    end = "\r\n" if crlf else "\n"
    return (end.join(sep.join(r) for r in rows) + end).encode()


HEADER = ["Kunden-Nr", "Zeitpunkt", "Phase", "Kanal", "Notiz"]


def _rows(n: int = 12) -> list[list[str]]:
    stages = ["Werbung", "Beratung", "Kauf", "Reklamation"]
    return [[f"K{i % 5}", f"2025-03-{1 + i % 27:02d} 10:{i % 60:02d}:00", stages[i % 4],
             "web" if i % 2 else "store", f"n{i}"] for i in range(n)]


def test_a_german_semicolon_export_is_read_narrow(small_head):
    data = _csv([HEADER, *_rows()], sep=";")
    whole, part = _both(data)
    assert set(part.roles) == EVENT_ROLES and len(part.data.columns) == 3
    _same_loaded(whole, part)


@pytest.mark.parametrize("layout", ["quoted label", "title row", "short record", "long record",
                                    "line break in a quoted note", "whitespace layout"])
def test_layouts_it_cannot_be_sure_of_are_read_whole(small_head, layout):
    rows = [HEADER, *_rows()]
    sep = ","
    if layout == "quoted label":
        rows[0] = ['"Kunden-Nr"', *HEADER[1:]]
    elif layout == "title row":
        rows.insert(0, ["Export März 2025"])
    elif layout == "short record":
        rows[10] = rows[10][:4]
    elif layout == "long record":
        rows[10] = [*rows[10], "extra"]
    elif layout == "line break in a quoted note":
        rows[10][4] = '"two\nlines"'
    else:
        sep, rows = "   ", [[c.replace(" ", "T") for c in r] for r in rows]
    whole, part = _both(_csv(rows, sep=sep))
    _same_loaded(whole, part)
    if layout in ("quoted label", "title row", "long record", "whitespace layout"):
        assert part.data.columns == whole.data.columns  # read whole


_cell = st.one_of(
    st.sampled_from(["", " ", "x", " x", "x ", '"q"', '"a,b"', '""', "ü", "\u00a0y", "K1",
                     "2025-03-04 10:00:00", "04.03.2025", "Kauf", "null", "-", "1,5"]),
    st.text(alphabet=st.characters(blacklist_characters="\n\r\x00", codec="utf-8"),
            max_size=6))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(0, 11), max_size=4), st.lists(_cell, min_size=1, max_size=12),
       st.sampled_from([",", ";", "\t", "|"]), st.booleans(), st.booleans())
def test_the_narrow_read_loads_what_the_whole_read_loads(small_head, where, cells, sep, crlf,
                                                         bom):
    rows = [HEADER, *_rows()]
    for i, (row, cell) in enumerate(zip(where, cells, strict=False)):
        rows[1 + row][i % 5] = cell  # stray values, spaces, quotes in any column
    data = _csv(rows, sep=sep, crlf=crlf)
    data = b"\xef\xbb\xbf" + data if bom else data
    try:
        whole = ingest(data, "e.csv")[0].result
    except Exception as exc:  # the whole read refuses: the narrow one must refuse too
        with pytest.raises(type(exc)):
            ingest(data, "e.csv", keep=set())
        return
    part = ingest(data, "e.csv", keep=set())[0].result
    _same_loaded(whole, part)


# -- a file on disk read a block of lines at a time (the command line: ingest_path) ----------


@pytest.fixture
def small_blocks(monkeypatch, small_head):
    """Every file read for some columns goes through the block reader, in blocks of ~40 bytes
    (so block ends fall everywhere: before blank lines, short records, the last line)."""
    from cjm_core.ingest import read

    monkeypatch.setattr(pipeline, "_BLOCKS_FROM", 0)
    monkeypatch.setattr(read, "_BLOCK_BYTES", 40)


def _via_path(data: bytes, tmp: Path):
    from cjm_core.ingest.pipeline import ingest_path

    path = tmp / "e.csv"
    path.write_bytes(data)
    return ingest_path(path, keep=set())[0]


def test_a_large_export_is_read_in_blocks_with_the_same_rows_and_values(monkeypatch, tmp_path):
    from cjm_core.demo.sample import generate_events
    from cjm_core.ingest import read

    monkeypatch.setattr(pipeline, "_HEAD_ROWS", 6000)
    monkeypatch.setattr(pipeline, "_PROFILED", 200)
    monkeypatch.setattr(pipeline, "_BLOCKS_FROM", 0)
    monkeypatch.setattr(read, "_BLOCK_BYTES", 50_000)
    blocks = []
    monkeypatch.setattr(read, "_narrow_block", lambda *a, _f=read._narrow_block: (
        blocks.append(1), _f(*a))[1])
    frame = generate_events(9000, "4742", seed=4, categorical=False)
    data = frame.with_columns(pl.col("timestamp").dt.strftime("%Y-%m-%d %H:%M:%S")
                              ).write_csv().encode()
    whole = ingest(data, "e.csv")[0]
    part = _via_path(data, tmp_path)
    assert len(blocks) > 10 and set(part.result.data.columns) == EVENT_ROLES  # in blocks
    _same_loaded(whole.result, part.result)
    assert part.raw.frame[ROW].equals(whole.raw.frame[ROW])  # numbers run on across blocks


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(0, 11), max_size=4), st.lists(_cell, min_size=1, max_size=12),
       st.sampled_from([",", ";", "\t", "|"]), st.booleans(), st.booleans(),
       st.lists(st.integers(1, 12), max_size=2))
def test_the_block_read_loads_what_the_whole_read_loads(small_blocks, where, cells, sep, crlf,
                                                        bom, blank_at):
    rows = [HEADER, *_rows()]
    for i, (row, cell) in enumerate(zip(where, cells, strict=False)):
        rows[1 + row][i % 5] = cell
    for at in sorted(blank_at, reverse=True):
        rows.insert(at, [""])  # blank lines between records
    data = _csv(rows, sep=sep, crlf=crlf)
    data = b"\xef\xbb\xbf" + data if bom else data
    with tempfile.TemporaryDirectory() as tmp:
        try:
            whole = ingest(data, "e.csv")[0]
        except Exception as exc:
            with pytest.raises(type(exc)):
                _via_path(data, Path(tmp))
            return
        part = _via_path(data, Path(tmp))
    _same_loaded(whole.result, part.result)
    assert part.raw.frame[ROW].equals(whole.raw.frame[ROW])


def test_only_text_files_look_for_a_head_of_lines(monkeypatch, tmp_path):
    """A Parquet file or a workbook is never scanned for line ends (a 90 MB Parquet file was
    read through once for nothing): it goes straight to the whole-file reader."""
    from cjm_core.demo.sample import generate_events
    from cjm_core.ingest.pipeline import ingest_path

    monkeypatch.setattr(pipeline, "_BLOCKS_FROM", 0)

    def no(*_a, **_k):
        raise AssertionError("a binary file was scanned for lines")

    monkeypatch.setattr(pipeline, "_file_head", no)
    pq = tmp_path / "e.parquet"
    generate_events(500, "4742", seed=5, categorical=False).write_parquet(pq)
    sample = Path(__file__).resolve().parent.parent / "sample_data" / "sample_4742.xlsx"
    assert ingest_path(pq, keep=set())[0].result.rows_loaded == 500
    assert ingest_path(sample, keep=set())[0].result.rows_loaded > 0
    with pytest.raises(AssertionError):  # the probe itself can fail: a text file does look
        (tmp_path / "e.csv").write_text("a,b\n1,2\n")
        ingest_path(tmp_path / "e.csv", keep=set())
