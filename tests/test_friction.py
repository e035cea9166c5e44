"""Friction priority: hand-checked ranking, the CSAT target, evidence, and the sample data's planted
low-CSAT touchpoint and high drop-off step among the top 3."""

from __future__ import annotations

import polars as pl
import pytest

from cjm_core.analytics.friction import DEFAULT_CSAT_TARGET, csat_target_from, friction_points
from cjm_core.analytics.stats import wilson
from cjm_core.demo.sample import PLANTED_FACTS, SAMPLE_CUSTOMERS, SAMPLE_SEED, generate
from cjm_core.industries.targets import Target, targets_for
from cjm_core.metric import Metric
from cjm_core.model.journey import default_journey

# A 1000 → B 800 → C 240 → D 200 → E 150
FUNNEL = pl.DataFrame({
    "step_index": [1, 2, 3, 4, 5],
    "step": ["A", "B", "C", "D", "E"],
    "reached": [1000, 800, 240, 200, 150],
    "step_conversion": [1.0, 0.8, 0.3, 200 / 240, 0.75],
    "dropoff": [None, 0.2, 0.7, 40 / 240, 0.25],
    "lost": [None, 200, 560, 40, 50],
    "n": [1000, 1000, 800, 240, 200],
})


def csat(name, value, n):
    return Metric("csat", value, n, *wilson(round(value * n), n), by={"touchpoint": name})


CSAT = [csat("Hotline", 0.60, 400), csat("Shop", 0.90, 300), csat("Chat", 0.80, 100),
        Metric("csat", 0.2, 50, by={"stage": "B"}),  # not a touchpoint cut: ignored
        Metric("nps", 10.0, 50, by={"touchpoint": "Hotline"}, unit="nps")]


def test_hand_checked_ranking():
    # steps: B→C gap 0.7 − median(0.2, 1/6, 0.25) = 0.5, × 560 lost = 280
    #        A→B gap 0.2 − median(0.7, 1/6, 0.25) = 0 ; C→D 0 ; D→E 0.25 − 0.2 = 0.05 × 50 = 2.5
    # touchpoints: Hotline 160 below × 0.25 = 40 ; Chat 20 × 0.05 = 1 ; Shop 0
    got = friction_points(FUNNEL, CSAT, top=None)
    assert [(f.kind, f.name) for f in got] == [
        ("step", "B → C"), ("touchpoint", "Hotline"), ("step", "D → E"), ("touchpoint", "Chat")]
    assert [f.raw_impact for f in got] == pytest.approx([280, 40, 2.5, 1])
    assert [f.impact for f in got] == pytest.approx([1, 40 / 280, 2.5 / 280, 1 / 280])
    assert len(friction_points(FUNNEL, CSAT)) == 3
    step, tp = got[0], got[1]
    assert step.evidence["lost"] == 560 and step.evidence["n"] == 800
    assert step.evidence["median_other_dropoff"] == pytest.approx(0.2)
    lo, hi = wilson(560, 800)
    assert (step.evidence["dropoff_low"], step.evidence["dropoff_high"]) == (lo, hi)
    assert step.summary == ("B → C: 560 of 800 customers lost, a drop-off of 70.0% (95% interval "
                            f"{lo * 100:.1f}–{hi * 100:.1f}%); the other steps' median drop-off "
                            "is 20.0%.")
    assert tp.evidence["below_top_boxes"] == 160 and tp.evidence["n"] == 400
    assert tp.evidence["target"] == DEFAULT_CSAT_TARGET
    assert tp.summary.startswith("Hotline: CSAT 60.0% (95% interval ")
    assert tp.summary.endswith(", n = 400), short of the 85.0% target; 160 of 400 answers not "
                               "in the top boxes.")
    assert tp.to_dict()["evidence"]["touchpoint"] == "Hotline"


def test_csat_target_from_workspace_targets_and_argument():
    raised = [Target("4773", "csat", "CSAT", "level_min", low=0.95, cut={"touchpoint": "*"})]
    assert csat_target_from(raised) == 0.95
    assert csat_target_from(targets_for("4742")) == DEFAULT_CSAT_TARGET  # no CSAT target there
    assert csat_target_from(targets_for("4773")) == 0.85
    got = {f.name: f for f in friction_points(FUNNEL, CSAT, targets=raised, top=None)}
    assert got["Shop"].raw_impact == pytest.approx(30 * 0.05)
    got = {f.name: f for f in friction_points(FUNNEL, CSAT, csat_target=0.5, top=None)}
    assert "Hotline" not in got


def test_worst_comments_from_callable_or_feedback():
    seen = []

    def worst(tp):
        seen.append(tp)
        return [f"bad {tp}"]

    got = {f.name: f for f in friction_points(FUNNEL, CSAT, worst_comments=worst, top=None)}
    assert got["Hotline"].evidence["worst_comments"] == ["bad Hotline"]
    assert sorted(seen) == ["Chat", "Hotline", "Shop"]
    fb = pl.DataFrame({
        "touchpoint": ["Hotline"] * 4 + ["Shop"],
        "csat": [1, 5, 2, 1, 1],
        "timestamp": [1, 2, 3, 4, 5],
        "comment": ["on hold", "great", "slow", None, "shop comment"],
    })
    got = {f.name: f for f in friction_points(FUNNEL, CSAT, fb, top=None)}
    assert got["Hotline"].evidence["worst_comments"] == ["on hold", "slow", "great"]


def test_nothing_to_fix():
    flat = FUNNEL.with_columns(pl.when(pl.col("step_index") > 1).then(0.2).alias("dropoff"))
    assert friction_points(flat, [csat("Shop", 0.9, 100)]) == []
    assert friction_points(FUNNEL.head(1), []) == []


def funnel_table(events: pl.DataFrame, stages: list[str]) -> pl.DataFrame:
    """Customers reaching each stage in journey order (having every earlier stage too)."""
    visited = events.group_by("customer_id").agg(pl.col("stage").unique())
    reached = []
    for k in range(len(stages)):
        cond = pl.all_horizontal(pl.col("stage").list.contains(s) for s in stages[: k + 1])
        reached.append(visited.filter(cond).height)
    prev = [None, *reached[:-1]]
    return pl.DataFrame({
        "step_index": range(1, len(stages) + 1),
        "step": stages,
        "reached": reached,
        "step_conversion": [None if p is None else r / p for r, p in zip(reached, prev,
                                                                           strict=True)],
        "dropoff": [None if p is None else 1 - r / p for r, p in zip(reached, prev, strict=True)],
        "lost": [None if p is None else p - r for r, p in zip(reached, prev, strict=True)],
        "n": [p or r for r, p in zip(reached, prev, strict=True)],
    })


@pytest.mark.parametrize("isic", ["4773", "4741", "4742"])
def test_planted_facts_are_in_the_top_3(isic):
    facts = PLANTED_FACTS[isic]
    data = generate(isic, SAMPLE_CUSTOMERS, seed=SAMPLE_SEED)
    table = funnel_table(data["events"], [s.name for s in default_journey(isic).stages])
    answers = (data["feedback"].filter(pl.col("csat").is_not_null())
               .group_by("touchpoint").agg(pl.len().alias("n"), (pl.col("csat") >= 4).sum()))
    metrics = [csat(tp, hits / n, n) for tp, n, hits in answers.iter_rows()]
    top = friction_points(table, metrics, data["feedback"], targets_for(isic))
    names = {(f.kind, f.name) for f in top}
    a, b = facts["high_dropoff_step"]
    assert ("step", f"{a} → {b}") in names
    assert ("touchpoint", facts["low_csat_touchpoint"]) in names
    tp = next(f for f in top if f.name == facts["low_csat_touchpoint"])
    assert tp.evidence["csat"] <= facts["low_csat_expected_max"]
    assert tp.evidence["worst_comments"]
    assert top[0].impact == 1.0 and all(0 < f.impact <= 1 for f in top)
