"""Tables as a person reads them (cjm_core.present.tables, issue 13 §2): each table on a frame
small enough to check by hand, every shown string written out."""

from __future__ import annotations

import polars as pl
import pytest

from cjm_core.industries.targets import apply_edits, targets_for
from cjm_core.metric import format_interval
from cjm_core.present.tables import (
    Column,
    by_text,
    cell,
    changes_table,
    codes_table,
    cut_metrics_table,
    matrix_table,
    moves_table,
    phrases_table,
    problems_table,
    proposal_view,
    readable,
    satisfaction_view,
    targets_view,
)


@pytest.mark.parametrize("value, low, high, unit, shown", [
    (0.002494, 0.0004403, 0.01399, "rate", "0.2% (0.0–1.4%)"),  # the example
    (0.25, 0.226, 0.276, "rate", "25.0% (22.6–27.6%)"),
    (1.0, 0.5655, 1.0, "rate", "100.0% (56.5–100.0%)"),
    (30.18, 26.65, 33.71, "nps", "30 (27–34)"),
    (-12.6, -30.2, 4.9, "nps", "−13 (−30 to 5)"),
    (-0.4, None, None, "nps", "0"),
    (1.899, 1.761, 2.038, "score", "1.90 (1.76–2.04)"),
    (-0.07135, -0.2557, 0.1587, "relative_change", "−7.1% (−25.6% to +15.9%)"),
    (717.684, 700.1, 735.0, "money", "717.68 (700.10–735.00)"),
    (28.53, None, None, "hours", "28.5 h"),
    (None, 0.1, 0.2, "rate", "–"),
    (float("nan"), None, None, "rate", "–"),
])
def test_format_interval(value, low, high, unit, shown):
    assert format_interval(value, low, high, unit) == shown


@pytest.mark.parametrize("value, unit, shown", [
    (1210158, "count", "1,210,158"), (1210158, "seconds", "14 d 0 h"), (2700, "seconds", "45 min"),
    (0.523371, "rate", "52.3%"), (True, "flag", "yes"), (False, "flag", "no"),
    (None, "count", "–"), (2.5, "decimal", "2.5"), ("web", "text", "web"),
    (None, "text", "–"), (37.5, "nps", "38"),
])
def test_cell(value, unit, shown):
    assert cell(value, unit) == shown


def test_readable_follows_the_spec_in_order_with_intervals():
    t = pl.DataFrame({"n": [1523], "tp": ["Hotline"], "v": [0.5], "lo": [0.4], "hi": [0.6]})
    got = readable(t, [Column("Touchpoint", "tp"), Column("Share", "v", "rate", "lo", "hi"),
                       Column("Answers", "n", "count")])
    assert got.columns == ["Touchpoint", "Share", "Answers"]
    assert got.rows() == [("Hotline", "50.0% (40.0–60.0%)", "1,523")]
    assert got.schema == pl.Schema(dict.fromkeys(got.columns, pl.String))


def test_readable_of_no_rows_keeps_the_titles():
    t = pl.DataFrame({"a": []}, schema={"a": pl.Float64})
    assert readable(t, [Column("A share", "a", "rate")]).columns == ["A share"]


def test_moves_and_matrix():
    moves = pl.DataFrame({"source": ["web", "store"], "target": ["web", "web"],
                          "count": [2273, 642], "share": [0.523371, 0.198516],
                          "self_transition": [True, False]})
    assert moves_table(moves).rows() == [("web", "web", "2,273", "52.3%", "yes"),
                                         ("store", "web", "642", "19.9%", "no")]
    assert moves_table(moves).columns == ["From", "To", "Moves", "Share of the moves from there",
                                          "Repeat (same place again)"]
    matrix = pl.DataFrame({"source": ["app", "web"], "app": [0.0, 0.15335],
                           "web": [0.446166, 0.523371]})
    assert matrix_table(matrix).rows() == [("app", "0.0%", "44.6%"), ("web", "15.3%", "52.3%")]
    assert matrix_table(matrix).columns == ["From", "app", "web"]


def test_satisfaction_view_by_stage_with_missing_ces():
    t = pl.DataFrame({
        "stage": ["Support", "Purchase"], "answers": [1250, 3],
        "csat": [0.838710, 1.0], "csat_low": [0.673653, 0.4385], "csat_high": [0.929075, 1.0],
        "csat_n": [1250, 3], "csat_low_sample": [False, True],
        "ces": [1.923077, None], "ces_low": [1.481753, None], "ces_high": [2.364401, None],
        "ces_n": [26, 0], "ces_low_sample": [True, True]})
    got = satisfaction_view(t, "stage", ["csat", "ces"])
    assert got.columns == ["Stage", "Answers", "CSAT (95% interval)", "CSAT answers",
                           "CES (95% interval)", "CES answers", "Fewer than 30 answers"]
    assert got.rows() == [
        ("Support", "1,250", "83.9% (67.4–92.9%)", "1,250", "1.92 (1.48–2.36)", "26", "CES"),
        ("Purchase", "3", "100.0% (43.9–100.0%)", "3", "–", "0", "CSAT, CES"),
    ]


def test_satisfaction_view_nps_is_whole_with_interval_and_none_low():
    t = pl.DataFrame({"period": ["2025-01"], "answers": [80], "nps": [-2.4],
                      "nps_low": [-9.33], "nps_high": [4.6], "nps_n": [80],
                      "nps_low_sample": [False]})
    assert satisfaction_view(t, "period", ["nps"]).row(0) == (
        "2025-01", "80", "−2 (−9 to 5)", "80", "–")


def test_phrases_table():
    p = pl.DataFrame({"touchpoint": ["Installation hotline"], "phrase": ["back to confirm"],
                      "count": [12], "comments": [1044], "share": [0.011494], "rank": [4]})
    assert phrases_table(p).rows() == [
        ("Installation hotline", "4", "back to confirm", "12", "1,044", "1.1%")]
    assert phrases_table(p).columns == ["Touchpoint", "#", "Phrase", "Negative comments with it",
                                        "Negative comments there", "Share"]


def test_cut_metrics_table_labels_units_and_n():
    wide = pl.DataFrame({
        "complexity": ["complex", "simple"], "fcr": [0.414773, 0.684783], "fcr_n": [176, 1368],
        "resolution_hours_median": [28.531389, 1.344167], "resolution_hours_median_n": [176, 368],
        "open_cases": [4.0, None], "open_cases_n": [180, 1380], "clv": [838.06633, 560.3],
        "clv_n": [109, 51], "low_sample": [False, True]})
    got = cut_metrics_table(wide, "complexity",
                            ["fcr", "resolution_hours_median", "open_cases", "clv", "nps"],
                            {"fcr_n": "Resolved cases (n)", "open_cases_n": "Cases (n)"})
    assert got.columns == ["Case complexity", "First-contact resolution",
                           "Resolution time, median", "Open cases",
                           "Customer lifetime value (historic)", "Resolved cases (n)",
                           "Cases (n)", "Low sample (some n < 30)"]
    assert got.rows() == [
        ("complex", "41.5%", "28.5 h", "4", "838.07", "176", "180", "no"),
        ("simple", "68.5%", "1.3 h", "–", "560.30", "1,368", "1,380", "yes"),
    ]


def test_changes_table_from_the_periods_change():
    from cjm_core.analytics.periods import change
    from cjm_core.metric import Metric

    now = [Metric("fcr", 0.603, 1305), Metric("nps", 34.94, 730, unit="nps"),
           Metric("resolution_hours_mean", 10.04, 230, unit="hours"),
           Metric("fcr", 0.75, 12, by={"channel": "chat", "complexity": "simple"}),
           Metric("open_cases", 6.0, 236, unit="count")]
    before = [Metric("fcr", 0.59, 239), Metric("nps", 28.6, 781, unit="nps"),
              Metric("resolution_hours_mean", 8.4, 195, unit="hours"),
              Metric("open_cases", 0.0, 200, unit="count")]
    got = changes_table(change(now, before))
    assert got.columns == ["Metric", "Cut", "Now", "Before", "Change (rates in points)",
                           "Relative change", "n now", "n before", "Low sample (either n < 30)"]
    assert got.rows() == [
        ("First-contact resolution", "all", "60.3%", "59.0%", "+1.3 pp", "+2.2%", "1,305",
         "239", "no"),
        ("First-contact resolution", "Channel: chat; Case complexity: simple", "75.0%", "–",
         "–", "–", "12", "0", "yes"),
        ("NPS", "all", "35", "29", "+6", "+22.2%", "730", "781", "no"),
        ("Open cases", "all", "6", "0", "+6", "–", "236", "200", "no"),
        ("Resolution time, mean", "all", "10.0 h", "8.4 h", "+1.6 h", "+19.5%", "230", "195",
         "no"),
    ]


def test_by_text():
    assert by_text("step=Look → Buy") == "Step: Look → Buy"
    assert by_text("loyalty_tier=gold") == "Loyalty tier: gold"


def test_targets_view_in_words_and_its_edits_read_back():
    targets = targets_for("4742")
    shown = targets_view(targets)
    assert shown.columns == ["Metric", "Target", "Better", "Where", "Scale", "Seed wording",
                             "Seed file"]
    rows = {r["Metric"]: r for r in shown.to_dicts()}
    assert rows["CES for service/support (1–5)"]["Where"] == "the stage with the support role"
    assert rows["Time to resolution, complex issues"]["Where"] == "complexity: complex"
    assert rows["Net Promoter Score"]["Scale"] == "–"
    assert rows["Net Promoter Score"]["Where"] == "all"
    assert not any(v is None or v.startswith("{") for r in shown.rows() for v in r)

    editable = targets_view(targets, editable=True)
    assert editable.columns == ["Metric", "Target", "low", "high", "enabled", "Better", "Where",
                                "Scale", "Seed wording", "Seed file"]
    edits = editable.to_dicts()
    edits[1]["low"], edits[0]["enabled"] = 0.06, False
    changed = apply_edits(targets, edits)
    assert changed[1].low == 0.06 and not changed[0].enabled


def test_problems_codes_and_proposal():
    got = problems_table([
        {"code": "bad-date", "row": 1234, "column": "Datum", "value": "31.02.",
         "message": "Not a date.", "severity": "error"},
        {"code": "nul-byte", "row": None, "column": None, "value": None,
         "message": "NUL removed.", "severity": "warning"}])
    assert got.columns == ["Code", "Row", "Column", "Value", "Problem", "Severity"]
    assert got.rows() == [("bad-date", "1,234", "Datum", "31.02.", "Not a date.", "error"),
                          ("nul-byte", "–", "–", "–", "NUL removed.", "warning")]
    assert problems_table([]).height == 0
    assert codes_table({"bad-date": "Not a date."}).columns == ["Code", "Meaning"]
    p = pl.DataFrame({"order": [1, 2], "stage": ["Browse", "Kauf"], "role": [None, "purchase"],
                      "share_of_customers": [0.98765, None], "median_position": [1.0, 2.25]},
                     schema={"order": pl.Int64, "stage": pl.String, "role": pl.String,
                             "share_of_customers": pl.Float64, "median_position": pl.Float64})
    assert proposal_view(p).rows() == [("1", "Browse", "–", "98.8%", "1.0"),
                                       ("2", "Kauf", "purchase", "–", "2.2")]
