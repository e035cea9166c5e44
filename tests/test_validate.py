"""load_table: typing, rejection with codes, rows in = loaded + rejected, questions for the user."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cjm_core.errors import QueryError
from cjm_core.ingest.problems import CODES, Problem
from cjm_core.ingest.read import RawTable
from cjm_core.ingest.validate import (
    BLANKED_NOTE,
    COMMA,
    POINT,
    LoadResult,
    Question,
    load_table,
    parse_number,
    sniff_decimal,
)
from cjm_core.model.schema import TABLES


def raw_table(columns: dict[str, list[str | None]], *, problems: list[Problem] | None = None,
              delimiter: str | None = None, first_row: int = 2) -> RawTable:
    n = len(next(iter(columns.values()))) if columns else 0
    frame = pl.DataFrame(
        {"__row__": pl.Series(range(first_row, first_row + n), dtype=pl.Int64),
         **{k: pl.Series(v, dtype=pl.String) for k, v in columns.items()}}
    )
    return RawTable(source="test.csv", sheet=None, frame=frame, header_row=first_row - 1,
                    problems=problems or [], delimiter=delimiter)


def only(result: LoadResult, code: str) -> Problem:
    found = [p for p in result.problems if p.code == code]
    assert len(found) == 1, result.problems
    return found[0]


def check_counts(r: LoadResult) -> None:
    assert r.rows_in == r.rows_loaded + r.rows_rejected
    assert r.data.height == r.rows_loaded
    assert r.rejected.height == r.rows_rejected
    assert r.problem_count >= len(r.problems)


EVENTS = {"customer_id": "Kunden-Nr.", "timestamp": "Datum", "stage": "Phase",
          "channel": "Kanal", "revenue": "Umsatz"}


def german_events() -> RawTable:
    return raw_table({
        "Kunden-Nr.": [" K1 ", "K2", "K1"],
        "Datum": ["01.03.2025 10:00", "02.03.2025 11:30", "13.03.2025 09:15"],
        "Phase": ["Suche", "Kauf", "Service"],
        "Kanal": ["web", "filiale", None],
        "Umsatz": ["", "1.234,50 €", "12,5"],
        "Filiale": ["Berlin", "Köln", "Berlin"],
    }, delimiter=";")


def test_german_events_load_typed():
    r = load_table(german_events(), "events", EVENTS)
    check_counts(r)
    assert r.status == "loaded"
    assert r.problems == [] and r.problem_count == 0
    assert r.data.columns == ["customer_id", "timestamp", "stage", "channel", "revenue", "Filiale"]
    assert r.data.schema == pl.Schema({
        "customer_id": pl.String, "timestamp": pl.Datetime("us"), "stage": pl.String,
        "channel": pl.String, "revenue": pl.Float64, "Filiale": pl.String,
    })
    assert r.data["customer_id"].to_list() == ["K1", "K2", "K1"]
    assert r.data["timestamp"][2] == datetime(2025, 3, 13, 9, 15)
    assert r.data["revenue"].to_list() == [None, 1234.5, 12.5]
    assert r.date_formats == {"Datum": "%d.%m.%Y %H:%M"}
    assert r.number_formats == {"Umsatz": COMMA}
    assert r.summary() == "events: 3 of 3 rows loaded, 0 rejected (0 problems) - loaded"


def test_unmapped_column_named_like_a_role_is_kept_apart():
    raw = raw_table({"K": ["1"], "D": ["2025-01-01"], "P": ["a"], "stage": ["x"]})
    r = load_table(raw, "events", {"customer_id": "K", "timestamp": "D", "stage": "P"})
    assert r.data.columns == ["customer_id", "timestamp", "stage", "stage (unmapped)"]


# --- problem codes: row, column, value, message ---------------------------------------------


def test_missing_value_and_bad_date():
    raw = raw_table({"Kunde": ["K1", "", "K3", "K4"],
                     "Datum": ["01.03.2025 10:00", "02.03.2025 10:00", "31.02.2025 10:00", "x"],
                     "Phase": ["a", "b", "c", "d"]}, first_row=13)
    r = load_table(raw, "events", {"customer_id": "Kunde", "timestamp": "Datum", "stage": "Phase"})
    check_counts(r)
    assert r.status == "partial"
    missing = only(r, "missing-value")
    assert (missing.row, missing.column, missing.value) == (14, "Kunde", "")
    assert missing.message == (
        "Row 14, column 'Kunde': a value for customer_id is required but the cell is empty")
    bad = [p for p in r.problems if p.code == "bad-date"]
    assert [(p.row, p.column, p.value) for p in bad] == [(15, "Datum", "31.02.2025 10:00"),
                                                         (16, "Datum", "x")]
    assert bad[0].message == (
        "Row 15, column 'Datum': '31.02.2025 10:00' is not a date in the format dd.mm.yyyy hh:mm")
    assert r.rejected.columns == ["__row__", "Kunde", "Datum", "Phase", "problems"]
    assert r.rejected.rows() == [
        (14, "", "02.03.2025 10:00", "b", "missing-value"),
        (15, "K3", "31.02.2025 10:00", "c", "bad-date"),
        (16, "K4", "x", "d", "bad-date"),
    ]


def test_bad_number_out_of_range_bad_boolean_negative_duration():
    raw = raw_table({
        "Ticket": ["T1", "T2", "T3", "T4", "T5"],
        "Eröffnet": ["2025-03-01 10:00", "2025-03-01 10:00", "2025-03-01 10:00",
                     "2025-03-02 10:00", "2025-03-01 10:00"],
        "Gelöst": ["2025-03-01 12:00", "2025-03-01 12:00", "2025-03-01 12:00",
                   "2025-03-01 10:00", ""],
        "Kontakte": ["1", "zwei", "-1", "2", "1"],
        "FCR": ["ja", "nein", "ja", "ja", "vielleicht"],
    })
    r = load_table(raw, "support", {"ticket_id": "Ticket", "opened_at": "Eröffnet",
                                    "resolved_at": "Gelöst", "contacts": "Kontakte",
                                    "first_contact_resolved": "FCR"})
    check_counts(r)
    # every bad value is in an optional role: its cell is blanked, every row loads (issue 10)
    assert (r.rows_loaded, r.rows_rejected, r.cells_blanked) == (5, 0, 4)
    assert r.status == "partial"
    got = [(p.code, p.row, p.column, p.value) for p in r.problems]
    assert got == [
        ("bad-number", 3, "Kontakte", "zwei"),
        ("out-of-range", 4, "Kontakte", "-1"),
        ("negative-duration", 5, "Gelöst", "2025-03-01 10:00"),
        ("bad-boolean", 6, "FCR", "vielleicht"),
    ]
    assert r.problems[1].message == ("Row 4, column 'Kontakte': '-1' is below 0 for contacts"
                                     + BLANKED_NOTE)
    assert r.problems[2].message == (
        "Row 5, column 'Gelöst': '2025-03-01 10:00' lies before the opening time in column "
        "'Eröffnet'" + BLANKED_NOTE)
    assert {p.severity for p in r.problems} == {"warning"}
    assert r.data.schema["contacts"] == pl.Int64
    assert r.data.schema["first_contact_resolved"] == pl.Boolean
    assert r.data["contacts"].to_list() == [1, None, None, 2, 1]
    assert r.data["resolved_at"].null_count() == 2  # the negative duration and the empty cell
    assert r.data["first_contact_resolved"].to_list() == [True, False, True, True, None]


def test_integer_role_refuses_fractions():
    raw = raw_table({"Phase": ["a", "b"], "Kunden": ["12", "2,5"]}, delimiter=";")
    r = load_table(raw, "funnel_counts", {"stage": "Phase", "customers": "Kunden"})
    p = only(r, "bad-number")
    assert (p.row, p.value) == (3, "2,5")
    assert p.message == "Row 3, column 'Kunden': '2,5' is not a whole number"
    assert r.data["customers"].to_list() == [12]


@pytest.mark.parametrize(
    ("values", "scale", "rejected"),
    [
        (["1", "5", "3"], 5, []),
        (["1", "6", "7"], 7, []),
        (["1", "9", "10"], 10, []),
        (["1", "5", "11", "0"], 5, ["11", "0"]),
    ],
)
def test_csat_scale_detected_per_column(values, scale, rejected):
    r = load_table(raw_table({"CSAT": values}), "feedback", {"csat": "CSAT"})
    assert r.scales == {"csat": scale}
    assert [p.value for p in r.problems if p.code == "out-of-range"] == rejected
    check_counts(r)


def test_nps_and_ces_ranges():
    raw = raw_table({"NPS": ["0", "10", "11", "5"], "CES": ["1", "7", "3", "8"]})
    r = load_table(raw, "feedback", {"nps": "NPS", "ces": "CES"})
    assert r.scales == {"nps": 10, "ces": 7}
    assert [(p.row, p.column, p.value) for p in r.problems] == [(4, "NPS", "11"), (5, "CES", "8")]
    # each of those rows keeps its other, valid score (issue 10): the message says so
    assert r.problems[1].message == ("Row 5, column 'CES': '8' is outside 1–7 for ces"
                                     + BLANKED_NOTE)
    assert (r.rows_loaded, r.cells_blanked) == (4, 2)


def test_reader_errors_reject_their_row_and_keep_their_code():
    reader = [
        Problem("blank-label", "Column 3 has no header; it was named 'column_3'.",
                severity="warning"),
        Problem("extra-cell", "Row 3 has 4 cells, the header 3.", row=3),
    ]
    raw = raw_table({"K": ["1", "2", "3"], "D": ["2025-01-01"] * 3, "P": ["a", "b", "c"]},
                    problems=reader)
    r = load_table(raw, "events", {"customer_id": "K", "timestamp": "D", "stage": "P"})
    check_counts(r)
    assert r.problems == reader  # table-level first, then rows in order
    assert r.rejected["problems"].to_list() == ["extra-cell"]
    assert r.rejected["__row__"].to_list() == [3]
    assert r.status == "partial"


def test_several_problems_in_one_row_are_all_listed_and_joined():
    raw = raw_table({"K": [""], "D": ["nope"], "P": ["a"]})
    r = load_table(raw, "events", {"customer_id": "K", "timestamp": "D", "stage": "P"})
    assert [p.code for p in r.problems] == ["missing-value", "bad-date"]
    assert r.rejected["problems"].to_list() == ["missing-value, bad-date"]
    assert r.status == "failed"


def test_optional_role_bad_value_blanks_the_cell_and_keeps_the_row():
    raw = raw_table({"K": ["1", "2"], "D": ["2025-01-01", "2025-01-02"], "P": ["a", "b"],
                     "U": ["12.50", "abc"]})
    r = load_table(raw, "events", {"customer_id": "K", "timestamp": "D", "stage": "P",
                                   "revenue": "U"})
    check_counts(r)
    assert (r.rows_loaded, r.rows_rejected, r.cells_blanked) == (2, 0, 1)
    assert r.data["revenue"].to_list() == [12.5, None]
    p = only(r, "bad-number")
    assert (p.row, p.column, p.value, p.severity) == (3, "U", "abc", "warning")
    assert r.blanked_codes == {"bad-number": 1}
    assert r.status == "partial"
    assert r.summary() == ("events: 2 of 2 rows loaded, 0 rejected, 1 cell blanked "
                           "(1 problem) - partial")


# --- table-level failures ---------------------------------------------------------------------


def test_unknown_column_fails_and_rejects_everything():
    raw = raw_table({"K": ["1", "2"], "D": ["2025-01-01", "2025-01-02"], "P": ["a", "b"]})
    r = load_table(raw, "events", {"customer_id": "K", "timestamp": "D", "stage": "Stufe"})
    check_counts(r)
    assert r.status == "failed"
    assert (r.rows_loaded, r.rows_rejected) == (0, 2)
    p = only(r, "unknown-column")
    assert p.column == "Stufe" and p.row is None
    assert "'Stufe'" in p.message
    assert r.rejected["problems"].to_list() == ["unknown-column"] * 2


def test_missing_required_role_fails():
    raw = raw_table({"K": ["1"], "D": ["2025-01-01"]})
    r = load_table(raw, "events", {"customer_id": "K", "timestamp": "D"})
    assert r.status == "failed"
    p = only(r, "missing-role")
    assert p.value == "stage"
    assert r.data.height == 0 and r.rows_rejected == 1


def test_feedback_needs_one_score():
    raw = raw_table({"Kommentar": ["gut"]})
    r = load_table(raw, "feedback", {"comment": "Kommentar"})
    assert r.status == "failed"
    assert "csat, nps or ces" in only(r, "missing-role").message


def test_unknown_table_or_role_is_a_named_error():
    # the command line's --table / --map reach here: a message naming what exists, not a trace
    raw = raw_table({"K": ["1"]})
    with pytest.raises(QueryError, match="Unknown table 'nope'; choose one of events") as e:
        load_table(raw, "nope", {})
    assert e.value.code == "unknown-table"
    with pytest.raises(QueryError, match="The events table has no role 'amount'; its roles are "
                                         "customer_id, timestamp, stage") as e:
        load_table(raw, "events", {"amount": "K"})
    assert e.value.code == "unknown-role"


# --- date order ------------------------------------------------------------------------------


def ambiguous_orders() -> RawTable:
    return raw_table({"Kunde": ["1", "2", "3"], "Datum": ["03/04/2025", "05/06/2025", "01/02/2025"],
                      "Betrag": ["1", "2", "3"]})


ORDERS = {"customer_id": "Kunde", "order_date": "Datum", "amount": "Betrag"}


def test_ambiguous_date_order_needs_an_answer():
    r = load_table(ambiguous_orders(), "orders", ORDERS)
    check_counts(r)
    assert r.status == "needs_answer"
    assert (r.rows_loaded, r.rows_rejected) == (0, 3)
    assert [p.code for p in r.problems] == ["ambiguous-date-order"]  # one, not one per row
    assert r.problem_count == 1
    (q,) = r.questions
    assert (q.code, q.column, q.options) == ("ambiguous-date-order", "Datum", ["dmy", "mdy"])
    assert "03/04/2025" in q.examples
    assert "Datum" in q.message
    assert q.to_dict()["options"] == ["dmy", "mdy"]
    assert r.summary().startswith("orders: 3 rows waiting for an answer")


@pytest.mark.parametrize(("order", "month"), [("dmy", 4), ("mdy", 3)])
def test_ambiguous_date_order_loads_once_answered(order, month):
    r = load_table(ambiguous_orders(), "orders", ORDERS, date_order=order)
    check_counts(r)
    assert r.status == "loaded"
    assert r.data["order_date"][0].month == month
    assert r.questions == []


def test_date_order_settled_by_a_day_above_twelve():
    raw = raw_table({"Kunde": ["1", "2"], "Datum": ["03/04/2025", "25/06/2025"],
                     "Betrag": ["1", "2"]})
    r = load_table(raw, "orders", ORDERS)
    assert r.status == "loaded"
    assert r.date_formats == {"Datum": "%d/%m/%Y"}
    assert r.data["order_date"].to_list() == [datetime(2025, 4, 3), datetime(2025, 6, 25)]


def test_yyyymmdd_dates():
    raw = raw_table({"Kunde": ["1", "2"], "Datum": ["20250301", "20251301"],
                     "Betrag": ["1", "2"]})
    r = load_table(raw, "orders", ORDERS)
    assert r.date_formats == {"Datum": "%Y%m%d"}
    assert only(r, "bad-date").value == "20251301"


# --- numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "delimiter", "style"),
    [
        (["1.234,50", "12"], None, COMMA),
        (["12,5", "3"], None, COMMA),
        (["-3,00"], None, COMMA),
        (["1,234.50"], None, POINT),
        (["12.5"], None, POINT),
        (["1,234"], None, POINT),
        (["1,234"], ";", COMMA),
        (["1,234", "7,5"], None, COMMA),
        (["1.234", "7.5"], ";", POINT),
        (["1'234.50"], None, POINT),
        (["12"], None, POINT),
    ],
)
def test_sniff_decimal(values, delimiter, style):
    assert sniff_decimal(pl.Series(values), delimiter) == style


@pytest.mark.parametrize(
    ("text", "style", "number"),
    [
        ("1.234,50", COMMA, 1234.5),
        ("1.234.567,8", COMMA, 1234567.8),
        ("-3,00", COMMA, -3.0),
        ("12,50 €", COMMA, 12.5),
        ("EUR 12,50", COMMA, 12.5),
        ("1\u00a0234,50", COMMA, 1234.5),
        ("12,50-", COMMA, -12.5),
        ("12,5 %", COMMA, 12.5),
        ("1,234.50", POINT, 1234.5),
        ("$1,234", POINT, 1234.0),
        ("£ 3.5", POINT, 3.5),
        ("CHF 1'234.50", POINT, 1234.5),
        ("1e3", POINT, 1000.0),
        ("12.5", COMMA, None),  # a point in a decimal-comma column is not silently 125
        ("1,2,3", POINT, None),
        ("abc", POINT, None),
        ("inf", POINT, None),
        ("", POINT, None),
    ],
)
def test_parse_number(text, style, number):
    assert parse_number(pl.Series([text]), style).to_list() == [number]


def test_number_column_with_decimal_comma_loads():
    raw = raw_table({"Kunde": ["1", "2", "3"], "Datum": ["2025-01-01"] * 3,
                     "Betrag": ["1.234,50", "99,90", "7"]})
    r = load_table(raw, "orders", ORDERS)
    assert r.number_formats == {"Betrag": COMMA}
    assert r.data["amount"].to_list() == [1234.5, 99.9, 7.0]


# --- listing -----------------------------------------------------------------------------------


def test_max_listed_caps_the_list_but_not_the_count():
    n = 50
    raw = raw_table({"K": [str(i) for i in range(n)], "D": ["bad"] * (n - 1) + ["2025-01-01"],
                     "P": ["a"] * n})
    r = load_table(raw, "events", {"customer_id": "K", "timestamp": "D", "stage": "P"},
                   max_listed=10)
    assert len(r.problems) == 10
    assert r.problem_count == n - 1
    assert [p.row for p in r.problems] == list(range(2, 12))
    assert r.rows_rejected == n - 1


def test_empty_table_loads_nothing_and_is_not_shown_as_success():
    # a header-only export: "Loaded: every row is valid, 0 of 0" would read as success
    raw = raw_table({"K": [], "D": [], "P": []})
    r = load_table(raw, "events", {"customer_id": "K", "timestamp": "D", "stage": "P"})
    check_counts(r)
    assert r.rows_in == 0 and r.rows_loaded == 0 and r.status == "failed"


def test_problem_codes_used_are_in_the_catalogue():
    for code in ("missing-value", "bad-date", "bad-number", "bad-boolean", "out-of-range",
                 "negative-duration", "unknown-column", "missing-role", "ambiguous-date-order"):
        assert code in CODES


# --- property: rows in = rows loaded + rows rejected --------------------------------------------

MESSY = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "0", "1", "5", "7", "10", "11", "-1", "1,5", "1.234,50", "1,234",
                     "12.5", "€ 3", "ja", "nein", "yes", "x", "2025-03-01", "01.03.2025 10:00",
                     "31.02.2025", "03/04/2025", "13/04/2025", "04/13/2025", "20250301",
                     "2025-03-01T10:00:00Z", "Kauf", "Web", "K-001"]),
    st.text(max_size=8),
)


@st.composite
def messy_tables(draw):
    n_cols = draw(st.integers(1, 5))
    n_rows = draw(st.integers(0, 12))
    names = [f"c{i}" for i in range(n_cols)]
    columns = {name: draw(st.lists(MESSY, min_size=n_rows, max_size=n_rows)) for name in names}
    rows = list(range(2, 2 + n_rows))
    bad_rows = draw(st.lists(st.sampled_from(rows), max_size=3, unique=True)) if rows else []
    problems = [Problem("extra-cell", f"Row {r} has too many cells.", row=r) for r in bad_rows]
    table = draw(st.sampled_from(list(TABLES)))
    role_names = [r.name for r in TABLES[table]]
    chosen = draw(st.lists(st.sampled_from(role_names), max_size=len(role_names), unique=True))
    roles = {r: draw(st.sampled_from([*names, "missing"])) for r in chosen}
    order = draw(st.sampled_from([None, "dmy", "mdy"]))
    return raw_table(columns, problems=problems), table, roles, order


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messy_tables())
def test_rows_in_equals_loaded_plus_rejected(case):
    raw, table, roles, order = case
    r = load_table(raw, table, roles, date_order=order, max_listed=5)
    check_counts(r)
    assert r.rows_in == raw.frame.height
    assert r.status in ("loaded", "partial", "failed", "needs_answer")
    assert len(r.problems) <= 5
    assert "__row__" not in r.data.columns
    assert set(r.rejected["__row__"].to_list()) <= set(raw.frame["__row__"].to_list())
    if r.rows_in and r.status == "loaded":
        assert r.rows_rejected == 0
    if r.status == "partial":
        assert r.rows_loaded > 0 and (r.rows_rejected > 0 or r.cells_blanked > 0)
    for p in r.problems:
        assert p.code in CODES


# --------------------------------------------------------------------------- fast paths


def test_reader_frames_are_not_stripped_twice_but_replaced_frames_are():
    from cjm_core.ingest.read import read_file

    raw = read_file(b"customer_id,timestamp,stage\nC1, 2025-03-01 ,buy\n", "e.csv")[0]
    assert raw.normalised is raw.frame
    roles = {"customer_id": "customer_id", "timestamp": "timestamp", "stage": "stage"}
    assert load_table(raw, "events", roles).rows_loaded == 1
    # a frame swapped in afterwards is not the reader's: it is stripped here
    raw.frame = raw.frame.with_columns(pl.lit("  C9  ").alias("customer_id"))
    r = load_table(raw, "events", roles)
    assert r.data["customer_id"].to_list() == ["C9"]


def test_threaded_checks_give_the_same_result_as_serial(monkeypatch):
    import cjm_core.ingest.validate as validate_module

    n = 300
    raw = raw_table({
        "k": [f"C{i}" if i % 50 else "" for i in range(n)],
        "opened": [f"2025-03-{1 + i % 28:02d} 10:00" if i % 13 else "nope" for i in range(n)],
        "closed": [f"2025-03-{1 + (i * 7) % 28:02d} 09:00" if i % 9 else "x" for i in range(n)],
        "fcr": ["ja", "nein", "vielleicht"] * (n // 3),
        "contacts": [str(i % 5) if i % 11 else "1,5" for i in range(n)],
    })
    roles = {"ticket_id": "k", "opened_at": "opened", "resolved_at": "closed",
             "first_contact_resolved": "fcr", "contacts": "contacts"}
    monkeypatch.setattr(validate_module, "_PARALLEL_MIN_ROWS", 10**9)
    serial = load_table(raw, "support", roles)
    monkeypatch.setattr(validate_module, "_PARALLEL_MIN_ROWS", 0)
    threaded = load_table(raw, "support", roles)
    assert threaded.rows_rejected == serial.rows_rejected > 0
    assert threaded.cells_blanked == serial.cells_blanked > 0
    assert threaded.data.equals(serial.data) and threaded.rejected.equals(serial.rejected)
    assert threaded.problems == serial.problems
    assert (threaded.number_formats, threaded.date_formats) == (serial.number_formats,
                                                                serial.date_formats)


def test_clean_table_takes_the_short_path_with_the_usual_shapes():
    raw = raw_table({"Kunde": ["K1", "K2"], "Datum": ["01.03.2025", "02.03.2025"],
                     "Betrag": ["1,50", "2"], "Notiz": ["a", None]}, delimiter=";")
    r = load_table(raw, "orders", {"customer_id": "Kunde", "order_date": "Datum",
                                   "amount": "Betrag"})
    assert (r.status, r.rows_loaded, r.rows_rejected, r.problem_count) == ("loaded", 2, 0, 0)
    assert r.rejected.height == 0
    assert r.rejected.columns == ["__row__", "Kunde", "Datum", "Betrag", "Notiz", "problems"]
    assert r.rejected.schema["problems"] == pl.String
    assert r.data.columns == ["customer_id", "order_date", "amount", "Notiz"]


_number_text = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**6, 10**6).map(str),
    st.sampled_from(["5.", ".5", "+.5", "5.e3", "1e5", "1E-2", "-0", "00012", "1,234.5", "1 234",
                     "12-", "€ 3", "nan", "inf", "-inf", "", "abc", "1e500", "0x10", "١٢"]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), _number_text), min_size=1, max_size=12))
def test_plain_number_cast_gives_what_the_full_parse_gives(values):
    """A column every value of which polars reads as a finite number takes a single cast; it
    must equal the cleaning-and-regex parse it skips."""
    from cjm_core.ingest import validate as V

    text = pl.Series(values, dtype=pl.String)
    fast = V._parse_number(text, POINT)
    full = V._parse_number_slow(text, POINT)
    assert fast.to_list() == full.to_list()


def test_a_trailing_point_or_comma_is_a_number():
    assert parse_number(pl.Series(["5.", "5.e3", "."]), POINT).to_list() == [5.0, 5000.0, None]
    assert parse_number(pl.Series(["5,", "1.234,", ","]), COMMA).to_list() == [5.0, 1234.0, None]


def test_blank_and_whitespace_cells_of_a_replaced_frame_count_as_empty():
    raw = raw_table({"customer_id": ["C1", "  ", ""], "timestamp": ["2025-03-01"] * 3,
                     "stage": ["buy", "", "   "]})
    r = load_table(raw, "events", {"customer_id": "customer_id", "timestamp": "timestamp",
                                   "stage": "stage"})
    assert (r.rows_loaded, r.rows_rejected) == (1, 2)
    assert {p.code for p in r.problems} == {"missing-value"}


def test_date_parse_cache_is_only_asked_for_repeating_values():
    from cjm_core.ingest.dates import _repeats

    distinct = pl.Series([f"2025-01-01 00:{m:02d}:{s:02d}" for m in range(60) for s in range(60)])
    repeated = pl.Series(["01.03.2025", "02.03.2025"] * 2000)
    assert not _repeats(distinct) and _repeats(repeated)


@pytest.mark.parametrize(("stamp", "n"), [("2025-03-01 10:00:00", 12_000),
                                          ("01.03.2025 10:00", 150_000)])
def test_typed_columns_keep_the_chunks_of_the_raw_frame(stamp, n):
    """A typed column chunked unlike the rest makes polars copy the whole table later (it cost
    100 MB and 0.1 s on a million-row upload): the date parsers must keep the chunks."""
    def part(rows: int) -> pl.DataFrame:
        return raw_table({"customer_id": [f"C{i}" for i in range(rows)],
                          "timestamp": [stamp] * rows, "stage": ["buy"] * rows}).frame

    sizes = [n, n // 2 + 7]  # unequal, so the middle is no chunk boundary
    raw = raw_table({"customer_id": ["x"], "timestamp": [stamp], "stage": ["buy"]})
    raw.frame = pl.concat([part(k) for k in sizes], rechunk=False)
    r = load_table(raw, "events", {"customer_id": "customer_id", "timestamp": "timestamp",
                                   "stage": "stage"})
    assert r.rows_loaded == sum(sizes)
    assert {c: r.data[c].chunk_lengths() for c in r.data.columns} == {
        c: sizes for c in r.data.columns}
    assert raw.frame.get_column("timestamp").chunk_lengths() == sizes


# --- score scales: the user's choice, the header, the bulk of the answers (issue 10) -----------


def survey(header: str, answers: list[str], **more: list[str]) -> RawTable:
    return raw_table({"Kunde": [f"K{i}" for i in range(len(answers))], header: answers, **more})


# 16 answers in the top two boxes, 6 below, 3 stray 7s (12% of the answers: not a few strays)
STRAY_SEVENS = ["5", "4", "2", "5", "7", "4", "4", "1", "5", "3", "4", "7", "5", "4", "2",
                "5", "4", "3", "4", "7", "5", "4", "1", "5", "4"]


def test_header_scale_wins_over_stray_sevens_and_csat_is_on_one_to_five():
    from cjm_core.analytics.satisfaction import csat

    r = load_table(survey("CSAT (1-5)", STRAY_SEVENS), "feedback", {"csat": "CSAT (1-5)"})
    check_counts(r)
    assert r.scales == {"csat": 5}
    assert r.scale_details["csat"].describe() == "1–5 (from the header)"
    strays = [(p.code, p.row, p.column, p.value) for p in r.problems]
    assert strays == [("out-of-range", row, "CSAT (1-5)", "7") for row in (6, 13, 21)]
    assert r.problems[0].message == "Row 6, column 'CSAT (1-5)': '7' is outside 1–5 for csat"
    # csat is the row's only score: a row whose every score is bad is rejected
    assert (r.rows_loaded, r.rows_rejected, r.cells_blanked) == (22, 3, 0)
    assert r.rejected["problems"].to_list() == ["out-of-range"] * 3
    assert r.data["csat"].max() == 5
    [m] = csat(r.data)
    assert (m.value, m.n) == (16 / 22, 22)  # the 1–7 reading gave 3 / 25


@pytest.mark.parametrize(
    ("header", "role", "answers", "scale", "out"),
    [
        ("Zufriedenheit (1 bis 5)", "csat", ["4", "5", "7", "3", "7", "7", "5"], (1, 5),
         ["7", "7", "7"]),
        ("Weiterempfehlung von 10", "csat", ["3", "4", "5", "10", "11"], (1, 10), ["11"]),
        ("Weiterempfehlung von 10", "nps", ["0", "4", "10", "11"], (0, 10), ["11"]),
        ("Score /7", "ces", ["1", "2", "3", "2", "8"], (1, 7), ["8"]),
        ("Aufwand 1–7", "ces", ["1", "2", "3", "0"], (1, 7), ["0"]),
        ("Satisfaction (0-10)", "csat", ["0", "2", "3", "4", "12"], (0, 10), ["12"]),
        ("Note sur 5", "csat", ["1", "2", "7"], (1, 5), ["7"]),
        ("Puntuación de 1 a 7", "csat", ["1", "2", "3"], (1, 7), []),
        ("Zufriedenheit (1 = sehr unzufrieden, 7 = sehr zufrieden)", "csat", ["2", "5", "4"],
         (1, 7), []),
        ("Effort: 1 (very easy) to 5 (very hard)", "ces", ["1", "2", "7"], (1, 5), ["7"]),
    ],
)
def test_scale_written_in_the_header(header, role, answers, scale, out):
    r = load_table(survey(header, answers), "feedback", {role: header})
    check_counts(r)
    details = r.scale_details[role]
    assert (details.low, details.high) == scale
    assert details.source == ("fixed" if role == "nps" else "header")
    assert [p.value for p in r.problems if p.code == "out-of-range"] == out


def test_no_header_hint_the_bulk_settles_it():
    few_strays = ["4", "5", "3", "5", "4", "2", "5", "4", "1", "5"] * 4 + ["7"]  # 1 in 41
    r = load_table(survey("Bewertung", few_strays), "feedback", {"csat": "Bewertung"})
    assert r.scale_details["csat"].describe() == "1–5 (from the bulk of the answers)"
    assert [(p.code, p.row, p.value) for p in r.problems] == [("out-of-range", 42, "7")]

    seven_point = ["6", "7", "7", "6", "5", "3", "7", "6", "2", "7"]  # 60% above 5
    r = load_table(survey("Bewertung", seven_point), "feedback", {"csat": "Bewertung"})
    assert r.scale_details["csat"].describe() == "1–7 (from the bulk of the answers)"
    assert r.problems == [] and r.status == "loaded"


@pytest.mark.parametrize(
    ("tail", "scale", "out"),
    [
        (["6"], 7, []),              # carries on from 5: a 1–7 effort score rarely hears 6-7
        (["6", "7"], 7, []),
        (["6", "7", "6"], None, []),  # 7% above 5: not strays, not settled -> ask
        (["7"], 5, ["7"]),           # skips 6: a stray
        (["7", "9"], 5, ["7", "9"]),
        (["0"], 5, ["0"]),           # below the scale
    ],
)
def test_a_small_tail_that_carries_on_from_the_top_is_the_next_scale(tail, scale, out):
    bulk = ["1", "2", "2", "3", "1", "4", "2", "5", "3", "1"] * 4
    r = load_table(survey("Aufwand", bulk + tail), "feedback", {"ces": "Aufwand"})
    assert r.scales == ({"ces": scale} if scale else {})
    assert [p.value for p in r.problems if p.code == "out-of-range"] == out
    assert (r.status == "needs_answer") == (scale is None)


AMBIGUOUS = ["4", "5", "3", "7", "5", "4", "6", "2", "7", "5", "1", "6"]  # a third above 5


def test_ambiguous_scale_asks_and_nothing_loads():
    r = load_table(survey("Bewertung", AMBIGUOUS), "feedback", {"csat": "Bewertung"})
    check_counts(r)
    assert r.status == "needs_answer" and r.rows_loaded == 0
    [q] = r.questions
    assert (q.code, q.column, q.role, q.options) == ("ambiguous-scale", "Bewertung", "csat",
                                                    ["5", "7"])
    assert "33% of them lie above 5" in q.message and q.examples == ["7", "6"]
    assert q.to_dict()["role"] == "csat"
    assert [(p.code, p.column) for p in r.problems] == [("ambiguous-scale", "Bewertung")]
    assert r.rejected["problems"].unique().to_list() == ["ambiguous-scale"]


@pytest.mark.parametrize(("chosen", "rejected"), [(7, []), (5, [5, 8, 10, 13])])
def test_the_users_choice_of_scale_applies(chosen, rejected):
    r = load_table(survey("Bewertung", AMBIGUOUS), "feedback", {"csat": "Bewertung"},
                   scales={"csat": chosen})
    check_counts(r)
    assert r.scales == {"csat": chosen}
    assert r.scale_details["csat"].source == "your choice"
    assert r.rejected["__row__"].to_list() == rejected


def test_the_users_choice_beats_the_header_and_must_be_a_scale_of_the_role():
    r = load_table(survey("CSAT (1-5)", ["6", "7"]), "feedback", {"csat": "CSAT (1-5)"},
                   scales={"csat": 7})
    assert r.status == "loaded" and r.scales == {"csat": 7}
    with pytest.raises(ValueError, match="not a scale for ces"):
        load_table(survey("CES", ["1"]), "feedback", {"ces": "CES"}, scales={"ces": 10})


def test_date_and_scale_questions_are_asked_together():
    raw = survey("Bewertung", AMBIGUOUS, Datum=["03/04/2025"] * len(AMBIGUOUS))
    r = load_table(raw, "feedback", {"csat": "Bewertung", "timestamp": "Datum"})
    assert [q.code for q in r.questions] == ["ambiguous-date-order", "ambiguous-scale"]
    r = load_table(raw, "feedback", {"csat": "Bewertung", "timestamp": "Datum"},
                   date_order="dmy", scales={"csat": 7})
    assert r.status == "loaded"


# --- a bad cell costs that cell, not the whole row (issue 10) -----------------------------------


def test_one_bad_score_per_row_blanks_that_cell_only():
    from cjm_core.analytics.satisfaction import csat, nps

    raw = raw_table({
        "Kunde": ["K1", "K2", "K3", "K4", "K5", "K6"],
        "Touchpoint": ["Web", "Web", "Filiale", "Filiale", "Hotline", "Web"],
        "CSAT (1-5)": ["5", "4", "kaputt", "2", "n/a", "4"],
        "NPS (0-10)": ["junk", "9", "10", "-", "??", ""],
        "Kommentar": ["gut", "", "schnell", "langsam", "", "ok"],
    })
    roles = {"customer_id": "Kunde", "touchpoint": "Touchpoint", "csat": "CSAT (1-5)",
             "nps": "NPS (0-10)", "comment": "Kommentar"}
    r = load_table(raw, "feedback", roles)
    check_counts(r)
    # K5: every score bad -> rejected; K6: CSAT fine, NPS empty (not bad) -> loaded as is
    assert (r.rows_in, r.rows_loaded, r.rows_rejected, r.cells_blanked) == (6, 5, 1, 3)
    assert r.status == "partial"
    assert r.data["customer_id"].to_list() == ["K1", "K2", "K3", "K4", "K6"]
    assert r.data["csat"].to_list() == [5, 4, None, 2, 4]
    assert r.data["nps"].to_list() == [None, 9, 10, None, None]
    assert r.data["comment"].to_list() == ["gut", None, "schnell", "langsam", "ok"]
    assert r.rejected.select("__row__", "problems").rows() == [(6, "bad-number, bad-number")]
    got = [(p.code, p.row, p.column, p.value, p.severity) for p in r.problems]
    assert got == [
        ("bad-number", 2, "NPS (0-10)", "junk", "warning"),
        ("bad-number", 4, "CSAT (1-5)", "kaputt", "warning"),
        ("bad-number", 5, "NPS (0-10)", "-", "warning"),
        ("bad-number", 6, "CSAT (1-5)", "n/a", "error"),
        ("bad-number", 6, "NPS (0-10)", "??", "error"),
    ]
    assert r.problems[0].message.endswith(BLANKED_NOTE)
    assert not r.problems[3].message.endswith(BLANKED_NOTE)
    assert r.blanked_codes == {"bad-number": 3}
    # n per metric: each score counts the answers it has
    assert [(m.value, m.n) for m in csat(r.data)] == [(3 / 4, 4)]
    assert [(m.value, m.n) for m in nps(r.data)] == [(100.0, 2)]


def test_a_bad_required_value_still_rejects_the_row():
    raw = raw_table({"Kunde": ["K1", "K2", ""], "Datum": ["2025-03-01"] * 3,
                     "Betrag": ["10", "zehn", "5"]})
    r = load_table(raw, "orders", {"customer_id": "Kunde", "order_date": "Datum",
                                   "amount": "Betrag"})
    check_counts(r)
    assert (r.rows_loaded, r.rows_rejected, r.cells_blanked) == (1, 2, 0)
    assert r.rejected["problems"].to_list() == ["bad-number", "missing-value"]
    assert {p.severity for p in r.problems} == {"error"}


def test_support_ces_is_not_a_feedback_score_its_row_stays():
    raw = raw_table({"Eröffnet": ["2025-03-01 10:00"] * 2, "CES": ["3", "neun"]})
    r = load_table(raw, "support", {"opened_at": "Eröffnet", "ces": "CES"})
    assert (r.rows_loaded, r.cells_blanked) == (2, 1)
    assert r.data["ces"].to_list() == [3.0, None]


# --- property: blanked cells and rejected rows against a brute-force reference -----------------

_SCORE_CELL = st.sampled_from(["", "1", "3", "5", "7", "0", "10", "11", "x", "n/a", "-2", "4,5"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["K1", "", "K3"]), _SCORE_CELL, _SCORE_CELL,
                          _SCORE_CELL, st.sampled_from(["12,50", "", "abc", "3"])),
                min_size=1, max_size=15))
def test_blanked_cells_and_rejected_rows_match_a_brute_force_count(rows):
    scales = {"csat": 5, "nps": 10, "ces": 7}
    ranges = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}
    columns = {"id": [r[0] for r in rows], "csat": [r[1] for r in rows],
               "nps": [r[2] for r in rows], "ces": [r[3] for r in rows]}

    def bad(value: str, role: str) -> bool:
        if value == "":
            return False
        try:
            number = float(value.replace(",", "."))
        except ValueError:
            return True
        low, high = ranges[role]
        return not low <= number <= high

    r = load_table(raw_table(columns, delimiter=";"), "feedback",
                   {"customer_id": "id", "csat": "csat", "nps": "nps", "ces": "ces"},
                   scales=scales)
    check_counts(r)
    expect_rejected, expect_blanked = 0, 0
    for row in rows:
        cells = dict(zip(("csat", "nps", "ces"), row[1:4], strict=True))
        n_bad = sum(bad(v, k) for k, v in cells.items())
        n_good = sum(v != "" and not bad(v, k) for k, v in cells.items())
        if n_bad and not n_good:
            expect_rejected += 1
        else:
            expect_blanked += n_bad
    assert r.rows_in == len(rows) == r.rows_loaded + r.rows_rejected
    assert (r.rows_rejected, r.cells_blanked) == (expect_rejected, expect_blanked)
    assert sum(r.blanked_codes.values()) == r.cells_blanked
    assert r.problem_count == sum(bad(v, k) for row in rows
                                  for k, v in zip(("csat", "nps", "ces"), row[1:4], strict=True))
    for role, (low, high) in ranges.items():
        if r.data.height:
            values = r.data[role].drop_nulls()
            assert values.is_between(low, high).all()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["K1", ""]), st.sampled_from(["12.5", "", "abc", "-3"])),
                min_size=1, max_size=15))
def test_events_revenue_blanks_only_its_cell(rows):
    raw = raw_table({"K": [r[0] for r in rows], "D": ["2025-01-01"] * len(rows),
                     "P": ["a"] * len(rows), "U": [r[1] for r in rows]})
    r = load_table(raw, "events", {"customer_id": "K", "timestamp": "D", "stage": "P",
                                   "revenue": "U"})
    check_counts(r)
    assert r.rows_rejected == sum(k == "" for k, _ in rows)
    assert r.cells_blanked == sum(k != "" and u == "abc" for k, u in rows)
    assert r.data["revenue"].null_count() == sum(u in ("", "abc") for k, u in rows if k)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 12), min_size=0, max_size=60), st.sampled_from(["csat", "ces"]))
def test_a_scale_from_the_answers_holds_their_bulk_or_asks(answers, role_name):
    from cjm_core.ingest.validate import SCALES, STRAY_SHARE, UNSETTLED_SHARE, decide_scale
    from cjm_core.model.schema import roles_of

    role = roles_of("feedback")[role_name]
    options = SCALES[role_name]
    got = decide_scale(role, "Antwort", pl.Series(answers, dtype=pl.Float64))
    n = len(answers)

    def held(s: int) -> int:  # answers within 1..s, counted by hand
        return sum(1 <= a <= s for a in answers)

    if isinstance(got, Question):
        smaller, larger = (int(o) for o in got.options)
        assert smaller < larger and larger in options
        assert held(smaller) > UNSETTLED_SHARE * n  # the smaller scale holds most answers…
        assert held(options[-1]) - held(smaller) > STRAY_SHARE * n  # …but not the bulk
        return
    assert (got.low, got.source) == (1, "answers") and got.high in options
    above = [a for a in answers if got.high < a <= options[-1]]
    # what lies above the scale (and within the largest) is a few strays that skip a point
    assert len(above) <= STRAY_SHARE * n + 1e-9
    if above and got.high != options[-1]:
        assert got.high + 1 not in above
    if n and all(1 <= a <= options[0] for a in answers):
        assert got.high == options[0]
