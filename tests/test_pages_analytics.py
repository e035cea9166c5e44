"""Channels, Touchpoints and Post-purchase pages on the sample workspace (Streamlit AppTest):
they render, their key figures equal the core's on the same data, and their widgets change what
is shown."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from cjm_core.channels import omnichannel, online_to_store
from cjm_core.charts_extra import metric_caption
from cjm_core.loyalty import loyalty_metrics
from cjm_core.metric import format_value
from cjm_core.satisfaction import csat, nps
from cjm_core.store import Store
from cjm_core.support import support_metrics
from cjm_core.workspace import ensure_sample_workspace, load_dataset, new_workspace
from tests.conftest import ROOT


@pytest.fixture
def sample(db_path):
    """The sample workspace's dataset, as the app loads it (no filters set)."""
    store = Store(db_path)
    try:
        return load_dataset(store, ensure_sample_workspace(store))
    finally:
        store.close()


def open_page(page: str, ws: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    if ws:
        at.query_params["ws"] = ws
    at.run()
    assert not at.exception, at.exception
    at.switch_page(f"app_pages/{page}.py")
    at.run()
    assert not at.exception, at.exception
    return at


def tiles(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


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

    moves = at.dataframe[-1].value
    assert set(moves["source"]) <= {"web", "app", "store", "phone"}
    at.radio(key="channels_by").set_value("touchpoint").run()
    assert not at.exception, at.exception
    by_touchpoint = at.dataframe[-1].value
    assert not set(by_touchpoint["source"]) <= {"web", "app", "store", "phone"}


def test_channels_drop_self_removes_repeats(db_path):
    at = open_page("channels")
    assert at.dataframe[-1].value["self_transition"].any()
    at.toggle(key="channels_drop_self").set_value(True).run()
    assert not at.exception, at.exception
    assert not at.dataframe[-1].value["self_transition"].any()


# -- Touchpoints ---------------------------------------------------------------------------------


def test_touchpoints_table_equals_the_core_and_score_switch(sample):
    at = open_page("touchpoints")
    assert at.title[0].value == "Touchpoints"
    table = at.dataframe[0].value
    expected = {m.by["touchpoint"]: m for m in csat(sample.feedback, by=["touchpoint"])}
    assert set(table["touchpoint"]) == set(expected)
    for row in table.to_dict("records"):
        m = expected[row["touchpoint"]]
        assert row["csat"] == pytest.approx(m.value)
        assert row["csat_n"] == m.n
        assert bool(row["csat_low_sample"]) == m.low_sample
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
    assert set(at.dataframe[0].value["stage"]) == set(sample.values("feedback", "stage"))


# -- Post-purchase -------------------------------------------------------------------------------


def test_post_purchase_tiles_equal_the_core(sample):
    at = open_page("post_purchase")
    assert at.title[0].value == "Post-purchase"
    shown = tiles(at)
    overall = {m.metric: m for m in support_metrics(sample.support) if not m.by}
    assert shown["First-contact resolution"] == format_value(overall["fcr"].value, "rate")
    assert shown["Resolution time, P90"] == format_value(
        overall["resolution_hours_p90"].value, "hours")
    assert shown["Open cases"] == format_value(overall["open_cases"].value, "count")
    loyalty = {m.metric: m for m in loyalty_metrics(sample.orders)}
    assert shown["Repeat purchase rate"] == format_value(
        loyalty["repeat_purchase_rate"].value, "rate")
    assert shown["CLV (revenue per customer)"] == format_value(loyalty["clv"].value, "money")
    text = captions(at)
    assert metric_caption(overall["fcr"], "resolved cases") in text
    assert f"n = {overall['open_cases'].n:,} cases" in text


def test_post_purchase_period_table_and_cuts_toggle(db_path):
    at = open_page("post_purchase")
    assert any("Now: 01 Jan 2025" in c.value for c in at.caption)
    table = at.dataframe[-1].value
    assert set(table["by"]) == {""}
    assert {"fcr", "clv", "repeat_purchase_rate"} <= set(table["metric"])
    at.toggle(key="pp_cuts").set_value(True).run()
    assert not at.exception, at.exception
    assert len(at.dataframe[-1].value) > len(table)
    assert (at.dataframe[-1].value["by"] != "").any()


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
