"""The per-customer passes both engines run on a set of whole customers, and the final figures
built from merged partials (the one definition shared by the local engine and Spark).

A *part* is a polars frame holding every event of its customers (a Spark partition after
``repartition(customer_id)``, or a hash slice of a local frame) with the role-named columns and
``_row``, the events' read order (it breaks ties between identical events, as file order does in
:func:`cjm_core.analytics.funnel.funnel`).

The funnel needs three figures of the *whole* data before the per-customer pass: the last
timestamp (a window still open at the end of the data) and the coarsest time unit that loses
nothing (so durations are the same floats as the local funnel's). A first cheap pass gives them
as a :class:`TimeStats` partial (min / max / residues, merged by min and max).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Literal

import numpy as np
import polars as pl

from cjm_core.analytics.channels import omnichannel, online_to_store, transitions
from cjm_core.analytics.funnel import (
    FunnelQuery,
    FunnelResult,
    any_order_starts,
    funnel_from_counts,
    group_starts,
    step_after,
)
from cjm_core.analytics.funnel_kernels import (
    ordered_funnel,
    pack_hashed,
    top_bit_clashes,
    unpack_sorted,
)
from cjm_core.analytics.stats import wilson
from cjm_core.engine.partials import CountPartial, FunnelPartial, SegmentPartial, Summary
from cjm_core.errors import QueryError
from cjm_core.metric import Metric
from cjm_core.model.journey import Journey

ROW = "_row"
_US = 1_000_000
_BIG = np.iinfo(np.int64).max


# ----------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class FunnelPlan:
    """Everything a part needs to compute its funnel partial: plain values only (it travels to
    Spark executors)."""

    steps: tuple[str, ...]
    mapping: tuple[tuple[str, int], ...]   # step value -> step code 1..K
    step_column: str
    mode: str
    reentry: str
    window_us: int | None
    breakdown: tuple[str, ...]
    attribution: str
    exclude_open: bool
    mid_journey: str
    lo_us: int = 0        # earliest timestamp of the data (µs since the epoch)
    unit_us: int = _US    # time unit of the pass: 1 s, 1 ms or 1 µs
    t_max: int = 0        # last timestamp of the data, in units since lo_us

    @property
    def k(self) -> int:
        return len(self.steps)

    def columns(self) -> list[str]:
        """Columns the pass reads (the engines read only these)."""
        return list(dict.fromkeys(["customer_id", "timestamp", self.step_column,
                                   *self.breakdown]))


def make_plan(query: FunnelQuery, journey: Journey | None) -> FunnelPlan:
    """The plan of a query, without the data's time figures (see :func:`with_time`). Steps are
    resolved and checked as :func:`cjm_core.analytics.funnel.funnel` does."""
    if query.steps is not None:
        steps = [str(x) for x in query.steps]
    elif journey is not None and query.step_column == "stage":
        steps = [st.name for st in journey.stages]
    else:
        raise QueryError("Choose the funnel steps: pass steps=[...] or a journey "
                         f"(the {query.step_column!r} column has no default order).")
    if not steps:
        raise QueryError("A funnel needs at least one step.")
    if len(steps) > 250:
        raise QueryError(f"A funnel can have at most 250 steps; {len(steps)} were chosen.")
    if len(set(steps)) != len(steps):
        raise QueryError("Each funnel step must be a different value; "
                         f"{next(x for x in steps if steps.count(x) > 1)!r} appears twice.")
    if len(query.breakdown) > 2:
        raise QueryError("A funnel can be broken down by at most two columns.")
    mapping = {name: i + 1 for i, name in enumerate(steps)}
    if journey is not None and query.step_column == "stage":
        for st in journey.stages:
            if st.name in mapping:
                mapping.setdefault(st.key, mapping[st.name])
    window_us = None if query.window is None else query.window // timedelta(microseconds=1)
    return FunnelPlan(tuple(steps), tuple(mapping.items()), query.step_column, query.mode,
                      query.reentry, window_us, tuple(query.breakdown), query.attribution,
                      query.exclude_open, query.mid_journey)


# ----------------------------------------------------------------------------- time figures


@dataclass
class TimeStats:
    """Rows kept / dropped and the timestamps' range and residues (µs) of a part; merged by
    sums, min and max."""

    rows: int = 0
    dropped: int = 0
    lo: int | None = None
    hi: int | None = None
    res: dict[int, tuple[int, int]] = field(default_factory=dict)  # unit -> (min, max) residue

    def merge(self, other: TimeStats) -> TimeStats:
        def pick(a: int | None, b: int | None, low: bool) -> int | None:
            if a is None or b is None:
                return b if a is None else a
            return min(a, b) if low else max(a, b)
        res = dict(self.res)
        for unit, (a, b) in other.res.items():
            res[unit] = (min(a, res[unit][0]), max(b, res[unit][1])) if unit in res else (a, b)
        return TimeStats(self.rows + other.rows, self.dropped + other.dropped,
                         pick(self.lo, other.lo, True), pick(self.hi, other.hi, False), res)

    def to_state(self) -> dict:
        return {"rows": self.rows, "dropped": self.dropped, "lo": self.lo, "hi": self.hi,
                "res": [(u, a, b) for u, (a, b) in self.res.items()]}

    @classmethod
    def from_state(cls, st: dict) -> TimeStats:
        return cls(st["rows"], st["dropped"], st["lo"], st["hi"],
                   {u: (a, b) for u, a, b in st["res"]})


def _micros(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.Date:
        col = col.cast(pl.Datetime("us"))
    return col.dt.epoch("us")


def time_stats(part: pl.DataFrame, plan: FunnelPlan) -> TimeStats:
    """Rows missing customer, step value or timestamp (dropped), and the range and residues
    modulo 1 s and 1 ms of the other rows' timestamps."""
    need = ["customer_id", "timestamp", plan.step_column]
    missing = [c for c in [*need, *plan.breakdown] if c not in part.columns]
    if missing:
        raise QueryError(f"The events table has no column {missing[0]!r}, needed by the funnel.")
    kept = part.select(need).drop_nulls()
    if not kept.height:
        return TimeStats(0, part.height)
    us = _micros(pl.col("timestamp"), part.schema["timestamp"])
    aggs = [us.min().alias("lo"), us.max().alias("hi")]
    for unit in (_US, 1000):
        r = ((us % unit) + unit) % unit
        aggs += [r.min().alias(f"a{unit}"), r.max().alias(f"b{unit}")]
    row = kept.select(aggs).row(0, named=True)
    return TimeStats(kept.height, part.height - kept.height, int(row["lo"]), int(row["hi"]),
                     {u: (int(row[f"a{u}"]), int(row[f"b{u}"])) for u in (_US, 1000)})


def with_time(plan: FunnelPlan, stats: TimeStats) -> FunnelPlan:
    """The plan with the data's earliest timestamp, unit and last timestamp: the coarsest of
    s / ms / µs in which every timestamp is whole relative to the earliest one (as the local
    funnel chooses)."""
    if stats.lo is None or stats.hi is None:
        return plan
    unit = 1
    for u in (_US, 1000):
        a, b = stats.res[u]
        if a == b:  # every timestamp has the same residue as the earliest one
            unit = u
            break
    return replace(plan, lo_us=stats.lo, unit_us=unit, t_max=(stats.hi - stats.lo) // unit)


# ----------------------------------------------------------------------------- funnel pass


@dataclass
class _Sorted:
    cid: np.ndarray
    t: np.ndarray
    s: np.ndarray
    frame: pl.DataFrame   # breakdown columns, in the same (sorted) order
    n_customers: int


def _sorted_events(part: pl.DataFrame, plan: FunnelPlan) -> _Sorted:
    """The part's step events sorted by (customer, time, step, read order)."""
    k = plan.k
    step = pl.col(plan.step_column).cast(pl.String)
    mapping = dict(plan.mapping)
    frame = part.select(
        "customer_id",
        ((_micros(pl.col("timestamp"), part.schema["timestamp"]) - plan.lo_us)
         // plan.unit_us).alias("_t"),
        step.replace_strict(list(mapping), list(mapping.values()), default=k + 1,
                            return_dtype=pl.UInt8).alias("_s"),
        pl.col(ROW) if ROW in part.columns else pl.int_range(pl.len()).alias(ROW),
        *[pl.col(c) for c in plan.breakdown if c != "customer_id"],
        ok=pl.all_horizontal(pl.col("customer_id", "timestamp", plan.step_column)
                             .is_not_null()),
    ).filter(pl.col("ok"))
    if plan.mode != "strict":
        frame = frame.filter(pl.col("_s") <= k)
    packed = _packed_sort(frame, plan)
    if packed is not None:
        return packed
    frame = frame.sort("customer_id", "_t", "_s", ROW)
    new = (pl.col("customer_id") != pl.col("customer_id").shift(1)).fill_null(True)
    cid = frame.select((new.cum_sum() - 1).cast(pl.Int32)).to_series().to_numpy()
    return _Sorted(cid, frame["_t"].to_numpy().astype(np.int64), frame["_s"].to_numpy(),
                   frame.select(plan.breakdown),
                   int(cid[-1]) + 1 if len(cid) else 0)


def _bits(x: int) -> int:
    return max(1, int(x).bit_length())


def _packed_sort(frame: pl.DataFrame, plan: FunnelPlan) -> _Sorted | None:
    """The sort of :func:`_sorted_events` on one 64-bit key (customer code, time, step) as the
    local funnel sorts, ties in read order when a breakdown needs the rows; None when the key
    leaves fewer than 20 bits for the customer (microsecond times over a long period).

    Customers are told apart by a 64-bit hash of the id: its top bits, customers whose top bits
    clash getting free codes (as in :mod:`cjm_core.analytics.funnel`; two ids sharing the whole
    hash, odds about n²/2⁶⁵, would count as one customer)."""
    if not frame.height:
        return None
    t = frame["_t"].to_numpy().astype(np.int64)
    s = frame["_s"].to_numpy()
    sb, tb = _bits(plan.k + 1), _bits(int(t.max()))
    cb = 64 - sb - tb
    if cb < 20:
        return None
    h = frame["customer_id"].hash(seed=0x5EED).to_numpy()
    shift = 64 - cb
    used, moved = top_bit_clashes(np.sort(h), shift)
    free = moved
    if len(moved):
        if len(used) + len(moved) > (1 << cb) // 2:
            return None
        limit = len(used) + len(moved)
        is_free = np.ones(limit, dtype=bool)
        is_free[used[used < limit].astype(np.int64)] = False
        free = np.flatnonzero(is_free)[: len(moved)].astype(np.uint64)
    key = pack_hashed(h, t, s, tb, sb, shift, moved, free)
    if plan.breakdown:
        order = np.lexsort((frame[ROW].to_numpy(), key))
        key = key[order]
        rest = frame.select(plan.breakdown)[order]
    else:
        key.sort()
        rest = frame.select(plan.breakdown)
    cid, t_s, s_s = unpack_sorted(key, tb, sb)
    return _Sorted(cid, t_s, s_s, rest, int(cid[-1]) + 1)


def _any_order(ev: _Sorted, plan: FunnelPlan, positions: list[np.ndarray], w: int | None
               ) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """Any-order funnel: distinct steps within [t, t + W] from each start event (every
    customer-instant, or the customer's first event with re-entry "first"); the best start
    per customer (the latest among equals). Level, matched positions (sorted) and open flag per
    customer."""
    k = plan.k
    starts = any_order_starts(ev.cid, ev.t, plan.reentry)

    def next_of(step: int, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return step_after(positions[step], ev.cid, ev.t, w, at)

    count = np.zeros(len(starts), dtype=np.int64)
    for step in range(1, k + 1):
        count += next_of(step, starts)[0]
    if not len(starts):
        z = np.zeros(0, dtype=np.int64)
        return z, [z] * k, np.zeros(0, dtype=bool)
    owners = ev.cid[starts]
    first = group_starts(owners)
    score = count * len(starts) + np.arange(len(starts))
    top = np.maximum.reduceat(score, first)
    best, which = top // len(starts), top % len(starts)
    chosen = starts[which]
    arrive = np.empty((len(chosen), k), dtype=np.int64)
    for step in range(1, k + 1):
        ok, nxt = next_of(step, chosen)
        arrive[:, step - 1] = np.where(ok, nxt, _BIG)
    arrive.sort(axis=1)  # positions, so ties in time come in step order
    pos = [np.where(arrive[:, j] == _BIG, -1, arrive[:, j]) for j in range(k)]
    open_ = np.zeros(len(chosen), dtype=bool)
    if w is not None:
        last_start = starts[np.r_[first[1:] - 1, len(starts) - 1]]
        open_ = (best < k) & (ev.t[last_start] + w > plan.t_max)
    return best, pos, open_


def funnel_partial(part: pl.DataFrame, plan: FunnelPlan) -> FunnelPartial:
    """The funnel partial of a part holding whole customers (``plan`` has the time figures)."""
    k = plan.k
    ev = _sorted_events(part, plan)
    out = FunnelPartial.empty(k)
    w = None if plan.window_us is None else plan.window_us // plan.unit_us
    positions = [np.zeros(0, dtype=np.int64)] + [np.flatnonzero(ev.s == j)
                                                 for j in range(1, k + 1)]
    if plan.mode == "any":
        level, pos, open_ = _any_order(ev, plan, positions, w)
        out.per_step[1:] = [len(group_starts(ev.cid[positions[j]])) for j in range(1, k + 1)]
        out.customers = ev.n_customers
    else:
        n = ev.n_customers
        level = np.empty(n, dtype=np.uint8)
        open_ = np.empty(n, dtype=bool)
        pos_arr = np.empty((k, n), dtype=np.int64)
        per_step = np.zeros(k + 2, dtype=np.int64)
        m = ordered_funnel(ev.cid, ev.t, ev.s, k, -1 if w is None else w,
                           plan.mode == "strict", plan.reentry == "first", plan.t_max,
                           level, open_, pos_arr, out.hist, per_step, 0)
        level, open_, pos = level[:m], open_[:m], list(pos_arr[:, :m])
        out.per_step[1:] = per_step[1:k + 1]
        out.customers = int(out.hist.sum())
    out.open_windows = int(open_.sum())
    if plan.mid_journey == "per_stage":
        out.stage_counts = _stage_counts(ev, plan, positions)
    else:
        out.segments = _segments(ev, plan, level.astype(np.int64), pos, open_)
    return out


def _segment_keys(ev: _Sorted, plan: FunnelPlan, at: np.ndarray) -> list[tuple]:
    return list(ev.frame[at].iter_rows()) if plan.breakdown else [()] * len(at)


def _segments(ev: _Sorted, plan: FunnelPlan, level: np.ndarray, pos: list[np.ndarray],
              open_: np.ndarray) -> dict[tuple, SegmentPartial]:
    """The table's customers (all, or those with a closed window) per breakdown value: first
    touch = the attempt's step-1 event, last touch = its last matched event."""
    k = plan.k
    keep = ~open_ if plan.exclude_open else np.ones(len(level), dtype=bool)
    idx = np.flatnonzero(keep)
    if not len(idx):
        return {}
    level = level[idx]
    pos = [p[idx] for p in pos]
    durations = []
    for j in range(2, k + 1):
        a, b = pos[j - 2], pos[j - 1]
        got = b >= 0
        d = np.full(len(b), -1, dtype=np.int64)
        d[got] = ev.t[b[got]] - ev.t[a[got]]
        durations.append(d)
    if not plan.breakdown:
        groups = {(): np.arange(len(level))}
    else:
        if plan.attribution == "first":
            at = pos[0]
        else:
            stacked = np.stack(pos, axis=1)
            at = stacked[np.arange(len(level)), np.maximum(level, 1) - 1]
        grouped = (ev.frame[at].with_row_index("_i")
                   .group_by(list(plan.breakdown)).agg(pl.col("_i")))
        groups = {tuple(r[:-1]): np.asarray(r[-1], dtype=np.int64)
                  for r in grouped.iter_rows()}
    out: dict[tuple, SegmentPartial] = {}
    for key, members in groups.items():
        seg = SegmentPartial.empty(k)
        seg.levels = np.bincount(level[members], minlength=k + 1).astype(np.int64)
        for j in range(2, k + 1):
            d = durations[j - 2][members]
            d = d[d >= 0]
            seg.dur_sum[j], seg.dur_n[j] = int(d.sum()), len(d)
            seg.dur[j] = Summary.of(d)
        out[key] = seg
    return out


def _stage_counts(ev: _Sorted, plan: FunnelPlan, positions: list[np.ndarray]
                  ) -> dict[tuple, np.ndarray]:
    """Per breakdown value (taken on the customer's first event at that stage), customers with
    an event at each stage."""
    out: dict[tuple, np.ndarray] = {}
    for j in range(1, plan.k + 1):
        p = positions[j]
        firsts = p[group_starts(ev.cid[p])]
        for key in _segment_keys(ev, plan, firsts):
            counts = out.setdefault(key, np.zeros(plan.k + 1, dtype=np.int64))
            counts[j] += 1
    return out


# ----------------------------------------------------------------------------- funnel result


def _labels(plan: FunnelPlan) -> list[str]:
    if plan.mode == "any":
        return [f"{j} of {plan.k} steps" for j in range(1, plan.k + 1)]
    return list(plan.steps)


def _mid_table(hist: np.ndarray, steps: list[str]) -> pl.DataFrame:
    k = len(steps)
    at_least = hist[:, ::-1].cumsum(axis=1)[:, ::-1]
    rows = [(e, steps[e - 1], j, steps[j - 1], int(at_least[e, j - e + 1]))
            for e in range(2, k + 1) if at_least[e, 1] for j in range(e, k + 1)]
    return pl.DataFrame(rows, schema={"entry_step_index": pl.Int64, "entry_step": pl.String,
                                      "step_index": pl.Int64, "step": pl.String,
                                      "reached": pl.Int64}, orient="row")


def funnel_result(total: FunnelPartial, plan: FunnelPlan, stats: TimeStats,
                  schema: dict[str, pl.DataType]) -> FunnelResult:
    """The :class:`FunnelResult` of merged partials; ``schema`` gives the breakdown columns'
    types. The table has one more column than the local funnel's: ``median_rel_error``, the
    relative error bound of ``median_seconds`` (0 where the median is exact)."""
    k, by, labels = plan.k, list(plan.breakdown), _labels(plan)
    if plan.mid_journey == "per_stage":
        counted = {key: c[1:] for key, c in total.stage_counts.items()}
    else:
        counted = {key: seg.levels[::-1].cumsum()[::-1][1:]
                   for key, seg in total.segments.items()}
    rows = [(*key, labels[j], int(c[j])) for key, c in counted.items() for j in range(k)]
    counts = pl.DataFrame(rows, orient="row", schema={
        **{c: schema[c] for c in by}, "stage": pl.String, "customers": pl.Int64})
    if not by and not rows:
        counts = pl.DataFrame({"stage": labels, "customers": [0] * k},
                              schema={"stage": pl.String, "customers": pl.Int64})
    base = funnel_from_counts(counts, labels, tuple(by))
    table = base.table
    scale = plan.unit_us / _US
    med: list[float | None] = []
    mean: list[float | None] = []
    err: list[float | None] = []
    for r in table.select(*by, "step_index").iter_rows():
        key, j = tuple(r[:-1]), r[-1]
        seg = total.segments.get(key)
        if seg is None or j == 1:
            med.append(None)
            mean.append(None)
            err.append(None)
            continue
        summ = seg.dur[j]
        med.append(summ.median(scale))
        mean.append(seg.dur_sum[j] * scale / seg.dur_n[j] if seg.dur_n[j] else None)
        err.append(summ.rel_error if seg.dur_n[j] else None)
    table = table.with_columns(pl.Series("median_seconds", med, dtype=pl.Float64),
                               pl.Series("mean_seconds", mean, dtype=pl.Float64),
                               pl.Series("median_rel_error", err, dtype=pl.Float64))
    per_step = total.per_step[1:]
    per_stage = pl.DataFrame({"step_index": list(range(1, k + 1)), "step": list(plan.steps),
                              "customers": [int(x) for x in per_step]},
                             schema={"step_index": pl.Int64, "step": pl.String,
                                     "customers": pl.Int64})
    if plan.mode == "any":
        customers, mid_customers, mid = total.customers, 0, _mid_table(np.zeros((1, 1)), [])
    else:
        customers, mid_customers = int(total.hist.sum()), int(total.hist[2:].sum())
        mid = _mid_table(total.hist, list(plan.steps))
    return FunnelResult(
        table=table, customers=customers, entered_mid_journey=mid_customers,
        open_windows=total.open_windows, mid_journey=mid, per_stage=per_stage,
        comparison=base.comparison, dropped_rows=stats.dropped, steps=labels,
        breakdown=tuple(by),
        missing_steps=[name for name, n in zip(plan.steps, per_step, strict=True) if not n])


# ----------------------------------------------------------------------------- channels


def transitions_partial(part: pl.DataFrame, by: Literal["channel", "touchpoint"]
                        ) -> CountPartial:
    """Pairs (source, target) of a part's customers: :func:`channels.transitions` on the part
    (its pairs never cross customers, so the parts' counts add up)."""
    t = transitions(part, by)
    return CountPartial({(s, g): int(n) for s, g, n in t.select("source", "target", "count")
                         .iter_rows()})


def transitions_result(total: CountPartial, drop_self: bool = False) -> pl.DataFrame:
    """The transitions table of merged pair counts, as :func:`channels.transitions` builds it."""
    pairs = pl.DataFrame([(s, g, n) for (s, g), n in total.counts.items()], orient="row",
                         schema={"source": pl.String, "target": pl.String, "count": pl.Int64})
    pairs = pairs.with_columns((pl.col("source") == pl.col("target")).alias("self_transition"))
    if drop_self:
        pairs = pairs.filter(~pl.col("self_transition"))
    return (pairs.with_columns(
        (pl.col("count") / pl.col("count").sum().over("source")).alias("share"))
        .sort(["source", "count", "target"], descending=[False, True, False])
        .select("source", "target", "count", "share", "self_transition"))


def _hits(m: Metric) -> int:
    return round(m.value * m.n) if m.value is not None else 0


def channel_partial(part: pl.DataFrame, journey: Journey) -> CountPartial:
    """Omnichannel and online-to-store counts of a part's customers (customer figures: the
    parts' counts add up)."""
    out: dict[tuple, int] = {}
    metrics = omnichannel(part, journey)
    if metrics:
        share, conv = metrics
        out.update({("omni", "all"): share.n, ("omni", "omni"): _hits(share),
                    ("omni", "bought"): _hits(conv), ("omni", "present"): 1})
    o2s = online_to_store(part, journey)
    out.update({("o2s", "n"): o2s.n, ("o2s", "hits"): _hits(o2s)})
    return CountPartial(out)


def _rate(name: str, hits: int, n: int) -> Metric:
    low, high = wilson(hits, n)
    return Metric(name, hits / n if n else None, n=n, low=low, high=high, unit="rate")


def omnichannel_result(total: CountPartial) -> list[Metric]:
    c = total.counts
    if not c.get(("omni", "present")):
        return []
    return [_rate("omnichannel_share", c[("omni", "omni")], c[("omni", "all")]),
            _rate("omnichannel_conversion", c[("omni", "bought")], c[("omni", "omni")])]


def online_to_store_result(total: CountPartial) -> Metric:
    n, hits = total.counts.get(("o2s", "n"), 0), total.counts.get(("o2s", "hits"), 0)
    if n == 0:
        return Metric("online_to_store_conversion", None, n=0, unit="rate")
    return _rate("online_to_store_conversion", hits, n)
