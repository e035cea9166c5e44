"""The compiled scan that lets the reader skip stripping: it must never call a file clean when
some cell has whitespace at an edge, and the reader must give the same table either way."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cjm_core.errors import IngestError
from cjm_core.ingest import read as readers
from cjm_core.ingest.read import read_file
from cjm_core.ingest.text_kernels import _SPLIT_BYTES, scan_cells

SPACES = [" ", "\t", "\u00a0", "\u2003", "\u3000", "\u0085", "\u202f", "\x0b", "\r"]


def _cells_need_strip(body: bytes, delimiter: str) -> bool:
    frame = pl.read_csv(body, has_header=False, infer_schema=False, separator=delimiter,
                        truncate_ragged_lines=True)
    return bool(frame.select(
        pl.any_horizontal((pl.col(c) != pl.col(c).str.strip_chars()).fill_null(False)
                          for c in frame.columns).any()
    ).item())


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
@pytest.mark.parametrize("space", SPACES)
@pytest.mark.parametrize("where", ["start", "end", "alone", "quoted", "first", "last"])
def test_every_whitespace_at_every_edge_is_seen(delimiter, space, where):
    def q(cell: str) -> str:  # a tab in a tab-separated file, or a CR, only inside quotes
        return f'"{cell}"' if space in (delimiter, "\r") else cell

    cell = {"start": q(f"{space}x"), "end": q(f"x{space}"), "alone": q(space),
            "quoted": f'"{space}x"'}.get(where, "x")
    rows = [["id", "stage", "channel"], ["C1", cell, "web"], ["C2", "Kauf", "store"]]
    if where == "first":
        rows[0][0] = q(f"{space}id")
    if where == "last":
        rows[-1][-1] = q(f"store{space}")
    body = ("\n".join(delimiter.join(r) for r in rows) + "\n").encode()
    assert scan_cells(body, delimiter)[0], body


@pytest.mark.parametrize("body", [
    b"id,stage\nC1,Kauf\n", b"id,stage\r\nC1,Kauf\r\n", b'"id","stage"\n"C1","Kauf im Laden"\n',
    "id;Stufe\nC1;Beratung vor Ort\nC2;Zubeh\u00f6r\n".encode(), b"a\tb\nx\t\n\ty\n",
])
def test_clean_files_are_called_clean(body):
    delimiter = ";" if b";" in body else "\t" if b"\t" in body else ","
    assert scan_cells(body, delimiter) == (False, b'"' in body)


def test_a_bom_is_not_a_cell_edge():
    body = b"\xef\xbb\xbfid,stage\nC1,Kauf\n"
    assert scan_cells(body, ",", 3) == (False, False)


def test_quotes_are_found_in_every_block_and_both_halves():
    row = b"C1,Kauf,web\n"
    body = row * (_SPLIT_BYTES // len(row) + 10)
    assert scan_cells(body, ",") == (False, False)
    for at in (0, len(body) // 3, len(body) - 4):
        quoted = body[:at] + b'"' + body[at:]
        assert scan_cells(quoted, ",")[1], at
    spaced = body[: len(body) - 100] + b" ," + body[len(body) - 100:]
    assert scan_cells(spaced, ",")[0]


# line breaks inside quoted cells are the reader's to handle (the scan cannot tell them from
# line ends), so the scan's own property leaves them out and the reader's includes them
_cell = st.text(alphabet=st.sampled_from(list("ab1é,;\"") + SPACES), max_size=6)
_reader_cell = st.text(alphabet=st.sampled_from(list("ab1é,;\"\n") + SPACES), max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_cell, min_size=3, max_size=3), min_size=1, max_size=6),
       st.sampled_from([",", ";"]), st.booleans())
def test_clean_verdict_is_never_wrong(rows, delimiter, crlf):
    def field(c: str) -> str:
        return '"' + c.replace('"', '""') + '"' if (delimiter in c or '"' in c or "\r" in c
                                                      ) else c
    end = "\r\n" if crlf else "\n"
    text = end.join(delimiter.join(field(c) for c in r) for r in [["h1", "h2", "h3"], *rows])
    body = (text + end).encode()
    edge, quote = scan_cells(body, delimiter)
    assert quote == (b'"' in body)
    if not edge:
        assert not _cells_need_strip(body, delimiter), body


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(_reader_cell, min_size=3, max_size=3), min_size=1, max_size=6),
       st.booleans())
def test_reader_gives_the_same_table_with_and_without_the_scan(rows, quote_all):
    def field(c: str) -> str:
        needed = quote_all or any(ch in c for ch in ',"\r\n')
        return '"' + c.replace('"', '""') + '"' if needed else c

    text = "\n".join(",".join(field(c) for c in r) for r in [["id", "stage", "channel"], *rows])
    body = (text + "\n").encode()
    fast = _outcome(body)
    original = readers.scan_cells
    readers.scan_cells = lambda b, d, s=0: (True, b'"' in b)  # always strip
    try:
        slow = _outcome(body)
    finally:
        readers.scan_cells = original
    if isinstance(fast, str) or isinstance(slow, str):
        assert fast == slow
        return
    assert fast[0].equals(slow[0])
    assert fast[1] == slow[1]


def _outcome(body: bytes) -> tuple[pl.DataFrame, list[dict]] | str:
    try:
        table = read_file(body, "t.csv")[0]
    except IngestError as exc:
        return str(exc)
    return table.frame, [p.to_dict() for p in table.problems]


def test_utf8_head_then_cp1252_tail_is_read_as_cp1252():
    head = b"id;Stufe\n" + b"C1;Kauf\n" * 20_000  # more than the 64 KB taken on trust
    body = head + "C2;Beratung f\u00fcr \u00c4nderung\n".encode("cp1252")
    t = read_file(body, "export.csv")[0]
    assert t.encoding == "cp1252"
    assert t.frame.get_column("Stufe")[-1] == "Beratung f\u00fcr \u00c4nderung"
    assert t.frame.height == 20_001


@pytest.mark.parametrize("note", ['"abc\n"', '"\nabc"', '"\n"', '"a\r\n"'])
def test_a_line_break_at_a_quoted_cells_edge_is_stripped(note):
    body = f"id,note\nC1,{note}\nC2,x\n".encode()
    cells = read_file(body, "t.csv")[0].frame.get_column("note").to_list()
    stripped = note.strip('"').strip() or None
    assert cells == [stripped, "x"]


def test_a_quote_before_crlf_is_a_line_end_not_an_edge_space():
    body = b'"id","stage"\r\n"C1","Kauf"\r\n"C2",""\r\n'
    assert scan_cells(body, ",") == (False, True)
    assert scan_cells(body.replace(b'"Kauf"', b'"Kauf "'), ",")[0]


# -- the funnel's step codes (match_codes): one pass, or two halves side by side ------------

_step_value = st.one_of(st.none(), st.sampled_from(["Buy", "Look", "look", "A long step name",
                                                    "A long step name!", "", "Kauf ü"]),
                        st.text(max_size=14))


@settings(max_examples=200, deadline=None)
@given(st.lists(_step_value, max_size=40), st.lists(st.integers(0, 40), max_size=3),
       st.integers(1, 50))
def test_step_codes_equal_a_plain_lookup_in_one_pass_and_in_halves(values, cuts, split):
    from cjm_core.ingest import text_kernels

    mapping = {"Buy": 2, "Look": 1, "A long step name": 3, "Kauf ü": 4, "": 5}
    expected = [9 if v is None else mapping.get(v, 9) for v in values]
    parts, last = [], 0
    for cut in [*sorted(c for c in cuts if c <= len(values)), len(values)]:
        parts.append(pl.Series("s", values[last:cut], dtype=pl.String))
        last = cut
    series = pl.concat(parts, rechunk=False)  # several chunks, as a file read in parts gives
    before = text_kernels._SPLIT_VALUES
    try:
        for threshold in (before, split):  # the halves path on small columns too
            text_kernels._SPLIT_VALUES = threshold
            got = text_kernels.match_codes(series, mapping, 9)
            assert got is not None and got.tolist() == expected
    finally:
        text_kernels._SPLIT_VALUES = before
