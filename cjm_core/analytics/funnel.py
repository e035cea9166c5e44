"""Conversion funnels over a journey's stages or any chosen list of events (DESIGN §5).

The reference semantics are ClickHouse ``windowFunnel`` and PostHog funnels:

- Events are sorted per customer by timestamp; events at the same instant are tried in step
  order (so ``A`` and ``B`` logged in the same second convert ``A → B`` whatever the file order
  says), and file order decides among identical ones. A step value names one step only, so one
  event fills at most one step. Rows missing customer, step value or timestamp are dropped and
  counted (``dropped_rows``).
- A customer's *level* is the longest prefix of the steps matched by events
  ``t1 ≤ t2 ≤ … ≤ tk`` with ``tk − t1 ≤ W``. ``reached_k`` = customers with level ≥ k.
- Re-entry ``"latest"`` (default) lets every step-1 event start a new attempt, so the window
  restarts at the latest one (ClickHouse, PostHog); the level is the best attempt. ``"first"``
  anchors the only attempt at the customer's first step-1 event (Mixpanel-like).
- ``"strict"``: the next step must be the customer's very next event; any other event in between
  (another step value, a repeat, or a value outside the steps) breaks the chain.
- ``"any"``: steps may come in any order (PostHog "unordered"): the level is the largest number
  of distinct steps seen in a window ``[t, t + W]`` (all events at those instants, ties
  included) that starts at the time of one of the customer's events (with re-entry
  ``"first"``: at their first event only). Table step k reads "k of K steps".
  There is no start step, so nobody enters mid-journey.
- Step 1 is everyone who did step 1: a customer with a step-1 event enters the funnel there,
  whatever they did before it (a walk-in who visits the store, then sees an ad, then researches
  online is in step 1), as in ClickHouse ``windowFunnel`` and retentioneering ``funnel_data``.
  Customers with no step-1 event but an event of a later step (walk-in store customers who
  never did step 1) are left out of the main funnel, counted in ``entered_mid_journey`` and
  shown in ``mid_journey`` (entry step = their first step event, and how many went on to reach
  each later step). ``per_stage`` counts each stage on its own (distinct customers with an
  event there, ignoring window and order); ``mid_journey="per_stage"`` makes that the main
  table.
- ``missing_steps`` names the steps with no event at all in the data (after filters): their
  zeros say nothing about customers, so the CLI stops on them and the page warns.
- A customer's window is *open* when they have not completed the funnel and the window of their
  latest attempt (``"first"``: their only attempt) ends after the last timestamp in the data; such
  customers are counted in ``open_windows`` and dropped with ``exclude_open``. Without a window
  nothing is ever closed, so nothing is flagged.
- Time to convert per step: median and mean of ``t_k − t_{k−1}`` in seconds over the converting
  attempt (the latest attempt reaching the customer's level), zero seconds kept.
- Breakdowns (up to two columns) take the value on the attempt's step-1 event (first touch) or on
  its last matched event (last touch); each segment is tested against the rest of the customers
  with a two-proportion z-test on overall conversion, Holm-corrected.

Implementation: one sort of a packed 64-bit key (customer, time, step), then one compiled pass
over each customer's events for the ordered and strict modes
(:mod:`cjm_core.analytics.funnel_kernels`,
two halves on two cores); the any-order mode uses numpy ``searchsorted`` per step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from itertools import pairwise
from types import ModuleType
from typing import Literal, cast

import numpy as np
import polars as pl

from cjm_core.analytics.stats import holm, two_proportion_z, wilson, wilson_expr
from cjm_core.errors import QueryError
from cjm_core.metric import LOW_SAMPLE_N, Metric, format_duration
from cjm_core.model.journey import Journey
from cjm_core.parallel import run_both

Mode = Literal["ordered", "strict", "any"]
#: most steps a funnel can have
MAX_STEPS = 250
ARROW = " → "
_US = 1_000_000


def _kernels() -> ModuleType:
    """The compiled loops (:mod:`cjm_core.analytics.funnel_kernels`), imported on first use:
    numba takes ≈ 0.3 s to import, which a command that counts no funnel should not pay."""
    from cjm_core.analytics import funnel_kernels

    return funnel_kernels


@dataclass(frozen=True)
class FunnelQuery:
    """What to count: steps, window, mode, re-entry, breakdown and the mid-journey/open options.

    >>> FunnelQuery(window=timedelta(days=7)).mode
    'ordered'
    """

    steps: list[str] | None = None
    step_column: str = "stage"
    window: timedelta | None = None
    mode: Mode = "ordered"
    reentry: Literal["latest", "first"] = "latest"
    breakdown: tuple[str, ...] = ()
    attribution: Literal["first", "last"] = "first"
    exclude_open: bool = False
    mid_journey: Literal["separate", "per_stage"] = "separate"


@dataclass
class FunnelResult:
    """The funnel table plus the side counts and tables (see the module docstring)."""

    table: pl.DataFrame
    customers: int
    entered_mid_journey: int
    open_windows: int
    mid_journey: pl.DataFrame
    per_stage: pl.DataFrame
    comparison: pl.DataFrame | None = None
    dropped_rows: int = 0
    steps: list[str] = field(default_factory=list)
    breakdown: tuple[str, ...] = ()
    missing_steps: list[str] = field(default_factory=list)

    def missing_message(self) -> str | None:
        """What to tell the user when some steps have no event at all, else None.

        >>> FunnelResult(pl.DataFrame(), 0, 0, 0, pl.DataFrame(), pl.DataFrame(),
        ...              missing_steps=["Cart"]).missing_message()[:48]
        "No event of step 'Cart' in the data: its zero sa"
        """
        if not self.missing_steps:
            return None
        names = ", ".join(repr(x) for x in self.missing_steps)
        which = "step" if len(self.missing_steps) == 1 else "steps"
        its = "its zero says" if len(self.missing_steps) == 1 else "their zeros say"
        return (f"No event of {which} {names} in the data: {its} nothing about customers. "
                "Check the step name or the filters.")

    def totals(self) -> tuple[int, int, list[str]]:
        """Customers at the first step and at the last (summed over segments), and the steps
        whose n (customers at the previous step) is below the low-sample limit.

        >>> t = pl.DataFrame({"step_index": [1, 2, 1, 2], "step": ["A", "B", "A", "B"],
        ...                   "reached": [40, 10, 20, 5], "n": [None, 40, None, 20]})
        >>> FunnelResult(t, 60, 0, 0, pl.DataFrame(), pl.DataFrame()).totals()
        (60, 15, ['B'])
        """
        t = self.table
        last = t["step_index"].max() if t.height else None
        first_n = int(t.filter(pl.col("step_index") == 1)["reached"].sum())
        last_n = int(t.filter(pl.col("step_index") == last)["reached"].sum()) if t.height else 0
        low = (t.filter(pl.col("n") < LOW_SAMPLE_N)["step"].unique(maintain_order=True).to_list()
               if "n" in t.columns else [])
        return first_n, last_n, low

    def to_dict(self) -> dict:
        """The CLI's JSON: steps (or segments with their steps) and the side counts."""
        out: dict = {}
        if self.breakdown:
            segs = []
            for key, part in self.table.group_by(list(self.breakdown), maintain_order=True):
                segs.append({"segment": dict(zip(self.breakdown, key, strict=True)),
                             "steps": _steps_json(part)})
            out["segments"] = segs
        else:
            out["steps"] = _steps_json(self.table)
        out.update(customers=self.customers, entered_mid_journey=self.entered_mid_journey,
                   open_windows=self.open_windows, dropped_rows=self.dropped_rows,
                   missing_steps=list(self.missing_steps))
        return out


def _steps_json(part: pl.DataFrame) -> list[dict]:
    return [{"step": r["step"], "reached": r["reached"], "step_conversion": r["step_conversion"],
             "overall_conversion": r["overall_conversion"], "lost": r["lost"],
             "median_seconds_to_convert": r["median_seconds"]}
            for r in part.sort("step_index").iter_rows(named=True)]


# ----------------------------------------------------------------------------- preparation


@dataclass
class _Events:
    """Step events sorted by (customer, time, step, file order), as numpy vectors."""

    cid: np.ndarray      # customer ordinal 0..n_slots-1 (int32), non-decreasing
    t: np.ndarray        # time in `unit_us` units since the earliest event (int64)
    s: np.ndarray        # step code 1..K, K+1 = not a step (strict mode only)
    row: np.ndarray | None  # original row number (only with a breakdown)
    n_slots: int         # number of customers: size of per-customer arrays
    unit_us: int
    t_max: int           # last timestamp of the data in the same units
    dropped: int
    k: int


def _resolve_steps(query: FunnelQuery, journey: Journey | None) -> tuple[list[str], dict]:
    """Step names and the value -> step code mapping (journey stage keys also match)."""
    if query.steps is not None:
        steps = [str(x) for x in query.steps]
    elif journey is not None and query.step_column == "stage":
        steps = [st.name for st in journey.stages]
    else:
        raise QueryError("Choose the funnel steps: pass steps=[...] or a journey "
                         f"(the {query.step_column!r} column has no default order).")
    if len(steps) < 1:
        raise QueryError("A funnel needs at least one step.")
    if len(steps) > MAX_STEPS:  # step codes are bytes (one code is kept for "no step")
        raise QueryError(f"A funnel can have at most {MAX_STEPS} steps; {len(steps)} were chosen.")
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
    return steps, mapping


def _step_codes(col: pl.Series, mapping: dict, other: int) -> np.ndarray:
    """Step code per row (``other`` for values that are no step)."""
    if isinstance(col.dtype, pl.Enum):
        cats = col.dtype.categories.to_list()
        lookup = np.array([mapping.get(c, other) for c in cats] + [other], dtype=np.uint8)
        phys = col.to_physical().fill_null(len(cats)).to_numpy()
        return lookup[phys]
    if col.dtype == pl.String:  # one compiled pass over the string views
        from cjm_core.ingest.text_kernels import match_codes

        codes = match_codes(col, {str(k): v for k, v in mapping.items()}, other)
        if codes is not None:
            return codes
    return (col.cast(pl.String)
            .replace_strict(list(mapping), list(mapping.values()), default=other,
                            return_dtype=pl.UInt8)
            .to_numpy())


@dataclass
class _HashCodes:
    """Customer codes kept as 64-bit hashes: the code is ``h >> shift`` except for the
    ``moved`` hashes (sorted), which get ``free`` codes of their own."""

    h: np.ndarray
    shift: int
    moved: np.ndarray
    free: np.ndarray

    def take(self, keep: np.ndarray) -> _HashCodes:
        return _HashCodes(self.h[keep], self.shift, self.moved, self.free)


def _customer_codes(col: pl.Series, bits: int,
                    hashed: tuple[np.ndarray, np.ndarray] | None = None
                    ) -> np.ndarray | _HashCodes:
    """Non-negative integer codes below ``2**bits``, one per distinct customer.

    Enum and integer ids are used as they are. Other ids (text) are told apart by a 64-bit
    hash: its top ``bits`` bits, with the few customers whose top bits clash moved to free
    codes. Exact unless two different ids share the full 64-bit hash: odds about n²/2⁶⁵,
    1 in 7 million at 2.35 million customers (a pair of customers would then count as one).
    Hashing is what keeps the funnel near the cost of one ``group_by`` on the ids; a
    dictionary encoding (the fallback) costs about twice that."""
    if isinstance(col.dtype, pl.Enum):
        return col.to_physical().to_numpy().astype(np.uint64)
    if col.dtype.is_integer() and col.len():
        codes = (col.cast(pl.Int64) - col.min()).cast(pl.UInt64).to_numpy()
        if int(codes.max()) < (1 << bits):
            return codes
    hash_codes = _hashed_codes(hashed or _hash(col), bits) if bits >= 20 else None
    if hash_codes is not None:
        return hash_codes
    # a private category list gives dense codes 0..n-1 in order of first appearance
    return (col.cast(pl.String).cast(pl.Categorical(pl.Categories.random()))
            .to_physical().to_numpy().astype(np.uint64))


def _hash(col: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hash per row, and the same hashes sorted."""
    h = col.hash(seed=0x5EED).to_numpy()
    return h, np.sort(h)


def _hashed_codes(hashed: tuple[np.ndarray, np.ndarray], bits: int) -> _HashCodes | None:
    h, sorted_h = hashed
    none = np.zeros(0, dtype=np.uint64)
    if bits >= 64:
        return _HashCodes(h, 0, none, none)
    shift = 64 - bits
    used, moved = _kernels().top_bit_clashes(sorted_h, shift)  # moved: sorted hashes needing a code
    if not len(moved):
        return _HashCodes(h, shift, none, none)
    if len(used) + len(moved) > (1 << bits) // 2:
        return None
    limit = len(used) + len(moved)
    is_free = np.ones(limit, dtype=bool)
    is_free[used[used < limit].astype(np.int64)] = False
    free = np.flatnonzero(is_free)[: len(moved)].astype(np.uint64)
    return _HashCodes(h, shift, moved, free)


def _time_units(col: pl.Series) -> tuple[np.ndarray, int, int]:
    """Microseconds since the earliest event expressed in the coarsest of s / ms / µs that
    loses nothing (so the packed sort key fits), with that unit and the data's minimum."""
    if col.dtype == pl.Date:
        col = col.cast(pl.Datetime("us"))
    us = col.dt.epoch("us").to_numpy()
    if not len(us):
        return us, _US, 0
    lo = int(us.min())
    if us.flags.writeable:  # polars copied (several chunks): ours to reuse; views are read-only
        us -= lo
        rel = us
    else:  # a view of polars' memory
        rel = us - lo
    for unit in (_US, 1000):  # in place, checked a block at a time: no whole-column temporary
        if all(not (rel[i:i + _BLOCK] % unit).any() for i in range(0, len(rel), _BLOCK)):
            rel //= unit
            return rel, unit, lo
    return rel, 1, lo


#: elements per block of the time-unit check (8 MB of int64)
_BLOCK = 1 << 20


def _prepare(events: pl.DataFrame, query: FunnelQuery, mapping: dict, k: int,
             with_rows: bool) -> _Events:
    cols = [query.step_column, "customer_id", "timestamp"]
    missing = [c for c in [*cols, *query.breakdown] if c not in events.columns]
    if missing:
        raise QueryError(f"The events table has no column {missing[0]!r}, needed by the funnel.")
    frame = events.select(cols)
    dropped = 0
    rows: np.ndarray | None
    if sum(frame.null_count().row(0)):
        keep = frame.select(pl.all_horizontal(pl.all().is_not_null())).to_series()
        dropped = int(frame.height - keep.sum())
        frame = frame.with_row_index("_row").filter(keep)
        rows = frame["_row"].to_numpy()
    else:
        rows = np.arange(frame.height, dtype=np.uint64) if with_rows else None
    ids = frame["customer_id"]
    text_ids = not (isinstance(ids.dtype, pl.Enum) or ids.dtype.is_integer())
    s = _step_codes(frame[query.step_column], mapping, k + 1)
    keep_np: np.ndarray | None = None
    if query.mode != "strict":  # events of no step take no part (strict: they break chains)
        keep_np = s <= k
        if keep_np.all():
            keep_np = None
    if keep_np is not None:  # only the steps' events are hashed and sorted (a 2-step drop-off
        s = s[keep_np]       # over 10M events touches a fraction of them)
        ids = ids.filter(pl.Series(keep_np))
        rows = rows[keep_np] if rows is not None else None
    # polars and numpy release the GIL: the ids' hashes beside the time units, which are taken
    # over every event (the last time stamp of the data decides which windows are open)
    hashed, (t_all, unit, _lo) = run_both(lambda: _hash(ids) if text_ids else None,
                                          lambda: _time_units(frame["timestamp"]))
    t_max = int(t_all.max()) if len(t_all) else 0
    t_raw = t_all[keep_np] if keep_np is not None else t_all
    del t_all
    cust = _customer_codes(ids, 64 - _bits(k + 1) - _bits(t_max), hashed)
    hashed = None  # the sorted hashes are done with: not held through the sort
    held = [cust, t_raw, s]  # handed over: the sort lets go of them once the key is packed
    del cust, t_raw, s
    return _sort_packed(held, rows if with_rows else None, unit, t_max, dropped, k)


def _bits(x: int) -> int:
    return max(1, int(x).bit_length())


def _sort_packed(held: list, rows: np.ndarray | None, unit: int, t_max: int, dropped: int,
                 k: int) -> _Events:
    """Sort by (customer, time, step, file order): one 64-bit key when it fits. ``held`` is
    [customer codes, times, step codes], emptied here so that the inputs are freed as soon as
    the key holds them (at 10M events they are ≈ 170 MB at the moment of the peak)."""
    cust, t, s = held
    held.clear()
    n = len(s)
    if n == 0:
        z = np.zeros(0, dtype=np.int64)
        return _Events(z, z, z.astype(np.uint8), z if rows is not None else None, 0, unit,
                       t_max, dropped, k)
    sb, tb = _bits(k + 1), _bits(int(t.max()))
    cb = 64 - cust.shift if isinstance(cust, _HashCodes) else _bits(int(cust.max()))
    if sb + tb + cb <= 64:
        kern = _kernels()
        key = (kern.pack_hashed(cust.h, t, s, tb, sb, cust.shift, cust.moved, cust.free)
               if isinstance(cust, _HashCodes) else kern.pack_keys(cust, t, s, tb, sb))
        del cust, t, s  # the key holds them now
        row_s = None
        if rows is not None:  # stable: equal keys keep file order
            order = np.argsort(key, kind="stable")
            key, row_s = key[order], rows[order].astype(np.int64)
        else:
            key.sort()
        cid, t_s, s_s = kern.unpack_sorted(key, tb, sb)
    else:  # only dictionary codes get here: hashed and integer codes were sized to fit
        if isinstance(cust, _HashCodes):
            raise AssertionError("hashed customer codes always fit the packed key")
        order = np.lexsort((np.asarray(rows) if rows is not None else np.arange(n), s, t, cust))
        cust_s, t_s, s_s = cust[order], t[order].astype(np.int64), s[order]
        row_s = rows[order].astype(np.int64) if rows is not None else None
        new = np.empty(n, dtype=bool)
        new[0] = True
        np.not_equal(cust_s[1:], cust_s[:-1], out=new[1:])
        cid = np.cumsum(new, dtype=np.int32) - 1
    return _Events(cid, t_s, s_s, row_s, int(cid[-1]) + 1, unit, t_max, dropped, k)


# ----------------------------------------------------------------------------- chains


def group_starts(sorted_ids: np.ndarray) -> np.ndarray:
    """Index of the first element of each run of equal values."""
    if len(sorted_ids) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])


def _window_units(window: timedelta | None, unit: int) -> int | None:
    if window is None:
        return None
    us = window // timedelta(microseconds=1)
    return us // unit


def _best_per_customer(ev: _Events, anchors: np.ndarray, level: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per customer owning an anchor: its id, best level and the latest anchor reaching it
    (as an index into `anchors`)."""
    if len(anchors) == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z
    owners = ev.cid[anchors]
    starts = group_starts(owners)
    score = level * len(anchors) + np.arange(len(anchors))
    best = np.maximum.reduceat(score, starts)
    return owners[starts], best // len(anchors), best % len(anchors)


def _last_of_each(ev: _Events, anchors: np.ndarray) -> np.ndarray:
    starts = group_starts(ev.cid[anchors])
    return anchors[np.r_[starts[1:] - 1, len(anchors) - 1]] if len(anchors) else anchors


def _step_positions(ev: _Events) -> list[np.ndarray]:
    """Event positions of each step code (index j = step j; index 0 unused)."""
    return [np.zeros(0, dtype=np.int64)] + [np.flatnonzero(ev.s == j) for j in
                                            range(1, ev.k + 1)]


@dataclass
class _PerCustomer:
    """Main-funnel customers: level, chosen-attempt step positions, open flag."""

    level: np.ndarray
    pos: list[np.ndarray]   # per step 1..K, position of the matched event (-1 = none)
    open_: np.ndarray


def _ordered(ev: _Events, query: FunnelQuery
             ) -> tuple[_PerCustomer, np.ndarray, np.ndarray]:
    """Ordered and strict funnels in one compiled pass: every customer's attempts start at
    events of their entry step (step 1 for everyone with a step-1 event, whatever came before
    it; the first step seen for mid-journey customers). Returns the main funnel's customers,
    ``hist[entry step, best level]`` over all customers, and the number of customers with an
    event of each step."""
    w = _window_units(query.window, ev.unit_us)
    args = (ev.k, -1 if w is None else w, query.mode == "strict", query.reentry == "first",
            ev.t_max)
    half = int(np.searchsorted(ev.cid, ev.cid[len(ev.cid) // 2])) if len(ev.cid) else 0
    if len(ev.s) < _SPLIT_EVENTS or half == 0:
        pc, hist, per_step = _ordered_part(ev, 0, len(ev.s), args)
    else:  # two halves on two cores, split between customers (the kernel releases the GIL)
        (a, hist, per_step), (b, hist_b, per_step_b) = run_both(
            lambda: _ordered_part(ev, 0, half, args),
            lambda: _ordered_part(ev, half, len(ev.s), args))
        pc = _PerCustomer(np.concatenate([a.level, b.level]),
                          [np.concatenate([x, y]) for x, y in zip(a.pos, b.pos, strict=True)],
                          np.concatenate([a.open_, b.open_]))
        hist, per_step = hist + hist_b, per_step + per_step_b
    return pc, hist, per_step


#: events from which the ordered funnel runs on two threads
_SPLIT_EVENTS = 200_000


def _ordered_part(ev: _Events, lo: int, hi: int, args: tuple[int, int, bool, bool, int]
                  ) -> tuple[_PerCustomer, np.ndarray, np.ndarray]:
    """:func:`ordered_funnel` over the events ``[lo, hi)`` (whole customers)."""
    n = int(ev.cid[hi - 1]) - int(ev.cid[lo]) + 1 if hi > lo else 0
    k = ev.k
    level = np.empty(n, dtype=np.uint8)
    open_ = np.empty(n, dtype=bool)
    pos = np.empty((k, n), dtype=np.int32 if len(ev.s) < 2**31 else np.int64)
    hist = np.zeros((k + 1, k + 1), dtype=np.int64)
    per_step = np.zeros(k + 2, dtype=np.int64)
    m = _kernels().ordered_funnel(ev.cid[lo:hi], ev.t[lo:hi], ev.s[lo:hi], *args,
                       level, open_, pos, hist, per_step, lo)
    return _PerCustomer(level[:m], list(pos[:, :m]), open_[:m]), hist, per_step[1:k + 1]


def _mid_counts(hist: np.ndarray, k: int) -> pl.DataFrame:
    """Customers entering at step e > 1, and how many of them reached each step j ≥ e, from
    ``hist[e, L]`` = customers entering at e whose best level is L."""
    at_least = hist[:, ::-1].cumsum(axis=1)[:, ::-1]  # [e, L] = customers with level ≥ L
    rows = [(e, j, int(at_least[e, j - e + 1])) for e in range(2, k + 1)
            if at_least[e, 1] for j in range(e, k + 1)]
    return pl.DataFrame(rows, schema={"entry_step_index": pl.Int64, "step_index": pl.Int64,
                                      "reached": pl.Int64}, orient="row")


def any_order_starts(cid: np.ndarray, t: np.ndarray, reentry: str) -> np.ndarray:
    """Where an any-order attempt may start in events sorted by customer and time: each
    customer's first event with re-entry "first", else the first event of each (customer,
    instant), which covers its ties. Shared with the engine's per-partition pass."""
    if reentry == "first":
        return group_starts(cid)
    new = np.r_[True, (cid[1:] != cid[:-1]) | (t[1:] != t[:-1])] if len(cid) else \
        np.zeros(0, dtype=bool)
    return np.flatnonzero(new)


def step_after(positions: np.ndarray, cid: np.ndarray, t: np.ndarray, w: int | None,
               at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each start position ``at``: whether the same customer has an event at one of
    ``positions`` (a step's sorted positions) at or after it within ``w`` time units, and
    that event's position. Shared with the engine's per-partition pass."""
    i = np.searchsorted(positions, at, side="left")
    ok = i < len(positions)
    nxt = positions[np.minimum(i, len(positions) - 1)] if len(positions) else at
    ok &= cid[nxt] == cid[at]
    if w is not None:
        ok &= t[nxt] - t[at] <= w
    return ok, nxt


def _any_order(ev: _Events, query: FunnelQuery, positions: list[np.ndarray]
               ) -> _PerCustomer:
    """Distinct steps within [t, t + W] from each start event; the best start per customer."""
    w = _window_units(query.window, ev.unit_us)
    starts = any_order_starts(ev.cid, ev.t, query.reentry)

    def next_of(step: int, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return step_after(positions[step], ev.cid, ev.t, w, at)

    count = np.zeros(len(starts), dtype=np.int64)
    for step in range(1, ev.k + 1):
        count += next_of(step, starts)[0]
    owners, best, which = _best_per_customer(ev, starts, count)
    chosen_start = starts[which]
    arrive = np.empty((len(owners), ev.k), dtype=np.int64)
    big = np.iinfo(np.int64).max
    for step in range(1, ev.k + 1):
        ok, nxt = next_of(step, chosen_start)
        arrive[:, step - 1] = np.where(ok, nxt, big)
    arrive.sort(axis=1)  # positions, so ties in time come in step order
    pos = [np.where(arrive[:, j] == big, -1, arrive[:, j]) for j in range(ev.k)]
    open_ = np.zeros(len(owners), dtype=bool)
    if w is not None and len(owners):
        last_start = _last_of_each(ev, starts)
        open_ = (best < ev.k) & (ev.t[last_start] + w > ev.t_max)
    return _PerCustomer(best, pos, open_)


def _per_stage_counts(counts: list[int] | np.ndarray, steps: list[str]) -> pl.DataFrame:
    counts = [int(x) for x in counts]
    return pl.DataFrame({"step_index": list(range(1, len(steps) + 1)), "step": steps,
                         "customers": counts},
                        schema={"step_index": pl.Int64, "step": pl.String,
                                "customers": pl.Int64})


# ----------------------------------------------------------------------------- tables


def _customer_frame(ev: _Events, pc: _PerCustomer, events: pl.DataFrame,
                    query: FunnelQuery) -> pl.DataFrame:
    """One row per main-funnel customer: level, open flag, seconds per step, breakdown."""
    cols = [pl.Series("level", pc.level), pl.Series("open", pc.open_)]
    secs = ev.unit_us / _US
    for k in range(2, ev.k + 1):
        a, b = pc.pos[k - 2], pc.pos[k - 1]
        got = np.flatnonzero(b >= 0)
        d = np.full(len(b), np.nan)
        d[got] = (ev.t[b[got]] - ev.t[a[got]]) * secs
        cols.append(pl.Series(f"_d{k}", d, nan_to_null=True))
    frame = pl.DataFrame(cols)
    if query.breakdown and ev.row is not None and len(pc.level):
        if query.attribution == "first":
            at = pc.pos[0]
        else:
            lvl = np.maximum(pc.level, 1)
            stacked = np.stack(pc.pos, axis=1)
            at = stacked[np.arange(len(lvl)), lvl - 1]
        rows = ev.row[at]
        values = events.select(query.breakdown)[rows]
        frame = pl.concat([frame, values], how="horizontal")
    elif query.breakdown:
        frame = frame.with_columns(pl.lit(None, dtype=events.schema[c]).alias(c)
                                   for c in query.breakdown)
    return frame


def _table_from_customers(frame: pl.DataFrame, steps: list[str], by: list[str]
                          ) -> pl.DataFrame:
    k = len(steps)
    aggs = [(pl.col("level") >= j).sum().cast(pl.Int64).alias(f"_r{j}") for j in range(1, k + 1)]
    for j in range(2, k + 1):
        aggs += [pl.col(f"_d{j}").median().alias(f"_med{j}"), pl.col(f"_d{j}").mean()
                 .alias(f"_mean{j}")]
    wide = (frame.group_by(by, maintain_order=True).agg(aggs) if by
            else frame.select(aggs))
    if by:
        wide = wide.sort(by, nulls_last=True)
    long = []
    for j in range(1, k + 1):
        long.append(wide.select(
            *by, pl.lit(j, dtype=pl.Int64).alias("step_index"),
            pl.lit(steps[j - 1]).alias("step"), pl.col(f"_r{j}").alias("reached"),
            (pl.col(f"_med{j}") if j > 1 else pl.lit(None, dtype=pl.Float64))
            .alias("median_seconds"),
            (pl.col(f"_mean{j}") if j > 1 else pl.lit(None, dtype=pl.Float64))
            .alias("mean_seconds")))
    out = pl.concat(long).sort([*by, "step_index"], nulls_last=True, maintain_order=True)
    return _rates(out, by)


def _rates(long: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Step and overall conversion, drop-off, lost, Wilson bounds, n from reached per step."""
    over = by or None
    prev = pl.col("reached").shift(1)
    first = pl.col("reached").first()
    if over:
        prev, first = prev.over(over, order_by="step_index"), first.over(over)
    n = pl.when(pl.col("step_index") == 1).then(pl.col("reached")).otherwise(prev)
    out = long.with_columns(n.cast(pl.Int64).alias("n"), first.alias("_first"))
    conv = pl.when(pl.col("n") > 0).then(pl.col("reached") / pl.col("n"))
    low, high = wilson_expr("reached", "n")
    valid = (pl.col("step_index") > 1) & (pl.col("reached") <= pl.col("n"))
    out = out.with_columns(
        conv.alias("step_conversion"),
        pl.when(pl.col("_first") > 0).then(pl.col("reached") / pl.col("_first"))
        .alias("overall_conversion"),
        (1 - conv).alias("dropoff"),
        (pl.col("n") - pl.col("reached")).alias("lost"),
        pl.when(valid).then(low).alias("low"),
        pl.when(valid).then(high).alias("high"),
    )
    return out.select(*by, "step_index", "step", "reached", "step_conversion",
                      "overall_conversion", "dropoff", "lost", "median_seconds", "mean_seconds",
                      "low", "high", "n")


def _comparison(table: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Each segment's overall conversion against all other segments together, Holm-corrected."""
    last = int(cast(int, table["step_index"].max()))  # an integer column; polars types max loosely
    seg = (table.filter(pl.col("step_index") == 1).select(*by, pl.col("reached").alias("n"))
           .join(table.filter(pl.col("step_index") == last)
                 .select(*by, pl.col("reached").alias("converted")),
                 on=by, how="left", nulls_equal=True, maintain_order="left"))
    tot_n, tot_c = int(seg["n"].sum()), int(seg["converted"].sum())
    zs, ps = [], []
    for n, c in seg.select("n", "converted").iter_rows():
        z, p = two_proportion_z(c, n, tot_c - c, tot_n - n)
        zs.append(z)
        ps.append(p)
    out = seg.with_columns(
        pl.when(pl.col("n") > 0).then(pl.col("converted") / pl.col("n")).alias("rate"),
        (tot_n - pl.col("n")).alias("rest_n"),
        pl.when(tot_n - pl.col("n") > 0)
        .then((tot_c - pl.col("converted")) / (tot_n - pl.col("n"))).alias("rest_rate"),
        pl.Series("z", zs, dtype=pl.Float64), pl.Series("p", ps, dtype=pl.Float64),
        pl.Series("p_holm", holm(ps), dtype=pl.Float64),
    )
    enough = (pl.col("n") >= LOW_SAMPLE_N) & (pl.col("rest_n") >= LOW_SAMPLE_N)
    return out.with_columns(
        (enough & (pl.col("p_holm") < 0.05)).fill_null(False).alias("significant"),
        (~enough).alias("insufficient"))


# ----------------------------------------------------------------------------- public API


def funnel(events: pl.DataFrame, query: FunnelQuery | None = None,
           journey: Journey | None = None) -> FunnelResult:
    """Count customers through the steps (see the module docstring for the exact rules).

    >>> ev = pl.DataFrame({"customer_id": ["a", "a", "b"],
    ...     "timestamp": ["2025-01-01 10:00", "2025-01-01 11:00", "2025-01-01 10:00"],
    ...     "stage": ["Look", "Buy", "Look"]}).with_columns(pl.col("timestamp").str.to_datetime())
    >>> funnel(ev, FunnelQuery(steps=["Look", "Buy"])).table["reached"].to_list()
    [2, 1]
    """
    query = query or FunnelQuery()
    steps, mapping = _resolve_steps(query, journey)
    k = len(steps)
    ev = _prepare(events, query, mapping, k, with_rows=bool(query.breakdown))
    # positions of each step's events: only the any-order mode and the per-stage table use them
    needs = query.mode == "any" or query.mid_journey == "per_stage"
    positions = _step_positions(ev) if needs else []
    by = list(query.breakdown)
    per_step: list[int] | np.ndarray
    if query.mode == "any":
        pc = _any_order(ev, query, positions)
        per_step = [len(group_starts(ev.cid[positions[j]])) for j in range(1, k + 1)]
        labels = [f"{j} of {k} steps" for j in range(1, k + 1)]
        mid = _empty_mid()
        customers, mid_customers = ev.n_slots, 0  # every event is a step: all enter at once
    else:
        pc, hist, per_step = _ordered(ev, query)
        customers, mid_customers = int(hist.sum()), int(hist[2:].sum())
        mid = _mid_counts(hist, k)
        labels = steps
        names = pl.DataFrame({"i": range(1, k + 1), "name": steps},
                             schema={"i": pl.Int64, "name": pl.String})
        mid = (mid.join(names.rename({"i": "entry_step_index", "name": "entry_step"}),
                        on="entry_step_index", how="left")
               .join(names.rename({"i": "step_index", "name": "step"}), on="step_index",
                     how="left")
               .select("entry_step_index", "entry_step", "step_index", "step", "reached")
               .sort("entry_step_index", "step_index"))
    frame = _customer_frame(ev, pc, events, query)
    if query.exclude_open:
        frame = frame.filter(~pl.col("open"))
    if query.mid_journey == "per_stage":
        table = _per_stage_table(ev, positions, steps, events, query)
    else:
        table = _table_from_customers(frame, labels, by)
    return FunnelResult(
        table=table, customers=customers, entered_mid_journey=mid_customers,
        open_windows=int(pc.open_.sum()),
        mid_journey=mid, per_stage=_per_stage_counts(per_step, steps),
        comparison=_comparison(table, by) if by else None,
        dropped_rows=ev.dropped, steps=labels, breakdown=tuple(by),
        missing_steps=[name for name, n in zip(steps, per_step, strict=True) if not n])


def _empty_mid() -> pl.DataFrame:
    return pl.DataFrame(schema={"entry_step_index": pl.Int64, "entry_step": pl.String,
                                "step_index": pl.Int64, "step": pl.String,
                                "reached": pl.Int64})


def _per_stage_table(ev: _Events, positions: list[np.ndarray], steps: list[str],
                     events: pl.DataFrame, query: FunnelQuery) -> pl.DataFrame:
    """Each stage counted on its own; with a breakdown, by the value on the customer's first
    event at that stage."""
    by = list(query.breakdown)
    parts = []
    for j in range(1, ev.k + 1):
        p = positions[j]
        firsts = p[group_starts(ev.cid[p])]
        part = pl.DataFrame({"step_index": np.full(len(firsts), j, dtype=np.int64)})
        if by and ev.row is not None:
            part = pl.concat([part, events.select(by)[ev.row[firsts]]], how="horizontal")
        parts.append(part)
    counts = pl.concat(parts).group_by([*by, "step_index"]).agg(
        pl.len().cast(pl.Int64).alias("reached"))
    return _counts_table(counts, steps, by)


def _counts_table(counts: pl.DataFrame, steps: list[str], by: list[str]) -> pl.DataFrame:
    """Complete (segment × step) grid from reached counts, with rates and null times."""
    grid = pl.DataFrame({"step_index": list(range(1, len(steps) + 1)), "step": steps},
                        schema={"step_index": pl.Int64, "step": pl.String})
    if by:
        grid = counts.select(by).unique().join(grid, how="cross")
    long = (grid.join(counts, on=[*by, "step_index"], how="left", nulls_equal=True)
            .with_columns(pl.col("reached").fill_null(0).cast(pl.Int64),
                          pl.lit(None, dtype=pl.Float64).alias("median_seconds"),
                          pl.lit(None, dtype=pl.Float64).alias("mean_seconds"))
            .sort([*by, "step_index"], nulls_last=True))
    return _rates(long, by)


def funnel_from_counts(counts: pl.DataFrame, steps: list[str] | None = None,
                       breakdown: tuple[str, ...] | list[str] = (),
                       journey: Journey | None = None) -> FunnelResult:
    """The funnel table from an aggregated ``funnel_counts`` table (stage, customers, and
    optionally period / segment / channel): reached per step is the sum of ``customers``, each
    stage counted on its own. Without events there are no windows, times or mid-journey counts.
    Steps: ``steps``, else the journey's stage names, else the stages in order of appearance.

    >>> c = pl.DataFrame({"stage": ["Look", "Buy", "Look"], "customers": [30, 12, 10]})
    >>> funnel_from_counts(c).table.select("step", "reached").rows()
    [('Look', 40), ('Buy', 12)]
    """
    by = list(breakdown)
    missing = [c for c in ["stage", "customers", *by] if c not in counts.columns]
    if missing:
        raise QueryError(f"The funnel_counts table has no column {missing[0]!r}.")
    clean = counts.filter(pl.col("stage").is_not_null() & pl.col("customers").is_not_null())
    if steps is None and journey is not None:
        steps = [st.name for st in journey.stages]
    if steps is None:
        steps = clean["stage"].cast(pl.String).unique(maintain_order=True).to_list()
    idx = {name: i + 1 for i, name in enumerate(steps)}
    if journey is not None:
        idx.update({st.key: idx[st.name] for st in journey.stages if st.name in idx})
    summed = (clean.with_columns(pl.col("stage").cast(pl.String)
                                 .replace_strict(idx, default=None, return_dtype=pl.Int64)
                                 .alias("step_index"))
              .filter(pl.col("step_index").is_not_null())
              .group_by([*by, "step_index"]).agg(pl.col("customers").sum().cast(pl.Int64)
                                                  .alias("reached")))
    table = _counts_table(summed, list(steps), by)
    per_stage = (table.group_by("step_index", "step").agg(pl.col("reached").sum()
                                                         .alias("customers"))
                 .sort("step_index"))
    first = int(per_stage["customers"][0]) if per_stage.height else 0
    return FunnelResult(
        table=table, customers=first, entered_mid_journey=0, open_windows=0,
        mid_journey=_empty_mid(), per_stage=per_stage,
        comparison=_comparison(table, by) if by else None,
        dropped_rows=counts.height - clean.height, steps=list(steps), breakdown=tuple(by),
        missing_steps=[steps[i - 1] for i in range(1, len(steps) + 1)
                       if i not in set(summed["step_index"].to_list())])


def journey_funnel(journey: Journey, events: pl.DataFrame | None = None,
                   funnel_counts: pl.DataFrame | None = None) -> FunnelResult | None:
    """The journey's funnel as the dashboard shows it (metrics, friction, map, report): over
    the journey's stages from the events (else from ``funnel_counts``; None without either),
    leaving out the stages no event (or count) has. Such a stage is named in
    ``missing_steps``; counting it would put 0 customers there, a 100% drop-off into it and 0
    at every later stage, which says nothing about customers (a stage the team added to the
    journey before any data came).

    >>> from cjm_core.model.journey import journey_from_rows
    >>> j = journey_from_rows("4742", ["Look", "Demo", "Buy"], {})
    >>> c = pl.DataFrame({"stage": ["Look", "Buy"], "customers": [40, 10]})
    >>> r = journey_funnel(j, funnel_counts=c)
    >>> r.steps, r.missing_steps, r.table["reached"].to_list()
    (['Look', 'Buy'], ['Demo'], [40, 10])
    """
    def run(steps: list[str] | None) -> FunnelResult | None:
        if events is not None and {"customer_id", "timestamp", "stage"} <= set(events.columns):
            return funnel(events, FunnelQuery(steps=steps), journey)
        if funnel_counts is not None and {"stage", "customers"} <= set(funnel_counts.columns):
            return funnel_from_counts(funnel_counts, steps, journey=journey)
        return None

    result = run(None)
    if result is None or not result.missing_steps:
        return result
    present = [s.name for s in journey.stages if s.name not in result.missing_steps]
    if not present:
        return result
    kept = run(present)
    if kept is None:  # cannot be: the same tables gave a result above
        return result
    kept.missing_steps = list(result.missing_steps)
    return kept


_ROLE_METRIC = {("cart", "purchase"): "cart_abandonment",
                ("inquiry", "consultation"): "inquiry_consultation_dropoff"}


def role_dropoff(events: pl.DataFrame, journey: Journey, from_role: str, to_role: str,
                 window: timedelta | None = None) -> Metric:
    """Share of customers reaching the `from_role` stage who do not go on to the `to_role`
    stage (within `window`), e.g. cart abandonment = 1 − purchase/cart. Every customer with
    a from-stage event counts, whatever they did before. Value None and n = 0 when a role is
    not mapped in the journey.

    >>> from cjm_core.model.journey import default_journey
    >>> ev = pl.DataFrame({"customer_id": ["a", "a", "b"], "stage": ["Cart", "Purchase", "Cart"],
    ...     "timestamp": ["2025-01-01 10:00", "2025-01-01 10:05", "2025-01-01 11:00"]}
    ... ).with_columns(pl.col("timestamp").str.to_datetime())
    >>> role_dropoff(ev, default_journey("4773"), "cart", "purchase").value
    0.5
    """
    name = _ROLE_METRIC.get((from_role, to_role), f"{from_role}_{to_role}_dropoff")
    by_key = {st.key: st.name for st in journey.stages}
    a, b = (by_key.get(journey.stage_roles.get(r, "")) for r in (from_role, to_role))
    if a is None or b is None or a == b:
        return Metric(name, None, 0)
    query = FunnelQuery(steps=[a, b], window=window)
    _steps, mapping = _resolve_steps(query, journey)
    ev = _prepare(events, query, mapping, 2, with_rows=False)
    # everyone with a from-stage event enters at it, whatever came first
    pc, _hist, _per_step = _ordered(ev, query)
    n = len(pc.level)
    if n == 0:
        return Metric(name, None, 0)
    stayed = int((pc.level >= 2).sum())
    low, high = wilson(n - stayed, n)
    return Metric(name, 1 - stayed / n, n, low, high)


def readable_table(table: pl.DataFrame, breakdown: tuple[str, ...] = ()) -> pl.DataFrame:
    """The funnel table as a person reads it: labelled columns, rates as percentages with one
    decimal and their interval, counts with thousands separators, times in days, hours and
    minutes (the page and the report show this; :attr:`FunnelResult.table` stays numeric).

    >>> t = pl.DataFrame({"step_index": [1, 2], "step": ["Look", "Buy"], "reached": [1200, 300],
    ...     "step_conversion": [None, 0.25], "overall_conversion": [1.0, 0.25],
    ...     "dropoff": [None, 0.75], "lost": [None, 900], "median_seconds": [None, 90061.0],
    ...     "mean_seconds": [None, 2700.0], "low": [None, 0.226], "high": [None, 0.276],
    ...     "n": [1200, 1200]})
    >>> readable_table(t).row(1)
    (2, 'Buy', '300', '25.0% (22.6–27.6%)', '25.0%', '75.0%', '900', '1 d 1 h', '45 min', '1,200')
    """
    def pct(v: float | None) -> str:
        return "—" if v is None else f"{v * 100:.1f}%"

    rows = []
    for r in table.iter_rows(named=True):
        conv = pct(r["step_conversion"])
        if r["step_conversion"] is not None and r["low"] is not None and r["high"] is not None:
            conv += f" ({r['low'] * 100:.1f}–{r['high'] * 100:.1f}%)"
        rows.append({
            **{c: r[c] for c in breakdown},
            "#": r["step_index"], "Step": r["step"],
            "Customers": "—" if r["reached"] is None else f"{r['reached']:,}",
            "From previous step": conv, "From first step": pct(r["overall_conversion"]),
            "Drop-off": pct(r["dropoff"]),
            "Lost": "—" if r["lost"] is None else f"{r['lost']:,}",
            "Median time": format_duration(r["median_seconds"]),
            "Mean time": format_duration(r["mean_seconds"]),
            "n (previous step)": "—" if r["n"] is None else f"{r['n']:,}",
        })
    return pl.DataFrame(rows) if rows else pl.DataFrame()


def funnel_metrics(result: FunnelResult) -> list[Metric]:
    """``stage_conversion`` per step (by={"step": "A → B"}) and ``overall_conversion``, with
    n and Wilson intervals; with a breakdown, one set per segment (segment values in ``by``).

    >>> c = pl.DataFrame({"stage": ["Look", "Buy"], "customers": [40, 10]})
    >>> [(m.metric, m.value, m.n) for m in funnel_metrics(funnel_from_counts(c))]
    [('stage_conversion', 0.25, 40), ('overall_conversion', 0.25, 40)]
    """
    by = list(result.breakdown)
    out: list[Metric] = []
    groups = (result.table.group_by(by, maintain_order=True) if by
              else [((), result.table)])
    for key, part in groups:
        seg = {c: str(v) for c, v in zip(by, key, strict=True)}
        rows = part.sort("step_index").to_dicts()
        for prev, row in pairwise(rows):
            out.append(Metric("stage_conversion", row["step_conversion"], int(row["n"] or 0),
                              row["low"], row["high"],
                              by={**seg, "step": f"{prev['step']}{ARROW}{row['step']}"}))
        if rows:
            n1, nk = int(rows[0]["reached"]), int(rows[-1]["reached"])
            low, high = wilson(nk, n1)
            out.append(Metric("overall_conversion", nk / n1 if n1 else None, n1, low, high,
                              by=seg))
    return out
