"""From a raw text table and a role mapping to a typed table, with every rejected row accounted for.

Rows in = rows loaded + rows rejected, always. A row is rejected when any mapped value in it is
unusable: a required value is empty, a date, number or yes/no cannot be read, a score or count lies
outside its range, a case is resolved before it was opened, or the reader already found the row
broken (too many or too few cells). Bad values in *optional* roles reject the row too: a row is
either loaded as the user wrote it or listed with its reason, never loaded half-blank.

Table-level failures (a required role unmapped, a mapped column missing) load nothing; a date column
whose day/month order cannot be told from the data loads nothing until the user answers
(``status == "needs_answer"``, one question, one problem, no per-row noise).

Everything is vectorised: per role one typed column and one column of problem codes; Problem
objects with messages are built only for the first ``max_listed`` problems.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from cjm_core.dates import DateFormat, _parse_stripped, _sniff, describe_format
from cjm_core.problems import Problem
from cjm_core.schema import FEEDBACK_SCORES, TABLES, Role, roles_of

if TYPE_CHECKING:
    from cjm_core.readers import RawTable

ROW = "__row__"
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
    scales: dict[str, int] = field(default_factory=dict)
    questions: list[Question] = field(default_factory=list)

    def summary(self) -> str:
        """One line for a status bar or the command line.

        >>> import polars as pl
        >>> r = LoadResult("orders", {}, pl.DataFrame(), pl.DataFrame(), [], 2, 10, 8, 2, "partial")
        >>> r.summary()
        'orders: 8 of 10 rows loaded, 2 rejected (2 problems) - partial'
        """
        if self.status == "needs_answer":
            return f"{self.table}: {self.rows_in} rows waiting for an answer - " + "; ".join(
                q.message for q in self.questions
            )
        noun = "problem" if self.problem_count == 1 else "problems"
        return (
            f"{self.table}: {self.rows_loaded} of {self.rows_in} rows loaded, "
            f"{self.rows_rejected} rejected ({self.problem_count} {noun}) - {self.status}"
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


def _scale(role: Role, values: pl.Series) -> int | None:
    """Scale of a score column from its largest in-range value (csat 5/7/10, ces 5/7, nps 10)."""
    if role.name == "nps":
        return 10
    fine = values.filter((values >= (role.low or 0)) & (values <= (role.high or 10)))
    top = fine.max() if len(fine) else None
    steps = (5, 7, 10) if role.name == "csat" else (5, 7)
    if top is None:
        return steps[0]
    return next((s for s in steps if top <= s), steps[-1])


def _check_number(
    role: Role, column: str, text: pl.Series, decimal: str
) -> tuple[_Checked, int | None]:
    empty = _empty(text)
    values = _parse_number(text, decimal).alias(role.name)
    bad_number = values.is_null()
    detail = f"is not a number (read with a {decimal})"
    if role.kind == "integer":
        not_whole = values.is_not_null() & (values != values.round(0))
        bad_number = bad_number | not_whole
        detail = "is not a whole number"
    scale = _scale(role, values) if role.kind == "score" else None
    low, high = role.low, (scale if scale is not None and role.name != "nps" else role.high)
    details = {"bad-number": detail, "out-of-range": f"is {_range_text(low, high)} for {role.name}"}
    if (role.kind == "number" and low is None and high is None
            and values.null_count() == text.null_count()
            and not (role.required and text.null_count())):
        # every value read, no range to keep, nothing required missing: no code to give
        return _Checked(role.name, column, values, _no_codes(len(values)), details), scale
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
    return _Checked(role.name, column, values, codes, details), scale


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
    for name, role in schema.items():
        if role.required and name not in roles:
            what = f" ({role.help})" if role.help else ""
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
    rejected = frame.with_columns(pl.lit(codes, dtype=pl.String).alias("problems"))
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
        pl.col(ROW).cast(pl.Int64),
        *[pl.col(c).cast(pl.String) for c in others],
    )


def load_table(
    raw: RawTable,
    table: str,
    roles: dict[str, str],
    *,
    date_order: Literal["dmy", "mdy"] | None = None,
    max_listed: int = 1000,
) -> LoadResult:
    """Validate and type a raw table as ``table`` under a role -> column mapping.

    Role columns are renamed to their role and cast by kind; other columns are kept as text
    (breakdown dimensions). A row with any problem is rejected as a whole, optional roles included.
    ``date_order`` answers the day/month question when the dates cannot settle it.

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
        raise ValueError(f"unknown table {table!r}; choose one of {', '.join(TABLES)}")
    schema = roles_of(table)
    roles = {r: c for r, c in roles.items() if c}
    unknown = [r for r in roles if r not in schema]
    if unknown:
        raise ValueError(f"roles {unknown} do not belong to table {table!r}")
    reader_notes = [p for p in raw.problems if p.row is None]
    table_problems = _table_problems(raw, table, roles)
    if table_problems:
        return _nothing_loaded(raw, table, roles, reader_notes + table_problems, max_listed,
                               "failed", table_problems)
    frame = _with_row(raw)
    texts = _texts(raw, frame, list(dict.fromkeys(roles.values())))

    sniffed: dict[str, DateFormat] = {}
    for role, column in roles.items():
        if schema[role].kind == "datetime" and column not in sniffed:
            sniffed[column] = _sniff(texts[column], date_order, confirm=False, stripped=True)
    ambiguous = [c for c, f in sniffed.items() if f.ambiguous and f.format is None]
    if ambiguous:
        question = _date_question(ambiguous, sniffed)
        problem = Problem("ambiguous-date-order", question.message, column=question.column)
        return _nothing_loaded(raw, table, roles, [*reader_notes, problem], max_listed,
                               "needs_answer", [problem], questions=[question])
    date_formats = {c: f.format for c, f in sniffed.items() if f.format is not None}

    checked, number_formats, scales = _check_roles(raw, schema, roles, texts, sniffed)
    return _assemble(raw, frame, table, roles, checked, reader_notes, max_listed,
                     date_formats=date_formats, number_formats=number_formats, scales=scales)


def _texts(raw: RawTable, frame: pl.DataFrame, columns: list[str]) -> dict[str, pl.Series]:
    """The mapped columns, stripped, empty cells null. A frame straight from the reader is so
    already (the reader marks it), so stripping it again, the costliest step on a large file,
    is skipped."""
    if getattr(raw, "normalised", None) is raw.frame:
        return {c: frame.get_column(c) for c in columns}
    stripped = frame.select(pl.col(c).str.strip_chars() for c in columns)
    blanked = stripped.select(
        pl.when(pl.col(c).str.len_bytes() == 0).then(None).otherwise(pl.col(c)).alias(c)
        for c in columns
    )
    return {c: blanked.get_column(c) for c in columns}


def _check_roles(
    raw: RawTable,
    schema: dict[str, Role],
    roles: dict[str, str],
    texts: dict[str, pl.Series],
    sniffed: dict[str, DateFormat],
) -> tuple[list[_Checked], dict[str, str], dict[str, int]]:
    def check(role_name: str, column: str) -> tuple[_Checked, int | None, str | None]:
        role, text = schema[role_name], texts[column]
        if role.kind == "datetime":
            return _check_datetime(role, column, text, sniffed[column]), None, None
        if role.kind in _NUMBER_KINDS:
            decimal = sniff_decimal(text, raw.delimiter)
            return (*_check_number(role, column, text, decimal), decimal)
        if role.kind == "boolean":
            return _check_boolean(role, column, text), None, None
        return _check_text(role, column, text), None, None

    # polars releases the GIL while it works, so the roles are checked side by side; dates,
    # the slowest to check, go first so that the other roles share the second core meanwhile
    items = list(roles.items())
    workers = min(len(items), os.cpu_count() or 1)
    if workers > 1 and _frame_height(texts) >= _PARALLEL_MIN_ROWS:
        dates_first = sorted(items, key=lambda item: schema[item[0]].kind != "datetime")
        with ThreadPoolExecutor(max_workers=workers) as pool:
            done = dict(zip(dates_first, pool.map(lambda item: check(*item), dates_first),
                            strict=True))
        results = [done[item] for item in items]
    else:
        results = [check(r, c) for r, c in items]
    checked = [c for c, _, _ in results]
    scales = {r: scale for (r, _), (_, scale, _) in zip(items, results, strict=True)
              if scale is not None}
    number_formats = {c: decimal for (_, c), (_, _, decimal) in zip(items, results, strict=True)
                      if decimal is not None}
    _check_durations(checked)
    return checked, number_formats, scales


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
    **extra: Any,
) -> LoadResult:
    reader = _reader_rows(raw)
    typed = [c.values for c in checked]
    mapped = set(roles.values())
    role_names = {c.role for c in checked}
    others = [
        frame.get_column(c).alias(f"{c} (unmapped)" if c in role_names else c)
        for c in frame.columns if c != ROW and c not in mapped
    ]
    if reader.height == 0 and all(c.codes.null_count() == len(c.codes) for c in checked):
        # the common case, a clean file: no row to reject or list, no code columns to join
        data = pl.DataFrame(typed + others) if typed or others else pl.DataFrame()
        rejected = frame.clear().with_columns(pl.lit(None, dtype=pl.String).alias("problems"))
        return LoadResult(
            table=table, roles=dict(roles), data=data, rejected=rejected,
            problems=reader_notes[:max_listed], problem_count=len(reader_notes),
            rows_in=frame.height, rows_loaded=frame.height, rows_rejected=0,
            status="loaded", **extra,
        )
    reader_codes = (
        reader.filter(pl.col("error"))
        .group_by(ROW, maintain_order=True)
        .agg(pl.col("code").unique(maintain_order=True).str.join(", ").alias("__reader__"))
    )
    codes = frame.select(ROW).with_columns(
        *[c.codes.alias(f"__c{i}") for i, c in enumerate(checked)]
    )
    codes = codes.join(reader_codes, on=ROW, how="left", maintain_order="left")
    code_cols = ["__reader__"] + [f"__c{i}" for i in range(len(checked))]
    row_codes = codes.select(
        pl.concat_str([pl.col(c) for c in code_cols], separator=", ", ignore_nulls=True)
    ).to_series()
    bad = row_codes != ""
    data = pl.DataFrame(typed + others).filter(~bad) if typed or others else pl.DataFrame()
    rejected = frame.with_columns(row_codes.alias("problems")).filter(bad)

    listed, total = _list_problems(frame, checked, reader, raw.problems, max_listed)
    rows_in = frame.height
    rows_rejected = rejected.height
    rows_loaded = rows_in - rows_rejected
    status: Status = ("loaded" if rows_rejected == 0 else
                      "failed" if rows_loaded == 0 else "partial")
    problems = (reader_notes + listed)[:max_listed]
    return LoadResult(
        table=table, roles=dict(roles), data=data, rejected=rejected, problems=problems,
        problem_count=len(reader_notes) + total, rows_in=rows_in, rows_loaded=rows_loaded,
        rows_rejected=rows_rejected, status=status, **extra,
    )


def _list_problems(
    frame: pl.DataFrame,
    checked: list[_Checked],
    reader: pl.DataFrame,
    reader_problems: list[Problem],
    max_listed: int,
) -> tuple[list[Problem], int]:
    """The first ``max_listed`` row-level problems in row order, and how many there are."""
    parts = [reader.select(ROW, pl.lit(-1, dtype=pl.Int64).alias("__k__"), "__i__", "code",
                           pl.lit(None, dtype=pl.String).alias("value"))]
    for k, c in enumerate(checked):
        part = frame.select(ROW).with_columns(
            pl.lit(k, dtype=pl.Int64).alias("__k__"),
            pl.lit(None, dtype=pl.Int64).alias("__i__"),
            c.codes.alias("code"),
            frame.get_column(c.column).alias("value"),
        )
        parts.append(part.filter(pl.col("code").is_not_null()))
    long = pl.concat(parts)
    total = long.height
    head = long.sort([ROW, "__k__", "__i__"], nulls_last=True, maintain_order=True).head(
        max_listed)
    out = []
    for row, k, i, code, value in head.iter_rows():
        if k < 0:
            out.append(reader_problems[i])
        else:
            out.append(_problem(code, int(row), checked[k], value))
    return out, total


def _problem(code: str, row: int, c: _Checked, raw_value: str | None) -> Problem:
    where = f"Row {row}, column '{c.column}'"
    if code == "missing-value":
        message = f"{where}: a value for {c.role} is required but the cell is empty"
    else:
        message = f"{where}: '{raw_value or ''}' {c.details.get(code, 'is not usable')}"
    return Problem(code, message, row=row, column=c.column, value=raw_value)
