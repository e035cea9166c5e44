"""The Data page's role boxes and every table editor a user types into (the journey's stages
on the Data page, the map's Edit tab) are labelled in words and show a placeholder, never
"None", in an empty cell (issue 13 §2; Streamlit AppTest, the upload widget stood in for)."""

from __future__ import annotations

import json
import re

from streamlit.testing.v1 import AppTest

from cjm_core.model.journey import default_journey
from cjm_core.model.schema import TABLES
from cjm_core.storage.store import Store
from tests.conftest import ROOT, FakeUpload

#: a role id or column name as code: lowercase with an underscore, or a lone lowercase word
CODE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")

SURVEY = ("Kunde;Kontaktpunkt;CSAT (1-5);NPS\n"
          "K1;Web;5;9\nK2;Web;4;8\nK3;Laden;2;10\n")


def data_page(db_path) -> AppTest:
    with Store(db_path) as store:
        ws = store.create_workspace("Umfragen", default_journey("4773"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["ws"] = ws
    at.run()
    at.switch_page("app_pages/data.py").run()
    assert not at.exception, at.exception
    return at


def editors(at: AppTest) -> list[tuple[str, list[str], bool]]:
    """(key, headers as shown, whether empty cells show a placeholder) of each table editor."""
    out = []
    for element in at.dataframe:
        if getattr(element, "editing_mode", "read_only") == "read_only":
            continue
        config = json.loads(element.proto.columns or "{}")
        visible = [str(c) for c in element.value.columns
                   if not config.get(str(c), {}).get("hidden")]
        headers = [config.get(c, {}).get("label") or c for c in visible]
        out.append((element.proto.id, headers, bool(element.proto.placeholder)))
    return out


def test_role_boxes_read_labels_and_keep_their_keys(db_path, upload):
    upload.append(FakeUpload("umfrage.csv", SURVEY.encode()))
    at = data_page(db_path)
    at.selectbox(key=next(s.key for s in at.selectbox if s.key.startswith("table:"))) \
        .set_value("events").run()
    boxes = {s.key.rsplit(":", 1)[1]: s.label for s in at.selectbox
             if s.key.startswith("role:") and ":events:" in s.key}
    assert set(boxes) == {r.name for r in TABLES["events"]}  # the keys are still the role ids
    assert boxes["customer_id"] == "customer id *"
    assert boxes["timestamp"] == "timestamp *" and boxes["segment"] == "segment"
    assert not [label for label in boxes.values() if "_" in label]


def test_score_roles_and_scales_read_the_catalogue_labels(db_path, upload):
    upload.append(FakeUpload("umfrage.csv", SURVEY.encode()))
    at = data_page(db_path)
    labels = [s.label for s in at.selectbox
              if s.key.startswith(("role:", "scale:")) and ":feedback:" in s.key
              and s.key.endswith((":csat", ":nps", ":ces"))]
    assert sorted(labels) == ["CES", "CSAT", "CSAT scale", "NPS"], labels
    text = " ".join(m.value for m in at.markdown)
    assert "Score scales: CSAT (column" in text and "csat (" not in text


def test_the_journey_editor_is_labelled_and_shows_no_none(db_path):
    at = data_page(db_path)
    (stages,) = [e for e in editors(at)]
    _, headers, placeholder = stages
    assert headers == ["Order", "Stage"] and placeholder
    roles = [s.label for s in at.selectbox if (s.key or "").startswith("stage_role:")]
    assert roles == ["Inquiry stage", "Consultation stage", "Cart stage", "Purchase stage",
                     "Support stage"]


def test_the_map_editors_are_labelled_and_show_no_none(db_path):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.switch_page("app_pages/journey_map.py").run()
    assert not at.exception, at.exception
    found = editors(at)
    assert len(found) >= 4, found  # stages, lanes, emotion, the chosen lane's entries
    for key, headers, placeholder in found:
        assert placeholder, f"{key}: an empty cell would read 'None'"
        assert not [h for h in headers if CODE.fullmatch(h)], (key, headers)


def test_the_preview_heads_scores_as_the_role_boxes_do(db_path, upload):
    upload.append(FakeUpload("umfrage.csv", SURVEY.encode()))
    at = data_page(db_path)
    (preview,) = [d for d in at.dataframe if any(str(c).startswith("csat (")
                                                  for c in d.value.columns)]
    config = json.loads(preview.proto.columns or "{}")
    shown = [config.get(str(c), {}).get("label") or str(c) for c in preview.value.columns]
    assert "CSAT (CSAT (1-5))" in shown and "NPS (NPS)" in shown, shown
    assert not [h for h in shown if h.startswith(("csat", "nps"))]
