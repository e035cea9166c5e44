"""The journey map build (cjm_core.journey_map.build): every measured number on a hand-made
dataset, the
industry templates, the planted facts of the sample data, rebuilds that keep workshop edits,
segment maps, and the JSON round trip."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cjm_core.analytics.stats import wilson
from cjm_core.demo.sample import PLANTED_FACTS, generate
from cjm_core.errors import QueryError
from cjm_core.industries.targets import Target
from cjm_core.journey_map.build import (
    KPI_CES,
    KPI_CSAT,
    KPI_DROPOFF,
    KPI_NPS,
    KPI_REACHED,
    KPI_VISITED,
    OWNERS,
    TEMPLATES,
    build_map,
    compare_maps,
    emotion_of,
    first_channel,
    stage_customers,
    suggest_code,
    template_map,
    with_first_channel,
)
from cjm_core.journey_map.chart import swimlane_chart
from cjm_core.journey_map.model import (
    CHALLENGE_CODES,
    LANE_KEYS,
    LANES,
    Cell,
    Emotion,
    Item,
    JourneyMap,
    Lane,
    MapStage,
)
from cjm_core.metric import format_value
from cjm_core.model.dataset import Dataset
from cjm_core.model.journey import default_journey, journey_from_rows

T0 = datetime(2025, 3, 1, 10, 0)


def _events(journeys: dict[str, list[tuple[str, str, str, str]]]) -> pl.DataFrame:
    """Customers named by what they did: (stage, channel, touchpoint, event), an hour apart."""
    rows = [{"customer_id": who, "timestamp": T0 + timedelta(hours=i), "stage": stage,
             "channel": ch, "touchpoint": tp, "event": ev}
            for who, steps in journeys.items() for i, (stage, ch, tp, ev) in enumerate(steps)]
    return pl.DataFrame(rows)


# 4 customers over Browse → Cart → Buy (an ISIC 4742 workspace whose stages the template lacks)
TINY_EVENTS = _events({
    "browsed_web_bought_in_store": [("Browse", "web", "Web shop", "View"),
                                    ("Cart", "web", "Web cart", "Add"),
                                    ("Buy", "store", "Till", "Pay")],
    "browsed_twice_left_cart": [("Browse", "web", "Web shop", "View"),
                                ("Browse", "store", "Store floor", "Look"),
                                ("Cart", "web", "Web cart", "Add")],
    "app_look_only": [("Browse", "app", "App", "View")],
    "walked_in_bought": [("Browse", "store", "Store floor", "Look"),
                         ("Cart", "store", "Basket", "Add"),
                         ("Buy", "store", "Till", "Pay")],
})
RUDE = "Staff were rude and unhelpful."
WAITED = "Waited forever, nobody helped."
TINY_FEEDBACK = pl.DataFrame({
    "stage": ["Browse"] * 5 + ["Cart"] * 2 + ["Buy"] * 6,
    "touchpoint": ["Web shop", "Web shop", "Web shop", "Store floor", "Store floor",
                   "Web cart", "Basket"] + ["Till"] * 6,
    "csat": [5, 5, 4, 2, 1, 5, 4, 1, 2, 3, 1, 2, 3],
    "nps": [None] * 5 + [10, 9] + [None] * 6,
    "ces": [None] * 7 + [4, 5, None, None, None, None],
    "comment": [None, "Great!", None, RUDE, WAITED, None, None] + [None] * 6,
})


def tiny(**tables) -> Dataset:
    journey = journey_from_rows("4742", ["Browse", "Cart", "Buy"],
                                {"cart": "Cart", "purchase": "Buy"})
    return Dataset(journey, **({"events": TINY_EVENTS, "feedback": TINY_FEEDBACK} | tables))


def items(m: JourneyMap, lane: str, stage: str) -> list[Item]:
    return m.cells.get(lane, {}).get(stage, Cell()).items


def kpi(m: JourneyMap, stage: str, text: str) -> Item:
    return next(i for i in items(m, "kpis", stage) if i.text == text)


@pytest.fixture(scope="module")
def tiny_map() -> JourneyMap:
    return build_map(tiny())


# ----------------------------------------------------------------------------- hand-checked


def test_stages_in_journey_order(tiny_map):
    assert [(s.key, s.name) for s in tiny_map.stages] == [
        ("browse", "Browse"), ("cart", "Cart"), ("buy", "Buy")]
    assert [la.key for la in tiny_map.lanes] == list(LANE_KEYS)


def test_touchpoint_and_channel_shares_of_the_stages_events(tiny_map):
    # Browse has 5 events: Store floor 2, Web shop 2, App 1 (ties alphabetical)
    tps = items(tiny_map, "touchpoints", "browse")
    assert [(i.text, i.value, i.n, i.source) for i in tps] == [
        ("Store floor", 0.4, 2, "measured"), ("Web shop", 0.4, 2, "measured"),
        ("App", 0.2, 1, "measured")]
    assert tiny_map.cell("touchpoints", "browse").n == 5
    assert tiny_map.cell("touchpoints", "browse").source == "measured"
    assert [(i.text, i.value) for i in items(tiny_map, "touchpoints", "cart")] == [
        ("Web cart", 2 / 3), ("Basket", 1 / 3)]
    assert [(i.text, i.value) for i in items(tiny_map, "channels", "browse")] == [
        ("store", 0.4), ("web", 0.4), ("app", 0.2)]
    assert [(i.text, i.value) for i in items(tiny_map, "channels", "buy")] == [("store", 1.0)]


def test_actions_from_the_event_column(tiny_map):
    assert [(i.text, i.n) for i in items(tiny_map, "actions", "browse")] == [
        ("View", 3), ("Look", 2)]
    assert tiny_map.cell("actions", "browse").source == "measured"


def test_actions_fall_back_to_the_template_without_an_event_column():
    m = build_map(Dataset(default_journey("4742"), events=TINY_EVENTS.drop("event").with_columns(
        pl.col("stage").replace({"Browse": "Discovery", "Cart": "Online research",
                                 "Buy": "Purchase"}))))
    cell = m.cell("actions", "discovery")
    assert cell.source == "assumed" and cell.text == TEMPLATES["4742"]["discovery"]["actions"]
    assert cell.items == []


def test_reached_dropoff_and_customers_per_stage(tiny_map):
    # funnel: 4 browse, 3 reach the cart, 2 buy
    assert [kpi(tiny_map, s, KPI_REACHED).value for s in ("browse", "cart", "buy")] == [4, 3, 2]
    # one count per stage: the reached KPI's n and the cell's caption n are that count
    assert [kpi(tiny_map, s, KPI_REACHED).n for s in ("browse", "cart", "buy")] == [4, 3, 2]
    assert [tiny_map.cell("kpis", s).n for s in ("browse", "cart", "buy")] == [4, 3, 2]
    d1, d2 = kpi(tiny_map, "browse", KPI_DROPOFF), kpi(tiny_map, "cart", KPI_DROPOFF)
    assert (d1.value, d1.n, (d1.low, d1.high)) == (0.25, 4, wilson(1, 4))
    assert (d2.value, d2.n) == (pytest.approx(1 / 3), 3)
    assert not [i for i in items(tiny_map, "kpis", "buy") if i.text == KPI_DROPOFF]
    assert not [i for s in ("browse", "cart", "buy") for i in items(tiny_map, "kpis", s)
                if i.text == KPI_VISITED]  # no second customer count per stage
    assert tiny_map.cell("kpis", "browse").source == "measured"


#: a walk-in who starts at the cart: under the old map, Cart showed three customer counts (reached
#: 2, "customers at this stage" 3, and the KPI caption's n = the 3 who reached Browse)
WALK_IN = _events({
    "browsed_carted_bought": [("Browse", "web", "Web shop", "View"),
                              ("Cart", "web", "Web cart", "Add"), ("Buy", "web", "Web", "Pay")],
    "browsed_carted_left": [("Browse", "web", "Web shop", "View"),
                            ("Cart", "web", "Web cart", "Add")],
    "browsed_only": [("Browse", "app", "App", "View")],
    "walked_in_carted_bought": [("Cart", "store", "Basket", "Add"),
                                ("Buy", "store", "Till", "Pay")],
})


def _sample_workspace_data(store) -> Dataset:
    from cjm_core.storage.workspaces import ensure_sample_workspace, load_dataset

    return load_dataset(store, ensure_sample_workspace(store))


def _drawn(m: JourneyMap) -> tuple[dict[str, str], dict[str, str]]:
    """What the chart draws in the KPI lane, per stage name: the caption and the reached chip's
    value."""
    spec = swimlane_chart(m).to_dict()
    layer = {la["description"]: la["data"]["values"] for la in spec["layer"]}
    captions = {r["stage"]: r["text"] for r in layer["text-caption"] if r["lane"] == "kpis"}
    chips = {c["stage"]: c["value"] for c in layer["chips"]
             if c["lane"] == "kpis" and c["item"] == KPI_REACHED}
    return captions, chips


def test_stage_customers_is_the_funnels_reached_by_hand():
    assert stage_customers(tiny(events=WALK_IN)) == {"browse": 3, "cart": 2, "buy": 1}


@pytest.mark.parametrize("which", ["walk_in", "sample_workspace"])
def test_kpi_lane_and_its_caption_show_one_customer_count_per_stage(which, store):
    data = tiny(events=WALK_IN) if which == "walk_in" else _sample_workspace_data(store)
    m = build_map(data)
    counts = stage_customers(data)
    assert set(counts) == {s.key for s in m.stages}
    captions, chips = _drawn(m)
    for s in m.stages:
        its = items(m, "kpis", s.key)
        reached = kpi(m, s.key, KPI_REACHED)
        assert reached.value == reached.n == m.cell("kpis", s.key).n == counts[s.key], s.key
        assert [i.text for i in its if i.unit == "count"] == [KPI_REACHED]  # no second count
        assert captions[s.name].endswith(f"n={counts[s.key]:,} customers")
        assert chips[s.name] == format_value(counts[s.key], "count")
    if which == "walk_in":  # where the old definitions parted: reached 3, 2, 1 by hand
        assert [counts[k] for k in ("browse", "cart", "buy")] == [3, 2, 1]
        # the other lanes' n counts events, and their captions say so (Cart: 3 events)
        assert (m.cell("touchpoints", "cart").n, m.cell("touchpoints", "cart").n_of) == (
            3, "events")
        assert JourneyMap.from_json(m.to_json()).cell("kpis", "cart").n_of == "customers"
        spec = swimlane_chart(m).to_dict()
        texts = [r["text"] for la in spec["layer"] if la["description"] == "text-caption"
                 for r in la["data"]["values"] if r["lane"] == "touchpoints"]
        assert texts and all(t.endswith(" events") for t in texts)


def test_scores_per_stage_with_target_status(tiny_map):
    browse = kpi(tiny_map, "browse", KPI_CSAT)  # 3 of 5 in the top two boxes
    assert (browse.value, browse.n, (browse.low, browse.high)) == (0.6, 5, wilson(3, 5))
    assert browse.high > 0.85 and browse.status == "within"
    assert kpi(tiny_map, "cart", KPI_CSAT).value == 1.0
    assert kpi(tiny_map, "cart", KPI_CSAT).status == "met"
    buy = kpi(tiny_map, "buy", KPI_CSAT)  # nobody satisfied, interval wholly below 85 %
    assert (buy.value, buy.n, buy.status, buy.unit) == (0.0, 6, "missed", "rate")
    nps = kpi(tiny_map, "cart", KPI_NPS)  # two promoters: 100, 4742 "good" from 30
    assert (nps.value, nps.n, nps.status, nps.unit) == (100.0, 2, "met", "nps")
    ces = kpi(tiny_map, "buy", KPI_CES)  # mean 4.5 of (4, 5); the t-interval reaches below 2
    assert (ces.value, ces.n, ces.unit, ces.status) == (4.5, 2, "score", "within")


def test_a_workspace_csat_target_changes_the_status():
    lenient = [Target("4742", "csat", "CSAT", "level_min", low=0.5)]
    m = build_map(tiny(), targets=lenient)
    assert kpi(m, "browse", KPI_CSAT).status == "met"
    assert kpi(m, "cart", KPI_NPS).status is None  # no NPS target in that list


def test_measured_emotion_is_csat_mapped_linearly(tiny_map):
    e = tiny_map.emotions["browse"]
    lo, hi = wilson(3, 5)
    assert (e.measured, e.n) == (pytest.approx(0.4), 5)
    assert (e.low, e.high) == (pytest.approx(4 * lo - 2), pytest.approx(4 * hi - 2))
    assert tiny_map.emotions["cart"].measured == 2.0
    assert tiny_map.emotions["buy"].measured == -2.0
    assert emotion_of(0.5) == 0.0 and emotion_of(0.85) == pytest.approx(1.4)


def test_pain_points_worst_step_low_csat_touchpoints_and_comments(tiny_map):
    # drop-offs 25 % and 33 %: only Cart → Buy is above the median of the others
    cart = items(tiny_map, "pain_points", "cart")
    step = cart[0]
    assert step.text == "Cart → Buy: 1 of 3 customers lost, a drop-off of"  # then 33.3%
    assert (step.value, step.n, step.code, step.source) == (
        pytest.approx(1 / 3), 3, "MD04", "measured")
    browse = items(tiny_map, "pain_points", "browse")
    floor = next(i for i in browse if i.text.startswith("Store floor"))
    assert (floor.value, floor.n, floor.status, floor.code) == (0.0, 2, "missed", "CS08")
    assert floor.text == "Store floor: CSAT below the 85.0% target, at"  # then 0.0%
    assert not [i for i in browse if i.text.startswith("Web shop")]  # CSAT 100 %
    comments = [i for i in browse if i.unit == "sentiment"]
    assert {i.text for i in comments} == {f"“{RUDE}”", f"“{WAITED}”"}
    assert all(i.value < 0 and i.source == "measured" for i in comments)
    till = next(i for i in items(tiny_map, "pain_points", "buy") if i.text.startswith("Till"))
    assert till.code in CHALLENGE_CODES


def test_stages_the_template_does_not_know_have_empty_assumed_cells(tiny_map):
    for lane in ("thoughts", "backstage", "opportunities"):
        for s in ("browse", "cart", "buy"):
            c = tiny_map.cells.get(lane, {}).get(s, Cell())
            assert (c.text, c.items, c.source) == ("", [], "assumed")
    assert all(e.assumed is None for e in tiny_map.emotions.values())


def test_digest_built_at_and_title(tiny_map):
    data = tiny()
    assert tiny_map.data_digest == data.digest()
    built = datetime.fromisoformat(tiny_map.built_at)
    assert built.utcoffset() == timedelta(0)
    assert build_map(data, title="Workshop March").title == "Workshop March"


def test_no_feedback_no_scores_no_emotion():
    m = build_map(tiny(feedback=None))
    assert all(e.measured is None for e in m.emotions.values())
    assert KPI_CSAT not in {i.text for i in items(m, "kpis", "browse")}
    assert kpi(m, "cart", KPI_REACHED).value == 3


@pytest.mark.parametrize(("kind", "name", "cross", "code"), [
    ("tp", "Online stock check", False, "MD06"),
    ("tp", "Installation hotline", False, "DT08"),
    ("tp", "Setup service desk", False, "CS08"),
    ("tp", "Setup guide", False, "DT01"),
    ("tp", "Web shop product page", False, "DT07"),
    ("step", "Cart → Purchase", False, "MD04"),
    ("step", "In-store demo → Purchase", False, "MD04"),
    ("step", "Online research → Store inquiry", True, "MD06"),
    ("step", "Store inquiry → Consultation", False, "CS08"),
    ("step", "Discovery → Online research", False, "DT07"),
])
def test_suggested_codes(kind, name, cross, code):
    assert suggest_code(kind, name, cross_channel=cross) == code
    assert code in CHALLENGE_CODES


# ----------------------------------------------------------------------------- templates


@pytest.mark.parametrize("isic", ["4773", "4741", "4742"])
def test_template_covers_every_default_stage(isic):
    stages = [s.key for s in default_journey(isic).stages]
    assert list(TEMPLATES[isic]) == stages
    for key in stages:
        t = TEMPLATES[isic][key]
        assert t["actions"] and t["thoughts"] and t["backstage"]
        assert -2 <= t["emotion"] <= 2
        assert t["opportunities"]
        for o in t["opportunities"]:
            assert o["code"] in CHALLENGE_CODES, (isic, key, o)
            assert o["owner"] in OWNERS, (isic, key, o)
            assert o["text"]


@pytest.mark.parametrize("isic", ["4773", "4741", "4742"])
def test_template_map_is_assumed_only(isic):
    m = template_map(isic)
    assert [s.key for s in m.stages] == [s.key for s in default_journey(isic).stages]
    every = [c for row in m.cells.values() for c in row.values()]
    assert every and all(c.source == "assumed" for c in every)
    assert all(i.source == "assumed" for c in every for i in c.items)
    assert all(e.measured is None and e.assumed is not None for e in m.emotions.values())
    assert m.data_digest is None
    first = m.stages[0].key
    assert m.cell("thoughts", first).text == TEMPLATES[isic][first]["thoughts"]


def test_template_map_unknown_industry():
    with pytest.raises(QueryError, match="4711"):
        template_map("4711")


# ----------------------------------------------------------------------------- sample data


@pytest.fixture(scope="module", params=["4773", "4741", "4742"])
def sample(request) -> tuple[str, Dataset, JourneyMap]:
    isic = request.param
    data = Dataset(default_journey(isic), **generate(isic))
    return isic, data, build_map(data)


def _key_of(data: Dataset, name: str) -> str:
    return next(s.key for s in data.journey.stages if s.name == name)


def test_sample_pain_points_hold_the_planted_touchpoint(sample):
    isic, data, m = sample
    facts = PLANTED_FACTS[isic]
    stage = _key_of(data, facts["low_csat_stage"])
    pains = items(m, "pain_points", stage)
    hit = [i for i in pains if i.text.startswith(facts["low_csat_touchpoint"] + ":")]
    assert len(hit) == 1
    assert hit[0].value <= facts["low_csat_expected_max"]
    assert hit[0].n >= facts["csat_min_answers"] and hit[0].status == "missed"
    assert hit[0].code in {"DT08", "CS08", "MD06"}
    assert any(i.unit == "sentiment" for i in pains)  # worst comments as evidence


def test_sample_pain_points_hold_the_planted_step(sample):
    isic, data, m = sample
    a, b = PLANTED_FACTS[isic]["high_dropoff_step"]
    pains = items(m, "pain_points", _key_of(data, a))
    step = [i for i in pains if i.text.startswith(f"{a} → {b}: ")]
    assert len(step) == 1
    assert step[0].value >= PLANTED_FACTS[isic]["high_dropoff_expected_min"]
    assert step[0].code in CHALLENGE_CODES
    assert kpi(m, _key_of(data, a), KPI_DROPOFF).value == step[0].value


def test_sample_planted_stage_has_the_lowest_measured_emotion(sample):
    # With CSAT top-two-box mapped linearly (0 → −2, 1 → +2), the planted stage is still above
    # zero (about 62–73 % satisfied), but it is the lowest point of the curve and below what the
    # 85 % CSAT target maps to.
    isic, data, m = sample
    planted = _key_of(data, PLANTED_FACTS[isic]["low_csat_stage"])
    measured = {k: e.measured for k, e in m.emotions.items() if e.measured is not None}
    assert min(measured, key=measured.get) == planted
    assert measured[planted] < emotion_of(0.85)
    assert m.emotions[planted].high < min(v for k, v in measured.items() if k != planted)
    assert kpi(m, planted, KPI_CSAT).status == "missed"


def test_sample_map_is_assumed_where_no_data_exists(sample):
    isic, _data, m = sample
    for s in m.stages:
        assert m.cell("thoughts", s.key).source == "assumed"
        assert m.cell("thoughts", s.key).text == TEMPLATES[isic][s.key]["thoughts"]
        assert m.emotions[s.key].assumed == TEMPLATES[isic][s.key]["emotion"]
        assert m.cell("touchpoints", s.key).source == "measured"
    assert m.flagged_stages()  # the templates' assumptions differ from the data somewhere


def test_sample_map_json_round_trip(sample):
    _, _, m = sample
    assert JourneyMap.from_json(m.to_json()) == m


# ----------------------------------------------------------------------------- rebuild


def _edit(m: JourneyMap) -> JourneyMap:
    """What a workshop does to a map: rename, hide, reorder, write, delete."""
    m = JourneyMap.from_json(m.to_json())
    m.stages[1].name = "Research (web + app)"
    m.stages[0].hidden = True
    m.stages = [m.stages[1], m.stages[0], *m.stages[2:]]
    m.lanes[3].hidden = True
    m.lanes[2].title = "Where they meet us"
    m.lanes = [m.lanes[0], m.lanes[5], *m.lanes[1:5], *m.lanes[6:]]
    m.cell("thoughts", "purchase").text = "Finally, it is mine!"
    m.cell("pain_points", "purchase").items.append(Item("Card terminal often down", code="DT08"))
    m.cell("opportunities", "support").items = []  # the team deleted the template's idea
    m.cell("backstage", "discovery").text = ""
    m.emotion("purchase").assumed = -1.5
    m.emotion("support").assumed = None
    m.title = "Workshop 12 March"
    return m


def test_rebuild_keeps_every_assumed_edit_and_refreshes_measured_content():
    data = Dataset(default_journey("4742"), **generate("4742", customers=600, seed=3))
    edited = _edit(build_map(data))
    newer = data.filter(start=datetime(2024, 7, 1))
    m = build_map(newer, previous=edited)
    fresh = build_map(newer)
    # layout and names from the edited map
    assert [(s.key, s.name, s.hidden) for s in m.stages] == [
        (s.key, s.name, s.hidden) for s in edited.stages]
    assert [(la.key, la.title, la.hidden) for la in m.lanes] == [
        (la.key, la.title, la.hidden) for la in edited.lanes]
    assert m.title == "Workshop 12 March"
    # assumed content kept, deleted template content not back
    assert m.cell("thoughts", "purchase").text == "Finally, it is mine!"
    assert m.cell("backstage", "discovery").text == ""
    assert m.cell("opportunities", "support").items == []
    assert m.cell("opportunities", "purchase").items == edited.cell(
        "opportunities", "purchase").items
    pains = m.cell("pain_points", "purchase").items
    assert Item("Card terminal often down", code="DT08") in pains
    assert (m.emotion("purchase").assumed, m.emotion("support").assumed) == (-1.5, None)
    # measured content is the new data's
    assert m.data_digest == newer.digest() != edited.data_digest
    for lane in ("touchpoints", "channels", "kpis", "actions"):
        for s in m.stages:
            got = [i for i in m.cells.get(lane, {}).get(s.key, Cell()).items
                   if i.source == "measured"]
            assert got == [i for i in fresh.cells.get(lane, {}).get(s.key, Cell()).items
                           if i.source == "measured"]
    assert [i for i in pains if i.source == "measured"] == fresh.cell(
        "pain_points", "purchase").items
    for s in m.stages:
        e, f = m.emotion(s.key), fresh.emotion(s.key)
        assert (e.measured, e.low, e.high, e.n) == (f.measured, f.low, f.high, f.n)
    assert JourneyMap.from_json(m.to_json()) == m


def test_rebuild_of_an_unchanged_map_changes_nothing_but_built_at():
    data = tiny()
    first = build_map(data)
    again = build_map(data, previous=first)
    again.built_at = first.built_at
    assert again == first


def test_rebuild_adds_new_journey_stages_and_keeps_removed_ones():
    old = template_map("4742")
    old.stages = [*old.stages[:-1], MapStage("unboxing", "Unboxing")]
    old.cell("thoughts", "unboxing").text = "Exciting!"
    m = build_map(Dataset(default_journey("4742"), **generate("4742", customers=200)),
                  previous=old)
    assert [s.key for s in m.stages][-2:] == ["unboxing", "loyalty_advocacy"]
    assert m.cell("thoughts", "unboxing").text == "Exciting!"
    assert m.cell("thoughts", "loyalty_advocacy").text == TEMPLATES["4742"][
        "loyalty_advocacy"]["thoughts"]


def test_an_assumed_cell_with_text_stays_assumed_beside_measured_items():
    old = template_map("4742")
    old.cell("actions", "purchase").text = "Haggles over the price"
    m = build_map(Dataset(default_journey("4742"), **generate("4742", customers=200)),
                  previous=old)
    cell = m.cell("actions", "purchase")
    assert (cell.text, cell.source) == ("Haggles over the price", "assumed")
    assert cell.items and all(i.source == "measured" for i in cell.items)


# ----------------------------------------------------------------------------- segments


def test_first_channel_per_customer():
    fc = dict(first_channel(TINY_EVENTS).iter_rows())
    assert fc == {"browsed_web_bought_in_store": "online", "browsed_twice_left_cart": "online",
                  "app_look_only": "online", "walked_in_bought": "store"}
    data = with_first_channel(tiny())
    assert data.events.height == TINY_EVENTS.height
    assert data.events["customer_id"].to_list() == TINY_EVENTS["customer_id"].to_list()


def test_first_channel_skips_phone_and_uses_file_order_on_ties():
    ev = pl.DataFrame({"customer_id": ["x", "x", "x", "y"], "timestamp": [T0, T0, T0, T0],
                       "channel": ["phone", "In-Store", "web", "phone"]})
    assert first_channel(ev).rows() == [("x", "store")]


def test_segment_map_by_first_channel():
    data = with_first_channel(tiny())
    store = build_map(data, segment=("first_channel", "store"))
    online = build_map(data, segment=("first_channel", "online"))
    assert store.segment == "first_channel: store"
    assert [kpi(store, s, KPI_REACHED).value for s in ("browse", "cart", "buy")] == [1, 1, 1]
    assert [kpi(online, s, KPI_REACHED).value for s in ("browse", "cart", "buy")] == [3, 2, 1]
    cmp = compare_maps(online, store)
    assert cmp["stage"].to_list() == ["browse", "cart", "buy"]
    row = cmp.row(1, named=True)
    assert (row["reached_a"], row["reached_b"], row["reached_diff"]) == (2, 1, -1)
    assert (row["dropoff_a"], row["dropoff_b"], row["dropoff_diff"]) == (0.5, 0.0, -0.5)
    assert cmp["csat_a"].null_count() == 3  # feedback has no customer_id: nobody's answers


def test_segment_maps_of_the_sample_differ():
    data = Dataset(default_journey("4773"), **generate("4773", customers=800))
    a = build_map(data, segment=("segment", "researcher"))
    b = build_map(data, segment=("segment", "walk-in"))
    assert a.segment == "segment: researcher"
    cmp = compare_maps(a, b)
    assert cmp.height == len(data.journey.stages)
    assert cmp["reached_a"].to_list() != cmp["reached_b"].to_list()
    diff = cmp.filter(pl.col("stage") == "store_inquiry").row(0, named=True)
    assert diff["csat_diff"] == pytest.approx(diff["csat_b"] - diff["csat_a"])
    assert diff["emotion_diff"] == pytest.approx(diff["emotion_b"] - diff["emotion_a"])
    assert set(cmp.columns) >= {"reached_diff", "dropoff_diff", "csat_diff", "emotion_diff"}


def test_first_channel_segment_is_derived_when_missing():
    derived = build_map(tiny(), segment=("first_channel", "store"))
    given_ = build_map(with_first_channel(tiny()), segment=("first_channel", "store"))
    assert derived.cells["kpis"] == given_.cells["kpis"]
    assert kpi(derived, "buy", KPI_REACHED).value == 1


def test_segment_on_a_missing_column_says_so():
    with pytest.raises(QueryError, match="first_channel"):
        build_map(tiny(events=TINY_EVENTS.drop("channel")), segment=("first_channel", "online"))
    with pytest.raises(QueryError, match="region"):
        build_map(tiny(), segment=("region", "North"))
    with pytest.raises(QueryError, match="segment"):
        build_map(tiny(), segment=("segment", "researcher"))


def test_compare_maps_stages_only_in_b_come_last():
    a = template_map("4742")
    b = template_map("4741")
    cmp = compare_maps(a, b)
    keys = cmp["stage"].to_list()
    assert keys[: len(a.stages)] == [s.key for s in a.stages]
    assert "setup" in keys[len(a.stages):]
    assert cmp["reached_diff"].null_count() == cmp.height


# ----------------------------------------------------------------------------- property


_floats = st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=32))
_text = st.text(max_size=12)
_items = st.builds(
    Item, text=_text, source=st.sampled_from(["measured", "assumed"]), value=_floats,
    n=st.one_of(st.none(), st.integers(0, 10**6)), low=_floats, high=_floats,
    status=st.one_of(st.none(), st.sampled_from(["met", "within", "missed", "no data"])),
    code=st.one_of(st.none(), st.sampled_from(sorted(CHALLENGE_CODES))),
    owner=st.one_of(st.none(), st.sampled_from(OWNERS)), unit=st.one_of(st.none(), _text))
_emotion_value = st.one_of(st.none(), st.floats(-2, 2, allow_nan=False))


@st.composite
def maps(draw) -> JourneyMap:
    keys = draw(st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), min_size=1,
                         max_size=6, unique=True))
    stages = [MapStage(k, draw(_text), draw(st.booleans())) for k in keys]
    lanes = [Lane(k, draw(_text), draw(st.booleans()))
             for k, _ in draw(st.permutations(LANES))]
    cells: dict[str, dict[str, Cell]] = {}
    for lane in draw(st.lists(st.sampled_from(LANE_KEYS), unique=True)):
        for k in draw(st.lists(st.sampled_from(keys), unique=True)):
            cells.setdefault(lane, {})[k] = Cell(
                draw(_text), draw(st.sampled_from(["measured", "assumed"])),
                draw(st.lists(_items, max_size=3)), draw(st.one_of(st.none(),
                                                                   st.integers(0, 10**6))))
    emotions = {k: Emotion(draw(_emotion_value), draw(_emotion_value), draw(_emotion_value),
                           draw(_emotion_value), draw(st.one_of(st.none(), st.integers(0, 999))))
                for k in draw(st.lists(st.sampled_from(keys), unique=True))}
    return JourneyMap(draw(_text), draw(st.sampled_from(["4773", "4741", "4742"])), stages,
                      lanes, cells, emotions, draw(st.one_of(st.none(), _text)),
                      draw(st.one_of(st.none(), _text)), draw(st.one_of(st.none(), _text)))


@settings(max_examples=60, deadline=None)
@given(maps())
def test_any_map_survives_the_json_round_trip(m):
    assert JourneyMap.from_json(m.to_json()) == m


@settings(max_examples=25, deadline=None)
@given(maps())
def test_rebuilding_any_edited_map_keeps_its_assumed_content(old):
    data = Dataset(default_journey(old.isic), **generate(old.isic, customers=60))
    m = build_map(data, previous=old)
    assert [s.key for s in m.stages][: len(old.stages)] == [s.key for s in old.stages]
    assert [(la.key, la.title, la.hidden) for la in m.lanes] == [
        (la.key, la.title, la.hidden) for la in old.lanes]
    for lane, row in old.cells.items():
        for k, c in row.items():
            got = m.cells[lane][k]
            assert [i for i in got.items if i.source == "assumed"] == [
                i for i in c.items if i.source == "assumed"]
            if c.source == "assumed" and c.text:
                assert got.text == c.text
    for k, e in old.emotions.items():
        assert m.emotions[k].assumed == e.assumed
    assert JourneyMap.from_json(m.to_json()) == m


def test_a_journey_stage_without_events_is_no_data_on_the_map():
    # the team added "Demo" to the journey, but no event has it: the map must not show
    # "Customers reached 0", a 100% drop-off into it, or zeros at every later stage
    journey = journey_from_rows("4742", ["Browse", "Demo", "Cart", "Buy"],
                                {"cart": "Cart", "purchase": "Buy"})
    data = Dataset(journey, events=WALK_IN)
    m = build_map(data)
    assert stage_customers(data) == {"browse": 3, "cart": 2, "buy": 1}  # chain skips Demo
    assert not items(m, "kpis", "demo")
    assert [i.text for i in items(m, "kpis", "browse")] == [KPI_REACHED]  # no drop-off item
    assert kpi(m, "cart", KPI_DROPOFF).value == pytest.approx(0.5)
    pains = [i.text for k in ("browse", "demo", "cart") for i in items(m, "pain_points", k)]
    assert not [p for p in pains if "Demo" in p]


def test_metrics_friction_and_report_leave_a_stage_without_events_out():
    from cjm_core.analytics.scorecard import all_metrics, top_friction
    from cjm_core.present.report import build_report

    journey = journey_from_rows("4742", ["Browse", "Demo", "Cart", "Buy"],
                                {"cart": "Cart", "purchase": "Buy"})
    data = Dataset(journey, events=WALK_IN)
    steps = {m.by["step"]: m.value for m in all_metrics(data) if m.metric == "stage_conversion"}
    assert steps == {"Browse → Cart": pytest.approx(2 / 3), "Cart → Buy": pytest.approx(0.5)}
    assert not [f for f in top_friction(data) if "Demo" in f.name]
    html = build_report(data)
    assert "No data for Demo: no event has this stage" in html


@pytest.mark.parametrize("isic", ["4742", "4773"])
def test_map_step_pains_follow_the_overviews_friction_rule(isic, store):
    from cjm_core.analytics.friction import step_candidates
    from cjm_core.analytics.funnel import journey_funnel
    from cjm_core.demo.sample import generate

    tables = generate(isic, 2000, seed=3)
    data = Dataset(default_journey(isic), **tables)
    m = build_map(data)
    drawn = [i.text for k in m.cells.get("pain_points", {}) for i in items(m, "pain_points", k)
             if i.text.endswith("customers lost, a drop-off of")]
    table = journey_funnel(data.journey, data.events, data.funnel_counts).table
    ranked = sorted((f for f in step_candidates(table) if f.raw_impact > 0),
                    key=lambda f: -f.raw_impact)[:2]
    assert sorted(drawn) == sorted(f"{f.name}: {f.evidence['lost']:,} of {f.evidence['n']:,} "
                                   "customers lost, a drop-off of" for f in ranked)
