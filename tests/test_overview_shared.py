"""The Overview's figures share the judged window and its journey funnel (issue 14): the
scorecard's metrics, the friction points, the headline tiles and the compact funnel count it
once. Shared or each computed on its own, every figure is exactly the same."""

from __future__ import annotations

import gc
import threading
from collections import Counter
from datetime import date

import polars as pl
import pytest

from cjm_core.analytics import scorecard as sc
from cjm_core.analytics.funnel import FunnelResult
from cjm_core.analytics.overview_tiles import headline_tiles, overview_funnel
from cjm_core.analytics.scorecard import _Shared, overview, shared_journey_funnel
from cjm_core.demo.sample import generate
from cjm_core.model.dataset import Dataset
from cjm_core.model.journey import default_journey
from cjm_core.parallel import pmap


def _dataset(isic: str, variant: str) -> Dataset:
    tables = generate(isic, customers=500, seed=3, start=date(2023, 7, 1), years=3)
    if variant == "undated feedback":
        tables["feedback"] = tables["feedback"].drop("timestamp")
    if variant == "events only":
        tables = {"events": tables["events"]}
    return Dataset(default_journey(isic), **tables)


CASES = [("4742", "all tables"), ("4773", "all tables"), ("4741", "all tables"),
         ("4742", "undated feedback"), ("4742", "events only")]


def _figures(data: Dataset, *, side_by_side: bool) -> tuple:
    """The Overview's figures, as the page asks for them (side by side, as ``ui.prefetch``)."""
    calls = [lambda: overview(data), lambda: headline_tiles(data), lambda: overview_funnel(data)]
    if side_by_side:
        (card, points), tiles, funnel = pmap(lambda call: call(), calls)
    else:
        (card, points), tiles, funnel = (call() for call in calls)
    return card, points, tiles, funnel


def _same_funnel(a: FunnelResult | None, b: FunnelResult | None) -> None:
    assert (a is None) == (b is None)
    if a is None or b is None:
        return
    assert a.table.equals(b.table) and a.mid_journey.equals(b.mid_journey)
    assert a.per_stage.equals(b.per_stage)
    assert a.to_dict() == b.to_dict()


@pytest.fixture
def fresh(monkeypatch):
    """Empty memos for this test (no figure of another test is shared)."""
    monkeypatch.setattr(sc, "_FUNNELS", _Shared(size=16))
    monkeypatch.setattr(sc, "_PERIODS", _Shared(size=1))


def _unshared(monkeypatch) -> None:
    """Memos that keep nothing: every caller computes its own window and funnel."""
    monkeypatch.setattr(sc, "_FUNNELS", _Shared(size=0))
    monkeypatch.setattr(sc, "_PERIODS", _Shared(size=0))


@pytest.mark.parametrize(("isic", "variant"), CASES)
def test_shared_figures_are_the_figures_computed_each_on_its_own(isic, variant, monkeypatch,
                                                                 fresh):
    data = _dataset(isic, variant)
    shared = _figures(data, side_by_side=True)
    _unshared(monkeypatch)
    alone = _figures(Dataset(data.journey, **data.tables()), side_by_side=False)
    (card, points, tiles, funnel), (card0, points0, tiles0, funnel0) = shared, alone
    # repr: the same figures to the last bit (floats print exactly), NaN included
    assert repr(card) == repr(card0)
    assert repr(points) == repr(points0) and points
    assert repr(tiles) == repr(tiles0) and tiles.tiles
    _same_funnel(funnel, funnel0)


def test_the_window_funnel_is_counted_once(monkeypatch, fresh):
    data = _dataset("4742", "all tables")
    counted: Counter = Counter()
    real = sc.journey_funnel

    def counting(journey, events=None, funnel_counts=None):
        counted[id(events)] += 1
        return real(journey, events, funnel_counts)

    monkeypatch.setattr(sc, "journey_funnel", counting)
    *_, funnel = _figures(data, side_by_side=True)
    window, _ = sc.judged_window(data)
    assert counted[id(window.events)] == 1 and max(counted.values()) == 1
    # the compact funnel is the very result the scorecard and the tiles read
    assert overview_funnel(data) is funnel
    assert shared_journey_funnel(window.journey, window.events, window.funnel_counts) is funnel
    _unshared(monkeypatch)
    counted.clear()
    _figures(Dataset(data.journey, **data.tables()), side_by_side=False)
    assert sum(counted.values()) >= 4  # metrics, friction, tiles (now and entrants), funnel


def test_a_caller_waits_for_the_same_computation():
    memo = _Shared(size=4)
    key = pl.DataFrame({"a": [1]})
    started, release = threading.Event(), threading.Event()
    runs = []

    def slow():
        runs.append(1)
        started.set()
        release.wait(5)
        return object()

    first: list = []
    t = threading.Thread(target=lambda: first.append(memo.get((key,), (), slow)))
    t.start()
    started.wait(5)
    second: list = []
    u = threading.Thread(target=lambda: second.append(memo.get((key,), (), slow)))
    u.start()
    release.set()
    t.join(5)
    u.join(5)
    assert len(runs) == 1 and first[0] is second[0]


def test_an_entry_goes_with_its_input_and_an_error_is_not_kept():
    memo = _Shared(size=4)
    frame = pl.DataFrame({"a": [1]})
    memo.get((frame, None), (), object)
    assert len(memo._entries) == 1
    del frame
    gc.collect()
    assert len(memo._entries) == 0

    other = pl.DataFrame({"a": [2]})

    def fails():
        raise ValueError("no")

    with pytest.raises(ValueError):
        memo.get((other,), (), fails)
    assert memo.get((other,), (), lambda: 7) == 7
    # the same id with another object is another entry (an id is reused once freed)
    assert memo.get((pl.DataFrame({"a": [3]}),), (), lambda: 1) == 1


def test_size_bounds_the_entries():
    memo = _Shared(size=2)
    frames = [pl.DataFrame({"a": [i]}) for i in range(4)]
    for i, f in enumerate(frames):
        assert memo.get((f,), (), lambda i=i: i) == i
    assert len(memo._entries) == 2
    assert memo.get((frames[3],), (), lambda: -1) == 3
