"""The funnel against an independent oracle: ClickHouse's own ``windowFunnel`` (default mode),
run in process through chdb, on random event logs (DESIGN §5: in ordered mode with the default
re-entry, reached_k must equal the number of customers whose ``windowFunnel`` level is ≥ k).

Also the walk-in customer of issue 10, written out by hand: a customer who did step 1 is in
step 1, whatever they did before it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import chdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cjm_core.analytics.funnel import FunnelQuery, funnel

T0 = datetime(2025, 3, 1, 9, 0)
NO_WINDOW = 10**9  # seconds: longer than any generated log, so windowFunnel never cuts


def _frame(raw: list[tuple[str, int, str]]) -> pl.DataFrame:
    """Events in file order from (customer, seconds after T0, stage)."""
    return pl.DataFrame(
        {"customer_id": [c for c, _, _ in raw],
         "timestamp": [T0 + timedelta(seconds=t) for _, t, _ in raw],
         "stage": [s for _, _, s in raw]},
        schema={"customer_id": pl.String, "timestamp": pl.Datetime("us"), "stage": pl.String})


def clickhouse_reached(raw: list[tuple[str, int, str]], steps: list[str],
                       window_s: int | None) -> tuple[list[int], int]:
    """reached_k from ClickHouse ``windowFunnel(W)(t, stage = step1, …)`` per customer, and
    the customers with no step-1 event but an event of a later step (mid-journey)."""
    if not raw:
        return [0] * len(steps), 0
    rows = ", ".join(f"('{c}', {t}, '{s}')" for c, t, s in raw)
    conds = ", ".join(f"stage = '{s}'" for s in steps)
    later = ", ".join(f"'{s}'" for s in steps[1:]) or "''"
    w = NO_WINDOW if window_s is None else window_s
    sql = f"""
        SELECT level, has1, has_later, count() FROM (
            SELECT u, windowFunnel({w})(t, {conds}) AS level,
                   max(stage = '{steps[0]}') AS has1, max(stage IN ({later})) AS has_later
            FROM values('u String, t UInt32, stage String', {rows})
            GROUP BY u)
        GROUP BY level, has1, has_later"""
    out = chdb.query(sql, "CSV").bytes().decode()
    reached = [0] * len(steps)
    mid = 0
    for line in out.splitlines():
        level, has1, has_later, n = (int(x) for x in line.split(","))
        for j in range(level):
            reached[j] += n
        if not has1 and has_later:
            mid += n
    return reached, mid


def test_the_oracle_itself_on_a_hand_checked_log():
    # a: A B C within 10 s; b: A, then B after 20 s (cut by a 10 s window); c: only B
    raw = [("a", 0, "A"), ("a", 5, "B"), ("a", 9, "C"), ("b", 0, "A"), ("b", 20, "B"),
           ("c", 3, "B")]
    assert clickhouse_reached(raw, ["A", "B", "C"], 10) == ([2, 1, 1], 1)
    assert clickhouse_reached(raw, ["A", "B", "C"], None) == ([2, 2, 1], 1)


def reached(result) -> list[int]:
    return result.table.sort("step_index")["reached"].to_list()


event_logs = st.lists(
    st.tuples(st.sampled_from(["c1", "c2", "c3", "c4", "c5"]),  # several customers
              st.integers(0, 40),                               # seconds: many ties
              st.sampled_from(["A", "B", "C", "D", "Z", "Y"])),  # Z, Y: unrelated events
    max_size=40)


@settings(max_examples=300, deadline=None)
@given(event_logs, st.integers(1, 4), st.sampled_from([None, 0, 1, 5, 10, 25]))
def test_ordered_funnel_equals_clickhouse_window_funnel(raw, k, window_s):
    steps = ["A", "B", "C", "D"][:k]
    window = None if window_s is None else timedelta(seconds=window_s)
    res = funnel(_frame(raw), FunnelQuery(steps=steps, window=window))
    want, mid = clickhouse_reached(raw, steps, window_s)
    assert reached(res) == want
    assert res.entered_mid_journey == mid


@settings(max_examples=100, deadline=None)
@given(event_logs)
def test_file_order_does_not_change_the_funnel(raw):
    # rows out of time order (as exports often are) give the same counts as sorted rows
    steps = ["A", "B", "C"]
    q = FunnelQuery(steps=steps, window=timedelta(seconds=10))
    a = funnel(_frame(raw), q)
    b = funnel(_frame(sorted(raw, key=lambda r: (r[1], r[0], r[2]))), q)
    assert reached(a) == reached(b) == clickhouse_reached(raw, steps, 10)[0]


# ----------------------------------------------------------------------------- the walk-in

STEPS = ["Ad seen", "Online research", "In-store demo", "Purchase"]


def _journeys(people: dict[str, list[tuple[str, str]]]) -> pl.DataFrame:
    rows = [{"customer_id": who, "stage": stage, "timestamp": datetime.fromisoformat(when)}
            for who, evs in people.items() for stage, when in evs]
    return pl.DataFrame(rows, schema={"customer_id": pl.String, "stage": pl.String,
                                      "timestamp": pl.Datetime("us")})


WALK_INS = {
    # visits the store first, then sees an ad, then researches online: did step 1, is in it
    "walked_in_then_saw_ad_then_researched": [
        ("In-store demo", "2025-01-05 10:00"), ("Ad seen", "2025-01-06 09:00"),
        ("Online research", "2025-01-06 20:00")],
    # the same start, then comes back to the store and buys: converts from step 1
    "walked_in_saw_ad_came_back_and_bought": [
        ("In-store demo", "2025-01-05 10:00"), ("Ad seen", "2025-01-06 09:00"),
        ("Online research", "2025-01-06 20:00"), ("In-store demo", "2025-01-07 11:00"),
        ("Purchase", "2025-01-07 11:30")],
    # never saw an ad: entered mid-journey, not in step 1
    "walked_in_bought_never_saw_ad": [("In-store demo", "2025-01-05 10:00"),
                                      ("Purchase", "2025-01-05 10:20")],
    "saw_ad_only": [("Ad seen", "2025-01-04 10:00")],
}


def test_a_walk_in_who_later_saw_the_ad_is_in_step_one():
    res = funnel(_journeys(WALK_INS), FunnelQuery(steps=STEPS))
    # step 1: the two walk-ins who later saw the ad + saw_ad_only; the third never did step 1
    assert reached(res) == [3, 2, 1, 1]
    assert res.entered_mid_journey == 1
    assert res.mid_journey.select("entry_step", "step", "reached").rows() == [
        ("In-store demo", "In-store demo", 1), ("In-store demo", "Purchase", 1)]
    assert res.customers == 4
    raw = [(who, int((datetime.fromisoformat(when) - T0).total_seconds()) + 10**7, stage)
           for who, evs in WALK_INS.items() for stage, when in evs]
    assert clickhouse_reached(raw, STEPS, None) == ([3, 2, 1, 1], 1)


def test_a_walk_in_is_in_step_one_in_every_mode():
    # strict: the buyer's ad, research, demo and purchase are consecutive events; any order:
    # everyone is in, and the first walk-in has 3 of the 4 distinct steps
    for mode, want in [("ordered", [3, 2, 1, 1]), ("strict", [3, 2, 1, 1]),
                       ("any", [4, 3, 2, 1])]:
        assert reached(funnel(_journeys(WALK_INS), FunnelQuery(steps=STEPS, mode=mode))) \
            == want, mode


def test_a_step_missing_from_the_data_is_named_not_silently_zero():
    res = funnel(_journeys(WALK_INS), FunnelQuery(steps=[*STEPS, "Installation"]))
    assert res.missing_steps == ["Installation"]
    assert "'Installation'" in res.missing_message()
    assert res.to_dict()["missing_steps"] == ["Installation"]
    assert funnel(_journeys(WALK_INS), FunnelQuery(steps=STEPS)).missing_message() is None


@pytest.mark.parametrize("mode", ["ordered", "strict", "any"])
def test_missing_steps_in_every_mode(mode):
    res = funnel(_journeys(WALK_INS), FunnelQuery(steps=["Nope", *STEPS], mode=mode))
    assert res.missing_steps == ["Nope"]
