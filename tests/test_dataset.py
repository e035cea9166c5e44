"""The shared filters on a dataset, checked by hand."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from cjm_core.model.dataset import Dataset
from cjm_core.model.filters import Filters
from cjm_core.model.journey import default_journey

EVENTS = pl.DataFrame({
    "customer_id": ["a", "a", "b", "c"],
    "timestamp": [datetime(2025, 1, 1), datetime(2025, 2, 1), datetime(2025, 1, 5),
                  datetime(2025, 3, 1)],
    "stage": ["Discovery", "Purchase", "Discovery", "Discovery"],
    "channel": ["web", "store", "app", "web"],
    "segment": ["pro", "pro", "gift", "gift"],
})
FEEDBACK = pl.DataFrame({"customer_id": ["a", "b", None], "csat": [5, 2, 4],
                         "timestamp": [datetime(2025, 1, 2)] * 3})
ANONYMOUS = pl.DataFrame({"csat": [5, 1], "touchpoint": ["Web", "Hotline"]})


def data(feedback=FEEDBACK) -> Dataset:
    return Dataset(default_journey("4742"), events=EVENTS, feedback=feedback)


def test_period_is_inclusive_of_both_days_in_the_ui_form():
    out = Filters(start=date(2025, 1, 5), end=date(2025, 2, 1)).apply(data())
    assert out.events["customer_id"].to_list() == ["a", "b"]


def test_channel_applies_to_tables_with_a_channel_only():
    out = Filters(channel=("web",)).apply(data())
    assert out.events.height == 2 and out.feedback.height == 3


def test_segment_follows_customers_into_other_tables():
    out = Filters(segment=("pro",)).apply(data())
    assert out.events["customer_id"].unique().to_list() == ["a"]
    assert out.feedback["csat"].to_list() == [5]


def test_segment_leaves_out_rows_it_cannot_tie_to_a_customer():
    out = Filters(segment=("pro",)).apply(data(ANONYMOUS))
    assert out.feedback.height == 0


def test_no_filter_returns_the_same_object_and_digest_tracks_content():
    d = data()
    assert Filters().apply(d) is d
    assert d.digest() == data().digest()
    assert d.digest() != data(ANONYMOUS).digest()


def test_stage_values_spelt_differently_take_the_stage_name_in_every_table():
    ev = EVENTS.with_columns(pl.Series("stage", ["DISCOVERY", "purchase", "Unboxing", None])
                             .cast(pl.Categorical))
    fb = pl.DataFrame({"stage": ["in-store demo", "Loyalty & Advocacy"], "csat": [5, 4]})
    out = Dataset(default_journey("4742"), events=ev, feedback=fb).with_stage_names()
    # "purchase" is the stage's key, which every figure already matches: left as it is
    assert out.events["stage"].to_list() == ["Discovery", "purchase", "Unboxing", None]
    assert out.feedback["stage"].to_list() == ["In-store demo", "Loyalty & advocacy"]
    same = data()
    assert same.with_stage_names() is same  # nothing to rename: the same object


def test_roles_played_are_roles_on_stages_the_events_have():
    played = data().roles_played  # events at Discovery and Purchase only
    assert played["purchase"] and not played["support"] and not played["inquiry"]
    no_events = Dataset(default_journey("4742"), feedback=FEEDBACK).roles_played
    assert no_events["support"]  # nothing to check against: the journey's word stands
