"""The view settings registry (cjm_core.model.settings): every setting reads its URL form back,
junk in a URL falls back to the default and never raises, unknown names in a list are dropped
with the rest kept, and every setting is documented in the README's list of URL parameters."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cjm_core.model import settings as S
from cjm_core.model.filters import FILTER_SETTINGS
from tests.conftest import ROOT

EVERY = [s for group in S.VIEW_SETTINGS.values() for s in group]
JUNK = ["", "abc", "-1", "1e9", "99999999999999999999999", "true,false", "\\", ",,,", "\0",
        "<script>", "ordered ", "NaN", "7.5", "%20"]


def test_names_are_unique_and_apart_from_the_filters():
    names = [s.name for s in EVERY]
    assert len(names) == len(set(names))
    assert not set(names) & ({f.name for f in FILTER_SETTINGS} | {"ws"})


@pytest.mark.parametrize("setting", EVERY, ids=lambda s: s.name)
@pytest.mark.parametrize("text", JUNK)
def test_junk_never_raises_and_gives_a_valid_value_or_the_default(setting, text):
    value = setting.read({setting.name: text}, default=setting.default)
    assert value == setting.default or setting.allows(value)


@pytest.mark.parametrize("setting", [s for s in EVERY if s.choices], ids=lambda s: s.name)
def test_every_choice_goes_to_the_url_and_back(setting):
    for value in setting.choices:
        text = setting.to_text(value)
        assert text is None if value == setting.default else text == value
        assert setting.read({setting.name: value}) == value
    assert setting.read({setting.name: "nonsense"}) == setting.default
    assert setting.read({}) == setting.default


def test_window_reads_whole_days_and_falls_back_on_junk():
    assert S.FUNNEL_WINDOW.read({"funnel_window": "7"}) == 7
    assert S.FUNNEL_WINDOW.read({"funnel_window": "0"}) == 0  # no window
    for junk in ("abc", "-3", "7.5", "", "10000001"):
        assert S.FUNNEL_WINDOW.read({"funnel_window": junk}) == 30
    assert S.FUNNEL_WINDOW.to_text(30) is None and S.FUNNEL_WINDOW.to_text(7) == "7"


def test_switches_read_yes_and_no():
    read = S.FUNNEL_EXCLUDE_OPEN.read
    assert read({"funnel_exclude_open": "true"}) is True
    assert read({"funnel_exclude_open": "0"}) is False
    assert read({"funnel_exclude_open": "maybe"}) is False
    assert S.FUNNEL_EXCLUDE_OPEN.to_text(True) == "true"
    assert S.FUNNEL_EXCLUDE_OPEN.to_text(False) is None


def test_steps_not_in_the_data_are_dropped_and_the_rest_kept_in_order():
    offered = ["Discovery", "Research", "Purchase", "Support"]
    default = offered[:2]
    read = S.FUNNEL_STEPS.read
    assert read({"funnel_steps": "Purchase,Ghost,Discovery,Purchase"}, choices=offered,
                default=default) == ["Purchase", "Discovery"]
    assert read({"funnel_steps": "Ghost,Phantom"}, choices=offered, default=default) == default
    assert read({}, choices=offered, default=default) == default
    # an empty value is what a sender who cleared every step gets: it reads back as no steps
    assert read({"funnel_steps": ""}, choices=offered, default=default) == []
    assert S.FUNNEL_STEPS.to_text([], default=default) == ""


def test_names_with_commas_and_backslashes_survive_the_url():
    steps = ["Buy, then pay", "a\\b", "plain"]
    text = S.FUNNEL_STEPS.to_text(steps, default=[])
    assert S.FUNNEL_STEPS.read({"funnel_steps": text}, choices=steps, default=[]) == steps


def test_breakdown_keeps_at_most_two_known_columns():
    dims = ["channel", "segment", "device"]
    read = S.FUNNEL_BREAKDOWN.read
    assert read({"funnel_breakdown": "device,nope,channel,segment"}, choices=dims) == \
        ["device", "channel"]
    assert read({"funnel_breakdown": "nope"}, choices=dims) == []


def test_data_default_follows_the_data_and_is_left_out_of_the_url():
    assert S.TP_TOUCHPOINT.read({"tp_touchpoint": "Hotline"}, choices=["Web", "Hotline"],
                                default="Web") == "Hotline"
    assert S.TP_TOUCHPOINT.read({"tp_touchpoint": "Gone"}, choices=["Web"], default="Web") == "Web"
    assert S.TP_TOUCHPOINT.to_text("Web", default="Web") is None
    assert S.TP_TOUCHPOINT.to_text("Hotline", default="Web") == "Hotline"


def test_allows_checks_choices_bounds_and_list_length():
    assert S.CHANNELS_TOP.allows(40, range(5, 61))
    assert not S.CHANNELS_TOP.allows(80, range(5, 61))
    assert not S.CHANNELS_TOP.allows(3)
    assert not S.FUNNEL_BREAKDOWN.allows(["a", "b", "c"])
    assert not S.FUNNEL_MODE.allows("sideways")
    assert S.FUNNEL_MODE.allows("any")


def test_the_read_default_is_a_fresh_list():
    a = S.FUNNEL_BREAKDOWN.read({})
    a.append("x")
    assert S.FUNNEL_BREAKDOWN.read({}) == []


def _url_parameters_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- url-parameters:start -->\n(.*?)<!-- url-parameters:end -->", text,
                      re.S)
    assert found, "README.md needs the url-parameters block (the Sharing section)"
    return found.group(1)


def test_every_url_parameter_is_documented_in_the_readme():
    block = _url_parameters_block()
    names = ["ws", *(f.name for f in FILTER_SETTINGS), *(s.name for s in EVERY)]
    missing = [n for n in names if f"| `{n}` |" not in block]
    assert not missing, f"list these URL parameters in README.md: {missing}"


def test_the_readme_block_is_written_from_the_registry():
    assert _url_parameters_block() == S.parameters_table(), \
        "regenerate: python -c 'from cjm_core.model.settings import parameters_table as t; " \
        "print(t(), end=\"\")'"


def test_the_sidebar_filters_use_the_same_registry_and_survive_odd_names():
    from datetime import date

    from cjm_core.model.filters import Filters

    f = Filters(start=date(2025, 1, 1), channel=("web, app", "store"), segment=("a\\b",))
    assert Filters.from_query(f.to_query()) == f
    assert Filters.from_query({"start": "not a date", "end": "2025-02-30"}) == Filters()
    assert all(isinstance(s, S.Setting) for s in FILTER_SETTINGS)


@given(st.lists(st.text(min_size=1, max_size=12), max_size=6))
@example(["a\0b", "\\", ",", "\\,"])
def test_any_names_go_to_the_url_and_back(values):
    assert S.names(S.dump_names(values)) == values


@given(st.text(max_size=30))
def test_any_text_reads_without_raising(text):
    for setting in EVERY:
        setting.read({setting.name: text}, choices=None, default=setting.default)
