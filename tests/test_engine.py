"""The engine seam without Spark: partials merge by addition whatever the split, and the local
engine gives the figures of the existing functions (funnel.funnel, channels.*)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from cjm_core.analytics.channels import omnichannel, online_to_store, transitions
from cjm_core.analytics.funnel import FunnelQuery, funnel
from cjm_core.demo.sample import generate_events
from cjm_core.engine import passes
from cjm_core.engine.local import LocalEngine
from cjm_core.engine.partials import (
    EXACT_LIMIT,
    SKETCH_REL_ERROR,
    CountPartial,
    Summary,
    bucket_floor,
)
from cjm_core.model.journey import default_journey, journey_from_rows

T0 = datetime(2025, 1, 1)
JOURNEY = default_journey("4742")


def assert_same_funnel(a, b, exact: bool = True) -> None:
    """Every figure of two FunnelResults; ``exact=False`` allows rounding in the mean."""
    ta = a.table.drop("median_rel_error", strict=False)
    tb = b.table.drop("median_rel_error", strict=False)
    if exact:
        assert_frame_equal(ta, tb)
    else:
        assert_frame_equal(ta, tb, check_exact=False, rel_tol=1e-12, abs_tol=1e-9)
    for name in ("customers", "entered_mid_journey", "open_windows", "dropped_rows", "steps",
                 "missing_steps", "breakdown"):
        assert getattr(a, name) == getattr(b, name), name
    assert_frame_equal(a.mid_journey, b.mid_journey)
    assert_frame_equal(a.per_stage, b.per_stage)
    if a.comparison is None or b.comparison is None:
        assert a.comparison is None and b.comparison is None
    else:
        assert_frame_equal(a.comparison, b.comparison, check_exact=exact, rel_tol=1e-12)


# ----------------------------------------------------------------------------- partials


def test_summary_is_exact_below_the_limit_and_bounded_above():
    rng = np.random.default_rng(3)
    small = rng.integers(0, 10**6, 999)
    assert Summary.of(small).median(1.0) == pl.Series(small.astype(float)).median()
    big = rng.integers(0, 10**9, 3 * EXACT_LIMIT)
    s = Summary.of(big)
    assert s.sketched and s.rel_error == SKETCH_REL_ERROR
    true = float(np.median(big))
    assert abs(s.median(1.0) - true) <= SKETCH_REL_ERROR * true


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2**40), max_size=400), min_size=1, max_size=6),
       st.randoms(use_true_random=False))
def test_summary_merge_does_not_depend_on_the_split_or_order(chunks, rnd):
    whole = Summary.of(np.array([x for c in chunks for x in c], dtype=np.int64))
    parts = [Summary.of(np.array(c, dtype=np.int64)) for c in chunks]
    rnd.shuffle(parts)
    merged = Summary()
    for p in parts:
        merged = merged.merge(p)
    assert np.array_equal(merged.keys, whole.keys) and np.array_equal(merged.counts, whole.counts)
    assert merged.sketched == whole.sketched


def test_bucket_floor_keeps_nine_binary_digits():
    v = np.array([2**40 + 12345, 7 * 2**33 + 1])
    f = bucket_floor(v)
    assert np.all(f <= v) and np.all((v - f) / v < 2 * SKETCH_REL_ERROR)


def test_count_partials_add():
    a = CountPartial({("web", "store"): 2})
    assert CountPartial.from_state(a.merge(a).to_state()).counts == {("web", "store"): 4}


# ----------------------------------------------------------------------------- local engine


QUERIES = [
    FunnelQuery(mode=mode, reentry=reentry, window=window)
    for mode in ("ordered", "strict", "any") for reentry in ("latest", "first")
    for window in (None, timedelta(days=3))
] + [
    FunnelQuery(window=timedelta(days=7), breakdown=("channel",), attribution="last",
                exclude_open=True),
    FunnelQuery(mode="any", window=timedelta(hours=20), breakdown=("segment", "region")),
    FunnelQuery(mid_journey="per_stage", breakdown=("segment",)),
    FunnelQuery(mode="strict", window=timedelta(days=2), breakdown=("channel",)),
]


@pytest.fixture(scope="module")
def sample_events() -> pl.DataFrame:
    return generate_events(8000, "4742", seed=5, categorical=False)


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: f"{q.mode}-{q.reentry}-{q.window}-"
                         f"{'+'.join(q.breakdown)}-{q.mid_journey}")
def test_local_engine_is_the_funnel(sample_events, query):
    want = funnel(sample_events, query, JOURNEY)
    got = LocalEngine(sample_events, parts=3).funnel(query, JOURNEY)
    assert_same_funnel(want, got, exact=False)  # the mean is summed in another order
    # any split of the customers gives identical figures (what Spark relies on)
    assert_same_funnel(got, LocalEngine(sample_events, parts=1).funnel(query, JOURNEY))
    assert set(got.table["median_rel_error"].drop_nulls().to_list()) <= {0.0}


def test_local_engine_medians_past_the_exact_limit_stay_within_the_bound():
    ev = generate_events(150_000, "4742", seed=2, categorical=False)
    q = FunnelQuery(window=timedelta(days=7))
    want, got = funnel(ev, q, JOURNEY), LocalEngine(ev, parts=2).funnel(q, JOURNEY)
    assert want.table["reached"].to_list() == got.table["reached"].to_list()
    for w, g, err in zip(want.table["median_seconds"], got.table["median_seconds"],
                         got.table["median_rel_error"], strict=True):
        if w is None:
            assert g is None
        else:
            assert abs(g - w) <= 2 * err * w + 1e-9  # a midpoint of two bounded values
    assert SKETCH_REL_ERROR in got.table["median_rel_error"].to_list()


event_logs = st.lists(
    st.tuples(st.sampled_from("abcdef"), st.integers(0, 40), st.sampled_from("ABCDZ"),
              st.sampled_from(["web", "store", "app", None])),
    max_size=60)


def log_frame(raw, seconds: bool = False) -> pl.DataFrame:
    step = timedelta(seconds=7) if seconds else timedelta(minutes=10)
    return pl.DataFrame(
        {"customer_id": [c for c, *_ in raw],
         "timestamp": [T0 + m * step for _, m, _, _ in raw],
         "stage": [s for _, _, s, _ in raw],
         "channel": [ch for *_, ch in raw]},
        schema={"customer_id": pl.String, "timestamp": pl.Datetime("us"), "stage": pl.String,
                "channel": pl.String})


@settings(max_examples=80, deadline=None)
@given(event_logs, st.sampled_from(["ordered", "strict", "any"]),
       st.sampled_from(["latest", "first"]), st.sampled_from([None, 25, 60]),
       st.sampled_from([(), ("channel",)]), st.sampled_from(["first", "last"]),
       st.booleans(), st.integers(1, 4))
def test_local_engine_equals_funnel_on_random_logs(raw, mode, reentry, minutes, by, attribution,
                                                   exclude_open, parts):
    ev = log_frame(raw)
    q = FunnelQuery(steps=["A", "B", "C", "D"], mode=mode, reentry=reentry,
                    window=None if minutes is None else timedelta(minutes=minutes),
                    breakdown=by, attribution=attribution, exclude_open=exclude_open)
    try:
        want = funnel(ev, q)
    except TypeError:  # funnel.py: a breakdown with no customer left fails in _comparison
        with pytest.raises(TypeError):
            LocalEngine(ev, parts=parts).funnel(q)
        return
    assert_same_funnel(want, LocalEngine(ev, parts=parts).funnel(q), exact=False)


@settings(max_examples=60, deadline=None)
@given(event_logs, st.integers(1, 4))
def test_local_engine_equals_the_channel_functions(raw, parts):
    ev = log_frame(raw)
    j = journey_from_rows("4742", ["A", "B", "C", "D"], {"purchase": "D"})
    eng = LocalEngine(ev, parts=parts)
    assert_frame_equal(eng.transitions("channel"), transitions(ev, "channel"))
    assert_frame_equal(eng.transitions("channel", drop_self=True),
                       transitions(ev, "channel", drop_self=True))
    assert eng.omnichannel(j) == omnichannel(ev, j)
    assert eng.online_to_store(j) == online_to_store(ev, j)


def test_cli_funnel_of_a_parquet_source_on_the_local_engine(tmp_path, capsys):
    from cjm_core.cli import main

    ev = generate_events(5000, "4742", seed=4, categorical=False)
    for i, part in enumerate(ev.iter_slices(2000)):
        part.write_parquet(tmp_path / f"part-{i}.parquet")
    steps = [s.name for s in JOURNEY.stages]
    code = main(["funnel", "--source", f"parquet:{tmp_path}", "--steps", ",".join(steps),
                 "--window", "7d", "--by", "channel", "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    got = json.loads(out.out)
    want = funnel(ev, FunnelQuery(steps=steps, window=timedelta(days=7), breakdown=("channel",)))
    assert [[s["reached"] for s in seg["steps"]] for seg in got["segments"]] == \
        [[s["reached"] for s in seg["steps"]] for seg in want.to_dict()["segments"]]
    assert got["customers"] == want.customers and got["median_rel_error"] == 0.0
    assert "engine: local, 5,000 rows" in out.err
    assert main(["funnel", "--steps", "A,B", "--json"]) == 2  # neither FILE nor --source
    assert "--source" in capsys.readouterr().out


def test_microsecond_times_over_years_take_the_plain_sort():
    """Times in µs over three years leave the packed key too few bits for the customer: the
    pass sorts the columns instead, with the same figures."""
    ev = generate_events(3000, "4742", seed=6, categorical=False).with_columns(
        pl.col("timestamp") + pl.duration(microseconds=pl.int_range(pl.len()) % 997)
    ).with_columns(pl.when(pl.int_range(pl.len()) == 0).then(pl.datetime(2021, 1, 1))
                   .otherwise(pl.col("timestamp")).alias("timestamp"))
    plan = passes.make_plan(FunnelQuery(), JOURNEY)
    plan = passes.with_time(plan, passes.time_stats(ev, plan))
    assert plan.unit_us == 1 and plan.t_max.bit_length() > 64 - 20 - 3  # packed key: no room
    for q in (FunnelQuery(window=timedelta(days=7)),
              FunnelQuery(mode="any", breakdown=("channel",))):
        assert_same_funnel(funnel(ev, q, JOURNEY), LocalEngine(ev, parts=2).funnel(q, JOURNEY),
                           exact=False)
