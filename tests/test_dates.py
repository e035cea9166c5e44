"""Date format sniffing: explicit formats, day/month order from the data or from the user."""

from __future__ import annotations

from datetime import datetime
from unittest.mock import patch

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cjm_core.ingest import dates as dates_module
from cjm_core.ingest.dates import CANDIDATES, describe_format, parse_datetime, sniff_datetime


@pytest.mark.parametrize(
    ("values", "fmt"),
    [
        (["2025-03-01", "2025-12-31"], "%Y-%m-%d"),
        (["2025-03-01 10:00", "2025-03-02 11:30"], "%Y-%m-%d %H:%M"),
        (["2025-03-01T10:00:00", "2025-03-02T11:30:59"], "%Y-%m-%dT%H:%M:%S%.f"),
        (["2025-03-01T10:00:00.123Z", "2025-03-02T11:30:59+02:00"], "%Y-%m-%dT%H:%M:%S%.f%#z"),
        (["01.03.2025", "31.12.2025"], "%d.%m.%Y"),
        (["01.03.2025 10:00", "31.12.2025 23:59"], "%d.%m.%Y %H:%M"),
        (["01.03.2025 10:00:05", "31.12.2025 23:59:00"], "%d.%m.%Y %H:%M:%S%.f"),
        (["01.03.25", "31.12.25"], "%d.%m.%y"),
        (["2025/03/01", "2025/12/31"], "%Y/%m/%d"),
        (["20250301", "20251231"], "%Y%m%d"),
        (["13/03/2025", "01/04/2025"], "%d/%m/%Y"),
        (["03/13/2025", "04/01/2025"], "%m/%d/%Y"),
        (["13-03-2025", "01-04-2025"], "%d-%m-%Y"),
        (["13/03/2025 10:00", "01/04/2025 11:00"], "%d/%m/%Y %H:%M"),
    ],
)
def test_sniff_finds_the_format(values, fmt):
    found = sniff_datetime(pl.Series([*values, None, ""]))
    assert found.format == fmt
    assert not found.ambiguous
    assert found.matched == found.total == len(values)


def test_day_above_twelve_late_in_the_column_settles_the_order():
    values = ["01/02/2025"] * 5000 + ["25/02/2025"]
    found = sniff_datetime(pl.Series(values))
    assert found.format == "%d/%m/%Y"
    assert found.dayfirst is True


def test_month_first_settled_by_second_field():
    found = sniff_datetime(pl.Series(["1/13/2025", "2/1/2025"]))
    assert found.format == "%m/%d/%Y"
    assert found.dayfirst is False


def test_ambiguous_is_reported_not_guessed():
    found = sniff_datetime(pl.Series(["03/04/2025", "05/06/2025", "01/01/2025"]))
    assert found.ambiguous is True
    assert found.format is None
    assert found.dayfirst is None
    assert found.options == {"dmy": "%d/%m/%Y", "mdy": "%m/%d/%Y"}
    assert "03/04/2025" in found.examples
    assert "01/01/2025" not in found.examples  # same either way: does not show the question


@pytest.mark.parametrize(
    ("order", "fmt", "month"), [("dmy", "%d/%m/%Y", 4), ("mdy", "%m/%d/%Y", 3)]
)
def test_ambiguous_with_order_given(order, fmt, month):
    values = pl.Series(["03/04/2025", "05/06/2025"])
    found = sniff_datetime(values, order=order)
    assert found.ambiguous is True
    assert found.format == fmt
    assert parse_datetime(values, found.format)[0].month == month


def test_nothing_parses():
    found = sniff_datetime(pl.Series(["soon", "later"]))
    assert (found.format, found.ambiguous, found.matched, found.total) == (None, False, 0, 2)
    assert sniff_datetime(pl.Series([None, ""], dtype=pl.String)).total == 0


def test_two_digit_year_is_not_year_25():
    found = sniff_datetime(pl.Series(["01.03.25"]))
    assert found.format == "%d.%m.%y"
    assert parse_datetime(pl.Series(["01.03.25"]), "%d.%m.%Y").to_list() == [None]


def test_parse_mixes_date_only_and_datetime_of_one_family():
    s = pl.Series(["01.03.2025 10:30", "02.03.2025", "03.03.2025 08:00:15", "31.02.2025", None])
    found = sniff_datetime(s)
    assert found.matched == 3
    out = parse_datetime(s, found.format)
    assert out.dtype == pl.Datetime("us")
    assert out.to_list() == [
        datetime(2025, 3, 1, 10, 30), datetime(2025, 3, 2), datetime(2025, 3, 3, 8, 0, 15), None,
        None,
    ]


def test_offsets_become_naive_utc():
    out = parse_datetime(pl.Series(["2025-03-01T10:00:00+02:00", "2025-03-01T10:00:00Z"]),
                         "%Y-%m-%dT%H:%M:%S%.f%#z")
    assert out.dtype == pl.Datetime("us")
    assert out.to_list() == [datetime(2025, 3, 1, 8), datetime(2025, 3, 1, 10)]


def test_non_string_input_is_read_as_text():
    found = sniff_datetime(pl.Series([20250301, 20250302]))
    assert found.format == "%Y%m%d"


def test_candidates_are_explicit_and_described():
    assert all("%" in c for c in CANDIDATES)
    assert describe_format("%d.%m.%Y %H:%M") == "dd.mm.yyyy hh:mm"
    assert describe_format(None) == "any known date format"


# --------------------------------------------------------------------------- fast parsing path

_FAST_FORMATS = [f for f in CANDIDATES if dates_module._fast_variant(f) is not None]


def _chrono(values: pl.Series, fmt: str) -> pl.Series:
    return values.str.to_datetime(format=fmt, strict=False, time_unit="us")


def test_fast_variant_only_for_four_digit_years_with_fractions():
    assert dates_module._fast_variant("%Y-%m-%d %H:%M:%S%.f") == "%Y-%m-%d %H:%M:%S"
    assert dates_module._fast_variant("%d.%m.%y %H:%M:%S%.f") is None
    assert dates_module._fast_variant("%Y%m%d %H:%M:%S%.f") is None
    assert dates_module._fast_variant("%Y-%m-%dT%H:%M:%S%.f%#z") is None
    assert dates_module._fast_variant("%Y-%m-%d %H:%M") is None
    assert _FAST_FORMATS


@settings(max_examples=60, deadline=None)
@given(
    fmt=st.sampled_from(_FAST_FORMATS),
    stamps=st.lists(st.datetimes(min_value=datetime(1000, 1, 1),
                                 max_value=datetime(2999, 12, 31)), min_size=1, max_size=30),
    junk=st.lists(st.text(alphabet="0123456789 :-./T+Zx,", max_size=22), max_size=30),
    fraction=st.sampled_from(["", ".5", ".123", ".123456", ".1234567"]),
)
def test_fast_path_parses_exactly_like_the_format(fmt, stamps, junk, fraction):
    """The fast path (format without %.f, then %.f for what it missed) equals chrono's %.f."""
    written = [d.strftime(fmt.replace("%.f", "")) for d in stamps]
    values = pl.Series([*written, *[w + fraction for w in written], *junk, None])
    with patch.object(dates_module, "_FAST_MIN", 0):
        got = dates_module._to_datetime(values, fmt)
    assert got.to_list() == _chrono(values, fmt).to_list()


def test_parse_datetime_large_column_mixes_fractions_dates_and_junk():
    n = 30_000  # above _FAST_MIN
    base = ["2025-03-01 10:00:00", "2025-03-01 10:00:00.25", "2025-03-01", "2025-02-30 10:00:00",
            "x", None, "0025-03-01 10:00:00"]
    values = pl.Series((base * (n // len(base) + 1))[:n])
    got = parse_datetime(values, "%Y-%m-%d %H:%M:%S%.f").head(len(base)).to_list()
    assert got == [datetime(2025, 3, 1, 10), datetime(2025, 3, 1, 10, 0, 0, 250000),
                   datetime(2025, 3, 1), None, None, None, None]


def test_sniff_on_a_large_column_counts_every_nonempty_value():
    values = pl.Series(["", None, " 13/02/2025 ", "01/03/2025"] * 5000)
    f = sniff_datetime(values)
    assert (f.format, f.total, f.matched) == ("%d/%m/%Y", 10_000, 10_000)


def test_parsing_in_halves_keeps_the_column_chunks():
    from cjm_core.ingest.dates import _in_halves

    parts = [pl.Series([f"2025-01-{d:02d}" for d in range(1, 29)] * 5000) for _ in range(3)]
    chunked = parts[0].append(parts[1]).append(parts[2])  # 3 chunks of 140,000
    single = chunked.rechunk()

    def parse(part: pl.Series) -> pl.Series:
        return part.str.to_date("%Y-%m-%d")

    out = _in_halves(chunked, parse)
    assert out.chunk_lengths() == chunked.chunk_lengths()
    assert out.equals(parse(chunked))
    assert _in_halves(single, parse).chunk_lengths() == [len(single)]


_ISO_CHARS = st.sampled_from(list("0123456789") * 3 + ["-", ":", " ", "T", ".", "+", "Z", "a"])


def _iso_like(with_time: bool, sep: str):
    """Values in or near the plain ISO shape: real dates and times, out-of-range fields,
    other centuries, a character swapped, a fraction, a missing zero."""
    def build(y, mo, d, h, mi, s, mutate, pos, ch):
        text = f"{y:04d}-{mo:02d}-{d:02d}"
        if with_time:
            text += f"{sep}{h:02d}:{mi:02d}:{s:02d}"
        if mutate == "swap" and text:
            pos %= len(text)
            text = text[:pos] + ch + text[pos + 1:]
        elif mutate == "cut":
            text = text[:pos % (len(text) + 1)]
        elif mutate == "fraction":
            text += ".25"
        elif mutate == "unpadded":
            text = text.replace("-0", "-", 1)
        return text

    return st.builds(
        build, st.integers(0, 2400), st.integers(0, 13), st.integers(0, 32),
        st.integers(0, 25), st.integers(0, 61), st.integers(0, 61),
        st.sampled_from(["none", "none", "swap", "cut", "fraction", "unpadded"]),
        st.integers(0, 30), _ISO_CHARS,
    )


@pytest.mark.parametrize("fmt", ["%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S%.f",
                                 "%Y-%m-%dT%H:%M:%S%.f"])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_compiled_iso_parse_reads_exactly_what_polars_reads(fmt, data):
    from cjm_core.ingest.dates import _iso_to_datetime

    sep = "T" if "T" in fmt else " "
    values = data.draw(st.lists(st.one_of(st.none(), _iso_like("%H" in fmt, sep)),
                                min_size=1, max_size=40))
    text = pl.Series(values, dtype=pl.String)
    expected = text.str.to_datetime(format=fmt, strict=False, time_unit="us")
    got = _iso_to_datetime(text, fmt)
    # compared as microseconds: Python's datetime has no year 0
    assert got.cast(pl.Int64).to_list() == expected.cast(pl.Int64).to_list()


def test_compiled_iso_parse_keeps_chunks_and_handles_every_row():
    from cjm_core.ingest.dates import _iso_to_datetime

    a = pl.Series(["2025-03-01 10:00:00", "1899-12-31 23:59:59", None] * 1000)
    b = pl.Series(["2025-3-01 10:00:00", "2025-03-01 10:00:00.5", "2200-01-01 00:00:00"] * 1000)
    chunked = a.append(b)
    out = _iso_to_datetime(chunked, "%Y-%m-%d %H:%M:%S%.f")
    assert out.chunk_lengths() == chunked.chunk_lengths() == [3000, 3000]  # input untouched
    expected = chunked.str.to_datetime(format="%Y-%m-%d %H:%M:%S%.f", strict=False,
                                       time_unit="us")
    assert out.to_list() == expected.to_list()
    assert out.null_count() == 1000


@pytest.mark.parametrize("values", [
    ["2025-03-01", "2025-12-31"], ["2025-03-01 10:00:00", "1999-12-31 23:59:59"],
    ["2025-03-01T10:00:00", "2025-03-02T00:00:00"], ["2025-03-01 10:00", "2025-03-01 11:00"],
    ["2025-03-01 10:00:00", "2025-03-01 10:00:00.5"], ["1850-03-01", "1850-03-02"],
])
def test_plain_iso_shortcut_picks_what_trying_every_candidate_picks(values):
    from cjm_core.ingest import dates as D

    sample = pl.Series(values)
    with patch.object(D, "_PLAIN_ISO", ()):
        expected = D._best(sample)
    assert D._best(sample) == expected
    assert all(f in D.CANDIDATES for f in D._PLAIN_ISO)


def test_compiled_iso_parse_never_reads_a_null_slot():
    """polars keeps the old view in a slot made null: the parser skips it (and its result is
    null there)."""
    from cjm_core.ingest.dates import _iso_to_datetime

    text = pl.Series(["2025-03-01 10:00:00", "2025-03-02 10:00:00", "2025-03-03"] * 5000)
    keep = pl.Series([True, False, True] * 5000)
    nulled = pl.select(pl.when(keep).then(text)).to_series()
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        out = _iso_to_datetime(nulled, fmt)
        assert out.is_null().to_list() == (~keep | out.is_null()).to_list()
        assert out.null_count() >= 5000


# --------------------------------------------------------------------------- two-digit years


@pytest.mark.parametrize(
    ("text", "fmt", "read"),
    [
        ("03.12.26", "%d.%m.%y", datetime(2026, 12, 3)),
        ("01.01.68", "%d.%m.%y", datetime(2068, 1, 1)),
        ("31.12.69", "%d.%m.%y", datetime(1969, 12, 31)),  # chrono alone reads 2069
        ("01.01.70", "%d.%m.%y", datetime(1970, 1, 1)),
        ("01.01.00", "%d.%m.%y", datetime(2000, 1, 1)),
        ("12/03/98", "%m/%d/%y", datetime(1998, 12, 3)),
        ("12/03/98", "%d/%m/%y", datetime(1998, 3, 12)),
        ("15.06.69 10:30", "%d.%m.%y %H:%M", datetime(1969, 6, 15, 10, 30)),
    ],
)
def test_two_digit_years_follow_the_posix_pivot(text, fmt, read):
    assert parse_datetime(pl.Series([text]), fmt).to_list() == [read]


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=datetime(1969, 1, 1).date(), max_value=datetime(2068, 12, 31).date()),
       st.sampled_from(["%d.%m.%y", "%d/%m/%y", "%m/%d/%y"]))
def test_two_digit_years_read_as_python_reads_them(day, fmt):
    """Python's own ``strptime('%y')`` is the reference: every date its pivot window can write
    with two digits reads back to itself."""
    text = day.strftime(fmt)
    expected = datetime.strptime(text, fmt)
    assert expected.date() == day
    assert parse_datetime(pl.Series([text, text]), fmt).to_list() == [expected, expected]


def test_two_digit_years_get_a_note_with_the_pivot_in_inspect(tmp_path, capsys):
    """The load reports the pivot and how the earliest and latest dates were read; every row
    loads, and the note is a warning, not a rejection."""
    import json

    from cjm_core.cli import main

    path = tmp_path / "bestellungen.csv"
    path.write_text("Kunde;Bestelldatum;Betrag\n"
                    "K1;03.12.26;12,50\n"
                    "K2;12.03.98;7,00\n"
                    "K1;01.01.69;3,10\n", encoding="utf-8")
    assert main(["inspect", str(path), "--json"]) == 0
    [entry] = json.loads(capsys.readouterr().out)["tables"]
    assert (entry["table"], entry["rows_loaded"], entry["rows_rejected"]) == ("orders", 3, 0)
    assert entry["date_formats"] == {"Bestelldatum": "%d.%m.%y"}
    [note] = [p for p in entry["problems"] if p["code"] == "two-digit-year"]
    assert (note["column"], note["severity"], note["row"]) == ("Bestelldatum", "warning", None)
    assert "the earliest, '01.01.69', was read as 1969-01-01" in note["message"]
    assert "the latest, '03.12.26', as 2026-12-03" in note["message"]
    assert "69-99 are read as 1969-1999 and 00-68 as 2000-2068" in note["message"]
    assert main(["inspect", str(path)]) == 0
    assert "[two-digit-year] Column 'Bestelldatum' writes years with two digits" in (
        capsys.readouterr().out)


def test_four_digit_years_get_no_note():
    from cjm_core.ingest.pipeline import ingest

    [ld] = ingest(b"Kunde;Bestelldatum;Betrag\nK1;03.12.2026;12,50\nK2;12.03.1998;7,00\n",
                  "orders.csv")
    assert ld.result.rows_loaded == 2
    assert not [p for p in ld.result.problems if p.code == "two-digit-year"]


def test_the_data_page_lists_the_two_digit_year_note():
    """The Data page's report lists the load's problems (raw notes and result problems): the
    note is among them with its code, so it is shown with the other notes."""
    from cjm_core.ingest.pipeline import dedupe_problems, ingest

    [ld] = ingest(b"Kunde;Bestelldatum;Betrag\nK1;03.12.26;12,50\nK2;12.03.98;7,00\n",
                  "orders.csv")
    listed = dedupe_problems(list(ld.raw.problems) + list(ld.result.problems))
    assert [p.code for p in listed] == ["two-digit-year"]
    assert ld.result.problem_count == 1 and ld.result.status == "loaded"
