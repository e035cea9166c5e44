"""Free-text comments as evidence for pain points (DESIGN §5): a sentiment score per comment from
VADER (a lexicon model that ships inside the ``vaderSentiment`` package, nothing downloaded at run
time), the most frequent phrases of the negative comments per touchpoint, and the worst comments.

VADER's lexicon comes from social media and misses everyday service complaints ("waited",
"rescheduled", "understaffed" all score 0), so ``SERVICE_LEXICON`` adds a few retail-service
words on VADER's own −4…+4 valence scale. Identical comments are scored once."""

from __future__ import annotations

from functools import lru_cache

import polars as pl
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from cjm_core.errors import CJMError

__all__ = [
    "NEGATIVE_BELOW",
    "POSITIVE_ABOVE",
    "SERVICE_LEXICON",
    "STOP_WORDS",
    "negative_phrases",
    "polarity",
    "sentiment",
    "worst_comments",
]

#: a comment is negative when its compound score is below this, positive when above the other
NEGATIVE_BELOW = -0.05
POSITIVE_ABOVE = 0.05

#: service-feedback words VADER's general lexicon lacks or misjudges (valence −4…+4)
SERVICE_LEXICON: dict[str, float] = {
    "wait": -1.0, "waited": -1.2, "waiting": -1.0, "queue": -0.8, "queued": -0.8,
    "slow": -1.2, "slowly": -1.0, "rushed": -1.0, "understaffed": -1.5,
    "rescheduled": -1.2, "postponed": -1.0, "dropped": -1.0, "transferred": -0.6,
    "unhelpful": -1.8, "unreachable": -1.5, "overpriced": -1.5, "nobody": -1.0,
    "late": -1.0, "vanished": -1.2, "unavailable": -1.2, "solved": 2.0, "resolved": 1.8,
}

#: English function words left out of phrases; negations are kept ("never showed up")
STOP_WORDS: frozenset[str] = frozenset({
    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any",
    "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both",
    "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few",
    "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers",
    "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its",
    "itself", "just", "me", "more", "most", "my", "myself", "of", "off", "on", "once", "only",
    "or", "other", "our", "ours", "ourselves", "out", "over", "own", "same", "she", "should", "so",
    "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then",
    "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up",
    "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why",
    "will", "with", "would", "you", "your", "yours", "yourself", "yourselves", "i'm", "i've",
    "it's", "that's", "there's", "get", "got", "one", "really"
})

#: words, and the punctuation that ends a clause (a phrase never runs across it)
_TOKEN = r"[a-z0-9]+(?:'[a-z]+)?|[.,;:!?()\"]"
_BREAK = r"^[.,;:!?()\"]$"


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update(SERVICE_LEXICON)
    return analyzer


@lru_cache(maxsize=200_000)
def polarity(text: str) -> float:
    """VADER compound score of one text (−1…+1), with the service lexicon; cached.

    >>> polarity("Waited 40 minutes on the hotline.") < NEGATIVE_BELOW
    True
    """
    return float(_analyzer().polarity_scores(text)["compound"])


def _require_comments(feedback: pl.DataFrame | None) -> pl.DataFrame:
    if feedback is None or "comment" not in feedback.columns:
        raise CJMError("no comment column: map a comment role to read comments",
                       code="missing-role")
    return feedback


def sentiment(feedback: pl.DataFrame) -> pl.DataFrame:
    """The feedback rows with ``compound`` (VADER −1…+1) and ``sentiment`` ("negative" below
    −0.05, "positive" above 0.05, else "neutral") added; both null where there is no comment.

    Row order is kept. Each distinct comment is scored once.

    >>> fb = pl.DataFrame({"comment": ["Great advice, no pressure.", None,
    ...                                "Store was understaffed."]})
    >>> sentiment(fb)["sentiment"].to_list()
    ['positive', None, 'negative']
    """
    fb = _require_comments(feedback)
    key = pl.col("comment").cast(pl.String).str.strip_chars()
    keyed = fb.with_columns(key.alias("__key"))
    texts = (keyed.select(pl.col("__key").filter(pl.col("__key").str.len_chars() > 0)
                          .unique().sort()).to_series())
    scores = pl.DataFrame({"__key": texts,
                           "compound": pl.Series([polarity(t) for t in texts.to_list()],
                                                 dtype=pl.Float64)})
    out = keyed.join(scores, on="__key", how="left", maintain_order="left").drop("__key")
    label = (pl.when(pl.col("compound").is_null()).then(None)
             .when(pl.col("compound") < NEGATIVE_BELOW).then(pl.lit("negative"))
             .when(pl.col("compound") > POSITIVE_ABOVE).then(pl.lit("positive"))
             .otherwise(pl.lit("neutral")))
    return out.with_columns(label.alias("sentiment"))


def _ngrams(negative: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """One row per (comment row, distinct phrase): 1–3 consecutive words of one clause that
    neither start nor end with a stop word ("nobody called back", "confirm the installation")."""
    stop = list(STOP_WORDS)
    tokens = negative.select(
        *keys,
        pl.int_range(pl.len()).alias("__row"),
        pl.col("comment").cast(pl.String).str.to_lowercase().str.extract_all(_TOKEN)
        .alias("word"),
    ).with_columns(pl.int_ranges(0, pl.col("word").list.len()).alias("pos"))
    words = (tokens.explode(["word", "pos"]).drop_nulls("word")
             .with_columns(pl.col("word").str.contains(_BREAK).alias("break"))
             .with_columns((pl.col("word").is_in(stop) | pl.col("break")).alias("stop")))
    nxt = words.select("__row", (pl.col("pos") - 1).alias("pos"), pl.col("word").alias("w2"),
                       pl.col("stop").alias("s2"), pl.col("break").alias("b2"))
    nxt2 = words.select("__row", (pl.col("pos") - 2).alias("pos"), pl.col("word").alias("w3"),
                        pl.col("stop").alias("s3"))
    grams = (words.join(nxt, on=["__row", "pos"], how="left")
             .join(nxt2, on=["__row", "pos"], how="left"))
    content = ~pl.col("stop")
    unigram = pl.when(content).then(pl.col("word"))
    bigram = pl.when(content & (pl.col("s2") == False)).then(  # noqa: E712 - null stays null
        pl.concat_str("word", "w2", separator=" "))
    trigram = pl.when(content & (pl.col("s3") == False) & ~pl.col("b2")).then(  # noqa: E712
        pl.concat_str("word", "w2", "w3", separator=" "))
    return (grams.select(*keys, "__row", pl.concat_list(unigram, bigram, trigram).alias("phrase"))
            .explode("phrase").drop_nulls("phrase").unique([*keys, "__row", "phrase"]))


def _drop_contained(counts: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Leave out a phrase when a longer phrase containing it has the same count (it adds
    nothing: "dropped" when every such comment says "line dropped")."""
    parts = pl.col("phrase").str.split(" ")
    p0, p1, p2 = parts.list.get(0, null_on_oob=True), parts.list.get(1, null_on_oob=True), \
        parts.list.get(2, null_on_oob=True)
    n = parts.list.len()
    subs = (pl.when(n == 2).then(pl.concat_list(p0, p1))
            .when(n == 3).then(pl.concat_list(p0, p1, p2, pl.concat_str(p0, p1, separator=" "),
                                              pl.concat_str(p1, p2, separator=" "))))
    covered = (counts.select(*keys, subs.alias("phrase"), "count")
               .filter(pl.col("phrase").is_not_null()).explode("phrase").unique())
    return counts.join(covered, on=[*keys, "phrase", "count"], how="anti")


def negative_phrases(feedback: pl.DataFrame, by: str | None = "touchpoint", top: int = 5
                     ) -> pl.DataFrame:
    """The most frequent phrases of the negative comments, per value of ``by`` (None: over all
    comments). A phrase is 1–3 consecutive words that neither start nor end with a stop word.

    Columns: by, phrase, count (negative comments containing it), comments (negative comments
    in the group), share (count / comments), rank (1 = most frequent; ties: longer phrase
    first, then alphabetical). A phrase is left out when a longer one containing it has the
    same count. Sorted by group and rank.

    >>> fb = pl.DataFrame({"touchpoint": ["Hotline"] * 3,
    ...                    "comment": ["Waited on hold, line dropped.", "The line dropped again.",
    ...                                "Friendly staff."]})
    >>> negative_phrases(fb, top=2).select("phrase", "count").rows()
    [('line dropped', 2), ('waited on hold', 1)]
    """
    keys = [by] if by else []
    fb = _require_comments(feedback)
    if by and by not in fb.columns:
        raise CJMError(f"cannot group comments by {by}: the table has no such column",
                       code="missing-role")
    scored = sentiment(fb.select(*keys, "comment").drop_nulls([*keys, "comment"]))
    negative = scored.filter(pl.col("sentiment") == "negative").with_columns(
        pl.col(k).cast(pl.String) for k in keys)
    totals = (negative.group_by(keys).agg(pl.len().cast(pl.Int64).alias("comments"))
              if keys else negative.select(pl.len().cast(pl.Int64).alias("comments")))
    grams = _ngrams(negative, keys)
    counts = (grams.group_by([*keys, "phrase"]).agg(pl.len().cast(pl.Int64).alias("count")))
    counts = _drop_contained(counts, keys)
    counts = (counts.join(totals, on=keys, how="left") if keys
              else counts.with_columns(pl.lit(totals.item(0, 0)).alias("comments")))
    ordered = counts.with_columns(
        (pl.col("count") / pl.col("comments")).alias("share"),
        pl.col("phrase").str.count_matches(" ").alias("__len"),
    ).sort([*keys, "count", "__len", "phrase"],
           descending=[False] * len(keys) + [True, True, False])
    ranked = ordered.with_row_index("__i").with_columns(
        (pl.col("__i").rank("ordinal").over(keys) if keys else pl.col("__i").rank("ordinal"))
        .cast(pl.Int64).alias("rank"))
    return (ranked.filter(pl.col("rank") <= top)
            .select(*keys, "phrase", "count", "comments", "share", "rank")
            .sort([*keys, "rank"]))


def worst_comments(feedback: pl.DataFrame, touchpoint: str | None, k: int = 3,
                   negative_only: bool = True) -> list[str]:
    """The ``k`` distinct comments with the lowest sentiment at a touchpoint (None: anywhere),
    ties broken alphabetically; only negative ones unless ``negative_only`` is False.

    >>> fb = pl.DataFrame({"touchpoint": ["Hotline"] * 3,
    ...                    "comment": ["Rude and slow.", "Great help!", "Waited forever."]})
    >>> worst_comments(fb, "Hotline")
    ['Rude and slow.', 'Waited forever.']
    """
    fb = _require_comments(feedback)
    if touchpoint is not None:
        if "touchpoint" not in fb.columns:
            raise CJMError("no touchpoint column: map a touchpoint role to pick comments",
                           code="missing-role")
        fb = fb.filter(pl.col("touchpoint").cast(pl.String) == touchpoint)
    scored = sentiment(fb.select("comment")).drop_nulls("compound").with_columns(
        pl.col("comment").cast(pl.String).str.strip_chars())
    if negative_only:
        scored = scored.filter(pl.col("sentiment") == "negative")
    worst = (scored.group_by("comment").agg(pl.col("compound").min())
             .sort(["compound", "comment"]).head(k))
    return worst.get_column("comment").to_list()
