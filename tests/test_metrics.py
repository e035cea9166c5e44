"""The aggregator: asking for some metrics gives exactly those of the full list, and the
Overview's faster scorecard (periods measured only for relative targets) equals the full one."""

from __future__ import annotations

import pytest

from cjm_core.analytics.scorecard import (
    all_metrics,
    judged_window,
    overview,
    scorecard,
    top_friction,
)
from cjm_core.demo.sample import generate
from cjm_core.model.dataset import Dataset
from cjm_core.model.journey import default_journey


@pytest.fixture(scope="module", params=["4773", "4742"])
def data(request) -> Dataset:
    return Dataset(default_journey(request.param), **generate(request.param, 1500, seed=3))


def key(m):
    return (m.metric, tuple(sorted(m.by.items())), m.value, m.n)


def test_only_returns_the_asked_metrics_unchanged(data):
    full = all_metrics(data)
    asked = {"clv", "cart_abandonment", "fcr"}
    assert sorted(map(key, all_metrics(data, asked))) == sorted(
        key(m) for m in full if m.metric in asked)


def test_overview_gaps_equal_the_full_scorecard(data):
    card, points = overview(data)
    full = scorecard(data)
    assert [g.to_dict() for g in card.gaps] == [g.to_dict() for g in full.gaps]
    # the friction points are over the months the levels are judged on, as on the Overview
    window, _ = judged_window(data)
    assert [p.name for p in points] == [p.name for p in top_friction(window)]
