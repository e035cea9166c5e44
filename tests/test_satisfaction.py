"""Satisfaction metrics: hand-checked golden tables, invariants, and the planted low-CSAT
touchpoint of the sample data."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cjm_core.analytics.satisfaction import (
    ces,
    csat,
    detect_scale,
    distribution,
    nps,
    satisfaction_metrics,
    satisfaction_table,
)
from cjm_core.demo.sample import PLANTED_FACTS, generate
from cjm_core.errors import CJMError


def _approx(x):
    return pytest.approx(x, abs=5e-5) if x is not None else None


# scores, scale, (value, n, low, high); Wilson z = 1.96 worked by hand
CSAT_CASES = [
    ([5, 4, 2, 4], None, (0.75, 4, 0.3006, 0.9544)),  # 5-point, 3 of 4 in 4–5
    ([7, 6, 5, 1], None, (0.5, 4, 0.1500, 0.8500)),  # 7-point detected, 6–7
    ([10, 9, 8, 3, 10], None, (0.6, 5, 0.2307, 0.8824)),  # 10-point detected, 9–10
    ([5, 4], 10, (0.0, 2, 0.0, 0.6576)),  # declared 10-point: 4 and 5 are not top box
    ([5, 5, 5], None, (1.0, 3, 0.4385, 1.0)),
    ([5, None, 4, 1], None, (2 / 3, 3, 0.2077, 0.9385)),  # missing answers not counted
]


@pytest.mark.parametrize(("scores", "scale", "expected"), CSAT_CASES)
def test_csat_golden(scores, scale, expected):
    (m,) = csat(pl.DataFrame({"csat": scores}, schema={"csat": pl.Int64}), scale=scale)
    value, n, low, high = expected
    assert (m.metric, m.unit, m.by) == ("csat", "rate", {})
    assert m.value == _approx(value) and m.n == n
    assert m.low == _approx(low) and m.high == _approx(high)


def test_csat_by_touchpoint_and_scale_from_whole_table():
    fb = pl.DataFrame({"touchpoint": ["a", "a", "b", "b", None],
                       "csat": [7, 6, 5, 4, 6]})
    got = [(m.by, m.value, m.n) for m in csat(fb, by=["touchpoint"])]
    # the scale (7) comes from the whole table, so b's 5 and 4 are not top box
    assert got == [({"touchpoint": "a"}, 1.0, 2), ({"touchpoint": "b"}, 0.0, 2)]
    assert csat(fb)[0].n == 5  # the row without touchpoint counts overall


def test_csat_empty_and_bad_scale():
    (m,) = csat(pl.DataFrame({"csat": [None]}, schema={"csat": pl.Int64}))
    assert (m.value, m.n, m.low, m.high) == (None, 0, None, None)
    with pytest.raises(CJMError, match="scale"):
        csat(pl.DataFrame({"csat": [1]}), scale=4)
    with pytest.raises(CJMError, match="csat"):
        csat(pl.DataFrame({"nps": [1]}))


# nps answers, (value, low, high): SE = 100·sqrt((P + D − (P − D)²)/n), ±1.96·SE, clipped
NPS_CASES = [
    ([10, 9, 3, 8], (25.0, -56.2573, 100.0)),  # 2 promoters, 1 detractor, 1 passive
    ([10, 10, 0, 0], (0.0, -98.0, 98.0)),  # SE = 50
    ([9, 10], (100.0, 100.0, 100.0)),  # SE = 0
    (list(range(11)), (-45.4545, -91.6696, 0.7605)),  # P = 2/11, D = 7/11
    ([7, 8], (0.0, 0.0, 0.0)),  # only passives
]


@pytest.mark.parametrize(("answers", "expected"), NPS_CASES)
def test_nps_golden(answers, expected):
    (m,) = nps(pl.DataFrame({"nps": answers}))
    assert (m.metric, m.unit, m.n) == ("nps", "nps", len(answers))
    assert (m.value, m.low, m.high) == tuple(pytest.approx(x, abs=5e-4) for x in expected)


# ces answers, scale, (value, n, low, high): t_{0.975, n−1}
CES_CASES = [
    ([1, 2, 3], None, (2.0, 3, -0.4841, 4.4841)),  # sd 1, t(2) = 4.3027
    ([2, 2, 2, 2], None, (2.0, 4, 2.0, 2.0)),  # sd 0
    ([4], None, (4.0, 1, None, None)),  # one answer: no interval
    ([1, 7], 5, (1.0, 1, None, None)),  # 7 lies outside a declared 1–5 scale
    ([1, 6], None, (3.5, 2, -28.2655, 35.2655)),  # 7-point detected; sd 3.5355, t(1) = 12.706
]


@pytest.mark.parametrize(("answers", "scale", "expected"), CES_CASES)
def test_ces_golden(answers, scale, expected):
    (m,) = ces(pl.DataFrame({"ces": answers}), scale=scale)
    value, n, low, high = expected
    assert (m.metric, m.unit) == ("ces", "score")
    assert m.value == pytest.approx(value) and m.n == n
    assert m.low == _approx(low) and m.high == _approx(high)


def test_ces_on_support_by_complexity():
    s = pl.DataFrame({"complexity": ["simple", "simple", "complex"], "ces": [1, 3, 5]})
    assert [(m.by["complexity"], m.value) for m in ces(s, by=["complexity"])] == [
        ("complex", 5.0), ("simple", 2.0)]


def test_period_cut_is_month_of_timestamp():
    fb = pl.DataFrame({"timestamp": [datetime(2024, 1, 31, 23), datetime(2024, 2, 1),
                                     datetime(2024, 2, 9)], "csat": [5, 1, 4]})
    assert [(m.by, m.value) for m in csat(fb, by=["period"])] == [
        ({"period": "2024-01"}, 1.0), ({"period": "2024-02"}, 0.5)]


def test_missing_cut_column_is_a_named_error():
    with pytest.raises(CJMError, match="channel") as err:
        csat(pl.DataFrame({"csat": [5]}), by=["channel"])
    assert err.value.code == "missing-role"


@pytest.mark.parametrize(("values", "scales", "expected"), [
    ([1, 5], (5, 7, 10), 5), ([6], (5, 7, 10), 7), ([8], (5, 7, 10), 10), ([], (5, 7, 10), 5),
    ([6], (5, 7), 7), ([9], (5, 7), 7),
])
def test_detect_scale(values, scales, expected):
    assert detect_scale(pl.Series(values, dtype=pl.Int64), scales) == expected


def test_distribution_golden_with_zero_counts():
    fb = pl.DataFrame({"channel": ["web", "web", "web", "store"], "csat": [5, 5, 3, 1]})
    got = distribution(fb, "csat", by=["channel"])
    assert got.columns == ["channel", "score", "count", "share"]
    assert got.rows() == [
        ("store", 1, 1, 1.0), ("store", 2, 0, 0.0), ("store", 3, 0, 0.0), ("store", 4, 0, 0.0),
        ("store", 5, 0, 0.0),
        ("web", 1, 0, 0.0), ("web", 2, 0, 0.0), ("web", 3, 1, 1 / 3), ("web", 4, 0, 0.0),
        ("web", 5, 2, 2 / 3),
    ]
    nps_levels = distribution(pl.DataFrame({"nps": [10]}), "nps")["score"].to_list()
    assert nps_levels == list(range(11))
    with pytest.raises(CJMError):
        distribution(fb, "stars")


def test_satisfaction_table_golden():
    fb = pl.DataFrame({
        "touchpoint": ["a", "a", "a", "b"],
        "csat": [5, 4, 1, None],
        "nps": [10, 6, 9, 10],
    }, schema={"touchpoint": pl.String, "csat": pl.Int64, "nps": pl.Int64})
    t = satisfaction_table(fb, "touchpoint")
    assert t["touchpoint"].to_list() == ["a", "b"]
    assert t["answers"].to_list() == [3, 1]
    assert t["csat"].to_list() == [pytest.approx(2 / 3), None]
    assert t["csat_n"].to_list() == [3, 0]
    assert t["nps"].to_list() == [pytest.approx(100 / 3), 100.0]
    assert t["ces"].to_list() == [None, None] and t["ces_n"].to_list() == [0, 0]
    assert t["csat_low_sample"].all() and t["nps_low_sample"].all()
    for name in ("csat", "nps", "ces"):
        assert {f"{name}_low", f"{name}_high"} <= set(t.columns)


def test_satisfaction_metrics_overall_and_cuts():
    fb = pl.DataFrame({"touchpoint": ["a", "b"], "stage": ["s", "s"], "csat": [5, 1],
                       "nps": [10, 0]})
    support = pl.DataFrame({"ces": [2, 4]})
    ms = satisfaction_metrics(fb, support)
    keys = [(m.metric, tuple(m.by.items())) for m in ms]
    assert keys[:4] == [("csat", ()), ("csat", (("touchpoint", "a"),)),
                        ("csat", (("touchpoint", "b"),)), ("csat", (("stage", "s"),))]
    assert ("nps", ()) in keys
    assert ms[-1].by == {"source": "support"} and ms[-1].value == 3.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=1, max_size=60),
       st.lists(st.integers(0, 10), min_size=1, max_size=60))
def test_invariants(csat_answers, nps_answers):
    (c,) = csat(pl.DataFrame({"csat": csat_answers}), scale=5)
    assert 0 <= c.low <= c.value <= c.high <= 1
    (p,) = nps(pl.DataFrame({"nps": nps_answers}))
    assert -100 <= p.low <= p.value <= p.high <= 100
    (e,) = ces(pl.DataFrame({"ces": csat_answers}), scale=5)
    assert 1 <= e.value <= 5
    if e.low is not None:
        assert e.low <= e.value <= e.high


@pytest.fixture(scope="module", params=sorted(PLANTED_FACTS))
def sample(request):
    return request.param, generate(request.param, 3000, seed=0)


def test_planted_low_csat_touchpoint_is_lowest(sample):
    isic, data = sample
    facts = PLANTED_FACTS[isic]
    table = satisfaction_table(data["feedback"], "touchpoint").filter(
        pl.col("csat_n") >= facts["csat_min_answers"]).sort("csat")
    assert table["touchpoint"][0] == facts["low_csat_touchpoint"]
    assert table["csat"][0] < facts["low_csat_expected_max"]
    assert table["csat"][1:].min() >= facts["other_csat_min"]
    by_stage = {m.by["stage"]: m.value for m in csat(data["feedback"], by=["stage"])}
    assert min(by_stage, key=by_stage.get) == facts["low_csat_stage"]


# -- per touchpoint, brute force (an undated survey: no timestamp column) ------------------------


def _brute_nps(answers: list[int]) -> tuple[float, int, float, float]:
    n = len(answers)
    p = sum(a >= 9 for a in answers) / n
    d = sum(a <= 6 for a in answers) / n
    se = 100 * max(p + d - (p - d) ** 2, 0.0) ** 0.5 / n ** 0.5
    value = 100 * (p - d)
    return value, n, max(-100.0, value - 1.96 * se), min(100.0, value + 1.96 * se)


def _brute_ces(answers: list[int]) -> tuple[float, int, float | None, float | None]:
    from statistics import mean, stdev

    from scipy.stats import t

    n, m = len(answers), mean(answers)
    if n < 2:
        return m, n, None, None
    half = t.ppf(0.975, n - 1) * stdev(answers) / n ** 0.5
    return m, n, m - half, m + half


SURVEY_ROWS = st.lists(st.tuples(st.sampled_from(["Web shop", "Store", "Hotline"]),
                                 st.none() | st.integers(0, 10), st.none() | st.integers(1, 7)),
                       min_size=1, max_size=50)


@settings(max_examples=80, deadline=None)
@given(SURVEY_ROWS)
def test_per_touchpoint_nps_and_ces_equal_a_brute_force_count(rows):
    fb = pl.DataFrame(rows, schema={"touchpoint": pl.String, "nps": pl.Int64, "ces": pl.Int64},
                      orient="row")
    table = {r["touchpoint"]: r for r in satisfaction_table(fb, "touchpoint").to_dicts()}
    by_nps = {m.by["touchpoint"]: m for m in nps(fb, by=["touchpoint"])}
    by_ces = {m.by["touchpoint"]: m for m in ces(fb, by=["touchpoint"])}
    all_ces = [c for _, _, c in rows if c is not None]
    scale = 5 if all_ces and max(all_ces) <= 5 else 7  # CES scale: from the whole survey
    for tp in {t for t, _, _ in rows}:
        row = table[tp]
        assert row["answers"] == sum(t == tp for t, _, _ in rows)
        answers = [a for t, a, _ in rows if t == tp and a is not None]
        assert row["nps_n"] == len(answers)
        if answers:
            value, n, low, high = _brute_nps(answers)
            for got in ((row["nps"], row["nps_n"], row["nps_low"], row["nps_high"]),
                        (by_nps[tp].value, by_nps[tp].n, by_nps[tp].low, by_nps[tp].high)):
                assert got == (pytest.approx(value), n, pytest.approx(low), pytest.approx(high))
        else:
            assert row["nps"] is None and tp not in by_nps
        efforts = [c for t, _, c in rows if t == tp and c is not None and c <= scale]
        assert row["ces_n"] == len(efforts)
        if efforts:
            value, n, low, high = _brute_ces(efforts)
            for got in ((row["ces"], row["ces_n"], row["ces_low"], row["ces_high"]),
                        (by_ces[tp].value, by_ces[tp].n, by_ces[tp].low, by_ces[tp].high)):
                assert got[:2] == (pytest.approx(value), n)
                assert (got[2], got[3]) == ((None, None) if low is None else
                                            (pytest.approx(low), pytest.approx(high)))
        else:
            assert row["ces"] is None and tp not in by_ces


def test_undated_survey_per_touchpoint_by_hand():
    fb = pl.DataFrame({"touchpoint": ["Web", "Web", "Web", "Store", "Store"],
                       "csat": [5, 2, 4, 4, 1], "nps": [10, 6, 9, 8, 0], "ces": [1, 4, 2, 2, 5]})
    got = satisfaction_table(fb, "touchpoint").select("touchpoint", "csat", "nps", "ces").rows()
    # Web: CSAT 2 of 3 in 4–5; NPS 2 promoters, 1 detractor of 3; CES (1 + 4 + 2) / 3
    # Store: CSAT 1 of 2; NPS 0 promoters, 1 detractor of 2; CES (2 + 5) / 2
    assert got == [("Store", 0.5, -50.0, 3.5), ("Web", pytest.approx(2 / 3),
                                                 pytest.approx(100 / 3), pytest.approx(7 / 3))]
    with pytest.raises(CJMError, match="cannot cut by period"):
        nps(fb, by=["touchpoint", "period"])
