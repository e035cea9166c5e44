"""Funnel: where customers drop off, with every control a PostHog or Mixpanel user looks for.

A workspace whose events are in a data lake (its event source) gets the same page, computed by
the source's engine (local or Spark) with the sidebar's filters pushed into the read."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

import ui
from cjm_core.analytics.funnel import FunnelQuery, funnel, funnel_from_counts, readable_table
from cjm_core.model import settings as S
from cjm_core.present.charts import funnel_chart

ws_id = ui.page_setup()
lake = ui.event_source(ws_id)
if lake is None:
    data, key = ui.filtered_dataset(ws_id)
else:  # the journey from the store, the events from the lake
    data, key = ui.dataset(ws_id, lake_note=False)
    with ui.guard(stop=True):
        facts = ui.source_facts(lake)
    filters = ui.filter_widgets(data, facts.facets())
st.title("Funnel")

if lake is not None:
    if facts.missing():
        st.error(f"The events at {ui.md_escape(lake.spec)} have no "
                 f"{', '.join(facts.missing())} column; the funnel needs customer_id, "
                 "timestamp and stage. Change the source on the Data page.")
        st.stop()
    source = "lake"
elif data.funnel_counts is not None and not data.has("events", "customer_id", "timestamp",
                                                     "stage"):
    source = "counts"
elif data.has("events", "customer_id", "timestamp", "stage"):
    source = "events"
else:
    st.info("The funnel needs an events table (customer, timestamp, stage) or a funnel_counts "
            "table. Upload one on the Data page.")
    st.stop()

UNITS = {"minutes": 60, "hours": 3600, "days": 86400}
stage_names = [s.name for s in data.journey.stages]
rows = source in ("events", "lake")  # event rows: every control applies


def has(column: str) -> bool:
    return column in facts.columns if source == "lake" else data.has("events", column)


def values(column: str) -> list[str]:
    return facts.values.get(column, []) if source == "lake" else data.values("events", column)


# every control's key is its setting's name and URL parameter (cjm_core.model.settings): a link
# opens the funnel its sender saw
with st.container(border=True):
    a, b, c = st.columns([2, 1, 1])
    step_column = "stage"
    if rows:
        kinds = [k for k in S.FUNNEL_STEP_COLUMN.choices or () if has(k)]
        step_column = c.selectbox("Steps are", kinds, help=S.FUNNEL_STEP_COLUMN.help,
                                  key=ui.view_key(S.FUNNEL_STEP_COLUMN, choices=kinds))
    options = stage_names if step_column == "stage" else values(step_column)
    default = [s for s in stage_names if s in options] if step_column == "stage" else options[:4]
    if source == "lake" and step_column == "stage":  # the lake's own stages, after the journey's
        options = options + [v for v in values("stage") if v not in options]
    steps = a.multiselect("Steps, in order", options, help=S.FUNNEL_STEPS.help,
                          key=ui.view_key(S.FUNNEL_STEPS, choices=options, default=default))
    mode = b.selectbox("Order", S.FUNNEL_MODE.choices, help=S.FUNNEL_MODE.help,
                       key=ui.view_key(S.FUNNEL_MODE))
    view = {S.FUNNEL_STEP_COLUMN: step_column, S.FUNNEL_MODE: mode}
    if rows:
        d, e, f, g = st.columns(4)
        amount = d.number_input("Conversion window", min_value=0, max_value=S.WINDOW_MOST, step=1,
                                help=S.FUNNEL_WINDOW.help, key=ui.view_key(S.FUNNEL_WINDOW))
        unit = e.selectbox("Window unit", S.FUNNEL_WINDOW_UNIT.choices,
                           help=S.FUNNEL_WINDOW_UNIT.help, key=ui.view_key(S.FUNNEL_WINDOW_UNIT))
        reentry = f.selectbox("Re-entry", S.FUNNEL_REENTRY.choices, help=S.FUNNEL_REENTRY.help,
                              key=ui.view_key(S.FUNNEL_REENTRY))
        dims = ([c for c in facts.values if c != step_column] if source == "lake"
                else [d for d in data.dimensions("events") if d != step_column])
        breakdown = g.multiselect("Breakdown (up to two)", dims, max_selections=2,
                                  help=S.FUNNEL_BREAKDOWN.help,
                                  key=ui.view_key(S.FUNNEL_BREAKDOWN, choices=dims))
        h, i, j = st.columns(3)
        attribution = h.radio("Breakdown by", S.FUNNEL_ATTRIBUTION.choices, horizontal=True,
                              help=S.FUNNEL_ATTRIBUTION.help,
                              key=ui.view_key(S.FUNNEL_ATTRIBUTION),
                              format_func={"first": "first touch", "last": "last touch"}.get)
        exclude_open = i.toggle("Exclude customers whose window is still open",
                                help=S.FUNNEL_EXCLUDE_OPEN.help,
                                key=ui.view_key(S.FUNNEL_EXCLUDE_OPEN))
        mid = j.radio("Customers who entered mid-journey", S.FUNNEL_MID.choices,
                      horizontal=True, key=ui.view_key(S.FUNNEL_MID),
                      format_func={"separate": "shown apart",
                                   "per_stage": "each stage on its own"}.get,
                      help=S.FUNNEL_MID.help)
        view |= {S.FUNNEL_WINDOW: amount, S.FUNNEL_WINDOW_UNIT: unit,
                 S.FUNNEL_REENTRY: reentry, S.FUNNEL_BREAKDOWN: breakdown,
                 S.FUNNEL_ATTRIBUTION: attribution, S.FUNNEL_EXCLUDE_OPEN: exclude_open,
                 S.FUNNEL_MID: mid}
ui.keep_view(S.FUNNEL_STEPS, steps, default=default)
for setting, value in view.items():
    ui.keep_view(setting, value)

if len(steps) < 2:
    st.info("Choose at least two steps.")
    st.stop()

def run_funnel():
    if source == "counts":
        return ui.compute(key, funnel_from_counts, data.funnel_counts, list(steps),
                          journey=data.journey)
    query = FunnelQuery(
        steps=list(steps), step_column=step_column,
        window=timedelta(seconds=amount * UNITS[unit]) if amount else None,
        mode=mode, reentry=reentry, breakdown=tuple(breakdown), attribution=attribution,
        exclude_open=exclude_open, mid_journey=mid,
    )
    if source == "lake":
        return ui.source_funnel(lake, query, data.journey, filters)
    return ui.compute(key, funnel, data.events, query, data.journey)


with ui.guard(stop=True):
    computed = run_funnel()
if source == "lake":
    result = computed.result
    st.caption(f"Computed on {computed.engine} from {ui.md_escape(lake.spec)}: "
               f"{computed.rows:,} events read of the source's {facts.rows:,}"
               f" in {computed.seconds:.1f} s.")
else:
    result = computed

table = result.table
m1, m2, m3 = st.columns(3)
first, last, low = result.totals()
m1.metric("Entered at the first step", f"{first:,}")
m2.metric("Converted (all steps)", f"{last:,}",
          help="customers who completed every step; rates are in the table below")
m3.metric("Entered mid-journey", f"{result.entered_mid_journey:,}",
          help="no event of the first step, only of later ones (e.g. walk-in store customers "
               "who never did step 1); whoever did step 1, at any time, is in the first step")
if result.missing_steps:
    st.warning(ui.md_escape(result.missing_message()))
if rows and mid == "per_stage":
    st.caption("Each stage counted on its own: distinct customers with an event at each stage, "
               "ignoring the conversion window and the order of the steps.")
if result.open_windows:
    st.caption(f"{result.open_windows:,} customers' windows are still open at the end of the data"
               + (" (excluded)." if rows and exclude_open else
                  " (counted as dropped; switch on 'Exclude' to leave them out)."))

bd = tuple(breakdown) if rows else ()
st.altair_chart(funnel_chart(table, bd), width="stretch")
st.dataframe(readable_table(table, bd), hide_index=True, width="stretch")
if low:
    st.caption("Low sample (n < 30) at: " + ui.md_escape(", ".join(low)))

if rows and result.comparison is not None and result.comparison.height:
    st.subheader("Segments against the rest")
    st.caption("Two-proportion z-test on overall conversion, Holm-corrected; significant only "
               "at corrected p < 0.05 with n ≥ 30 on both sides.")
    st.dataframe(result.comparison, hide_index=True, width="stretch")

if rows and result.mid_journey is not None and result.mid_journey.height:
    with st.expander(f"Customers who entered mid-journey ({result.entered_mid_journey:,})"):
        st.dataframe(result.mid_journey, hide_index=True, width="stretch")
        if result.per_stage is not None:
            st.markdown("Each stage counted on its own")
            st.dataframe(result.per_stage, hide_index=True, width="stretch")
