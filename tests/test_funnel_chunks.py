"""The funnel gives the same counts whatever the layout of its columns (issue 14): a table read
from a file comes in many chunks, and the time units are then computed in place on polars'
copy; a single chunk is read through a view."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from cjm_core.analytics.funnel import FunnelQuery, funnel
from cjm_core.demo.sample import generate_events


def test_a_chunked_table_gives_the_funnel_of_the_same_table_in_one_chunk():
    events = generate_events(20_000, "4742", seed=4, categorical=False)
    parts = [events.slice(i, 2_500) for i in range(0, events.height, 2_500)]
    chunked = pl.concat(parts, rechunk=False)
    assert chunked["timestamp"].n_chunks() > 1
    steps = ["Discovery", "Online research", "In-store demo", "Purchase"]
    for window in (None, timedelta(days=2)):
        q = FunnelQuery(steps=steps, window=window, breakdown=("channel",))
        a, b = funnel(chunked, q), funnel(events.rechunk(), q)
        assert a.table.equals(b.table)
        assert (a.open_windows, a.entered_mid_journey) == (b.open_windows, b.entered_mid_journey)
    # and the events themselves are left as they were
    assert chunked.equals(events)


def test_time_units_in_milliseconds_and_microseconds_survive_the_in_place_path():
    t0 = datetime(2025, 1, 1)
    frame = pl.concat([pl.DataFrame({"customer_id": ["a", "a"], "stage": ["A", "B"],
                                     "timestamp": [t0, t0 + timedelta(milliseconds=1)]}),
                       pl.DataFrame({"customer_id": ["b", "b"], "stage": ["A", "B"],
                                     "timestamp": [t0, t0 + timedelta(microseconds=3)]})],
                      rechunk=False)
    q = FunnelQuery(steps=["A", "B"], window=timedelta(microseconds=5))
    assert funnel(frame, q).table["reached"].to_list() == [2, 1]
    assert frame["timestamp"].to_list()[1] == t0 + timedelta(milliseconds=1)
