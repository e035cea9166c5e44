"""Post-purchase: support (first-contact resolution, resolution time, open cases) and loyalty
(repeat purchases, CLV), and every metric this period against the one before (DESIGN §5)."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

import ui
from cjm_core.analytics.loyalty import loyalty_metrics
from cjm_core.analytics.overview_tiles import shown_months
from cjm_core.analytics.periods import change, dated_tables, last_periods, no_dates_note
from cjm_core.analytics.scorecard import all_metrics
from cjm_core.analytics.support import support_metrics
from cjm_core.metric import format_value, info
from cjm_core.present.charts_extra import metric_caption, wide_metrics
from cjm_core.present.tables import changes_table, cut_metrics_table

ws_id = ui.page_setup()
data, key = ui.filtered_dataset(ws_id)
st.title("Post-purchase")
months = ui.compute(key, shown_months, data)
if months:  # what the support and loyalty figures cover
    st.caption(f"All the data shown ({months}); the Overview and Benchmarks judge its last 12 "
               "months.")

SUPPORT = {  # metric: what its n counts (labels and formats: the metric catalogue)
    "fcr": "resolved cases",
    "resolution_hours_median": "resolved cases",
    "resolution_hours_mean": "resolved cases",
    "resolution_hours_p90": "resolved cases",
    "resolved_within_24h": "resolved cases",
    "resolved_within_48h": "resolved cases",
    "open_cases": "cases",
}
LOYALTY = {
    "repeat_purchase_rate": "customers",
    "clv": "customers",
    "average_order_value": "orders",
    "purchase_frequency": "customers",
}


def tiles(metrics: list, counted: dict[str, str], per_row: int = 4) -> None:
    """One tile per overall figure, with n, interval and the low-sample mark under it."""
    overall = {m.metric: m for m in metrics if not m.by}
    shown = [name for name in counted if name in overall]
    for start in range(0, len(shown), per_row):
        cols = st.columns(per_row)
        for col, name in zip(cols, shown[start:start + per_row], strict=False):
            m = overall[name]
            with col:
                st.metric(info(name).label, format_value(m.value, m.unit), border=True)
                st.caption(metric_caption(m, counted[name]))


def cut_table(metrics: list, counted: dict[str, str], cut: str,
              n_columns: dict[str, str]) -> None:
    """Figures per value of a cut, with the n columns named in ``n_columns``."""
    wide = wide_metrics(metrics, cut)
    if wide.height == 0:
        return
    st.dataframe(cut_metrics_table(wide, cut, counted, n_columns), hide_index=True,
                 width="stretch")


# -- support -------------------------------------------------------------------------------------
st.header("Support")
if not data.has("support", "opened_at"):
    st.info("Support figures need a support table with an opened_at column (and resolved_at, "
            "first_contact_resolved or contacts). Upload one on the Data page.")
else:
    support = []
    with ui.guard():
        support = ui.compute(key, support_metrics, data.support)
    if not support:
        st.info("The support table has no cases in the current filters, or lacks resolved_at, "
                "first_contact_resolved and contacts.")
    else:
        st.caption("First-contact resolution = cases resolved at the first contact / "
                   "resolved cases; resolution time = from opening to resolution, over resolved "
                   "cases; open cases are counted, not dropped.")
        tiles(support, SUPPORT)
        n_cols = {"fcr_n": "Resolved cases (n)", "open_cases_n": "Cases (n)"}
        if data.has("support", "complexity"):
            st.subheader("Simple and complex cases")
            cut_table(support, SUPPORT, "complexity", n_cols)
        if data.has("support", "channel"):
            st.subheader("By channel")
            cut_table(support, SUPPORT, "channel", n_cols)

# -- loyalty -------------------------------------------------------------------------------------
st.header("Loyalty")
if not data.has("orders", "customer_id", "order_date", "amount"):
    st.info("Loyalty figures need an orders table with customer, order date and amount. Upload "
            "one on the Data page.")
else:
    loyalty, by_channel = [], []
    with ui.guard():
        loyalty, by_channel = (
            ui.compute(key, loyalty_metrics, data.orders),
            ui.compute(key, loyalty_metrics, data.orders, by=["channel"])
            if data.has("orders", "channel") else [],
        )
    if loyalty:
        st.caption("Repeat purchase rate = customers with ≥ 2 orders / customers "
                   "with ≥ 1; customer lifetime value = revenue per customer (historic).")
        tiles(loyalty, LOYALTY)
        if by_channel:
            st.subheader("By channel")
            st.caption("A customer who ordered in two channels counts in both.")
            cut_table(by_channel, LOYALTY, "channel", {
                "repeat_purchase_rate_n": "Customers (n)", "average_order_value_n": "Orders (n)"})

# -- period over period --------------------------------------------------------------------------
st.header("This period against the one before")
if not any(data.has(t) for t in ("events", "feedback", "support", "orders")):
    st.info("Comparing periods needs dated rows in events, feedback, support or orders. Upload "
            "them on the Data page.")
    st.stop()
if not dated_tables(data):  # an undated survey alone: say so rather than compare it with itself
    st.info(no_dates_note([], any_dated=False))
    st.stop()
with ui.guard(stop=True):
    current, previous, bounds = ui.compute(key, last_periods, data)
if bounds["undated"]:
    st.info(no_dates_note(bounds["undated"]))
now = ui.compute(f"{key}:current", all_metrics, current)
before = ui.compute(f"{key}:previous", all_metrics, previous)
if not now and not before:
    st.info("No metric can be computed for either period.")
    st.stop()
day, one = "%d %b %Y", timedelta(days=1)
st.caption(f"Now: {bounds['current_start']:{day}} – {bounds['current_end'] - one:{day}}; "
           f"before: {bounds['previous_start']:{day}} – {bounds['previous_end'] - one:{day}} "
           f"({bounds['months']} months each, ending with the latest date in the data).")
if not bounds["previous_complete"]:
    first = bounds["data_start"]
    since = f"the data start on {first:{day}}" if first else "there are no dated rows"
    st.warning(f"The previous period is incomplete: {since}, so its figures cover less than "
               f"{bounds['months']} months.")
table = ui.compute(key, change, now, before)
with_cuts = st.toggle("Show every cut (touchpoint, stage, channel, …)", key="pp_cuts")
if not with_cuts:
    table = table.filter(table["by"] == "")
st.dataframe(changes_table(table), hide_index=True, width="stretch", column_config={
    "Change (rates in points)": st.column_config.TextColumn(help="now − before"),
    "Relative change": st.column_config.TextColumn(help="(now − before) / |before|"),
})
