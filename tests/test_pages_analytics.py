"""Channels, Touchpoints and Post-purchase pages on the sample workspace (Streamlit AppTest):
they render, their key figures equal the core's on the same data, and their widgets change what
is shown."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from cjm_core.analytics.channels import omnichannel, online_to_store
from cjm_core.analytics.loyalty import loyalty_metrics
from cjm_core.analytics.satisfaction import csat, nps
from cjm_core.analytics.support import support_metrics
from cjm_core.metric import format_interval, format_value
from cjm_core.present.charts_extra import metric_caption
from cjm_core.storage.store import Store
from cjm_core.storage.workspaces import ensure_sample_workspace, load_dataset, new_workspace
from tests.conftest import ROOT, open_page, tiles


@pytest.fixture
def sample(db_path):
    """The sample workspace's dataset, as the app loads it (no filters set)."""
    store = Store(db_path)
    try:
        return load_dataset(store, ensure_sample_workspace(store))
    finally:
        store.close()


def captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


# -- Channels ------------------------------------------------------------------------------------


def test_channels_tiles_equal_the_core(sample):
    at = open_page("channels")
    assert at.title[0].value == "Channels"
    share, conv = omnichannel(sample.events, sample.journey, sample.orders)
    o2s = online_to_store(sample.events, sample.journey, sample.orders)
    shown = tiles(at)
    assert shown["Omnichannel customers"] == format_value(share.value, "rate")
    assert shown["Omnichannel conversion"] == format_value(conv.value, "rate")
    assert shown["Online-to-store conversion"] == format_value(o2s.value, "rate")
    text = captions(at)
    assert f"n = {share.n:,} customers" in text
    assert metric_caption(o2s, "customers with web/app events") in text


def test_channels_sankey_then_matrix_and_touchpoints(db_path):
    at = open_page("channels")
    assert len(at.get("plotly_chart")) == 1
    assert not at.get("vega_lite_chart")
    at.radio(key="channels_view").set_value("matrix").run()
    assert not at.exception, at.exception
    assert not at.get("plotly_chart")
    assert len(at.get("vega_lite_chart")) == 1

    matrix, moves = at.dataframe[0].value, at.dataframe[-1].value
    assert set(moves["From"]) <= {"web", "app", "store", "phone"}
    assert matrix.columns[0] == "From" and list(matrix.columns[1:]) == sorted(matrix.columns[1:])
    assert all(v.endswith("%") for v in matrix.iloc[0, 1:])  # shares as percentages
    at.radio(key="channels_by").set_value("touchpoint").run()
    assert not at.exception, at.exception
    by_touchpoint = at.dataframe[-1].value
    assert not set(by_touchpoint["From"]) <= {"web", "app", "store", "phone"}


def test_channels_drop_self_removes_repeats(db_path):
    at = open_page("channels")
    assert (at.dataframe[-1].value["Repeat (same place again)"] == "yes").any()
    at.toggle(key="channels_drop_self").set_value(True).run()
    assert not at.exception, at.exception
    assert set(at.dataframe[-1].value["Repeat (same place again)"]) == {"no"}


# -- Touchpoints ---------------------------------------------------------------------------------


def test_touchpoints_table_equals_the_core_and_score_switch(sample):
    at = open_page("touchpoints")
    assert at.title[0].value == "Touchpoints"
    table = at.dataframe[0].value
    expected = {m.by["touchpoint"]: m for m in csat(sample.feedback, by=["touchpoint"])}
    assert set(table["Touchpoint"]) == set(expected)
    for row in table.to_dict("records"):
        m = expected[row["Touchpoint"]]
        assert row["CSAT (95% interval)"] == format_interval(m.value, m.low, m.high, "rate")
        assert row["CSAT answers"] == f"{m.n:,}"
        assert ("CSAT" in row["Fewer than 30 answers"].split(", ")) == m.low_sample
    assert any("CSAT per touchpoint" in h.value for h in at.subheader)

    at.radio(key="tp_score").set_value("nps").run()
    assert not at.exception, at.exception
    assert any("NPS per touchpoint and month" in h.value for h in at.subheader)
    worst = min((m for m in nps(sample.feedback, by=["touchpoint"]) if m.value is not None),
                key=lambda m: m.value)
    assert at.selectbox(key="tp_touchpoint").value == worst.by["touchpoint"]


def test_touchpoints_comments_are_plain_text_for_the_chosen_touchpoint(db_path):
    at = open_page("touchpoints")
    at.selectbox(key="tp_touchpoint").set_value("Installation hotline").run()
    assert not at.exception, at.exception
    quoted = [t.value for t in at.text if t.value.startswith("“")]
    assert quoted, "no worst comments shown"
    assert all(not getattr(m.proto, "allow_html", False) for m in at.markdown)
    assert any("Negative phrases" in h.value for h in at.subheader)


def test_touchpoints_cut_by_stage(sample):
    at = open_page("touchpoints")
    at.radio(key="tp_by").set_value("stage").run()
    assert not at.exception, at.exception
    assert set(at.dataframe[0].value["Stage"]) == set(sample.values("feedback", "stage"))


# -- an undated survey --------------------------------------------------------------------------

#: a survey export with touchpoint, CSAT, NPS and CES and no date column
UNDATED_SURVEY = pl.DataFrame({"touchpoint": ["Web shop", "Web shop", "Web shop", "Store",
                                              "Store"],
                               "csat": [5, 2, 4, 4, 1], "nps": [10, 6, 9, 8, 0],
                               "ces": [1, 4, 2, 2, 5]})
#: worked by hand, as shown: CSAT = share of 4–5 (2/3, 1/2); NPS = 100 × (share 9–10 − share
#: 0–6), whole (100 × (2/3 − 1/3) = 33, −50); CES = mean, two decimals (7/3, 7/2)
UNDATED_BY_HAND = {
    "Web shop": {"Answers": "3", "CSAT": "66.7%", "CSAT answers": "3", "NPS": "33",
                 "NPS answers": "3", "CES": "2.33", "CES answers": "3"},
    "Store": {"Answers": "2", "CSAT": "50.0%", "CSAT answers": "2", "NPS": "−50",
              "NPS answers": "2", "CES": "3.50", "CES answers": "2"},
}


def _workspace_with(name: str, **tables: pl.DataFrame) -> str:
    import ui  # the app's own store (Streamlit caches it for the whole process)

    store = ui.get_store()
    ws = new_workspace(store, name, "4742")
    for table, frame in tables.items():
        store.save_table(ws, table, frame)
    return ws


def test_touchpoints_of_an_undated_survey_show_csat_nps_and_ces_per_touchpoint(db_path):
    at = open_page("touchpoints", _workspace_with("Survey, no dates", feedback=UNDATED_SURVEY))
    assert not at.error, [e.value for e in at.error]
    assert any("CSAT, NPS and CES per touchpoint" in h.value for h in at.subheader)
    rows = {r["Touchpoint"]: r for r in at.dataframe[0].value.to_dict("records")}
    assert set(rows) == set(UNDATED_BY_HAND)
    for touchpoint, expected in UNDATED_BY_HAND.items():
        for column, value in expected.items():
            shown = rows[touchpoint].get(column) or rows[touchpoint][f"{column} (95% interval)"]
            assert shown.split(" (")[0] == value, (touchpoint, column)
        assert rows[touchpoint]["Fewer than 30 answers"] == "CSAT, NPS, CES"
    assert any(i.value.startswith("No dates in the feedback") for i in at.info)
    assert not any("and month" in h.value for h in at.subheader)

    at.radio(key="tp_score").set_value("nps").run()
    assert not at.exception and not at.error
    assert any(h.value == "NPS per touchpoint" for h in at.subheader)
    assert at.selectbox(key="tp_touchpoint").value == "Store"  # NPS −50, the worst
    at.radio(key="tp_score").set_value("ces").run()
    assert not at.exception and not at.error
    assert at.selectbox(key="tp_touchpoint").value == "Store"  # effort 3.5, the highest
    assert any("n = 2 answers" in c.value for c in at.caption)


def test_period_over_period_of_an_undated_survey_says_no_dates(db_path):
    at = open_page("post_purchase", _workspace_with("Survey, no dates", feedback=UNDATED_SURVEY))
    assert not at.error, [e.value for e in at.error]
    assert any(i.value.startswith("No dates: none of the tables has a date") for i in at.info)
    assert not any(c.value.startswith("Now:") for c in at.caption)  # nothing compared


def test_a_period_leaves_an_undated_survey_whole_and_pop_leaves_it_out(db_path):
    events = pl.DataFrame({"customer_id": ["a", "b"], "stage": ["Discovery", "Purchase"],
                           "timestamp": [datetime(2024, 1, 10), datetime(2025, 6, 10)]})
    ws = _workspace_with("Dated events, undated survey", events=events, feedback=UNDATED_SURVEY)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params.update(ws=ws, start="2025-01-01")
    at.run()
    at.switch_page("app_pages/touchpoints.py").run()
    assert not at.exception and not at.error
    assert at.sidebar.date_input(key="period").value[0] == date(2025, 1, 1)
    assert sum(map(int, at.dataframe[0].value["Answers"])) == UNDATED_SURVEY.height  # all
    at.switch_page("app_pages/post_purchase.py").run()
    assert not at.exception and not at.error
    assert any(i.value == "No dates in feedback: its figures are left out of the period "
               "comparison." for i in at.info)
    compared = at.dataframe[-1].value
    assert not set(compared["Metric"]) & {"CSAT", "NPS", "CES"}


# -- Post-purchase -------------------------------------------------------------------------------


def test_post_purchase_tiles_equal_the_core(sample):
    at = open_page("post_purchase")
    assert at.title[0].value == "Post-purchase"
    shown = tiles(at)
    overall = {m.metric: m for m in support_metrics(sample.support) if not m.by}
    assert shown["First-contact resolution"] == format_value(overall["fcr"].value, "rate")
    assert shown["Resolution time, 90th percentile"] == format_value(
        overall["resolution_hours_p90"].value, "hours")
    assert shown["Open cases"] == format_value(overall["open_cases"].value, "count")
    loyalty = {m.metric: m for m in loyalty_metrics(sample.orders)}
    assert shown["Repeat purchase rate"] == format_value(
        loyalty["repeat_purchase_rate"].value, "rate")
    assert shown["Customer lifetime value (historic)"] == format_value(loyalty["clv"].value,
                                                                      "money")
    text = captions(at)
    assert metric_caption(overall["fcr"], "resolved cases") in text
    assert f"n = {overall['open_cases'].n:,} cases" in text


def test_post_purchase_period_table_and_cuts_toggle(db_path):
    at = open_page("post_purchase")
    assert any("Now: 01 Jan 2025" in c.value for c in at.caption)
    table = at.dataframe[-1].value
    assert set(table["Cut"]) == {"all"}
    assert {"First-contact resolution", "Customer lifetime value (historic)",
            "Repeat purchase rate"} <= set(table["Metric"])
    at.toggle(key="pp_cuts").set_value(True).run()
    assert not at.exception, at.exception
    assert len(at.dataframe[-1].value) > len(table)
    assert (at.dataframe[-1].value["Cut"] != "all").any()


# -- a workspace without data --------------------------------------------------------------------


@pytest.mark.parametrize("page, needs", [
    ("channels", "events table"), ("touchpoints", "feedback table"),
    ("post_purchase", "orders table")])
def test_pages_say_which_table_to_upload(db_path, page, needs):
    import ui  # the app's own store (Streamlit caches it for the whole process)

    store = ui.get_store()
    ws = next((w.id for w in store.list_workspaces() if w.name == "Empty shop"), None) \
        or new_workspace(store, "Empty shop", "4773")
    at = open_page(page, ws)
    assert at.session_state["workspace_id"] == ws
    assert any(needs in i.value and "Data page" in i.value for i in at.info)
    assert not at.error
    assert not at.metric
