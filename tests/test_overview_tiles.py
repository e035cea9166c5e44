"""The Overview's pictures as numbers (issue 13 §3), on frames small enough to check by hand:
headline tiles (now, the 12 months before, the change, the monthly line), the funnel's bars,
the scorecard's bullet rows against each target's band, the page each friction point opens, and
the two chart builders' specs."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from cjm_core.analytics.friction import Friction
from cjm_core.analytics.overview_tiles import (
    HEADLINE,
    Tile,
    bullet_rows,
    friction_link,
    funnel_bars,
    headline_tiles,
    span,
)
from cjm_core.industries.targets import Gap
from cjm_core.model.dataset import Dataset
from cjm_core.model.journey import journey_from_rows
from cjm_core.model.settings import FUNNEL_STEPS
from cjm_core.present.charts import STATUS_COLOURS, ZONE_COLOURS, bullet_chart, compact_funnel_chart

JOURNEY = journey_from_rows("4742", ["Look", "Buy"], {})


def d(y, m, day, h=10):
    return datetime(y, m, day, h)


# 2023 (the 12 months before): p1 looked and bought, p2 only looked      -> 2 in, 50% convert
# 2024 (the last 12 months): c1, c3, c4 bought, c2 only looked            -> 4 in, 75% convert
EVENTS = pl.DataFrame([
    ("p1", d(2023, 3, 1), "Look"), ("p1", d(2023, 3, 2), "Buy"),
    ("p2", d(2023, 5, 1), "Look"),
    ("c1", d(2024, 1, 10), "Look"), ("c1", d(2024, 1, 11), "Buy"),
    ("c2", d(2024, 1, 20), "Look"),
    ("c3", d(2024, 2, 5), "Look"), ("c3", d(2024, 2, 6), "Buy"),
    ("c4", d(2024, 12, 31, 9), "Look"), ("c4", d(2024, 12, 31, 10), "Buy"),
], schema=["customer_id", "timestamp", "stage"], orient="row")
# CSAT 1 of 2 -> 3 of 4; NPS 0 -> 25; CES 3.0 -> 2.0
FEEDBACK = pl.DataFrame([
    (d(2023, 6, 1), 5, 10, 3), (d(2023, 6, 2), 2, 0, 3),
    (d(2024, 1, 5), 5, 10, 2), (d(2024, 1, 6), 4, 9, 2),
    (d(2024, 12, 1), 4, 7, 1), (d(2024, 12, 2), 1, 3, 3),
], schema=["timestamp", "csat", "nps", "ces"], orient="row")
# repeat buyers: a of a, b in 2023 (50%); a of a, b, c, d in 2024 (25%)
ORDERS = pl.DataFrame([
    ("a", d(2023, 2, 1)), ("a", d(2023, 3, 1)), ("b", d(2023, 4, 1)),
    ("a", d(2024, 3, 1)), ("a", d(2024, 4, 1)), ("b", d(2024, 5, 1)),
    ("c", d(2024, 6, 1)), ("d", d(2024, 7, 1)),
], schema=["customer_id", "order_date"], orient="row").with_columns(amount=pl.lit(10.0))


@pytest.fixture(scope="module")
def tiles():
    return headline_tiles(Dataset(JOURNEY, events=EVENTS, feedback=FEEDBACK, orders=ORDERS))


def test_tiles_now_before_and_change_by_hand(tiles):
    got = {t.name: t for t in tiles.tiles}
    assert list(got) == list(HEADLINE)
    want = {  # value now, before, shown, change shown, arrow, colour
        "customers": (4, 2, "4", "+2 (+100.0%)", "up", "green"),
        "overall_conversion": (0.75, 0.5, "75.0%", "+25.0 pp", "up", "green"),
        "csat": (0.75, 0.5, "75.0%", "+25.0 pp", "up", "green"),
        "nps": (25.0, 0.0, "25", "+25 points", "up", "green"),
        "ces": (2.0, 3.0, "2.00", "−1.00", "down", "green"),  # less effort is better
        "repeat_purchase_rate": (0.25, 0.5, "25.0%", "−25.0 pp", "down", "red"),
    }
    for name, (now, before, shown, change, arrow, colour) in want.items():
        t = got[name]
        assert (t.value, t.previous) == (pytest.approx(now), pytest.approx(before)), name
        assert (t.value_text, t.delta_text, t.arrow, t.colour) == (shown, change, arrow,
                                                                   colour), name
    assert (tiles.current, tiles.compared, tiles.note) == ("Jan–Dec 2024", "vs Jan–Dec 2023",
                                                           None)
    assert got["repeat_purchase_rate"].label == "Repeat buyers"
    assert got["customers"].label == "Customers entering"


def test_tile_lines_month_by_month(tiles):
    got = {t.name: t for t in tiles.tiles}
    # entrants per month of entry
    assert got["customers"].periods == ("2024-01", "2024-02", "2024-12")
    assert got["customers"].series == (2.0, 1.0, 1.0)
    # CSAT, NPS and CES per month of the answer
    assert got["csat"].series == (1.0, 0.5) and got["csat"].periods == ("2024-01", "2024-12")
    assert got["nps"].series == pytest.approx((100.0, -50.0))
    assert got["ces"].series == pytest.approx((2.0, 2.0))
    # conversion over the 12 months up to each month's end: Jan p1 p2 c1 c2 = 2/4; Feb adds c3
    # (p1's look on 1 Mar 2023 is still inside) = 3/5; Mar and Apr p2 c1 c2 c3 = 2/4; May to
    # Nov c1 c2 c3 = 2/3; Dec c1..c4 = 3/4, the tile's own figure
    conversion = got["overall_conversion"]
    assert len(conversion.periods) == 12
    assert conversion.series == pytest.approx([0.5, 0.6, 0.5, 0.5] + [2 / 3] * 7 + [0.75])
    assert conversion.series[-1] == conversion.value
    repeat = got["repeat_purchase_rate"]
    assert repeat.series[0] == 0.5 and repeat.series[-1] == repeat.value == 0.25
    assert repeat.series_note == "over the 12 months up to each month"


def test_without_dates_the_figures_of_all_the_data_and_a_note():
    fb = pl.DataFrame({"csat": [5, 4, 1], "touchpoint": ["a", "a", "b"]})
    got = headline_tiles(Dataset(JOURNEY, feedback=fb))
    assert [(t.name, t.value_text, t.delta_text, t.series) for t in got.tiles] == [
        ("csat", "66.7%", None, ())]
    assert got.tiles[0].arrow == "off" and got.tiles[0].colour == "gray"
    assert got.note.startswith("No dates") and got.compared == ""


def test_a_table_without_dates_keeps_its_tile_without_a_change():
    undated = FEEDBACK.drop("timestamp")
    got = headline_tiles(Dataset(JOURNEY, events=EVENTS, feedback=undated))
    by_name = {t.name: t for t in got.tiles}
    assert list(by_name) == ["customers", "overall_conversion", "csat", "nps", "ces"]
    csat = by_name["csat"]  # all six answers: 5, 2, 5, 4, 4, 1, four in the top boxes
    assert (csat.value_text, csat.delta_text, csat.series) == ("66.7%", None, ())
    assert by_name["overall_conversion"].delta_text == "+25.0 pp"
    assert got.note == "No dates in feedback: its figures are left out of the period comparison."


@pytest.mark.parametrize(("tile", "text", "arrow", "colour"), [
    (Tile("csat", 0.8004, 10, previous=0.8), "+0.0 pp", "off", "gray"),  # rounds to nothing
    (Tile("nps", 30.2, 10, previous=30.0), "+0 points", "off", "gray"),
    (Tile("nps", -12.0, 10, previous=-3.0), "−9 points", "down", "red"),
    (Tile("ces", 2.3, 10, previous=2.1), "+0.20", "up", "red"),
    (Tile("customers", 1500, 1500, previous=1200), "+300 (+25.0%)", "up", "green"),
    (Tile("customers", 5, 5, previous=0), "+5", "up", "green"),
    (Tile("csat", 0.8, 10), None, "off", "gray"),
])
def test_tile_change_in_the_figures_unit(tile, text, arrow, colour):
    assert (tile.delta_text, tile.arrow, tile.colour) == (text, arrow, colour)


def test_span_of_months():
    assert span(datetime(2024, 1, 1), datetime(2025, 1, 1)) == "Jan–Dec 2024"
    assert span(datetime(2024, 7, 1), datetime(2025, 7, 1)) == "Jul 2024–Jun 2025"


# ----------------------------------------------------------------------------- funnel bars

TABLE = pl.DataFrame({"step_index": [1, 2, 3], "step": ["Look", "Demo", "Buy"],
                      "reached": [1000, 400, 300], "lost": [None, 600, 100],
                      "step_conversion": [None, 0.4, 0.75]})


def test_funnel_bars_share_label_and_the_friction_steps():
    point = Friction("step", "Look → Demo", 1.0, {"from_step": "Look", "to_step": "Demo"})
    tp = Friction("touchpoint", "Buy", 0.5)  # a touchpoint named like a step is not a step
    got = funnel_bars(TABLE, [point, tp])
    assert got["share"].to_list() == [1.0, 0.4, 0.3]
    assert got["label"].to_list() == ["1,000 · 100.0%", "400 · 40.0%", "300 · 30.0%"]
    assert got["friction"].to_list() == [False, True, False]
    assert funnel_bars(pl.DataFrame()).height == 0


def test_compact_funnel_chart_spec():
    spec = compact_funnel_chart(funnel_bars(TABLE), height=200).to_dict()
    assert spec["description"] == "overview-funnel" and spec["height"] == 200
    bar, text = spec["layer"]
    assert bar["mark"]["type"] == "bar" and text["encoding"]["text"]["field"] == "label"
    assert bar["encoding"]["color"]["condition"]["test"] == "datum.friction"
    assert bar["encoding"]["x"]["scale"]["domain"] == [0, 1500.0]  # room for the labels
    rows = next(iter(spec["datasets"].values()))
    assert [(r["step"], r["reached"], r["label"]) for r in rows] == [
        ("Look", 1000, "1,000 · 100.0%"), ("Demo", 400, "400 · 40.0%"),
        ("Buy", 300, "300 · 30.0%")]


# ----------------------------------------------------------------------------- bullet rows


def gap(metric, label, value, low, high, target, distance, status, *, unit="rate",
        kind="level_min", by=None, n=100):
    return Gap(metric, label, by or {}, value, low, high, target, distance, status, None, "",
               n=n, unit=unit, kind=kind)


def rows_of(gaps):
    points, zones = bullet_rows(gaps)
    return points.to_dicts(), [(z["row"], z["x"], z["x2"], z["zone"]) for z in zones.to_dicts()]


def test_bullet_level_on_a_rate_scale():
    points, zones = rows_of([gap("fcr", "FCR", 0.7, 0.65, 0.75, "≥ 80%", -0.1, "missed")])
    p = points[0]
    assert (p["value"], p["low"], p["high"], p["threshold"]) == pytest.approx((0.7, 0.65, 0.75,
                                                                              0.8))
    assert (p["row"], p["right"], p["target"], p["scale"]) == (
        "FCR", "70.0%  ✗ missed", "≥ 80%", "0.0% to 100.0%")
    assert p["finding"] == "FCR: 70.0% against the target ≥ 80%: ✗ missed."
    assert zones == [("FCR", pytest.approx(0.8), 1.0, "met")]


def test_bullet_effort_on_its_own_scale_lower_is_better():
    points, zones = rows_of([gap("ces", "CES (1–7)", 2.2, 2.1, 2.3, "< 2 (1–7 scale)", -0.2,
                                 "missed", unit="score", kind="level_max")])
    p = points[0]
    assert p["value"] == pytest.approx(1.2 / 6) and p["threshold"] == pytest.approx(1 / 6)
    assert p["scale"] == "1.00 to 7.00"
    assert zones == [("CES (1–7)", 0.0, pytest.approx(1 / 6), "met")]


def test_bullet_range_and_bands():
    points, zones = rows_of([
        gap("online_to_store_conversion", "Online to store", 0.14, 0.12, 0.16, "5% to 10%",
            0.09, "met", kind="range"),
        gap("nps", "NPS", 25.0, 10.0, 40.0, "≥ 30 good, ≥ 50 excellent", -5.0, "within",
            unit="nps", kind="bands")])
    assert zones == [("Online to store", pytest.approx(0.05), 1.0, "met"),
                     ("Online to store", pytest.approx(0.05), pytest.approx(0.10),
                      "target range"),
                     ("NPS", pytest.approx(0.65), pytest.approx(0.75), "good"),
                     ("NPS", pytest.approx(0.75), 1.0, "excellent")]
    nps = points[1]
    assert nps["value"] == pytest.approx(0.625) and nps["threshold"] == pytest.approx(0.65)
    assert nps["right"] == "25  ≈ within" and nps["scale"] == "−100 to 100"


def test_bullet_relative_change_symmetric_around_zero():
    points, zones = rows_of([gap("cart_abandonment", "Cart abandonment", -0.05, -0.15, 0.05,
                                 "≤ −10% vs the previous period", -0.05, "within",
                                 unit="rate", kind="relative_change")])
    p = points[0]  # the axis is −20% … +20%: 0.4 wide
    assert (p["value"], p["low"], p["high"], p["threshold"]) == pytest.approx(
        (0.375, 0.125, 0.625, 0.25))
    assert (p["row"], p["target"], p["right"]) == (
        "Cart abandonment, change", "≤ −10%", "−5.0%  ≈ within")
    assert zones == [("Cart abandonment, change", 0.0, pytest.approx(0.25), "met")]


def test_bullet_a_target_over_every_touchpoint_is_one_row_of_points():
    points, zones = rows_of([
        gap("csat", "CSAT per touchpoint", 0.9, 0.8, 0.95, "≥ 85%", 0.05, "met",
            by={"touchpoint": "Web"}),
        gap("csat", "CSAT per touchpoint", 0.5, 0.4, 0.6, "≥ 85%", -0.35, "missed",
            by={"touchpoint": "Hotline"}),
        gap("fcr", "FCR", None, None, None, "≥ 80%", None, "no data")])
    assert [(p["row"], p["point"], p["row_status"], p["low"]) for p in points] == [
        ("CSAT per touchpoint", "Web", "missed", None),
        ("CSAT per touchpoint", "Hotline", "missed", None),
        ("FCR", "", "no data", None)]
    assert points[0]["right"] == "1 ✓ · 1 ✗"
    assert points[2]["right"] == "– no data" and points[2]["value"] is None
    assert zones == [("CSAT per touchpoint", pytest.approx(0.85), 1.0, "met")]


def test_bullet_row_names_the_cut_only_when_the_label_does_not():
    points, _ = rows_of([
        gap("csat", "CSAT after purchase", 0.9, 0.8, 0.95, "≥ 85%", 0.05, "met",
            by={"stage": "Purchase"}),
        gap("fcr", "FCR", 0.9, 0.8, 0.95, "≥ 80%", 0.1, "met", by={"complexity": "simple"})])
    assert [p["row"] for p in points] == ["CSAT after purchase", "FCR (simple)"]


def test_bullet_chart_spec():
    points, zones = bullet_rows([
        gap("fcr", "FCR", 0.7, 0.65, 0.75, "≥ 80%", -0.1, "missed"),
        gap("nps", "NPS", 25.0, 10.0, 40.0, "≥ 30 good, ≥ 50 excellent", -5.0, "within",
            unit="nps", kind="bands")])
    spec = bullet_chart(points, zones, row_height=40).to_dict()
    assert spec["description"] == "overview-bullets" and spec["height"] == 80
    assert spec["resolve"]["scale"]["color"] == "independent"  # bands and statuses apart
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["bar", "bar", "tick", "text", "rule", "point", "text"]
    zone, point, right = spec["layer"][1], spec["layer"][5], spec["layer"][6]
    assert zone["encoding"]["color"]["scale"] == {"domain": list(ZONE_COLOURS),
                                                  "range": list(ZONE_COLOURS.values())}
    assert point["encoding"]["color"]["scale"]["range"] == list(STATUS_COLOURS.values())
    assert right["encoding"]["text"]["field"] == "right"
    assert right["encoding"]["color"]["field"] == "row_status"
    assert point["encoding"]["y"]["sort"] == ["FCR", "NPS"]


# ----------------------------------------------------------------------------- friction links


def test_a_step_opens_the_funnel_up_to_the_step_not_reached():
    step = Friction("step", "Demo → Buy", 1.0, {"from_step": "Demo", "to_step": "Buy"})
    assert friction_link(step, ["Look", "Demo", "Buy", "Loyal"]) == (
        "funnel", {"funnel_steps": "Look,Demo,Buy"})
    # a step of another funnel (say from counts): its two stages
    assert friction_link(step, ["Look"]) == ("funnel", {"funnel_steps": "Demo,Buy"})
    odd = Friction("step", "Look, listen → Buy", 1.0,
                   {"from_step": "Look, listen", "to_step": "Buy"})
    _page, view = friction_link(odd, ["Look, listen", "Buy"])
    assert FUNNEL_STEPS.read(view) == ["Look, listen", "Buy"]  # the comma survives the URL


def test_a_touchpoint_opens_touchpoints_on_its_csat():
    assert friction_link(Friction("touchpoint", "Hotline", 0.5), []) == (
        "touchpoints", {"tp_by": "touchpoint", "tp_score": "csat", "tp_touchpoint": "Hotline"})
