"""Write the reader fixtures in this folder, each named after what is odd about it.

Run from the repository root: ``.venv/bin/python tests/files/make_fixtures.py``. The output is
committed; rerun only to change a fixture. Text files are written here too because their exact
bytes (encoding, BOM, line endings) are the point of the test.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from pathlib import Path

import pandas as pd
import polars as pl
import xlsxwriter
import xlwt

HERE = Path(__file__).parent


def write_text() -> None:
    german = (
        "Kunden-Nr;Datum;Phase;Kontaktpunkt;Kanal;Umsatz\r\n"
        "K-1001;13.03.2025 14:05;Kauf;Filiale München;Laden;1.234,50\r\n"
        "K-1002;14.03.2025 09:30;Beratung;Hörprobe im Studio;Laden;\r\n"
        "K-1003;15.03.2025 18:45;Kauf;Webshop;Online;89,90\r\n"
        "K-1004;16.03.2025 11:00;Nachkauf;Kundendienst Düsseldorf;Telefon;0,00\r\n"
    )
    (HERE / "semicolon_cp1252_german_headers.csv").write_bytes(german.encode("cp1252"))
    bom = "customer_id,timestamp,stage\nC1,2025-03-04 13:05,Discovery\nC2,2025-03-05 08:00,Kauf\n"
    (HERE / "utf8_bom_comma.csv").write_bytes(b"\xef\xbb\xbf" + bom.encode("utf-8"))
    tsv = "Kunde\tDatum\tZufriedenheit\tKommentar\r\nC1\t2025-03-04\t5\tSehr gut, schön\r\n"
    tsv += "C2\t2025-03-05\t2\tZu teuer\r\n"
    (HERE / "utf16_tab.tsv").write_bytes(tsv.encode("utf-16"))  # BOM + little endian
    pipe = "order_id|customer_id|order_date|amount\nO1|C1|2025-03-04|19.99\nO2|C2|2025-03-06|5\n"
    (HERE / "pipe_delimited.txt").write_text(pipe, encoding="utf-8", newline="")
    aligned = (
        "KUNDE   DATUM      PHASE            BETRAG\n"
        "C001    20250304   Discovery         12.50\n"
        "C002    20250305   In-store demo     99.00\n"
        "C003    20250306   Purchase         120.00\n"
    )
    (HERE / "whitespace_aligned_yyyymmdd.txt").write_text(aligned, encoding="utf-8", newline="")
    ragged = (
        "id,stage,channel\n"
        "1,Discovery,web\n"
        "2,Purchase\n"
        "3,Support,phone,extra\n"
        "4,Loyalty,email,\n"
        '5,"Delivery, installation",store\n'
    )
    (HERE / "ragged_rows_extra_and_missing_cells.csv").write_text(ragged, newline="")
    dup = "id,,stage,Stage,id\n1,x,a,b,2\n3,,c,d,4\n"
    (HERE / "blank_and_duplicate_headers.csv").write_text(dup, newline="")
    blanks = "id,stage\n1,a\n\n2,b\n,\n   ,  \n3,c\n"
    (HERE / "blank_rows_inside.csv").write_text(blanks, newline="")
    quoted = (
        "id,comment,stage\r\n"
        '1,"Great, fast",Purchase\r\n'
        '2,"Line one\r\nline two",Support\r\n'
        '3,"She said ""wow""",Loyalty\r\n'
        "4,plain,Discovery\r\n"
    )
    (HERE / "quoted_delimiters_and_newlines.csv").write_text(quoted, newline="")
    (HERE / "empty.csv").write_bytes(b"")
    (HERE / "header_only.csv").write_text("customer_id,timestamp,stage\n", newline="")


def _xlsx_bytes(build) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    build(wb)
    wb.close()
    return buf.getvalue()


def _daten_workbook(wb: xlsxwriter.Workbook) -> None:
    info = wb.add_worksheet("Info")
    info.write("A1", "Export aus dem Kassensystem")
    info.write("A2", "Stand: 01.10.2025")
    info.write("A4", "Hinweis: Umsatz in EUR")
    ws = wb.add_worksheet("Daten")
    day = wb.add_format({"num_format": "dd.mm.yyyy"})
    stamp = wb.add_format({"num_format": "dd.mm.yyyy hh:mm"})
    ws.write("A1", "Sales export Q3 2025")
    header = ["Kunden-Nr", "Datum", "Zeitpunkt", "Phase", "Menge", "Umsatz"]
    ws.write_row(2, 0, header)  # row 3 as the user sees it
    rows = [
        ("K-1", dt.datetime(2025, 3, 4), dt.datetime(2025, 3, 4, 13, 5), "Kauf", 3, 1234.5),
        ("K-2", dt.datetime(2025, 3, 5), dt.datetime(2025, 3, 5, 9, 30), "Beratung", 1, 0.1),
        None,  # a blank row 6
        ("K-3", dt.datetime(2025, 3, 6), dt.datetime(2025, 3, 6, 0, 0), "Kauf", 12, 89.0),
    ]
    for i, row in enumerate(rows, start=3):
        if row is None:
            continue
        ws.write(i, 0, row[0])
        ws.write_datetime(i, 1, row[1], day)
        ws.write_datetime(i, 2, row[2], stamp)
        ws.write(i, 3, row[3])
        ws.write_number(i, 4, row[4])
        ws.write_number(i, 5, row[5])


def _several_tables(wb: xlsxwriter.Workbook) -> None:
    tables = {
        "events": [["customer_id", "timestamp", "stage"], ["C1", "2025-03-04 13:05", "Kauf"]],
        "feedback": [["customer_id", "nps", "comment"], ["C1", 9, "gut"], ["C2", 3, None]],
        "orders": [["order_id", "amount"], ["O1", 19.99]],
    }
    for name, rows in tables.items():
        ws = wb.add_worksheet(name)
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                if value is not None:
                    ws.write(i, j, value)
    wb.add_worksheet("Leer")


def write_workbooks() -> None:
    daten = _xlsx_bytes(_daten_workbook)
    (HERE / "workbook_data_sheet_second_with_title_row.xlsx").write_bytes(daten)
    (HERE / "several_tables_in_one_workbook.xlsx").write_bytes(_xlsx_bytes(_several_tables))
    (HERE / "truncated.xlsx").write_bytes(daten[: len(daten) // 2])
    rng = random.Random(4773)
    garbage = bytes(rng.randrange(256) for _ in range(3000))
    (HERE / "not_really_an_xlsx.xlsx").write_bytes(b"\x13\x37" + garbage)

    book = xlwt.Workbook()
    sheet = book.add_sheet("Export")
    date_style = xlwt.easyxf(num_format_str="DD.MM.YYYY")
    for j, label in enumerate(["Kunde", "Datum", "Kanal", "Betrag"]):
        sheet.write(0, j, label)
    for i, (kunde, day, kanal, betrag) in enumerate(
        [
            ("C1", dt.datetime(2025, 3, 4), "Laden", 10.0),
            ("C2", dt.datetime(2025, 3, 5), "Web", 2.5),
        ],
        start=1,
    ):
        sheet.write(i, 0, kunde)
        sheet.write(i, 1, day, date_style)
        sheet.write(i, 2, kanal)
        sheet.write(i, 3, betrag)
    book.save(str(HERE / "legacy_export.xls"))

    frame = pd.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "timestamp": [dt.datetime(2025, 3, 4, 13, 5), dt.datetime(2025, 3, 5, 8, 0)],
            "csat": [5, 4],
        }
    )
    with pd.ExcelWriter(HERE / "libreoffice_export.ods", engine="odf") as writer:
        frame.to_excel(writer, sheet_name="Umfrage", index=False)


def write_columnar() -> None:
    events = pl.DataFrame(
        {
            "customer_id": ["C1", "C2", None],
            "timestamp": [
                dt.datetime(2025, 3, 4, 13, 5),
                dt.datetime(2025, 3, 5, 8, 0, 0, 500000),
                dt.datetime(2025, 3, 6),
            ],
            "day": [dt.date(2025, 3, 4), dt.date(2025, 3, 5), None],
            "revenue": [19.99, None, 3.0],
            "items": [1, 2, 3],
            "first_visit": [True, False, None],
        }
    )
    events.write_parquet(HERE / "events.parquet")
    lines = [
        '{"customer_id": "C1", "timestamp": "2025-03-04T13:05:00", "stage": "Kauf", "n": 1}',
        '{"customer_id": "C2", "timestamp": "2025-03-05T08:00:00", "stage": "Beratung", "n": 2}',
        "",
        '{"customer_id": "C3", "timestamp": "2025-03-06T09:00:00", "stage": "Kauf", "n": null,'
        ' "meta": {"src": "app"}}',
    ]
    (HERE / "events.jsonl").write_text("\n".join(lines) + "\n", newline="")


if __name__ == "__main__":
    write_text()
    write_workbooks()
    write_columnar()
