"""Comment sentiment, negative phrases and worst comments: golden tables and the planted
low-CSAT touchpoint's comments in the sample data."""

from __future__ import annotations

import polars as pl
import pytest

import cjm_core.analytics.comments as comments
from cjm_core.analytics.comments import negative_phrases, polarity, sentiment, worst_comments
from cjm_core.demo.sample import PLANTED_FACTS, generate
from cjm_core.errors import CJMError


@pytest.mark.parametrize(("compound", "label"), [
    (-0.06, "negative"), (-0.05, "neutral"), (0.0, "neutral"), (0.05, "neutral"),
    (0.051, "positive"), (-1.0, "negative"),
])
def test_label_thresholds(monkeypatch, compound, label):
    monkeypatch.setattr(comments, "polarity", lambda text: compound)
    out = sentiment(pl.DataFrame({"comment": ["x"]}))
    assert out.row(0, named=True) == {"comment": "x", "compound": compound, "sentiment": label}


@pytest.mark.parametrize(("text", "label"), [
    ("Great advice, no pressure.", "positive"),
    ("Store was understaffed.", "negative"),  # service lexicon: VADER alone says 0
    ("Waited 40 minutes on the hotline.", "negative"),
    ("Problem solved in one call.", "positive"),  # VADER alone reads "problem" as negative
    ("Order confirmation came right away.", "neutral"),
])
def test_vader_with_service_lexicon(text, label):
    assert sentiment(pl.DataFrame({"comment": [text]}))["sentiment"][0] == label


def test_rows_kept_in_order_and_blank_comments_unscored():
    fb = pl.DataFrame({"id": [1, 2, 3, 4], "comment": ["Rude staff.", None, "  ", "Great!"]})
    out = sentiment(fb)
    assert out["id"].to_list() == [1, 2, 3, 4]
    assert out["sentiment"].to_list() == ["negative", None, None, "positive"]
    assert out["compound"][1] is None


def test_identical_comments_scored_once(monkeypatch):
    calls = []

    def fake(text):
        calls.append(text)
        return -0.5

    monkeypatch.setattr(comments, "polarity", fake)
    fb = pl.DataFrame({"comment": ["Slow.", "Fine.", " Slow.", "Slow."] * 250})
    out = sentiment(fb)
    assert sorted(calls) == ["Fine.", "Slow."]
    assert out.height == 1000


def test_polarity_is_cached():
    polarity.cache_clear()
    polarity("Long queue at the till.")
    polarity("Long queue at the till.")
    assert polarity.cache_info().hits == 1


NEGATIVE = pl.DataFrame({
    "touchpoint": ["A", "A", "A", "B", "B"],
    "comment": ["Waited on hold, line dropped.", "The line dropped again.", "Friendly staff.",
                "Website was confusing.", None],
})


def test_negative_phrases_golden():
    got = negative_phrases(NEGATIVE, top=5)
    assert got.columns == ["touchpoint", "phrase", "count", "comments", "share", "rank"]
    # A: "line" and "dropped" are left out (always inside "line dropped"), so are "waited" and
    # "hold"; phrases never start or end with a stop word nor run across a comma
    assert got.rows() == [
        ("A", "line dropped", 2, 2, 1.0, 1),
        ("A", "waited on hold", 1, 2, 0.5, 2),
        ("B", "website was confusing", 1, 1, 1.0, 1),
    ]
    assert negative_phrases(NEGATIVE, top=1)["phrase"].to_list() == [
        "line dropped", "website was confusing"]


def test_negative_phrases_overall_and_errors():
    overall = negative_phrases(NEGATIVE, by=None, top=2)
    assert overall.columns == ["phrase", "count", "comments", "share", "rank"]
    # ties: longer phrase first, then alphabetical
    assert overall["phrase"].to_list() == ["line dropped", "waited on hold"]
    with pytest.raises(CJMError):
        negative_phrases(NEGATIVE, by="channel")
    with pytest.raises(CJMError):
        negative_phrases(pl.DataFrame({"csat": [1]}))


def test_worst_comments_golden():
    fb = pl.DataFrame({
        "touchpoint": ["H"] * 6 + ["X"],
        "comment": ["Waited all day at home, installer never showed up.",
                    "Waited 40 minutes on the hotline.",  # same score as the one above
                    "Waited 40 minutes on the hotline.",
                    "Rude and unhelpful staff, terrible.",
                    "Great help!",
                    None,
                    "Horrible, awful, the worst."],
    })
    assert worst_comments(fb, "H", k=3) == [
        "Rude and unhelpful staff, terrible.",
        "Waited 40 minutes on the hotline.",  # tie broken alphabetically, duplicates once
        "Waited all day at home, installer never showed up.",
    ]
    assert worst_comments(fb, "H", k=1) == ["Rude and unhelpful staff, terrible."]
    assert "Great help!" not in worst_comments(fb, "H", k=10)
    assert worst_comments(fb, "H", k=10, negative_only=False)[-1] == "Great help!"
    assert worst_comments(fb, None, k=1) == ["Horrible, awful, the worst."]
    assert worst_comments(fb, "nowhere") == []


@pytest.mark.parametrize("isic", sorted(PLANTED_FACTS))
def test_planted_touchpoint_comments_are_negative(isic):
    fb = generate(isic, 3000, seed=0)["feedback"]
    tp = PLANTED_FACTS[isic]["low_csat_touchpoint"]
    worst = worst_comments(fb, tp, k=3)
    assert len(worst) == 3
    assert all(polarity(c) < comments.NEGATIVE_BELOW for c in worst)
    phrases = negative_phrases(fb).filter(pl.col("touchpoint") == tp)
    assert phrases.height == 5
    # every phrase comes from negative comments at that touchpoint
    scored = sentiment(fb.filter(pl.col("touchpoint") == tp))
    negative_text = " ".join(scored.filter(pl.col("sentiment") == "negative")["comment"]
                             .str.to_lowercase().to_list())
    assert all(p in negative_text for p in phrases["phrase"].to_list())
    # the planted touchpoint has a larger share of negative comments than the rest
    all_scored = sentiment(fb).drop_nulls("sentiment").with_columns(
        (pl.col("touchpoint") == tp).alias("planted"))
    shares = dict(all_scored.group_by("planted").agg(
        (pl.col("sentiment") == "negative").mean()).rows())
    assert shares[True] > shares[False]
