"""The gaps table as a person reads it (issue 13 §2): labels instead of metric ids, no raw JSON,
"–" instead of None, percentages with one decimal and their interval, NPS whole, n with
separators, distances between rates in points."""

from __future__ import annotations

import re

import pytest

from cjm_core.industries.targets import (
    Gap,
    cut_text,
    evaluate,
    gaps_table,
    note_text,
    targets_for,
)
from cjm_core.metric import Metric


def gap(**kw) -> Gap:
    base = dict(metric="csat", label="CSAT", by={}, value=None, low=None, high=None,
                target="≥ 85%", distance=None, status="no data", reason=None, source="")
    return Gap(**{**base, **kw})


@pytest.mark.parametrize("g, row", [
    (gap(value=0.002494, low=0.0004403, high=0.01399, distance=-0.847506, status="missed",
         n=1523),
     ("CSAT", "all", "0.2% (0.0–1.4%)", "1,523", "≥ 85%", "−84.8 pp", "✗ missed", "–")),
    (gap(metric="nps", label="Net Promoter Score", value=30.18, low=26.65, high=33.71,
         target="≥ 30 good, ≥ 50 excellent", distance=0.18, status="met", n=1650, unit="nps",
         kind="bands", band="good"),
     ("Net Promoter Score", "all", "30 (27–34)", "1,650", "≥ 30 good, ≥ 50 excellent", "+0",
      "✓ met", "band reached: good")),
    (gap(metric="cart_abandonment", label="Online cart abandonment", value=-0.07135,
         low=-0.2557, high=0.1587, target="≤ −10% vs the previous period", distance=-0.02865,
         status="within", n=382, kind="relative_change"),
     ("Online cart abandonment", "all", "−7.1% (−25.6% to +15.9%)", "382",
      "≤ −10% vs the previous period", "−2.9 pp", "≈ within the interval", "–")),
    (gap(metric="resolution_hours_median", label="Time to resolution, complex issues",
         by={"complexity": "complex"}, value=28.53, target="24 h to 48 h", distance=19.47,
         status="met", n=176, unit="hours", kind="by_complexity",
         detail="inside the target range"),
     ("Time to resolution, complex issues", "complexity: complex", "28.5 h", "176",
      "24 h to 48 h", "+19.5 h", "✓ met", "inside the target range")),
    (gap(metric="ces", label="CES", by={"stage_role": "support"}, target="< 2 (1–5 scale)",
         unit="score", reason="needs the journey's support stage role"),
     ("CES", "the stage with the support role", "–", "–", "< 2 (1–5 scale)", "–",
      "– no data", "needs the journey's support stage role")),
    (gap(metric="inquiry_consultation_dropoff", label="In-store inquiry→consultation drop-off",
         reason="no inquiry_consultation_dropoff value in the data", kind="relative_change"),
     ("In-store inquiry→consultation drop-off", "all", "–", "–", "≥ 85%", "–", "– no data",
      "no Inquiry → consultation drop-off value in the data")),
])
def test_gaps_table_rows(g, row):
    assert gaps_table([g]).row(0) == row


def test_cut_text():
    assert cut_text({}) == "all"
    assert cut_text({"touchpoint": "*"}) == "every touchpoint"
    assert cut_text({"stage_role": "purchase"}) == "the stage with the purchase role"
    assert cut_text({"touchpoint": "Store counter"}) == "touchpoint: Store counter"


def test_note_names_roles_in_words():
    g = gap(reason="needs a support table with first_contact_resolved or contacts")
    assert note_text(g) == "needs a support table with first contact resolved or contacts"


SNAKE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")


@pytest.mark.parametrize("isic", ["4773", "4741", "4742"])
def test_no_ids_json_or_none_in_any_industry_without_data(isic):
    """Every target of every industry judged on no data at all: each cell reads as words."""
    shown = gaps_table(evaluate(targets_for(isic), [], [], {}))
    assert shown.height == len(targets_for(isic))
    for row in shown.rows():
        for text in row:
            assert text and text != "None" and "{" not in text, row
            assert not SNAKE.search(text), row


def test_gaps_table_of_a_measured_nps():
    g = evaluate([t for t in targets_for("4741") if t.metric == "nps"],
                 [Metric("nps", 25.4, 4000, 18.2, 32.6, unit="nps")])
    assert gaps_table(g).row(0, named=True) == {
        "target": "Net Promoter Score", "cut": "all", "value": "25 (18–33)", "n": "4,000",
        "goal": "≥ 30", "distance": "−5", "status": "≈ within the interval", "note": "–"}
