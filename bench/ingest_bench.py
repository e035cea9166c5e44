"""Ingest benchmark: upload bytes to loaded tables, against pandas reading the same file.

    .venv/bin/python -m bench.ingest_bench [--rows 1000000] [--xlsx-rows 100000] [--runs 5]

Cases: a 1M-row events CSV (what `make bench` runs) through cjm_core.ingest.pipeline (sniff, read,
suggest
roles, parse dates with the sniffed format, validate) against pandas' pyarrow engine (plain,
and with the timestamp column parsed); a 100k-row XLSX through cjm_core.ingest.pipeline against
pandas'
calamine engine. Prints a markdown table of medians and ratios (ours / reference).
"""

from __future__ import annotations

import argparse
import io

import pandas as pd
import xlsxwriter

from bench.common import events_csv, median_seconds, table
from cjm_core.demo.sample import generate_events
from cjm_core.ingest.pipeline import ingest


def events_xlsx(rows: int) -> bytes:
    frame = generate_events(rows, "4742", seed=2)
    buf = io.BytesIO()
    with xlsxwriter.Workbook(buf) as wb:
        frame.write_excel(workbook=wb, worksheet="events")
    return buf.getvalue()


def check(loads, rows: int) -> None:
    assert len(loads) == 1 and loads[0].result.rows_loaded == rows, (
        [(ld.result.table, ld.result.status, ld.result.rows_loaded) for ld in loads])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--xlsx-rows", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)

    csv = events_csv(args.rows)
    check(ingest(csv, "events.csv"), args.rows)
    ours_csv = median_seconds(lambda: ingest(csv, "events.csv"), args.runs)
    pd_plain = median_seconds(lambda: pd.read_csv(io.BytesIO(csv), engine="pyarrow"), args.runs)
    pd_dates = median_seconds(lambda: pd.read_csv(io.BytesIO(csv), engine="pyarrow",
                                                  parse_dates=["timestamp"]), args.runs)

    xlsx = events_xlsx(args.xlsx_rows)
    check(ingest(xlsx, "events.xlsx"), args.xlsx_rows)
    ours_xlsx = median_seconds(lambda: ingest(xlsx, "events.xlsx"), args.runs)
    pd_xlsx = median_seconds(lambda: pd.read_excel(io.BytesIO(xlsx), engine="calamine"),
                             args.runs)

    mb = len(csv) / 1e6
    print(f"CSV {args.rows:,} rows ({mb:.0f} MB); XLSX {args.xlsx_rows:,} rows "
          f"({len(xlsx) / 1e6:.1f} MB); median of {args.runs} runs after a warm-up\n")
    print(table([
        (f"CSV {args.rows:,} rows → loaded tables", ours_csv,
         "pandas read_csv pyarrow", pd_plain),
        (f"CSV {args.rows:,} rows → loaded tables", ours_csv,
         "pandas read_csv pyarrow + parse_dates", pd_dates),
        (f"XLSX {args.xlsx_rows:,} rows → loaded tables", ours_xlsx,
         "pandas read_excel calamine", pd_xlsx),
    ]))


if __name__ == "__main__":
    main()
