"""Hand-checked numbers for the shared statistics (cjm_core/analytics/stats.py)."""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cjm_core.analytics.stats import (
    holm,
    nps_interval,
    nps_interval_expr,
    t_interval,
    t_interval_expr,
    two_proportion_z,
    wilson,
    wilson_expr,
)


@pytest.mark.parametrize(
    ("s", "n", "low", "high"),
    [
        # p=0.8, z²=3.8416: centre=(0.8+0.19208)/1.38416, half=1.96·sqrt(0.016+0.009604)/1.38416
        (8, 10, 0.4902, 0.9433),
        # all successes: upper bound is exactly 1, lower = n/(n+z²) = 10/13.8416
        (10, 10, 0.7225, 1.0),
        # no successes: lower bound exactly 0, upper = z²/(n+z²)
        (0, 10, 0.0, 0.2775),
        (50, 100, 0.4038, 0.5962),
    ],
)
def test_wilson_hand_checked(s, n, low, high):
    lo, hi = wilson(s, n)
    assert lo == pytest.approx(low, abs=1e-4)
    assert hi == pytest.approx(high, abs=1e-4)


def test_wilson_empty_is_none():
    assert wilson(0, 0) == (None, None)


def test_wilson_expr_matches_scalar():
    df = pl.DataFrame({"s": [8, 10, 0, 50, 0, None], "n": [10, 10, 10, 100, 0, 5]})
    lo, hi = wilson_expr("s", "n")
    got = df.select(lo, hi).rows()
    for (s, n), (glo, ghi) in zip(df.rows(), got, strict=True):
        elo, ehi = wilson(s, n)
        if elo is None:
            assert glo is None and ghi is None
        else:
            assert glo == pytest.approx(elo) and ghi == pytest.approx(ehi)


@given(st.integers(0, 500), st.integers(1, 500))
def test_wilson_contains_rate_and_stays_in_unit_interval(s, n):
    s = min(s, n)
    lo, hi = wilson(s, n)
    assert 0.0 <= lo <= s / n <= hi <= 1.0


def test_two_proportion_z_hand_checked():
    # pooled 0.5, SE = sqrt(0.25 * (1/100 + 1/100)) = 0.070711, z = 0.2 / 0.070711
    z, p = two_proportion_z(60, 100, 40, 100)
    assert z == pytest.approx(2.828427, abs=1e-5)
    assert p == pytest.approx(0.004678, abs=1e-5)
    z2, p2 = two_proportion_z(40, 100, 60, 100)
    assert z2 == pytest.approx(-z) and p2 == pytest.approx(p)


def test_two_proportion_z_degenerate():
    assert two_proportion_z(0, 0, 5, 10) == (None, None)
    assert two_proportion_z(10, 10, 20, 20) == (0.0, 1.0)  # no variance: equal rates


def test_holm_hand_checked():
    # sorted 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → monotone max 0.06
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []
    assert holm([None, 0.2, float("nan")]) == [None, 0.2, None]


@given(st.lists(st.floats(0, 1), min_size=1, max_size=20))
def test_holm_never_below_raw_and_at_most_one(ps):
    adj = holm(ps)
    for p, a in zip(ps, adj, strict=True):
        assert p <= a + 1e-12 and a <= 1.0
    order = sorted(range(len(ps)), key=lambda i: ps[i])
    assert all(adj[order[i]] <= adj[order[i + 1]] + 1e-12 for i in range(len(ps) - 1))


def test_t_interval_hand_checked():
    # t_{0.975, 9} = 2.262157; half = 2.262157 · 1 / sqrt(10) = 0.715357
    lo, hi = t_interval(3.0, 1.0, 10)
    assert lo == pytest.approx(2.284643, abs=1e-5)
    assert hi == pytest.approx(3.715357, abs=1e-5)
    assert t_interval(3.0, 1.0, 1) == (None, None)


def test_t_interval_expr_matches_scalar():
    df = pl.DataFrame({"m": [3.0, 2.0, 1.0], "sd": [1.0, 0.5, 1.0], "n": [10, 40, 1]})
    lo, hi = t_interval_expr("m", "sd", "n")
    rows = df.select(lo, hi).rows()
    assert rows[0] == pytest.approx(t_interval(3.0, 1.0, 10))
    assert rows[1] == pytest.approx(t_interval(2.0, 0.5, 40))
    assert rows[2] == (None, None)


def test_nps_interval_hand_checked():
    # NPS 30, SE = 100·sqrt((0.7 − 0.09)/100) = 7.8102, ±1.96·SE = 15.308
    lo, hi = nps_interval(0.5, 0.2, 100)
    assert lo == pytest.approx(14.692, abs=1e-3)
    assert hi == pytest.approx(45.308, abs=1e-3)
    assert nps_interval(1.0, 0.0, 10) == (100.0, 100.0)  # every answer a promoter: SE 0
    assert nps_interval(0.5, 0.5, 0) == (None, None)


def test_nps_interval_expr_matches_scalar():
    df = pl.DataFrame({"p": [0.5, 0.1], "d": [0.2, 0.6], "n": [100, 7]})
    lo, hi = nps_interval_expr("p", "d", "n")
    for (p, d, n), got in zip(df.rows(), df.select(lo, hi).rows(), strict=True):
        assert got == pytest.approx(nps_interval(p, d, n))
    assert not math.isnan(df.select(lo).item(0, 0))
