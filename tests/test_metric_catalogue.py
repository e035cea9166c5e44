"""The metric catalogue (issue 12 §3): every metric the core returns has one entry, with one
label, and README's metric table is the catalogue's."""

from __future__ import annotations

import re

import pytest

from cjm_core.analytics.scorecard import all_metrics
from cjm_core.industries.journeys import INDUSTRIES
from cjm_core.metric import CATALOGUE, COLUMN_FORMATS, info, label, markdown_table
from cjm_core.storage.workspaces import ensure_sample_workspace, load_dataset
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def sample_metrics(tmp_path_factory):
    """Every metric all_metrics returns on the three sample workspaces."""
    from cjm_core.storage.store import Store

    with Store(tmp_path_factory.mktemp("catalogue") / "ws.duckdb") as store:
        return {isic: all_metrics(load_dataset(store, ensure_sample_workspace(store, isic)))
                for isic in INDUSTRIES}


@pytest.mark.parametrize("isic", list(INDUSTRIES))
def test_every_metric_of_a_sample_workspace_has_an_entry_in_its_unit(sample_metrics, isic):
    metrics = sample_metrics[isic]
    assert metrics
    missing = sorted({m.metric for m in metrics} - set(CATALOGUE))
    assert not missing, f"add these metrics to cjm_core.metric.CATALOGUE: {missing}"
    assert {(m.metric, m.unit) for m in metrics} <= {(i.name, i.unit) for i in CATALOGUE.values()}


def test_the_samples_together_return_every_catalogued_metric(sample_metrics):
    returned = {m.metric for ms in sample_metrics.values() for m in ms}
    assert returned == set(CATALOGUE), "an entry no sample shows may be a stale name"


def test_one_spelling_per_metric():
    labels = [i.label for i in CATALOGUE.values()]
    assert len(set(labels)) == len(labels)
    assert all(name == i.name for name, i in CATALOGUE.items())
    assert info("fcr").label == "First-contact resolution"
    assert info("resolution_hours_p90").label == "Resolution time, 90th percentile"


@pytest.mark.parametrize("entry", list(CATALOGUE.values()), ids=list(CATALOGUE))
def test_an_entry_is_complete(entry):
    assert entry.label and entry.definition
    assert entry.fmt == COLUMN_FORMATS[entry.unit]
    assert entry.direction in ("higher", "lower")


def test_an_unknown_name_is_an_error_or_words():
    with pytest.raises(KeyError, match="not in the catalogue"):
        info("returns_rate")
    assert label("returns_rate") == "returns rate"


def test_readme_metric_table_is_the_catalogue():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- metrics:start -->\n(.*?)\n<!-- metrics:end -->", readme, re.S)
    assert found, "README.md has lost its <!-- metrics:start/end --> markers"
    assert found.group(1) == markdown_table(), (
        "README's metric table differs from cjm_core.metric.CATALOGUE; paste "
        "cjm_core.metric.markdown_table() between the markers:\n" + markdown_table())
