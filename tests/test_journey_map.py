"""Editing a journey map as the page's table editors do: nothing measured is lost, bad input gets
a message."""

from __future__ import annotations

import pytest

from cjm_core.errors import QueryError
from cjm_core.journey_map.model import (
    LANE_KEYS,
    Emotion,
    Item,
    JourneyMap,
    apply_emotion_rows,
    apply_item_rows,
    apply_lane_rows,
    apply_stage_rows,
    emotion_rows,
    item_rows,
    lane_rows,
    stage_rows,
)


@pytest.fixture
def m() -> JourneyMap:
    m = JourneyMap.empty("Workshop", "4742", ["Discovery", "In-store demo", "Purchase"])
    m.cell("pain_points", "in_store_demo").items = [
        Item("Demo room busy", "assumed", code="CS08", owner=None),
        Item("CSAT 55%", "measured", value=0.55, n=252),
    ]
    m.cell("thoughts", "purchase").text = "Is this the best price?"
    m.emotions["purchase"] = Emotion(assumed=1.0, measured=-0.5, n=80)
    return m


def test_lanes_start_in_the_design_order(m):
    assert [la.key for la in m.lanes] == list(LANE_KEYS)
    assert LANE_KEYS[0] == "stage" and LANE_KEYS[-1] == "kpis"


def test_removing_a_stage_drops_its_cells_and_emotion(m):
    rows = [r for r in stage_rows(m) if r["key"] != "purchase"]
    out = apply_stage_rows(m, rows)
    assert [s.key for s in out.stages] == ["discovery", "in_store_demo"]
    assert "purchase" not in out.emotions
    assert "purchase" not in out.cells.get("thoughts", {})
    assert m.cell("thoughts", "purchase").text  # the original is untouched


def test_renaming_keeps_the_key_so_cells_stay(m):
    rows = stage_rows(m)
    rows[1]["name"] = "Demo"
    out = apply_stage_rows(m, rows)
    assert out.stages[1].name == "Demo"
    assert out.cell("pain_points", "in_store_demo").items[0].text == "Demo room busy"


def test_a_map_without_stages_is_refused(m):
    with pytest.raises(QueryError, match="at least one stage"):
        apply_stage_rows(m, [{"order": 1, "name": "  "}])


def test_hidden_lanes_are_not_drawn_but_kept(m):
    rows = lane_rows(m)
    rows[3]["hidden"] = True
    out = apply_lane_rows(m, rows)
    assert "channels" not in [la.key for la in out.visible_lanes()]
    assert "channels" in [la.key for la in out.lanes]


def test_item_rows_round_trip_and_measured_items_survive(m):
    rows = item_rows(m, "pain_points")
    assert rows == [{"stage": "In-store demo", "text": "Demo room busy", "code": "CS08",
                     "owner": None, "note": False}]
    rows.append({"stage": "Purchase", "text": "Checkout queue", "code": "dt07", "owner": "Ops"})
    out = apply_item_rows(m, "pain_points", rows)
    demo = out.cell("pain_points", "in_store_demo").items
    assert [(i.text, i.source) for i in demo] == [("CSAT 55%", "measured"),
                                                 ("Demo room busy", "assumed")]
    assert out.cell("pain_points", "purchase").items[0].code == "DT07"


def test_unknown_challenge_code_and_stage_get_messages(m):
    with pytest.raises(QueryError, match="challenge code"):
        apply_item_rows(m, "pain_points", [{"stage": "Purchase", "text": "x", "code": "ZZ99"}])
    with pytest.raises(QueryError, match="names no stage"):
        apply_item_rows(m, "pain_points", [{"stage": "Unboxing", "text": "x"}])


def test_emotions_are_set_within_range_and_flag_disagreement(m):
    assert m.flagged_stages() == ["purchase"]
    out = apply_emotion_rows(m, [{"stage": "Purchase", "assumed": -1.0}])
    assert out.emotions["purchase"].measured == -0.5 and out.flagged_stages() == []
    with pytest.raises(QueryError, match="between −2 and \\+2"):
        apply_emotion_rows(m, [{"stage": "Purchase", "assumed": 3}])
    assert emotion_rows(out)[2] == {"stage": "Purchase", "assumed": -1.0, "measured": -0.5,
                                    "n": 80}


def test_json_is_checked(m):
    with pytest.raises(QueryError, match="not valid JSON"):
        JourneyMap.from_json("{broken")
    with pytest.raises(QueryError, match="not a journey map"):
        JourneyMap.from_json('{"title": "x"}')
    assert JourneyMap.from_json(m.to_json()) == m


def test_a_map_saved_with_two_customer_counts_per_stage_reads_with_one():
    """Maps saved before one count per stage: "Customers at this stage" beside "Customers
    reached", and the first stage's reached as every KPI caption's n."""
    from cjm_core.journey_map.model import KPI_REACHED, KPI_VISITED, Cell

    old = JourneyMap.empty("Saved in 2025", "4742", ["Browse", "Cart"])
    old.cells["kpis"] = {
        "browse": Cell("", "measured", [Item(KPI_REACHED, "measured", value=3.0, n=3),
                                        Item(KPI_VISITED, "measured", value=3.0, n=3)], 3),
        "cart": Cell("", "measured", [Item(KPI_REACHED, "measured", value=2.0, n=3),
                                      Item(KPI_VISITED, "measured", value=3.0, n=3),
                                      Item("Ask the team", "assumed")], 3),
    }
    body = old.to_dict()
    for cell in body["cells"]["kpis"].values():
        del cell["n_of"]  # the field did not exist then
    cart = JourneyMap.from_dict(body).cells["kpis"]["cart"]
    assert [(i.text, i.value, i.n) for i in cart.items] == [
        (KPI_REACHED, 2.0, 2), ("Ask the team", None, None)]
    assert (cart.n, cart.n_of) == (2, "customers")
