"""Issue 10 end to end, on small survey exports written for the purpose: a score's scale comes
from the user's choice, the header or the bulk of the answers (never the largest value), and a
bad score costs its cell, not the row. Through ``inspect``, ``metrics`` and a saved mapping."""

from __future__ import annotations

import json
import re

import pytest

from cjm_core.cli import main
from cjm_core.ingest.pipeline import ingest
from cjm_core.storage.workspaces import new_workspace, save_loads
from tests.conftest import ROOT

# a survey export: "(1-5)" in the header, three stray 7s; 16 of the 22 valid answers are 4 or 5
CSAT_ANSWERS = ["5", "4", "2", "5", "7", "4", "4", "1", "5", "3", "4", "7", "5", "4", "2",
                "5", "4", "3", "4", "7", "5", "4", "1", "5", "4"]
STRAY_SURVEY = "Antwort-ID;Kontaktpunkt;CSAT (1-5)\n" + "".join(
    f"A{i};{'Hotline' if i % 2 else 'Filiale'};{v}\n" for i, v in enumerate(CSAT_ANSWERS))
# no scale in the header; a third of the answers above 5
AMBIGUOUS_SURVEY = "Antwort-ID;Bewertung\n" + "".join(
    f"A{i};{v}\n" for i, v in enumerate(["4", "5", "3", "7", "5", "4", "6", "2", "7", "5",
                                         "1", "6"]))
# one bad score per row, and one row whose every score is bad
BAD_CELLS_SURVEY = (
    "Antwort-ID;Kontaktpunkt;Zufriedenheit (1 bis 5);Weiterempfehlung von 10\n"
    "A1;Hotline;5;junk\n"
    "A2;Hotline;kaputt;9\n"
    "A3;Filiale;4;10\n"
    "A4;Filiale;n/a;?\n"
)


def write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def inspect_json(capsys, *args: str) -> dict:
    assert main(["inspect", *args, "--json"]) == 0
    [entry] = json.loads(capsys.readouterr().out)["tables"]
    return entry


def test_inspect_shows_the_header_scale_and_reports_the_stray_values(tmp_path, capsys):
    path = write(tmp_path, "umfrage.csv", STRAY_SURVEY)
    entry = inspect_json(capsys, path)
    assert entry["table"] == "feedback" and entry["roles"]["csat"] == "CSAT (1-5)"
    assert entry["scales"]["csat"] == {"column": "CSAT (1-5)", "low": 1, "high": 5,
                                       "source": "header", "scale": "1–5"}
    strays = [(p["code"], p["row"], p["column"], p["value"]) for p in entry["problems"]]
    assert strays == [("out-of-range", row, "CSAT (1-5)", "7") for row in (6, 13, 21)]
    assert (entry["rows_in"], entry["rows_loaded"], entry["rows_rejected"]) == (25, 22, 3)

    assert main(["inspect", path]) == 0
    text = capsys.readouterr().out
    assert "scales: csat=1–5 (from the header)" in text
    assert "rows in 25, loaded 22, rejected 3, cells blanked 0" in text


def test_metrics_compute_csat_on_the_header_scale(tmp_path, capsys):
    path = write(tmp_path, "umfrage.csv", STRAY_SURVEY)
    assert main(["metrics", path, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    [overall] = [m for m in out["metrics"] if m["metric"] == "csat" and m["by"] == {}]
    assert overall["value"] == pytest.approx(16 / 22) and overall["n"] == 22


def test_an_unsettled_scale_is_asked_and_the_answer_applies(tmp_path, capsys):
    path = write(tmp_path, "bewertung.csv", AMBIGUOUS_SURVEY)
    entry = inspect_json(capsys, path, "--map", "csat=Bewertung")
    assert entry["status"] == "needs_answer" and entry["rows_loaded"] == 0
    [question] = entry["questions"]
    assert (question["code"], question["role"], question["options"]) == (
        "ambiguous-scale", "csat", ["5", "7"])
    assert main(["inspect", path, "--map", "csat=Bewertung"]) == 0
    assert "(answer with --scale csat=5 or 7)" in capsys.readouterr().out

    entry = inspect_json(capsys, path, "--map", "csat=Bewertung", "--scale", "csat=7")
    assert entry["status"] == "loaded" and entry["rows_loaded"] == 12
    assert entry["scales"]["csat"]["source"] == "your choice"


@pytest.mark.parametrize("bad", ["csat=9", "nps=5", "effort=5", "csat"])
def test_a_scale_that_does_not_exist_is_refused_with_the_choices(tmp_path, bad, capsys):
    path = write(tmp_path, "bewertung.csv", AMBIGUOUS_SURVEY)
    assert main(["inspect", path, "--scale", bad]) == 2
    assert re.search(r"--scale expects ROLE=SCALE \(csat=5\|7\|10", capsys.readouterr().err)


def test_one_bad_score_per_row_costs_that_cell_only(tmp_path, capsys):
    path = write(tmp_path, "umfrage.csv", BAD_CELLS_SURVEY)
    entry = inspect_json(capsys, path, "--map", "csat=Zufriedenheit (1 bis 5)",
                         "--map", "nps=Weiterempfehlung von 10")
    assert (entry["rows_in"], entry["rows_loaded"], entry["rows_rejected"],
            entry["cells_blanked"]) == (4, 3, 1, 2)
    assert entry["scales"]["csat"]["scale"] == "1–5"
    found = [(p["code"], p["row"], p["column"], p["value"], p["severity"])
             for p in entry["problems"]]
    assert found == [
        ("bad-number", 2, "Weiterempfehlung von 10", "junk", "warning"),
        ("bad-number", 3, "Zufriedenheit (1 bis 5)", "kaputt", "warning"),
        ("bad-number", 5, "Zufriedenheit (1 bis 5)", "n/a", "error"),
        ("bad-number", 5, "Weiterempfehlung von 10", "?", "error"),
    ]
    assert main(["metrics", path, "--json", "--map", "csat=Zufriedenheit (1 bis 5)",
                 "--map", "nps=Weiterempfehlung von 10"]) == 0
    metrics = json.loads(capsys.readouterr().out)["metrics"]
    overall = {m["metric"]: (m["value"], m["n"]) for m in metrics if m["by"] == {}}
    assert overall["csat"] == (1.0, 2)      # A1 and A3
    assert overall["nps"] == (100.0, 2)     # A2 and A3


def test_the_chosen_scale_is_saved_with_the_mapping(store, tmp_path):
    ws = new_workspace(store, "Umfragen", "4773")
    data = AMBIGUOUS_SURVEY.encode()
    loads = ingest(data, "bewertung.csv", overrides={"csat": "Bewertung"}, table="feedback",
                   scales={"csat": 7})
    assert loads[0].result.status == "loaded"
    save_loads(store, ws, loads)
    assert store.find_mapping(loads[0].columns).scales == {"csat": 7}

    again = ingest(data, "bewertung (2).csv", lookup=store.find_mapping)
    assert again[0].choice.mapping_reused and again[0].choice.scales == {"csat": 7}
    assert again[0].result.status == "loaded"
    assert again[0].result.scale_details["csat"].describe() == "1–7 (your choice)"


@pytest.mark.parametrize("isic", ["4741", "4742", "4773"])
def test_sample_workbooks_settle_every_scale_and_lose_no_cell(isic):
    path = ROOT / "sample_data" / f"sample_{isic}.xlsx"
    loads = ingest(path.read_bytes(), path.name)
    assert {ld.result.status for ld in loads} == {"loaded"}
    scales = {(ld.result.table, role): s.high for ld in loads
              for role, s in ld.result.scale_details.items()}
    ces = 7 if isic == "4773" else 5  # the generator's CES scale per industry
    assert scales == {("feedback", "csat"): 5, ("feedback", "nps"): 10,
                      ("feedback", "ces"): ces, ("support", "ces"): ces}


def test_a_header_scale_travels_to_csat_even_when_no_answer_reaches_its_top():
    from cjm_core.analytics.satisfaction import ces, csat, distribution

    raw_text = ("Kunde;Zufriedenheit (1 bis 7);Aufwand /7\n"
                + "".join(f"K{i};{c};{e}\n" for i, (c, e) in
                          enumerate([("5", "1"), ("4", "2"), ("5", "1"), ("3", "5")])))
    [ld] = ingest(raw_text.encode(), "umfrage.csv", table="feedback",
                  overrides={"csat": "Zufriedenheit (1 bis 7)", "ces": "Aufwand /7"})
    data = ld.result.data
    assert data["csat_scale"].unique().to_list() == [7]
    assert data["ces_scale"].unique().to_list() == [7]
    # on 1–7 the top boxes are 6–7: nobody is in them (the 1–5 reading would say 75%)
    assert csat(data)[0].value == 0.0
    assert distribution(data, "ces")["score"].to_list() == [1, 2, 3, 4, 5, 6, 7]
    assert ces(data)[0].n == 4


def test_a_mapping_saved_before_scales_existed_still_loads(tmp_path, monkeypatch):
    import cjm_core.storage.database as store_module
    from cjm_core.storage.database import now as _now
    from cjm_core.storage.database import run as _q
    from cjm_core.storage.store import Store

    path = tmp_path / "old.duckdb"
    monkeypatch.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS[:4])
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 4)
    with Store(path) as old, old._transaction() as cur:  # a file written by the previous app
        _q(cur, "INSERT INTO mappings VALUES (?, ?, ?, ?, ?, ?)",
           [Store.column_signature(["Kunde", "Bewertung"]), "feedback", '["Kunde", "Bewertung"]',
            '{"csat": "Bewertung"}', None, _now()])
    monkeypatch.undo()
    with Store(path) as s:
        assert s.schema_version == store_module.SCHEMA_VERSION >= 5
        mapping = s.find_mapping(["Kunde", "Bewertung"])
        assert mapping.roles == {"csat": "Bewertung"} and mapping.scales == {}
        s.save_mapping(["Kunde", "Bewertung"], "feedback", {"csat": "Bewertung"},
                       scales={"csat": 10})
        assert s.find_mapping(["Kunde", "Bewertung"]).scales == {"csat": 10}
