"""Reading uploads into raw string tables: formats, encodings, delimiters, row numbers, problems."""

from __future__ import annotations

import csv
import importlib
import io
import zipfile
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st

from cjm_core.errors import IngestError, UnsafeWorkbook, UploadTooLarge
from cjm_core.ingest import limits
from cjm_core.ingest.read import ROW, RawTable, check_workbook_safety, list_sheets, read_file
from cjm_core.ingest.typed import as_text

FILES = Path(__file__).parent / "files"


def read_one(name: str) -> RawTable:
    tables = read_file((FILES / name).read_bytes(), name)
    assert len(tables) == 1
    return tables[0]


def codes(table: RawTable) -> list[tuple[str, int | None]]:
    return [(p.code, p.row) for p in table.problems]


@pytest.mark.parametrize(
    ("name", "encoding", "delimiter", "columns", "rows"),
    [
        (
            "semicolon_cp1252_german_headers.csv",
            "cp1252",
            ";",
            ["Kunden-Nr", "Datum", "Phase", "Kontaktpunkt", "Kanal", "Umsatz"],
            [2, 3, 4, 5],
        ),
        ("utf8_bom_comma.csv", "utf-8-sig", ",", ["customer_id", "timestamp", "stage"], [2, 3]),
        ("utf16_tab.tsv", "utf-16", "\t", ["Kunde", "Datum", "Zufriedenheit", "Kommentar"], [2, 3]),
        ("pipe_delimited.txt", "utf-8", "|", ["order_id", "customer_id", "order_date", "amount"],
         [2, 3]),
        ("whitespace_aligned_yyyymmdd.txt", "utf-8", "whitespace",
         ["KUNDE", "DATUM", "PHASE", "BETRAG"], [2, 3, 4]),
        ("quoted_delimiters_and_newlines.csv", "utf-8", ",", ["id", "comment", "stage"],
         [2, 3, 5, 6]),
    ],
)
def test_text_files_sniffed(name, encoding, delimiter, columns, rows):
    t = read_one(name)
    assert (t.encoding, t.delimiter, t.header_row, t.sheet) == (encoding, delimiter, 1, None)
    assert t.columns == columns
    assert t.frame.columns[0] == ROW and t.frame.schema[ROW] == pl.Int64
    assert all(t.frame.schema[c] == pl.String for c in columns)
    assert t.frame[ROW].to_list() == rows
    assert t.problems == []


def test_german_values_stay_as_typed():
    t = read_one("semicolon_cp1252_german_headers.csv")
    first = t.frame.row(0, named=True)
    assert first["Datum"] == "13.03.2025 14:05"
    assert first["Umsatz"] == "1.234,50"
    assert first["Kontaktpunkt"] == "Filiale München"
    assert t.frame["Umsatz"].to_list() == ["1.234,50", None, "89,90", "0,00"]


def test_whitespace_aligned_keeps_single_spaces_inside_values():
    t = read_one("whitespace_aligned_yyyymmdd.txt")
    assert t.frame["DATUM"].to_list() == ["20250304", "20250305", "20250306"]
    assert t.frame["PHASE"].to_list() == ["Discovery", "In-store demo", "Purchase"]


def test_quoted_cells_keep_delimiters_newlines_and_quotes():
    t = read_one("quoted_delimiters_and_newlines.csv")
    assert t.frame["comment"].to_list() == [
        "Great, fast", "Line one\r\nline two", 'She said "wow"', "plain"
    ]


def test_ragged_rows_are_kept_and_reported():
    t = read_one("ragged_rows_extra_and_missing_cells.csv")
    assert codes(t) == [("missing-cell", 3), ("extra-cell", 4)]
    assert all(p.severity == "error" for p in t.problems)
    assert [p.value for p in t.problems] == ["2,Purchase", "3,Support,phone,extra"]
    assert t.frame[ROW].to_list() == [2, 3, 4, 5, 6]
    assert t.frame.row(1) == (3, "2", "Purchase", None)
    assert t.frame.row(2) == (4, "3", "Support", "phone")
    # a trailing delimiter (empty extra cell) is harmless; a quoted comma is not an extra cell
    assert t.frame.row(4) == (6, "5", "Delivery, installation", "store")


def test_blank_and_duplicate_headers_renamed_with_warnings():
    t = read_one("blank_and_duplicate_headers.csv")
    assert t.columns == ["id", "column_2", "stage", "Stage_2", "id_2"]
    assert [(p.code, p.column, p.row, p.severity) for p in t.problems] == [
        ("blank-label", "column_2", 1, "warning"),
        ("duplicate-label", "Stage_2", 1, "warning"),
        ("duplicate-label", "id_2", 1, "warning"),
    ]


def test_blank_rows_dropped_and_reported():
    t = read_one("blank_rows_inside.csv")
    assert t.frame.rows() == [(2, "1", "a"), (4, "2", "b"), (7, "3", "c")]
    assert codes(t) == [("blank-row", 3), ("blank-row", 5), ("blank-row", 6)]
    assert {p.severity for p in t.problems} == {"warning"}


@pytest.mark.parametrize("name", ["empty.csv", "header_only.csv"])
def test_empty_files_give_a_table_with_zero_rows_and_a_warning(name):
    t = read_one(name)
    assert t.frame.height == 0
    assert [p.code for p in t.problems] == ["empty-file"]
    assert t.problems[0].severity == "warning"
    if name == "header_only.csv":
        assert t.columns == ["customer_id", "timestamp", "stage"] and t.header_row == 1
    else:
        assert t.columns == [] and t.header_row == 0


def test_xlsx_title_rows_give_real_spreadsheet_row_numbers():
    data = (FILES / "workbook_data_sheet_second_with_title_row.xlsx").read_bytes()
    name = "workbook_data_sheet_second_with_title_row.xlsx"
    assert list_sheets(data, name) == ["Info", "Daten"]
    tables = read_file(data, name)
    assert [t.sheet for t in tables] == ["Info", "Daten"]
    t = read_file(data, name, sheets=["Daten"])[0]
    assert t.sheet == "Daten" and t.header_row == 3
    assert t.columns == ["Kunden-Nr", "Datum", "Zeitpunkt", "Phase", "Menge", "Umsatz"]
    assert t.frame.rows() == [
        (4, "K-1", "2025-03-04", "2025-03-04 13:05:00", "Kauf", "3", "1234.5"),
        (5, "K-2", "2025-03-05", "2025-03-05 09:30:00", "Beratung", "1", "0.1"),
        (7, "K-3", "2025-03-06", "2025-03-06 00:00:00", "Kauf", "12", "89"),
    ]
    # the title row above the header is skipped with a note, never silently
    assert codes(t) == [("skipped-row", 1), ("blank-row", 6)]


def test_every_sheet_with_data_is_offered_and_empty_ones_skipped():
    name = "several_tables_in_one_workbook.xlsx"
    tables = read_file((FILES / name).read_bytes(), name)
    assert [(t.sheet, t.columns, t.frame.height) for t in tables] == [
        ("events", ["customer_id", "timestamp", "stage"], 1),
        ("feedback", ["customer_id", "nps", "comment"], 2),
        ("orders", ["order_id", "amount"], 1),
    ]
    assert tables[1].frame.rows() == [(2, "C1", "9", "gut"), (3, "C2", "3", None)]
    assert "Leer" in list_sheets((FILES / name).read_bytes(), name)


def test_unknown_sheet_is_an_ingest_error():
    name = "several_tables_in_one_workbook.xlsx"
    with pytest.raises(IngestError, match="no sheet named 'Nope'"):
        read_file((FILES / name).read_bytes(), name, sheets=["Nope"])


def test_legacy_xls_and_ods():
    xls = read_one("legacy_export.xls")
    assert (xls.sheet, xls.header_row) == ("Export", 1)
    assert xls.frame.rows() == [(2, "C1", "2025-03-04", "Laden", "10"),
                                (3, "C2", "2025-03-05", "Web", "2.5")]
    ods = read_one("libreoffice_export.ods")
    assert ods.sheet == "Umfrage"
    assert ods.frame.rows() == [(2, "C1", "2025-03-04 13:05:00", "5"),
                                (3, "C2", "2025-03-05 08:00:00", "4")]


def test_parquet_keeps_its_types_and_the_rest_is_text():
    t = read_one("events.parquet")
    assert t.header_row == 0
    assert t.frame.rows() == [
        (1, "C1", datetime(2025, 3, 4, 13, 5), date(2025, 3, 4), 19.99, 1, True),
        (2, "C2", datetime(2025, 3, 5, 8, 0, 0, 500000), date(2025, 3, 5), None, 2, False),
        (3, None, datetime(2025, 3, 6), None, 3.0, 3, None),
    ]
    # written out where text is needed, the values read as a person would write them
    assert [as_text(t.frame[c]).to_list() for c in t.columns[1:]] == [
        ["2025-03-04 13:05:00", "2025-03-05 08:00:00.500", "2025-03-06 00:00:00"],
        ["2025-03-04", "2025-03-05", None], ["19.99", None, "3.0"], ["1", "2", "3"],
        ["true", "false", None]]


def test_json_lines_rows_are_line_numbers():
    t = read_one("events.jsonl")
    assert t.columns == ["customer_id", "timestamp", "stage", "n", "meta"]
    assert t.frame[ROW].to_list() == [1, 2, 4]
    assert t.frame["meta"].to_list() == [None, None, '{"src":"app"}']
    assert t.frame["n"].to_list() == [1, 2, None]  # a JSON number stays a number


def test_broken_json_lines_name_the_line():
    with pytest.raises(IngestError, match="line 2"):
        read_file(b'{"a": 1}\n{"a": \n', "bad.jsonl")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("not_really_an_xlsx.xlsx", r"'not_really_an_xlsx\.xlsx'.*binary.*not a valid workbook"),
        ("truncated.xlsx", r"'truncated\.xlsx'.*damaged or truncated"),
    ],
)
def test_broken_workbooks_are_ingest_errors(name, message):
    with pytest.raises(IngestError, match=message) as info:
        read_file((FILES / name).read_bytes(), name)
    assert not isinstance(info.value, UnsafeWorkbook)
    assert info.value.code == "unreadable-file"


def test_binary_garbage_named_csv_is_an_ingest_error():
    garbage = bytes(range(256)) * 20
    with pytest.raises(IngestError, match=r"'photo\.csv' is not a readable table"):
        read_file(garbage, "photo.csv")


def test_misnamed_files_are_read_by_content():
    xlsx = (FILES / "several_tables_in_one_workbook.xlsx").read_bytes()
    assert [t.sheet for t in read_file(xlsx, "export.csv")] == ["events", "feedback", "orders"]
    t = read_file(b"a;b\n1;2\n", "export.xlsx")[0]
    assert (t.delimiter, t.frame.rows()) == (";", [(2, "1", "2")])
    parquet = (FILES / "events.parquet").read_bytes()
    assert read_file(parquet, "events.csv")[0].frame.height == 3


def test_html_saved_as_xls_gets_a_plain_message():
    with pytest.raises(IngestError, match="web page"):
        read_file(b"<html><body><table><tr><td>a</td></tr></table></body></html>", "x.xls")


def test_upload_too_large_names_sizes_in_mb():
    with pytest.raises(UploadTooLarge, match=r"'big\.csv' is 3\.0 MB; the upload limit is 2\.0 MB"):
        read_file(b"a\n" * (3 * 1024 * 512), "big.csv", max_bytes=2 * limits.MB)


def test_upload_limit_from_environment(monkeypatch):
    monkeypatch.setenv("CJM_MAX_UPLOAD_MB", "7")
    try:
        assert importlib.reload(limits).MAX_UPLOAD_BYTES == 7 * limits.MB
        monkeypatch.setenv("CJM_MAX_UPLOAD_MB", "not a number")
        assert importlib.reload(limits).MAX_UPLOAD_MB == 200
    finally:
        monkeypatch.delenv("CJM_MAX_UPLOAD_MB")
        importlib.reload(limits)


def test_utf16_without_bom_and_cp1252_undefined_bytes():
    t = read_file("id\tname\n1\tJürgen\n".encode("utf-16-le"), "x.txt")[0]
    assert (t.encoding, t.delimiter, t.frame.rows()) == ("utf-16-le", "\t", [(2, "1", "Jürgen")])
    t = read_file("id;name\n1;Jörg\x81\n".encode("latin-1"), "x.csv")[0]
    assert t.encoding == "cp1252"
    assert [(p.code, p.severity) for p in t.problems] == [("encoding-replaced", "warning")]
    assert t.frame["name"].to_list() == ["Jörg\ufffd"]


def test_title_rows_above_a_csv_header_are_skipped():
    t = read_file(b"Export Q3;;\n;;\nid;stage;channel\n1;Kauf;web\n", "x.csv")[0]
    assert (t.header_row, t.columns, t.frame.rows()) == (3, ["id", "stage", "channel"],
                                                         [(4, "1", "Kauf", "web")])
    t = read_file(b"Sales export Q3 2025\n\nid,stage\n1,Kauf\n2,Web\n", "y.csv")[0]
    assert (t.header_row, t.frame[ROW].to_list(), codes(t)) == (3, [4, 5], [("skipped-row", 1)])
    assert t.problems[0].value == "Sales export Q3 2025"


def test_multiline_cell_and_short_row_point_at_the_right_line():
    data = b'id,comment,stage\n1,"two\nlines",a\n2,short\n3,x,b\n'
    t = read_file(data, "x.csv")[0]
    assert t.frame[ROW].to_list() == [2, 4, 5]
    assert codes(t) == [("missing-cell", 4)]


def _xlsx(rows: list[list[object]]) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("S")
    for i, row in enumerate(rows):
        ws.write_row(i, 0, row)
    wb.close()
    return buf.getvalue()


def _replace_part(data: bytes, part: str, content) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            if info.filename != part:
                dst.writestr(info, src.read(info))
        with dst.open(part, "w") as fh:
            if isinstance(content, bytes):
                fh.write(content)
            else:
                for chunk in content:
                    fh.write(chunk)
    return out.getvalue()


def _bomb_sheet(mb: int):
    """A huge, extremely compressible sheet1.xml, written in chunks so the test stays light."""
    yield b'<?xml version="1.0"?><worksheet xmlns="x"><sheetData>'
    row = b'<row><c t="inlineStr"><is><t>a</t></is></c></row>' * 20_000
    for _ in range(mb * limits.MB // len(row) + 1):
        yield row
    yield b"</sheetData></worksheet>"


def test_zip_bomb_refused_before_decompression(monkeypatch):
    data = _replace_part(
        _xlsx([["a"], ["b"]]),
        "xl/worksheets/sheet1.xml",
        _bomb_sheet(60),
    )
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/worksheets/sheet1.xml")
    assert info.file_size > 60 * limits.MB and len(data) < 2 * limits.MB

    read_bytes = []
    real_read = zipfile.ZipExtFile.read

    def counting_read(self, n=-1):
        out = real_read(self, n)
        read_bytes.append(len(out))
        return out

    def no_calamine(_data):
        raise AssertionError("the workbook was handed to calamine")

    import fastexcel

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting_read)
    monkeypatch.setattr(fastexcel, "read_excel", no_calamine)
    with pytest.raises(UnsafeWorkbook, match=r"compressed [\d,]+:1 \(limit 100:1.*zip bomb"):
        read_file(data, "bomb.xlsx")
    with pytest.raises(UnsafeWorkbook):
        list_sheets(data, "bomb.xlsx")
    assert sum(read_bytes) < limits.MB


def test_declared_sheet_dimension_too_large():
    sheet = (
        b'<?xml version="1.0"?><worksheet xmlns="x"><dimension ref="A1:XFD1048576"/>'
        b"<sheetData/></worksheet>"
    )
    data = _replace_part(_xlsx([["a"]]), "xl/worksheets/sheet1.xml", sheet)
    with pytest.raises(UnsafeWorkbook, match=r"declares 17,179,869,184 cells"):
        read_file(data, "huge.xlsx")


def test_entry_count_and_total_size_limits():
    data = _xlsx([["id", "stage"], ["1", "a"]])
    check_workbook_safety(data, "ok.xlsx")  # the real limits pass a normal workbook
    with pytest.raises(UnsafeWorkbook, match="parts"):
        check_workbook_safety(data, "x.xlsx", max_entries=3)
    with pytest.raises(UnsafeWorkbook, match="would unpack to"):
        check_workbook_safety(data, "x.xlsx", max_uncompressed=1000)


def test_excel_cells_come_out_as_plain_text():
    import datetime as dt

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("S")
    ws.write_row(0, 0, ["when", "time", "int", "float", "text"])
    day = wb.add_format({"num_format": "dd.mm.yy"})
    ws.write_datetime(1, 0, dt.datetime(2025, 3, 4, 13, 5), day)
    clock = wb.add_format({"num_format": "hh:mm"})
    ws.write_datetime(1, 1, dt.datetime(1899, 12, 31, 13, 5), clock)
    ws.write_row(1, 2, [12345678901, 1e-7, "  spaced  "])
    ws.write_row(2, 2, [4.0, 2.5, "   "])
    wb.close()
    t = read_file(buf.getvalue(), "t.xlsx")[0]
    assert t.frame.rows() == [
        (2, "2025-03-04 13:05:00", "13:05:00", "12345678901", "0.0000001", "spaced"),
        (3, None, None, "4", "2.5", None),
    ]


_cell = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]),
                max_size=8)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(_cell, min_size=3, max_size=3), min_size=0, max_size=12))
def test_csv_round_trip_and_rows_in_equals_rows_out_plus_blank(rows):
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["id", "stage", "channel"])
    writer.writerows(rows)
    t = read_file(buf.getvalue().encode("utf-8"), "p.csv")[0]
    assert t.columns == ["id", "stage", "channel"]
    expected = [tuple(c.strip() or None for c in r) for r in rows]
    kept = [r for r in expected if any(v is not None for v in r)]
    assert [r[1:] for r in t.frame.rows()] == kept
    blank = [p for p in t.problems if p.code == "blank-row"]
    assert t.frame.height + len(blank) == len(rows)
    assert not [p for p in t.problems if p.severity == "error"]
    assert t.frame[ROW].is_sorted() and t.frame[ROW].n_unique() == t.frame.height


def test_utf8_is_told_apart_from_cp1252_across_the_chunked_check(monkeypatch):
    """A multi-byte character split across the check's chunks is still UTF-8; a stray byte is
    not, with or without a BOM."""
    from cjm_core.ingest import read as readers

    monkeypatch.setattr(readers, "_UTF8_CHUNK", 4)
    text = "id;name\n1;Jürgen €\n2;Zoë\n"
    t = read_file(text.encode("utf-8"), "x.csv")[0]
    assert (t.encoding, t.problems, t.frame["name"].to_list()) == (
        "utf-8", [], ["Jürgen €", "Zoë"])
    t = read_file(b"\xef\xbb\xbf" + text.encode("utf-8"), "x.csv")[0]
    assert (t.encoding, t.problems, t.columns) == ("utf-8-sig", [], ["id", "name"])
    t = read_file(b"\xef\xbb\xbfid;name\n1;J\xfcrgen\n", "x.csv")[0]
    assert t.encoding == "utf-8-sig"
    assert [p.code for p in t.problems] == ["encoding-replaced"]
    assert t.frame["name"].to_list() == ["J\ufffdrgen"]
    t = read_file(b"id;name\n1;J\xc3\n", "x.csv")[0]  # a cut-off two-byte character
    assert t.encoding == "cp1252"


def test_a_large_csv_keeps_its_row_order_and_numbers():
    """Big enough for the streaming reader to work in several batches: rows stay in file order
    with their line numbers, cells are stripped and blanked."""
    n = 300_000
    body = "".join(f"{i}, s{i % 7} ,{'x' if i % 5 else ' '}\n" for i in range(n))
    t = read_file(("id,stage,note\n" + body).encode(), "big.csv")[0]
    assert t.frame.get_column("id").n_chunks() > 1  # else this test would prove nothing
    assert t.frame[ROW].to_list() == list(range(2, n + 2))
    assert t.frame["id"].cast(pl.Int64).to_list() == list(range(n))
    assert t.frame["stage"][5] == "s5"
    assert t.frame["note"].null_count() == n // 5
    assert t.problems == []


def test_short_rows_among_many_are_counted_from_their_own_lines():
    """Rows with an empty last cell are checked against their physical line: a trailing empty
    cell is fine, a missing one is reported, in batches and when every spare separator byte the
    line reader could use occurs in the file."""
    n = 200_000
    rows = [f"{i},a,{'' if i % 3 else 'x'}" if i % 50_001 else f"{i},a" for i in range(n)]
    t = read_file(("id,stage,note\n" + "\n".join(rows) + "\n").encode(), "big.csv")[0]
    missing = [i + 2 for i in range(n) if not i % 50_001]
    assert codes(t) == [("missing-cell", r) for r in missing]
    assert [p.value for p in t.problems] == [f"{r - 2},a" for r in missing]
    spare = "\x1f\x1e\x1d\x01"
    t = read_file(f"id,stage,note\n1,a{spare},\n2,b\n3,c,\n".encode(), "x.csv")[0]
    assert codes(t) == [("missing-cell", 3)]
    assert t.frame["stage"].to_list() == [f"a{spare}", "b", "c"]


@pytest.mark.parametrize(
    "text",
    [
        'id,stage,note\n1,"a, b",x\n2,b\n3,c,\n',  # short row: its line is read again
        "id,stage,note\n1,a,x\n2,b,c,d\n",  # a long row: the csv module's path
        "id    stage   note\n1     Kauf    x\n2     Web     y\n",  # aligned with spaces
        'id;stage\r1;"a"\r2;b\r',  # classic Mac line ends
    ],
)
def test_a_utf8_bom_never_reaches_a_name_or_cell(text):
    plain = read_file(text.encode(), "x.csv")[0]
    t = read_file(b"\xef\xbb\xbf" + text.encode(), "x.csv")[0]
    assert t.encoding == "utf-8-sig"
    assert t.columns[0] == "id"
    assert (t.frame.rows(), t.problems, t.delimiter) == (
        plain.frame.rows(), plain.problems, plain.delimiter)


# --------------------------------------------------------------------------- whitespace logs

#: a purchase log as CDNOW publishes it: fixed-width fields, ids with leading zeros, a
#: right-aligned quantity and amount; near the top every gap but the first is two spaces wide
CD_LOG_LINES = [
    "   00001 19970101  1  11.77",
    "   00002 19970112  1  12.00",
    "   00002 19970112  5  77.00",
    "   00003 19970102  2  20.76",
    "   00003 19970330  2  20.76",
    "   00004 19970101  2  29.33",
]


@pytest.mark.parametrize(
    "header",
    [
        "customer_id date number_of_cds dollar_value",  # single spaces, as the log's readme
        "customer_id date  number_of_cds  dollar_value",  # aligned over the padded fields
    ],
)
def test_whitespace_log_splits_on_any_run_when_every_line_agrees(header):
    """Splitting on any run of spaces gives four fields on every line, so it wins over the
    two-space split (which read 'customer_id date' as one column and 0 rows loaded)."""
    t = read_file(("\n".join([header, *CD_LOG_LINES]) + "\n").encode(), "CDNOW_master.txt")[0]
    assert t.delimiter == "whitespace"
    assert t.columns == ["customer_id", "date", "number_of_cds", "dollar_value"]
    assert t.frame.rows() == [
        (i + 2, *line.split()) for i, line in enumerate(CD_LOG_LINES)
    ]
    assert t.problems == []


def test_any_run_must_hold_on_every_line_not_only_near_the_top():
    """A value with a single space far down the file makes the any-run split uneven: the old
    two-space reading stays (and the row is read right)."""
    head = ["KUNDE   DATUM      PHASE"] + [f"C{i:03d}    20250304   Kauf" for i in range(80)]
    text = "\n".join([*head, "C999    20250305   In-store demo"]) + "\n"
    t = read_file(text.encode(), "log.txt")[0]
    assert t.columns == ["KUNDE", "DATUM", "PHASE"]
    assert t.frame["PHASE"][-1] == "In-store demo"
    assert t.problems == []


def test_tab_file_with_spaces_in_values_keeps_its_tabs():
    """Splitting on any whitespace gives uneven counts here, so nothing changes: tabs separate,
    single spaces stay inside values, a short row is still reported as short."""
    text = ("Kunde\tDatum\tPhase\n"
            "K1\t01.03.2025\tIn-store demo\n"
            "K2\t02.03.2025\tKauf\n"
            "K3\t03.03.2025\n")
    t = read_file(text.encode(), "export.tsv")[0]
    assert t.delimiter == "\t"
    assert t.frame["Phase"].to_list() == ["In-store demo", "Kauf", None]
    assert codes(t) == [("missing-cell", 4)]


def test_thousands_commas_in_a_padded_log_do_not_make_it_a_csv():
    """A comma in some amounts (not on every line) loses to whitespace that splits every line
    into the same number of fields."""
    text = ("id date amount\n"
            "  1 20250101     12.50\n"
            "  2 20250102  1,011.77\n"
            "  3 20250103  2,300.00\n"
            "  4 20250103  1,099.00\n")
    t = read_file(text.encode(), "log.txt")[0]
    assert t.delimiter == "whitespace"
    assert t.frame["amount"].to_list() == ["12.50", "1,011.77", "2,300.00", "1,099.00"]


def test_a_csv_with_spaces_after_commas_and_a_trailing_comma_stays_a_csv():
    """Whitespace splits every line into two fields here too, but the header holds the comma:
    a delimiter that separates the header's labels is the file's delimiter."""
    t = read_file(b"id, stage\n1, Kauf\n2, Web,\n", "x.csv")[0]
    assert t.delimiter == ","
    assert t.frame.rows() == [(2, "1", "Kauf"), (3, "2", "Web")]


_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
                min_size=1, max_size=9)


@settings(max_examples=80, deadline=None)
@given(
    width=st.integers(min_value=2, max_value=6),
    data=st.data(),
)
def test_padded_whitespace_tables_parse_back_to_their_cells(width, data):
    """Random tables written with random padding (leading, between and trailing spaces, the
    header's too) read back to exactly the cells written: the brute-force reference is
    the cells themselves. Each gap has a least width, as in a fixed-width export (one space
    after the id, two or more elsewhere, is what a two-space split got wrong)."""
    names = [f"col{j}" for j in range(width)]
    rows = data.draw(st.lists(st.lists(_word, min_size=width, max_size=width), min_size=1,
                              max_size=15))
    least = data.draw(st.lists(st.integers(min_value=1, max_value=3), min_size=width - 1,
                               max_size=width - 1))
    extra = st.integers(min_value=0, max_value=3)
    lines = []
    for row in [names, *rows]:
        lead = " " * data.draw(st.integers(min_value=0, max_value=4))
        gaps = [" " * (w + data.draw(extra)) for w in least]
        tail = " " * data.draw(st.integers(min_value=0, max_value=3))
        lines.append(lead + "".join(c + g for c, g in zip(row, [*gaps, ""], strict=True)) + tail)
    end = data.draw(st.sampled_from(["\n", "\r\n"]))
    t = read_file((end.join(lines) + end).encode(), "aligned.txt")[0]
    assert t.delimiter == "whitespace"
    assert t.columns == names
    assert [r[1:] for r in t.frame.rows()] == [tuple(r) for r in rows]
    assert t.frame[ROW].to_list() == list(range(2, len(rows) + 2))
    assert t.problems == []
