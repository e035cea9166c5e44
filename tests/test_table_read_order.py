"""A saved table comes back in its rows' order without asking DuckDB to sort (issue 14): DuckDB
keeps insertion order, and when the stored order column says it did not, the rows are put
back in order."""

from __future__ import annotations

import duckdb
import polars as pl

from cjm_core.model.journey import default_journey
from cjm_core.storage.store import Store


def _events(lo: int, n: int) -> pl.DataFrame:
    return pl.DataFrame({"customer_id": [f"C{i}" for i in range(lo, lo + n)],
                         "stage": ["Look"] * n})


def test_rows_come_back_in_order_after_saves_and_appends(tmp_path):
    db = str(tmp_path / "w.duckdb")
    with Store(db) as store:
        ws = store.create_workspace("w", default_journey("4742"))
        store.save_tables(ws, {"events": _events(0, 5000)})
        store.save_table(ws, "events", _events(5000, 3000), mode="append")
        got = store.load_table(ws, "events")
    assert got.equals(pl.concat([_events(0, 5000), _events(5000, 3000)]))


def test_rows_stored_out_of_order_are_put_back_in_order(tmp_path):
    db = str(tmp_path / "w.duckdb")
    with Store(db) as store:
        ws = store.create_workspace("w", default_journey("4742"))
        store.save_tables(ws, {"events": _events(0, 4000)})
    con = duckdb.connect(db)
    ((physical,),) = con.sql("SELECT physical FROM datasets").fetchall()
    con.sql(f'CREATE OR REPLACE TABLE "{physical}" AS SELECT * FROM "{physical}" '
            "ORDER BY _ord DESC")
    first = con.sql(f'SELECT _ord FROM "{physical}"').pl()["_ord"]
    assert not first.is_sorted()  # stored backwards: the read must sort
    con.close()
    with Store(db) as store:
        assert store.load_table(ws, "events").equals(_events(0, 4000))
