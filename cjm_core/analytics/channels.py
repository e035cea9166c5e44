"""Channels and omnichannel behaviour (DESIGN §5 "Channels / omnichannel").

Why: specialised retailers live on customers moving between web, app, phone and store (seeds 4773,
4741, 4742). This module counts how customers move between channels or touchpoints, how many use
several channels before buying and whether they convert, and how many online researchers later buy
in a store.

Every function takes the role-named ``events`` frame (``customer_id``, ``timestamp``, ``stage``,
``channel``, ``touchpoint``; see `cjm_core.model.schema`) and, where purchases matter, the journey
and the
optional ``orders`` frame.
"""

from __future__ import annotations

from typing import Literal

import polars as pl

from cjm_core.analytics.stats import wilson
from cjm_core.errors import QueryError
from cjm_core.metric import Metric
from cjm_core.model.journey import Journey

__all__ = [
    "ONLINE_CHANNELS",
    "STORE_CHANNELS",
    "channel_kind",
    "channel_metrics",
    "omnichannel",
    "online_to_store",
    "sankey_data",
    "transition_matrix",
    "transitions",
]

#: channel names (lower case, without spaces, hyphens or underscores) that count as web/app
ONLINE_CHANNELS = frozenset({
    "web", "online", "website", "webshop", "onlineshop", "eshop", "ecommerce", "internet",
    "app", "mobile", "mobileapp", "webapp",
})
#: channel names (normalised the same way) that count as a physical store
STORE_CHANNELS = frozenset({
    "store", "shop", "filiale", "instore", "retail", "retailstore", "branch", "pos", "offline",
})

_TRANSITION_COLUMNS = ("source", "target", "count", "share", "self_transition")


def _norm_channel(expr: pl.Expr) -> pl.Expr:
    """Lower case without spaces, hyphens, underscores or dots: "In-Store" -> "instore"."""
    return expr.cast(pl.String).str.to_lowercase().str.replace_all(r"[\s\-_.]", "")


def channel_kind(expr: pl.Expr) -> pl.Expr:
    """"online", "store" or null for a channel column, matched case-insensitively.

    >>> pl.DataFrame({"c": ["Web Shop", "In-store", "phone"]}).select(
    ...     channel_kind(pl.col("c"))).to_series().to_list()
    ['online', 'store', None]
    """
    n = _norm_channel(expr)
    return (pl.when(n.is_in(list(ONLINE_CHANNELS))).then(pl.lit("online"))
            .when(n.is_in(list(STORE_CHANNELS))).then(pl.lit("store"))
            .otherwise(pl.lit(None, dtype=pl.String)))


def transitions(
    events: pl.DataFrame,
    by: Literal["channel", "touchpoint"] = "channel",
    *,
    drop_self: bool = False,
) -> pl.DataFrame:
    """Consecutive event pairs a → b per customer, counted over all customers.

    Each customer's events are put in time order, ties keeping file order; every event and the
    next one of the same customer make one pair. Rows missing the customer, the timestamp or the
    ``by`` value are left out before pairing. ``share`` is the pair's count over all pairs leaving
    ``source`` (so the shares of one source add up to 1). Self-transitions (web → web) are kept
    and flagged in ``self_transition``; ``drop_self=True`` removes them and computes the shares
    over the remaining pairs (the same as collapsing repeats of one value).

    Sorted by source, then count (largest first), then target.

    >>> ev = pl.DataFrame({"customer_id": ["a", "a", "a", "b", "b"],
    ...     "timestamp": [1, 2, 3, 1, 2], "channel": ["web", "web", "store", "web", "store"]})
    >>> transitions(ev).rows()
    [('web', 'store', 2, 0.6666666666666666, False), ('web', 'web', 1, 0.3333333333333333, True)]
    """
    for col in ("customer_id", "timestamp", by):
        if col not in events.columns:
            raise QueryError(f"transitions by {by} need an events column {col!r}; "
                             f"the events table has {', '.join(events.columns)}")
    pairs = _pairs(events, by)
    if pairs is None:  # two customers share a 64-bit hash: take the exact (slower) path
        pairs = _pairs(events, by, exact=True)
    assert pairs is not None
    pairs = (
        pairs.group_by("source", "target")
        .agg(pl.len().cast(pl.Int64).alias("count"))
        .with_columns(pl.col("source", "target").cast(pl.String))
        .with_columns((pl.col("source") == pl.col("target")).alias("self_transition"))
    )
    if drop_self:
        pairs = pairs.filter(~pl.col("self_transition"))
    return (
        pairs.with_columns(
            (pl.col("count") / pl.col("count").sum().over("source")).alias("share"))
        .sort(["source", "count", "target"], descending=[False, True, False])
        .select(_TRANSITION_COLUMNS)
    )


def _pairs(events: pl.DataFrame, by: str, exact: bool = False) -> pl.DataFrame | None:
    """source/target of every consecutive pair of one customer's events.

    Fast path: customers are grouped by a 64-bit hash of their id (sorting and moving numbers is
    much cheaper than strings); a second, independent hash checked on neighbouring rows detects
    a collision of the first, and then None is returned so the caller takes the exact path.
    A stable sort keeps file order among events of one customer at one timestamp.
    """
    rows = events.select("customer_id", "timestamp", pl.col(by).alias("v")).drop_nulls()
    if exact:
        key = rows.with_columns(pl.col("customer_id").cast(pl.String).alias("h"))
        same = pl.col("h") == pl.col("h").shift(-1)
        check = pl.lit(False)
    else:
        key = rows.select(pl.col("customer_id").hash(seed=0).alias("h"),
                          pl.col("customer_id").hash(seed=7919).alias("g"), "timestamp", "v")
        same = pl.col("h") == pl.col("h").shift(-1)
        check = same & (pl.col("g") != pl.col("g").shift(-1))
    ordered = key.sort("h", "timestamp", maintain_order=True)
    out = ordered.select(
        pl.col("v").alias("source"), pl.col("v").shift(-1).alias("target"),
        same.alias("_same"), check.alias("_clash"))
    if out["_clash"].any():
        return None
    return out.filter(pl.col("_same")).select("source", "target")


def sankey_data(transitions: pl.DataFrame) -> dict:
    """Nodes and links for a plotly Sankey, sources on the left and targets on the right.

    A value appears twice (once per side) so that loops (web → store → web, web → web) draw as
    plain left-to-right flows. Use as ``go.Sankey(node=d["node"], link=d["link"])``; each link's
    ``customdata`` is its share of the source's outgoing pairs.

    >>> t = pl.DataFrame({"source": ["web", "web"], "target": ["store", "web"],
    ...     "count": [2, 1], "share": [2 / 3, 1 / 3]})
    >>> d = sankey_data(t)
    >>> d["node"]["label"], d["link"]["source"], d["link"]["target"], d["link"]["value"]
    (['web', 'store', 'web'], [0, 0], [1, 2], [2, 1])
    """
    sources = transitions["source"].unique(maintain_order=True).sort().to_list()
    targets = transitions["target"].unique(maintain_order=True).sort().to_list()
    left = {v: i for i, v in enumerate(sources)}
    right = {v: len(sources) + i for i, v in enumerate(targets)}
    labels = sources + targets
    xs = [0.01] * len(sources) + [0.99] * len(targets)
    return {
        "node": {"label": labels, "x": xs, "side": ["source"] * len(sources)
                 + ["target"] * len(targets)},
        "link": {
            "source": [left[s] for s in transitions["source"].to_list()],
            "target": [right[t] for t in transitions["target"].to_list()],
            "value": transitions["count"].to_list(),
            "customdata": transitions["share"].to_list(),
        },
    }


def transition_matrix(transitions: pl.DataFrame, values: str = "share") -> pl.DataFrame:
    """Wide matrix: one row per source, one column per target, cells = ``values`` (share by
    default, or "count"); pairs never seen are 0. Rows and columns are sorted by name.

    >>> t = pl.DataFrame({"source": ["web", "web", "store"], "target": ["store", "web", "web"],
    ...     "count": [2, 1, 4], "share": [2 / 3, 1 / 3, 1.0]})
    >>> transition_matrix(t, "count").rows()
    [('store', 0, 4), ('web', 2, 1)]
    """
    targets = sorted(transitions["target"].unique().to_list())
    wide = transitions.pivot("target", index="source", values=values, aggregate_function="sum")
    missing = [t for t in targets if t not in wide.columns]
    wide = wide.with_columns(pl.lit(0).alias(t) for t in missing)
    return wide.select("source", *targets).fill_null(0).sort("source")


# ----------------------------------------------------------------------------- purchases


def _purchase_stage(journey: Journey) -> list[str] | None:
    """The purchase stage's display name and key (events may carry either), or None."""
    key = journey.stage_roles.get("purchase")
    if not key:
        return None
    for s in journey.stages:
        if s.key == key or s.name == key:
            return [s.name, s.key]
    return [key]


def _purchases(events: pl.DataFrame, journey: Journey, orders: pl.DataFrame | None
               ) -> pl.LazyFrame | None:
    """customer_id, timestamp, channel of every purchase: purchase-stage events and orders, as a
    query (the callers collect once, so no copy of the events is held in between).
    None when neither the journey's purchase role nor an orders table says what a purchase is."""
    parts = []
    names = _purchase_stage(journey)
    if names is not None and "stage" in events.columns:
        has_ch = "channel" in events.columns
        parts.append(events.lazy().filter(pl.col("stage").cast(pl.String).is_in(names)).select(
            pl.col("customer_id").cast(pl.String), "timestamp",
            (pl.col("channel").cast(pl.String) if has_ch
             else pl.lit(None, dtype=pl.String)).alias("channel")))
    if orders is not None and {"customer_id", "order_date"} <= set(orders.columns):
        has_ch = "channel" in orders.columns
        parts.append(orders.lazy().select(
            pl.col("customer_id").cast(pl.String),
            pl.col("order_date").alias("timestamp"),
            (pl.col("channel").cast(pl.String) if has_ch
             else pl.lit(None, dtype=pl.String)).alias("channel")))
    if not parts:
        return None
    ts_type = parts[0].collect_schema()["timestamp"]
    return pl.concat([p.with_columns(pl.col("timestamp").cast(ts_type)) for p in parts]
                     ).drop_nulls(["customer_id", "timestamp"])


def _rate(name: str, hits: int, n: int) -> Metric:
    low, high = wilson(hits, n)
    return Metric(name, hits / n if n else None, n=n, low=low, high=high, unit="rate")


#: above this many distinct channels, omnichannel joins per-customer first purchases back to
#: the touches instead of keeping one earliest-touch column per channel in one pass
MAX_CHANNEL_COLUMNS = 16


def _customer_rows(events: pl.DataFrame, journey: Journey, orders: pl.DataFrame | None
                   ) -> tuple[pl.LazyFrame, bool] | None:
    """One row per event and per order: ``customer_id``, ``timestamp`` (the events' type),
    ``channel``, ``purchase`` (an event at the purchase stage, or an order) and ``event`` (the
    row is an event, not an order), rows missing
    the customer or the time left out; and whether anything says what a purchase is (False:
    ``purchase`` is all False). None when the events lack ``customer_id`` or ``timestamp``.

    The customer keeps its type when only events are read and the type's text is one-to-one
    (strings, integers, categories), so grouping needs no text; with orders both sides are
    compared as text, as :func:`_purchases` does."""
    if not {"customer_id", "timestamp", "channel"} <= set(events.columns):
        return None
    names = _purchase_stage(journey) if "stage" in events.columns else None
    with_orders = orders is not None and {"customer_id", "order_date"} <= set(orders.columns)
    ts_type = events.schema["timestamp"]
    cid_type = events.schema["customer_id"]
    keep_cid = not with_orders and (cid_type.is_integer() or cid_type == pl.String
                                    or isinstance(cid_type, (pl.Enum, pl.Categorical)))
    cid = pl.col("customer_id") if keep_cid else pl.col("customer_id").cast(pl.String)
    purchase = (pl.col("stage").cast(pl.String).is_in(names) if names is not None
                else pl.lit(False))
    parts = [events.lazy().select(cid, "timestamp", pl.col("channel").cast(pl.String),
                                  purchase.alias("purchase"), pl.lit(True).alias("event"))]
    if with_orders:
        assert orders is not None
        parts.append(orders.lazy().select(
            pl.col("customer_id").cast(pl.String),
            pl.col("order_date").cast(ts_type).alias("timestamp"),
            (pl.col("channel").cast(pl.String) if "channel" in orders.columns
             else pl.lit(None, dtype=pl.String)).alias("channel"),
            pl.lit(True).alias("purchase"), pl.lit(False).alias("event")))
    rows = pl.concat(parts) if len(parts) > 1 else parts[0]
    return rows.drop_nulls(["customer_id", "timestamp"]), names is not None or with_orders


def omnichannel(
    events: pl.DataFrame, journey: Journey, orders: pl.DataFrame | None = None
) -> list[Metric]:
    """``omnichannel_share`` and ``omnichannel_conversion`` (DESIGN §5, seeds 4773 and 4741).

    An omnichannel customer used ≥ 2 channels up to and including their first purchase (all
    their events in the data if they did not buy; filter the events to a period first). A
    purchase is an event at the journey's purchase stage (matched by display name or key) or,
    when ``orders`` are given, an order; an order's channel counts as a channel used.

    - ``omnichannel_share`` = omnichannel customers / all customers with a channel;
    - ``omnichannel_conversion`` = purchasers among the omnichannel customers / all of them.

    Returns ``[]`` when the events have no channel column, or when there is neither a purchase
    stage role nor an orders table (then nothing says what a purchase is).

    >>> from cjm_core.model.journey import journey_from_rows
    >>> j = journey_from_rows("4773", ["Browse", "Buy"], {"purchase": "Buy"})
    >>> ev = pl.DataFrame({"customer_id": ["a", "a", "b", "b", "c"],
    ...     "timestamp": [1, 2, 1, 2, 1], "stage": ["Browse", "Buy", "Browse", "Browse", "Buy"],
    ...     "channel": ["web", "store", "web", "app", "store"]})
    >>> [(m.metric, m.value, m.n) for m in omnichannel(ev, j)]
    [('omnichannel_share', 0.6666666666666666, 3), ('omnichannel_conversion', 0.5, 2)]
    """
    if "channel" not in events.columns or not {"customer_id", "timestamp"} <= set(events.columns):
        return []
    return _channel_pass(events, journey, orders, omni=True, o2s=False)[0]


def _omnichannel_joined(
    events: pl.DataFrame, journey: Journey, orders: pl.DataFrame | None = None
) -> list[Metric]:
    """:func:`omnichannel` for many channels: first purchases joined back to the touches."""
    purchases = _purchases(events, journey, orders)
    if purchases is None:
        return []
    touches = events.lazy().select(pl.col("customer_id").cast(pl.String), "timestamp",
                                   pl.col("channel").cast(pl.String))
    ts_type = touches.collect_schema()["timestamp"]
    if orders is not None and "channel" in orders.columns:
        touches = pl.concat([touches, purchases.with_columns(pl.col("timestamp").cast(ts_type))])
    touches = touches.drop_nulls()
    first = purchases.group_by("customer_id").agg(pl.col("timestamp").min().alias("_first"))
    omni = (
        touches.join(first.with_columns(pl.col("_first").cast(ts_type)),
                     on="customer_id", how="left")
        .filter(pl.col("_first").is_null() | (pl.col("timestamp") <= pl.col("_first")))
        .group_by("customer_id")
        .agg(pl.col("channel").n_unique().alias("_channels"),
             pl.col("_first").is_not_null().any().alias("_bought"))
        .filter(pl.col("_channels") >= 2)
        .select(pl.len().alias("omni"), pl.col("_bought").sum().alias("bought"))
    )
    # customers whose only touches come after their first purchase still count as customers
    everyone = touches.select(pl.col("customer_id").n_unique().alias("all"))
    counts, total = pl.collect_all([omni, everyone])
    n_all = int(total.item())
    n_omni, n_conv = (int(x or 0) for x in counts.row(0))
    return [_rate("omnichannel_share", n_omni, n_all),
            _rate("omnichannel_conversion", n_conv, n_omni)]


def online_to_store(
    events: pl.DataFrame, journey: Journey, orders: pl.DataFrame | None = None
) -> Metric:
    """``online_to_store_conversion`` (DESIGN §5, seed 4742): customers with a web/app event
    who later (strictly after their first web/app event) purchase in a store, over all customers
    with a web/app event.

    Channels are matched case-insensitively (``ONLINE_CHANNELS`` / ``STORE_CHANNELS``: web,
    online, website, webshop, app, mobile … / store, shop, filiale, in-store, retail …). A store
    purchase is an event at the journey's purchase stage on a store channel, or an order with a
    store channel. Value None and n 0 when there is no channel column or no customer used web/app.

    >>> from cjm_core.model.journey import journey_from_rows
    >>> j = journey_from_rows("4742", ["Browse", "Buy"], {"purchase": "Buy"})
    >>> ev = pl.DataFrame({"customer_id": ["a", "a", "b", "b"], "timestamp": [1, 2, 1, 2],
    ...     "stage": ["Browse", "Buy", "Browse", "Buy"], "channel": ["Web", "Store", "App", "web"]})
    >>> m = online_to_store(ev, j)
    >>> m.metric, m.value, m.n
    ('online_to_store_conversion', 0.5, 2)
    """
    name = "online_to_store_conversion"
    if "channel" not in events.columns or not {"customer_id", "timestamp"} <= set(events.columns):
        return Metric(name, None, n=0, unit="rate")
    return _channel_pass(events, journey, orders, omni=False, o2s=True)[1]


def channel_metrics(
    events: pl.DataFrame, journey: Journey, orders: pl.DataFrame | None = None
) -> tuple[list[Metric], Metric]:
    """:func:`omnichannel` and :func:`online_to_store` together, from one pass per customer.

    >>> from cjm_core.model.journey import journey_from_rows
    >>> j = journey_from_rows("4742", ["Browse", "Buy"], {"purchase": "Buy"})
    >>> ev = pl.DataFrame({"customer_id": ["a", "a", "b", "b"], "timestamp": [1, 2, 1, 2],
    ...     "stage": ["Browse", "Buy", "Browse", "Buy"], "channel": ["Web", "Store", "App", "web"]})
    >>> omni, o2s = channel_metrics(ev, j)
    >>> [(m.value, m.n) for m in omni], (o2s.value, o2s.n)
    ([(1.0, 2), (1.0, 2)], (0.5, 2))
    """
    if "channel" not in events.columns or not {"customer_id", "timestamp"} <= set(events.columns):
        return [], Metric("online_to_store_conversion", None, n=0, unit="rate")
    return _channel_pass(events, journey, orders, omni=True, o2s=True)


def _channel_pass(events: pl.DataFrame, journey: Journey, orders: pl.DataFrame | None, *,
                  omni: bool, o2s: bool) -> tuple[list[Metric], Metric]:
    """The omnichannel metrics (if ``omni``) and online-to-store (if ``o2s``) from one
    group_by per customer over events and orders, no joins:

    - omnichannel: the first purchase and each channel's earliest touch; a channel counts when
      touched at or before the first purchase (any time without a purchase);
    - online-to-store: the first web/app event and the last store purchase; a customer hits
      when the last store purchase is strictly after the first web/app event.

    Each is a plain min or max of a ``when`` column (filtered aggregations are much slower).
    Channel kinds are matched on the distinct channel values. Past ``MAX_CHANNEL_COLUMNS``
    channels omnichannel takes the join-based query."""
    none = Metric("online_to_store_conversion", None, n=0, unit="rate")
    found = _customer_rows(events, journey, orders)
    if found is None:
        return [], none
    rows, defined = found
    omni = omni and defined  # nothing says what a purchase is: no omnichannel figures
    values = rows.select(pl.col("channel").drop_nulls().unique()).collect()["channel"]
    omni_metrics: list[Metric] = []
    if omni and values.len() > MAX_CHANNEL_COLUMNS:
        omni_metrics, omni = _omnichannel_joined(events, journey, orders), False
    if not (omni or o2s):
        return omni_metrics, none
    ts = pl.col("timestamp")
    columns: list[pl.Expr] = []
    aggs: list[pl.Expr] = []
    figures: list[pl.Expr] = []
    if omni:
        earliest = [f"_c{i}" for i in range(values.len())]
        columns += [pl.when(pl.col("purchase")).then(ts).alias("_first"),
                    pl.col("channel").is_not_null().alias("_touched"),
                    *(pl.when(pl.col("channel") == v).then(ts).alias(c)
                      for v, c in zip(values.to_list(), earliest, strict=True))]
        aggs += [pl.col("_first").min(), pl.col("_touched").max(),
                 *(pl.col(c).min() for c in earliest)]
        first = pl.col("_first")
        used = pl.sum_horizontal([pl.lit(0, dtype=pl.UInt32)] + [
            (first.is_null() | (pl.col(c) <= first)) & pl.col(c).is_not_null()
            for c in earliest])
        is_omni = (used >= 2) & pl.col("_touched")
        figures += [pl.col("_touched").sum().alias("all"), is_omni.sum().alias("omni"),
                    (is_omni & first.is_not_null()).sum().alias("bought")]
    if o2s:
        kinds = values.to_frame().select(
            pl.col("channel"), channel_kind(pl.col("channel")).alias("kind"))
        online_values = kinds.filter(pl.col("kind") == "online")["channel"].implode()
        store_values = kinds.filter(pl.col("kind") == "store")["channel"].implode()
        columns += [pl.when(pl.col("event") & pl.col("channel").is_in(online_values))
                    .then(ts).alias("_online"),
                    pl.when(pl.col("purchase") & pl.col("channel").is_in(store_values))
                    .then(ts).alias("_store")]
        aggs += [pl.col("_online").min(), pl.col("_store").max()]
        figures += [pl.col("_online").is_not_null().sum().alias("n"),
                    (pl.col("_store") > pl.col("_online")).sum().alias("hits")]
    per_row = rows.select("customer_id", *columns)
    if not omni:  # only customers with a web/app event or a store purchase matter
        per_row = per_row.filter(pl.col("_online").is_not_null() | pl.col("_store").is_not_null())
    counts = [int(x or 0) for x in
              per_row.group_by("customer_id").agg(aggs).select(figures).collect().row(0)]
    if omni:
        n_all, n_omni, n_conv = counts[:3]
        omni_metrics = [_rate("omnichannel_share", n_omni, n_all),
                        _rate("omnichannel_conversion", n_conv, n_omni)]
    if not o2s:
        return omni_metrics, none
    n, hits = counts[-2:]
    o2s_metric = none if n == 0 else _rate("online_to_store_conversion", hits, n)
    return omni_metrics, o2s_metric


def _online_to_store_joined(
    events: pl.DataFrame, journey: Journey, orders: pl.DataFrame | None = None
) -> Metric:
    """The join-based :func:`online_to_store` (kept as the reference the tests compare with)."""
    name = "online_to_store_conversion"
    online = (
        events.lazy().filter(channel_kind(pl.col("channel")) == "online")
        .drop_nulls(["customer_id", "timestamp"])
        .group_by(pl.col("customer_id").cast(pl.String))
        .agg(pl.col("timestamp").min().alias("_online"))
    )
    queries = [online.select(pl.len())]
    purchases = _purchases(events, journey, orders)
    if purchases is not None:
        store = purchases.filter(channel_kind(pl.col("channel")) == "store")
        online_type = online.collect_schema()["_online"]
        queries.append(
            online.join(store.with_columns(pl.col("timestamp").cast(online_type)),
                        on="customer_id", how="inner")
            .filter(pl.col("timestamp") > pl.col("_online"))
            .select(pl.col("customer_id").n_unique()))
    n, *hits = (int(frame.item()) for frame in pl.collect_all(queries))
    if n == 0:
        return Metric(name, None, n=0, unit="rate")
    return _rate(name, hits[0] if hits else 0, n)


def transition_totals(transitions: pl.DataFrame) -> tuple[int, int]:
    """All moves counted in a transitions table, and how many distinct places they leave from.

    >>> transition_totals(pl.DataFrame({"source": ["web", "web", "store"],
    ...                                 "target": ["store", "app", "web"], "count": [3, 1, 2]}))
    (6, 2)
    """
    if transitions.height == 0:
        return 0, 0
    return int(transitions["count"].sum()), transitions["source"].n_unique()
