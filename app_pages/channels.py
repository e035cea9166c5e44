"""Channels: how customers move between channels or touchpoints, and how omnichannel customers
convert (DESIGN §5 "Channels / omnichannel")."""

from __future__ import annotations

import streamlit as st

import ui
from cjm_core.analytics.channels import (
    omnichannel,
    online_to_store,
    transition_matrix,
    transition_totals,
    transitions,
)
from cjm_core.analytics.overview_tiles import shown_months
from cjm_core.metric import format_value, info
from cjm_core.model import settings as S
from cjm_core.present.charts import matrix_chart
from cjm_core.present.charts_extra import metric_caption, transition_sankey
from cjm_core.present.tables import matrix_table, moves_table

ws_id = ui.page_setup()
data, key = ui.filtered_dataset(ws_id)
st.title("Channels")
months = ui.compute(key, shown_months, data)
st.caption((f"All the data shown ({months}); the Overview and Benchmarks judge its last 12 "
            "months. " if months else "")
           + "Consecutive events of one customer make a move a → b; the share is a move's part "
           "of all moves leaving a. Omnichannel customers used two or more channels before "
           "their first purchase.")

if not data.has("events", "customer_id", "timestamp"):
    st.info("Channels need an events table with customer and timestamp columns. Upload one on "
            "the Data page.")
    st.stop()

# -- omnichannel tiles ---------------------------------------------------------------------------
COUNTED = {  # metric: what its n counts (label and definition: the metric catalogue)
    "omnichannel_share": "customers",
    "omnichannel_conversion": "omnichannel customers",
    "online_to_store_conversion": "customers with web/app events",
}
has_purchase = bool(data.journey.stage_roles.get("purchase")) or data.has(
    "orders", "customer_id", "order_date")
if not data.has("events", "channel"):
    st.info("The events table has no channel column, so omnichannel figures cannot be computed. "
            "Map a channel column on the Data page.")
elif not has_purchase:
    st.info("Nothing says what a purchase is: give the journey a stage with the purchase role, "
            "or upload an orders table on the Data page.")
else:
    tiles = []
    with ui.guard():
        tiles = [*ui.compute(key, omnichannel, data.events, data.journey, data.orders),
                 ui.compute(key, online_to_store, data.events, data.journey, data.orders)]
    cols = st.columns(len(COUNTED))
    for col, m in zip(cols, tiles, strict=False):
        entry = info(m.metric)
        with col:
            st.metric(entry.label, format_value(m.value, m.unit), help=entry.definition,
                      border=True)
            st.caption(metric_caption(m, COUNTED[m.metric]))

# -- transitions ---------------------------------------------------------------------------------
dims = [d for d in ("channel", "touchpoint") if data.has("events", d)]
if not dims:
    st.info("Transitions need a channel or touchpoint column in the events table. Map one on "
            "the Data page.")
    st.stop()

st.subheader("Moves")
with st.container(border=True):
    a, b, c = st.columns([1, 1, 1])
    # each key is its setting's name and URL parameter (cjm_core.model.settings)
    by = a.radio("Moves between", dims, horizontal=True, help=S.CHANNELS_BY.help,
                 key=ui.view_key(S.CHANNELS_BY, choices=dims, default=dims[0]),
                 format_func={"channel": "channels", "touchpoint": "touchpoints"}.get)
    view = b.radio("Show as", S.CHANNELS_VIEW.choices, horizontal=True,
                   help=S.CHANNELS_VIEW.help, key=ui.view_key(S.CHANNELS_VIEW),
                   format_func={"sankey": "Sankey", "matrix": "matrix"}.get)
    drop_self = c.toggle("Leave out repeats (web → web)", help=S.CHANNELS_DROP_SELF.help,
                         key=ui.view_key(S.CHANNELS_DROP_SELF))
ui.keep_view(S.CHANNELS_BY, by, default=dims[0])
ui.keep_view(S.CHANNELS_VIEW, view)
ui.keep_view(S.CHANNELS_DROP_SELF, drop_self)

# the cut and the repeat switch go into the key of everything derived from ``moves``
moves_key = f"{key}:{by}:{drop_self}"
moves = ui.compute(moves_key, transitions, data.events, by, drop_self=drop_self)

if moves.height == 0:
    st.info("No customer has two consecutive events with a " + by + " in the current filters.")
    st.stop()

total, sources = transition_totals(moves)
st.caption(f"{total:,} moves between {sources:,} {by}s.")
if view == "sankey":
    top = moves.height
    if moves.height > 40:
        most, usual = min(moves.height, 200), min(moves.height, 40)
        top = st.slider("Largest moves shown", min_value=5, max_value=most, step=5,
                        help=S.CHANNELS_TOP.help, key=ui.view_key(
                            S.CHANNELS_TOP, choices=range(5, most + 1), default=usual))
        ui.keep_view(S.CHANNELS_TOP, top, default=usual)
    st.plotly_chart(transition_sankey(moves, top=top), width="stretch")
else:
    rows = moves["source"].n_unique()
    st.altair_chart(matrix_chart(moves).properties(height=max(200, min(900, 32 * rows))),
                    width="stretch")
    with st.expander("Matrix as a table (share of the row's moves)"):
        matrix = ui.compute(moves_key, transition_matrix, moves, "share")
        st.dataframe(matrix_table(matrix), hide_index=True, width="stretch")

st.subheader("Largest moves")
top_moves = moves.sort(["count", "source", "target"], descending=[True, False, False]).head(25)
st.dataframe(moves_table(top_moves), hide_index=True, width="stretch")
