"""One template per kind of finding (issue 13 §2): the exact sentence of each kind on a small
hand-checked input, the map's lead-in followed by its figure, and that the friction summaries, the
journey map and the report state their findings through these templates."""

from __future__ import annotations

import polars as pl
import pytest

from cjm_core.analytics.friction import friction_points
from cjm_core.metric import Metric, format_value
from cjm_core.present.findings import KINDS, TEMPLATES, label, sentence, status_text

#: kind -> (facts, the sentence, the map's lead-in + " " + its figure, the figure's unit)
EXAMPLES = {
    "step_dropoff": (
        {"step": "Demo → Buy", "lost": 1531, "n": 2000, "dropoff": 0.7655, "low": 0.7463,
         "high": 0.7837, "median": 0.25},
        "Demo → Buy: 1,531 of 2,000 customers lost, a drop-off of 76.5% (95% interval "
        "74.6–78.4%); the other steps' median drop-off is 25.0%.",
        "Demo → Buy: 1,531 of 2,000 customers lost, a drop-off of 76.5%", "rate"),
    "touchpoint_csat": (
        {"touchpoint": "App checkout", "csat": 0.828, "low": 0.776, "high": 0.870, "n": 250,
         "target": 0.85, "below": 43},
        "App checkout: CSAT 82.8% (95% interval 77.6–87.0%, n = 250), short of the 85.0% "
        "target; 43 of 250 answers not in the top boxes.",
        "App checkout: CSAT below the 85.0% target, at 82.8%", "rate"),
    "worst_comment": (
        {"comment": "Waited 40 minutes on the hotline", "where": "Support"},
        "At Support: “Waited 40 minutes on the hotline”",
        "“Waited 40 minutes on the hotline”", None),
    "target_gap": (
        {"label": "Net Promoter Score", "value": 24.6, "unit": "nps", "target": "≥ 30",
         "status": "within"},
        "Net Promoter Score: 25 against the target ≥ 30: ≈ within reach (the 95% interval "
        "reaches it).",
        "Net Promoter Score: 24.6", "nps"),
}


def test_every_kind_has_a_template_and_an_example():
    assert set(EXAMPLES) == set(KINDS) == set(TEMPLATES)
    for kind, t in TEMPLATES.items():
        assert t.sentence and t.label, kind
        assert set(EXAMPLES[kind][0]) == set(t.facts), kind


@pytest.mark.parametrize("kind", KINDS)
def test_the_sentence_of_each_kind(kind):
    facts, want, _, _ = EXAMPLES[kind]
    assert sentence(kind, **facts) == want


@pytest.mark.parametrize("kind", KINDS)
def test_the_maps_lead_in_reads_as_one_sentence_with_its_figure(kind):
    # the map draws an item's text, then its measured figure (format_value): they must read on
    facts, _, want, unit = EXAMPLES[kind]
    figure = {"step_dropoff": facts.get("dropoff"), "touchpoint_csat": facts.get("csat"),
              "target_gap": facts.get("value")}.get(kind)
    shown = label(kind, **facts) + (f" {format_value(figure, unit)}" if unit else "")
    assert shown == want


def test_relative_changes_and_missing_values_read_as_words():
    assert sentence("target_gap", label="Cart abandonment", value=-0.0713,
                    unit="relative_change", target="≤ −10% vs the previous period",
                    status="missed") == ("Cart abandonment: a change of −7.1% against the "
                                         "target ≤ −10% vs the previous period: ✗ missed.")
    assert sentence("target_gap", label="FCR", value=None, target="≥ 80%",
                    status="no data") == "FCR: no data against the target ≥ 80%: – no data."
    # no interval: the n alone
    assert sentence("touchpoint_csat", touchpoint="Till", csat=0.5, n=2, target=0.85,
                    below=1) == ("Till: CSAT 50.0% (n = 2), short of the 85.0% target; 1 of 2 "
                                 "answers not in the top boxes.")
    assert status_text("met") == "✓ met"


def test_an_unknown_kind_is_named():
    with pytest.raises(KeyError, match="known: step_dropoff"):
        sentence("nothing", name="x")


def test_friction_summaries_are_the_templates_sentences():
    table = pl.DataFrame({"step_index": [1, 2, 3], "step": ["A", "B", "C"],
                          "reached": [100, 80, 20], "dropoff": [None, 0.2, 0.75],
                          "lost": [None, 20, 60], "n": [100, 100, 80]})
    cs = [Metric("csat", 0.5, 40, 0.35, 0.65, by={"touchpoint": "Hotline"})]
    step, tp = friction_points(table, cs)
    e = step.evidence
    assert step.summary == sentence("step_dropoff", step="B → C", lost=60, n=80, dropoff=0.75,
                                    low=e["dropoff_low"], high=e["dropoff_high"], median=0.2)
    assert tp.summary == ("Hotline: CSAT 50.0% (95% interval 35.0–65.0%, n = 40), short of the "
                          "85.0% target; 20 of 40 answers not in the top boxes.")
