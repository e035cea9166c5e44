"""Loyalty figures of DESIGN §5 over a period of orders: repeat purchase rate (customers with
≥ 2 orders / customers with ≥ 1), historic CLV (revenue per customer), average order value and
purchase frequency (orders per customer)."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from cjm_core.analytics.periods import cut, grouped, to_metrics
from cjm_core.analytics.stats import t_interval_expr, wilson_expr
from cjm_core.errors import CJMError
from cjm_core.metric import Metric

__all__ = ["loyalty_metrics", "orders_in"]


def _dt(value: date | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)


def orders_in(orders: pl.DataFrame, start: date | datetime | None = None,
              end: date | datetime | None = None) -> pl.DataFrame:
    """One row per order (line items with the same ``order_id`` summed) of the orders dated in
    [start, end), with customer and amount present. Columns kept: customer_id, order_date,
    amount, __order and every other column of the first line.

    >>> o = pl.DataFrame({"customer_id": ["a", "a"], "order_id": ["1", "1"],
    ...                   "order_date": [datetime(2024, 1, 1)] * 2, "amount": [5.0, 7.0]})
    >>> orders_in(o)["amount"].to_list()
    [12.0]
    """
    if orders is None:
        raise CJMError("loyalty figures need an orders table", code="missing-role")
    missing = [c for c in ("customer_id", "order_date", "amount") if c not in orders.columns]
    if missing:
        raise CJMError(f"loyalty figures need {', '.join(missing)} in the orders table",
                       code="missing-role")
    cond = pl.col("customer_id").is_not_null() & pl.col("amount").is_not_null()
    if start is not None:
        cond &= pl.col("order_date") >= _dt(start)
    if end is not None:
        cond &= pl.col("order_date") < _dt(end)
    frame = orders.filter(cond).with_row_index("__line")
    line_id = pl.concat_str(pl.lit("\x00line"), pl.col("__line").cast(pl.String))
    order_id = (pl.coalesce(pl.col("order_id").cast(pl.String), line_id)
                if "order_id" in frame.columns else line_id)
    frame = frame.with_columns(order_id.alias("__order"))
    others = [c for c in frame.columns if c not in ("customer_id", "__order", "amount", "__line")]
    return (frame.group_by("customer_id", "__order")
            .agg(pl.col("amount").cast(pl.Float64).sum(),
                 *(pl.col(c).sort_by("__line").first() for c in others))
            .sort("customer_id", "__order"))


def loyalty_metrics(orders: pl.DataFrame, start: date | datetime | None = None,
                    end: date | datetime | None = None, by: list[str] | None = None
                    ) -> list[Metric]:
    """Loyalty over the orders dated in [start, end) (whole table when not given), overall or
    cut by e.g. channel or period (month of the order):

    - ``repeat_purchase_rate``: customers with ≥ 2 orders / customers with ≥ 1 (Wilson);
    - ``clv``: revenue per customer (historic CLV over the period; t-interval);
    - ``average_order_value``: revenue / orders (t-interval over orders; n = orders);
    - ``purchase_frequency``: orders per customer (t-interval).

    >>> o = pl.DataFrame({"customer_id": ["a", "a", "b", "c"],
    ...                   "order_date": [datetime(2024, 1, d) for d in (1, 5, 2, 3)],
    ...                   "amount": [10.0, 20.0, 30.0, 60.0]})
    >>> [(m.metric, round(m.value, 3)) for m in loyalty_metrics(o)][:2]
    [('repeat_purchase_rate', 0.333), ('clv', 40.0)]
    """
    frame, keys = cut(orders_in(orders, start, end), by, "order_date")
    per_customer = grouped(frame, [*keys, "customer_id"],
                           [pl.len().alias("orders"), pl.col("amount").sum().alias("revenue")])
    table = grouped(per_customer, keys, [
        (pl.col("orders") >= 2).sum().alias("repeaters"),
        pl.len().alias("n"),
        pl.col("revenue").mean().alias("clv"),
        pl.col("revenue").std().alias("clv_sd"),
        pl.col("orders").cast(pl.Float64).mean().alias("freq"),
        pl.col("orders").cast(pl.Float64).std().alias("freq_sd"),
    ])
    rate_low, rate_high = wilson_expr("repeaters", "n")
    clv_low, clv_high = t_interval_expr("clv", "clv_sd", "n")
    freq_low, freq_high = t_interval_expr("freq", "freq_sd", "n")
    table = table.with_columns(
        pl.when(pl.col("n") > 0).then(pl.col("repeaters") / pl.col("n")).alias("rate"),
        rate_low.alias("rate_low"), rate_high.alias("rate_high"),
        clv_low.alias("clv_low"), clv_high.alias("clv_high"),
        freq_low.alias("freq_low"), freq_high.alias("freq_high"))
    aov = grouped(frame, keys, [pl.col("amount").mean().alias("value"),
                                pl.col("amount").std().alias("sd"), pl.len().alias("n")])
    aov_low, aov_high = t_interval_expr("value", "sd", "n")
    aov = aov.with_columns(aov_low, aov_high)
    return [
        *to_metrics(table, "repeat_purchase_rate", keys, "rate", "rate", low="rate_low",
                    high="rate_high"),
        *to_metrics(table, "clv", keys, "money", "clv", low="clv_low", high="clv_high"),
        *to_metrics(aov, "average_order_value", keys, "money"),
        *to_metrics(table, "purchase_frequency", keys, "per_customer", "freq", low="freq_low",
                    high="freq_high"),
    ]
