"""Loyalty metrics: golden repeat rate / CLV / AOV / frequency on three customers, invariants and
the sample data's repeat-rate band."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cjm_core.analytics.loyalty import loyalty_metrics, orders_in
from cjm_core.demo.sample import PLANTED_FACTS, generate
from cjm_core.errors import CJMError

# three customers: a buys twice (10 + 20), b once (30), c once (60)
THREE = pl.DataFrame({
    "order_id": ["o1", "o2", "o3", "o4"],
    "customer_id": ["a", "a", "b", "c"],
    "order_date": [datetime(2024, 1, 1), datetime(2024, 3, 5), datetime(2024, 2, 2),
                   datetime(2024, 3, 3)],
    "amount": [10.0, 20.0, 30.0, 60.0],
    "channel": ["web", "store", "store", "store"],
})

# metric -> (value, n, low, high, unit); Wilson 1 of 3 by hand, t-intervals from the hand sds
LOYALTY_GOLDEN = {
    "repeat_purchase_rate": (1 / 3, 3, 0.0615, 0.7924, "rate"),
    # per-customer revenue 30, 30, 60: sd 17.3205, t(2) = 4.3027 -> 40 ± 43.0265
    "clv": (40.0, 3, -3.0265, 83.0265, "money"),
    # order amounts 10, 20, 30, 60: sd 21.6025, t(3) = 3.1824 -> 30 ± 34.3741
    "average_order_value": (30.0, 4, -4.3741, 64.3741, "money"),
    # orders per customer 2, 1, 1: sd 0.57735 -> 4/3 ± 1.4342
    "purchase_frequency": (4 / 3, 3, -0.1009, 2.7676, "per_customer"),
}


@pytest.mark.parametrize(("metric", "expected"), LOYALTY_GOLDEN.items())
def test_loyalty_golden(metric, expected):
    ms = {m.metric: m for m in loyalty_metrics(THREE)}
    assert list(ms) == list(LOYALTY_GOLDEN)
    value, n, low, high, unit = expected
    m = ms[metric]
    assert m.value == pytest.approx(value) and m.n == n and m.unit == unit
    assert m.low == pytest.approx(low, abs=5e-4) and m.high == pytest.approx(high, abs=5e-4)


def test_period_bounds_start_inclusive_end_exclusive():
    ms = {m.metric: m for m in loyalty_metrics(THREE, start=date(2024, 1, 1),
                                               end=datetime(2024, 3, 5))}
    # a's second order (5 March) is outside: nobody repeats
    assert ms["repeat_purchase_rate"].value == 0.0
    assert ms["clv"].value == pytest.approx(100 / 3)
    assert ms["average_order_value"].n == 3


def test_line_items_are_one_order():
    lines = pl.concat([THREE, THREE.head(1).with_columns(pl.lit(5.0).alias("amount"))])
    ms = {m.metric: m for m in loyalty_metrics(lines)}
    assert ms["purchase_frequency"].value == pytest.approx(4 / 3)
    assert ms["average_order_value"].value == pytest.approx(125 / 4)
    assert ms["clv"].value == pytest.approx(125 / 3)
    # without order ids every row is an order
    no_ids = {m.metric: m for m in loyalty_metrics(lines.drop("order_id"))}
    assert no_ids["average_order_value"].n == 5


def test_by_channel_and_period():
    by_channel = [(m.by, m.value) for m in loyalty_metrics(THREE, by=["channel"])
                  if m.metric == "repeat_purchase_rate"]
    assert by_channel == [({"channel": "store"}, 0.0), ({"channel": "web"}, 0.0)]
    by_period = [(m.by["period"], m.n) for m in loyalty_metrics(THREE, by=["period"])
                 if m.metric == "clv"]
    assert by_period == [("2024-01", 1), ("2024-02", 1), ("2024-03", 2)]


def test_empty_period_and_missing_columns():
    ms = loyalty_metrics(THREE, start=date(2030, 1, 1))
    assert [(m.value, m.n) for m in ms] == [(None, 0)] * 4
    with pytest.raises(CJMError, match="amount"):
        loyalty_metrics(THREE.drop("amount"))
    with pytest.raises(CJMError):
        orders_in(None)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcdef"), st.floats(0, 1000)), min_size=1,
                max_size=40))
def test_invariants(rows):
    orders = pl.DataFrame({"customer_id": [c for c, _ in rows],
                           "order_date": [datetime(2024, 1, 1)] * len(rows),
                           "amount": [a for _, a in rows]})
    ms = {m.metric: m for m in loyalty_metrics(orders)}
    rate = ms["repeat_purchase_rate"]
    assert 0 <= rate.low <= rate.value <= rate.high <= 1
    assert ms["purchase_frequency"].value >= 1
    # CLV = AOV × purchase frequency (revenue/customers = revenue/orders × orders/customers)
    assert ms["clv"].value == pytest.approx(
        ms["average_order_value"].value * ms["purchase_frequency"].value, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("isic", sorted(PLANTED_FACTS))
def test_sample_repeat_rate_in_band(isic):
    low, high = PLANTED_FACTS[isic]["repeat_rate_band"]
    ms = {m.metric: m for m in loyalty_metrics(generate(isic, 3000, seed=0)["orders"])}
    assert low <= ms["repeat_purchase_rate"].value <= high
    amount_low, amount_high = PLANTED_FACTS[isic]["amount_range"]
    assert amount_low <= ms["average_order_value"].value <= amount_high
