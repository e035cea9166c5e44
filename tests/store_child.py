"""Child process for tests/test_store.py: holds the store open, or saves in a loop until killed.

Usage:
    python tests/store_child.py hold <db>               open read-write, print READY, wait for stdin
    python tests/store_child.py crash <db> <rows> <i0>  save workspace crash-<i>, i = i0, i0+1, ...
                                                        printing "BEGIN i" before and "ACK i" after
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import polars as pl

from cjm_core.model.journey import default_journey
from cjm_core.storage.store import Store


def crash_frames(i: int, rows: int) -> dict[str, pl.DataFrame]:
    """The tables of save ``i``: a big events table and a small funnel_counts, whose checksums
    the parent recomputes."""
    k = pl.int_range(rows, eager=True, dtype=pl.Int64)
    events = pl.DataFrame({"save": pl.repeat(i, rows, eager=True, dtype=pl.Int64), "k": k})
    events = events.with_columns(
        value=pl.col("k") * 7 + i,
        label=pl.lit(f"save {i} row ") + pl.col("k").cast(pl.String),
    )
    funnel = pl.DataFrame({"stage": ["visit", "buy"], "customers": [rows, i]})
    return {"events": events, "funnel_counts": funnel}


def hold(db: str) -> None:
    store = Store(db)
    print("READY", flush=True)
    sys.stdin.readline()
    store.close()


def crash(db: str, rows: int, first: int) -> None:
    store = Store(db)
    i = first
    while True:
        ws = store.create_workspace(
            f"Crash {i}", default_journey("4742"), workspace_id=f"crash-{i}"
        )
        frames = crash_frames(i, rows)
        print(f"BEGIN {i}", flush=True)
        if i % 2:
            store.save_tables(
                ws, frames, sources={"events": f"events-{i}.csv"},
                uploads={"events": {"rows_in": rows + 1, "rows_rejected": 1}},
            )
        else:
            store.save_table(ws, "events", frames["events"], source=f"events-{i}.csv",
                             rows_in=rows + 1, rows_rejected=1)
            store.save_table(ws, "funnel_counts", frames["funnel_counts"])
        print(f"ACK {i}", flush=True)
        i += 1


if __name__ == "__main__":
    if sys.argv[1] == "hold":
        hold(sys.argv[2])
    else:
        crash(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
