"""`python -m cjm_core inspect` reads files as the app does (incl. the "done when" files)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cjm_core.cli import main
from tests.conftest import FILES, ROOT


def inspect(*args: str, capsys) -> tuple[int, dict]:
    code = main(["inspect", *args, "--json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("name", "sheet", "roles"),
    [
        ("semicolon_cp1252_german_headers.csv", None,
         {"customer_id": "Kunden-Nr", "timestamp": "Datum", "stage": "Phase",
          "touchpoint": "Kontaktpunkt", "channel": "Kanal", "revenue": "Umsatz"}),
        ("workbook_data_sheet_second_with_title_row.xlsx", "Daten",
         {"customer_id": "Kunden-Nr", "timestamp": "Zeitpunkt", "stage": "Phase"}),
        ("whitespace_aligned_yyyymmdd.txt", None,
         {"customer_id": "KUNDE", "timestamp": "DATUM", "stage": "PHASE"}),
    ],
)
def test_done_when_files_load_with_the_right_table_and_roles(name, sheet, roles, capsys):
    code, out = inspect(str(FILES / name), capsys=capsys)
    assert code == 0
    [entry] = out["tables"]
    assert entry["source"].endswith(name) and entry["sheet"] == sheet
    assert entry["table"] == "events"
    assert roles.items() <= entry["roles"].items()
    assert entry["rows_in"] == entry["rows_loaded"] + entry["rows_rejected"]
    assert entry["rows_loaded"] > 0 and entry["rows_rejected"] == 0


def test_german_export_parses_day_first_dates_and_decimal_commas(capsys):
    _, out = inspect(str(FILES / "semicolon_cp1252_german_headers.csv"), capsys=capsys)
    entry = out["tables"][0]
    assert entry["encoding"] == "cp1252" and entry["delimiter"] == ";"
    assert entry["date_formats"]["Datum"].startswith("%d.%m.%Y")


def test_messy_rows_are_reported_with_code_row_column_and_value(capsys):
    _, out = inspect(str(FILES / "messy_german_export_bad_date_and_number.csv"), capsys=capsys)
    entry = out["tables"][0]
    # the bad date (a required role) rejects its row; the bad revenue (optional) blanks its cell
    assert (entry["rows_in"], entry["rows_loaded"], entry["rows_rejected"]) == (6, 5, 1)
    assert entry["cells_blanked"] == 1
    found = {(p["code"], p["row"], p["column"], p["value"]) for p in entry["problems"]}
    assert ("bad-date", 5, "Datum", "31.02.2025 11:00") in found
    assert ("bad-number", 6, "Umsatz", "zwölf") in found
    assert entry["status"] == "partial"


def test_map_overrides_a_suggested_role(capsys):
    path = str(FILES / "semicolon_cp1252_german_headers.csv")
    _, out = inspect(path, "--map", "touchpoint=", "--map", "segment=Kontaktpunkt",
                     capsys=capsys)
    roles = out["tables"][0]["roles"]
    assert roles["segment"] == "Kontaktpunkt" and "touchpoint" not in roles


def test_ambiguous_dates_ask_and_the_answer_settles_them(tmp_path, capsys):
    path = tmp_path / "ambiguous.csv"
    path.write_text("customer,date,stage\nA,03/04/2025,Purchase\nB,05/06/2025,Purchase\n")
    _, out = inspect(str(path), capsys=capsys)
    entry = out["tables"][0]
    assert entry["status"] == "needs_answer" and entry["rows_loaded"] == 0
    assert [p["code"] for p in entry["problems"]] == ["ambiguous-date-order"]
    _, out = inspect(str(path), "--date-order", "mdy", capsys=capsys)
    assert out["tables"][0]["rows_loaded"] == 2


def test_unreadable_file_is_a_message_not_a_trace(capsys):
    code, out = inspect(str(FILES / "not_really_an_xlsx.xlsx"), capsys=capsys)
    assert code == 2
    assert out["error"]["code"] == "unreadable-file"
    assert "not_really_an_xlsx.xlsx" in out["error"]["message"]


def test_missing_file(capsys):
    code, out = inspect(str(FILES / "no_such_file.csv"), capsys=capsys)
    assert code == 2 and "no_such_file.csv" in out["error"]["message"]


def test_readable_summary_runs_as_a_module():
    done = subprocess.run(
        [sys.executable, "-m", "cjm_core", "inspect",
         str(FILES / "workbook_data_sheet_second_with_title_row.xlsx")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "[Daten]: events — loaded" in done.stdout
    assert "Traceback" not in done.stderr
