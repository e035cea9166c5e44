"""The Data page shows each score column's scale and the blanked cells, asks when a scale is not
settled, and lets the user choose it (Streamlit AppTest; the upload widget is stood in for)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from cjm_core.storage.store import Store
from tests.conftest import ROOT, FakeUpload

# a third of the answers above 5 and no scale in the header: the page must ask
AMBIGUOUS = "Kunde;Kontaktpunkt;Bewertung\n" + "".join(
    f"K{i};Web;{v}\n" for i, v in enumerate(["4", "5", "3", "7", "5", "4", "6", "2", "7", "5",
                                             "1", "6"]))
# a header scale with a stray 7, and one junk NPS next to a valid CSAT
STRAYS = ("Kunde;Kontaktpunkt;CSAT (1-5);NPS\n"
          "K1;Web;5;9\nK2;Web;4;junk\nK3;Laden;7;10\nK4;Laden;2;3\n")


def data_page(db_path) -> AppTest:
    with Store(db_path) as store:
        from cjm_core.model.journey import default_journey
        ws = store.create_workspace("Umfragen", default_journey("4773"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["ws"] = ws
    at.run()
    at.switch_page("app_pages/data.py")
    at.run()
    assert not at.exception, at.exception
    return at


def text(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown).replace("\\", "")  # markdown escapes


def test_header_scale_and_blanked_cells_are_shown(db_path, upload):
    upload.append(FakeUpload("umfrage.csv", STRAYS.encode()))
    at = data_page(db_path)
    assert "CSAT (column 'CSAT (1-5)'): 1–5 (from the header)" in text(at)
    assert "NPS (column 'NPS'): 0–10 (NPS is always 0–10)" in text(at)
    warning = " ".join(w.value for w in at.warning)
    # the stray 7 and the junk NPS each cost their cell; each row keeps a valid score
    assert "4 of 4 rows loaded, 0 rejected, 2 bad cells left empty" in warning
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Cells blanked"] == "2" and metrics["Rejected"] == "0"
    assert "`out-of-range` × 1" in text(at) and "`bad-number` × 1" in text(at)


def test_an_unsettled_scale_is_asked_and_the_answer_loads(db_path, upload):
    upload.append(FakeUpload("bewertung.csv", AMBIGUOUS.encode()))
    at = data_page(db_path)
    key = next(r.key for r in at.radio if r.key.startswith("scale_answer:"))
    assert "33% of them lie above 5" in at.radio(key=key).label
    assert "A question must be answered" in " ".join(i.value for i in at.info)
    at.radio(key=key).set_value("7").run()
    assert not at.exception, at.exception
    assert "CSAT (column 'Bewertung'): 1–7 (your choice)" in text(at)
    assert "12 of 12 rows loaded" in " ".join(s.value for s in at.success)


def test_the_user_changes_a_scale_in_the_mapping(db_path, upload):
    upload.append(FakeUpload("umfrage.csv", STRAYS.encode()))
    at = data_page(db_path)
    box = next(s for s in at.selectbox if s.key.startswith("scale:") and s.key.endswith(":csat"))
    box.set_value(7).run()
    assert not at.exception, at.exception
    assert "CSAT (column 'CSAT (1-5)'): 1–7 (your choice)" in text(at)
    # with the 7 now valid only the junk NPS is left: its cell is blanked, nothing rejected
    assert "4 of 4 rows loaded, 0 rejected, 1 bad cell left empty" in " ".join(
        w.value for w in at.warning)
