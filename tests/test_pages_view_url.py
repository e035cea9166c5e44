"""A page's view is in its URL (Streamlit AppTest, DESIGN §8): opening Funnel, Touchpoints or
Channels with query parameters shows that view (the figures equal the core's on the same data),
junk in the URL falls back to the defaults, changing a control writes the URL, and each page's
widget keys are the registry's setting names."""

from __future__ import annotations

from datetime import timedelta

import pytest
from streamlit.testing.v1 import AppTest

from cjm_core.analytics.funnel import FunnelQuery, funnel
from cjm_core.model.settings import VIEW_SETTINGS
from cjm_core.storage.store import Store
from cjm_core.storage.workspaces import ensure_sample_workspace, load_dataset
from tests.conftest import open_page, tiles

WIDGETS = ("selectbox", "multiselect", "radio", "number_input", "toggle", "slider", "checkbox",
           "text_input", "text_area", "date_input", "select_slider", "button")


@pytest.fixture
def sample(db_path):
    """The sample workspace's dataset, as the app loads it (no filters set)."""
    store = Store(db_path)
    try:
        return load_dataset(store, ensure_sample_workspace(store))
    finally:
        store.close()


def url(at: AppTest) -> dict[str, str]:
    return {k: v[0] if isinstance(v, list) else v for k, v in dict(at.query_params).items()}


def widget_keys(at: AppTest) -> set[str]:
    return {w.key for kind in WIDGETS for w in getattr(at.main, kind) if w.key}


def assert_tiles_equal(at: AppTest, data, query: FunnelQuery) -> None:
    res = funnel(data.events, query, data.journey)
    first, last, _low = res.totals()
    t = tiles(at)
    assert t["Entered at the first step"] == f"{first:,}"
    assert t["Converted (all steps)"] == f"{last:,}"
    assert t["Entered mid-journey"] == f"{res.entered_mid_journey:,}"


# -- Funnel --------------------------------------------------------------------------------------


def test_funnel_link_opens_the_strict_funnel_with_a_seven_day_window(sample):
    steps = ["Discovery", "Online research", "Purchase"]
    at = open_page("funnel", funnel_mode="strict", funnel_window="7",
                   funnel_steps=",".join(steps), funnel_breakdown="channel",
                   funnel_attribution="last", funnel_exclude_open="true",
                   funnel_reentry="first")
    assert at.selectbox(key="funnel_mode").value == "strict"
    assert at.number_input(key="funnel_window").value == 7
    assert at.selectbox(key="funnel_window_unit").value == "days"
    assert at.multiselect(key="funnel_steps").value == steps
    assert at.multiselect(key="funnel_breakdown").value == ["channel"]
    assert at.radio(key="funnel_attribution").value == "last"
    assert at.toggle(key="funnel_exclude_open").value is True
    assert at.selectbox(key="funnel_reentry").value == "first"
    assert_tiles_equal(at, sample, FunnelQuery(
        steps=steps, window=timedelta(days=7), mode="strict", reentry="first",
        breakdown=("channel",), attribution="last", exclude_open=True))
    # the page keeps the link's view in its URL
    assert url(at)["funnel_mode"] == "strict" and url(at)["funnel_window"] == "7"


def test_funnel_window_in_hours_and_events_as_steps(sample):
    events = sample.values("events", "event")[:3]
    at = open_page("funnel", funnel_step_column="event", funnel_steps=",".join(events),
                   funnel_window="36", funnel_window_unit="hours")
    assert at.selectbox(key="funnel_step_column").value == "event"
    assert at.multiselect(key="funnel_steps").value == events
    assert_tiles_equal(at, sample, FunnelQuery(steps=events, step_column="event",
                                               window=timedelta(hours=36)))


def test_funnel_junk_in_the_url_falls_back_to_the_defaults(sample):
    at = open_page("funnel", funnel_mode="sideways", funnel_window="abc",
                   funnel_window_unit="fortnights", funnel_steps="Ghost,Phantom",
                   funnel_breakdown="nope,<b>x</b>", funnel_exclude_open="maybe",
                   funnel_mid="?", funnel_step_column="rows")
    stages = [s.name for s in sample.journey.stages]
    assert at.selectbox(key="funnel_mode").value == "ordered"
    assert at.number_input(key="funnel_window").value == 30
    assert at.multiselect(key="funnel_steps").value == stages
    assert at.multiselect(key="funnel_breakdown").value == []
    assert_tiles_equal(at, sample, FunnelQuery(steps=stages, window=timedelta(days=30)))
    # the defaults are not written back: the junk is gone from the URL
    assert not {"funnel_mode", "funnel_window", "funnel_steps"} & set(url(at))


def test_funnel_unknown_steps_are_dropped_and_the_rest_kept(sample):
    at = open_page("funnel", funnel_steps="Discovery,Ghost,Purchase")
    assert at.multiselect(key="funnel_steps").value == ["Discovery", "Purchase"]
    assert url(at)["funnel_steps"] == "Discovery,Purchase"
    assert_tiles_equal(at, sample, FunnelQuery(steps=["Discovery", "Purchase"],
                                               window=timedelta(days=30)))


def test_changing_a_funnel_control_writes_the_url(db_path):
    at = open_page("funnel")
    assert not any(k.startswith("funnel_") for k in url(at))
    at.selectbox(key="funnel_mode").set_value("any").run()
    at.number_input(key="funnel_window").set_value(14).run()
    at.toggle(key="funnel_exclude_open").set_value(True).run()
    at.multiselect(key="funnel_steps").set_value(["Discovery", "Purchase"]).run()
    assert not at.exception, at.exception
    q = url(at)
    assert (q["funnel_mode"], q["funnel_window"], q["funnel_exclude_open"],
            q["funnel_steps"]) == ("any", "14", "true", "Discovery,Purchase")
    at.selectbox(key="funnel_mode").set_value("ordered").run()  # back to the default
    assert "funnel_mode" not in url(at)
    assert url(at)["funnel_window"] == "14"  # the rest stays


def test_switching_the_step_column_starts_from_its_own_default_steps(sample):
    at = open_page("funnel", funnel_steps="Discovery,Purchase")
    at.selectbox(key="funnel_step_column").set_value("event").run()
    assert not at.exception, at.exception
    assert at.multiselect(key="funnel_steps").value == sample.values("events", "event")[:4]
    assert "funnel_steps" not in url(at)
    assert url(at)["funnel_step_column"] == "event"


# -- Touchpoints ---------------------------------------------------------------------------------


def test_touchpoints_link_opens_score_cut_and_touchpoint(db_path):
    at = open_page("touchpoints", tp_score="nps", tp_by="stage", tp_touchpoint="Help centre")
    assert at.radio(key="tp_score").value == "nps"
    assert at.radio(key="tp_by").value == "stage"
    box = at.selectbox(key="tp_touchpoint")
    assert box.value == "Help centre" and box.options[0] != "Help centre"  # not the worst
    assert "NPS per stage" in [h.value for h in at.subheader]
    markdown = " ".join(m.value for m in at.markdown)
    assert "NPS answers at Help centre" in markdown
    assert (url(at)["tp_score"], url(at)["tp_by"], url(at)["tp_touchpoint"]) == \
        ("nps", "stage", "Help centre")


def test_touchpoints_junk_falls_back_and_choices_write_the_url(db_path):
    at = open_page("touchpoints", tp_score="<script>", tp_by="row", tp_touchpoint="Nowhere")
    assert at.radio(key="tp_score").value == "csat"
    assert at.radio(key="tp_by").value == "touchpoint"
    worst = at.selectbox(key="tp_touchpoint").options[0]
    assert at.selectbox(key="tp_touchpoint").value == worst
    assert not {"tp_score", "tp_by", "tp_touchpoint"} & set(url(at))
    at.radio(key="tp_score").set_value("ces").run()
    worst_effort = at.selectbox(key="tp_touchpoint").options[0]
    assert at.selectbox(key="tp_touchpoint").value == worst_effort  # left at the worst: follows
    other = at.selectbox(key="tp_touchpoint").options[-1]
    at.selectbox(key="tp_touchpoint").set_value(other).run()
    assert not at.exception, at.exception
    assert url(at)["tp_score"] == "ces" and url(at)["tp_touchpoint"] == other


# -- Channels ------------------------------------------------------------------------------------


def test_channels_link_opens_the_matrix_of_touchpoints_without_repeats(db_path):
    at = open_page("channels", channels_view="matrix", channels_by="touchpoint",
                   channels_drop_self="true")
    assert at.radio(key="channels_view").value == "matrix"
    assert at.radio(key="channels_by").value == "touchpoint"
    assert at.toggle(key="channels_drop_self").value is True
    assert any("Matrix as a table" in e.label for e in at.expander)
    at.radio(key="channels_view").set_value("sankey").run()
    assert not at.exception, at.exception
    assert "channels_view" not in url(at)  # the default leaves the URL
    assert url(at)["channels_by"] == "touchpoint"


def test_channels_sankey_size_comes_from_the_url_and_junk_is_ignored(db_path):
    at = open_page("channels", channels_by="touchpoint", channels_top="25")
    assert at.slider(key="channels_top").value == 25
    at = open_page("channels", channels_by="touchpoint", channels_top="5000")
    assert at.slider(key="channels_top").value == 40
    assert "channels_top" not in url(at)


# -- one source of truth -------------------------------------------------------------------------


@pytest.mark.parametrize(("page", "params"), [
    ("funnel", {}),
    ("touchpoints", {}),
    ("channels", {"channels_by": "touchpoint"}),  # enough moves for the Sankey size slider
])
def test_each_pages_widget_keys_are_the_registry_names(db_path, page, params):
    at = open_page(page, **params)
    assert widget_keys(at) == {s.name for s in VIEW_SETTINGS[page]}
