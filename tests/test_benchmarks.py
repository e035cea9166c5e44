"""Benchmarks: every DESIGN §6 row present, evaluated on hand-made metrics (met / within / missed /
no data), relative targets on hand-made current/previous periods, bands, JSON round trip."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from cjm_core.errors import CJMError
from cjm_core.industries.targets import (
    SEEDS,
    TARGETS,
    Gap,
    Target,
    availability,
    evaluate,
    target_text,
    targets_for,
    targets_from_json,
    targets_table,
    targets_to_json,
)
from cjm_core.metric import Metric
from cjm_core.model.dataset import Dataset
from cjm_core.model.journey import default_journey, journey_from_rows

# DESIGN §6, row by row: (isic, metric, cut, kind, low, high)
DESIGN_ROWS = [
    ("4773", "csat", {"touchpoint": "*"}, "level_min", 0.85, None),
    ("4773", "cart_abandonment", {}, "relative_change", None, -0.10),
    ("4773", "inquiry_consultation_dropoff", {}, "relative_change", None, -0.05),
    ("4773", "resolution_hours_mean", {}, "relative_change", None, -0.15),
    ("4773", "fcr", {}, "level_min", 0.80, None),
    ("4773", "ces", {}, "level_max", None, 2.0),
    ("4773", "omnichannel_conversion", {}, "relative_change", 0.10, None),
    ("4741", "csat", {"stage_role": "purchase"}, "level_min", 0.85, None),
    ("4741", "csat", {"stage_role": "support"}, "level_min", 0.85, None),
    ("4741", "nps", {}, "level_min", 30.0, None),
    ("4741", "omnichannel_conversion", {}, "relative_range", 0.10, 0.15),
    ("4741", "repeat_purchase_rate", {}, "level_min", 0.25, None),
    ("4741", "clv", {}, "relative_range", 0.05, 0.10),
    ("4742", "nps", {}, "bands", None, None),
    ("4742", "online_to_store_conversion", {}, "range", 0.05, 0.10),
    ("4742", "ces", {"stage_role": "support"}, "level_max", None, 2.0),
    ("4742", "repeat_purchase_rate", {}, "range", 0.20, 0.30),
    ("4742", "resolution_hours_median", {"complexity": "complex"}, "by_complexity", 24.0, 48.0),
    ("4742", "fcr", {"complexity": "simple"}, "by_complexity", 0.80, None),
]


def find(isic, metric, cut=None):
    hits = [t for t in TARGETS if (t.isic, t.metric) == (isic, metric)
            and (cut is None or t.cut == cut)]
    assert len(hits) == 1, (isic, metric, cut, hits)
    return hits[0]


@pytest.mark.parametrize("isic,metric,cut,kind,low,high", DESIGN_ROWS)
def test_every_design_row_is_a_target(isic, metric, cut, kind, low, high):
    t = find(isic, metric, cut)
    assert (t.kind, t.low, t.high) == (kind, low, high)
    assert t.source == SEEDS[isic] and t.wording and t.label


def test_no_extra_targets_and_seed_files_match_industries():
    assert len(TARGETS) == len(DESIGN_ROWS)
    seeds = Path(__file__).resolve().parents[2] / "shared"
    if not (seeds / "seeds").is_dir():
        pytest.skip("the seed documents are not beside the repository")
    for isic, rel in SEEDS.items():
        text = (seeds / rel).read_text(encoding="utf-8")
        assert f"ISIC {isic}" in text.splitlines()[1]
        for t in targets_for(isic):
            assert t.wording.split(" (")[0].split(",")[0] in text, t.wording


def test_scales_bands_and_strictness():
    assert find("4773", "ces").scale == "1-7" and find("4773", "ces").strict
    assert find("4742", "ces", {"stage_role": "support"}).scale == "1-5"
    assert find("4742", "nps").bands == (("good", 30.0), ("excellent", 50.0))
    texts = {(t.isic, t.metric, t.label): target_text(t) for t in TARGETS}
    assert texts["4773", "ces", "Customer effort score (1–7)"] == "< 2 (1–7 scale)"
    assert texts["4773", "csat", "CSAT per major touchpoint"] == "≥ 85%"
    assert texts["4773", "cart_abandonment", "Online cart abandonment"] == (
        "≤ −10% vs the previous period")
    assert texts["4741", "clv", "Customer lifetime value"] == "+5% to +10% vs the previous period"
    assert texts["4742", "nps", "Net Promoter Score"] == "≥ 30 good, ≥ 50 excellent"
    assert texts["4742", "resolution_hours_median", "Time to resolution, complex issues"] == (
        "24 h to 48 h")


def M(metric, value, n=200, low=None, high=None, unit="rate", **by):
    return Metric(metric, value, n=n, low=low, high=high, by=dict(by), unit=unit)


def gaps_by(gaps):
    return {(g.metric, tuple(sorted(g.by.items()))): g for g in gaps}


# ----------------------------------------------------------------------------- 4773


def test_4773_levels_per_touchpoint_and_fcr_ces():
    current = [
        M("csat", 0.83, low=0.79, high=0.86),  # overall: not a per-touchpoint gap
        M("csat", 0.90, low=0.86, high=0.93, touchpoint="Store counter"),
        M("csat", 0.80, low=0.75, high=0.86, touchpoint="Web shop"),
        M("csat", 0.60, low=0.50, high=0.70, touchpoint="Hotline"),
        M("csat", 0.70, low=0.60, high=0.80, stage="Purchase"),
        M("fcr", 0.82, low=0.78, high=0.85),
        M("ces", 2.0, low=1.8, high=2.2, unit="score"),
    ]
    g = gaps_by(evaluate(targets_for("4773"), current))
    tp = {k[1][0][1]: v for k, v in g.items() if k[0] == "csat"}
    assert set(tp) == {"Store counter", "Web shop", "Hotline"}
    assert tp["Store counter"].status == "met"
    assert tp["Web shop"].status == "within"
    assert tp["Hotline"].status == "missed"
    assert tp["Hotline"].distance == pytest.approx(-0.25)
    assert tp["Store counter"].distance == pytest.approx(0.05)
    assert tp["Web shop"].n == 200 and tp["Web shop"].target == "≥ 85%"
    assert g["fcr", ()].status == "met"
    ces = g["ces", ()]
    assert (ces.status, ces.distance) == ("within", 0.0)  # "< 2" is not met by exactly 2
    assert ces.target == "< 2 (1–7 scale)"


def test_4773_relative_targets_on_current_and_previous():
    current = [
        M("cart_abandonment", 0.20, n=1000, low=0.18, high=0.22),
        M("inquiry_consultation_dropoff", 0.60, n=80, low=0.49, high=0.70),
        M("resolution_hours_mean", 30.0, n=50, low=20.0, high=40.0, unit="hours"),
        M("omnichannel_conversion", 0.40, n=500, low=0.396, high=0.404),
    ]
    previous = [
        M("cart_abandonment", 0.25, n=1000, low=0.23, high=0.27),
        M("inquiry_consultation_dropoff", 0.62, n=80, low=0.51, high=0.72),
        M("resolution_hours_mean", 30.0, n=50, low=29.0, high=31.0, unit="hours"),
        M("omnichannel_conversion", 0.40, n=500, low=0.396, high=0.404),
    ]
    g = gaps_by(evaluate(targets_for("4773"), current, previous))
    cart = g["cart_abandonment", ()]
    assert cart.status == "met" and cart.value == pytest.approx(-0.2)
    assert cart.distance == pytest.approx(0.1)  # 10 points of change better than −10%
    assert (cart.current, cart.previous, cart.unit) == (0.20, 0.25, "relative_change")
    # delta method on the log ratio, from each interval's half width / 1.96
    z = 1.959963984540054
    sd = math.sqrt((0.02 / z / 0.20) ** 2 + (0.02 / z / 0.25) ** 2)
    assert cart.low == pytest.approx(0.8 * math.exp(-z * sd) - 1)
    assert cart.high == pytest.approx(0.8 * math.exp(z * sd) - 1)
    inq = g["inquiry_consultation_dropoff", ()]
    assert inq.value == pytest.approx(0.60 / 0.62 - 1) and inq.status == "within"
    res = g["resolution_hours_mean", ()]
    assert res.value == 0.0 and res.status == "within"  # wide current interval reaches −15%
    omni = g["omnichannel_conversion", ()]
    assert omni.status == "missed" and omni.distance == pytest.approx(-0.10)


def test_relative_targets_without_previous_or_baseline():
    current = [M("cart_abandonment", 0.2), M("omnichannel_conversion", 0.3)]
    g = gaps_by(evaluate(targets_for("4773"), current))
    assert g["cart_abandonment", ()].status == "no data"
    assert g["cart_abandonment", ()].reason == "needs a previous period to compare with"
    g = gaps_by(evaluate(targets_for("4773"), current,
                         [M("cart_abandonment", 0.0), M("fcr", 0.5)]))
    assert "previous period's value is 0" in g["cart_abandonment", ()].reason
    assert g["omnichannel_conversion", ()].reason == (
        "no omnichannel_conversion value in the previous period")


def test_no_data_names_missing_table_or_role():
    available = {"events": True, "events.stage": True, "events.channel": True,
                 "role.purchase": True, "role.cart": False, "role.inquiry": True,
                 "role.consultation": True, "support": True, "support.resolved_at": False,
                 "support.first_contact_resolved": False, "support.contacts": False,
                 "feedback": False}
    g = gaps_by(evaluate(targets_for("4773"), [], [], available))
    assert g["cart_abandonment", ()].reason == "needs the journey's cart stage role"
    assert g["resolution_hours_mean", ()].reason == "needs a support table with resolved_at"
    assert g["fcr", ()].reason == "needs a support table with first_contact_resolved or contacts"
    csat = g["csat", (("touchpoint", "*"),)]
    assert csat.reason == ("needs a feedback table with a csat score column; "
                           "needs a touchpoint column")
    assert g["ces", ()].reason == "needs a ces score column in the feedback or support table"
    # data there but the metric absent: say so, without a table to blame
    g = gaps_by(evaluate(targets_for("4773"), [], [], {**available, "role.cart": True}))
    assert g["cart_abandonment", ()].reason == "no cart_abandonment value in the data"
    assert all(x.status == "no data" and x.value is None for x in g.values())
    # without `available`, the reason lists what the metric needs
    g = gaps_by(evaluate(targets_for("4773"), []))
    assert "needs a support table with resolved_at" in g["resolution_hours_mean", ()].reason


def test_a_role_no_data_stage_plays_is_no_data_even_with_a_figure():
    # cart abandonment measured against a purchase stage without events reads 100%: not a
    # measurement. Omnichannel conversion may still count orders as purchases.
    current = [M("cart_abandonment", 1.0), M("omnichannel_conversion", 0.4)]
    previous = [M("cart_abandonment", 0.5), M("omnichannel_conversion", 0.3)]
    available = {"events": True, "events.stage": True, "events.channel": True,
                 "role.cart": True, "role.purchase": False, "orders": True}
    g = gaps_by(evaluate(targets_for("4773"), current, previous, available))
    cart = g["cart_abandonment", ()]
    assert (cart.status, cart.value, cart.reason) == (
        "no data", None, "needs the journey's purchase stage role")
    assert g["omnichannel_conversion", ()].status == "met"
    g = gaps_by(evaluate(targets_for("4773"), current, previous,
                         {**available, "orders": False}))
    assert g["omnichannel_conversion", ()].status == "no data"


def test_available_keys_not_given_are_not_blamed_and_stage_role_alias():
    a = {"support": True, "support.resolved_at": False, "stage_role.cart": False}
    g = gaps_by(evaluate(targets_for("4773"), [], [], a))
    assert g["cart_abandonment", ()].reason == "needs the journey's cart stage role"
    assert g["fcr", ()].reason == "no fcr value in the data"  # its columns are not named
    assert g["resolution_hours_mean", ()].reason == "needs a support table with resolved_at"
    g = gaps_by(evaluate(targets_for("4773"), [], [], {"support": False}))
    assert g["fcr", ()].reason == "needs a support table with first_contact_resolved or contacts"


def test_relative_targets_use_recent_when_given():
    whole = [M("cart_abandonment", 0.30)]
    recent = [M("cart_abandonment", 0.20)]
    previous = [M("cart_abandonment", 0.25)]
    cart = find("4773", "cart_abandonment")
    assert evaluate([cart], whole, previous)[0].status == "missed"
    g = evaluate([cart], whole, previous, recent=recent)[0]
    assert (g.status, g.current, g.previous) == ("met", 0.20, 0.25)
    fcr = find("4773", "fcr")
    assert evaluate([fcr], [M("fcr", 0.9)], recent=[M("fcr", 0.1)])[0].status == "met"


def test_availability_from_a_dataset():
    import polars as pl

    ds = Dataset(default_journey("4742"),
                 support=pl.DataFrame({"opened_at": [1], "resolved_at": [None]}))
    a = availability(ds)
    assert a["support"] and a["support.opened_at"] and not a["support.resolved_at"]
    assert not a["events"] and a["role.purchase"] and not a["role.cart"]
    g = evaluate([find("4773", "resolution_hours_mean")], [], available=a)
    assert g[0].reason == "needs a support table with resolved_at"


# ----------------------------------------------------------------------------- 4741


def test_4741_stage_role_cuts_levels_and_relative_ranges():
    current = [
        M("csat", 0.88, low=0.84, high=0.91, stage="Purchase"),
        M("csat", 0.70, low=0.62, high=0.77, stage="Support"),
        M("nps", 25.0, n=400, low=18.0, high=32.0, unit="nps"),
        M("omnichannel_conversion", 0.50, low=0.47, high=0.53),
        M("repeat_purchase_rate", 0.20, low=0.18, high=0.22),
        M("clv", 105.0, low=100.0, high=110.0, unit="money"),
    ]
    previous = [M("omnichannel_conversion", 0.40, low=0.37, high=0.43),
                M("clv", 100.0, low=95.0, high=105.0, unit="money")]
    g = gaps_by(evaluate(targets_for("4741"), current, previous))
    assert g["csat", (("stage", "Purchase"),)].status == "met"
    assert g["csat", (("stage", "Support"),)].status == "missed"
    nps = g["nps", ()]
    assert (nps.status, nps.distance, nps.target) == ("within", -5.0, "≥ 30")
    omni = g["omnichannel_conversion", ()]
    assert omni.status == "met" and omni.value == pytest.approx(0.25)
    assert omni.detail == "beyond the target range (above its top)"
    assert g["repeat_purchase_rate", ()].status == "missed"
    clv = g["clv", ()]
    assert clv.status == "met" and clv.detail == "inside the target range"
    assert clv.target == "+5% to +10% vs the previous period"


def test_stage_role_missing_from_a_custom_journey():
    j = journey_from_rows("4741", ["Browse", "Buy"], {"purchase": "Buy"})
    current = [M("csat", 0.9, stage="Buy")]
    g = gaps_by(evaluate(targets_for("4741"), current, journey=j))
    assert g["csat", (("stage", "Buy"),)].status == "met"
    support = g["csat", (("stage_role", "support"),)]
    assert support.reason == "needs the journey's support stage role"


# ----------------------------------------------------------------------------- 4742


@pytest.mark.parametrize("value,low,high,status,band", [
    (55.0, 50.0, 60.0, "met", "excellent"),
    (42.0, 35.0, 49.0, "met", "good"),
    (28.0, 20.0, 36.0, "within", "below good"),
    (10.0, 2.0, 18.0, "missed", "below good"),
])
def test_4742_nps_bands(value, low, high, status, band):
    nps = find("4742", "nps")
    g = evaluate([nps], [M("nps", value, low=low, high=high, unit="nps")])[0]
    assert (g.status, g.band, g.distance) == (status, band, value - 30.0)


def test_4742_ranges_ces_and_resolution_by_complexity():
    current = [
        M("online_to_store_conversion", 0.04, low=0.02, high=0.06),
        M("ces", 1.8, low=1.6, high=2.0, unit="score", stage="Support"),
        M("ces", 3.0, low=2.8, high=3.2, unit="score"),  # overall: not the support cut
        M("repeat_purchase_rate", 0.35, low=0.31, high=0.39),
        M("resolution_hours_median", 60.0, low=50.0, high=70.0, unit="hours",
          complexity="complex"),
        M("resolution_hours_median", 2.0, low=1.0, high=3.0, unit="hours", complexity="simple"),
        M("fcr", 0.70, low=0.62, high=0.77, complexity="simple"),
    ]
    g = gaps_by(evaluate(targets_for("4742"), current))
    o2s = g["online_to_store_conversion", ()]
    assert o2s.status == "within" and o2s.distance == pytest.approx(-0.01)
    ces = g["ces", (("stage", "Support"),)]
    assert ces.status == "met" and ces.distance == pytest.approx(0.2)
    rep = g["repeat_purchase_rate", ()]
    assert rep.status == "met" and rep.detail == "beyond the target range (above its top)"
    cx = g["resolution_hours_median", (("complexity", "complex"),)]
    assert (cx.status, cx.distance, cx.unit) == ("missed", -12.0, "hours")
    simple = g["fcr", (("complexity", "simple"),)]
    assert simple.status == "missed" and simple.distance == pytest.approx(-0.10)
    fast = evaluate([find("4742", "resolution_hours_median")],
                    [M("resolution_hours_median", 10.0, unit="hours", complexity="complex")])[0]
    assert fast.status == "met" and fast.detail == "beyond the target range (below its bottom)"
    inside = evaluate([find("4742", "online_to_store_conversion")],
                      [M("online_to_store_conversion", 0.07, low=0.05, high=0.09)])[0]
    assert inside.status == "met" and inside.detail == "inside the target range"


def test_value_none_is_no_data_and_to_dict():
    g = evaluate([find("4741", "nps")], [M("nps", None, n=0, unit="nps")])[0]
    assert g.status == "no data"
    d = evaluate([find("4741", "nps")], [M("nps", 31.0, low=25.0, high=37.0, unit="nps")]
                 )[0].to_dict()
    assert {"metric", "value", "target", "status", "reason", "low", "high", "distance", "by",
            "source", "n"} <= set(d)
    assert (d["metric"], d["status"], d["reason"]) == ("nps", "met", None)
    json.dumps(d)
    assert isinstance(Gap(**d), Gap)


# ----------------------------------------------------------------------------- editing


def test_json_round_trip_and_overrides():
    text = targets_to_json(TARGETS)
    assert targets_from_json(text) == TARGETS
    nps = find("4741", "nps")
    mine = [replace(nps, low=40.0), replace(find("4741", "clv"), enabled=False),
            Target("4741", "fcr", "FCR", "level_min", low=0.9, source="workspace"),
            replace(find("4742", "nps"), bands=(("good", 0.0),))]  # other industry: ignored
    back = targets_from_json(targets_to_json(mine))
    assert back == mine
    got = targets_for("4741", back)
    assert next(t for t in got if t.metric == "nps").low == 40.0
    assert "clv" not in {t.metric for t in got}
    assert any(t.metric == "fcr" and t.low == 0.9 for t in got)
    assert len(got) == len(targets_for("4741"))  # one replaced, one hidden, one added
    assert find("4742", "nps") in targets_for("4742")
    assert next(t for t in targets_for("4742", back) if t.metric == "nps").bands == (
        ("good", 0.0),)


@pytest.mark.parametrize("text,match", [
    ("not json", "not valid JSON"),
    ('{"a": 1}', "must be a JSON list"),
    ('[{"isic": "4741", "metric": "nps", "label": "x", "kind": "levels"}]', "unknown kind"),
    ('[{"isic": "4741", "metric": "nps", "label": "x", "kind": "level_min"}]', "needs 'low'"),
    ('[{"isic": "4741", "metric": "nps", "label": "x", "kind": "range", "low": 5, "high": 1}]',
     "above high"),
    ('[{"isic": "4741", "metric": "nps", "kind": "level_min", "low": 1, "colour": 1}]',
     "unknown fields"),
])
def test_bad_target_json_is_a_plain_message(text, match):
    with pytest.raises(CJMError, match=match):
        targets_from_json(text)


def test_targets_table_for_the_page():
    tab = targets_table(targets_for("4773"))
    assert tab.height == 7
    assert tab.filter(tab["metric"] == "ces")["target"].item() == "< 2 (1–7 scale)"
