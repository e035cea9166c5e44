"""Friction priority (DESIGN §5): which funnel steps and touchpoints to fix first.

Why: the seeds ask to "prioritize and implement solutions for 2-3 high-impact friction points".
Every funnel step and every touchpoint with a CSAT figure is a candidate:

- step k: impact = customers lost at the step × max(0, the step's drop-off − the median drop-off
  of the other steps);
- touchpoint: impact = answers below the top boxes × max(0, CSAT target − CSAT), the target being
  the workspace's CSAT level target (0.85 by default, DESIGN §6).

Impacts are normalised to 0–1 by the largest one; candidates with no impact are left out. Each
friction point carries the evidence behind it (counts, rates with n and intervals, worst comments).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import Any, Literal

import polars as pl

from cjm_core.analytics.stats import wilson
from cjm_core.metric import Metric
from cjm_core.present.findings import sentence

__all__ = ["DEFAULT_CSAT_TARGET", "Friction", "csat_target_from", "friction_points",
           "step_candidates"]

#: the seeds' CSAT level (4773, 4741): 85% in the top boxes
DEFAULT_CSAT_TARGET = 0.85


@dataclass
class Friction:
    """One friction point: a funnel step ("A → B") or a touchpoint, its normalised impact (the
    largest is 1.0), the evidence and a one-line summary (its finding's sentence,
    :mod:`cjm_core.present.findings`)."""

    kind: Literal["step", "touchpoint"]
    name: str
    impact: float
    evidence: dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    raw_impact: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def csat_target_from(targets: list[Any] | None) -> float:
    """The CSAT level to measure touchpoints against: the first enabled CSAT level target of the
    workspace (a `cjm_core.industries.targets.Target` with ``metric == "csat"``), else 0.85."""
    for t in targets or []:
        if getattr(t, "metric", None) == "csat" and getattr(t, "enabled", True) \
                and getattr(t, "better", "higher") == "higher" and t.low is not None \
                and getattr(t, "kind", "") in ("level_min", "range", "by_complexity"):
            return float(t.low)
    return DEFAULT_CSAT_TARGET


def step_candidates(funnel_table: pl.DataFrame) -> list[Friction]:
    """Every funnel step as a friction candidate, by the rule of the module docstring: the
    Overview's top 3 and the journey map's pain points both read these (one rule)."""
    need = {"step", "reached", "dropoff", "lost"}
    if funnel_table.height < 2 or not need <= set(funnel_table.columns):
        return []
    order = "step_index" if "step_index" in funnel_table.columns else None
    rows = (funnel_table.sort(order) if order else funnel_table).to_dicts()
    steps = []
    for prev, row in pairwise(rows):
        if row["dropoff"] is None or row["lost"] is None:
            continue
        name = row["step"] if "→" in str(row["step"]) else f"{prev['step']} → {row['step']}"
        steps.append((name, prev, row))
    out = []
    for i, (name, prev, row) in enumerate(steps):
        others = [r["dropoff"] for j, (_, _, r) in enumerate(steps) if j != i]
        median = statistics.median(others) if others else 0.0
        gap = max(0.0, row["dropoff"] - median)
        before = row.get("n") or prev["reached"]
        low, high = wilson(row["lost"], before)
        evidence = {
            "step": name, "from_step": prev["step"], "to_step": row["step"],
            "reached_before": prev["reached"], "reached": row["reached"],
            "lost": row["lost"], "dropoff": row["dropoff"], "n": before,
            "dropoff_low": low, "dropoff_high": high,
            "median_other_dropoff": median, "gap": gap,
        }
        summary = sentence("step_dropoff", step=name, lost=row["lost"], n=before,
                           dropoff=row["dropoff"], low=low, high=high, median=median)
        out.append(Friction("step", name, 0.0, evidence, summary, raw_impact=row["lost"] * gap))
    return out


def _fallback_comments(feedback: pl.DataFrame | None, touchpoint: str, k: int = 3) -> list[str]:
    """Comments of the lowest CSAT answers at a touchpoint (latest first among equal scores)."""
    if feedback is None or not {"touchpoint", "comment", "csat"} <= set(feedback.columns):
        return []
    sort = ["csat", "timestamp"] if "timestamp" in feedback.columns else ["csat"]
    rows = (feedback.filter((pl.col("touchpoint") == touchpoint)
                            & pl.col("comment").is_not_null() & pl.col("csat").is_not_null())
            .sort(sort, descending=[False, True][: len(sort)], nulls_last=True)
            .select(pl.col("comment").cast(pl.String))
            .unique(maintain_order=True).head(k))
    return rows["comment"].to_list()


def _touchpoint_candidates(csat: list[Metric], target: float, feedback: pl.DataFrame | None,
                           worst_comments: Callable[[str], list[str]] | None) -> list[Friction]:
    out = []
    for m in csat:
        name = m.by.get("touchpoint")
        if m.metric != "csat" or name is None or set(m.by) != {"touchpoint"} or m.value is None:
            continue
        below = round(m.n * (1 - m.value))
        gap = max(0.0, target - m.value)
        comments = (worst_comments(name) if worst_comments is not None
                    else _fallback_comments(feedback, name))
        evidence = {
            "touchpoint": name, "csat": m.value, "n": m.n, "low": m.low, "high": m.high,
            "low_sample": m.low_sample, "below_top_boxes": below, "target": target, "gap": gap,
            "worst_comments": list(comments or []),
        }
        summary = sentence("touchpoint_csat", touchpoint=name, csat=m.value, low=m.low,
                           high=m.high, n=m.n, target=target, below=below)
        out.append(Friction("touchpoint", name, 0.0, evidence, summary, raw_impact=below * gap))
    return out


def friction_points(
    funnel_table: pl.DataFrame,
    csat_by_touchpoint: list[Metric],
    feedback: pl.DataFrame | None = None,
    targets: list[Any] | None = None,
    top: int | None = 3,
    *,
    worst_comments: Callable[[str], list[str]] | None = None,
    csat_target: float | None = None,
) -> list[Friction]:
    """The top friction points, highest impact first (ties by name).

    ``funnel_table``: one row per step with step_index, step, reached, step_conversion, dropoff,
    lost, n (the first step's drop-off is null). ``csat_by_touchpoint``: ``Metric("csat", by=
    {"touchpoint": name})`` rows (other metrics and cuts are ignored). The CSAT target is
    ``csat_target``, else the workspace's CSAT target in ``targets``, else 0.85. Worst comments
    come from ``worst_comments(touchpoint)`` when given, else from ``feedback`` (the comments of
    the lowest CSAT answers). ``top=None`` returns every candidate with an impact above 0.

    >>> ft = pl.DataFrame({"step_index": [1, 2, 3, 4], "step": ["A", "B", "C", "D"],
    ...     "reached": [1000, 800, 240, 200], "dropoff": [None, 0.2, 0.7, 0.1667],
    ...     "lost": [None, 200, 560, 40]})
    >>> cs = [Metric("csat", 0.6, 200, 0.53, 0.66, by={"touchpoint": "Hotline"}),
    ...       Metric("csat", 0.9, 300, 0.86, 0.93, by={"touchpoint": "Shop"})]
    >>> [(f.name, round(f.impact, 3)) for f in friction_points(ft, cs)]
    [('B → C', 1.0), ('Hotline', 0.069)]
    """
    target = csat_target if csat_target is not None else csat_target_from(targets)
    candidates = step_candidates(funnel_table) + _touchpoint_candidates(
        csat_by_touchpoint, target, feedback, worst_comments)
    candidates = [c for c in candidates if c.raw_impact > 0]
    if not candidates:
        return []
    biggest = max(c.raw_impact for c in candidates)
    for c in candidates:
        c.impact = c.raw_impact / biggest
    candidates.sort(key=lambda c: (-c.raw_impact, c.kind, c.name))
    return candidates if top is None else candidates[:top]
