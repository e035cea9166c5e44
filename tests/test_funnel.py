"""Funnel tests (cjm_core/analytics/funnel.py): declarative journeys with customers named by what
they did,
one suite run over every mode, and a plain-Python reference checked by hypothesis."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cjm_core.analytics.funnel import (
    FunnelQuery,
    funnel,
    funnel_from_counts,
    funnel_metrics,
    role_dropoff,
)
from cjm_core.demo.sample import PLANTED_FACTS, funnel_counts_example, generate
from cjm_core.model.journey import default_journey

STEPS = ["Discovery", "Online research", "In-store demo", "Purchase"]
T0 = datetime(2025, 1, 1)


def journeys(people: dict[str, list[tuple]]) -> pl.DataFrame:
    """Events from {customer: [(stage, "YYYY-MM-DD HH:MM[:SS]", {extra columns}?), ...]},
    rows in the order written (file order)."""
    rows = []
    for who, steps in people.items():
        for item in steps:
            stage, when, *extra = item
            row = {"customer_id": who, "stage": stage,
                   "timestamp": datetime.fromisoformat(when) if when else None}
            row.update(extra[0] if extra else {})
            rows.append(row)
    if not rows:
        return pl.DataFrame(schema={"customer_id": pl.String, "stage": pl.String,
                                    "timestamp": pl.Datetime("us")})
    return pl.DataFrame(rows, schema_overrides={"timestamp": pl.Datetime("us")})


def reached(result) -> list[int]:
    return result.table.sort("step_index")["reached"].to_list()


# ----------------------------------------------------------------------------- one suite, all modes

PEOPLE = {
    "researched_online_bought_in_store": [
        ("Discovery", "2025-01-01 10:00"), ("Online research", "2025-01-02 10:00"),
        ("In-store demo", "2025-01-03 10:00"), ("Purchase", "2025-01-03 11:00")],
    "walked_in_bought": [("In-store demo", "2025-01-05 10:00"), ("Purchase", "2025-01-05 10:30")],
    "wrong_order": [("Discovery", "2025-01-01 09:00"), ("Purchase", "2025-01-01 09:30"),
                    ("Online research", "2025-01-01 10:00")],
    "stopped_after_demo": [("Discovery", "2025-01-01 10:00"),
                           ("Online research", "2025-01-01 12:00"),
                           ("In-store demo", "2025-01-02 10:00")],
    "researched_twice": [("Discovery", "2025-01-01 10:00"), ("Online research", "2025-01-01 11:00"),
                         ("Online research", "2025-01-01 12:00"),
                         ("In-store demo", "2025-01-01 13:00")],
    "only_looked": [("Discovery", "2025-01-04 10:00")],
}

#: per mode: reached per step, entered mid-journey
EXPECTED = {
    "ordered": ([5, 4, 3, 1], 1),
    # wrong_order breaks after Discovery; the repeated research breaks researched_twice
    "strict": ([5, 3, 2, 1], 1),
    # any order: k = number of distinct steps; walked_in_bought is an ordinary 2-step customer
    "any": ([6, 5, 4, 1], 0),
}


@pytest.fixture(params=["ordered", "strict", "any"])
def run(request):
    """The funnel factory: the same calls, once per mode."""
    mode = request.param

    def go(events, **kw):
        kw.setdefault("steps", STEPS)
        return funnel(events, FunnelQuery(mode=mode, **kw))

    go.mode = mode
    return go


def test_every_mode_counts_the_named_journeys(run):
    res = run(journeys(PEOPLE))
    want, mid = EXPECTED[run.mode]
    assert reached(res) == want
    assert res.entered_mid_journey == mid
    assert res.customers == 6


def test_reached_never_rises_and_rates_are_fractions(run):
    t = run(journeys(PEOPLE)).table.sort("step_index")
    r = t["reached"].to_list()
    assert all(a >= b for a, b in itertools.pairwise(r))
    for col in ("step_conversion", "overall_conversion", "dropoff", "low", "high"):
        vals = [v for v in t[col].to_list() if v is not None]
        assert all(0.0 <= v <= 1.0 for v in vals), col
    assert t["lost"].to_list()[1:] == [a - b for a, b in itertools.pairwise(r)]
    assert t["n"].to_list() == [r[0], *r[:-1]]


def test_empty_events_give_an_empty_funnel(run):
    res = run(journeys({}))
    assert reached(res) == [0, 0, 0, 0]
    assert res.table["step_conversion"].null_count() == 4


def test_rows_missing_customer_stage_or_time_are_dropped_and_counted(run):
    ev = journeys({"a": [("Discovery", "2025-01-01 10:00"), ("Online research", None)],
                   "b": [(None, "2025-01-01 10:00")]})
    res = run(ev)
    assert res.dropped_rows == 2
    assert reached(res)[:2] == [1, 0]


def test_ties_are_tried_in_step_order_and_zero_seconds_kept(run):
    # Purchase written before Discovery at the same second: still a conversion, in 0 s
    ev = journeys({"same_second": [("Online research", "2025-01-01 10:00"),
                                   ("Discovery", "2025-01-01 10:00"),
                                   ("Purchase", "2025-01-01 10:05"),
                                   ("In-store demo", "2025-01-01 10:05")]})
    res = run(ev)
    assert reached(res) == [1, 1, 1, 1]
    t = res.table.sort("step_index")
    assert t["median_seconds"].to_list() == [None, 0.0, 300.0, 0.0]
    assert t["mean_seconds"].to_list() == [None, 0.0, 300.0, 0.0]


def test_window_cuts_slow_journeys(run):
    ev = journeys({"slow": [("Discovery", "2025-01-01 10:00"),
                            ("Online research", "2025-01-03 10:00")]})
    assert reached(run(ev, window=timedelta(days=1)))[:2] == [1, 0]
    assert reached(run(ev, window=timedelta(days=2)))[:2] == [1, 1]  # tk − t1 ≤ W inclusive


# ----------------------------------------------------------------------------- re-entry (DESIGN §5)

REENTRY = {"came_back": [("A", "2025-01-01 13:00"), ("A", "2025-01-01 13:30"),
                         ("B", "2025-01-01 13:45"), ("C", "2025-01-01 14:15")]}


@pytest.mark.parametrize(("reentry", "want"), [("latest", [1, 1, 1]), ("first", [1, 1, 0])])
def test_reentry_latest_restarts_the_window_first_anchors_it(reentry, want):
    q = FunnelQuery(steps=["A", "B", "C"], window=timedelta(hours=1), reentry=reentry)
    res = funnel(journeys(REENTRY), q)
    assert reached(res) == want
    # the converting attempt starts at 13:30 by default, at 13:00 when anchored
    assert res.table["median_seconds"][1] == (900.0 if reentry == "latest" else 2700.0)


def test_reentry_picks_the_best_attempt_not_the_last():
    ev = journeys({"converted_then_browsed": [
        ("A", "2025-01-01 10:00"), ("B", "2025-01-01 10:10"), ("C", "2025-01-01 10:20"),
        ("A", "2025-01-05 10:00")]})
    res = funnel(ev, FunnelQuery(steps=["A", "B", "C"], window=timedelta(hours=1)))
    assert reached(res) == [1, 1, 1]


def test_strict_breaks_on_any_other_event_even_outside_the_steps():
    ev = journeys({"detour": [("A", "2025-01-01 10:00"), ("Z", "2025-01-01 10:01"),
                              ("B", "2025-01-01 10:02")],
                   "direct": [("A", "2025-01-01 10:00"), ("B", "2025-01-01 10:02")]})
    q = FunnelQuery(steps=["A", "B"], mode="strict")
    assert reached(funnel(ev, q)) == [2, 1]
    assert reached(funnel(ev, FunnelQuery(steps=["A", "B"]))) == [2, 2]


def test_any_order_counts_distinct_steps_within_the_window():
    ev = journeys({"backwards": [("C", "2025-01-01 10:00"), ("B", "2025-01-01 10:10"),
                                 ("A", "2025-01-01 10:20")],
                   "spread_out": [("C", "2025-01-01 10:00"), ("B", "2025-01-03 10:00"),
                                  ("A", "2025-01-03 10:30")]})
    res = funnel(ev, FunnelQuery(steps=["A", "B", "C"], mode="any", window=timedelta(hours=1)))
    assert reached(res) == [2, 2, 1]
    assert res.table["step"].to_list() == ["1 of 3 steps", "2 of 3 steps", "3 of 3 steps"]
    # backwards: 600 s, 600 s; spread_out's best window starts at B: 1800 s to A
    assert res.table["median_seconds"].to_list()[1:] == [1200.0, 600.0]


# ----------------------------------------------------------------------------- mid-journey, open

def test_mid_journey_customers_are_shown_apart():
    ev = journeys({
        "walked_in_bought": [("In-store demo", "2025-01-05 10:00"),
                             ("Purchase", "2025-01-05 10:30")],
        "walked_in_left": [("In-store demo", "2025-01-05 11:00")],
        "bought_by_phone": [("Purchase", "2025-01-06 11:00")],
        "full": [("Discovery", "2025-01-01 10:00"), ("Online research", "2025-01-01 11:00"),
                 ("In-store demo", "2025-01-02 10:00"), ("Purchase", "2025-01-02 11:00")],
    })
    res = funnel(ev, FunnelQuery(steps=STEPS))
    assert reached(res) == [1, 1, 1, 1]
    assert res.entered_mid_journey == 3
    mid = res.mid_journey.select("entry_step", "step", "reached").rows()
    assert mid == [("In-store demo", "In-store demo", 2), ("In-store demo", "Purchase", 1),
                   ("Purchase", "Purchase", 1)]
    assert res.per_stage["customers"].to_list() == [1, 1, 3, 3]
    per_stage = funnel(ev, FunnelQuery(steps=STEPS, mid_journey="per_stage"))
    assert reached(per_stage) == [1, 1, 3, 3]
    assert per_stage.table["median_seconds"].null_count() == 4


def test_open_windows_are_flagged_and_can_be_excluded():
    ev = journeys({
        "closed_and_lost": [("A", "2025-01-01 10:00")],
        "converted_late": [("A", "2025-01-09 10:00"), ("B", "2025-01-09 12:00")],
        "still_deciding": [("A", "2025-01-09 11:00")],
        "last_event": [("C", "2025-01-10 00:00")],
    })
    q = FunnelQuery(steps=["A", "B"], window=timedelta(days=2))
    res = funnel(ev, q)
    assert reached(res) == [3, 1]
    assert res.open_windows == 1  # converted_late is done; closed_and_lost's window ended
    excluded = funnel(ev, FunnelQuery(steps=["A", "B"], window=timedelta(days=2),
                                      exclude_open=True))
    assert reached(excluded) == [2, 1]
    assert funnel(ev, FunnelQuery(steps=["A", "B"])).open_windows == 0  # no window, never closed


# ----------------------------------------------------------------------------- breakdowns, z-test

BREAKDOWN = {
    "web_then_store_bought": [("A", "2025-01-01 10:00", {"channel": "web", "region": "N"}),
                              ("B", "2025-01-02 10:00", {"channel": "store", "region": "N"})],
    "web_left": [("A", "2025-01-01 10:00", {"channel": "web", "region": "S"})],
    "store_bought": [("A", "2025-01-01 10:00", {"channel": "store", "region": "N"}),
                     ("B", "2025-01-01 11:00", {"channel": "store", "region": "N"})],
}


@pytest.mark.parametrize(("attribution", "want"), [
    ("first", {("store", 1), ("store", 2), ("web", 1), ("web", 2)}),
    ("last", {("store", 1), ("store", 2), ("web", 1)}),
])
def test_breakdown_first_and_last_touch(attribution, want):
    q = FunnelQuery(steps=["A", "B"], breakdown=("channel",), attribution=attribution)
    res = funnel(journeys(BREAKDOWN), q)
    got = {(r["channel"], r["step_index"]) for r in res.table.iter_rows(named=True)
           for _ in range(r["reached"])}
    assert got == want
    if attribution == "first":
        assert res.table.filter(step_index=2).sort("channel")["reached"].to_list() == [1, 1]
    d = res.to_dict()
    assert {s["segment"]["channel"] for s in d["segments"]} == {"store", "web"}


def test_breakdown_by_two_dimensions():
    q = FunnelQuery(steps=["A", "B"], breakdown=("channel", "region"))
    t = funnel(journeys(BREAKDOWN), q).table
    rows = {(r["channel"], r["region"], r["step_index"]): r["reached"]
            for r in t.iter_rows(named=True)}
    assert rows == {("store", "N", 1): 1, ("store", "N", 2): 1, ("web", "N", 1): 1,
                    ("web", "N", 2): 1, ("web", "S", 1): 1, ("web", "S", 2): 0}
    with pytest.raises(ValueError, match="at most two"):
        funnel(journeys(BREAKDOWN), FunnelQuery(steps=["A"], breakdown=("a", "b", "c")))


def _segment_events(spec: dict[str, tuple[int, int]]) -> pl.DataFrame:
    rows = []
    for seg, (n, conv) in spec.items():
        for i in range(n):
            who = f"{seg}{i}"
            rows.append({"customer_id": who, "stage": "A", "timestamp": T0, "seg": seg})
            if i < conv:
                rows.append({"customer_id": who, "stage": "B",
                             "timestamp": T0 + timedelta(hours=1), "seg": seg})
    return pl.DataFrame(rows)


def test_segment_comparison_z_test_and_holm_hand_checked():
    # x: 60/100 against the rest (40 + 45 + 5)/(100 + 100 + 10) = 90/210; pooled 150/310
    # z = (0.6 − 0.428571) / sqrt(0.483871 · 0.516129 · (1/100 + 1/210)) = 2.82337
    ev = _segment_events({"x": (100, 60), "y": (100, 40), "z": (100, 45), "tiny": (10, 5)})
    res = funnel(ev, FunnelQuery(steps=["A", "B"], breakdown=("seg",)))
    cmp = {r["seg"]: r for r in res.comparison.iter_rows(named=True)}
    x = cmp["x"]
    assert (x["n"], x["converted"], x["rest_n"]) == (100, 60, 210)
    # with tiny in the rest: 90/210
    assert x["rate"] == 0.6 and x["rest_rate"] == pytest.approx(90 / 210)
    assert x["z"] == pytest.approx(2.82337, abs=1e-4)
    assert x["p"] == pytest.approx(0.004752, abs=1e-5)
    ps = sorted(r["p"] for r in cmp.values())
    assert x["p_holm"] == pytest.approx(min(1.0, 4 * ps[0]))
    assert x["significant"] and not x["insufficient"]
    assert cmp["tiny"]["insufficient"] and not cmp["tiny"]["significant"]


def test_comparison_hand_checked_two_segments():
    ev = _segment_events({"x": (100, 60), "y": (100, 40)})
    cmp = funnel(ev, FunnelQuery(steps=["A", "B"], breakdown=("seg",))).comparison.sort("seg")
    assert cmp["z"].to_list() == pytest.approx([2.828427, -2.828427], abs=1e-5)
    assert cmp["p"].to_list() == pytest.approx([0.004678, 0.004678], abs=1e-5)
    assert cmp["p_holm"].to_list() == pytest.approx([0.009356, 0.009356], abs=1e-5)


# ----------------------------------------------------------------------------- metrics, counts

def test_funnel_metrics_name_each_step():
    res = funnel(journeys(PEOPLE), FunnelQuery(steps=STEPS))
    ms = funnel_metrics(res)
    assert [m.by["step"] for m in ms if m.metric == "stage_conversion"] == [
        "Discovery → Online research", "Online research → In-store demo",
        "In-store demo → Purchase"]
    overall = next(m for m in ms if m.metric == "overall_conversion")
    assert (overall.value, overall.n) == (0.2, 5) and overall.low_sample


def test_role_dropoff_cart_abandonment():
    j = default_journey("4773")
    ev = journeys({
        "abandoned": [("Cart", "2025-01-01 10:00")],
        "bought": [("Cart", "2025-01-01 10:00"), ("Purchase", "2025-01-01 10:10")],
        "bought_before_carting": [("Purchase", "2025-01-01 09:00"), ("Cart", "2025-01-01 10:00")],
        "bought_in_store_only": [("Purchase", "2025-01-01 10:00")],
    })
    m = role_dropoff(ev, j, "cart", "purchase")
    assert (m.metric, m.value, m.n) == ("cart_abandonment", pytest.approx(2 / 3), 3)
    assert m.low < m.value < m.high
    no_cart = role_dropoff(ev, default_journey("4742"), "cart", "purchase")
    assert (no_cart.value, no_cart.n) == (None, 0)
    assert role_dropoff(ev, j, "inquiry", "consultation").metric == "inquiry_consultation_dropoff"


def test_funnel_from_counts_equals_per_stage_funnel_on_the_same_data():
    counts = funnel_counts_example("4742")
    events = generate("4742", 3000, seed=0)["events"]
    j = default_journey("4742")
    from_counts = funnel_from_counts(counts, journey=j)
    from_events = funnel(events, FunnelQuery(mid_journey="per_stage"), j)
    assert reached(from_counts) == reached(from_events)
    assert from_counts.steps == [s.name for s in j.stages]
    by_seg = funnel_from_counts(counts, breakdown=("segment",), journey=j)
    assert by_seg.table.group_by("step_index").agg(pl.col("reached").sum()).sort(
        "step_index")["reached"].to_list() == reached(from_counts)
    assert by_seg.comparison is not None and by_seg.table["median_seconds"].null_count() > 0


def test_planted_high_dropoff_step_is_the_worst_up_to_purchase():
    facts = PLANTED_FACTS["4742"]
    events = generate("4742", 3000, seed=0)["events"]
    t = funnel(events, FunnelQuery(), default_journey("4742")).table.sort("step_index")
    last = t["step"].to_list().index(facts["dropoff_scope"][1])
    scope = t.slice(1, last)
    worst = scope.sort("dropoff", descending=True).row(0, named=True)
    a, b = facts["high_dropoff_step"]
    assert worst["step"] == b
    assert t["step"][worst["step_index"] - 2] == a
    assert worst["dropoff"] >= facts["high_dropoff_expected_min"]


def test_stage_keys_match_like_names_and_errors_are_plain():
    j = default_journey("4742")
    ev = journeys({"a": [("discovery", "2025-01-01 10:00"), ("Online research",
                                                            "2025-01-01 11:00")]})
    assert reached(funnel(ev, FunnelQuery(), j))[:2] == [1, 1]
    with pytest.raises(ValueError, match="steps"):
        funnel(ev, FunnelQuery(step_column="event"))
    with pytest.raises(ValueError, match="twice"):
        funnel(ev, FunnelQuery(steps=["A", "A"]))
    with pytest.raises(ValueError, match="no column 'touchpoint'"):
        funnel(ev, FunnelQuery(steps=["A"], step_column="touchpoint"))


# ----------------------------------------------------------------------------- reference

def _ref_customer(evs, k, w, mode, reentry):
    """Plain Python: evs = [(t, step)] sorted by (time, step); step k+1 = no step.
    Returns (entry step, level, seconds per step of the chosen attempt)."""
    steps_only = [e for e in evs if e[1] <= k]
    if not steps_only:
        return 0, 0, []
    # step 1 whenever the customer did step 1, whatever came before; else their first step
    entry = 1 if any(e[1] == 1 for e in steps_only) else steps_only[0][1]
    if mode != "strict":
        evs = steps_only
    if mode == "any":
        return _ref_any(evs, w, reentry)
    anchors = [i for i, e in enumerate(evs) if e[1] == entry]
    if reentry == "first":
        anchors = anchors[:1]
    best = (0, [])
    for a in anchors:
        chain, cur = [evs[a][0]], a
        for step in range(entry + 1, k + 1):
            if mode == "strict":
                nxt = cur + 1 if cur + 1 < len(evs) and evs[cur + 1][1] == step else None
            else:
                nxt = next((j for j in range(cur + 1, len(evs)) if evs[j][1] == step), None)
            if nxt is None or (w is not None and evs[nxt][0] - evs[a][0] > w):
                break
            chain.append(evs[nxt][0])
            cur = nxt
        if len(chain) >= best[0]:
            best = (len(chain), chain)
    return entry, best[0], [(b - a).total_seconds() for a, b in itertools.pairwise(best[1])]


def _ref_any(evs, w, reentry):
    # a window [t, t + W] starts at one of the customer's event times and holds every event
    # at those times, ties included
    starts = [0] if reentry == "first" else [
        i for i in range(len(evs)) if i == 0 or evs[i][0] != evs[i - 1][0]]
    best = (0, None)
    for i in starts:
        seen = {}
        for t, s in evs[i:]:
            if (w is None or t - evs[i][0] <= w) and s not in seen:
                seen[s] = t
        if len(seen) >= best[0]:
            best = (len(seen), sorted(seen.values()))
    return 1, best[0], [(b - a).total_seconds() for a, b in itertools.pairwise(best[1])]


def reference(events: pl.DataFrame, steps, window, mode, reentry):
    """Reached per step and per-step conversion times, customer by customer."""
    k = len(steps)
    idx = {s: i + 1 for i, s in enumerate(steps)}
    per = {}
    for file_pos, r in enumerate(events.iter_rows(named=True)):
        per.setdefault(r["customer_id"], []).append(
            (r["timestamp"], idx.get(r["stage"], k + 1), file_pos))
    out = [0] * k
    times: list[list[float]] = [[] for _ in range(k)]
    for evs in per.values():
        evs = [(t, s) for t, s, _ in sorted(evs)]
        entry, level, secs = _ref_customer(evs, k, window, mode, reentry)
        if entry != 1:
            continue
        for j in range(level):
            out[j] += 1
        for j, d in enumerate(secs):
            times[j + 1].append(d)
    return out, times


def _longest_prefix_subsequence(seq, k):
    level = 0
    for s in seq:
        if level < k and s == level + 1:
            level += 1
    return level


def _exists_chain(evs, k_reach, w):
    """Brute force: some events i1 < … < ik of steps 1..k with t_k − t_1 ≤ W."""
    cands = [[i for i, e in enumerate(evs) if e[1] == s] for s in range(1, k_reach + 1)]
    for combo in itertools.product(*cands):
        if all(a < b for a, b in itertools.pairwise(combo)) and (
                w is None or evs[combo[-1]][0] - evs[combo[0]][0] <= w):
            return True
    return False


event_lists = st.lists(
    st.tuples(st.sampled_from("abcd"), st.integers(0, 12), st.sampled_from("ABCDZ")),
    max_size=30)


def _frame(raw) -> pl.DataFrame:
    return pl.DataFrame(
        {"customer_id": [c for c, _, _ in raw],
         "timestamp": [T0 + timedelta(minutes=10 * m) for _, m, _ in raw],
         "stage": [s for _, _, s in raw]},
        schema={"customer_id": pl.String, "timestamp": pl.Datetime("us"), "stage": pl.String})


@settings(max_examples=150, deadline=None)
@given(event_lists, st.sampled_from(["ordered", "strict", "any"]),
       st.sampled_from(["latest", "first"]), st.sampled_from([None, 15, 30, 60]))
def test_vectorised_funnel_equals_plain_python_reference(raw, mode, reentry, minutes):
    steps = ["A", "B", "C", "D"]
    window = None if minutes is None else timedelta(minutes=minutes)
    ev = _frame(raw)
    res = funnel(ev, FunnelQuery(steps=steps, window=window, mode=mode, reentry=reentry))
    want, times = reference(ev, steps, window, mode, reentry)
    assert reached(res) == want
    t = res.table.sort("step_index")
    for j in range(1, len(steps)):
        if times[j]:
            assert t["mean_seconds"][j] == pytest.approx(sum(times[j]) / len(times[j]))
        else:
            assert t["mean_seconds"][j] is None
    r = reached(res)
    assert all(a >= b for a, b in itertools.pairwise(r))
    assert all(0 <= v <= 1 for v in t["step_conversion"].drop_nulls())


@settings(max_examples=100, deadline=None)
@given(event_lists, st.sampled_from([None, 20, 40]))
def test_ordered_funnel_is_the_existence_definition(raw, minutes):
    steps = ["A", "B", "C", "D"]
    window = None if minutes is None else timedelta(minutes=minutes)
    ev = _frame(raw)
    res = funnel(ev, FunnelQuery(steps=steps, window=window))
    idx = {s: i + 1 for i, s in enumerate(steps)}
    want = [0] * 4
    for evs in _ref_groups(ev, idx):
        if all(s != 1 for _, s in evs):
            continue
        level = max(j for j in range(1, 5) if j == 1 or _exists_chain(evs, j, window))
        if window is None:
            assert level == _longest_prefix_subsequence([s for _, s in evs], 4)
        for j in range(level):
            want[j] += 1
    assert reached(res) == want


def _ref_groups(ev: pl.DataFrame, idx: dict) -> list[list[tuple]]:
    per: dict[str, list] = {}
    for r in ev.iter_rows(named=True):
        if r["stage"] in idx:
            per.setdefault(r["customer_id"], []).append((r["timestamp"], idx[r["stage"]]))
    return [sorted(v) for v in per.values()]


def test_customer_ids_that_clash_in_their_top_hash_bits_stay_apart():
    from cjm_core.analytics.funnel import _customer_codes
    ids = pl.Series([f"C{i}" for i in range(5000)])
    from cjm_core.analytics.funnel_kernels import pack_hashed
    hashed = _customer_codes(ids, 20)  # 5000 ids in 2**20 codes: some top bits clash
    assert len(hashed.moved) > 0  # the case under test happens
    n = len(ids)  # with no time and step bits the packed key is the customer code itself
    codes = pack_hashed(hashed.h, np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.uint8),
                        0, 0, hashed.shift, hashed.moved, hashed.free)
    assert len(set(codes.tolist())) == 5000 and int(codes.max()) < 2**20
    key = pack_hashed(hashed.h, np.zeros(n, dtype=np.int64), np.ones(n, dtype=np.uint8),
                      1, 2, hashed.shift, hashed.moved, hashed.free)
    assert (key >> np.uint64(3)).tolist() == codes.tolist()  # same codes above time and step
    exact = _customer_codes(ids, 8)  # too few bits for hashing: exact codes
    assert len(set(exact.tolist())) == 5000


@pytest.mark.parametrize("dtypes", ["string", "enum", "categorical", "integer_ids", "dates"])
def test_column_types_give_the_same_funnel(dtypes):
    ev = journeys(PEOPLE)
    base = reached(funnel(ev, FunnelQuery(steps=STEPS)))
    if dtypes == "enum":
        ev = ev.with_columns(pl.col("stage").cast(pl.Enum([*STEPS, "Other"])),
                             pl.col("customer_id").cast(pl.Enum(sorted(PEOPLE))))
    elif dtypes == "categorical":
        ev = ev.with_columns(pl.col("stage", "customer_id").cast(pl.Categorical))
    elif dtypes == "integer_ids":
        ev = ev.with_columns(pl.col("customer_id").rank("dense").cast(pl.Int64) * 10**12)
    else:  # whole days only: every journey here converts within its day, so day precision
        ev = ev.with_columns(pl.col("timestamp").dt.date())
        base = reached(funnel(journeys(PEOPLE).with_columns(pl.col("timestamp").dt.date()),
                              FunnelQuery(steps=STEPS)))
        assert base == [5, 4, 3, 1]
    assert reached(funnel(ev, FunnelQuery(steps=STEPS))) == base


def test_strict_counts_customers_with_step_events_only():
    ev = journeys({"only_other": [("Z", "2025-01-01 10:00")],
                   "a_then_other": [("A", "2025-01-01 10:00"), ("Z", "2025-01-01 10:00")]})
    res = funnel(ev, FunnelQuery(steps=["A", "B"], mode="strict"))
    assert res.customers == 1 and reached(res) == [1, 0]


@pytest.mark.parametrize("query", [
    FunnelQuery(window=timedelta(days=7)),
    FunnelQuery(window=timedelta(days=2), mode="strict", reentry="first"),
    FunnelQuery(breakdown=("channel",), attribution="last"),
])
def test_the_two_thread_split_gives_the_same_funnel(monkeypatch, query):
    import cjm_core.analytics.funnel as F
    from cjm_core.demo.sample import generate_events
    from cjm_core.model.journey import default_journey
    ev = generate_events(20_000, "4742", seed=3)
    journey = default_journey("4742")
    monkeypatch.setattr(F, "_SPLIT_EVENTS", 10**9)
    whole = F.funnel(ev, query, journey)
    monkeypatch.setattr(F, "_SPLIT_EVENTS", 1)
    split = F.funnel(ev, query, journey)
    assert whole.customers > 1000 and whole.table["reached"][2] > 0
    assert split.table.equals(whole.table)
    assert (split.customers, split.entered_mid_journey, split.open_windows) == (
        whole.customers, whole.entered_mid_journey, whole.open_windows)
    assert split.mid_journey.equals(whole.mid_journey)
    assert split.per_stage.equals(whole.per_stage)


def test_too_many_steps_is_a_clear_error_not_a_wrong_table():
    from cjm_core.analytics.funnel import MAX_STEPS
    from cjm_core.errors import QueryError
    ev = pl.DataFrame({"customer_id": ["a", "a"], "stage": ["s1", "s2"],
                       "timestamp": [datetime(2025, 1, 1), datetime(2025, 1, 2)]})
    steps = [f"s{i}" for i in range(1, MAX_STEPS + 1)]
    assert funnel(ev, FunnelQuery(steps=steps)).table["reached"].to_list()[:3] == [1, 1, 0]
    with pytest.raises(QueryError, match=f"at most {MAX_STEPS} steps"):
        funnel(ev, FunnelQuery(steps=[*steps, "one more"]))
