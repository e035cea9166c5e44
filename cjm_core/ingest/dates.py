"""Date and time formats: find the one format a text column is written in, then parse with it.

Polars' generic date inference is about 3x slower than parsing with an explicit format, and it
guesses between day-first and month-first silently. Here every candidate format is explicit, the
order is settled from the data (a first field above 12 means day-first), and when every value fits
both orders the caller is told (``ambiguous=True``) instead of getting a guess.

Two-digit years follow Python's ``%y`` (the POSIX rule): 69-99 are 1969-1999 and 00-68 are
2000-2068, so ``03.12.26`` is 3 December 2026 and ``12/03/98`` is in 1998. A load that reads such
dates carries a ``two-digit-year`` note saying so (:func:`two_digit_year_notes`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, cast

import numpy as np
import polars as pl

from cjm_core.ingest.problems import Problem
from cjm_core.parallel import run_both, threads

Order = Literal["dmy", "mdy"]

#: formats the compiled parser reads: format -> separator between date and time (None: no time)
ISO_LAYOUTS: dict[str, str | None] = {
    "%Y-%m-%d": None,
    "%Y-%m-%d %H:%M:%S": " ",
    "%Y-%m-%d %H:%M:%S%.f": " ",
    "%Y-%m-%dT%H:%M:%S": "T",
    "%Y-%m-%dT%H:%M:%S%.f": "T",
}


def _iso_datetimes(values: pl.Series, fmt: str) -> tuple[np.ndarray, np.ndarray]:
    """:func:`cjm_core.ingest.text_kernels.iso_datetimes`, its compiled code (numba) imported
    on the first date parsed rather than with this module."""
    from cjm_core.ingest.text_kernels import iso_datetimes

    return iso_datetimes(values, fmt)

#: values tried on every candidate format before the winner is confirmed on the whole column
SAMPLE_SIZE = 2000

_TIMES = ("", " %H:%M", " %H:%M:%S%.f")
_ISO_TIMES = (
    "",
    " %H:%M",
    " %H:%M:%S%.f",
    "T%H:%M",
    "T%H:%M:%S%.f",
    " %H:%M:%S%.f%#z",
    "T%H:%M:%S%.f%#z",
    "T%H:%M%#z",
)

#: date parts without an order question: (date part, time suffixes)
_FIXED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("%Y-%m-%d", _ISO_TIMES),
    ("%Y/%m/%d", _TIMES),
    ("%d.%m.%Y", _TIMES),
    ("%d.%m.%y", _TIMES),
    ("%Y%m%d", ("", " %H:%M", " %H:%M:%S%.f", "%H%M%S")),
)
#: date parts that come in a day-first and a month-first variant: (dmy, mdy)
_PAIRS: tuple[tuple[str, str], ...] = (
    ("%d/%m/%Y", "%m/%d/%Y"),
    ("%d-%m-%Y", "%m-%d-%Y"),
    ("%d/%m/%y", "%m/%d/%y"),
)

_DATE_PARTS = [d for d, _ in _FIXED] + [d for pair in _PAIRS for d in pair]


@dataclass
class DateFormat:
    """What :func:`sniff_datetime` found.

    ``format`` is None when nothing parses, or when the order is ambiguous and was not given.
    ``dayfirst`` is None for formats without an order question (ISO, dotted German dates).
    ``matched`` of ``total`` non-empty values parse with ``format`` (or would, for either order).
    """

    format: str | None
    ambiguous: bool
    dayfirst: bool | None
    examples: list[str]
    matched: int = 0
    total: int = 0
    #: the two candidate formats when ambiguous: {"dmy": ..., "mdy": ...}
    options: dict[str, str] = field(default_factory=dict)


def _candidates() -> list[str]:
    out = [d + t for d, times in _FIXED for t in times]
    for dmy, mdy in _PAIRS:
        for t in _TIMES:
            out += [dmy + t, mdy + t]
    return out


CANDIDATES: tuple[str, ...] = tuple(_candidates())


def _date_part(fmt: str) -> str:
    return next((d for d in _DATE_PARTS if fmt.startswith(d)), fmt)


def _family(fmt: str) -> list[str]:
    """The formats sharing ``fmt``'s date part: the fallbacks for mixed date and date-time."""
    dp = _date_part(fmt)
    return [c for c in CANDIDATES if c != fmt and _date_part(c) == dp]


#: below this many values the fast-path split is not worth its second pass
_FAST_MIN = 10_000


def _fast_variant(fmt: str) -> str | None:
    """``fmt`` without ``%.f`` when polars parses that natively (~4x faster than via chrono).

    Only for four-digit-year formats: there the fast parser accepts nothing that the ``%.f``
    format would reject or read differently (checked by fuzzing; its two-digit-year and
    ``%Y%m%d`` handling are looser, so those keep the exact format).
    """
    if "%.f" not in fmt or "%#z" in fmt or "%y" in fmt or "%Y" not in fmt:
        return None
    if fmt.startswith("%Y%m%d"):
        return None
    return fmt.replace("%.f", "")


def _to_datetime(values: pl.Series, fmt: str) -> pl.Series:
    """``str.to_datetime(fmt)``; values with fractional seconds are parsed on a second pass."""
    large = len(values) >= _FAST_MIN
    if large and fmt in ISO_LAYOUTS and values.dtype == pl.String:
        return _iso_to_datetime(values, fmt)
    fast = _fast_variant(fmt) if large else None
    cache = not large or _repeats(values)
    if fast is None:
        return _in_halves(values, lambda part: part.str.to_datetime(
            format=fmt, strict=False, time_unit="us", cache=cache))
    out = _in_halves(values, lambda part: part.str.to_datetime(
        format=fast, strict=False, time_unit="us", cache=cache))
    missed = (out.is_null() & values.is_not_null()).arg_true()
    if len(missed) == 0:
        return out
    again = values.gather(missed).str.to_datetime(format=fmt, strict=False, time_unit="us")
    return out.scatter(missed, again)


def _iso_to_datetime(values: pl.Series, fmt: str) -> pl.Series:
    """:func:`_to_datetime` for ISO formats: compiled code reads every value written in the
    plain shape, polars the others (fractions of a second, missing zeros, leap seconds...).
    The result keeps the chunks of ``values`` (see :func:`_in_halves`)."""
    micros, parsed = _iso_datetimes(values, fmt)
    whole = pl.Series(values.name, micros, dtype=pl.Int64).cast(pl.Datetime("us"))
    if not parsed.all():
        whole = pl.select(pl.when(pl.Series(parsed)).then(whole)).to_series()
        missed = np.flatnonzero(~parsed & values.is_not_null().to_numpy())
        if len(missed):
            rest = values.gather(missed)
            again = rest.str.to_datetime(format=fmt, strict=False, time_unit="us",
                                         cache=_repeats(rest))
            whole = whole.scatter(missed, again)
    lengths = values.chunk_lengths()
    if len(lengths) < 2:
        return whole
    starts = itertools.accumulate(lengths, initial=0)
    return pl.concat([whole.slice(s, n) for s, n in zip(starts, lengths, strict=False)],
                     rechunk=False)


#: from this many values on, a column is parsed in two halves side by side
_HALVES_MIN = 200_000


def _in_halves(values: pl.Series, parse: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """``parse(values)``; a long column is parsed as two halves on two threads (polars parses
    one column on one core and releases the GIL meanwhile)."""
    if len(values) < _HALVES_MIN or threads() < 2:
        return parse(values)
    # the cut is at the chunk boundary nearest the middle, so the parsed column keeps the
    # chunks of its table's other columns (one chunked otherwise makes polars copy the whole
    # table into one chunk later: about 100 MB more at the peak of a million-row upload)
    ends = list(itertools.accumulate(values.chunk_lengths()))
    single = len(ends) < 2
    mid = len(values) // 2 if single else min(ends[:-1], key=lambda e: abs(2 * e - len(values)))
    first, second = run_both(lambda: parse(values.slice(0, mid)),
                             lambda: parse(values.slice(mid)))
    out = first.append(second)
    return out.rechunk() if single else out


#: values looked at to tell whether a column repeats its dates
_REPEAT_PROBE = 2000


def _repeats(values: pl.Series) -> bool:
    """Whether values repeat often enough for polars' parse cache to pay: it parses each
    distinct value once, but on a column of distinct time stamps it doubles the parse time."""
    head = values.head(_REPEAT_PROBE)
    return head.n_unique() * 2 <= len(head)


def _parse_one(values: pl.Series, fmt: str) -> pl.Series:
    out = _to_datetime(values, fmt)
    if isinstance(out.dtype, pl.Datetime) and out.dtype.time_zone is not None:
        # offsets are converted to UTC, then the zone is dropped: the store holds naive UTC-ish time
        out = out.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    # chrono reads "25" as the year 25 under %Y; such years are a two-digit year, not a date
    earliest = cast(datetime | None, out.min())  # a Datetime series; polars types min loosely
    if earliest is not None and earliest < _YEAR_1000:
        out = pl.select(pl.when(out >= _YEAR_1000).then(out)).to_series()
    if "%y" in fmt:
        out = _posix_century(out)
    return out.alias(values.name)


_YEAR_1000 = datetime(1000, 1, 1)

#: the pivot of two-digit years: from this year on (69 -> 1969) a two-digit year is in the 1900s
PIVOT_YY = 69
#: the rule in words, for notes and the README
PIVOT_RULE = (f"two-digit years {PIVOT_YY}-99 are read as 19{PIVOT_YY}-1999 and "
              f"00-{PIVOT_YY - 1} as 2000-20{PIVOT_YY - 1} (Python's and POSIX's %y rule)")


def _posix_century(out: pl.Series) -> pl.Series:
    """Dates parsed from two-digit years, moved to the POSIX century: chrono puts 00-69 in the
    2000s, Python and POSIX put 69 in 1969, so the one year they differ on moves back 100 years.

    >>> s = pl.Series([datetime(2069, 5, 1), datetime(2068, 5, 1), datetime(1970, 1, 1)])
    >>> [d.year for d in _posix_century(s)]
    [1969, 2068, 1970]
    """
    late = 2000 + PIVOT_YY
    if not (out.dt.year() >= late).any():
        return out
    years = out.dt.year()
    return pl.select(
        pl.when((years >= late) & (years < 2070)).then(out.dt.offset_by("-100y"))
        .otherwise(out)
    ).to_series().alias(out.name)


def uses_two_digit_year(fmt: str | None) -> bool:
    """Whether a format reads two-digit years (and so depends on :data:`PIVOT_RULE`).

    >>> uses_two_digit_year("%d.%m.%y"), uses_two_digit_year("%d.%m.%Y %H:%M")
    (True, False)
    """
    return fmt is not None and "%y" in fmt


def two_digit_year_notes(frame: pl.DataFrame, formats: dict[str, str]) -> list[Problem]:
    """A ``two-digit-year`` warning for each column read with a two-digit-year format, stating
    the pivot and how one of its values was read, so the century is never a silent guess.

    >>> f = pl.DataFrame({"Datum": ["03.12.26", "12.03.98"], "x": ["a", "b"]})
    >>> [(p.code, p.column, p.value) for p in two_digit_year_notes(f, {"Datum": "%d.%m.%y"})]
    [('two-digit-year', 'Datum', '03.12.26')]
    >>> note = two_digit_year_notes(f, {"Datum": "%d.%m.%y"})[0].message
    >>> "the earliest, '12.03.98', was read as 1998-03-12" in note, "69-99" in note
    (True, True)
    """
    notes = []
    for column, fmt in formats.items():
        if not uses_two_digit_year(fmt) or column not in frame.columns:
            continue
        text = _nonempty_head(_as_text(frame.get_column(column)), SAMPLE_SIZE)
        parsed = parse_datetime(text, fmt)
        read = pl.DataFrame({"text": text, "date": parsed}).drop_nulls()
        if read.height == 0:
            continue
        shown = read.unique("text", keep="first", maintain_order=True)
        shown = shown.sort("date").gather([0, shown.height - 1]).unique(maintain_order=True)
        (first, day), *last = shown.iter_rows()
        examples = [f"'{first}' was read as {day:%Y-%m-%d}"]
        if last:
            examples = [f"the earliest, '{first}', was read as {day:%Y-%m-%d}",
                        f"the latest, '{last[0][0]}', as {last[0][1]:%Y-%m-%d}"]
        notes.append(Problem(
            "two-digit-year",
            f"Column '{column}' writes years with two digits: {' and '.join(examples)}; "
            f"{PIVOT_RULE}. If a century is wrong, export the dates with four-digit years.",
            column=column, value=read.item(0, "text"), severity="warning",
        ))
    return notes


def _as_text(values: pl.Series) -> pl.Series:
    if values.dtype == pl.String:
        return values.str.strip_chars()
    return values.cast(pl.String, strict=False).str.strip_chars()


def parse_datetime(values: pl.Series, fmt: str) -> pl.Series:
    """Parse text with an explicit format into ``Datetime("us")``, null where a value fails.

    Values of the same family written with or without a time (``01.03.2025`` beside
    ``01.03.2025 10:00``) are both accepted: only the values the main format misses are tried
    with the family's other formats. Offsets and ``Z`` are converted to UTC.

    >>> s = pl.Series(["01.03.2025 10:30", "02.03.2025", "31.02.2025"])
    >>> parse_datetime(s, "%d.%m.%Y %H:%M").to_list()  # doctest: +NORMALIZE_WHITESPACE
    [datetime.datetime(2025, 3, 1, 10, 30), datetime.datetime(2025, 3, 2, 0, 0), None]
    """
    return _parse_stripped(_as_text(values), fmt).alias(values.name)


def _parse_stripped(text: pl.Series, fmt: str) -> pl.Series:
    """:func:`parse_datetime` of text that is already stripped."""
    out = _parse_one(text, fmt).alias(text.name)
    if out.null_count() == text.null_count():  # every value read (a null text gives a null)
        return out
    failed = (text.is_not_null() & (text != "") & out.is_null()).arg_true()
    if len(failed) == 0:
        return out
    rest = text.gather(failed)
    fixed = pl.Series(text.name, [None] * len(rest), dtype=pl.Datetime("us"))
    for other in _family(fmt):
        fixed = fixed.fill_null(_parse_one(rest, other))
        if fixed.null_count() == 0:
            break
    return out.scatter(failed, fixed)


def _count(values: pl.Series, fmt: str) -> int:
    return len(values) - parse_datetime(values, fmt).null_count()


def _exact(values: pl.Series, fmt: str) -> int:
    return len(values) - _parse_one(values, fmt).null_count()


def _pair_of(fmt: str) -> tuple[str, str] | None:
    """(dmy format, mdy format) when ``fmt`` has an order question, else None."""
    for dmy, mdy in _PAIRS:
        if fmt.startswith(dmy):
            return fmt, mdy + fmt[len(dmy):]
        if fmt.startswith(mdy):
            return dmy + fmt[len(mdy):], fmt
    return None


#: ISO candidates the compiled parser can confirm at once, each first of its kind in CANDIDATES
_PLAIN_ISO = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f")


def _best(sample: pl.Series) -> tuple[str | None, int]:
    """Candidate parsing most of the sample (mixed date/date-time counted), then most exactly."""
    best, best_key = None, (0, 0)
    whole = (len(sample), len(sample))  # nothing beats a format reading every value exactly
    for fmt in _PLAIN_ISO:
        # every value in the plain shape of an ISO format: the candidates before it read none
        # of them exactly, so it is the first to read the whole sample, without trying them
        if len(sample) and _iso_datetimes(sample, fmt)[1].all():
            return fmt, len(sample)
    for fmt in CANDIDATES:
        exact = _exact(sample, fmt)
        if exact == 0:
            continue
        key = (_count(sample, fmt), exact)
        if key > best_key:
            best, best_key = fmt, key
            if key == whole:
                break
    return best, best_key[0]


def sniff_datetime(values: pl.Series, order: Order | None = None) -> DateFormat:
    """Find the date format of a text column, asking rather than guessing day/month order.

    The candidate parsing most values of a sample wins; it is then confirmed on every value.
    For slash and dash dates the order comes from the data when any value settles it (a first field
    above 12 means day-first); when every value fits both orders, ``ambiguous`` is True and
    ``format`` is None unless ``order`` ("dmy" or "mdy") was given.

    >>> sniff_datetime(pl.Series(["13/02/2025", "01/03/2025"])).format
    '%d/%m/%Y'
    >>> f = sniff_datetime(pl.Series(["01/02/2025", "03/04/2025"]))
    >>> f.ambiguous, f.format
    (True, None)
    >>> sniff_datetime(pl.Series(["01/02/2025"]), order="mdy").format
    '%m/%d/%Y'
    """
    return _sniff(values, order, confirm=True)


def _nonempty_head(text: pl.Series, n: int) -> pl.Series:
    """The first ``n`` non-empty values of stripped text, looking at no more rows than needed."""
    k = n
    while True:
        part = text.slice(0, k)
        part = part.filter(part.is_not_null() & (part != ""))
        if len(part) >= n or k >= len(text):
            return part.head(n)
        k *= 4


def _sniff(
    values: pl.Series, order: Order | None, *, confirm: bool, stripped: bool = False
) -> DateFormat:
    """:func:`sniff_datetime`; without ``confirm``, ``matched`` is counted on the sample only
    (the caller parses every value anyway). ``stripped`` says the values need no stripping
    and hold no empty string (empty cells are null).

    The whole column is only filtered when the format has a day/month question or ``confirm``
    is set; otherwise the count and the sample's head are enough.
    """
    full = values if stripped else _as_text(values)
    # stripped values come from validation, where an empty cell is already null
    total = len(full) - full.null_count() - (0 if stripped else int((full == "").sum()))
    sample = _nonempty_head(full, SAMPLE_SIZE)
    cache: list[pl.Series] = []

    def nonempty() -> pl.Series:
        if not cache:
            cache.append(full.filter(full.is_not_null() & (full != "")))
        return cache[0]

    examples = sample.unique(maintain_order=True).head(5).to_list()
    if total == 0:
        return DateFormat(None, False, None, examples, 0, 0)
    fmt, sample_count = _best(sample)
    if fmt is None:
        return DateFormat(None, False, None, examples, 0, total)

    def matched(f: str) -> int:
        if confirm:
            return _count(nonempty(), f)
        return sample_count if f == fmt else _count(sample, f)

    pair = _pair_of(fmt)
    if pair is None:
        return DateFormat(fmt, False, None, examples, matched(fmt), total)
    dmy, mdy = pair
    text = nonempty()
    settles = _settled(text)
    if settles == "both":
        n_dmy, n_mdy = _count(text, dmy), _count(text, mdy)
        settles = "dmy" if n_dmy >= n_mdy else "mdy"
    if settles is not None:
        chosen = dmy if settles == "dmy" else mdy
        return DateFormat(chosen, False, settles == "dmy", examples, matched(chosen), total)
    options = {"dmy": dmy, "mdy": mdy}
    if order is None:
        return DateFormat(None, True, None, _ambiguous_examples(text), matched(dmy), total,
                          options)
    return DateFormat(options[order], True, order == "dmy", examples, matched(options[order]),
                      total, options)


def _settled(text: pl.Series) -> Literal["dmy", "mdy", "both"] | None:
    """The order the data proves: a first field above 12 means day-first, a second one
    month-first; "both" when the column holds both kinds (parse counts then decide), None when
    every value fits either order."""
    parts = text.str.extract_groups(r"^(\d{1,2})[/-](\d{1,2})[/-]")
    first = parts.struct.field("1").cast(pl.Int64, strict=False)
    second = parts.struct.field("2").cast(pl.Int64, strict=False)
    day_first, month_first = bool((first > 12).any()), bool((second > 12).any())
    if day_first and month_first:
        return "both"
    if day_first or month_first:
        return "dmy" if day_first else "mdy"
    return None


def _ambiguous_examples(text: pl.Series) -> list[str]:
    """A few distinct values where day and month differ, the ones that show the question."""
    firsts = text.str.extract(r"^(\d{1,2})[/-](\d{1,2})", 1)
    seconds = text.str.extract(r"^(\d{1,2})[/-](\d{1,2})", 2)
    telling = text.filter(firsts.cast(pl.Int64, strict=False) != seconds.cast(pl.Int64,
                                                                               strict=False))
    pool = telling if len(telling) else text
    return pool.unique(maintain_order=True).head(5).to_list()


_READABLE = (
    ("%.f", ".fff"),
    ("%#z", "±hh:mm"),
    ("%Y", "yyyy"),
    ("%y", "yy"),
    ("%m", "mm"),
    ("%d", "dd"),
    ("%H", "hh"),
    ("%M", "mm"),
    ("%S", "ss"),
)


def describe_format(fmt: str | None) -> str:
    """A format as a user reads it.

    >>> describe_format("%d.%m.%Y %H:%M")
    'dd.mm.yyyy hh:mm'
    """
    if fmt is None:
        return "any known date format"
    out = fmt
    for code, text in _READABLE:
        out = out.replace(code, text)
    return out
