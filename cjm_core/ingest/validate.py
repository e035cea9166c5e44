"""From a raw text table and a role mapping to a typed table, with every rejected row accounted for.

Rows in = rows loaded + rows rejected, always. A row is rejected when a *required* value is
unusable (empty, or a date or number that cannot be read), when the reader already found the row
broken (too many or too few cells), or when every score a feedback row gives is bad. A bad value in
an *optional* role (a score, amount, count, comment, optional date or yes/no) costs that cell only:
it is blanked, reported with its code, row, column and raw value, and counted in
``cells_blanked``; the row stays.

Score scales come from, in order: the user's choice, a scale written in the header ("CSAT (1-5)",
"von 10", "/7"), the standard scale holding the bulk of the answers; never the largest value.

Table-level failures (a required role unmapped, a mapped column missing) load nothing; a date column
whose day/month order cannot be told from the data, or a score column whose scale the answers do not
settle, loads nothing until the user answers (``status == "needs_answer"``, one question and one
problem per column, no per-row noise).

Everything is vectorised: per role one typed column and one column of problem codes; Problem
objects with messages are built only for the first ``max_listed`` problems.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from cjm_core.errors import QueryError
from cjm_core.ingest.dates import DateFormat, _parse_stripped, _sniff, describe_format
from cjm_core.ingest.problems import Problem
from cjm_core.ingest.typed import as_text, as_text_expr, keeps_type, takes_typed, text_frame
from cjm_core.model.schema import (
    FEEDBACK_SCORES,
    ROW,
    TABLES,
    Role,
    roles_of,
    scale_column,
)
from cjm_core.parallel import pmap, threads

if TYPE_CHECKING:
    from cjm_core.ingest.read import RawTable

Status = Literal["loaded", "partial", "failed", "needs_answer"]

_TRUE = ("yes", "y", "true", "t", "1", "1.0", "ja", "j", "wahr", "oui", "vrai", "si", "sí",
         "verdadero", "x")
_FALSE = ("no", "n", "false", "f", "0", "0.0", "nein", "falsch", "non", "faux", "falso")
_BOOL_MAP = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}

# currency signs and codes, spaces (incl. NBSP / narrow NBSP), apostrophe thousands, percent
_NUMBER_NOISE = r"[\s'’`€$£%]|(?i:chf|eur|usd|gbp|sfr\.?|fr\.)"
_COMMA_EVIDENCE = r",\d{1,2}$|,\d{4,}$|\.\d{3},\d*$|\d\.\d{3}\.\d{3}|^[+-]?0,\d+$|^[+-]?,\d+$"
_POINT_EVIDENCE = (
    r"\.\d{1,2}$|\.\d{4,}$|,\d{3}\.\d*$|\d,\d{3},\d{3}|^[+-]?0\.\d+$|^[+-]?\.\d+$|\d[eE][+-]?\d"
)
_COMMA_VALID = r"^[+-]?(\d+|\d{1,3}(\.\d{3})+)?(,\d*)?$"
_POINT_VALID = r"^[+-]?(\d+|\d{1,3}(,\d{3})+)?(\.\d*)?([eE][+-]?\d+)?$"

COMMA = "decimal comma"
POINT = "decimal point"


@dataclass
class Question:
    """Something only the user can settle, e.g. whether 03/04/2025 is 3 April or March 4."""

    code: str
    column: str
    message: str
    examples: list[str]
    options: list[str]
    #: the role the answer is for (a score column's scale), None for the table's date order
    role: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape used by ``inspect --json``."""
        return asdict(self)


@dataclass
class LoadResult:
    """A validated table: typed data, rejected raw rows with their codes, and the report."""

    table: str
    roles: dict[str, str]
    data: pl.DataFrame
    rejected: pl.DataFrame
    problems: list[Problem]
    problem_count: int
    rows_in: int
    rows_loaded: int
    rows_rejected: int
    status: Status
    date_formats: dict[str, str] = field(default_factory=dict)
    number_formats: dict[str, str] = field(default_factory=dict)
    #: score role -> highest point of the scale it was read on (5, 7, 10)
    scales: dict[str, int] = field(default_factory=dict)
    questions: list[Question] = field(default_factory=list)
    #: score role -> the scale, its low end and what decided it
    scale_details: dict[str, Scale] = field(default_factory=dict)
    #: bad values in optional roles of loaded rows, blanked (the row was kept)
    cells_blanked: int = 0
    #: problem code -> how many cells it blanked
    blanked_codes: dict[str, int] = field(default_factory=dict)

    def listed_note(self) -> str | None:
        """Said under the problem list when it is cut: a hostile or broken file can hold
        millions of problems, and only the first ``max_listed`` are kept (counts stay exact).

        >>> import polars as pl
        >>> p = [Problem("bad-date", "…")] * 1000
        >>> LoadResult("events", {}, pl.DataFrame(), pl.DataFrame(), p, 20_000_000, 0, 0, 0,
        ...            "failed").listed_note()
        'First 1,000 problems shown of 20,000,000.'
        """
        if self.problem_count <= len(self.problems):
            return None
        return f"First {len(self.problems):,} problems shown of {self.problem_count:,}."

    def summary(self) -> str:
        """One line for a status bar or the command line.

        >>> import polars as pl
        >>> r = LoadResult("orders", {}, pl.DataFrame(), pl.DataFrame(), [], 2, 10, 8, 2, "partial")
        >>> r.summary()
        'orders: 8 of 10 rows loaded, 2 rejected (2 problems) - partial'
        >>> r.cells_blanked = 3
        >>> r.summary()
        'orders: 8 of 10 rows loaded, 2 rejected, 3 cells blanked (2 problems) - partial'
        """
        if self.status == "needs_answer":
            return f"{self.table}: {self.rows_in} rows waiting for an answer - " + "; ".join(
                q.message for q in self.questions
            )
        noun = "problem" if self.problem_count == 1 else "problems"
        blanked = ""
        if self.cells_blanked:
            cells = "cell" if self.cells_blanked == 1 else "cells"
            blanked = f", {self.cells_blanked} {cells} blanked"
        return (
            f"{self.table}: {self.rows_loaded} of {self.rows_in} rows loaded, "
            f"{self.rows_rejected} rejected{blanked} ({self.problem_count} {noun}) - {self.status}"
        )


# ---------------------------------------------------------------------------------------------
# numbers


def _clean_number(text: pl.Series) -> pl.Series:
    """Text with currency, spaces, thousands apostrophes and % removed; '12,50-' -> '-12,50'."""
    if text.str.contains(r"[^\d.,+-]").any():
        text = text.str.replace_all(_NUMBER_NOISE, "")
    if text.str.ends_with("-").any():
        text = text.str.replace(r"^(\d[\d.,]*)-$", "-$1")
    return text


def sniff_decimal(values: pl.Series, delimiter: str | None = None) -> str:
    """Whether a column writes decimals with a comma or a point.

    Values that show it ("12,5", "1.234,50" vs "12.50", "1,234.50") are counted; when they do not
    settle it (only "1,234" or whole numbers), a ``;`` delimiter points to a decimal comma.

    >>> sniff_decimal(pl.Series(["1.234,50", "1.234"]))
    'decimal comma'
    >>> sniff_decimal(pl.Series(["1,234"])), sniff_decimal(pl.Series(["1,234"]), ";")
    ('decimal point', 'decimal comma')
    """
    text = values.cast(pl.String)
    head = _nonnull_head(text, _DECIMAL_SAMPLE)
    decided = _decimal_evidence(_clean_number(head.str.strip_chars()))
    if decided is None and len(head) == _DECIMAL_SAMPLE:  # the head did not settle it: all
        decided = _decimal_evidence(_clean_number(text.drop_nulls().str.strip_chars()))
    if decided is not None:
        return decided
    return COMMA if delimiter == ";" else POINT


def _nonnull_head(text: pl.Series, n: int) -> pl.Series:
    """The first ``n`` non-null values, looking at no more of a long column than needed."""
    k = n
    while True:
        part = text.slice(0, k).drop_nulls()
        if len(part) >= n or k >= len(text):
            return part.head(n)
        k *= 4


_DECIMAL_SAMPLE = 5000


def _decimal_evidence(text: pl.Series) -> str | None:
    n_comma = int(text.str.contains(_COMMA_EVIDENCE).sum())
    n_point = int(text.str.contains(_POINT_EVIDENCE).sum())
    if n_comma != n_point:
        return COMMA if n_comma > n_point else POINT
    return None


def parse_number(values: pl.Series, decimal: str) -> pl.Series:
    """Text -> Float64 under a decimal style; null where the text is not a number in that style.

    >>> parse_number(pl.Series(["1.234,50 €", "-3,00", "12.5", "CHF 1'200"]), "decimal comma")
    ... # doctest: +NORMALIZE_WHITESPACE
    shape: (4,)
    Series: '' [f64]
    [
        1234.5
        -3.0
        null
        1200.0
    ]
    """
    return _parse_number(values.cast(pl.String).str.strip_chars(), decimal).alias(values.name)


def _plain_numbers(text: pl.Series) -> pl.Series | None:
    """Float64 of a column whose every value polars reads as a finite number, else None.

    Such a value holds only digits, a sign, a point and an exponent: nothing the cleaning would
    remove, and :data:`_POINT_VALID` accepts it. So the cast alone gives what the full parse
    would, without its regular expressions (four passes over the column).
    """
    parsed = text.cast(pl.Float64, strict=False)
    if parsed.null_count() != text.null_count() or not parsed.is_finite().all():
        return None
    return parsed


def _has(text: pl.Series, part: str) -> bool:
    return bool(text.str.contains(part, literal=True).any())


def _parse_number(text: pl.Series, decimal: str) -> pl.Series:
    """:func:`parse_number` of already stripped text. Replacements that would change nothing
    (no thousands separator or decimal comma anywhere in the column) are skipped."""
    if decimal == POINT:
        plain = _plain_numbers(text)
        if plain is not None:
            return plain
    return _parse_number_slow(text, decimal)


def _parse_number_slow(text: pl.Series, decimal: str) -> pl.Series:
    """:func:`_parse_number` without the single-cast shortcut: clean, check, replace, cast."""
    text = _clean_number(text)
    if decimal == COMMA:
        ok = text.str.contains(_COMMA_VALID)
        num = text
        if _has(num, "."):
            num = num.str.replace_all(".", "", literal=True)
        if _has(num, ","):
            num = num.str.replace(",", ".", literal=True)
    else:
        ok = text.str.contains(_POINT_VALID)
        num = text.str.replace_all(",", "", literal=True) if _has(text, ",") else text
    parsed = num.cast(pl.Float64, strict=False)
    return pl.select(pl.when(ok).then(parsed)).to_series()


# ---------------------------------------------------------------------------------------------
# one role


@dataclass
class _Checked:
    """One mapped role: its typed values and a code per row (null where the value is fine)."""

    role: str
    column: str
    values: pl.Series
    codes: pl.Series
    #: code -> what the message says is wrong ("is not a number", "is outside 1–5 for csat")
    details: dict[str, str] = field(default_factory=dict)
    #: whether a bad value rejects the row (a required role) or only blanks the cell
    required: bool = False
    kind: str = ""


def _falses(n: int) -> pl.Series:
    """``n`` times False, built natively (a Python list of a million bools is slow)."""
    return pl.repeat(False, n, dtype=pl.Boolean, eager=True).alias("")


def _empty(text: pl.Series) -> pl.Series:
    """Empty cells of a column from :func:`_texts`, where an empty cell is always null."""
    return text.is_null()


def _codes(empty: pl.Series, bad: pl.Series, required: bool, code: str) -> pl.Series:
    """'missing-value' where a required value is empty, ``code`` where a given value is bad."""
    missing = empty & required
    bad = bad & ~empty
    if not (missing.any() or bad.any()):
        return _no_codes(len(empty))
    return (
        pl.select(
            pl.when(missing).then(pl.lit("missing-value"))
            .when(bad).then(pl.lit(code))
            .otherwise(pl.lit(None, dtype=pl.String))
        )
        .to_series()
    )


def _check_text(role: Role, column: str, text: pl.Series) -> _Checked:
    values = text.alias(role.name)
    if text.null_count() == 0 or not role.required:  # nothing missing that must be there
        return _Checked(role.name, column, values, _no_codes(len(text)))
    return _Checked(role.name, column, values,
                    _codes(_empty(text), _falses(len(text)), role.required, ""))


def _no_codes(n: int) -> pl.Series:
    return pl.repeat(None, n, dtype=pl.String, eager=True).alias("")


def _check_datetime(role: Role, column: str, text: pl.Series, fmt: DateFormat) -> _Checked:
    empty = _empty(text)
    if fmt.format is None:
        values = pl.repeat(None, len(text), dtype=pl.Datetime("us"), eager=True).alias(role.name)
    else:
        values = _parse_stripped(text, fmt.format).alias(role.name)
    detail = (f"is not a date in the format {describe_format(fmt.format)}" if fmt.format
              else "is not a date in any format this tool reads")
    if values.null_count() == text.null_count() and not (role.required and text.null_count()):
        codes = _no_codes(len(text))  # every value read, nothing required missing
    else:
        codes = _codes(empty, values.is_null(), role.required, "bad-date")
    return _Checked(role.name, column, values, codes, {"bad-date": detail})


def _check_number(
    role: Role, column: str, text: pl.Series, decimal: str, scale: Scale | None = None,
    values: pl.Series | None = None,
) -> _Checked:
    """A number, integer or score column; a score is checked against its ``scale``.
    ``values`` are the column already parsed under ``decimal`` (score columns are parsed once,
    to decide their scale)."""
    empty = _empty(text)
    if values is None:
        values = _parse_number(text, decimal)
    values = values.alias(role.name)
    bad_number = values.is_null()
    detail = f"is not a number (read with a {decimal})"
    if role.kind == "integer":
        not_whole = values.is_not_null() & (values != values.round(0))
        bad_number = bad_number | not_whole
        detail = "is not a whole number"
    low, high = (scale.low, scale.high) if scale is not None else (role.low, role.high)
    details = {"bad-number": detail, "out-of-range": f"is {_range_text(low, high)} for {role.name}"}
    if (role.kind == "number" and low is None and high is None
            and values.null_count() == text.null_count()
            and not (role.required and text.null_count())):
        # every value read, no range to keep, nothing required missing: no code to give
        return _Checked(role.name, column, values, _no_codes(len(values)), details)
    out = _falses(len(values)) if low is None else (values < low).fill_null(False)
    if high is not None:
        out = out | (values > high).fill_null(False)
    missing = empty & role.required
    bad_number = bad_number & ~empty
    out = out & ~empty
    if missing.any() or bad_number.any() or out.any():
        codes = pl.select(
            pl.when(missing).then(pl.lit("missing-value"))
            .when(bad_number).then(pl.lit("bad-number"))
            .when(out).then(pl.lit("out-of-range"))
            .otherwise(pl.lit(None, dtype=pl.String))
        ).to_series()
    else:
        codes = _no_codes(len(values))
    if role.kind == "integer":
        values = values.cast(pl.Int64, strict=False)
    return _Checked(role.name, column, values, codes, details)


def _typed_number(values: pl.Series) -> pl.Series:
    """Float64 of a typed number column, null where it is not finite (NaN or infinite: as
    their text, "NaN" or "inf", they would not read as numbers either)."""
    out = values.cast(pl.Float64)
    if out.dtype.is_float() and not out.is_finite().fill_null(True).all():
        out = pl.select(pl.when(pl.lit(out).is_finite()).then(pl.lit(out))).to_series()
    return out.alias(values.name)


def _check_typed(role: Role, column: str, values: pl.Series, scored: _Scored | None
                 ) -> _Checked:
    """A role on a column that already has the role's type (:func:`takes_typed`): checked by
    type, with the same result as its text would give. Time stamps are read as the wall time
    they show (a time zone is dropped, as writing them out drops it); dates are midnight."""
    if role.kind == "datetime":
        typed = values
        if isinstance(typed.dtype, pl.Datetime) and typed.dtype.time_zone is not None:
            typed = typed.dt.replace_time_zone(None)
        typed = typed.cast(pl.Datetime("us")).alias(role.name)
        return _check_text(role, column, typed)
    if role.kind == "boolean":
        return _check_text(role, column, values.alias(role.name))
    if scored is not None:
        return _check_number(role, column, values, POINT, scored.scale, scored.values)
    return _check_number(role, column, values, POINT, values=_typed_number(values))


# ---------------------------------------------------------------------------------------------
# score scales

#: the standard scales of each score (their highest point); NPS is 0–10 by definition
SCALES: dict[str, tuple[int, ...]] = {"csat": (5, 7, 10), "ces": (5, 7), "nps": (10,)}
#: answers outside the bulk's scale may be at most this share of the answers (stray values)
STRAY_SHARE = 0.05
#: when a smaller scale holds more than this share but not the bulk, the user is asked
UNSETTLED_SHARE = 0.5

_TO = r"(?:-|–|—|to|bis|a|à|al|tot)"
_HEADER_RANGE = re.compile(rf"(?<![\d.,])([01])\s*{_TO}\s*(\d{{1,2}})(?![\d.,])", re.IGNORECASE)
#: labelled ends: "1 = sehr schlecht … 5 = sehr gut", "1 (not at all) to 7 (completely)"
_HEADER_ENDS = re.compile(r"(?<![\d.,])([01])\s*[=(][^\d]*?(?<![\d.,])(\d{1,2})\s*[=(]")
_HEADER_TOP = re.compile(
    r"(?:/|(?<![^\W\d_])(?:von|of|out of|sur|de|su|van|auf|из)\s)\s*(\d{1,2})(?![\d.,])",
    re.IGNORECASE)

ScaleSource = Literal["your choice", "header", "answers", "fixed"]


@dataclass(frozen=True)
class Scale:
    """The scale a score column is read on (``low``–``high``) and what decided it."""

    column: str
    low: int
    high: int
    source: ScaleSource

    def text(self) -> str:
        """``'1–5'``."""
        return f"{self.low}–{self.high}"

    def describe(self) -> str:
        """What the Data page and ``inspect`` say, e.g. ``1–5 (from the header)``.

        >>> Scale("CSAT (1-5)", 1, 5, "header").describe()
        '1–5 (from the header)'
        """
        why = {"your choice": "your choice", "header": "from the header",
               "answers": "from the bulk of the answers", "fixed": "NPS is always 0–10"}
        return f"{self.text()} ({why[self.source]})"

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape used by ``inspect --json``."""
        return {**asdict(self), "scale": self.text()}


def header_scale(header: str, options: tuple[int, ...] = SCALES["csat"]
                 ) -> tuple[int | None, int] | None:
    """The scale a column header states, as (low or None, high), if it is one of ``options``.

    >>> [header_scale(h) for h in ("CSAT (1-5)", "Zufriedenheit (1 bis 5)", "Score /7",
    ...                            "Weiterempfehlung von 10", "Rating 0–10", "Umsatz 2021-10")]
    [(1, 5), (1, 5), (None, 7), (None, 10), (0, 10), None]
    >>> header_scale("Zufriedenheit (1 = sehr unzufrieden, 7 = sehr zufrieden)")
    (1, 7)
    >>> header_scale("Effort: 1 (very easy) to 5 (very hard)")
    (1, 5)
    """
    for pattern in (_HEADER_RANGE, _HEADER_ENDS):
        for match in pattern.finditer(header):
            if int(match.group(2)) in options:
                return int(match.group(1)), int(match.group(2))
    for match in _HEADER_TOP.finditer(header):
        if int(match.group(1)) in options:
            return None, int(match.group(1))
    return None


def _bulk_scale(values: pl.Series, low: int, options: tuple[int, ...]
                ) -> tuple[int, int | None, float]:
    """The smallest standard scale holding the bulk of the answers: all but at most
    :data:`STRAY_SHARE` of what the largest scale holds. Answers above it that carry on from its
    top without a gap (6, or 6 and 7; not 7s alone) are the next scale in use, not strays: a 1–7
    effort score rarely hears 6 or 7. Returns (scale, the smaller scale to ask about or None,
    the share above that smaller scale): when the next smaller scale still holds more than
    :data:`UNSETTLED_SHARE` of the answers but not the bulk, the values cannot settle it."""
    held = pl.select(
        pl.lit(values).is_not_null().sum().alias("n"),
        *[pl.lit(values).is_between(low, s).sum().alias(str(s)) for s in options],
    ).row(0, named=True)
    n = held["n"]
    if n == 0:
        return options[0], None, 0.0
    share = {s: held[str(s)] / n for s in options}
    top = share[options[-1]]
    pick = next(i for i, s in enumerate(options) if top - share[s] <= STRAY_SHARE)
    promoted = False
    while pick + 1 < len(options) and _carries_on(values, options[pick], options[pick + 1]):
        pick, promoted = pick + 1, True
    if not promoted and pick > 0 and share[options[pick - 1]] > UNSETTLED_SHARE:
        smaller = options[pick - 1]
        return options[pick], smaller, top - share[smaller]
    return options[pick], None, 0.0


def _carries_on(values: pl.Series, scale: int, larger: int) -> bool:
    """Whether the answers above ``scale`` (up to ``larger``) are the points right after it
    with no gap: 6, or 6 and 7, over 5."""
    points = values.filter((values > scale) & (values <= larger)).unique().to_list()
    return bool(points) and sorted(points) == [float(k) for k in
                                               range(scale + 1, scale + 1 + len(points))]


def decide_scale(role: Role, column: str, values: pl.Series, chosen: int | None = None
                 ) -> Scale | Question:
    """The scale of a score column, or the question to ask when nothing settles it.

    In order: the user's ``chosen`` scale, a scale written in the header, the standard scale
    holding the bulk of the answers. Never the largest value: stray 7s in a "(1-5)" column are
    out of range, not a 7-point scale.

    >>> csat = roles_of("feedback")["csat"]
    >>> decide_scale(csat, "CSAT (1-5)", pl.Series([1.0, 5, 4, 7])).describe()
    '1–5 (from the header)'
    >>> decide_scale(csat, "Rating", pl.Series([4.0] * 30 + [7])).describe()
    '1–5 (from the bulk of the answers)'
    >>> decide_scale(csat, "Rating", pl.Series([4.0] * 40 + [6, 7])).describe()
    '1–7 (from the bulk of the answers)'
    >>> decide_scale(csat, "Rating", pl.Series([4.0] * 20 + [7] * 10)).options
    ['5', '7']
    >>> decide_scale(csat, "Rating", pl.Series([4.0] * 20 + [7] * 10), chosen=7).describe()
    '1–7 (your choice)'
    """
    options = SCALES[role.name]
    if chosen is not None and chosen not in options:
        raise ValueError(f"{chosen} is not a scale for {role.name}; choose one of "
                         f"{', '.join(map(str, options))}")
    if role.name == "nps":
        return Scale(column, 0, 10, "fixed")
    stated = header_scale(column, options)
    low = int(role.low or 0)
    if stated is not None and stated[0] is not None:
        low = stated[0]
    if chosen is not None:
        return Scale(column, low, chosen, "your choice")
    if stated is not None:
        return Scale(column, low, stated[1], "header")
    high, smaller, above = _bulk_scale(values, low, options)
    if smaller is None:
        return Scale(column, low, high, "answers")
    above_values = values.filter(values > smaller).unique(maintain_order=True).head(5)
    examples = [f"{v:g}" for v in above_values.to_list()]
    message = (
        f"Column '{column}' ({role.name}) does not say its scale and its answers do not settle "
        f"it: {above:.0%} of them lie above {smaller} (e.g. {', '.join(examples)}). Is it a "
        f"{low}–{smaller} scale (answers above {smaller} are then out of range) or {low}–{high}?"
    )
    return Question("ambiguous-scale", column, message, examples, [str(smaller), str(high)],
                    role=role.name)


def _range_text(low: float | None, high: float | None) -> str:
    def num(x: float) -> str:
        return f"{x:g}"

    if low is not None and high is not None:
        return f"outside {num(low)}–{num(high)}"
    if low is not None:
        return f"below {num(low)}"
    return f"above {num(high)}" if high is not None else "out of range"


def _check_boolean(role: Role, column: str, text: pl.Series) -> _Checked:
    empty = _empty(text)
    values = text.str.to_lowercase().replace_strict(_BOOL_MAP, default=None,
                                                    return_dtype=pl.Boolean).alias(role.name)
    return _Checked(role.name, column, values,
                    _codes(empty, values.is_null(), role.required, "bad-boolean"),
                    {"bad-boolean": "is not yes/no (e.g. yes, no, ja, nein, oui, non, 1, 0)"})


# ---------------------------------------------------------------------------------------------
# the table


def _table_problems(
    raw: RawTable, table: str, roles: dict[str, str]
) -> list[Problem]:
    """missing-role and unknown-column problems; any of them means nothing can load."""
    columns = [c for c in raw.frame.columns if c != ROW]
    out = []
    for role, column in roles.items():
        if column not in columns:
            out.append(Problem(
                "unknown-column",
                f"The {role} role is mapped to column '{column}', which is not in the file "
                f"(columns: {', '.join(repr(c) for c in columns) or 'none'}).",
                column=column))
    schema = roles_of(table)
    for name, spec in schema.items():
        if spec.required and name not in roles:
            what = f" ({spec.help})" if spec.help else ""
            out.append(Problem("missing-role",
                               f"No column is assigned to the required role {name}{what}.",
                               value=name))
    if table == "feedback" and not any(r in roles for r in FEEDBACK_SCORES):
        out.append(Problem("missing-role",
                           "Feedback needs at least one score column: assign csat, nps or ces.",
                           value="csat/nps/ces"))
    return out


def _nothing_loaded(
    raw: RawTable, table: str, roles: dict[str, str], problems: list[Problem], max_listed: int,
    status: Status, table_problems: list[Problem], **extra: Any,
) -> LoadResult:
    frame = _with_row(raw)
    codes = ", ".join(dict.fromkeys(p.code for p in table_problems))
    rejected = text_frame(frame).with_columns(pl.lit(codes, dtype=pl.String).alias("problems"))
    return LoadResult(
        table=table, roles=dict(roles), data=pl.DataFrame(), rejected=rejected,
        problems=problems[:max_listed], problem_count=len(problems), rows_in=frame.height,
        rows_loaded=0,
        rows_rejected=frame.height, status=status, **extra,
    )


def _with_row(raw: RawTable) -> pl.DataFrame:
    frame = raw.frame
    if ROW not in frame.columns:
        frame = frame.with_row_index(ROW, offset=raw.header_row + 1).with_columns(
            pl.col(ROW).cast(pl.Int64))
    others = [c for c in frame.columns if c != ROW]
    return frame.select(
        pl.col(ROW).cast(pl.Int64),  # typed columns (Parquet, JSON) stay typed, the rest is text
        *[pl.col(c) if keeps_type(frame.schema[c]) else pl.col(c).cast(pl.String)
          for c in others],
    )


def load_table(
    raw: RawTable,
    table: str,
    roles: dict[str, str],
    *,
    date_order: Literal["dmy", "mdy"] | None = None,
    scales: dict[str, int] | None = None,
    max_listed: int = 1000,
) -> LoadResult:
    """Validate and type a raw table as ``table`` under a role -> column mapping.

    Role columns are renamed to their role and cast by kind; other columns are kept as text
    (breakdown dimensions). A bad value in a required role rejects its row; in an optional role
    it blanks that cell. ``date_order`` answers the day/month question when the dates cannot
    settle it; ``scales`` (score role -> 5, 7 or 10) is the user's choice of score scales.

    >>> from types import SimpleNamespace as Raw
    >>> frame = pl.DataFrame({"__row__": [2, 3], "Kunde": ["K1", "K2"],
    ...                       "Datum": ["01.03.2025", "31.02.2025"], "Betrag": ["12,50", "3"]})
    >>> raw = Raw(source="a.csv", sheet=None, frame=frame, header_row=1, problems=[],
    ...           delimiter=";")
    >>> r = load_table(raw, "orders", {"customer_id": "Kunde", "order_date": "Datum",
    ...                                 "amount": "Betrag"})
    >>> r.status, r.rows_loaded, r.rows_rejected, r.problems[0].message
    ('partial', 1, 1, "Row 3, column 'Datum': '31.02.2025' is not a date in the format dd.mm.yyyy")
    """
    if table not in TABLES:
        raise QueryError(f"Unknown table {table!r}; choose one of {', '.join(TABLES)}.",
                         code="unknown-table")
    schema = roles_of(table)
    roles = {r: c for r, c in roles.items() if c}
    unknown = [r for r in roles if r not in schema]
    if unknown:
        raise QueryError(f"The {table} table has no role {unknown[0]!r}; its roles are "
                         f"{', '.join(schema)}.", code="unknown-role")
    reader_notes = [p for p in raw.problems if p.row is None]
    table_problems = _table_problems(raw, table, roles)
    if table_problems:
        return _nothing_loaded(raw, table, roles, reader_notes + table_problems, max_listed,
                               "failed", table_problems)
    frame = _with_row(raw)
    texts = _texts(raw, frame, roles, schema)

    sniffed: dict[str, DateFormat] = {}
    for role, column in roles.items():
        if (schema[role].kind == "datetime" and column not in sniffed
                and texts[column].dtype == pl.String):  # a typed column needs no format
            sniffed[column] = _sniff(texts[column], date_order, confirm=False, stripped=True)
    scored, questions = _score_scales(raw, schema, roles, texts, scales or {})
    ambiguous = [c for c, f in sniffed.items() if f.ambiguous and f.format is None]
    if ambiguous:
        questions.insert(0, _date_question(ambiguous, sniffed))
    if questions:
        asked = [Problem(q.code, q.message, column=q.column) for q in questions]
        return _nothing_loaded(raw, table, roles, [*reader_notes, *asked], max_listed,
                               "needs_answer", asked, questions=questions)
    date_formats = {c: f.format for c, f in sniffed.items() if f.format is not None}

    checked, number_formats = _check_roles(raw, schema, roles, texts, sniffed, scored)
    details = {r: sc.scale for r, sc in scored.items()}
    # the scale travels with the data, so CSAT's top boxes and CES's range follow the scale
    # chosen here even when no answer reaches its top (satisfaction reads these columns)
    declared = [pl.repeat(sc.high, frame.height, dtype=pl.Int8, eager=True).alias(scale_column(r))
                for r, sc in details.items() if r != "nps"]
    return _assemble(raw, frame, table, roles, checked, reader_notes, max_listed,
                     declared=declared, date_formats=date_formats, number_formats=number_formats,
                     scales={r: sc.high for r, sc in details.items()}, scale_details=details)



@dataclass
class _Scored:
    """A score column parsed once: its decimal style, values and scale."""

    decimal: str
    values: pl.Series
    scale: Scale


def _score_scales(
    raw: RawTable,
    schema: dict[str, Role],
    roles: dict[str, str],
    texts: dict[str, pl.Series],
    chosen: dict[str, int],
) -> tuple[dict[str, _Scored], list[Question]]:
    """The scale of every mapped score role, and a question for each the values cannot settle."""
    scored: dict[str, _Scored] = {}
    questions: list[Question] = []
    for role_name, column in roles.items():
        role = schema[role_name]
        if role.kind != "score":
            continue
        text = texts[column]
        if text.dtype == pl.String:
            decimal = sniff_decimal(text, raw.delimiter)
            values = _parse_number(text, decimal)
        else:  # typed numbers: read as they are
            decimal, values = POINT, _typed_number(text)
        decided = decide_scale(role, column, values, chosen.get(role_name))
        if isinstance(decided, Question):
            questions.append(decided)
        else:
            scored[role_name] = _Scored(decimal, values, decided)
    return scored, questions


def _texts(raw: RawTable, frame: pl.DataFrame, roles: dict[str, str], schema: dict[str, Role]
           ) -> dict[str, pl.Series]:
    """The mapped columns, stripped, empty cells null. A frame straight from the reader is so
    already (the reader marks it), so stripping it again, the costliest step on a large file,
    is skipped. A typed column (Parquet, JSON) stays typed when every role mapped to it takes
    its type (:func:`cjm_core.ingest.typed.takes_typed`), else it is checked as its text."""
    columns = list(dict.fromkeys(roles.values()))
    out: dict[str, pl.Series] = {}
    for c in columns:
        dtype = frame.schema[c]
        if dtype != pl.String:
            typed = all(takes_typed(schema[r].kind, dtype) for r, col in roles.items() if col == c)
            out[c] = frame.get_column(c) if typed else as_text(frame.get_column(c))
    text = [c for c in columns if c not in out or out[c].dtype == pl.String]
    if getattr(raw, "normalised", None) is raw.frame:
        return {c: out.get(c, frame.get_column(c)) for c in columns}
    base = frame.select(out[c] if c in out else pl.col(c) for c in text)
    stripped = base.select(pl.col(c).str.strip_chars() for c in text)
    blanked = stripped.select(
        pl.when(pl.col(c).str.len_bytes() == 0).then(None).otherwise(pl.col(c)).alias(c)
        for c in text
    )
    return {c: out[c] if c not in text else blanked.get_column(c) for c in columns}


def _check_roles(
    raw: RawTable,
    schema: dict[str, Role],
    roles: dict[str, str],
    texts: dict[str, pl.Series],
    sniffed: dict[str, DateFormat],
    scored: dict[str, _Scored],
) -> tuple[list[_Checked], dict[str, str]]:
    def check(role_name: str, column: str) -> tuple[_Checked, str | None]:
        role, text = schema[role_name], texts[column]
        decimal = None
        if text.dtype != pl.String:  # a typed column this role takes as it is
            done = _check_typed(role, column, text, scored.get(role_name))
        elif role.kind == "datetime":
            done = _check_datetime(role, column, text, sniffed[column])
        elif role_name in scored:
            sc = scored[role_name]
            decimal = sc.decimal
            done = _check_number(role, column, text, decimal, sc.scale, sc.values)
        elif role.kind in _NUMBER_KINDS:
            decimal = sniff_decimal(text, raw.delimiter)
            done = _check_number(role, column, text, decimal)
        elif role.kind == "boolean":
            done = _check_boolean(role, column, text)
        else:
            done = _check_text(role, column, text)
        done.required, done.kind = role.required, role.kind
        return done, decimal

    # polars releases the GIL while it works, so the roles are checked side by side; dates,
    # the slowest to check, go first so that the other roles share the second core meanwhile
    items = list(roles.items())
    if len(items) > 1 and threads() > 1 and _frame_height(texts) >= _PARALLEL_MIN_ROWS:
        dates_first = sorted(items, key=lambda item: schema[item[0]].kind != "datetime")
        done = dict(zip(dates_first, pmap(lambda item: check(*item), dates_first), strict=True))
        results = [done[item] for item in items]
    else:
        results = [check(r, c) for r, c in items]
    checked = [c for c, _ in results]
    number_formats = {c: decimal for (_, c), (_, decimal) in zip(items, results, strict=True)
                      if decimal is not None}
    _check_durations(checked)
    return checked, number_formats


_NUMBER_KINDS = ("number", "integer", "score")
#: below this many rows a thread pool costs more than it saves
_PARALLEL_MIN_ROWS = 50_000


def _frame_height(texts: dict[str, pl.Series]) -> int:
    return max((len(t) for t in texts.values()), default=0)


def _check_durations(checked: list[_Checked]) -> None:
    """Mark resolved_at before opened_at as 'negative-duration' on the resolved_at column."""
    by_role = {c.role: c for c in checked}
    if "opened_at" not in by_role or "resolved_at" not in by_role:
        return
    opened, resolved = by_role["opened_at"], by_role["resolved_at"]
    negative = (resolved.values < opened.values).fill_null(False)
    resolved.codes = pl.select(
        pl.when(resolved.codes.is_null() & negative).then(pl.lit("negative-duration"))
        .otherwise(resolved.codes)
    ).to_series()
    resolved.details["negative-duration"] = (
        f"lies before the opening time in column '{opened.column}'")


def _date_question(columns: list[str], sniffed: dict[str, DateFormat]) -> Question:
    examples = [e for c in columns for e in sniffed[c].examples][:5]
    where = ", ".join(f"'{c}'" for c in columns)
    plural = "columns" if len(columns) > 1 else "column"
    message = (
        f"Every date in {plural} {where} fits both day-first and month-first "
        f"(e.g. {', '.join(examples[:3])}). Is the day first (dmy) or the month first (mdy)?"
    )
    return Question("ambiguous-date-order", ", ".join(columns), message, examples, ["dmy", "mdy"])


def _reader_rows(raw: RawTable) -> pl.DataFrame:
    """Row-level reader problems: (__row__, order, code, index into raw.problems, is_error)."""
    rows = [(p.row, i, p.code, p.severity == "error") for i, p in enumerate(raw.problems)
            if p.row is not None]
    return pl.DataFrame(
        rows, schema={ROW: pl.Int64, "__i__": pl.Int64, "code": pl.String, "error": pl.Boolean},
        orient="row",
    )


def _assemble(
    raw: RawTable,
    frame: pl.DataFrame,
    table: str,
    roles: dict[str, str],
    checked: list[_Checked],
    reader_notes: list[Problem],
    max_listed: int,
    declared: list[pl.Series] | None = None,
    **extra: Any,
) -> LoadResult:
    reader = _reader_rows(raw)
    mapped = set(roles.values())
    declared = declared or []
    role_names = {c.role for c in checked} | {d.name for d in declared}
    others = [  # kept as text, as from a text file
        as_text(frame.get_column(c)).alias(f"{c} (unmapped)" if c in role_names else c)
        for c in frame.columns if c != ROW and c not in mapped
    ]
    if reader.height == 0 and all(c.codes.null_count() == len(c.codes) for c in checked):
        # the common case, a clean file: no row to reject or list, no code columns to join
        typed = [c.values for c in checked] + declared
        data = pl.DataFrame(typed + others) if typed or others else pl.DataFrame()
        rejected = text_frame(frame.clear()).with_columns(
            pl.lit(None, dtype=pl.String).alias("problems"))
        return LoadResult(
            table=table, roles=dict(roles), data=data, rejected=rejected,
            problems=reader_notes[:max_listed], problem_count=len(reader_notes),
            rows_in=frame.height, rows_loaded=frame.height, rows_rejected=0,
            status="loaded" if frame.height else "failed", **extra,  # 0 rows is no success
        )
    row_codes, bad = _row_codes(frame, table, checked, reader)
    typed = [_blanked(c) for c in checked] + declared
    data = pl.DataFrame(typed + others).filter(~bad) if typed or others else pl.DataFrame()
    rejected = text_frame(frame.with_columns(row_codes.alias("problems")).filter(bad))
    blanked_codes = _blanked_codes(checked, bad)

    listed, total = _list_problems(frame, checked, reader, raw.problems, max_listed, bad)
    rows_in = frame.height
    rows_rejected = rejected.height
    rows_loaded = rows_in - rows_rejected
    cells_blanked = sum(blanked_codes.values())
    status: Status = ("loaded" if rows_rejected == 0 and cells_blanked == 0 else
                      "failed" if rows_loaded == 0 else "partial")
    problems = (reader_notes + listed)[:max_listed]
    return LoadResult(
        table=table, roles=dict(roles), data=data, rejected=rejected, problems=problems,
        problem_count=len(reader_notes) + total, rows_in=rows_in, rows_loaded=rows_loaded,
        rows_rejected=rows_rejected, status=status, cells_blanked=cells_blanked,
        blanked_codes=blanked_codes, **extra,
    )


def _row_codes(
    frame: pl.DataFrame, table: str, checked: list[_Checked], reader: pl.DataFrame
) -> tuple[pl.Series, pl.Series]:
    """Every code of each row joined (the rejected rows' ``problems``), and which rows are
    rejected: a reader error, a bad required value, or a feedback row whose every given score
    is bad (one bad score, the others empty or bad)."""
    reader_codes = (
        reader.filter(pl.col("error"))
        .group_by(ROW, maintain_order=True)
        .agg(pl.col("code").unique(maintain_order=True).str.join(", ").alias("__reader__"))
    )
    scores = [i for i, c in enumerate(checked) if c.kind == "score"] if table == "feedback" else []
    codes = frame.select(ROW).with_columns(
        *[c.codes.alias(f"__c{i}") for i, c in enumerate(checked)],
        *[checked[i].values.is_not_null().alias(f"__v{i}") for i in scores],
    )
    codes = codes.join(reader_codes, on=ROW, how="left", maintain_order="left")
    every = [pl.col("__reader__")] + [pl.col(f"__c{i}") for i in range(len(checked))]
    fatal = [pl.col("__reader__")] + [pl.col(f"__c{i}") for i, c in enumerate(checked)
                                      if c.required]
    if scores:
        some_bad = pl.any_horizontal(pl.col(f"__c{i}").is_not_null() for i in scores)
        some_good = pl.any_horizontal(pl.col(f"__v{i}") & pl.col(f"__c{i}").is_null()
                                      for i in scores)
        lost = some_bad & ~some_good
        fatal += [pl.when(lost).then(pl.col(f"__c{i}")) for i in scores]
    out = codes.select(
        pl.concat_str(every, separator=", ", ignore_nulls=True).alias("all"),
        (pl.concat_str(fatal, separator=", ", ignore_nulls=True) != "").alias("bad"),
    )
    return out.get_column("all"), out.get_column("bad")


def _blanked(c: _Checked) -> pl.Series:
    """The typed values of a role with its bad cells blanked (rows a required role rejects are
    dropped anyway, so only optional roles need it)."""
    if c.required or c.codes.null_count() == len(c.codes):
        return c.values
    return pl.select(pl.when(c.codes.is_null()).then(c.values)).to_series().alias(c.role)


def _blanked_codes(checked: list[_Checked], bad: pl.Series) -> dict[str, int]:
    """code -> cells of optional roles blanked in rows that were kept."""
    counts: dict[str, int] = {}
    for c in checked:
        if c.required or c.codes.null_count() == len(c.codes):
            continue
        kept = c.codes.filter(~bad).drop_nulls()
        for code, n in kept.value_counts().iter_rows():
            counts[code] = counts.get(code, 0) + n
    return counts


def _list_problems(
    frame: pl.DataFrame,
    checked: list[_Checked],
    reader: pl.DataFrame,
    reader_problems: list[Problem],
    max_listed: int,
    bad: pl.Series,
) -> tuple[list[Problem], int]:
    """The first ``max_listed`` row-level problems in row order, and how many there are."""
    parts = [reader.select(ROW, pl.lit(-1, dtype=pl.Int64).alias("__k__"), "__i__", "code",
                           pl.lit(None, dtype=pl.String).alias("value"),
                           pl.lit(False).alias("__blank__"))]
    for k, c in enumerate(checked):
        part = frame.select(ROW).with_columns(
            pl.lit(k, dtype=pl.Int64).alias("__k__"),
            pl.lit(None, dtype=pl.Int64).alias("__i__"),
            c.codes.alias("code"),
            frame.get_column(c.column).alias("value"),
            (~bad if not c.required else _falses(len(bad))).alias("__blank__"),
        ).filter(pl.col("code").is_not_null())
        parts.append(part.with_columns(as_text_expr("value", part.schema["value"])))
    long = pl.concat(parts)
    total = long.height
    head = long.sort([ROW, "__k__", "__i__"], nulls_last=True, maintain_order=True).head(
        max_listed)
    out = []
    for row, k, i, code, value, blank in head.iter_rows():
        if k < 0:
            out.append(reader_problems[i])
        else:
            out.append(_problem(code, int(row), checked[k], value, blank))
    return out, total


def _problem(code: str, row: int, c: _Checked, raw_value: str | None, blanked: bool = False
             ) -> Problem:
    """A row-level problem; a blanked cell (the row kept) is a warning that says so."""
    where = f"Row {row}, column '{c.column}'"
    if code == "missing-value":
        message = f"{where}: a value for {c.role} is required but the cell is empty"
    else:
        message = f"{where}: '{raw_value or ''}' {c.details.get(code, 'is not usable')}"
    if blanked:
        return Problem(code, message + BLANKED_NOTE, row=row, column=c.column, value=raw_value,
                       severity="warning")
    return Problem(code, message, row=row, column=c.column, value=raw_value)


#: said after the message of a bad value in an optional role whose row was loaded
BLANKED_NOTE = "; the cell was left empty and the rest of the row loaded"
