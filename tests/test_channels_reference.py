"""Channels' customer figures and ``stage_order`` against brute-force Python references on
small generated logs (ties, equal timestamps, unknown channels, spelling variants, nulls,
orders with and without a channel), so a faster query can never change a figure."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, timedelta
from itertools import pairwise
from unittest.mock import patch

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

import cjm_core.analytics.channels as channels_module
from cjm_core.analytics.channels import (
    ONLINE_CHANNELS,
    STORE_CHANNELS,
    channel_metrics,
    omnichannel,
    online_to_store,
    transitions,
)
from cjm_core.model.journey import journey_from_rows, stage_order

JOURNEY = journey_from_rows("4742", ["Browse", "Buy"], {"purchase": "Buy"})
PURCHASE = {"Buy", "buy"}  # the purchase stage's display name and key
T0 = datetime(2024, 3, 1)

customers = st.sampled_from(["a", "b", "c", "d", "e", None])
times = st.one_of(st.none(), st.integers(0, 6))
channels = st.sampled_from(["web", "Web", "In-Store", "store", "app", "phone", "fax", None])
stages = st.sampled_from(["Browse", "Buy", "buy", "Other", None])

event_rows = st.lists(st.tuples(customers, times, stages, channels), max_size=30)
order_rows = st.lists(st.tuples(customers, times, channels), max_size=8)


def _ts(x: int | None) -> datetime | None:
    return None if x is None else T0 + timedelta(hours=x)


def _events(rows: list) -> pl.DataFrame:
    return pl.DataFrame(
        [(c, _ts(t), s, ch) for c, t, s, ch in rows], orient="row",
        schema={"customer_id": pl.String, "timestamp": pl.Datetime("us"),
                "stage": pl.String, "channel": pl.String})


def _orders(rows: list | None, with_channel: bool) -> pl.DataFrame | None:
    if rows is None:
        return None
    frame = pl.DataFrame([(c, _ts(t), ch) for c, t, ch in rows], orient="row",
                         schema={"customer_id": pl.String, "order_date": pl.Datetime("us"),
                                 "channel": pl.String})
    return frame if with_channel else frame.drop("channel")


def _kind(channel: str | None) -> str | None:
    if channel is None:
        return None
    n = re.sub(r"[\s\-_.]", "", channel.lower())
    return "online" if n in ONLINE_CHANNELS else "store" if n in STORE_CHANNELS else None


def _purchases(ev: list, orders: list | None, with_channel: bool) -> list:
    out = [(c, t, ch) for c, t, s, ch in ev if s in PURCHASE and c is not None and t is not None]
    for c, t, ch in orders or []:
        if c is not None and t is not None:
            out.append((c, t, ch if with_channel else None))
    return out


def ref_omnichannel(ev: list, orders: list | None, with_channel: bool) -> tuple:
    purchases = _purchases(ev, orders, with_channel)
    first: dict = {}
    for c, t, _ in purchases:
        first[c] = min(first.get(c, t), t)
    touches = [(c, t, ch) for c, t, _, ch in ev if None not in (c, t, ch)]
    if orders is not None and with_channel:
        touches += [(c, t, ch) for c, t, ch in purchases if ch is not None]
    used: dict = defaultdict(set)
    for c, t, ch in touches:
        if c not in first or t <= first[c]:
            used[c].add(ch)
    everyone = {c for c, _, _ in touches}
    omni = [c for c in everyone if len(used[c]) >= 2]
    bought = [c for c in omni if c in first]
    return len(everyone), len(omni), len(bought)


def ref_online_to_store(ev: list, orders: list | None, with_channel: bool) -> tuple:
    online: dict = {}
    for c, t, _, ch in ev:
        if c is not None and t is not None and _kind(ch) == "online":
            online[c] = min(online.get(c, t), t)
    stores = [(c, t) for c, t, ch in _purchases(ev, orders, with_channel)
              if _kind(ch) == "store"]
    hits = {c for c, t in stores if c in online and t > online[c]}
    return len(online), len(hits)


def _hits(m) -> int:
    return round(m.value * m.n) if m.value is not None else 0


@settings(max_examples=300, deadline=None)
@given(event_rows, st.one_of(st.none(), order_rows), st.booleans())
def test_omnichannel_equals_reference(ev, orders, with_channel):
    got = omnichannel(_events(ev), JOURNEY, _orders(orders, with_channel))
    n_all, n_omni, n_bought = ref_omnichannel(ev, orders, with_channel)
    share, conv = got
    assert (share.n, _hits(share)) == (n_all, n_omni)
    assert (conv.n, _hits(conv)) == (n_omni, n_bought)
    assert share.value == (n_omni / n_all if n_all else None)
    assert conv.value == (n_bought / n_omni if n_omni else None)
    both, o2s = channel_metrics(_events(ev), JOURNEY, _orders(orders, with_channel))
    assert both == got
    assert o2s == online_to_store(_events(ev), JOURNEY, _orders(orders, with_channel))


@settings(max_examples=300, deadline=None)
@given(event_rows, st.one_of(st.none(), order_rows), st.booleans())
def test_online_to_store_equals_reference(ev, orders, with_channel):
    got = online_to_store(_events(ev), JOURNEY, _orders(orders, with_channel))
    n, hits = ref_online_to_store(ev, orders, with_channel)
    assert got.n == n
    assert got.value == (hits / n if n else None)


@settings(max_examples=100, deadline=None)
@given(event_rows)
def test_channel_figures_on_enum_and_integer_columns(ev):
    """Typed columns (an Enum channel and stage, integer customers) give the same figures."""
    frame = _events(ev)
    typed = frame.with_columns(
        pl.col("channel").cast(pl.Enum(["web", "Web", "In-Store", "store", "app", "phone",
                                         "fax"])),
        pl.col("stage").cast(pl.Enum(["Browse", "Buy", "buy", "Other"])),
        pl.col("customer_id").replace_strict({"a": 1, "b": 2, "c": 3, "d": 4, "e": 5},
                                             default=None, return_dtype=pl.Int64))
    assert ([(m.n, m.value) for m in omnichannel(typed, JOURNEY)]
            == [(m.n, m.value) for m in omnichannel(frame, JOURNEY)])
    a, b = online_to_store(typed, JOURNEY), online_to_store(frame, JOURNEY)
    assert (a.n, a.value) == (b.n, b.value)


def ref_transitions(ev: list, by_index: int) -> dict:
    per: dict = defaultdict(list)
    for i, row in enumerate(ev):
        c, t, v = row[0], row[1], row[by_index]
        if None not in (c, t, v):
            per[c].append((t, i, v))
    counts: dict = defaultdict(int)
    for seq in per.values():
        seq.sort()
        for (_, _, a), (_, _, b) in pairwise(seq):
            counts[(a, b)] += 1
    return dict(counts)


@settings(max_examples=200, deadline=None)
@given(event_rows)
def test_transitions_equal_reference(ev):
    for col, idx in (("channel", 3), ("stage", 2)):
        frame = _events(ev)
        got = transitions(frame, col)  # type: ignore[arg-type]
        assert {(s, g): n for s, g, n in got.select("source", "target", "count").iter_rows()
                } == ref_transitions(ev, idx)


def ref_stage_order(ev: list) -> list:
    """stage, precedes, position, mean_position, share, first_seen sorted as documented."""
    rows = [(i, c, s, t) for i, (c, t, s, _) in enumerate(ev) if None not in (c, t, s)]
    firsts: dict = {}
    for i, c, s, t in rows:
        key = (c, s)
        if key not in firsts:
            firsts[key] = (t, i)
        else:
            ot, oi = firsts[key]
            firsts[key] = (min(ot, t), min(oi, i))
    by_customer: dict = defaultdict(list)
    for (c, s), (t, i) in firsts.items():
        by_customer[c].append((t, i, s))
    rank: dict = {}
    for c, seq in by_customer.items():
        for r, (_, _, s) in enumerate(sorted(seq)):
            rank[(c, s)] = r
    stage_names = sorted({s for _, s in firsts})
    n_customers = len(by_customer)
    out = []
    for s in stage_names:
        ranks = sorted(rank[(c, x)] for (c, x) in rank if x == s)
        m = len(ranks)
        median = (ranks[(m - 1) // 2] + ranks[m // 2]) / 2
        precedes = 0
        for o in stage_names:
            if o == s:
                continue
            both = [c for c in by_customer if (c, s) in rank and (c, o) in rank]
            if not both:
                continue
            before = sum(rank[(c, s)] < rank[(c, o)] for c in both) / len(both)
            precedes += (before > 0.5) - (before < 0.5)
        first_seen = min(firsts[(c, x)][0] for (c, x) in firsts if x == s)
        out.append((s, precedes, median, sum(ranks) / m, m / n_customers, first_seen))
    out.sort(key=lambda r: (-r[1], r[2], r[3], -r[4], r[5], r[0]))
    return out


@settings(max_examples=200, deadline=None)
@given(event_rows)
def test_stage_order_equals_reference(ev):
    got = stage_order(_events(ev))
    want = ref_stage_order(ev)
    assert [r[0] for r in got.rows()] == [r[0] for r in want]
    for g, w in zip(got.rows(), want, strict=True):
        assert g[1] == w[1] and g[5] == _ts(w[5])
        assert abs(g[2] - w[2]) < 1e-12 and abs(g[3] - w[3]) < 1e-12
        assert abs(g[4] - w[4]) < 1e-12


@settings(max_examples=150, deadline=None)
@given(event_rows, st.one_of(st.none(), order_rows), st.booleans())
def test_join_based_paths_equal_the_reference(ev, orders, with_channel):
    """The join-based omnichannel (taken past ``MAX_CHANNEL_COLUMNS`` channels) and
    online-to-store give the reference's figures too."""
    frame, ords = _events(ev), _orders(orders, with_channel)
    with patch.object(channels_module, "MAX_CHANNEL_COLUMNS", 1):
        share, conv = omnichannel(frame, JOURNEY, ords)
        assert channel_metrics(frame, JOURNEY, ords)[0] == [share, conv]
    n_all, n_omni, n_bought = ref_omnichannel(ev, orders, with_channel)
    assert (share.n, _hits(share), conv.n, _hits(conv)) == (n_all, n_omni, n_omni, n_bought)
    m = channels_module._online_to_store_joined(frame, JOURNEY, ords)
    n, hits = ref_online_to_store(ev, orders, with_channel)
    assert (m.n, m.value) == (n, hits / n if n else None)
