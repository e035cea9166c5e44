"""`funnel`, `metrics` and `report` on the command line give the same numbers as the core (and so
as the pages, which call the same functions)."""

from __future__ import annotations

import json

import pytest

from cjm_core.analytics.funnel import FunnelQuery, funnel
from cjm_core.analytics.scorecard import all_metrics, scorecard
from cjm_core.cli import main
from cjm_core.demo.sample import PLANTED_FACTS
from cjm_core.model.dataset import Dataset
from cjm_core.model.journey import default_journey
from cjm_core.storage.workspaces import load_dataset
from tests.conftest import ROOT

WORKBOOK = str(ROOT / "sample_data" / "sample_4742.xlsx")
EVENTS = (
    "customer,time,stage,channel\n"
    "bought,2025-01-01 13:00,A,web\n"
    "bought,2025-01-01 13:30,A,web\n"
    "bought,2025-01-01 13:45,B,store\n"
    "bought,2025-01-01 14:15,C,store\n"
    "left,2025-01-02 10:00,A,app\n"
)


def run(capsys, *args: str) -> dict:
    assert main(list(args)) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def events_csv(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(EVENTS)
    return str(path)


def test_funnel_reentry_case_from_the_design(events_csv, capsys):
    latest = run(capsys, "funnel", events_csv, "--steps", "A,B,C", "--window", "1h", "--json")
    first = run(capsys, "funnel", events_csv, "--steps", "A,B,C", "--window", "1h",
                "--reentry", "first", "--json")
    assert [s["reached"] for s in latest["steps"]] == [2, 1, 1]
    assert [s["reached"] for s in first["steps"]] == [2, 1, 0]
    assert latest["steps"][1]["step_conversion"] == 0.5
    assert latest["steps"][2]["median_seconds_to_convert"] == 1800


def test_funnel_breakdown_gives_segments(events_csv, capsys):
    out = run(capsys, "funnel", events_csv, "--steps", "A,B", "--by", "channel", "--json")
    segments = {s["segment"]["channel"]: [x["reached"] for x in s["steps"]]
                for s in out["segments"]}
    assert segments == {"web": [1, 1], "app": [1, 0]}


def test_metrics_match_the_core_on_the_sample_workbook(capsys, db_path):
    out = run(capsys, "metrics", WORKBOOK, "--industry", "4742", "--json")
    from cjm_core.storage.store import Store
    from cjm_core.storage.workspaces import ensure_sample_workspace

    with Store(db_path) as store:
        data = load_dataset(store, ensure_sample_workspace(store, "4742"))
    core = {(m.metric, json.dumps(m.by, sort_keys=True)): m.value for m in all_metrics(data)}
    cli = {(m["metric"], json.dumps(m["by"], sort_keys=True)): m["value"]
           for m in out["metrics"]}
    assert cli == pytest.approx(core)
    assert {g["status"] for g in out["gaps"]} <= {"met", "within", "missed", "no data"}
    assert len(out["gaps"]) == len(scorecard(data).gaps)
    planted = PLANTED_FACTS["4742"]["low_csat_touchpoint"]
    csat = [m for m in out["metrics"]
            if m["metric"] == "csat" and m["by"].get("touchpoint") == planted]
    assert csat and csat[0]["value"] < 0.65 and csat[0]["n"] >= 30


def test_every_metric_is_documented(capsys):
    out = run(capsys, "metrics", WORKBOOK, "--json")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = sorted({m["metric"] for m in out["metrics"]} - {
        name for name in {m["metric"] for m in out["metrics"]} if f"`{name}`" in readme})
    assert not missing, f"document these metrics in README.md: {missing}"


def test_funnel_matches_the_core(events_csv, capsys):
    out = run(capsys, "funnel", events_csv, "--steps", "A,B,C", "--json")
    from cjm_core.ingest.pipeline import ingest
    from cjm_core.storage.workspaces import dataset_from_loads

    data = dataset_from_loads(ingest(EVENTS.encode(), "events.csv"))
    table = funnel(data.events, FunnelQuery(steps=["A", "B", "C"]), data.journey).table
    assert [s["reached"] for s in out["steps"]] == table.sort("step_index")["reached"].to_list()


def test_unknown_breakdown_column_is_a_message(events_csv, capsys):
    assert main(["funnel", events_csv, "--steps", "A,B", "--by", "colour", "--json"]) == 2
    err = json.loads(capsys.readouterr().out)["error"]
    assert "colour" in err["message"] and "channel" in err["message"]


def test_metrics_of_a_feedback_only_file(tmp_path, capsys):
    path = tmp_path / "survey.csv"
    path.write_text("Kontaktpunkt;Zufriedenheit\nHotline;5\nHotline;2\nShop;4\n")
    out = run(capsys, "metrics", str(path), "--industry", "4773", "--json")
    overall = [m for m in out["metrics"] if m["metric"] == "csat" and m["by"] == {}]
    assert overall[0]["value"] == pytest.approx(2 / 3) and overall[0]["n"] == 3
    assert any(g["status"] == "no data" and g["reason"] for g in out["gaps"])
    assert Dataset(default_journey("4773")).tables() == {}


def test_report_writes_one_offline_html_file(tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["report", WORKBOOK, "--industry", "4742", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.lstrip().lower().startswith("<!doctype html")
    assert "<svg" in text and "<script" not in text.lower() and "https://" not in text
    assert PLANTED_FACTS["4742"]["low_csat_touchpoint"] in text


@pytest.mark.parametrize("suffix", ["png", "svg", "pdf", "json"])
def test_map_is_written_in_the_format_its_suffix_names(tmp_path, capsys, suffix):
    from cjm_core.journey_map.model import JourneyMap

    out = tmp_path / f"map.{suffix}"
    assert main(["map", WORKBOOK, "--industry", "4742", "--out", str(out)]) == 0
    body = out.read_bytes()
    signature = {"png": b"\x89PNG", "pdf": b"%PDF", "svg": b"<svg", "json": b"{"}[suffix]
    assert body.lstrip().startswith(signature)
    if suffix == "json":
        m = JourneyMap.from_json(body.decode())
        assert m.stages[0].name == "Discovery" and m.isic == "4742"


def test_map_for_a_segment_and_an_unknown_suffix(tmp_path, capsys):
    from cjm_core.journey_map.model import JourneyMap

    out = tmp_path / "online.json"
    assert main(["map", WORKBOOK, "--segment", "first_channel=online", "--out", str(out)]) == 0
    assert JourneyMap.from_json(out.read_text()).segment
    assert main(["map", WORKBOOK, "--out", str(tmp_path / "map.docx")]) == 2
    assert "map.docx" in capsys.readouterr().err


def test_a_step_that_is_not_in_the_data_stops_the_funnel_with_its_name(events_csv, capsys):
    # "Purchase" is no stage of the file: exit 2 naming it, never a table of silent zeros
    assert main(["funnel", events_csv, "--steps", "A,Purchase,C", "--json"]) == 2
    err = json.loads(capsys.readouterr().out)["error"]
    assert err["code"] == "unknown-step" and "'Purchase'" in err["message"]
    assert main(["funnel", events_csv, "--steps", "A,Purchase,C"]) == 2
    text = capsys.readouterr()
    assert "'Purchase'" in text.err and "Traceback" not in text.err + text.out
