"""Cuts, period split and period-over-period change: golden tables."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from cjm_core.analytics.periods import (
    add_period,
    by_period,
    change,
    cut,
    dated_tables,
    has_dates,
    last_periods,
    metrics_frame,
    no_dates_note,
    shift_months,
    undated_tables,
)
from cjm_core.analytics.satisfaction import csat
from cjm_core.analytics.scorecard import all_metrics
from cjm_core.demo.sample import generate
from cjm_core.errors import CJMError
from cjm_core.metric import Metric
from cjm_core.model.dataset import Dataset
from cjm_core.model.journey import default_journey


@pytest.mark.parametrize(("moment", "months", "expected"), [
    (datetime(2024, 3, 31), -1, datetime(2024, 2, 29)),
    (datetime(2023, 3, 31), -1, datetime(2023, 2, 28)),
    (datetime(2026, 1, 1), -12, datetime(2025, 1, 1)),
    (datetime(2026, 1, 1), -24, datetime(2024, 1, 1)),
    (datetime(2024, 12, 15, 9), 1, datetime(2025, 1, 15, 9)),
    (datetime(2024, 1, 31), 13, datetime(2025, 2, 28)),
])
def test_shift_months(moment, months, expected):
    assert shift_months(moment, months) == expected


def _dataset():
    events = pl.DataFrame({
        "customer_id": ["a", "b", "c", "d"],
        "stage": ["x"] * 4,
        "timestamp": [datetime(2023, 1, 1, 12), datetime(2023, 12, 31, 23),
                      datetime(2024, 1, 1), datetime(2024, 12, 31, 9)],
    })
    orders = pl.DataFrame({"customer_id": ["a", "b"], "amount": [1.0, 2.0],
                           "order_date": [datetime(2022, 12, 31), datetime(2024, 6, 1)]})
    return Dataset(default_journey("4742"), events=events, orders=orders)


def test_last_periods_golden():
    cur, prev, b = last_periods(_dataset())
    assert (b["current_start"], b["current_end"]) == (datetime(2024, 1, 1), datetime(2025, 1, 1))
    assert (b["previous_start"], b["previous_end"]) == (datetime(2023, 1, 1),
                                                        datetime(2024, 1, 1))
    assert b["months"] == 12 and b["previous_complete"] is True
    assert b["data_start"] == datetime(2022, 12, 31) and b["data_end"] == datetime(2024, 12, 31, 9)
    assert cur.events["customer_id"].to_list() == ["c", "d"]
    assert prev.events["customer_id"].to_list() == ["a", "b"]
    assert cur.orders["customer_id"].to_list() == ["b"] and prev.orders.height == 0


def test_last_periods_with_end_and_months():
    cur, prev, b = last_periods(_dataset(), months=6, end=date(2024, 1, 1))
    assert b["current_start"] == datetime(2023, 7, 1)
    assert b["previous_start"] == datetime(2023, 1, 1)
    assert cur.events["customer_id"].to_list() == ["b"]  # 2024-01-01 itself is excluded
    assert prev.events["customer_id"].to_list() == ["a"]
    with pytest.raises(ValueError):
        last_periods(_dataset(), months=0)


def test_last_periods_partial_baseline_and_no_dates():
    data = generate("4742", 300, seed=1)
    ds = Dataset(default_journey("4742"), **data)
    _, prev, b = last_periods(ds, months=18)
    assert b["previous_complete"] is False
    assert prev.feedback.height > 0
    with pytest.raises(CJMError):
        last_periods(Dataset(default_journey("4742")))


def test_change_golden():
    now = [Metric("csat", 0.9, 100), Metric("csat", 0.6, 20, by={"touchpoint": "Hotline"}),
           Metric("nps", 10.0, 50, unit="nps"), Metric("fcr", 0.7, 40)]
    before = [Metric("csat", 0.8, 80), Metric("csat", 0.5, 40, by={"touchpoint": "Hotline"}),
              Metric("nps", 0.0, 45, unit="nps"), Metric("clv", 100.0, 60, unit="money")]
    got = change(now, before)
    assert got.columns == ["metric", "by", "unit", "value_now", "value_before", "abs_change",
                           "rel_change", "n_now", "n_before", "low_sample"]
    rows = [tuple(round(x, 6) if isinstance(x, float) else x for x in r) for r in got.rows()]
    assert rows == [
        ("clv", "", "money", None, 100.0, None, None, 0, 60, True),
        ("csat", "", "rate", 0.9, 0.8, 0.1, 0.125, 100, 80, False),
        ("csat", "touchpoint=Hotline", "rate", 0.6, 0.5, 0.1, 0.2, 20, 40, True),
        ("fcr", "", "rate", 0.7, None, None, None, 40, 0, True),
        ("nps", "", "nps", 10.0, 0.0, 10.0, None, 50, 45, False),  # no relative change from 0
    ]


def test_change_negative_baseline_uses_its_size():
    got = change([Metric("nps", -5.0, 50, unit="nps")], [Metric("nps", -10.0, 50, unit="nps")])
    assert got["rel_change"].to_list() == [0.5]


def test_cut_golden():
    df = pl.DataFrame({"timestamp": [datetime(2024, 1, 5), datetime(2024, 2, 5), None],
                       "touchpoint": ["a", None, "b"], "n": [1, 2, 3]})
    frame, keys = cut(df, ["period", "touchpoint", "period"])
    assert keys == ["period", "touchpoint"]
    assert frame.select(keys).rows() == [("2024-01", "a")]
    assert cut(df, None) == (df, [])
    with pytest.raises(CJMError, match="segment"):
        cut(df, ["segment"])
    with pytest.raises(CJMError, match="date column"):
        add_period(pl.DataFrame({"x": [1]}))


def test_metrics_frame_and_by_period():
    fb = pl.DataFrame({"timestamp": [datetime(2024, 2, 1), datetime(2024, 1, 1),
                                     datetime(2024, 1, 2)], "csat": [5, 1, 5]})
    trend = by_period(csat(fb, by=["period"]) + csat(fb))
    assert trend.select("period", "value", "n").rows() == [("2024-01", 0.5, 2),
                                                           ("2024-02", 1.0, 1)]
    assert {"low", "high", "low_sample"} <= set(trend.columns)
    frame = metrics_frame([])
    assert frame.height == 0 and "value" in frame.columns


# -- tables without dates ------------------------------------------------------------------------

UNDATED_SURVEY = pl.DataFrame({"touchpoint": ["Web", "Web", "Store"], "csat": [5, 2, 4],
                               "nps": [10, 6, 9], "ces": [1, 4, 2]})


@pytest.mark.parametrize(("frame", "table", "expected"), [
    (UNDATED_SURVEY, "feedback", False),
    (UNDATED_SURVEY.with_columns(timestamp=pl.lit(None, pl.Datetime)), "feedback", False),
    (UNDATED_SURVEY.with_columns(timestamp=pl.Series([None, datetime(2025, 1, 1), None])),
     "feedback", True),
    (pl.DataFrame({"opened_at": [datetime(2025, 1, 1)]}), "support", True),
    (pl.DataFrame({"timestamp": [datetime(2025, 1, 1)]}), "support", False),  # not its column
    (pl.DataFrame({"stage": ["a"], "customers": [3], "period": ["2025-01"]}), "funnel_counts",
     False),
    (None, "feedback", False),
])
def test_has_dates(frame, table, expected):
    assert has_dates(frame, table) is expected


def test_period_over_period_of_an_undated_survey_says_no_dates():
    data = Dataset(default_journey("4742"), feedback=UNDATED_SURVEY)
    assert dated_tables(data) == [] and undated_tables(data) == ["feedback"]
    with pytest.raises(CJMError, match=r"^No dates: none of the tables has a date") as err:
        last_periods(data)
    assert err.value.code == "missing-role"
    with pytest.raises(CJMError, match=r"^No dates"):
        last_periods(data, end=date(2025, 1, 1))  # even with an end, nothing can be placed


def test_period_over_period_leaves_undated_tables_out_instead_of_comparing_them_with_themselves():
    data = Dataset(_dataset().journey, events=_dataset().events, feedback=UNDATED_SURVEY)
    cur, prev, b = last_periods(data)
    assert b["undated"] == ["feedback"]
    assert cur.feedback is None and prev.feedback is None
    assert cur.events["customer_id"].to_list() == ["c", "d"]  # dated tables split as before
    assert prev.events["customer_id"].to_list() == ["a", "b"]
    now, before = all_metrics(cur), all_metrics(prev)
    table = change(now, before)
    assert not table.filter(pl.col("metric").is_in(["csat", "nps", "ces"])).height
    assert no_dates_note(b["undated"]) == (
        "No dates in feedback: its figures are left out of the period comparison.")


def test_no_dates_note_golden():
    assert no_dates_note([]) is None
    assert no_dates_note(["feedback", "funnel_counts"]) == (
        "No dates in feedback and funnel_counts: their figures are left out of the period "
        "comparison.")
    assert no_dates_note(["a", "b", "c"]).startswith("No dates in a, b and c: their")
    assert no_dates_note([], any_dated=False).startswith("No dates: none of the tables")
