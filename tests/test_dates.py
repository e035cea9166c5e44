"""Date format sniffing: explicit formats, day/month order from the data or from the user."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from cjm_core.dates import CANDIDATES, describe_format, parse_datetime, sniff_datetime


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
