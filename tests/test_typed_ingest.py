"""A Parquet file's typed columns are checked by type, never written out as text and read back
(issue 14): the tables loaded from a Parquet file equal those loaded from the same data written
as CSV — values, rows rejected, cells blanked, problem codes — for clean and broken data."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cjm_core.ingest.pipeline import ingest
from cjm_core.ingest.typed import as_text_expr

T0 = datetime(2025, 3, 1, 9, 0)


def _parquet(frame: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.write_parquet(buf)
    return buf.getvalue()


def _csv(frame: pl.DataFrame) -> bytes:
    return frame.select(as_text_expr(c, dt) for c, dt in frame.schema.items()
                        ).write_csv().encode()


def _both(frame: pl.DataFrame, table: str | None = None):
    a = ingest(_parquet(frame), "x.parquet", table=table)
    b = ingest(_csv(frame), "x.csv", table=table)
    assert len(a) == len(b) == 1
    return a[0], b[0]


def _same(a, b) -> None:
    """Equal loads; row numbers compared from the first data row (the CSV has a header)."""
    ra, rb = a.result, b.result
    ha, hb = a.raw.header_row, b.raw.header_row
    assert (ra.table, ra.roles, ra.status) == (rb.table, rb.roles, rb.status)
    assert (ra.rows_in, ra.rows_loaded, ra.rows_rejected, ra.cells_blanked) == \
        (rb.rows_in, rb.rows_loaded, rb.rows_rejected, rb.cells_blanked)
    assert [(p.code, p.row and p.row - ha, p.column, p.value) for p in ra.problems] == \
        [(p.code, p.row and p.row - hb, p.column, p.value) for p in rb.problems]
    assert ra.data.schema == rb.data.schema
    assert ra.data.equals(rb.data), (ra.data, rb.data)
    row = pl.col("__row__")
    assert ra.rejected.with_columns(row - ha).equals(rb.rejected.with_columns(row - hb))


def test_events_from_parquet_equal_the_same_events_from_csv():
    frame = pl.DataFrame({
        "customer_id": ["C1", "C2", None, "C4", " C5 "],
        "timestamp": [T0, T0 + timedelta(seconds=1.5), T0, None, T0],
        "stage": ["Look", "Buy", "Look", "Buy", ""],
        "revenue": [1.5, None, float("nan"), 3.0, float("inf")],
        "region": ["N", "S", None, "E", "W"],
    })
    a, b = _both(frame, "events")
    _same(a, b)
    assert a.result.rows_rejected == 3  # no customer, no time, no stage
    assert a.result.data["timestamp"].dtype == pl.Datetime("us")


def test_orders_with_dates_whole_numbers_and_booleans():
    frame = pl.DataFrame({
        "customer_id": [1, 2, 3, 4],
        "order_date": [date(2025, 1, 2), date(2025, 1, 3), None, date(2025, 2, 1)],
        "amount": [10, -5, 7, None],
        "items": [1.0, 2.5, 3.0, None],
    })
    a, b = _both(frame, "orders")
    _same(a, b)


def test_a_time_zone_is_read_as_the_wall_time_it_shows():
    frame = pl.DataFrame({"customer_id": ["a", "b"], "stage": ["Look", "Buy"],
                          "timestamp": [datetime(2025, 3, 1, 9, 0, tzinfo=UTC)] * 2}
                         ).with_columns(pl.col("timestamp").dt.convert_time_zone("Europe/Berlin"))
    a, b = _both(frame, "events")
    _same(a, b)
    assert a.result.data["timestamp"].to_list() == [datetime(2025, 3, 1, 10, 0)] * 2


@pytest.mark.parametrize("table", [None, "feedback"])
def test_scores_on_a_scale(table):
    frame = pl.DataFrame({"customer_id": ["a", "b", "c", "d", "e"],
                          "csat": [1, 5, 4, None, 9], "nps": [0.0, 10.0, 11.0, 7.5, None],
                          "comment": ["ok", None, "bad", "", "x"]})
    a, b = _both(frame, table)
    _same(a, b)


values = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True, width=32))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", None]), st.integers(-5, 5),
                          st.sampled_from(["Look", "Buy", None]), values), max_size=12))
def test_any_events_load_alike(rows):
    frame = pl.DataFrame(
        {"customer_id": [r[0] for r in rows],
         "timestamp": [None if r[1] < -4 else T0 + timedelta(seconds=r[1]) for r in rows],
         "stage": [r[2] for r in rows], "revenue": [r[3] for r in rows]},
        schema={"customer_id": pl.String, "timestamp": pl.Datetime("us"), "stage": pl.String,
                "revenue": pl.Float64})
    if frame.height == 0:
        return
    a, b = _both(frame, "events")
    _same(a, b)


edge_text = st.text(alphabet=st.sampled_from(
    ["a", "b", "é", "€", " ", "\t", "\n", "\u00a0", "\u0085", "\u2000", "\u2009", "\u2028",
     "\u202f", "\u205f", "\u3000", "\u1680", "\u00c2", "\u00e1"]), max_size=20)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), edge_text), min_size=1, max_size=30))
def test_the_strip_check_never_calls_a_column_to_strip_clean(values):
    from cjm_core.ingest.text_kernels import may_need_strip

    col = pl.Series("v", values, dtype=pl.String)
    stripped = col.str.strip_chars()
    changes = bool(((stripped != col) | (col.str.len_bytes() == 0)).fill_null(False).any())
    if changes:
        assert may_need_strip(col)
    # long and short values, several chunks
    long = pl.concat([col, pl.Series("v", ["x" * 30 + v if v else v for v in values])],
                     rechunk=False)
    long_changes = changes or bool(
        (long.str.strip_chars() != long).fill_null(False).any())
    if long_changes:
        assert may_need_strip(long)


def test_parquet_text_is_stripped_only_where_needed():
    frame = pl.DataFrame({"customer_id": ["C1", "C2 "], "stage": ["Look", "Buy"],
                          "timestamp": [T0, T0], "channel": ["web", "\u00a0"]})
    a, b = _both(frame, "events")
    _same(a, b)
    assert a.result.data["customer_id"].to_list() == ["C1", "C2"]
    assert a.result.data["channel"].to_list() == ["web", None]


# ------------------------------------------------------------------ only the columns needed


def _events(n: int) -> pl.DataFrame:
    from cjm_core.demo.sample import generate_events

    return generate_events(n, "4742", seed=2, categorical=False)


def test_keep_reads_only_the_needed_columns_with_the_same_rows_and_values():
    frame = _events(3000)
    data = _parquet(frame)
    whole = ingest(data, "e.parquet")[0].result
    part = ingest(data, "e.parquet", keep={"stage"})[0].result
    assert set(part.data.columns) == {"customer_id", "timestamp", "stage"}
    assert part.roles == {r: whole.roles[r] for r in ("customer_id", "timestamp", "stage")}
    assert part.data.equals(whole.data.select(part.data.columns))
    assert (part.rows_in, part.rows_loaded, part.status) == \
        (whole.rows_in, whole.rows_loaded, whole.status)
    by = ingest(data, "e.parquet", keep={"stage", "channel", "region"})[0].result
    assert {"channel", "region"} <= set(by.data.columns)


def test_keep_falls_back_to_the_whole_file_when_the_head_could_mislead(monkeypatch):
    from cjm_core.ingest import pipeline

    frame = _events(3000)
    monkeypatch.setattr(pipeline, "_HEAD_ROWS", 500)  # fewer values than role suggestion reads
    part = ingest(_parquet(frame), "e.parquet", keep={"stage"})[0].result
    assert part.data.columns == ingest(_parquet(frame), "e.parquet")[0].result.data.columns


def test_the_cli_funnel_on_parquet_equals_the_funnel_on_the_same_csv(tmp_path):
    import json

    from cjm_core.cli import main

    frame = _events(5000)
    (tmp_path / "e.parquet").write_bytes(_parquet(frame))
    (tmp_path / "e.csv").write_bytes(_csv(frame))
    steps = "Discovery,Online research,In-store demo,Purchase"
    outs = []
    for name in ("e.parquet", "e.csv"):
        import contextlib
        import io as _io

        buf = _io.StringIO()
        with contextlib.redirect_stdout(buf):
            assert main(["funnel", str(tmp_path / name), "--steps", steps, "--window", "7d",
                         "--by", "channel", "--json"]) == 0
        outs.append(json.loads(buf.getvalue()))
    assert outs[0] == outs[1]


def test_the_compiled_strip_check_path_loads_alike(monkeypatch):
    # large tables check their text columns before stripping; small ones strip at once
    from cjm_core.ingest import read

    monkeypatch.setattr(read, "_CHECK_ROWS", 0)
    frame = pl.DataFrame({"customer_id": ["C1", "C2 ", "C3"], "stage": ["Look", "Buy", ""],
                          "timestamp": [T0, T0, T0], "channel": ["web", "\u00a0", "app"]})
    a, b = _both(frame, "events")
    _same(a, b)
    assert a.result.data["customer_id"].to_list() == ["C1", "C2"]
