"""Channels: transitions (hand-checked, against DuckDB, invariants), omnichannel and
online-to-store on tiny named journeys."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cjm_core.analytics.channels import (
    channel_kind,
    omnichannel,
    online_to_store,
    sankey_data,
    transition_matrix,
    transitions,
)
from cjm_core.demo.sample import generate
from cjm_core.model.journey import journey_from_rows

T0 = datetime(2024, 3, 1, 9, 0)


def t(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


# three customers, interleaved, with a tie at one timestamp and rows out of time order
THREE = pl.DataFrame(
    [
        ("a", t(3), "store", "Counter"),
        ("b", t(5), "web", "Shop"),
        ("a", t(1), "web", "Shop"),
        ("c", t(1), "web", "Shop"),
        ("a", t(2), "app", "App"),   # tie with the next row of a: file order says app first
        ("b", t(5), "store", "Counter"),  # tie with b's web row above: web first
        ("a", t(2), "web", "Shop"),
        ("c", t(2), "web", "Newsletter"),
        ("b", t(1), "phone", "Hotline"),  # earliest of b, last in the file
        ("c", t(4), None, None),  # no channel: left out before pairing
    ],
    schema=["customer_id", "timestamp", "channel", "touchpoint"],
    orient="row",
)


def test_transitions_hand_checked():
    # a: web(1) app(2) web(2) store(3); b: phone(1) web(5) store(5); c: web(1) web(2)
    got = transitions(THREE)
    assert got.columns == ["source", "target", "count", "share", "self_transition"]
    assert got.rows() == [
        ("app", "web", 1, 1.0, False),
        ("phone", "web", 1, 1.0, False),
        ("web", "store", 2, 0.5, False),
        ("web", "app", 1, 0.25, False),
        ("web", "web", 1, 0.25, True),
    ]


def test_transitions_drop_self_recomputes_shares():
    got = transitions(THREE, drop_self=True)
    web = got.filter(pl.col("source") == "web").select("target", "count", "share").rows()
    assert web == [("store", 2, 2 / 3), ("app", 1, 1 / 3)]
    assert not got["self_transition"].any()


def test_transitions_by_touchpoint():
    got = {(s, tg): c for s, tg, c, *_ in transitions(THREE, by="touchpoint").rows()}
    assert got == {("Shop", "App"): 1, ("App", "Shop"): 1, ("Shop", "Counter"): 2,
                   ("Hotline", "Shop"): 1, ("Shop", "Newsletter"): 1}


def test_transitions_missing_column_is_a_plain_message():
    with pytest.raises(ValueError, match="touchpoint"):
        transitions(THREE.drop("touchpoint"), by="touchpoint")


def test_transitions_equal_duckdb_on_sample():
    ev = generate("4741", 400, seed=3)["events"]
    ours = transitions(ev).select("source", "target", "count").sort("source", "target")
    ref = duckdb.sql(
        """select source, target, count(*)::bigint as count from (
             select channel as source,
                    lead(channel) over (partition by customer_id order by timestamp, ord) as target
             from (select *, row_number() over () as ord from ev))
           where target is not null group by all order by source, target"""
    ).pl()
    assert ours.rows() == ref.rows()


def test_transitions_hash_path_equals_exact_path():
    from cjm_core.analytics.channels import _pairs

    ev = generate("4773", 300, seed=5)["events"]
    for by in ("channel", "touchpoint"):
        fast = _pairs(ev, by).group_by("source", "target").len().sort("source", "target")
        exact = _pairs(ev, by, exact=True).group_by("source", "target").len()
        assert fast.rows() == exact.sort("source", "target").rows()


def test_transitions_on_enum_columns():
    ev = THREE.with_columns(pl.col("channel").cast(pl.Enum(["web", "app", "store", "phone"])))
    assert transitions(ev).rows() == transitions(THREE).rows()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 4), st.sampled_from("xyz")),
                min_size=0, max_size=30))
def test_transitions_invariants(rows):
    ev = pl.DataFrame(rows, schema=["customer_id", "timestamp", "channel"], orient="row")
    got = transitions(ev)
    n_customers = ev["customer_id"].n_unique() if rows else 0
    assert got["count"].sum() == len(rows) - n_customers
    # plain-Python reference: sort by customer, time, file position; pair neighbours
    order = sorted(range(len(rows)), key=lambda i: (rows[i][0], rows[i][1], i))
    ref: dict[tuple[str, str], int] = {}
    for i, j in pairwise(order):
        if rows[i][0] == rows[j][0]:
            ref[rows[i][2], rows[j][2]] = ref.get((rows[i][2], rows[j][2]), 0) + 1
    assert {(s, tg): c for s, tg, c, *_ in got.rows()} == ref
    if got.height:
        sums = got.group_by("source").agg(pl.col("share").sum())["share"]
        assert all(abs(s - 1) < 1e-9 for s in sums)
        # file order breaks ties, so reversing rows of one timestamp may change pairs, but
        # shuffling whole customers' blocks never does
        again = transitions(ev.sort("customer_id", maintain_order=True))
        assert again.rows() == got.rows()


def test_sankey_and_matrix():
    tr = transitions(THREE)
    d = sankey_data(tr)
    labels = d["node"]["label"]
    assert labels == ["app", "phone", "web", "app", "store", "web"]  # sources, then targets
    link = list(zip(d["link"]["source"], d["link"]["target"], d["link"]["value"], strict=True))
    named = sorted((labels[s], labels[tg], v) for s, tg, v in link)
    assert named == [("app", "web", 1), ("phone", "web", 1), ("web", "app", 1),
                     ("web", "store", 2), ("web", "web", 1)]
    assert all(s < 3 <= tg for s, tg, _ in link)  # left to right, loops included
    m = transition_matrix(tr)
    assert m.columns == ["source", "app", "store", "web"]
    assert m.rows() == [("app", 0, 0, 1.0), ("phone", 0, 0, 1.0), ("web", 0.25, 0.5, 0.25)]


def test_channel_kind_matching():
    names = ["WEB", "Online", "web shop", "Webshop", "App", "mobile", "Store", "shop",
             "Filiale", "In-Store", "retail", "phone", None]
    got = pl.DataFrame({"c": names}).select(channel_kind(pl.col("c"))).to_series().to_list()
    assert got == ["online"] * 6 + ["store"] * 5 + [None, None]


# ----------------------------------------------------------------------------- omnichannel

JOURNEY = journey_from_rows("4773", ["Browse", "Buy now", "Aftercare"], {"purchase": "Buy now"})


def journeys(**named: list[tuple[float, str, str]]) -> pl.DataFrame:
    """Events from journeys named by what the customer did: (hour, stage, channel)."""
    rows = [(who, t(h), stage, ch) for who, steps in named.items() for h, stage, ch in steps]
    return pl.DataFrame(rows, schema=["customer_id", "timestamp", "stage", "channel"],
                        orient="row")


OMNI = journeys(
    researched_online_bought_in_store=[(1, "Browse", "web"), (2, "Buy now", "store")],
    web_and_app_never_bought=[(1, "Browse", "web"), (3, "Browse", "app")],
    store_only_buyer=[(1, "Browse", "store"), (2, "Buy now", "store")],
    switched_after_buying=[(1, "Buy now", "web"), (5, "Aftercare", "store")],
    phone_then_web_order=[(1, "Browse", "phone"), (2, "Browse", "web")],
)
ORDERS = pl.DataFrame({"customer_id": ["phone_then_web_order"], "order_date": [t(3)],
                       "amount": [99.0], "channel": ["web"]})


def by_name(metrics):
    return {m.metric: m for m in metrics}


def test_omnichannel_from_purchase_stage():
    got = by_name(omnichannel(OMNI, JOURNEY))
    share, conv = got["omnichannel_share"], got["omnichannel_conversion"]
    # omnichannel: researched_online_bought_in_store, web_and_app_never_bought, phone_then_web
    assert (share.value, share.n) == (3 / 5, 5)
    assert (conv.value, conv.n) == (1 / 3, 3)
    assert share.low < share.value < share.high and share.unit == "rate"


def test_omnichannel_with_orders_counts_orders_as_purchases():
    conv = by_name(omnichannel(OMNI, JOURNEY, ORDERS))["omnichannel_conversion"]
    assert (conv.value, conv.n) == (2 / 3, 3)


def test_omnichannel_matches_stage_key_too():
    ev = OMNI.with_columns(pl.col("stage").replace("Buy now", "buy_now"))
    assert by_name(omnichannel(ev, JOURNEY))["omnichannel_conversion"].value == 1 / 3


def test_omnichannel_needs_a_purchase_definition_and_channels():
    no_role = journey_from_rows("4773", ["Browse", "Buy now"])
    assert omnichannel(OMNI, no_role) == []
    assert by_name(omnichannel(OMNI, no_role, ORDERS))["omnichannel_share"].n == 5
    assert omnichannel(OMNI.drop("channel"), JOURNEY) == []


O2S = journeys(
    web_then_store=[(1, "Browse", "Web"), (3, "Buy now", "Store")],
    store_purchase_before_app=[(1, "Buy now", "in-store"), (2, "Browse", "App")],
    online_only_buyer=[(1, "Browse", "website"), (2, "Buy now", "Webshop")],
    store_only=[(1, "Browse", "Filiale"), (2, "Buy now", "Filiale")],
    mobile_then_order_in_branch=[(1, "Browse", "Mobile")],
    phone_only=[(1, "Browse", "phone")],
)


def test_online_to_store():
    m = online_to_store(O2S, JOURNEY)
    assert (m.metric, m.value, m.n) == ("online_to_store_conversion", 1 / 4, 4)
    orders = pl.DataFrame({"customer_id": ["mobile_then_order_in_branch", "online_only_buyer"],
                           "order_date": [t(5), t(0)], "amount": [10.0, 20.0],
                           "channel": ["FILIALE", "store"]})
    # the second order is before that customer's first online event: not "later"
    m = online_to_store(O2S, JOURNEY, orders)
    assert (m.value, m.n) == (2 / 4, 4)


def test_online_to_store_without_online_customers():
    m = online_to_store(O2S.filter(pl.col("customer_id") == "store_only"), JOURNEY)
    assert (m.value, m.n) == (None, 0)


def test_channel_metrics_on_sample_are_rates():
    data = generate("4742", 600, seed=2)
    from cjm_core.model.journey import default_journey

    j = default_journey("4742")
    ms = [*omnichannel(data["events"], j, data["orders"]),
          online_to_store(data["events"], j, data["orders"])]
    assert len(ms) == 3
    for m in ms:
        assert m.n > 0 and 0 <= m.low <= m.value <= m.high <= 1
