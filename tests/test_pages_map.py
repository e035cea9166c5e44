"""The journey map page on the sample workspace: save, conflict, restore, present, export."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

import ui
from cjm_core.journey_map.build import KPI_REACHED, stage_customers
from cjm_core.journey_map.model import JourneyMap
from cjm_core.metric import format_value
from cjm_core.storage.workspaces import load_dataset
from tests.conftest import ROOT, open_page

PRESENT_BAR = 80  # app_pages/journey_map.py: the stage bar above the presented map


@pytest.fixture
def page(db_path):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.switch_page("app_pages/journey_map.py")
    at.run()
    assert not at.exception, at.exception
    return at


def test_saving_makes_versions_and_restore_brings_one_back(page):
    store = ui.get_store()
    ws = page.session_state["workspace_id"]
    page.text_input(key="map_author").input("Ana")
    page.button(key="map_save").click().run()
    assert not page.exception, page.exception
    assert [v.version for v in store.map_versions(ws)] == [1]
    assert "Version 1" in page.caption[0].value
    # someone else saves version 2 meanwhile: this session's save is refused, nothing lost
    _, body = store.load_map_version(ws)
    other = JourneyMap.from_json(body)
    other.title = "Edited elsewhere"
    store.save_map_version(ws, other.to_json(), expected=1, author="Ben")
    page.button(key="map_save").click().run()
    assert any("Someone saved version 2" in e.value for e in page.error)
    assert [v.version for v in store.map_versions(ws)] == [2, 1]
    page.button(key="map_force").click().run()
    page.button(key="map_save").click().run()
    assert [v.version for v in store.map_versions(ws)] == [3, 2, 1]
    page.button(key="map_restore_2").click().run()
    assert page.session_state["map_json"] and "Edited elsewhere" in page.session_state["map_json"]


def _present_spec(at) -> dict:
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1  # the map and nothing else
    return json.loads(charts[0].proto.spec)


def _lanes(spec: dict) -> set[str]:
    layer = {la.get("description"): la["data"]["values"] for la in spec["layer"]}
    return {r["lane"] for r in layer["text-lane_title"]}


def test_presentation_mode_shows_the_map_and_steps_through_stages(page):
    page.query_params["present"] = "1"
    page.run()
    assert not page.exception, page.exception
    assert any(m.value.startswith("**Stage 1 of 7: ") for m in page.markdown)
    assert not page.sidebar.selectbox  # no workspace switcher or filters
    assert not page.title  # the map draws the only title
    spec = _present_spec(page)
    assert spec["params"] == [{"name": "focus", "value": 0}]
    assert spec["width"] + 20 <= 1920 and spec["height"] + 20 <= 1080 - PRESENT_BAR
    assert page.button(key="present_prev").disabled
    assert (page.button(key="present_prev").proto.shortcut,
            page.button(key="present_next").proto.shortcut) == ("left", "right")
    page.button(key="present_next").click().run()
    assert any(m.value.startswith("**Stage 2 of 7: ") for m in page.markdown)
    assert page.query_params["stage"] in ("1", ["1"])
    assert _present_spec(page)["params"] == [{"name": "focus", "value": 1}]
    page.button(key="present_prev").click().run()
    assert _present_spec(page)["params"] == [{"name": "focus", "value": 0}]


def test_presentation_lane_picker_hides_lanes_and_the_link_keeps_them(page):
    page.query_params["present"] = "1"
    page.run()
    assert {"kpis", "backstage"} <= _lanes(_present_spec(page))
    page.multiselect(key="map_hide").set_value(["backstage", "kpis"]).run()
    assert not page.exception, page.exception
    assert _lanes(_present_spec(page)) == {"stage", "actions", "touchpoints", "channels",
                                           "thoughts", "emotion", "pain_points", "opportunities"}
    assert page.query_params["map_hide"] in ("backstage,kpis", ["backstage,kpis"])
    # the link opens the same view; a lane the map does not have is dropped, junk sizes ignored
    at = open_page("journey_map", page.session_state["workspace_id"], present="1", stage="3",
                   map_hide="kpis,nowhere", w="1280", h="abc")
    assert at.multiselect(key="map_hide").value == ["kpis"]
    spec = _present_spec(at)
    assert "kpis" not in _lanes(spec) and spec["params"] == [{"name": "focus", "value": 3}]
    assert spec["width"] + 20 <= 1280 and spec["height"] + 20 <= 1080 - PRESENT_BAR


def test_export_offers_a_download(page):
    page.radio(key="map_export_format").set_value("svg").run()
    page.button(key="map_export").click().run()
    assert not page.exception, page.exception
    assert page.session_state["map_file"][0] == "svg"
    assert page.session_state["map_file"][1].lstrip().startswith(b"<svg")


@pytest.mark.parametrize("isic", ["4773", "4741"])
def test_the_map_opens_on_every_sample_workspace(db_path, isic):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["ws"] = f"sample-{isic}"
    at.run()
    at.switch_page("app_pages/journey_map.py")
    at.run()
    assert not at.exception, at.exception
    m = JourneyMap.from_json(at.session_state["map_json"])
    assert m.isic == isic and len(m.stages) >= 7
    assert any(item.source == "measured" for row in m.cells.values() for cell in row.values()
               for item in cell.items)


def test_a_link_with_a_version_opens_that_version(page):
    store = ui.get_store()
    ws = page.session_state["workspace_id"]
    page.button(key="map_save").click().run()
    _, body = store.load_map_version(ws)
    second = JourneyMap.from_json(body)
    second.title = "Second version"
    store.save_map_version(ws, second.to_json(), expected=1)
    assert page.query_params["version"] in ("1", ["1"])
    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    fresh.query_params["ws"] = ws
    fresh.query_params["version"] = "1"
    fresh.run()
    fresh.switch_page("app_pages/journey_map.py")
    fresh.query_params["version"] = "1"
    fresh.run()
    assert not fresh.exception, fresh.exception
    assert "Second version" not in fresh.session_state["map_json"]
    assert "Version 1" in fresh.caption[0].value


def test_the_map_on_screen_shows_one_customer_count_per_stage(page):
    """KPI lane and its caption: the same customers per stage, those of `stage_customers`."""
    data = load_dataset(ui.get_store(), page.session_state["workspace_id"])
    counts = stage_customers(data)
    names = {s.key: s.name for s in data.journey.stages}
    spec = json.loads(page.get("vega_lite_chart")[0].proto.spec)
    layer = {la.get("description"): la["data"]["values"] for la in spec["layer"]}
    captions = {r["stage"]: r["text"] for r in layer["text-caption"] if r["lane"] == "kpis"}
    chips = {c["stage"]: c["value"] for c in layer["chips"]
             if c["lane"] == "kpis" and c["item"] == KPI_REACHED}
    assert len(counts) == 7
    for key, n in counts.items():
        assert captions[names[key]].endswith(f"n={n:,} customers")
        assert chips[names[key]] == format_value(n, "count")
    assert not [c for c in layer["chips"] if c["item"] == "Customers at this stage"]


def test_a_second_session_draws_the_map_from_the_shared_cache(page, monkeypatch):
    """Every chart of the page (the map and the two segment maps) is built once for all
    sessions; an edited map is drawn afresh."""
    import cjm_core.journey_map.chart

    drawn = []
    real = cjm_core.journey_map.chart.swimlane_chart
    monkeypatch.setattr(cjm_core.journey_map.chart, "swimlane_chart",
                        lambda m, **kw: drawn.append(m.title) or real(m, **kw))
    other = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    other.run()
    other.switch_page("app_pages/journey_map.py")
    other.run()
    assert not other.exception, other.exception
    assert drawn == []
    specs = [c.proto.spec for c in other.get("vega_lite_chart")]
    assert len(specs) == 3 and specs == [c.proto.spec for c in page.get("vega_lite_chart")]
    assert '"layer"' in specs[0]

    m = JourneyMap.from_json(other.session_state["map_json"])
    m.title = "Edited in this session"
    other.session_state["map_json"] = m.to_json()
    other.run()
    assert drawn and set(drawn) == {"Edited in this session"}  # segment maps keep its title
    assert "Edited in this session" in other.get("vega_lite_chart")[0].proto.spec


def test_presentation_of_a_map_without_visible_stages_says_so(page):
    m = JourneyMap.from_json(page.session_state["map_json"])
    for s in m.stages:
        s.hidden = True
    page.session_state["map_json"] = m.to_json()
    page.query_params["present"] = "1"
    page.run()
    assert not page.exception, page.exception
    assert "no visible stages" in page.info[0].value
    assert not page.get("vega_lite_chart")
