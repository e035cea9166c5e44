"""Tables as a person reads them (issue 13 §2): labelled columns, and cells as text in each
figure's unit (percentages with one decimal and their interval, counts with thousands
separators, NPS as a whole number, "–" for nothing). Each table is a small declarative spec of
:class:`Column`\\ s read by :func:`readable`; the numeric frames the analytics return stay as
they are (charts, exports and tests read those).

Public names: ``Column``, ``readable``, ``cell``, ``cut_title``, ``by_text``, ``moves_table``,
``matrix_table``, ``satisfaction_view``, ``phrases_table``, ``cut_metrics_table``,
``change_text``, ``changes_table``, ``targets_view``, ``problems_table``, ``codes_table``,
``proposal_view``, ``role_label``, ``gaps_view``, ``GAPS_HELP``, ``targets_edited``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from cjm_core.industries.targets import (
    Gap,
    Target,
    apply_edits,
    cut_text,
    gaps_table,
    target_text,
)
from cjm_core.metric import (
    CATALOGUE,
    LOW_SAMPLE_N,
    format_duration,
    format_interval,
    info,
    label,
)

__all__ = [
    "DASH",
    "GAPS_HELP",
    "Column",
    "by_text",
    "cell",
    "change_text",
    "changes_table",
    "codes_table",
    "cut_metrics_table",
    "cut_title",
    "gaps_view",
    "matrix_table",
    "moves_table",
    "phrases_table",
    "problems_table",
    "proposal_view",
    "readable",
    "role_label",
    "satisfaction_view",
    "targets_edited",
    "targets_view",
]

#: what an empty cell shows
DASH = "–"

#: a cut's column title
CUT_TITLES = {"touchpoint": "Touchpoint", "stage": "Stage", "channel": "Channel",
              "period": "Month", "complexity": "Case complexity", "segment": "Segment",
              "source": "Source", "step": "Step", "region": "Region"}


@dataclass(frozen=True)
class Column:
    """One shown column: its ``title``, the ``source`` column it reads, and how a cell reads:
    ``unit`` is "text", "count" (thousands separators), "decimal" (one decimal), "flag"
    (yes / no), "seconds" (a duration, "1 d 4 h") or a metric unit ("rate", "nps", "score",
    "hours", "money", "per_customer", "relative_change"); ``low`` and ``high`` name the
    interval's columns.

    >>> Column("CSAT", "csat", "rate", low="csat_low", high="csat_high").title
    'CSAT'
    """

    title: str
    source: str
    unit: str = "text"
    low: str | None = None
    high: str | None = None


def cell(value: Any, unit: str = "text") -> str:
    """One value as a table shows it (see :class:`Column` for the units).

    >>> [cell(v, u) for v, u in ((1234, "count"), (0.52337, "rate"), (True, "flag"),
    ...                          (None, "rate"), (90061, "seconds"), (37.5, "nps"))]
    ['1,234', '52.3%', 'yes', '–', '1 d 1 h', '38']
    """
    if value is None or (isinstance(value, float) and value != value):
        return DASH
    if unit == "text":
        return str(value)
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "decimal":
        return f"{value:.1f}"
    if unit == "flag":
        return "yes" if value else "no"
    if unit == "seconds":
        return format_duration(value)
    return format_interval(float(value), None, None, unit)


def readable(frame: pl.DataFrame, columns: Sequence[Column]) -> pl.DataFrame:
    """``frame`` as the ``columns`` show it: one text column per spec entry, in that order.

    >>> t = pl.DataFrame({"tp": ["Hotline", None], "csat": [0.002494, None],
    ...                   "lo": [0.0004403, None], "hi": [0.01399, None], "n": [1523, 0]})
    >>> readable(t, [Column("Touchpoint", "tp"), Column("CSAT", "csat", "rate", "lo", "hi"),
    ...              Column("Answers", "n", "count")]).rows()
    [('Hotline', '0.2% (0.0–1.4%)', '1,523'), ('–', '–', '0')]
    """
    data: dict[str, list[str]] = {}
    for c in columns:
        values = frame[c.source].to_list()
        if c.low is not None and c.high is not None:
            lows, highs = frame[c.low].to_list(), frame[c.high].to_list()
            data[c.title] = [format_interval(v, lo, hi, c.unit)
                             for v, lo, hi in zip(values, lows, highs, strict=True)]
        else:
            data[c.title] = [cell(v, c.unit) for v in values]
    return pl.DataFrame(data, schema=dict.fromkeys(data, pl.String))


def cut_title(cut: str) -> str:
    """A cut's column title.

    >>> cut_title("touchpoint"), cut_title("loyalty_tier")
    ('Touchpoint', 'Loyalty tier')
    """
    return CUT_TITLES.get(cut) or cut.replace("_", " ").capitalize()


def by_text(by: str) -> str:
    """A period comparison's cut (``"touchpoint=Hotline; channel=web"``) as words, "all" for
    the whole.

    >>> by_text("touchpoint=Store counter"), by_text(""), by_text("source=support")
    ('Touchpoint: Store counter', 'all', 'Source: support')
    """
    if not by:
        return "all"
    parts = [p.partition("=") for p in by.split("; ")]
    return "; ".join(f"{cut_title(k)}: {v}" if sep else k for k, sep, v in parts)


# -- Channels --------------------------------------------------------------------------------


def moves_table(moves: pl.DataFrame) -> pl.DataFrame:
    """The Channels page's largest moves (:func:`cjm_core.analytics.channels.transitions`).

    >>> t = pl.DataFrame({"source": ["web"], "target": ["store"], "count": [2273],
    ...                   "share": [0.523371], "self_transition": [False]})
    >>> moves_table(t).row(0)
    ('web', 'store', '2,273', '52.3%', 'no')
    """
    return readable(moves, [
        Column("From", "source"), Column("To", "target"), Column("Moves", "count", "count"),
        Column("Share of the moves from there", "share", "rate"),
        Column("Repeat (same place again)", "self_transition", "flag"),
    ])


def matrix_table(matrix: pl.DataFrame) -> pl.DataFrame:
    """A transition matrix (:func:`cjm_core.analytics.channels.transition_matrix` of shares):
    "From", then one percentage column per place moved to.

    >>> m = pl.DataFrame({"source": ["store", "web"], "store": [0.5789, 0.2641],
    ...                   "web": [0.1985, 0.5234]})
    >>> matrix_table(m).rows()
    [('store', '57.9%', '19.9%'), ('web', '26.4%', '52.3%')]
    """
    return readable(matrix, [Column("From", "source"),
                             *(Column(c, c, "rate") for c in matrix.columns if c != "source")])


# -- Touchpoints -----------------------------------------------------------------------------


def satisfaction_view(table: pl.DataFrame, by: str, scores: Sequence[str]) -> pl.DataFrame:
    """A :func:`cjm_core.analytics.satisfaction.satisfaction_table` as the Touchpoints page
    shows it: the cut, answers, each score with its 95% interval and its n, and which scores
    have fewer than 30 answers.

    >>> t = pl.DataFrame({"touchpoint": ["Hotline"], "answers": [31], "csat": [0.8387],
    ...     "csat_low": [0.6737], "csat_high": [0.9291], "csat_n": [31],
    ...     "csat_low_sample": [False], "nps": [37.5], "nps_low": [7.36], "nps_high": [67.64],
    ...     "nps_n": [24], "nps_low_sample": [True]})
    >>> satisfaction_view(t, "touchpoint", ["csat", "nps"]).row(0, named=True)
    {'Touchpoint': 'Hotline', 'Answers': '31', 'CSAT (95% interval)': '83.9% (67.4–92.9%)', \
'CSAT answers': '31', 'NPS (95% interval)': '38 (7–68)', 'NPS answers': '24', \
'Fewer than 30 answers': 'NPS'}
    """
    columns = [Column(cut_title(by), by), Column("Answers", "answers", "count")]
    for s in scores:
        name = info(s).label
        columns += [Column(f"{name} (95% interval)", s, info(s).unit, f"{s}_low", f"{s}_high"),
                    Column(f"{name} answers", f"{s}_n", "count")]
    low = [[info(s).label for s, flag in zip(scores, flags, strict=True) if flag]
           for flags in table.select(f"{s}_low_sample" for s in scores).rows()]
    return readable(table, columns).with_columns(pl.Series(
        f"Fewer than {LOW_SAMPLE_N} answers", [", ".join(x) or DASH for x in low],
        dtype=pl.String))


def phrases_table(phrases: pl.DataFrame, by: str = "touchpoint") -> pl.DataFrame:
    """The negative phrases per touchpoint (:func:`cjm_core.analytics.comments.negative_phrases`).

    >>> p = pl.DataFrame({"touchpoint": ["Hotline"], "phrase": ["waited"], "count": [20],
    ...                   "comments": [44], "share": [0.4545], "rank": [1]})
    >>> phrases_table(p).row(0)
    ('Hotline', '1', 'waited', '20', '44', '45.5%')
    """
    return readable(phrases, [
        Column(cut_title(by), by), Column("#", "rank", "count"), Column("Phrase", "phrase"),
        Column("Negative comments with it", "count", "count"),
        Column("Negative comments there", "comments", "count"),
        Column("Share", "share", "rate"),
    ])


# -- Post-purchase ---------------------------------------------------------------------------


def cut_metrics_table(wide: pl.DataFrame, cut: str, names: Iterable[str],
                      n_columns: dict[str, str]) -> pl.DataFrame:
    """A :func:`cjm_core.present.charts_extra.wide_metrics` frame as the Post-purchase page
    shows it: the cut, each metric under its label in its unit, the n columns titled by
    ``n_columns`` and whether some n is below 30.

    >>> w = pl.DataFrame({"channel": ["chat"], "fcr": [0.758], "fcr_n": [62],
    ...     "resolution_hours_median": [1.44], "open_cases": [2.0], "low_sample": [False]})
    >>> cut_metrics_table(w, "channel", ["fcr", "resolution_hours_median", "open_cases"],
    ...                   {"fcr_n": "Resolved cases"}).row(0)
    ('chat', '75.8%', '1.4 h', '2', '62', 'no')
    """
    present = [n for n in names if n in wide.columns]
    return readable(wide, [
        Column(cut_title(cut), cut),
        *(Column(info(n).label, n, info(n).unit) for n in present),
        *(Column(title, c, "count") for c, title in n_columns.items() if c in wide.columns),
        Column(f"Low sample (some n < {LOW_SAMPLE_N})", "low_sample", "flag"),
    ])


def change_text(value: float | None, unit: str | None) -> str:
    """A signed change in the metric's unit: rates in percentage points, NPS whole.

    >>> [change_text(v, u) for v, u in ((0.013, "rate"), (6.37, "nps"), (-18.56, "money"),
    ...                                 (1.62, "hours"), (0.0, "count"), (None, "rate"))]
    ['+1.3 pp', '+6', '−18.56', '+1.6 h', '+0', '–']
    """
    if value is None or value != value:
        return DASH
    if unit == "rate":
        return f"{value * 100:+.1f} pp".replace("-", "−")
    text = cell(value, unit or "text")
    return text if text.startswith(("−", "+")) else "+" + text


def changes_table(change: pl.DataFrame) -> pl.DataFrame:
    """The period-over-period table (:func:`cjm_core.analytics.periods.change`) as a person
    reads it: the metric's label, the cut in words, now and before in the metric's unit, the
    change (rates in points) and the relative change as percentages, n with separators. Sorted
    by label, the whole before its cuts.

    >>> c = pl.DataFrame({"metric": ["nps", "fcr"], "by": ["channel=phone", ""],
    ...     "unit": ["nps", "rate"], "value_now": [34.9, 0.603], "value_before": [28.6, 0.59],
    ...     "abs_change": [6.3, 0.013], "rel_change": [0.2203, 0.022], "n_now": [730, 1305],
    ...     "n_before": [781, 239], "low_sample": [False, False]})
    >>> changes_table(c).rows()[1]
    ('NPS', 'Channel: phone', '35', '29', '+6', '+22.0%', '730', '781', 'no')
    """
    rows = sorted(change.iter_rows(named=True),
                  key=lambda r: (label(r["metric"]).casefold(), r["by"] != "", r["by"] or ""))
    data = {
        "Metric": [label(r["metric"]) for r in rows],
        "Cut": [by_text(r["by"] or "") for r in rows],
        "Now": [cell(r["value_now"], r["unit"] or "text") for r in rows],
        "Before": [cell(r["value_before"], r["unit"] or "text") for r in rows],
        "Change (rates in points)": [change_text(r["abs_change"], r["unit"]) for r in rows],
        "Relative change": [cell(r["rel_change"], "relative_change") for r in rows],
        "n now": [cell(r["n_now"], "count") for r in rows],
        "n before": [cell(r["n_before"], "count") for r in rows],
        f"Low sample (either n < {LOW_SAMPLE_N})": [cell(r["low_sample"], "flag") for r in rows],
    }
    return pl.DataFrame(data, schema=dict.fromkeys(data, pl.String))


# -- Benchmarks ------------------------------------------------------------------------------


def targets_view(targets: Sequence[Target], *, editable: bool = False) -> pl.DataFrame:
    """The Benchmarks page's targets in words: metric, target, which way is better, where it
    applies, scale, the seed's wording and file; with ``editable``, also the numeric ``low``,
    ``high`` and ``enabled`` columns that :func:`targets_edited` reads back, the thresholds in
    the unit the target is written in (percentages as numbers: 85 for 85%, −10 for −10%).

    >>> from cjm_core.industries.targets import targets_for
    >>> row = targets_view(targets_for("4742"))[2].row(0, named=True)
    >>> row["Where"], row["Target"], row["Scale"], row["Better"]
    ('the stage with the support role', '< 2 (1–5 scale)', '1–5', 'lower')
    >>> targets_view(targets_for("4742"), editable=True).select("Target", "low", "high").row(3)
    ('20% to 30%', 20.0, 30.0)
    """
    frame = pl.DataFrame({
        "Metric": [t.label for t in targets],
        "Target": [target_text(t) for t in targets],
        "Better": [t.better for t in targets],
        "Where": [cut_text(t.cut) for t in targets],
        "Scale": [t.scale.replace("-", "–") if t.scale else DASH for t in targets],
        "Seed wording": [t.wording or DASH for t in targets],
        "Seed file": [t.source or DASH for t in targets],
    }, schema=dict.fromkeys(("Metric", "Target", "Better", "Where", "Scale", "Seed wording",
                             "Seed file"), pl.String))
    if not editable:
        return frame
    # the inputs beside the target they change, before the long seed texts
    return frame.with_columns(
        pl.Series("low", [_shown(t.low, t) for t in targets], dtype=pl.Float64),
        pl.Series("high", [_shown(t.high, t) for t in targets], dtype=pl.Float64),
        pl.Series("enabled", [t.enabled for t in targets], dtype=pl.Boolean),
    ).select("Metric", "Target", "low", "high", "enabled", "Better", "Where", "Scale",
             "Seed wording", "Seed file")


def _per_cent(target: Target) -> bool:
    """Whether a target's thresholds read as percentages (rates and relative changes)."""
    return target.relative or target.unit == "rate"


def _shown(value: float | None, target: Target) -> float | None:
    if value is None or not _per_cent(target):
        return value
    return round(value * 100, 10)  # 0.05 × 100 is 5.000000000000001


def targets_edited(targets: Sequence[Target], rows: Sequence[dict]) -> list[Target]:
    """The targets with the edits of :func:`targets_view`'s editable rows (percentages as
    numbers) applied and checked by :func:`cjm_core.industries.targets.apply_edits`.

    >>> from cjm_core.industries.targets import targets_for
    >>> t = targets_for("4742")
    >>> rows = targets_view(t, editable=True).to_dicts()
    >>> rows[3].update(low=40, high=50)
    >>> [(x.low, x.high) for x in targets_edited(t, rows)][2:4]
    [(None, 2.0), (0.4, 0.5)]
    """
    read = []
    for t, row in zip(targets, rows, strict=False):
        if _per_cent(t):
            row = {**row, **{k: None if row.get(k) is None or row[k] != row[k]
                             else round(float(row[k]) / 100, 12) for k in ("low", "high")}}
        read.append(row)
    return apply_edits(list(targets), read + list(rows[len(read):]))


# -- Data ------------------------------------------------------------------------------------


def problems_table(problems: Sequence[dict]) -> pl.DataFrame:
    """A validation report's problems (``Problem.to_dict()``\\ s) with "–" where a problem has
    no row, column or value.

    >>> problems_table([{"code": "bad-date", "row": 12, "column": "Datum", "value": "31.02.",
    ...                  "message": "Not a date.", "severity": "error"},
    ...                 {"code": "nul-byte", "row": None, "column": None, "value": None,
    ...                  "message": "NUL removed.", "severity": "warning"}]).rows()[1]
    ('nul-byte', '–', '–', '–', 'NUL removed.', 'warning')
    """
    schema = {"code": pl.String, "row": pl.Int64, "column": pl.String, "value": pl.String,
              "message": pl.String, "severity": pl.String}
    frame = pl.DataFrame(list(problems), schema=schema)
    return readable(frame, [
        Column("Code", "code"), Column("Row", "row", "count"), Column("Column", "column"),
        Column("Value", "value"), Column("Problem", "message"), Column("Severity", "severity"),
    ])


def codes_table(codes: dict[str, str]) -> pl.DataFrame:
    """The problem codes and what they mean.

    >>> codes_table({"bad-date": "Not a date."}).rows()
    [('bad-date', 'Not a date.')]
    """
    return pl.DataFrame({"Code": list(codes), "Meaning": list(codes.values())},
                        schema={"Code": pl.String, "Meaning": pl.String})


def proposal_view(proposal: pl.DataFrame) -> pl.DataFrame:
    """The journey the data show (:func:`cjm_core.model.journey.proposal_table`) in words.

    >>> p = pl.DataFrame({"order": [1], "stage": ["Kauf"], "role": [None],
    ...     "share_of_customers": [0.4512], "median_position": [2.5]})
    >>> proposal_view(p).row(0)
    ('1', 'Kauf', '–', '45.1%', '2.5')
    """
    return readable(proposal, [
        Column("#", "order", "count"), Column("Stage", "stage"), Column("Role", "role"),
        Column("Share of customers", "share_of_customers", "rate"),
        Column("Typical position (1 = first)", "median_position", "decimal"),
    ])



def role_label(role: str, required: bool = False) -> str:
    """A column role as the Data page names it: a score by the catalogue's label, any other
    role in words; " *" marks a required one. The widgets keep the role's id as their key.

    >>> role_label("customer_id", required=True), role_label("csat"), role_label("opened_at")
    ('customer id *', 'CSAT', 'opened at')
    """
    known = CATALOGUE.get(role)
    words = known.label if known is not None and role in ("csat", "nps", "ces") \
        else role.replace("_", " ")
    return words + (" *" if required else "")


# -- Overview and Benchmarks -----------------------------------------------------------------

#: the gaps table's column titles, the one spelling the Overview, Benchmarks and the report use
GAPS_TITLES = {"target": "Metric", "cut": "Where", "value": "Value (95% interval)", "n": "n",
               "goal": "Target", "distance": "Distance", "status": "Status",
               "note": "Note (for no data: what is missing)"}

#: what a gaps column means, for a header's tooltip
GAPS_HELP = {
    "Distance": "in the metric's own unit, between rates in percentage points; negative = "
                "short of the target",
    "Status": "met; within the interval (the target lies inside the value's 95% interval); "
              "missed; no data (the note says which table or role is missing)",
}


def gaps_view(gaps: Sequence[Gap]) -> pl.DataFrame:
    """The scorecard's gaps (:func:`cjm_core.industries.targets.gaps_table`) under the titles
    every page and the report show (:data:`GAPS_TITLES`).

    >>> g = Gap("nps", "NPS", {}, 30.18, 26.65, 33.71, "≥ 30", 0.18, "met", None, "", n=1650,
    ...         unit="nps", band="good")
    >>> gaps_view([g]).row(0, named=True)["Value (95% interval)"]
    '30 (27–34)'
    >>> gaps_view([g]).columns[:3]
    ['Metric', 'Where', 'Value (95% interval)']
    """
    return gaps_table(list(gaps)).rename(GAPS_TITLES)
