"""Map exports: PNG/SVG/PDF are valid pictures of the map, JSON round-trips, CSV/XLSX never
carry a cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
import re
import struct
import zipfile
from xml.etree import ElementTree

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cjm_core.errors import QueryError
from cjm_core.journey_map.export import (
    CSV_COLUMNS,
    MIME,
    export,
    rows,
    to_csv,
    to_json,
    to_pdf,
    to_png,
    to_svg,
    to_xlsx,
    write,
)
from cjm_core.journey_map.model import LANES, Item, JourneyMap
from cjm_core.present.spreadsheet import DANGEROUS_START, neutralise

STAGES = ["Discovery", "Listening room", "Purchase", "Installation"]


def av_map() -> JourneyMap:
    m = JourneyMap.empty("Hi-fi journey", "4742", STAGES)
    for i, s in enumerate(m.stages):
        tp = m.cell("touchpoints", s.key)
        tp.source, tp.n = "measured", 300
        tp.items = [Item("Demo room", "measured", value=0.5, n=300)]
        m.cell("actions", s.key).text = "Listens to speakers, compares them with his own"
        m.cell("kpis", s.key).items = [Item("CSAT", "measured", value=0.81, unit="rate",
                                            status="met", n=80)]
        e = m.emotion(s.key)
        e.assumed, e.measured, e.low, e.high, e.n = 1.0, 1.0 - i, 0.7 - i, 1.3 - i, 50
    return m


@pytest.fixture(scope="module")
def png() -> bytes:
    return to_png(av_map(), scale=1.0)


def ihdr_size(data: bytes) -> tuple[int, int]:
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_png_has_the_signature_and_the_charts_size(png):
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = ihdr_size(png)
    assert width >= 600 and height >= 600


def test_png_scale_multiplies_the_size(png):
    w1, h1 = ihdr_size(png)
    w2, h2 = ihdr_size(to_png(av_map(), scale=2.0))
    assert w2 == pytest.approx(2 * w1, abs=2) and h2 == pytest.approx(2 * h1, abs=2)


def test_large_png_fits_a_projector_width():
    width, _ = ihdr_size(to_png(av_map(), scale=1.0, large=True))
    assert 1700 <= width <= 1920


def test_svg_parses_and_names_the_stages():
    root = ElementTree.fromstring(to_svg(av_map()))
    assert root.tag.endswith("svg")
    texts = " ".join("".join(t.itertext()) for t in root.iter() if t.tag.endswith("text"))
    for name in ("Discovery", "Purchase", "Customer actions", "belief ≠ data"):
        assert name in texts


def test_pdf_has_a_page():
    pdf = to_pdf(av_map())
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 1


def test_json_round_trips():
    m = av_map()
    assert JourneyMap.from_json(to_json(m)) == m
    data, mime, suffix = export(m, "json")
    assert JourneyMap.from_json(data.decode()) == m
    assert (mime, suffix) == ("application/json", ".json")


def test_csv_has_a_row_per_lane_and_stage_plus_emotion_rows():
    m = av_map()
    table = list(csv.DictReader(io.StringIO(to_csv(m))))
    assert tuple(table[0]) == CSV_COLUMNS
    non_emotion = [r for r in table if r["lane"] != "emotion"]
    assert len(non_emotion) == (len(LANES) - 1) * len(STAGES)
    emotion = [r for r in table if r["lane"] == "emotion"]
    assert [(r["stage"], r["source"]) for r in emotion[:2]] == [("Discovery", "assumed"),
                                                              ("Discovery", "measured")]
    measured = next(r for r in emotion if r["stage"] == "Purchase" and r["source"] == "measured")
    assert (float(measured["value"]), float(measured["low"]), measured["n"]) == (-1.0, -1.3, "50")
    tp = next(r for r in table if r["lane"] == "touchpoints" and r["stage"] == "Purchase")
    assert (tp["source"], tp["n"]) == ("measured", "300") and "Demo room" in tp["items"]


def test_csv_export_through_export_has_a_bom_for_excel():
    data, mime, suffix = export(av_map(), "csv")
    assert data.startswith(b"\xef\xbb\xbf") and mime == "text/csv" and suffix == ".csv"


@pytest.mark.parametrize("text", ["=SUM(A1)", "+1", "-1", "−1", "@cmd", "\tx", "\rx"])
def test_neutralise_each_dangerous_start(text):
    assert neutralise(text) == "'" + text


@given(st.text())
def test_neutralised_text_never_starts_dangerously(text):
    out = neutralise(text)
    assert not out.startswith(DANGEROUS_START)
    assert out in (text, "'" + text)


danger = st.text(alphabet=st.sampled_from(["=", "+", "−", "-", "@", "\t", "\r", "a", " ", "1"]),
                 min_size=1, max_size=12)


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(cell=danger, item=danger, lane_title=danger, stage=danger, owner=danger)
def test_every_csv_text_cell_is_neutralised(cell, item, lane_title, stage, owner):
    m = JourneyMap.empty("=cmd|' /C calc'!A0", "4742", ["Discovery", "Purchase"])
    m.stages[1].name = stage
    m.lanes[1].title = lane_title
    m.cell("thoughts", "discovery").text = cell
    m.cell("opportunities", "purchase").items = [Item(item, owner=owner)]
    m.emotion("purchase").assumed = -1.5
    table = list(csv.reader(io.StringIO(to_csv(m), newline="")))
    numeric = {CSV_COLUMNS.index(c) for c in ("n", "value", "low", "high")}
    for row in table[1:]:
        for j, value in enumerate(row):
            if j in numeric:
                assert value == "" or float(value) == float(value)
            else:
                assert not value.startswith(DANGEROUS_START), (CSV_COLUMNS[j], value)


def test_xlsx_writes_text_as_neutralised_strings_never_formulas():
    m = av_map()
    m.cell("thoughts", "discovery").text = "=HYPERLINK(\"http://evil\",\"click\")"
    data = to_xlsx(m)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        shared = z.read("xl/sharedStrings.xml").decode()
    assert "<f>" not in sheet
    assert "'=HYPERLINK" in shared
    assert export(m, "xlsx")[1] == MIME["xlsx"]


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf", ".json", ".csv"])
def test_write_picks_the_format_from_the_suffix(tmp_path, suffix):
    path = write(av_map(), tmp_path / f"map{suffix.upper()}")
    head = path.read_bytes()[:8]
    expected = {".png": b"\x89PNG", ".svg": b"<svg", ".pdf": b"%PDF", ".json": b"{",
                ".csv": b"\xef\xbb\xbflane"}[suffix]
    assert head.startswith(expected)


def test_unknown_suffix_or_format_is_a_query_error(tmp_path):
    with pytest.raises(QueryError, match=r"\.docx.*\.png"):
        write(av_map(), tmp_path / "map.docx")
    assert not (tmp_path / "map.docx").exists()
    with pytest.raises(QueryError, match="Cannot export"):
        export(av_map(), "gif")  # type: ignore[arg-type]


def test_rows_keep_hidden_lanes_and_stages():
    m = av_map()
    m.stages[0].hidden = True
    m.lanes[2].hidden = True
    table = rows(m)
    assert any(r["stage"] == "Discovery" for r in table)
    assert any(r["lane"] == m.lanes[2].key for r in table)


def _translate_y(element: ElementTree.Element) -> float:
    return float(re.search(r"translate\([^,]+,([^)]+)\)", element.get("transform", "")).group(1))


@pytest.mark.parametrize("kw", [{}, {"large": True}, {"fit": (1920, 1080), "focus": 1}],
                         ids=["screen", "large", "presented"])
def test_svg_draws_each_emotion_label_on_its_grid_line(kw):
    """vl-convert's picture (the export) puts +2, 0 and −2 on their guide lines: every label
    sits the same small baseline offset below its line."""
    root = ElementTree.fromstring(to_svg(av_map(), **kw))
    labels = {"".join(t.itertext()): _translate_y(t) for t in root.iter()
              if t.tag.endswith("text") and "".join(t.itertext()) in ("+2", "0", "−2")}
    rules = sorted(_translate_y(r) for r in root.iter()
                   if r.tag.endswith("line") and float(r.get("x2", 0)) > 500)
    assert set(labels) == {"+2", "0", "−2"} and len(rules) == 5
    offsets = [labels[t] - line for t, line in zip(("+2", "0", "−2"), rules[::2], strict=True)]
    assert max(offsets) - min(offsets) < 0.5 and 0 <= offsets[0] < 8, offsets
