"""Satisfaction figures of DESIGN §5: CSAT (top-two-box share, Wilson 95 %), NPS (100·(P − D),
±1.96·SE), CES (mean, t-interval, lower is better) and the full score distribution, overall or
cut by touchpoint, stage, channel or period ("YYYY-MM" of the answer's timestamp)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import polars as pl

from cjm_core.analytics.periods import cut, grouped, to_metrics
from cjm_core.analytics.stats import nps_interval_expr, t_interval_expr, wilson_expr
from cjm_core.errors import CJMError
from cjm_core.metric import LOW_SAMPLE_N, Metric
from cjm_core.model.schema import scale_column

__all__ = [
    "CES_SCALES",
    "CSAT_SCALES",
    "CSAT_TOP_BOX",
    "ces",
    "csat",
    "detect_scale",
    "distribution",
    "nps",
    "satisfaction_metrics",
    "satisfaction_table",
    "scale_of",
]

#: lowest answer counted in the top two boxes, by scale (5-point: 4–5, 7-point: 6–7, 10: 9–10)
CSAT_TOP_BOX = {5: 4, 7: 6, 10: 9}
CSAT_SCALES = (5, 7, 10)
CES_SCALES = (5, 7)
#: the cuts ``satisfaction_metrics`` gives besides the overall figure
SATISFACTION_CUTS = ("touchpoint", "stage", "channel")


def _require(frame: pl.DataFrame | None, column: str) -> pl.DataFrame:
    if frame is None or column not in frame.columns:
        raise CJMError(f"no {column} column: map a {column} score to compute it",
                       code="missing-role")
    return frame


def _answers(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """Rows that carry an answer in ``column`` (NaN counts as missing)."""
    cond = pl.col(column).is_not_null()
    if frame.schema[column].is_float():
        cond &= pl.col(column).is_not_nan()
    return frame.filter(cond)


def detect_scale(values: pl.Series, scales: Sequence[int] = CSAT_SCALES) -> int:
    """The smallest scale holding the largest answer (5, 7 or 10 for CSAT; 5 or 7 for CES).

    >>> detect_scale(pl.Series([1, 4, 6])), detect_scale(pl.Series([3, 9]))
    (7, 10)
    """
    answers = values.drop_nulls().drop_nans() if values.dtype.is_float() else values
    top = cast(float | None, answers.max())  # a numeric series: polars types max() loosely
    if top is None:
        return scales[0]
    return next((s for s in scales if top <= s), scales[-1])


def scale_of(frame: pl.DataFrame, score: str, scales: Sequence[int] = CSAT_SCALES) -> int:
    """The scale a score was read on: the one ingest recorded (its ``<score>_scale`` column),
    else :func:`detect_scale` of the answers.

    >>> scale_of(pl.DataFrame({"csat": [4, 5], "csat_scale": [7, 7]}), "csat")
    7
    >>> scale_of(pl.DataFrame({"csat": [4, 5]}), "csat")
    5
    """
    column = scale_column(score)
    if column in frame.columns:
        declared = frame[column].drop_nulls()
        top = cast(int, declared.max())  # numbers, and not read when there are none
        if len(declared) and int(top) in scales:
            return int(top)
    return detect_scale(frame[score], scales)


def _check_scale(scale: int, allowed: Sequence[int], what: str) -> int:
    if scale not in allowed:
        raise CJMError(f"{what} scale must be one of {', '.join(map(str, allowed))}, "
                       f"not {scale}", code="out-of-range")
    return scale


def _csat_table(feedback: pl.DataFrame, keys: list[str], scale: int) -> pl.DataFrame:
    top = CSAT_TOP_BOX[scale]
    table = grouped(feedback, keys, [(pl.col("csat") >= top).sum().alias("x"),
                                     pl.len().alias("n")])
    low, high = wilson_expr("x", "n")
    return table.with_columns(
        pl.when(pl.col("n") > 0).then(pl.col("x") / pl.col("n")).alias("value"), low, high)


def csat(feedback: pl.DataFrame, by: list[str] | None = None, scale: int | None = None
         ) -> list[Metric]:
    """CSAT: share of answers in the top two boxes, with its Wilson 95 % interval.

    ``scale`` (5, 7 or 10) is detected from the largest answer when not given. No ``by``: one
    overall figure; otherwise one per value of the cut (rows missing the cut value left out).

    >>> fb = pl.DataFrame({"csat": [5, 4, 2, 4], "touchpoint": ["a", "a", "b", "b"]})
    >>> m = csat(fb)[0]
    >>> m.value, m.n, round(m.low, 4), round(m.high, 4)
    (0.75, 4, 0.3006, 0.9544)
    >>> [(m.by["touchpoint"], m.value) for m in csat(fb, by=["touchpoint"])]
    [('a', 1.0), ('b', 0.5)]
    """
    fb = _answers(_require(feedback, "csat"), "csat")
    scale = _check_scale(scale or scale_of(fb, "csat"), CSAT_SCALES, "CSAT")
    fb, keys = cut(fb, by, "timestamp")
    return to_metrics(_csat_table(fb, keys, scale), "csat", keys, "rate")


def _nps_table(feedback: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    table = grouped(feedback, keys, [(pl.col("nps") >= 9).mean().alias("p"),
                                     (pl.col("nps") <= 6).mean().alias("d"),
                                     pl.len().alias("n")])
    low, high = nps_interval_expr("p", "d", "n")
    return table.with_columns(
        pl.when(pl.col("n") > 0).then(100 * (pl.col("p") - pl.col("d"))).alias("value"),
        low, high)


def nps(feedback: pl.DataFrame, by: list[str] | None = None) -> list[Metric]:
    """NPS = 100·(P − D) with P the share of 9–10 and D the share of 0–6 answers; interval
    ±1.96·SE, SE = 100·sqrt((P + D − (P − D)²)/n), clipped to −100…100.

    >>> fb = pl.DataFrame({"nps": [10, 9, 3, 8]})
    >>> m = nps(fb)[0]
    >>> m.value, m.n, round(m.low, 2), round(m.high, 2)
    (25.0, 4, -56.26, 100.0)
    """
    fb = _answers(_require(feedback, "nps"), "nps")
    fb, keys = cut(fb, by, "timestamp")
    return to_metrics(_nps_table(fb, keys), "nps", keys, "nps")


def _ces_table(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    table = grouped(frame, keys, [pl.col("ces").cast(pl.Float64).mean().alias("value"),
                                  pl.col("ces").cast(pl.Float64).std().alias("sd"),
                                  pl.len().alias("n")])
    low, high = t_interval_expr("value", "sd", "n")
    return table.with_columns(low, high)


def ces(feedback_or_support: pl.DataFrame, by: list[str] | None = None,
        scale: int | None = None) -> list[Metric]:
    """CES: mean effort score (1–5 or 1–7, lower is better) with its Student-t 95 % interval.

    Works on feedback or support (both may carry ``ces``). Answers outside 1…scale are left
    out; the scale is detected from the largest answer when not given.

    >>> m = ces(pl.DataFrame({"ces": [1, 2, 3]}))[0]
    >>> m.value, m.n, round(m.low, 3), round(m.high, 3)
    (2.0, 3, -0.484, 4.484)
    """
    frame = _answers(_require(feedback_or_support, "ces"), "ces")
    scale = _check_scale(scale or scale_of(frame, "ces", CES_SCALES), CES_SCALES, "CES")
    frame = frame.filter(pl.col("ces").is_between(1, scale))
    frame, keys = cut(frame, by)
    return to_metrics(_ces_table(frame, keys), "ces", keys, "score")


def distribution(feedback: pl.DataFrame, score: str, by: list[str] | None = None
                 ) -> pl.DataFrame:
    """The full distribution of one score: columns by..., score, count, share (share of the
    answers in the cut). Every point of the scale appears, with count 0 when nobody chose it
    (NPS 0–10; CSAT 1–5/7/10; CES 1–5/7).

    >>> distribution(pl.DataFrame({"csat": [5, 5, 1, 4]}), "csat").rows()
    [(1, 1, 0.25), (2, 0, 0.0), (3, 0, 0.0), (4, 1, 0.25), (5, 2, 0.5)]
    """
    if score not in ("csat", "nps", "ces"):
        raise CJMError(f"no score named {score!r}: choose csat, nps or ces", code="unknown-column")
    fb = _answers(_require(feedback, score), score)
    if score == "nps":
        lo, hi = 0, 10
    else:
        lo, hi = 1, scale_of(fb, score, CSAT_SCALES if score == "csat" else CES_SCALES)
    fb, keys = cut(fb, by, "timestamp")
    fb = fb.with_columns(pl.col(score).round(0).cast(pl.Int64).alias("score"))
    counts = grouped(fb, [*keys, "score"], [pl.len().cast(pl.Int64).alias("count")])
    levels = pl.DataFrame({"score": list(range(lo, hi + 1))}, schema={"score": pl.Int64})
    # scores outside the scale (impossible values) are kept as extra rows, not hidden
    levels = pl.concat([levels, counts.select("score")]).unique().sort("score")
    frame = (fb.select(keys).unique().join(levels, how="cross") if keys else levels)
    out = frame.join(counts, on=[*keys, "score"], how="left").with_columns(
        pl.col("count").fill_null(0))
    total = pl.col("count").sum().over(keys) if keys else pl.col("count").sum()
    out = out.with_columns(
        pl.when(total > 0).then(pl.col("count") / total).otherwise(0.0).alias("share"))
    return out.select(*keys, "score", "count", "share").sort([*keys, "score"])


def satisfaction_table(feedback: pl.DataFrame, by: str) -> pl.DataFrame:
    """One row per value of ``by`` (touchpoint, stage, channel or period) with every score
    present: ``csat``, ``csat_low``, ``csat_high``, ``csat_n``, ``csat_low_sample``, the same
    for ``nps`` and ``ces`` (null columns when the score is missing), and ``answers`` (rows).

    The Touchpoints page table and the heatmap read this. Sorted by ``by``.

    >>> fb = pl.DataFrame({"touchpoint": ["a", "a", "b"], "csat": [5, 1, 4], "nps": [10, 0, 9]})
    >>> satisfaction_table(fb, "touchpoint").select("touchpoint", "csat", "nps", "ces").rows()
    [('a', 0.5, 0.0, None), ('b', 1.0, 100.0, None)]
    """
    fb, keys = cut(feedback, [by], "timestamp")
    out = grouped(fb, keys, [pl.len().cast(pl.Int64).alias("answers")])
    for name in ("csat", "nps", "ces"):
        cols = [f"{name}{s}" for s in ("", "_low", "_high", "_n")]
        if name in fb.columns:
            answers = _answers(fb, name)
            if name == "csat":
                table = _csat_table(answers, keys, scale_of(answers, "csat"))
            elif name == "ces":
                scale = scale_of(answers, "ces", CES_SCALES)
                table = _ces_table(answers.filter(pl.col("ces").is_between(1, scale)), keys)
            else:
                table = _nps_table(answers, keys)
            table = table.select(*keys, *(pl.col(c).alias(a) for c, a in
                                          zip(("value", "low", "high", "n"), cols, strict=True)))
            out = out.join(table, on=keys, how="left")
        else:
            out = out.with_columns(pl.lit(None, pl.Float64).alias(c) for c in cols[:3])
            out = out.with_columns(pl.lit(None, pl.UInt32).alias(cols[3]))
        out = out.with_columns(
            pl.col(cols[3]).fill_null(0).cast(pl.Int64),
            (pl.col(cols[3]).fill_null(0) < LOW_SAMPLE_N).alias(f"{name}_low_sample"))
    return out.sort(keys)


def satisfaction_metrics(feedback: pl.DataFrame | None, support: pl.DataFrame | None = None,
                         cuts: Sequence[str] = SATISFACTION_CUTS) -> list[Metric]:
    """Every satisfaction figure the data allow: CSAT, NPS and CES overall and per cut
    (touchpoint, stage, channel by default; cuts the table lacks are skipped). CES from
    ``support`` is added with ``by={"source": "support"}`` when given.

    >>> fb = pl.DataFrame({"csat": [5, 2], "touchpoint": ["a", "b"]})
    >>> [(m.metric, m.by) for m in satisfaction_metrics(fb)]
    [('csat', {}), ('csat', {'touchpoint': 'a'}), ('csat', {'touchpoint': 'b'})]
    """
    out: list[Metric] = []
    if feedback is not None:
        for name, fn in (("csat", csat), ("nps", nps), ("ces", ces)):
            if name not in feedback.columns or _answers(feedback, name).height == 0:
                continue
            out += fn(feedback)
            for c in cuts:
                if c in feedback.columns or (c == "period" and "timestamp" in feedback.columns):
                    out += fn(feedback, by=[c])
    if support is not None and "ces" in support.columns and _answers(support, "ces").height:
        out += [Metric(m.metric, m.value, m.n, m.low, m.high, {"source": "support"}, m.unit)
                for m in ces(support)]
    return out


def answers_in(dist: pl.DataFrame) -> int:
    """How many answers a :func:`distribution` table holds (its n).

    >>> answers_in(pl.DataFrame({"score": [1, 2, 3], "count": [2, 0, 5]}))
    7
    """
    return int(dist["count"].sum()) if dist.height else 0
