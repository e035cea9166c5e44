"""The Data page's preview of an upload under the chosen roles (cjm_core.ingest.preview)."""

from __future__ import annotations

import polars as pl

from cjm_core.ingest.preview import preview, role_header, unused_columns
from cjm_core.ingest.read import RawTable, read_file
from cjm_core.model.schema import ROW


def raw_of(columns: dict[str, list]) -> RawTable:
    return RawTable("export.csv", None, pl.DataFrame(columns), header_row=1)


def test_headers_follow_the_tables_role_order_and_name_the_column():
    raw = raw_of({ROW: [2, 3], "Kanal": ["web", "store"], "Kunde": ["K1", "K2"],
                  "Zeit": ["01.02.2025", "02.02.2025"], "Phase": ["Kauf", None]})
    shown = preview(raw, "events", {"channel": "Kanal", "customer_id": "Kunde",
                                    "timestamp": "Zeit", "stage": "Phase"})
    assert shown.columns == ["customer id (Kunde)", "timestamp (Zeit)", "stage (Phase)",
                             "channel (Kanal)"]
    assert shown.rows() == [("K1", "01.02.2025", "Kauf", "web"),
                            ("K2", "02.02.2025", "", "store")]


def test_first_rows_by_the_users_row_numbers_and_at_most_ten():
    raw = raw_of({ROW: list(range(21, 1, -1)), "id": [f"K{n}" for n in range(21, 1, -1)]})
    shown = preview(raw, "orders", {"customer_id": "id"})
    assert shown["customer id (id)"].to_list() == [f"K{n}" for n in range(2, 12)]
    assert preview(raw, "orders", {"customer_id": "id"}, rows=3).height == 3


def test_roles_the_table_lacks_and_missing_columns_are_left_out():
    raw = raw_of({ROW: [2], "a": ["1"]})
    assert preview(raw, "orders", {"csat": "a", "customer_id": "gone"}).columns == []
    assert preview(raw, "orders", {}).shape == (0, 0)


def test_a_read_file_previews_as_its_text_cells():
    raw = read_file(b"cust_no;betrag\nK1;1.234,50\nK2;\n", "orders.csv")[0]
    shown = preview(raw, "orders", {"customer_id": "cust_no", "amount": "betrag"})
    assert shown.rows() == [("K1", "1.234,50"), ("K2", "")]
    assert unused_columns(raw, {"customer_id": "cust_no"}) == ["betrag"]


def test_role_header():
    assert role_header("first_contact_resolved", "FCR?") == "first contact resolved (FCR?)"
