"""Compiled loops of the funnel (numba), over events already sorted by (customer, time, step,
file order) as in :mod:`cjm_core.analytics.funnel`.

One pass over each customer's events replaces per-step ``searchsorted`` over every live attempt
(at 10M events the ordered funnel's matching went from ≈ 0.9 s of numpy temporaries to ≈ 0.1 s).
The rules are those of the module docstring of :mod:`cjm_core.analytics.funnel`; the tests there
(golden
journeys, the brute-force property tests) run through these kernels.

Compiled on first use and cached beside this file (``cache=True``); the compiled code releases
the GIL (``nogil=True``) so two halves can run on two cores. Hot loops are written out in one
function on purpose: a compiled helper taking arrays costs reference counting on every call
(5× slower here), and numba's ``np.searchsorted`` on a scalar was as slow.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def ordered_funnel(cid, t, s, k, w, strict, first_only, t_max,  # noqa: C901
                   level, open_, pos, hist, per_step, off):  # pragma: no cover - compiled
    """One pass over events sorted by (customer, time, step, file order); ``off`` is added to
    the positions written (the events may be a slice starting at ``off``).

    Per customer entering at step 1 (the main funnel; the m-th such customer in index m):
    ``level[m]`` (best attempt's level), ``open_[m]`` (not completed and the latest attempt's
    window ends after ``t_max``; only with a window ``w >= 0``) and ``pos[:, m]`` (positions of
    the chosen attempt's matched events, -1 = none; the chosen attempt is the latest reaching
    the best level). ``hist[e, L]`` counts customers entering at step e with best level L
    (counted from e); ``per_step[j]`` counts customers with any event of step code j. Returns
    the number of main-funnel customers.

    A customer enters at step 1 whenever they have a step-1 event, whatever came before it
    (ClickHouse ``windowFunnel``); a customer without one enters at the step of their first
    step event (mid-journey, counted in ``hist`` only). Attempts start at events
    of the entry step: the first only (``first_only``) or each one, skipping an anchor followed
    at once by another of the same step (the later one reaches at least as far). Each attempt
    matches the following steps greedily (earliest event of the next step, optimal for a fixed
    anchor), within ``w`` of the anchor; ``strict``: the next step must be the very next event.
    """
    n = len(s)
    last_counted = np.full(len(per_step), -1, dtype=np.int64)
    cand = np.empty(k, dtype=np.int64)      # positions matched by the attempt being tried
    chosen = np.empty(k, dtype=np.int64)    # positions of the best attempt so far
    m = 0
    b = 0
    while b < n:
        c = cid[b]
        e = b
        while e < n and cid[e] == c:  # the customer's events [b, e), counted per step
            j = s[e]
            if last_counted[j] != c:
                last_counted[j] = c
                per_step[j] += 1
            e += 1
        st = 0  # entry step: 1 whenever there is a step-1 event, else the first step seen
        for i in range(b, e):
            if s[i] == 1:
                st = 1
                break
            if st == 0 and s[i] <= k:
                st = s[i]
        if st == 0:
            b = e
            continue
        best = 0
        last = -1
        for a in range(b, e):
            if s[a] != st:
                continue
            last = a
            if not first_only and a + 1 < e and s[a + 1] == st:
                continue
            step = st
            cand[step - 1] = a
            until = t[a] + w
            i = a + 1
            while i < e and step < k:
                if w >= 0 and t[i] > until:
                    break
                if s[i] == step + 1:
                    step += 1
                    cand[step - 1] = i
                elif strict:
                    break
                i += 1
            lvl = step - st + 1
            if lvl >= best:
                best = lvl
                for j in range(st - 1, step):
                    chosen[j] = cand[j]
            if first_only:
                break
        hist[st, best] += 1
        if st == 1:
            for j in range(k):
                pos[j, m] = chosen[j] + off if j < best else -1
            level[m] = best
            open_[m] = w >= 0 and best < k and t[last] + w > t_max
            m += 1
        b = e
    return m


@njit(cache=True, nogil=True)
def pack_keys(cust, t, s, tb, sb):  # pragma: no cover - compiled
    """Sort key ``customer << (tb + sb) | time << sb | step`` per event (fits in 64 bits)."""
    key = np.empty(len(s), dtype=np.uint64)
    ts, ss = np.uint64(tb + sb), np.uint64(sb)
    for i in range(len(s)):
        key[i] = (np.uint64(cust[i]) << ts) | (np.uint64(t[i]) << ss) | np.uint64(s[i])
    return key


@njit(cache=True, nogil=True)
def unpack_sorted(key, tb, sb):  # pragma: no cover - compiled
    """From sorted keys: customer ordinal (0, 1, … in key order), time and step per event."""
    n = len(key)
    cid = np.empty(n, dtype=np.int32)
    t = np.empty(n, dtype=np.int64)
    s = np.empty(n, dtype=np.uint8)
    ss, cs = np.uint64(sb), np.uint64(tb + sb)
    smask, tmask = np.uint64((1 << sb) - 1), np.uint64((1 << tb) - 1)
    c = -1
    prev = np.uint64(0)
    for i in range(n):
        k = key[i]
        who = k >> cs
        if i == 0 or who != prev:
            c += 1
            prev = who
        cid[i] = c
        t[i] = np.int64((k >> ss) & tmask)
        s[i] = np.uint8(k & smask)
    return cid, t, s


@njit(cache=True, nogil=True)
def top_bit_clashes(sorted_h, shift):  # pragma: no cover - compiled
    """Over sorted 64-bit hashes: the distinct values of ``h >> shift`` (sorted) and the
    distinct full hashes whose top bits equal those of a smaller distinct hash (sorted)."""
    n = len(sorted_h)
    tops = np.empty(n, dtype=np.uint64)
    moved = np.empty(n, dtype=np.uint64)
    nt = 0
    nm = 0
    sh = np.uint64(shift)
    for i in range(n):
        h = sorted_h[i]
        if i > 0 and h == sorted_h[i - 1]:
            continue
        top = h >> sh
        if nt > 0 and tops[nt - 1] == top:
            moved[nm] = h
            nm += 1
        else:
            tops[nt] = top
            nt += 1
    return tops[:nt].copy(), moved[:nm].copy()


_FILTER_BITS = 16


@njit(cache=True, nogil=True)
def pack_hashed(h, t, s, tb, sb, shift, moved, free):  # pragma: no cover - compiled
    """:func:`pack_keys` with each row's customer code taken from its 64-bit hash ``h``: the
    top bits (``h >> shift``), or for a ``moved`` hash (sorted) its own ``free`` code. A bitmap
    over the codes' low bits spares the binary search for almost every row."""
    sh = np.uint64(shift)
    mask = np.uint64((1 << _FILTER_BITS) - 1)
    filt = np.zeros(1 << _FILTER_BITS, dtype=np.bool_)
    for x in moved:
        filt[np.int64((x >> sh) & mask)] = True
    key = np.empty(len(s), dtype=np.uint64)
    ts, ss = np.uint64(tb + sb), np.uint64(sb)
    for i in range(len(s)):
        x = h[i]
        code = x >> sh
        if filt[np.int64(code & mask)]:
            lo, hi = 0, len(moved)
            while lo < hi:
                mid = (lo + hi) // 2
                if moved[mid] < x:
                    lo = mid + 1
                else:
                    hi = mid
            if lo < len(moved) and moved[lo] == x:
                code = free[lo]
        key[i] = (code << ts) | (np.uint64(t[i]) << ss) | np.uint64(s[i])
    return key
