"""Support metrics: golden FCR / resolution time / open cases, invariants, and the planted
poor-FCR channel of the sample data."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cjm_core.analytics.support import fcr, open_cases, resolution, support_metrics
from cjm_core.demo.sample import PLANTED_FACTS, generate
from cjm_core.errors import CJMError

T0 = datetime(2024, 3, 1, 8)


def _cases(hours, **cols):
    """Support rows opened at T0, resolved after ``hours`` (None = still open)."""
    return pl.DataFrame({
        "opened_at": [T0] * len(hours),
        "resolved_at": [None if h is None else T0 + timedelta(hours=h) for h in hours],
        **cols,
    }, schema_overrides={"resolved_at": pl.Datetime("us")})


# columns, (value, n, low, high); Wilson z = 1.96 by hand for 2 of 3
FCR_CASES = [
    # the open case (4th) is left out even though it was not resolved at first contact
    ({"first_contact_resolved": [True, False, True, False]}, (2 / 3, 3, 0.2077, 0.9385)),
    # no flag column: contacts == 1
    ({"contacts": [1, 2, 1, 1]}, (2 / 3, 3, 0.2077, 0.9385)),
    # flag missing on a row: contacts fills in
    ({"first_contact_resolved": [True, None, None, True], "contacts": [3, 1, 2, 1]},
     (2 / 3, 3, 0.2077, 0.9385)),
    ({"first_contact_resolved": [False, False, False, True]}, (0.0, 3, 0.0, 0.5615)),
]


@pytest.mark.parametrize(("cols", "expected"), FCR_CASES)
def test_fcr_golden(cols, expected):
    (m,) = fcr(_cases([1, 5, 30, None], **cols))
    value, n, low, high = expected
    assert (m.metric, m.unit) == ("fcr", "rate")
    assert m.value == pytest.approx(value) and m.n == n
    assert m.low == pytest.approx(low, abs=5e-5) and m.high == pytest.approx(high, abs=5e-5)


def test_fcr_by_complexity_and_missing_columns():
    s = _cases([1, 2, 3, 50, None], first_contact_resolved=[True, True, False, False, True],
               complexity=["simple", "simple", "simple", "complex", "complex"])
    assert [(m.by, m.value, m.n) for m in fcr(s, by=["complexity"])] == [
        ({"complexity": "complex"}, 0.0, 1), ({"complexity": "simple"}, pytest.approx(2 / 3), 3)]
    with pytest.raises(CJMError, match="first_contact_resolved or contacts"):
        fcr(_cases([1]))


# ten known durations in hours, one open case, one resolved before it was opened (left out)
DURATIONS = [2, 4, 6, 8, 10, 20, 30, 40, 50, 100]
RESOLUTION_GOLDEN = {
    "resolution_hours_median": 15.0,  # (10 + 20) / 2
    "resolution_hours_mean": 27.0,  # 270 / 10
    "resolution_hours_p90": 55.0,  # linear: position 8.1 between 50 and 100
    "resolved_within_24h": 0.6,
    "resolved_within_48h": 0.8,
}


@pytest.mark.parametrize(("metric", "expected"), RESOLUTION_GOLDEN.items())
def test_resolution_golden(metric, expected):
    ms = {m.metric: m for m in resolution(_cases([*DURATIONS, None, -3]))}
    assert list(ms) == list(RESOLUTION_GOLDEN)
    m = ms[metric]
    assert m.value == pytest.approx(expected) and m.n == 10
    assert m.unit == ("rate" if metric.startswith("resolved") else "hours")


def test_resolution_intervals():
    ms = {m.metric: m for m in resolution(_cases(DURATIONS))}
    # squared deviations sum to 8330, sd = sqrt(8330 / 9) = 30.4229, t(9) = 2.26216:
    # 27 ± 2.26216 · 30.4229 / sqrt(10) = 27 ± 21.7633
    mean = ms["resolution_hours_mean"]
    assert (mean.low, mean.high) == (pytest.approx(5.2367, abs=1e-3),
                                     pytest.approx(48.7633, abs=1e-3))
    assert ms["resolution_hours_median"].low is None and ms["resolution_hours_p90"].high is None
    within = ms["resolved_within_24h"]  # Wilson 6 of 10
    assert (within.low, within.high) == (pytest.approx(0.3127, abs=5e-5),
                                         pytest.approx(0.8318, abs=5e-5))


def test_resolution_edges_are_inclusive_and_split_by_complexity():
    s = _cases([24, 48, 48.01, 1], complexity=["complex", "complex", "complex", "simple"])
    ms = {(m.metric, m.by["complexity"]): m.value for m in resolution(s, by=["complexity"])}
    assert ms[("resolved_within_24h", "complex")] == pytest.approx(1 / 3)
    assert ms[("resolved_within_48h", "complex")] == pytest.approx(2 / 3)
    assert ms[("resolution_hours_median", "simple")] == 1.0


def test_open_cases_are_counted():
    s = _cases([1, None, None, 4, None], complexity=["simple", "simple", "complex", "complex",
                                                     "complex"])
    (m,) = open_cases(s)
    assert (m.metric, m.value, m.n, m.unit) == ("open_cases", 3.0, 5, "count")
    assert [(m.by["complexity"], m.value, m.n) for m in open_cases(s, by=["complexity"])] == [
        ("complex", 2.0, 3), ("simple", 1.0, 2)]
    with pytest.raises(CJMError):
        open_cases(pl.DataFrame({"opened_at": [T0]}))


def test_support_metrics_overall_by_complexity_and_channel():
    s = _cases([1, 30, None], contacts=[1, 2, 1], complexity=["simple", "complex", "simple"],
               channel=["phone", "phone", "chat"])
    ms = support_metrics(s)
    cuts = {tuple(m.by) for m in ms}
    assert cuts == {(), ("complexity",), ("channel",)}
    overall = [m.metric for m in ms if not m.by]
    assert overall == ["fcr", "resolution_hours_median", "resolution_hours_mean",
                       "resolution_hours_p90", "resolved_within_24h", "resolved_within_48h",
                       "open_cases"]
    # only what the columns allow
    assert {m.metric for m in support_metrics(s.drop("contacts"))} >= {"open_cases"}
    assert "fcr" not in {m.metric for m in support_metrics(s.drop("contacts"))}
    assert support_metrics(s.clear()) == []


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), st.floats(0, 500)), st.booleans()),
                min_size=1, max_size=40))
def test_invariants(rows):
    s = _cases([h for h, _ in rows], first_contact_resolved=[f for _, f in rows])
    for m in fcr(s) + resolution(s):
        if m.unit == "rate" and m.n:
            assert 0 <= m.low <= m.value <= m.high <= 1
        if m.metric == "resolution_hours_mean" and m.low is not None:
            assert m.low <= m.value + 1e-9 and m.value <= m.high + 1e-9
    ms = {m.metric: m.value for m in resolution(s)}
    if ms["resolution_hours_median"] is not None:
        assert ms["resolution_hours_median"] <= ms["resolution_hours_p90"] + 1e-9


@pytest.mark.parametrize("isic", sorted(PLANTED_FACTS))
def test_planted_poor_fcr_channel_is_lowest(isic):
    facts = PLANTED_FACTS[isic]
    by_channel = {m.by["channel"]: m.value
                  for m in support_metrics(generate(isic, 3000, seed=0)["support"])
                  if m.metric == "fcr" and "channel" in m.by}
    worst = min(by_channel, key=by_channel.get)
    assert worst == facts["poor_fcr_channel"]
    assert by_channel[worst] < facts["poor_fcr_expected_max"]
    assert min(v for c, v in by_channel.items() if c != worst) >= facts["other_fcr_min"]
