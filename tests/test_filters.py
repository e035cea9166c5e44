"""The shared period filter on tables with and without dates, checked by hand: the period applies
only to tables with dates; channel and segment still apply to every table."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from cjm_core.model.dataset import Dataset
from cjm_core.model.filters import Filters, facets
from cjm_core.model.journey import default_journey

EVENTS = pl.DataFrame({
    "customer_id": ["jan_web", "feb_store", "mar_web", "apr_store"],
    "timestamp": [datetime(2025, 1, 10), datetime(2025, 2, 10), datetime(2025, 3, 10),
                  datetime(2025, 4, 10)],
    "stage": ["Discovery"] * 4,
    "channel": ["web", "store", "web", "store"],
})
#: a survey export without any date column
SURVEY = pl.DataFrame({"touchpoint": ["Web shop", "Web shop", "Store floor"],
                       "channel": ["web", "web", "store"], "csat": [5, 2, 4]})


def data(**tables) -> Dataset:
    return Dataset(default_journey("4742"), **({"events": EVENTS, "feedback": SURVEY} | tables))


#: the same survey whose date column was mapped but holds no date (every cell blank or blanked)
SURVEY_NO_DATE = SURVEY.with_columns(timestamp=pl.lit(None, pl.Datetime("us")))


@pytest.mark.parametrize("survey", [SURVEY, SURVEY_NO_DATE], ids=["no_column", "no_date"])
def test_period_filters_dated_events_and_leaves_an_undated_survey_whole(survey):
    out = Filters(start=date(2025, 2, 1), end=date(2025, 3, 31)).apply(data(feedback=survey))
    assert out.events["customer_id"].to_list() == ["feb_store", "mar_web"]
    assert out.feedback.equals(survey)


@pytest.mark.parametrize("survey", [SURVEY, SURVEY_NO_DATE], ids=["no_column", "no_date"])
def test_period_and_channel_on_an_undated_survey_apply_the_channel_only(survey):
    out = Filters(start=date(2025, 3, 1), channel=("web",)).apply(data(feedback=survey))
    assert out.events["customer_id"].to_list() == ["mar_web"]
    assert out.feedback["csat"].to_list() == [5, 2]  # the web answers, whatever their date


def test_a_dated_survey_is_filtered_and_its_undated_answers_left_out():
    dated = SURVEY.with_columns(timestamp=pl.Series([datetime(2025, 1, 5), None,
                                                     datetime(2025, 3, 5)]))
    out = Filters(start=date(2025, 2, 1)).apply(data(feedback=dated))
    assert out.feedback["csat"].to_list() == [4]  # the dated answer in the period only


def test_the_period_offered_comes_from_the_dated_tables():
    f = facets(data())
    assert (f.first_day, f.last_day) == (date(2025, 1, 10), date(2025, 4, 10))
    assert facets(data(events=None)).first_day is None  # an undated survey alone: no period
