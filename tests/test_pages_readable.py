"""Every table a user sees on Channels, Touchpoints, Post-purchase, Benchmarks, Overview and Data
reads as words and numbers, not code (issue 13 §2): walked with AppTest on the sample
workspaces, each shown dataframe's headers (as the column config labels them) and cells are
checked for snake_case identifiers, "None", raw JSON, percentages with more than one decimal and
durations in raw seconds."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from cjm_core.storage.store import Store
from cjm_core.storage.workspaces import ensure_sample_workspace
from tests.conftest import ROOT, FakeUpload

SNAKE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")
LONG_PERCENT = re.compile(r"\d\.\d{2,}\s?%")
RAW_SECONDS = re.compile(r"\b\d{4,} s\b")


def shown_tables(at: AppTest) -> list[tuple[list[str], pd.DataFrame, bool, list[bool]]]:
    """(headers as shown, visible columns, whether empty cells have a placeholder, whether each
    column has a number format or is an input the user types numbers into) of every dataframe
    and data editor on the page."""
    out = []
    for element in at.dataframe:
        config = json.loads(element.proto.columns or "{}")
        frame = element.value
        visible = [c for c in frame.columns if not config.get(str(c), {}).get("hidden")]
        headers = [config.get(str(c), {}).get("label") or str(c) for c in visible]
        editor = getattr(element, "editing_mode", "read_only") != "read_only"
        formats = [bool(config.get(str(c), {}).get("type_config", {}).get("format"))
                   or (editor and not config.get(str(c), {}).get("disabled"))
                   for c in visible]
        out.append((headers, frame[visible], bool(element.proto.placeholder), formats))
    return out


def problems(at: AppTest) -> list[str]:
    """What reads as code in the page's tables, one line each (empty: all readable)."""
    found = []
    for i, (headers, frame, placeholder, formats) in enumerate(shown_tables(at)):
        where = f"table {i} {headers[:3]}"
        found += [f"{where}: header {h!r}" for h in headers if SNAKE.fullmatch(h)]
        for column, header, formatted in zip(frame.columns, headers, formats, strict=True):
            if pd.api.types.is_float_dtype(frame[column]) and not formatted:
                found.append(f"{where}: {header!r} shows raw numbers ({frame[column].iloc[0]})")
                continue
            for value in frame[column]:
                if value is None or (not isinstance(value, str) and pd.isna(value)):
                    if not placeholder:
                        found.append(f"{where}: empty cell shown as 'None' in {header!r}")
                    continue
                text = str(value)
                if (text == "None" or '{"' in text or LONG_PERCENT.search(text)
                        or RAW_SECONDS.search(text)):
                    found.append(f"{where}: {header!r} cell {text!r}")
    return found


def page(db_path, name: str, isic: str = "4742") -> AppTest:
    with Store(db_path) as store:
        ws = ensure_sample_workspace(store, isic)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["ws"] = ws
    at.run()
    at.switch_page(f"app_pages/{name}.py").run()
    assert not at.exception, at.exception
    assert at.dataframe, f"{name} shows no table"
    return at


def readable(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not problems(at), "\n".join(problems(at))


@pytest.mark.parametrize("isic", ["4742", "4773"])
def test_channels(db_path, isic):
    at = page(db_path, "channels", isic)
    readable(at)
    at.radio(key="channels_view").set_value("matrix").run()
    readable(at)
    at.radio(key="channels_by").set_value("touchpoint").run()
    readable(at)


def test_touchpoints(db_path):
    at = page(db_path, "touchpoints")
    readable(at)
    at.radio(key="tp_score").set_value("nps").run()
    readable(at)
    at.radio(key="tp_by").set_value("stage").run()
    readable(at)


@pytest.mark.parametrize("isic", ["4742", "4773"])
def test_post_purchase(db_path, isic):
    at = page(db_path, "post_purchase", isic)
    readable(at)
    at.toggle(key="pp_cuts").set_value(True).run()
    readable(at)


@pytest.mark.parametrize("isic", ["4742", "4773", "4741"])
@pytest.mark.parametrize("name", ["benchmarks", "overview"])
def test_gaps_and_targets(db_path, name, isic):
    readable(page(db_path, name, isic))


def test_gaps_of_a_workspace_without_data(db_path):
    """Every target is "no data": its note names what is missing in words."""
    import ui  # the app's own store (Streamlit caches it for the whole process)
    from cjm_core.storage.workspaces import new_workspace

    ws = new_workspace(ui.get_store(), "Nothing yet", "4773")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["ws"] = ws
    at.run()
    at.switch_page("app_pages/benchmarks.py").run()
    readable(at)
    gaps = at.dataframe[0].value
    assert set(gaps["Status"]) == {"– no data"}


#: an events export with a bad date (a problems table) and a column no role reads
EVENTS = "cust_no,when,step,kanal,memo\n" + "".join(
    f"K{i},2025-01-{i + 1:02d} 10:00,{'Browse' if i % 2 else 'Buy'},web,F{i % 3}\n"
    for i in range(12)) + "K99,someday,Buy,web,F0\n"


def test_data_page_with_an_upload(db_path, upload):
    upload.append(FakeUpload("export.csv", EVENTS.encode()))
    at = page(db_path, "data")
    readable(at)
    headers = [h for h, _, _, _ in shown_tables(at)]
    assert ["Code", "Row", "Column", "Value", "Problem", "Severity"] in headers  # the report


def test_the_check_finds_code():
    """The walk's own check flags each kind of code (so the page tests can fail)."""
    from types import SimpleNamespace

    class Fake:
        def __init__(self, frame, config=None, placeholder=""):
            self.value = frame
            self.proto = SimpleNamespace(columns=json.dumps(config or {}),
                                         placeholder=placeholder)

    class Page:
        def __init__(self, *tables):
            self.dataframe = list(tables)

    bad = pd.DataFrame({"median_seconds": ["1210158 s"], "ok": ['{"stage_role": "x"}'],
                        "rate": ["0.2494%"], "n": [None], "Share": [0.523371]})
    found = problems(Page(Fake(bad, {"ok": {"label": "Where"}})))  # type: ignore[arg-type]
    assert len(found) == 6, found
    good = pd.DataFrame({"Median time": ["14 d 0 h"], "Where": ["all"], "Rate": ["0.2%"],
                         "n": [None]})
    assert not problems(Page(Fake(good, placeholder="–")))  # type: ignore[arg-type]


def test_overview_and_benchmarks_title_the_scorecard_alike(db_path):
    """The Overview's "Scorecard as a table" has the Benchmarks page's column titles and
    tooltips, not its own lowercase ones."""
    def gaps_table_of(name: str) -> tuple[list[str], dict]:
        at = page(db_path, name)
        (headers, frame, _, _), element = shown_tables(at)[0], at.dataframe[0]
        config = json.loads(element.proto.columns or "{}")
        return headers, {c: config.get(c, {}).get("help") for c in frame.columns}

    overview, benchmarks = gaps_table_of("overview"), gaps_table_of("benchmarks")
    assert overview == benchmarks
    assert overview[0][:3] == ["Metric", "Where", "Value (95% interval)"]
    assert "Target" in overview[0] and "Status" in overview[0]
    assert overview[1]["Distance"] and "percentage points" in overview[1]["Distance"]


@pytest.mark.parametrize("name", ["channels", "touchpoints", "post_purchase", "overview",
                                  "benchmarks"])
def test_captions_name_their_months_and_no_identifiers(db_path, name):
    """A page's captions read as words (no "resolved_at − opened_at"), and the pages that show
    all the data say which months and that the Overview judges the last 12 of them."""
    at = page(db_path, name)
    captions = [c.value for c in at.caption]
    assert not [c for c in captions if re.search(r"\b" + SNAKE.pattern + r"\b", c)], captions
    text = " ".join(captions)
    if name in ("channels", "touchpoints", "post_purchase"):
        assert "All the data shown (Jan 2024–Dec 2025); the Overview and Benchmarks judge its " \
               "last 12 months." in text
    else:
        assert "Jan–Dec 2025" in text and "Jan 2024–Dec 2025" not in text
