"""Touchpoints: satisfaction per touchpoint, stage or channel with intervals, the monthly heatmap,
score distributions and the comments behind them (DESIGN §5 "Satisfaction")."""

from __future__ import annotations

import streamlit as st

import ui
from cjm_core.analytics.comments import negative_phrases, worst_comments
from cjm_core.analytics.overview_tiles import shown_months
from cjm_core.analytics.periods import has_dates, metrics_frame
from cjm_core.analytics.satisfaction import (
    answers_in,
    ces,
    csat,
    distribution,
    nps,
    satisfaction_table,
)
from cjm_core.industries.targets import target_text, targets_for
from cjm_core.metric import info
from cjm_core.model import settings as S
from cjm_core.present.charts import distribution_chart, heatmap, interval_chart
from cjm_core.present.tables import phrases_table, satisfaction_view

ws_id = ui.page_setup()
data, key = ui.filtered_dataset(ws_id)
st.title("Touchpoints")

SCORES = {name: info(name).label for name in ("csat", "nps", "ces")}
SCORE_FN = {"csat": csat, "nps": nps, "ces": ces}
ALT_FORMAT = {"csat": ".0%", "nps": "+.0f", "ces": ".2f"}
HOW = {name: info(name).definition for name in SCORES}
DEFAULT_TARGET = {"csat": 0.85}

scores = [s for s in SCORES if data.has("feedback", s)]
cuts = [c for c in ("touchpoint", "stage", "channel") if data.has("feedback", c)]
if not scores:
    st.info("Touchpoints need a feedback table with a CSAT, NPS or CES column. Upload one on the "
            "Data page.")
    st.stop()
if not cuts:
    st.info("The feedback table has no touchpoint, stage or channel column to cut by. Map one "
            "on the Data page.")
    st.stop()
dated = has_dates(data.feedback, "feedback")

with st.container(border=True):
    a, b = st.columns(2)
    # each key is its setting's name and URL parameter (cjm_core.model.settings)
    by = a.radio("Per", cuts, horizontal=True, help=S.TP_BY.help,
                 key=ui.view_key(S.TP_BY, choices=cuts, default=cuts[0]))
    score = b.radio("Score", scores, horizontal=True, format_func=SCORES.get,
                    help=S.TP_SCORE.help,
                    key=ui.view_key(S.TP_SCORE, choices=scores, default=scores[0]))
ui.keep_view(S.TP_BY, by, default=cuts[0])
ui.keep_view(S.TP_SCORE, score, default=scores[0])
months = ui.compute(key, shown_months, data)
st.caption((f"All the data shown ({months}); the Overview and Benchmarks judge its last 12 "
            "months. " if months else "")
           + f"{SCORES[score]}: {HOW[score]}. Hollow points, and the table's last column: fewer "
           "than 30 answers (low sample).")

with ui.guard(stop=True):
    table = ui.compute(key, satisfaction_table, data.feedback, by)
    per_cut = metrics_frame(ui.compute(key, SCORE_FN[score], data.feedback, by=[by]))
    per_month = (metrics_frame(ui.compute(key, SCORE_FN[score], data.feedback,
                                          by=[by, "period"])) if dated else None)

# the industry's target for the chosen score (a line on the chart), else CSAT's 85%
target = next((t for t in targets_for(data.journey.isic)
               if t.metric == score and t.threshold is not None), None)
target_value = target.threshold if target else DEFAULT_TARGET.get(score)

# -- table and interval chart --------------------------------------------------------------------
st.subheader(f"{SCORES[score]} per {by}")
chart = interval_chart(per_cut, by, target=target_value, title=SCORES[score],
                       value_format=ALT_FORMAT[score])
st.altair_chart(chart.properties(height=max(160, 24 * per_cut.height)), width="stretch")
if target is not None:
    st.caption(f"Dashed line: {target.label}, target {target_text(target)} (ISIC {target.isic}).")
elif target_value is not None:
    st.caption(f"Dashed line: CSAT target {target_value:.0%}.")

names = [SCORES[s] for s in scores]
every_score = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
st.subheader(f"{every_score} per {by}")
st.dataframe(satisfaction_view(table, by, scores), hide_index=True, width="stretch")

# -- heatmap by month ----------------------------------------------------------------------------
if not dated:
    st.info("No dates in the feedback: its answers cannot be cut by month or compared between "
            "periods, and the period filter leaves them whole (every answer is counted).")
elif per_month.height:
    st.subheader(f"{SCORES[score]} per {by} and month")
    st.altair_chart(
        heatmap(per_month, by, "period", value_format=ALT_FORMAT[score], title=SCORES[score])
        .properties(height=max(160, 24 * per_month[by].n_unique())),
        width="stretch")
    st.caption("Each cell: the month's answers only; hover for n and interval. Months with few "
               "answers swing widely.")
else:
    st.subheader(f"{SCORES[score]} per {by} and month")
    st.info("No dated answers in the period to cut by month.")

# -- one touchpoint: distribution and comments ---------------------------------------------------
if not data.has("feedback", "touchpoint"):
    st.stop()
st.subheader("One touchpoint")
by_touchpoint = (per_cut if by == "touchpoint" else
                 metrics_frame(ui.compute(key, SCORE_FN[score], data.feedback, by=["touchpoint"])))
# worst first: lowest CSAT/NPS, highest effort
worst_first = by_touchpoint.sort("value", descending=score == "ces", nulls_last=True)
options = worst_first["touchpoint"].to_list()
worst = options[0] if options else None
touchpoint = st.selectbox("Touchpoint (worst first)", options, help=S.TP_TOUCHPOINT.help,
                          key=ui.view_key(S.TP_TOUCHPOINT, choices=options, default=worst))
ui.keep_view(S.TP_TOUCHPOINT, touchpoint, default=worst)
dist_col, comment_col = st.columns(2)
with dist_col:
    dist = ui.compute(key, distribution, data.feedback, score, by=["touchpoint"])
    one = dist.filter(dist["touchpoint"] == touchpoint)
    st.markdown(f"**{SCORES[score]} answers at {ui.md_escape(touchpoint)}**")
    st.altair_chart(distribution_chart(one), width="stretch")
    answers = answers_in(one)
    st.caption(f"n = {answers:,} answers" + (" · low sample (n < 30)" if answers < 30 else ""))
with comment_col:
    st.markdown(f"**Worst comments at {ui.md_escape(touchpoint)}**")
    if data.has("feedback", "comment"):
        worst = ui.compute(key, worst_comments, data.feedback, touchpoint, k=5)
        if worst:
            for text in worst:
                st.text(f"“{text}”")
        else:
            st.caption("No negative comments here.")
    else:
        st.caption("The feedback table has no comment column.")

if data.has("feedback", "comment"):
    st.subheader("Negative phrases per touchpoint")
    st.caption("The most frequent phrases (1–3 words) in negative comments: evidence for pain "
               "points. share = comments containing the phrase / negative comments there.")
    phrases = ui.compute(key, negative_phrases, data.feedback, by="touchpoint", top=5)
    # touchpoints with the most negative comments first
    phrases = phrases.sort(["comments", "touchpoint", "rank"], descending=[True, False, False])
    st.dataframe(phrases_table(phrases), hide_index=True, width="stretch")
