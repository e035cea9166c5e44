"""The swimlane chart's spec: lanes in order, hidden parts left out, status colours, dashed vs
solid emotion marks, error bars, flags exactly where belief and data part, wrapped text."""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cjm_core.errors import QueryError
from cjm_core.journey_map.chart import FLAG_TEXT, emotion_chart, swimlane_chart, wrap
from cjm_core.journey_map.model import Item, JourneyMap
from cjm_core.present.charts import STATUS_COLOURS

LONG = ("Compares prices online, reads three reviews of soundbars and asks a friend who "
        "installed a home cinema last year before driving to the store on a Saturday")


def tv_map(n: int = 5) -> JourneyMap:
    """A hand-filled map: measured touchpoints and KPIs, assumed thoughts, and emotions where
    stage 1 and 3 disagree (belief vs data differ by more than one step)."""
    m = JourneyMap.empty("TV purchase", "4742", [f"Stage {i}" for i in range(n)])
    for i, s in enumerate(m.stages):
        tp = m.cell("touchpoints", s.key)
        tp.source, tp.n = "measured", 500 + i
        tp.items = [Item("Web shop", "measured", value=0.6, n=500), Item("Store", "measured",
                                                                          value=0.4, n=500)]
        m.cell("thoughts", s.key).text = f"Thought {i}"
        kp = m.cell("kpis", s.key)
        kp.source = "measured"
        kp.items = [Item("CSAT", "measured", value=0.8, unit="rate", n=90,
                         status=["met", "within", "missed", "no data"][i % 4])]
        e = m.emotion(s.key)
        e.assumed = 1.0
        e.measured, e.low, e.high, e.n = ((-1.0, -1.3, -0.7, 120) if i in (1, 3)
                                          else (0.8, 0.5, 1.1, 100))
    m.cell("actions", m.stages[0].key).text = LONG
    return m


def layers(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {la["description"]: la for la in spec["layer"]}


def values(spec: dict[str, Any], description: str) -> list[dict[str, Any]]:
    return layers(spec)[description]["data"]["values"]


def mark(layer: dict[str, Any]) -> dict[str, Any]:
    return layer["mark"] if isinstance(layer["mark"], dict) else {"type": layer["mark"]}


def test_lane_titles_are_drawn_top_to_bottom_in_the_maps_lane_order():
    m = tv_map()
    m.lanes.insert(1, m.lanes.pop(m.lanes.index(next(la for la in m.lanes
                                                     if la.key == "kpis"))))
    m.lanes[2].title = "Renamed actions"
    rows = values(swimlane_chart(m).to_dict(), "text-lane_title")
    first_line = {}
    for r in sorted(rows, key=lambda r: r["y"]):
        first_line.setdefault(r["lane"], r["text"])
    assert list(first_line) == [la.key for la in m.lanes]
    assert first_line["actions"].startswith("Renamed")


def test_hidden_lanes_and_stages_are_left_out():
    m = tv_map()
    m.stages[2].hidden = True
    next(la for la in m.lanes if la.key == "thoughts").hidden = True
    spec = swimlane_chart(m).to_dict()
    text = json.dumps(spec)
    assert "Stage 2" not in text and "Thought 2" not in text
    assert "Thought 1" not in text  # the whole lane is gone, not only a cell
    lanes = {r.get("lane") for la in spec["layer"] for r in la["data"]["values"]}
    assert "thoughts" not in lanes
    assert "Stage 4" in text


def test_kpi_chips_take_their_target_status_colour():
    chips = values(swimlane_chart(tv_map()).to_dict(), "chips")
    kpis = [c for c in chips if c["lane"] == "kpis"]
    assert [c["fill"] for c in kpis] == [STATUS_COLOURS[s] for s in
                                         ["met", "within", "missed", "no data", "met"]]
    assert {c["fill"] for c in chips if c["lane"] == "touchpoints"}.isdisjoint(
        STATUS_COLOURS.values())


def test_assumed_emotion_is_dashed_and_measured_solid_with_error_bars():
    la = layers(emotion_chart(tv_map()).to_dict())
    assert "strokeDash" in mark(la["emotion-assumed-line"])
    assert "strokeDash" in mark(la["emotion-assumed-points"])
    assert "strokeDash" not in mark(la["emotion-measured-line"])
    assert "strokeDash" not in mark(la["emotion-measured-points"])
    assert mark(la["emotion-measured-points"]).get("filled") is True
    bars = la["emotion-measured-interval"]
    assert mark(bars)["type"] == "errorbar"
    assert [(r["low"], r["high"]) for r in bars["data"]["values"]][:2] == [(0.5, 1.1),
                                                                          (-1.3, -0.7)]
    assert "y2" in bars["encoding"]
    tips = {t["field"] for t in la["emotion-measured-points"]["encoding"]["tooltip"]}
    assert {"n", "interval", "measured"} <= tips


def test_the_swimlane_carries_the_same_emotion_layers_and_a_zero_line():
    la = layers(swimlane_chart(tv_map()).to_dict())
    assert {"emotion-assumed-line", "emotion-measured-line", "emotion-guides"} <= set(la)
    guides = la["emotion-guides"]["data"]["values"]
    assert 0 in [g["v"] for g in guides]


@pytest.mark.parametrize("chart", [swimlane_chart, emotion_chart])
def test_flag_sits_exactly_on_the_disagreeing_stages(chart):
    m = tv_map()
    assert m.flagged_stages() == ["stage_1", "stage_3"]
    flags = values(chart(m).to_dict(), "text-flag")
    assert sorted(f["key"] for f in flags) == ["stage_1", "stage_3"]
    assert {f["text"] for f in flags} == {FLAG_TEXT}


def test_no_flag_when_belief_and_data_agree():
    m = tv_map()
    for e in m.emotions.values():
        e.measured, e.low, e.high = 0.8, 0.5, 1.1
    assert "text-flag" not in layers(swimlane_chart(m).to_dict())


@pytest.mark.parametrize("n", [3, 12])
def test_three_and_twelve_stages_both_draw_every_stage_name(n):
    spec = swimlane_chart(tv_map(n)).to_dict()
    header = " ".join(r["text"] for r in values(spec, "text-header"))
    for i in range(n):
        assert str(i) in header
    assert len({r["stage"] for r in values(spec, "text-header")}) == n
    assert spec["width"] >= 130 + n * 60


def test_long_text_is_wrapped_into_several_short_lines():
    m = tv_map()
    spec = swimlane_chart(m).to_dict()
    lines = [r for r in values(spec, "text-assumed") if r["lane"] == "actions"]
    assert len(lines) >= 4
    assert max(len(r["text"]) for r in lines) < 40
    assert " ".join(r["text"] for r in lines).replace("…", "").split()[:5] == LONG.split()[:5]
    ys = [r["y"] for r in lines]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)


def test_measured_cells_say_so_with_n_and_assumed_text_is_italic():
    spec = swimlane_chart(tv_map()).to_dict()
    captions = [r["text"] for r in values(spec, "text-caption") if r["lane"] == "touchpoints"]
    assert captions[0] == "measured · n=500"
    assert mark(layers(spec)["text-assumed"])["fontStyle"] == "italic"
    assert "fontStyle" not in mark(layers(spec)["text-chip_text"])
    assert {r["text"] for r in values(spec, "text-assumed")} >= {"Thought 0", "Thought 4"}


def test_chips_and_points_have_tooltips_with_the_share():
    spec = swimlane_chart(tv_map()).to_dict()
    chips = layers(spec)["chips"]
    assert any(t["field"] == "value" for t in chips["encoding"]["tooltip"])
    web = next(c for c in chips["data"]["values"] if c["item"] == "Web shop")
    assert web["value"] == "60.0%" and web["n"] == 500
    assert "tooltip" in layers(spec)["emotion-assumed-points"]["encoding"]


def test_presentation_mode_is_bigger():
    small, large = swimlane_chart(tv_map()).to_dict(), swimlane_chart(tv_map(),
                                                                      large=True).to_dict()
    assert large["width"] > small["width"] and large["width"] <= 1900
    assert mark(layers(large)["text-assumed"])["fontSize"] > mark(
        layers(small)["text-assumed"])["fontSize"]


def test_width_is_respected():
    assert swimlane_chart(tv_map(), width=1000).to_dict()["width"] == pytest.approx(1000, abs=1)


def test_a_map_without_visible_stages_is_a_query_error():
    m = tv_map(3)
    for s in m.stages:
        s.hidden = True
    with pytest.raises(QueryError, match="no visible stages"):
        swimlane_chart(m)


@given(st.text(alphabet=st.sampled_from("ab cdefgh\n"), max_size=200),
       st.integers(4, 40), st.integers(1, 8))
def test_wrapped_lines_fit_their_width_and_count(text, chars, max_lines):
    lines = wrap(text, chars, max_lines)
    assert len(lines) <= max_lines
    assert all(len(line) <= chars for line in lines)


def test_sample_map_from_data_draws():
    map_build = pytest.importorskip("cjm_core.journey_map.build")
    from cjm_core.demo.sample import generate
    from cjm_core.model.dataset import Dataset
    from cjm_core.model.journey import default_journey

    data = Dataset(default_journey("4742"), **generate("4742", customers=300))
    m = map_build.build_map(data)
    spec = swimlane_chart(m).to_dict()
    flags = values(spec, "text-flag") if "text-flag" in layers(spec) else []
    assert sorted(f["key"] for f in flags) == sorted(
        k for k in m.flagged_stages() if k in {s.key for s in m.visible_stages()})
    assert len(values(spec, "text-header")) >= len(m.visible_stages())


# -- presentation: a map fitted to the screen, the presented stage, lanes hidden for the room ----

SCREENS = [(1920, 1080), (1280, 720)]


@functools.cache
def sample_map(isic: str = "4742") -> JourneyMap:
    from cjm_core.demo.sample import generate
    from cjm_core.journey_map.build import build_map
    from cjm_core.model.dataset import Dataset
    from cjm_core.model.journey import default_journey

    return build_map(Dataset(default_journey(isic), **generate(isic, customers=300)))


def lane_heights(spec: dict[str, Any]) -> dict[str, float]:
    """Each lane's height: its title box at the left (x = 0) of the cells layer."""
    return {r["lane"]: r["y2"] - r["y"] for r in values(spec, "cells") if r["x"] == 0}


@pytest.mark.parametrize("screen", SCREENS, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("make", [sample_map, lambda: sample_map("4741"), lambda: tv_map(12)],
                         ids=["4742", "4741", "12 stages"])
def test_a_fitted_map_fits_the_screen_with_every_lane(make, screen):
    m = make()
    spec = swimlane_chart(m, fit=screen).to_dict()
    pad = spec["config"]["padding"]
    assert spec["width"] + 2 * pad <= screen[0] and spec["height"] + 2 * pad <= screen[1]
    heights = lane_heights(spec)
    assert list(heights) == [la.key for la in m.visible_lanes()]
    assert sum(heights.values()) <= spec["height"]
    assert min(heights.values()) > 0
    # the title is drawn inside the map, once
    assert "title" not in spec and [r["text"] for r in values(spec, "text-map_title")] == [
        m.title]
    # every mark inside the chart
    ys = [r.get("y2", r["y"]) for la in spec["layer"] for r in la["data"]["values"]
          if "y" in r and r["y"] is not None]
    assert max(ys) <= spec["height"] + 0.01


def test_a_fitted_map_uses_bigger_type_than_the_old_wall_needed():
    """1080 lines are worth more than 720: the type is chosen for the screen, not fixed."""
    m = sample_map()
    big, small = (swimlane_chart(m, fit=s).to_dict() for s in SCREENS)
    size = mark(layers(big)["text-body"])["fontSize"]
    assert size >= 13 and size > mark(layers(small)["text-body"])["fontSize"]


def test_a_cut_cell_says_how_many_entries_it_leaves_out():
    m = tv_map()
    key = m.stages[0].key
    m.cell("pain_points", key).items = [Item(f"Pain {i} " + LONG, "assumed") for i in range(12)]
    spec = swimlane_chart(m, fit=(1280, 720)).to_dict()
    bullets = {r["text"].split()[1] for r in values(spec, "text-assumed")
               if r["lane"] == "pain_points" and r["text"].startswith("• Pain")}
    more = [r["text"] for r in values(spec, "text-more") if r["lane"] == "pain_points"]
    assert len(more) == 1 and more[0] == f"+{12 - len(bullets)} more"
    assert 1 <= len(bullets) < 12


def test_the_presented_stage_is_a_parameter_that_veils_the_other_columns():
    m = tv_map()
    spec = swimlane_chart(m, fit=(1920, 1080), focus=2).to_dict()
    assert spec["params"] == [{"name": "focus", "value": 2}]
    la = layers(spec)
    veil, frame = la["stage-veil"], la["stage-frame"]
    assert veil["transform"] == [{"filter": "datum.col != focus"}]
    assert frame["transform"] == [{"filter": "datum.col == focus"}]
    assert [r["col"] for r in veil["data"]["values"]] == list(range(5))
    assert mark(veil)["opacity"] >= 0.5 and mark(frame)["filled"] is False
    columns = {r["stage"]: r["x"] for r in values(spec, "cells")
               if r["lane"] == "stage" and "stage" in r}
    framed = next(r for r in frame["data"]["values"] if r["col"] == 2)
    assert framed["x"] == pytest.approx(columns["Stage 2"], abs=5)
    # drawn last, over the text; without a stage to present, none of it
    assert [la["description"] for la in spec["layer"]][-2:] == ["stage-veil", "stage-frame"]
    plain = swimlane_chart(m, fit=(1920, 1080)).to_dict()
    assert "params" not in plain and "stage-veil" not in layers(plain)
    with pytest.raises(QueryError, match="no stage 6"):
        swimlane_chart(m, focus=5)


def test_hidden_lanes_are_left_out_but_the_stage_header_stays():
    m = tv_map()
    spec = swimlane_chart(m, fit=(1920, 1080), hide_lanes={"kpis", "thoughts", "stage"}).to_dict()
    lanes = {r.get("lane") for la in spec["layer"] for r in la["data"]["values"]}
    assert "kpis" not in lanes and "thoughts" not in lanes and "stage" in lanes
    assert "Thought 1" not in json.dumps(spec) and "CSAT" not in json.dumps(spec)
    assert not any(la.hidden for la in m.lanes)  # the map itself is untouched
    every = [la.key for la in m.lanes if la.key != "stage"]
    assert list(lane_heights(swimlane_chart(m, hide_lanes=every).to_dict())) == ["stage"]


@pytest.mark.parametrize("kw", [{}, {"large": True}, {"fit": (1920, 1080)}, {"fit": (1280, 720)}],
                         ids=["screen", "large", "1080", "720"])
def test_emotion_labels_and_curve_share_the_maps_one_pixel_scale(kw):
    """The labels +2, 0, −2 sit exactly on their guide lines, and no layer has a scale of its
    own: a renderer that resizes the chart (Streamlit's "fit") cannot move one against the
    other. The size is the chart's own ("pad") and it is drawn as SVG, like the exports."""
    spec = swimlane_chart(tv_map(), **kw).to_dict()
    labels = {r["v"]: r["y"] for r in values(spec, "text-scale")}
    guides = {r["v"]: r["y"] for r in values(spec, "emotion-guides")}
    assert set(labels) == {2, 0, -2}
    for v, y in labels.items():
        assert guides[v] == pytest.approx(y, abs=0.01)
    assert guides[2] < guides[0] < guides[-2]  # +2 on top
    assert "resolve" not in spec
    scales = {json.dumps(la["encoding"]["y"]["scale"], sort_keys=True) for la in spec["layer"]}
    assert scales == {json.dumps({"domain": [0, spec["height"]], "nice": False, "reverse": True,
                                  "zero": False}, sort_keys=True)}
    assert spec["autosize"] == {"type": "pad"}
    assert spec["usermeta"] == {"embedOptions": {"renderer": "svg"}}
    rows = {r["key"]: r for r in values(spec, "emotion-measured-points")}
    between = rows["stage_0"]["ym"]  # measured +0.8: a little above the zero line
    assert guides[0] > between > guides[1]


def test_a_cut_cell_keeps_its_whole_text_in_the_tooltip():
    m = tv_map()
    key = m.stages[0].key
    m.cell("pain_points", key).items = [Item(f"Pain {i}", "assumed") for i in range(12)]
    spec = swimlane_chart(m, fit=(1280, 720)).to_dict()
    cell = next(r for r in values(spec, "cells")
                if r["lane"] == "pain_points" and r.get("stage") == "Stage 0")
    assert all(f"Pain {i}" in cell["tip"] for i in range(12))
    assert any(t["field"] == "tip" for t in layers(spec)["cells"]["encoding"]["tooltip"])
