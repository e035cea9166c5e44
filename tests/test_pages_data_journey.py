"""The Data page offers the journey the saved events show, and "Use this journey" saves it
(Streamlit AppTest)."""

from __future__ import annotations

from datetime import datetime

import polars as pl
from streamlit.testing.v1 import AppTest

from cjm_core.model.journey import default_journey
from cjm_core.storage.store import Store
from tests.conftest import ROOT, FakeUpload


def form_widget(widgets, name: str):
    """The journey form's widget ``name`` (its key ends with the form's own suffix)."""
    (widget,) = [w for w in widgets if (w.key or "").split("@")[0] == name]
    return widget


STAGES = ["Ad seen", "Browse", "Visit store", "Checkout", "Helpdesk"]
GERMAN = ["Werbung gesehen", "Online recherchiert", "Beratung im Laden", "Kauf", "Reklamation"]


def test_first_events_uploaded_set_the_journey_from_the_data(db_path, upload):
    lines = ["Kunde;Zeitpunkt;Phase;Kanal"] + [
        f"K{i};2025-03-0{1 + d} 10:00;{stage};Web"
        for i in range(12) for d, stage in enumerate(GERMAN[: 1 + i % 5])]
    upload.append(FakeUpload("export.csv", ("\n".join(lines) + "\n").encode()))
    with Store(db_path) as store:
        ws = store.create_workspace("Laden", default_journey("4773"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["ws"] = ws
    at.run()
    at.switch_page("app_pages/data.py")
    at.run()
    assert not at.exception, at.exception
    at.button(key="save_uploads").click().run()
    assert not at.exception, at.exception
    # one message after the save's rerun, and the sidebar already counts the new table
    assert any("The journey now follows your data" in m.value and "Saved: events" in m.value
               for m in at.success)
    assert any(t.value.startswith("events:") for t in at.sidebar.text) or any(
        "events:" in m.value for m in at.sidebar.markdown)
    assert form_widget(at.data_editor, "journey_stages").value["stage"].to_list() == GERMAN
    assert any("The journey follows your data" in c.value for c in at.caption)
    with Store(db_path) as store:
        saved = store.get_journey(ws)
    assert [s.name for s in saved.stages] == GERMAN
    assert saved.stage_roles == {"consultation": "beratung_im_laden", "purchase": "kauf",
                                 "support": "reklamation"}


def test_data_page_offers_the_data_journey_and_saves_it(db_path):
    # events saved straight to the store: the journey is still the template (as in a workspace
    # whose journey was set before its events came)
    paths = {f"c{i}": STAGES[: 1 + i % 5] for i in range(20)}
    events = pl.DataFrame(
        [(who, stage, datetime(2025, 1, 1 + day)) for who, path in paths.items()
         for day, stage in enumerate(path)],
        schema=["customer_id", "stage", "timestamp"], orient="row")
    with Store(db_path) as store:
        ws = store.create_workspace("Laden", default_journey("4773"))
        store.save_tables(ws, {"events": events})

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["ws"] = ws
    at.run()
    at.switch_page("app_pages/data.py")
    at.run()
    assert not at.exception, at.exception
    offer = " ".join(i.value for i in at.info)
    assert "Ad seen → Browse → Visit store → Checkout → Helpdesk" in offer
    table = next(d.value for d in at.dataframe if "Share of customers" in d.value.columns)
    assert table["Stage"].to_list() == STAGES
    assert table["Role"].to_list() == ["–", "–", "inquiry", "purchase", "support"]

    at.button(key="use_data_journey").click().run()
    assert not at.exception, at.exception
    assert " ".join(s.value for s in at.success).startswith("Journey set from your data")
    with Store(db_path) as store:
        saved = store.get_journey(ws)
    assert [s.name for s in saved.stages] == STAGES
    assert saved.stage_roles == {"inquiry": "visit_store", "purchase": "checkout",
                                 "support": "helpdesk"}
    # the editor now shows the saved journey, and the offer is gone
    assert form_widget(at.data_editor, "journey_stages").value["stage"].to_list() == STAGES
    assert not any("Your data show this journey" in i.value for i in at.info)


def test_a_new_workspaces_journey_form_shows_its_own_industry(db_path):
    # seen: after creating a 4773 workspace, the journey form kept the sample's 4742, and
    # "Save journey" switched the new workspace to 4742
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.switch_page("app_pages/data.py")
    at.run()
    # the sample's form, drawn once
    assert form_widget(at.selectbox, "journey_isic").value == "4742"
    at.text_input(key="new_ws_name").input("Fachhandel Süd")
    at.selectbox(key="new_ws_isic").set_value("4773")
    at.button(key="new_ws_create").click().run()
    assert not at.exception, at.exception
    ws = at.session_state["workspace_id"]
    assert ws != "sample-4742"
    assert form_widget(at.selectbox, "journey_isic").value == "4773"
    at.button(key="save_journey").click().run()
    with Store(db_path) as store:
        assert store.get_journey(ws).isic == "4773"
