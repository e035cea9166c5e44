"""Partial aggregates of the events-based figures, and their merge by addition.

Every events-based figure is a computation per customer followed by sums, so a set of customers
(a Spark partition, a slice of a local frame) yields a *partial*, and partials of disjoint sets of
customers merge by adding them. Counts add; means are kept as an exact integer sum and a count;
medians are kept as a :class:`Summary` (value → count, merged by adding the counts).

A :class:`Summary` is exact while it holds at most :data:`EXACT_LIMIT` distinct values. Above that
every value is replaced by the lower edge of its bucket: buckets hold the values that agree in
their top ``SKETCH_BITS + 1`` binary digits (an HDR-histogram layout, integer arithmetic only). A
median read from the buckets is within :data:`SKETCH_REL_ERROR` (relative, 1/512 ≈ 0.2 %) of a
true median value; the figure carries that bound (``median_rel_error``). Merging is still addition
of counts, and whether a merged summary is exact or bucketed depends only on the union of the
values, so the result does not depend on how customers were split or in which order partials were
merged: the local engine and Spark give identical figures, sketched or not.

>>> a, b = Summary.of(np.array([5, 1, 1])), Summary.of(np.array([9]))
>>> m = a.merge(b)
>>> m.count, m.median(1.0), m.rel_error
(4, 3.0, 0.0)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

#: most distinct values a summary keeps exactly
EXACT_LIMIT = 10_000
#: binary digits kept below the leading one when a summary is bucketed
SKETCH_BITS = 8
#: relative error bound of a median (or any quantile) read from a bucketed summary
SKETCH_REL_ERROR = 2.0 ** -(SKETCH_BITS + 1)

_POW2 = np.left_shift(np.int64(1), np.arange(63, dtype=np.int64))


def _bit_length(x: np.ndarray) -> np.ndarray:
    """``int.bit_length`` of non-negative int64 values (exact: no floating point)."""
    return np.searchsorted(_POW2, x, side="right").astype(np.int64)


def bucket_floor(values: np.ndarray) -> np.ndarray:
    """Lower edge of each value's bucket: the value with all but its top ``SKETCH_BITS + 1``
    binary digits cleared (values below ``2**(SKETCH_BITS + 1)`` are their own bucket).

    >>> bucket_floor(np.array([0, 511, 512, 513, 1023, 1024, 1027])).tolist()
    [0, 511, 512, 512, 1022, 1024, 1024]
    """
    v = np.asarray(values, dtype=np.int64)
    shift = np.maximum(_bit_length(v) - (SKETCH_BITS + 1), 0)
    return np.left_shift(np.right_shift(v, shift), shift)


def _bucket_mid(floors: np.ndarray) -> np.ndarray:
    """The value a bucket stands for: the middle of ``[floor, floor + width)``."""
    shift = np.maximum(_bit_length(floors) - (SKETCH_BITS + 1), 0)
    width = np.left_shift(np.int64(1), shift)
    return floors.astype(np.float64) + (width - 1) / 2.0


@dataclass
class Summary:
    """Non-negative integer values (durations in a time unit) as sorted distinct ``keys`` with
    their ``counts``; ``sketched`` once the keys are bucket edges."""

    keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    sketched: bool = False

    @classmethod
    def of(cls, values: np.ndarray) -> Summary:
        keys, counts = np.unique(np.asarray(values, dtype=np.int64), return_counts=True)
        return cls(keys, counts.astype(np.int64))._bounded()

    @property
    def count(self) -> int:
        return int(self.counts.sum())

    @property
    def rel_error(self) -> float:
        """Relative error bound of a quantile read from this summary (0 when exact)."""
        return SKETCH_REL_ERROR if self.sketched else 0.0

    def _bounded(self) -> Summary:
        if self.sketched or len(self.keys) <= EXACT_LIMIT:
            return self
        return Summary(*_add(bucket_floor(self.keys), self.counts), sketched=True)

    def merge(self, other: Summary) -> Summary:
        """The summary of both value sets (addition of counts)."""
        if not len(other.keys) and not other.sketched:
            return self
        if not len(self.keys) and not self.sketched:
            return other
        ka, kb = self.keys, other.keys
        sketched = self.sketched or other.sketched
        if sketched:
            ka, kb = bucket_floor(ka), bucket_floor(kb)
        keys, counts = _add(np.concatenate([ka, kb]),
                            np.concatenate([self.counts, other.counts]))
        return Summary(keys, counts, sketched)._bounded()

    def median(self, scale: float) -> float | None:
        """Median of ``value * scale`` (the middle value, or for an even count the two middle
        values' midpoint, computed as polars does); None without values."""
        n = self.count
        if n == 0:
            return None
        vals = (_bucket_mid(self.keys) if self.sketched else self.keys.astype(np.float64)) * scale
        cum = np.cumsum(self.counts)
        lo = float(vals[int(np.searchsorted(cum, (n - 1) // 2, side="right"))])
        hi = float(vals[int(np.searchsorted(cum, n // 2, side="right"))])
        return lo if lo == hi else lo + (hi - lo) * 0.5

    def to_state(self) -> tuple[list[int], list[int], bool]:
        return self.keys.tolist(), self.counts.tolist(), self.sketched

    @classmethod
    def from_state(cls, state: tuple[list[int], list[int], bool]) -> Summary:
        keys, counts, sketched = state
        return cls(np.asarray(keys, dtype=np.int64), np.asarray(counts, dtype=np.int64),
                   bool(sketched))


def _add(keys: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniq, inverse = np.unique(keys, return_inverse=True)
    return uniq.astype(np.int64), np.bincount(inverse, weights=counts,
                                              minlength=len(uniq)).astype(np.int64)


# ----------------------------------------------------------------------------- funnel


@dataclass
class SegmentPartial:
    """One breakdown segment's customers in the main funnel table: ``levels[L]`` customers with
    best level L, and per step j ≥ 2 the time from step j−1 (in time units): exact integer sum,
    count and median summary."""

    levels: np.ndarray
    dur_sum: list[int]
    dur_n: list[int]
    dur: list[Summary]

    @classmethod
    def empty(cls, k: int) -> SegmentPartial:
        return cls(np.zeros(k + 1, dtype=np.int64), [0] * (k + 1), [0] * (k + 1),
                   [Summary() for _ in range(k + 1)])

    def merge(self, other: SegmentPartial) -> SegmentPartial:
        return SegmentPartial(
            self.levels + other.levels,
            [a + b for a, b in zip(self.dur_sum, other.dur_sum, strict=True)],
            [a + b for a, b in zip(self.dur_n, other.dur_n, strict=True)],
            [a.merge(b) for a, b in zip(self.dur, other.dur, strict=True)])


@dataclass
class FunnelPartial:
    """What one set of whole customers contributes to a funnel.

    - ``hist[e, L]``: customers entering at step e with best level L (ordered / strict modes);
    - ``per_step[j]``: customers with an event of step j (index 0 unused);
    - ``customers``: customers with a step event (the any-order mode's population);
    - ``open_windows``: main-funnel customers whose window is still open;
    - ``segments``: the table's customers per breakdown value tuple (``()`` without one);
    - ``stage_counts``: per breakdown value tuple, customers per step counted on their own
      (the ``mid_journey="per_stage"`` table).
    """

    k: int
    hist: np.ndarray
    per_step: np.ndarray
    customers: int = 0
    open_windows: int = 0
    segments: dict[tuple, SegmentPartial] = field(default_factory=dict)
    stage_counts: dict[tuple, np.ndarray] = field(default_factory=dict)

    @classmethod
    def empty(cls, k: int) -> FunnelPartial:
        return cls(k, np.zeros((k + 1, k + 1), dtype=np.int64), np.zeros(k + 1, dtype=np.int64))

    def merge(self, other: FunnelPartial) -> FunnelPartial:
        segs = dict(self.segments)
        for key, part in other.segments.items():
            segs[key] = segs[key].merge(part) if key in segs else part
        stages = dict(self.stage_counts)
        for key, counts in other.stage_counts.items():
            stages[key] = stages[key] + counts if key in stages else counts
        return FunnelPartial(self.k, self.hist + other.hist, self.per_step + other.per_step,
                             self.customers + other.customers,
                             self.open_windows + other.open_windows, segs, stages)

    def to_state(self) -> dict:
        """Plain Python values (what a Spark partition sends back)."""
        return {
            "k": self.k, "hist": self.hist.tolist(), "per_step": self.per_step.tolist(),
            "customers": self.customers, "open": self.open_windows,
            "segments": [(list(key), p.levels.tolist(), p.dur_sum, p.dur_n,
                          [s.to_state() for s in p.dur]) for key, p in self.segments.items()],
            "stages": [(list(key), c.tolist()) for key, c in self.stage_counts.items()],
        }

    @classmethod
    def from_state(cls, st: dict) -> FunnelPartial:
        segs = {tuple(key): SegmentPartial(np.asarray(lv, dtype=np.int64), list(ds), list(dn),
                                           [Summary.from_state(s) for s in sums])
                for key, lv, ds, dn, sums in st["segments"]}
        stages = {tuple(key): np.asarray(c, dtype=np.int64) for key, c in st["stages"]}
        return cls(st["k"], np.asarray(st["hist"], dtype=np.int64),
                   np.asarray(st["per_step"], dtype=np.int64), st["customers"], st["open"],
                   segs, stages)


# ----------------------------------------------------------------------------- counters


@dataclass
class CountPartial:
    """Named integer counters keyed by tuples (transitions: ``(source, target) → pairs``;
    omnichannel: ``("all",) → customers`` …); merge adds the counters.

    >>> a = CountPartial({("web", "store"): 2})
    >>> a.merge(CountPartial({("web", "store"): 1, ("web", "web"): 4})).counts
    {('web', 'store'): 3, ('web', 'web'): 4}
    """

    counts: dict[tuple, int] = field(default_factory=dict)

    def merge(self, other: CountPartial) -> CountPartial:
        out = dict(self.counts)
        for key, n in other.counts.items():
            out[key] = out.get(key, 0) + n
        return CountPartial(out)

    def to_state(self) -> list:
        return [(list(k), n) for k, n in self.counts.items()]

    @classmethod
    def from_state(cls, st: list) -> CountPartial:
        return cls({tuple(k): int(n) for k, n in st})


P = TypeVar("P", FunnelPartial, CountPartial)


def merge_all(parts: list[P], empty: P) -> P:
    """Sum of partials (``empty`` when there are none)."""
    out = empty
    for p in parts:
        out = out.merge(p)
    return out
