"""The Overview page (issue 13 §3) in AppTest: the tiles, charts and friction cards show the core's
figures for the sample workspace; each card links to its page with the point chosen and the
workspace and filters kept; the scorecard stays available as a table; data without dates get
tiles without a change and a quiet note; no status is a colour emoji."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs

import polars as pl
import pyarrow as pa
import pytest

from cjm_core.analytics.funnel import journey_funnel
from cjm_core.analytics.overview_tiles import (
    friction_link,
    headline_tiles,
    overview_funnel,
    window_filters,
)
from cjm_core.analytics.scorecard import overview
from cjm_core.model.journey import default_journey
from cjm_core.storage.store import Store
from cjm_core.storage.workspaces import ensure_sample_workspace, load_dataset, workspace_targets
from tests.conftest import open_page, tiles

#: colour emoji that show as empty boxes without an emoji font (the status marks are ✓ ≈ ✗ –)
EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u26FF\u2B50\u2B55]")


@pytest.fixture
def sample(db_path):
    """The sample workspace as the app reads it, and the core's tiles and friction points."""
    store = Store(db_path)
    try:
        ws = ensure_sample_workspace(store)
        data, targets = load_dataset(store, ws), workspace_targets(store, ws)
    finally:
        store.close()
    _card, points = overview(data, targets)
    return ws, data, headline_tiles(data), points


def _card_periods(data) -> dict:
    return overview(data)[0].periods


def _links(at) -> list:
    return [e for e in at.get("page_link")]


def _charts(at) -> dict[str, dict]:
    """description -> (spec, {dataset name: rows}); Streamlit sends the datasets as Arrow."""
    out = {}
    for c in at.get("vega_lite_chart"):
        spec = json.loads(c.proto.spec)
        data = {ds.name: pa.ipc.open_stream(ds.data.data).read_all().to_pylist()
                for ds in c.proto.datasets}
        out[spec.get("description", "")] = (spec, data)
    return out


def _text(at) -> str:
    parts = [e.value for kind in ("markdown", "caption", "title", "subheader")
             for e in getattr(at, kind)]
    parts += [m.label + " " + m.value + " " + m.proto.delta for m in at.metric]
    return " ".join(parts)


def test_tiles_show_the_cores_figures_change_and_line(sample):
    ws, _data, core, _points = sample
    at = open_page("overview", ws)
    assert tiles(at) == {t.label: t.value_text for t in core.tiles}
    assert list(tiles(at)) == ["Customers entering", "Overall conversion", "CSAT", "NPS", "CES",
                               "Repeat buyers"]
    colours = {"green": "GREEN", "red": "RED", "gray": "GRAY"}
    for shown, t in zip(at.metric, core.tiles, strict=True):
        assert shown.proto.delta == t.delta_text and t.delta_text, t.label
        assert list(shown.proto.chart_data) == pytest.approx(list(t.series)) and t.series
        color = type(shown.proto).MetricColor.Name(shown.proto.color)
        assert color == colours[t.colour], t.label
    captions = " ".join(c.value for c in at.caption)
    assert ("Every figure on this page: the last 12 months of the data shown (Jan–Dec 2025). "
            "Tiles vs Jan–Dec 2024") in captions
    assert "ISIC" not in captions.split("Every figure")[0]  # the title names the industry


def test_one_figure_per_metric_on_the_page(sample, db_path):
    """A metric that is both a tile and a bullet row reads the same figure in both, and the
    funnel's first bar is the "Customers entering" tile (all over the tiles' months)."""
    ws, data, core, _points = sample
    with Store(db_path) as store:
        card, _ = overview(data, workspace_targets(store, ws))
    levels = {g.metric: g.value for g in card.gaps if not g.by and g.value is not None
              and g.unit != "relative_change"}
    both = [t for t in core.tiles if t.name in levels]
    assert {t.name for t in both} >= {"nps", "repeat_purchase_rate"}
    for t in both:
        assert levels[t.name] == pytest.approx(t.value), t.name
    at = open_page("overview", ws)
    rows = {r["row"]: r["right"] for frame in _charts(at)["overview-bullets"][1].values()
            for r in frame if "row" in r and "right" in r}
    shown = tiles(at)
    assert rows["Repeat purchase rate"].startswith(shown["Repeat buyers"] + " ")
    assert rows["Net Promoter Score"].startswith(shown["NPS"] + " ")
    funnel_rows = next(iter(_charts(at)["overview-funnel"][1].values()))
    assert f"{funnel_rows[0]['reached']:,}" == shown["Customers entering"]


def test_the_funnel_and_the_targets_are_charts(sample):
    ws, data, _core, points = sample
    at = open_page("overview", ws)
    charts = _charts(at)
    assert set(charts) == {"overview-funnel", "overview-bullets"}
    funnel_rows = next(iter(charts["overview-funnel"][1].values()))
    table = overview_funnel(data).table
    assert [r["reached"] for r in funnel_rows] == table["reached"].to_list()
    assert table["reached"][0] < journey_funnel(data.journey, data.events).table["reached"][0]
    flagged = {r["step"] for r in funnel_rows if r["friction"]}
    assert flagged == {p.evidence["to_step"] for p in points if p.kind == "step"}
    rows = {r["row"] for frame in charts["overview-bullets"][1].values() for r in frame
            if "row" in r}
    assert "Net Promoter Score" in rows and "Repeat purchase rate" in rows


def test_three_friction_cards_link_to_their_page_with_the_point_chosen(sample):
    ws, data, _core, points = sample
    at = open_page("overview", ws)
    links = _links(at)
    assert len(links) == len(points) == 3
    steps = journey_funnel(data.journey, data.events).steps
    for link, point in zip(links, points, strict=True):
        page, view = friction_link(point, steps)
        assert link.proto.page == page
        query = {k: v[0] for k, v in parse_qs(link.proto.query_string).items()}
        # the card's months: the linked page shows the card's figures
        assert query == {"ws": ws, "start": "2025-01-01", "end": "2025-12-31", **view}
        assert window_filters(_card_periods(data)) == {"start": "2025-01-01",
                                                       "end": "2025-12-31"}
    headings = [m.value for m in at.markdown if m.value.startswith(("**1.", "**2.", "**3."))]
    assert len(headings) == 3
    assert "customers lost" in " ".join(m.value for m in at.markdown)
    # the card's sentence is the finding's template (cjm_core.present.findings)
    body = " ".join(m.value.replace("\\", "") for m in at.markdown)
    for point in points:
        assert point.summary in body


def test_a_cards_link_keeps_the_sidebar_filter(sample):
    ws, *_ = sample
    at = open_page("overview", ws, channel="web")
    links = _links(at)
    assert links, "no friction card under the channel filter"
    for link in links:
        query = parse_qs(link.proto.query_string)
        assert query["channel"] == ["web"] and query["ws"] == [ws]


def test_the_scorecard_table_is_kept_below_the_pictures(sample):
    ws, *_ = sample
    at = open_page("overview", ws)
    assert [e.label for e in at.expander] == ["Scorecard as a table"]
    table = at.dataframe[0].value
    assert "Status" in table.columns and len(table) >= 5
    kinds = [e.type for e in at.main]
    assert kinds.index("metric") < kinds.index("vega_lite_chart") < kinds.index("expander")


def test_no_colour_emoji_anywhere(sample):
    ws, *_ = sample
    at = open_page("overview", ws)
    text = _text(at)
    assert not EMOJI.search(text), EMOJI.findall(text)
    bullets = json.dumps(_charts(at)["overview-bullets"], ensure_ascii=False, default=str)
    assert not EMOJI.search(bullets)
    assert "✓ met" in bullets or "✗ missed" in bullets


def test_data_without_dates_get_tiles_without_a_change_and_say_so(db_path):
    fb = pl.DataFrame({"touchpoint": ["Web", "Web", "Hotline", "Hotline"],
                       "csat": [5, 4, 2, 5], "nps": [10, 9, 3, 8]})
    store = Store(db_path)
    try:
        ws = store.create_workspace("Umfrage", default_journey("4741"))
        store.save_table(ws, "feedback", fb)
    finally:
        store.close()
    at = open_page("overview", ws)
    assert tiles(at) == {"CSAT": "75.0%", "NPS": "25"}
    assert all(not m.proto.delta and not m.proto.chart_data for m in at.metric)
    captions = " ".join(c.value for c in at.caption)
    assert "All the data; no dates" in captions


def test_a_view_links_cards_keep_its_token(db_path):
    # a colleague on a view link follows a card: the link must still carry the token, not the
    # workspace id (which a view link cannot open)
    store = Store(db_path)
    try:
        token, _ = store.create_share_link(ensure_sample_workspace(store), "view")
    finally:
        store.close()
    at = open_page("overview", token)
    links = _links(at)
    assert len(links) == 3
    assert all(parse_qs(link.proto.query_string)["ws"] == [token] for link in links)


def test_counts_only_give_the_funnel_tiles_without_a_change(db_path):
    counts = pl.DataFrame({"stage": ["Discovery", "Online research", "In-store demo",
                                     "Purchase"], "customers": [1000, 600, 150, 120]})
    store = Store(db_path)
    try:
        ws = store.create_workspace("Report", default_journey("4742"))
        store.save_table(ws, "funnel_counts", counts)
    finally:
        store.close()
    at = open_page("overview", ws)
    # 1,000 entered; 120 of them reached the last stage the counts have
    assert tiles(at) == {"Customers entering": "1,000", "Overall conversion": "12.0%"}
    funnel_rows = next(iter(_charts(at)["overview-funnel"][1].values()))
    assert [r["label"] for r in funnel_rows] == ["1,000 · 100.0%", "600 · 60.0%",
                                                 "150 · 15.0%", "120 · 12.0%"]
    # online research → demo loses 75% against a median of 30% (40%, 20%): the first card
    first = _links(at)[0]
    assert parse_qs(first.proto.query_string)["funnel_steps"] == [
        "Discovery,Online research,In-store demo"]


def test_the_report_can_be_downloaded_from_the_overview(sample):
    ws, *_ = sample
    at = open_page("overview", ws)
    (button,) = [b for b in at.get("download_button") if b.proto.id and "overview_report"
                 in b.proto.id]
    assert button.proto.label == "Download the report (HTML)"


def test_a_narrower_period_filter_is_kept_in_the_cards_links(sample):
    """Under a three-month filter the card's months are those three: the link never widens
    the period the user chose."""
    ws, *_ = sample
    at = open_page("overview", ws, start="2025-06-01", end="2025-08-31")
    links = _links(at)
    assert links
    for link in links:
        query = parse_qs(link.proto.query_string)
        assert query["start"][0] >= "2025-06-01" and query["end"] == ["2025-08-31"], query
