"""The swimlane chart's spec: lanes in order, hidden parts left out, status colours, dashed vs
solid emotion marks, error bars, flags exactly where belief and data part, wrapped text."""

from __future__ import annotations

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
