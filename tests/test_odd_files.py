"""Small files and odd shapes (issue 11 §5): NUL bytes from old point-of-sale systems, a CSV
saved under a workbook's name, lines above the header: each loads and says what was done."""

from __future__ import annotations

import pytest

from cjm_core.errors import IngestError
from cjm_core.ingest.pipeline import ingest
from cjm_core.ingest.read import ROW, read_file


def test_a_few_nul_bytes_load_with_each_cell_reported():
    data = (b"customer_id,timestamp,stage\n"
            b"c1,2025-01-01 10:00,Disc\x00overy\n"
            b"c2\x00\x00,2025-01-02 11:00,Purchase\n"
            b"c3,2025-01-03 12:00,Purchase\n")
    t = read_file(data, "pos_export.csv")[0]
    assert t.frame.drop(ROW).rows() == [("c1", "2025-01-01 10:00", "Discovery"),
                                       ("c2", "2025-01-02 11:00", "Purchase"),
                                       ("c3", "2025-01-03 12:00", "Purchase")]
    cells = sorted((p.row, p.column, p.value) for p in t.problems
                   if p.code == "nul-byte" and p.row)
    assert cells == [(2, "stage", "Disc\\x00overy"), (3, "customer_id", "c2\\x00\\x00")]
    load = ingest(data, "pos_export.csv")[0]
    assert load.result.rows_loaded == 3  # the cells load, cleaned
    assert sorted(load.result.data["stage"].to_list()) == ["Discovery", "Purchase", "Purchase"]


def test_a_nul_in_a_header_is_removed_and_noted():
    t = read_file(b"id,sta\x00ge\n1,a\n", "x.csv")[0]
    assert t.columns == ["id", "stage"]
    assert [(p.row, p.column) for p in t.problems if p.code == "nul-byte" and p.row] == [
        (1, "stage")]


def test_many_nul_bytes_are_still_binary():
    with pytest.raises(IngestError, match="binary data"):
        read_file(b"id,stage\n" + b"1,\x00\x00\x00\x00\n" * 200, "x.csv")


def test_a_csv_named_xlsx_is_read_as_text_with_a_note():
    t = read_file(b"customer_id,timestamp,stage\nc1,2025-01-01,Kauf\n", "Umsatz.xlsx")[0]
    assert t.frame.height == 1 and t.delimiter == ","
    assert t.problems[0].code == "read-as-text" and "Umsatz.xlsx" in t.problems[0].message


def test_lines_above_the_header_are_named_not_dropped_silently():
    data = (b"Kassenexport Filiale 12\nErstellt am 03.12.2026\n"
            b"kunde;datum;phase\nK1;01.02.2025;Kauf\n")
    t = read_file(data, "kasse.csv")[0]
    assert t.header_row == 3 and t.columns == ["kunde", "datum", "phase"]
    skipped = [(p.row, p.value) for p in t.problems if p.code == "skipped-row"]
    assert skipped == [(1, "Kassenexport Filiale 12"), (2, "Erstellt am 03.12.2026")]


def test_many_problems_keep_exact_counts_but_list_the_first_thousand():
    rows = "".join(f"c{i},not a date {i},Kauf\n" for i in range(5000))
    data = ("customer_id,timestamp,stage\n" + rows).encode()
    r = ingest(data, "broken.csv")[0].result
    assert (r.problem_count, len(r.problems)) == (5000, 1000)
    assert r.listed_note() == "First 1,000 problems shown of 5,000."
    assert r.rows_in == r.rows_loaded + r.rows_rejected == 5000


def test_inspect_says_how_many_it_lists(tmp_path, capsys):
    from cjm_core.cli import main

    path = tmp_path / "broken.csv"
    path.write_text("customer_id,timestamp,stage\n"
                    + "".join(f"c{i},kein Datum,Kauf\n" for i in range(1500)))
    assert main(["inspect", str(path)]) == 0
    assert "… 1,480 more problems (--json lists 1,000 of them)" in capsys.readouterr().out


def test_more_rows_than_the_limit_are_refused_before_reading(monkeypatch):
    import io

    import polars as pl

    from cjm_core.errors import UploadTooLarge
    from cjm_core.ingest import limits

    monkeypatch.setattr(limits, "MAX_ROWS", 100)
    lines = b"id,stage\n" + b"1,a\n" * 150
    with pytest.raises(UploadTooLarge, match=r"holds 151 rows; at most 100 .*CJM_MAX_ROWS"):
        read_file(lines, "tiny_lines.csv")
    buf = io.BytesIO()
    pl.DataFrame({"id": range(150)}).write_parquet(buf)
    with pytest.raises(UploadTooLarge, match="150 rows"):
        read_file(buf.getvalue(), "big.parquet")
    assert read_file(b"id,stage\n" + b"1,a\n" * 99, "ok.csv")[0].frame.height == 99


def test_a_file_whose_lines_shrink_after_the_head_is_caught_after_the_read(monkeypatch):
    from cjm_core.errors import UploadTooLarge
    from cjm_core.ingest import limits

    monkeypatch.setattr(limits, "MAX_ROWS", 2000)
    # 70 KB of long lines first (the head suggests few rows), then many tiny ones
    data = b"id,note\n" + b"1," + b"x" * 70_000 + b"\n" + b"2,a\n" * 3000
    with pytest.raises(UploadTooLarge, match="3,001 rows"):
        read_file(data, "sneaky.csv")
