"""The scorecard judges levels on the Overview tiles' months (the last 12 of the data shown), so
a manager reads one figure per metric; tables without dates are judged whole, and data without
any dates all of it. Hand-checked on the tiles' tiny frames (tests/test_overview_tiles.py)."""

from __future__ import annotations

import pytest

from cjm_core.analytics.overview_tiles import headline_tiles, overview_funnel
from cjm_core.analytics.scorecard import judged_window, overview, scorecard
from cjm_core.model.dataset import Dataset
from tests.test_overview_tiles import EVENTS, FEEDBACK, JOURNEY, ORDERS


def level(card, metric: str) -> float | None:
    (gap,) = [g for g in card.gaps if g.metric == metric and not g.by
              and g.unit != "relative_change"]
    return gap.value


def test_levels_are_judged_on_the_tiles_months():
    data = Dataset(JOURNEY, events=EVENTS, feedback=FEEDBACK, orders=ORDERS)
    card = scorecard(data)
    # 2024: NPS answers 10, 9, 7, 3 -> 100 × (2/4 − 1/4) = 25 (all six answers: 16.7)
    assert level(card, "nps") == pytest.approx(25.0)
    # 2024: a of a, b, c, d bought twice -> 25% (both years: a and b of four -> 50%)
    assert level(card, "repeat_purchase_rate") == pytest.approx(0.25)
    tiles = {t.name: t.value for t in headline_tiles(data).tiles}
    assert level(card, "nps") == pytest.approx(tiles["nps"])
    assert level(card, "repeat_purchase_rate") == pytest.approx(tiles["repeat_purchase_rate"])
    assert card.periods["current_start"].year == 2024


def test_the_overviews_funnel_and_friction_use_the_same_months():
    data = Dataset(JOURNEY, events=EVENTS)
    # 2024: c1..c4 entered, c1, c3, c4 bought (p1, p2 of 2023 are before the window)
    assert overview_funnel(data).table["reached"].to_list() == [4, 3]
    tiles = {t.name: t for t in headline_tiles(data).tiles}
    assert tiles["customers"].value == 4
    card, _ = overview(data)
    assert {m.metric: m.n for m in card.current if m.metric == "overall_conversion"} == {
        "overall_conversion": 4}


def test_a_table_without_dates_is_judged_whole():
    undated = FEEDBACK.drop("timestamp")
    data = Dataset(JOURNEY, events=EVENTS, feedback=undated)
    window, bounds = judged_window(data)
    assert bounds["undated"] == ["feedback"] and window.feedback.height == 6
    assert window.events["customer_id"].unique().sort().to_list() == ["c1", "c2", "c3", "c4"]
    # all six answers: 100 × (3/6 − 2/6)
    assert level(scorecard(data), "nps") == pytest.approx(100 / 6)


def test_data_without_dates_are_judged_whole():
    data = Dataset(JOURNEY, feedback=FEEDBACK.drop("timestamp"))
    window, bounds = judged_window(data)
    assert window is data and bounds == {}
    card = scorecard(data)
    assert level(card, "nps") == pytest.approx(100 / 6) and card.periods == {}
