"""The mailed HTML report: one self-contained document, no fetches, user text escaped, the
core's numbers shown as the core computes them, missing tables named."""

from __future__ import annotations

import re
from datetime import datetime
from html.parser import HTMLParser

import polars as pl
import pytest

from cjm_core.analytics.funnel import FunnelQuery, funnel
from cjm_core.analytics.satisfaction import csat
from cjm_core.analytics.scorecard import judged_window, scorecard, top_friction
from cjm_core.demo import sample
from cjm_core.industries.targets import RELATIVE_KINDS, STATUS_LABELS
from cjm_core.metric import format_interval, format_value
from cjm_core.model.dataset import Dataset
from cjm_core.model.journey import default_journey, journey_from_rows
from cjm_core.present.report import build_report

EVIL = "<img src=x onerror=alert(1)>"
WHEN = datetime(2026, 3, 1, 9, 30)


class Doc(HTMLParser):
    """Start tags with their attributes, the text, and per section its tables as rows of cell
    texts (a nested element's text joins its cell's text)."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.sections: dict[str, dict] = {}
        self._section: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "section":
            self._section = a.get("id")
            self.sections[self._section] = {"tables": [], "text": []}
        elif tag == "table" and self._section:
            self.sections[self._section]["tables"].append([])
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append(re.sub(r"\s+", " ", "".join(self._cell)).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._section and self.sections[self._section]["tables"]:
                self.sections[self._section]["tables"][-1].append(self._row)
            self._row = None
        elif tag == "section":
            self._section = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._section:
            self.sections[self._section]["text"].append(data)

    def section_text(self, name: str) -> str:
        return re.sub(r"\s+", " ", "".join(self.sections[name]["text"]))

    def rows(self, name: str, table: int = 0) -> list[list[str]]:
        return self.sections[name]["tables"][table]

    def row(self, name: str, first: str, table: int = 0) -> dict[str, str]:
        """The row whose first cell is ``first``, keyed by header (repeated headers get
        a suffix: "n", "n#2", ...)."""
        header, *body = self.rows(name, table)
        keys, seen = [], {}
        for h in header:
            seen[h] = seen.get(h, 0) + 1
            keys.append(h if seen[h] == 1 else f"{h}#{seen[h]}")
        hits = [r for r in body if r[0] == first]
        assert len(hits) == 1, (first, body)
        return dict(zip(keys, hits[0], strict=True))


def _no_fetch(doc: str) -> None:
    """No URL outside SVG namespace declarations; no external script, stylesheet, image."""
    without_ns = re.sub(r'\sxmlns(:\w+)?="[^"]*"', "", doc)
    assert "http://" not in without_ns and "https://" not in without_ns
    assert "//" not in re.sub(r"<svg.*?</svg>", "", without_ns, flags=re.S).replace(
        "<!DOCTYPE", "")  # no protocol-relative URLs either
    parsed = Doc(doc)
    names = [t for t, _ in parsed.tags]
    assert "link" not in names and "script" not in names and "iframe" not in names
    assert "img" not in names and "object" not in names and "embed" not in names
    for tag, attrs in parsed.tags:
        assert "src" not in attrs, tag
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
        if "href" in attrs:
            assert attrs["href"].startswith("#"), attrs
    assert "@import" not in doc
    assert re.findall(r"url\(([^)]*)\)", doc) == re.findall(r"url\((#[\w-]+)\)", doc)


@pytest.fixture(scope="module")
def sample_data() -> Dataset:
    return Dataset(default_journey("4742"), **sample.generate("4742"))


@pytest.fixture(scope="module")
def sample_report(sample_data) -> str:
    return build_report(sample_data, generated_at=WHEN, workspace="Hifi Haus")


# ----------------------------------------------------------------------------- the sample


def test_sample_report_is_one_offline_document(sample_report):
    assert sample_report.startswith("<!DOCTYPE html>")
    _no_fetch(sample_report)
    parsed = Doc(sample_report)
    names = [t for t, _ in parsed.tags]
    assert names.count("svg") >= 5  # funnel, matrix, interval, distribution, trend
    assert "style" in names
    assert any(t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
               and "default-src 'none'" in a.get("content", "") for t, a in parsed.tags)
    assert set(parsed.sections) == {"scorecard", "friction", "funnel", "channels",
                                    "touchpoints", "support-loyalty", "periods"}


def test_sample_header(sample_report):
    text = " ".join(Doc(sample_report).text)
    assert "Hifi Haus" in text
    assert "ISIC 4742: Audio and video equipment in specialized stores" in text
    assert "2024-01-01 to 2025-12-31" in text
    assert "2026-03-01 09:30" in text


def test_sample_scorecard_shows_every_gap_and_status(sample_data, sample_report):
    parsed = Doc(sample_report)
    gaps = scorecard(sample_data).gaps
    header, *body = parsed.rows("scorecard")
    assert len(body) == len(gaps)
    assert {g.status for g in gaps} >= {"met", "missed"}
    assert header[:3] == ["Metric", "Where", "Value (95% interval)"]
    status, value = header.index("Status"), header.index("Value (95% interval)")
    for g, row in zip(gaps, body, strict=True):
        assert row[0] == g.label
        assert row[status] == STATUS_LABELS[g.status]
        unit = "relative_change" if g.kind in RELATIVE_KINDS else g.unit
        assert row[value] == format_interval(g.value, g.low, g.high, unit)
        assert row[header.index("n")] == ("–" if g.n is None else f"{g.n:,}")
    fcr = next(r for g, r in zip(gaps, body, strict=True) if g.metric == "fcr")
    assert fcr[status] == "✗ missed" and "complexity: simple" in fcr[header.index("Where")]
    assert 'class="status status-missed"' in sample_report
    assert ".status-missed{background:#c62828}" in sample_report


def test_sample_planted_friction_points_are_named(sample_report):
    facts = sample.PLANTED_FACTS["4742"]
    text = Doc(sample_report).section_text("friction")
    a, b = facts["high_dropoff_step"]
    assert f"Funnel step: {a} → {b}" in text
    assert f"Touchpoint: {facts['low_csat_touchpoint']}" in text
    assert "Worst comments:" in text
    # the highest impact comes first
    assert text.index(f"{a} → {b}") < text.index(facts["low_csat_touchpoint"])


def test_friction_points_are_stated_once_in_their_findings_words(sample_data, sample_report):
    text = Doc(sample_report).section_text("friction")
    window, _ = judged_window(sample_data)  # the report's months, as on the Overview
    for point in top_friction(window, top=3):
        # the finding's template (cjm_core.present.findings) says it, once, with every figure
        assert text.count(point.summary) == 1, point.summary
        assert f"{point.summary} Impact {point.impact:.2f} (largest = 1)." in text
    assert "Customers at the step before" not in text  # no second list of the same figures


def test_sample_touchpoint_numbers_equal_the_core(sample_data, sample_report):
    parsed = Doc(sample_report)
    tp = sample.PLANTED_FACTS["4742"]["low_csat_touchpoint"]
    window, _ = judged_window(sample_data)
    m = next(m for m in csat(window.feedback, by=["touchpoint"]) if m.by["touchpoint"] == tp)
    row = parsed.row("touchpoints", tp)
    assert row["CSAT (95% interval)"] == format_interval(m.value, m.low, m.high, "rate")
    assert row["CSAT answers"] == f"{m.n:,}"
    small = parsed.row("touchpoints", "Help centre")
    assert "CSAT" in small["Fewer than 30 answers"]


def test_sample_funnel_numbers_equal_the_core(sample_data, sample_report):
    parsed = Doc(sample_report)
    window, _ = judged_window(sample_data)
    table = funnel(window.events, FunnelQuery(), window.journey).table.sort("step_index")
    for r in table.iter_rows(named=True):
        row = parsed.row("funnel", str(r["step_index"]))
        assert row["Step"] == r["step"]
        assert row["Customers reaching"] == f"{r['reached']:,}"
        assert row["From previous step (95% interval)"] == format_interval(
            r["step_conversion"], r["low"], r["high"])
        assert row["n"].split()[0] == f"{r['n']:,}"


def test_sample_support_loyalty_and_periods(sample_report):
    parsed = Doc(sample_report)
    sl = parsed.section_text("support-loyalty")
    for label in ("First-contact resolution", "Resolution time, median", "Open cases",
                  "Repeat purchase rate", "Customer lifetime value (historic)"):
        assert label in sl
    pp = parsed.rows("periods")
    assert pp[0][:3] == ["Metric", "Now", "Before"]
    assert any(r[0] == "CSAT" for r in pp[1:])
    ch = parsed.section_text("channels")
    assert "Online-to-store conversion" in ch and "Top transitions between channels" in ch


# ----------------------------------------------------------------------------- hand-made data


def _tiny() -> Dataset:
    j = journey_from_rows("4773", ["Look", "Buy"], {"purchase": "Buy"})
    t = [datetime(2025, 1, d, 10) for d in (1, 1, 2, 3)]
    ev = pl.DataFrame({"customer_id": ["a", "a", "b", "c"], "timestamp": t,
                       "stage": ["Look", "Buy", "Look", "Look"],
                       "channel": ["web", "store", "web", "app"]})
    fb = pl.DataFrame({"timestamp": t[:3], "touchpoint": ["Shop", "Shop", "Hotline"],
                       "csat": [5, 4, 2], "comment": ["Great", "Fine", "Rude and slow."]})
    return Dataset(j, events=ev, feedback=fb)


def test_tiny_numbers_by_hand():
    parsed = Doc(build_report(_tiny(), generated_at=WHEN))
    shop, hotline = parsed.row("touchpoints", "Shop"), parsed.row("touchpoints", "Hotline")
    assert shop["CSAT (95% interval)"].startswith("100.0% (")
    assert hotline["CSAT (95% interval)"].startswith("0.0% (")
    assert (shop["CSAT answers"], hotline["CSAT answers"]) == ("2", "1")
    assert shop["Fewer than 30 answers"] == "CSAT"
    buy = parsed.row("funnel", "2")
    assert (buy["Step"], buy["Customers reaching"]) == ("Buy", "1")
    assert buy["From previous step (95% interval)"].startswith("33.3% (")
    assert "Hotline" in parsed.section_text("friction")


def test_user_text_is_escaped_everywhere():
    j = journey_from_rows("4742", [EVIL, "Buy"], {"purchase": "Buy"})
    t = [datetime(2025, 1, d, 10) for d in (1, 2, 3)]
    ev = pl.DataFrame({"customer_id": ["a", "a", "b"], "timestamp": t,
                       "stage": [EVIL, "Buy", EVIL], "channel": [EVIL, "store", "web"]})
    fb = pl.DataFrame({"timestamp": t, "touchpoint": [EVIL, EVIL, "Shop"], "csat": [1, 2, 5],
                       "comment": [f"Awful, terrible {EVIL}", "Bad", "Great"]})
    data = Dataset(j, events=ev, feedback=fb)
    doc = build_report(data, workspace=EVIL, title=f"Report {EVIL}", generated_at=WHEN)
    _no_fetch(doc)
    parsed = Doc(doc)
    assert "img" not in [t for t, _ in parsed.tags]
    assert EVIL not in doc  # never raw
    text = "".join(parsed.text)
    assert text.count(EVIL) >= 6  # title, header, journey, funnel, touchpoints, friction...
    assert parsed.row("touchpoints", EVIL)["CSAT (95% interval)"].startswith("0.0% (")
    assert parsed.row("funnel", "1")["Step"] == EVIL
    assert f"Awful, terrible {EVIL}" in parsed.section_text("friction")
    assert f"<title>Report {EVIL.replace('<', '&lt;').replace('>', '&gt;')}</title>" in doc


def test_feedback_only_names_the_missing_tables():
    fb = pl.DataFrame({"touchpoint": ["Shop", "Hotline", "Shop"], "csat": [5, 2, 4],
                       "nps": [10, 3, 9]})
    doc = build_report(Dataset(default_journey("4742"), feedback=fb), generated_at=WHEN)
    _no_fetch(doc)
    parsed = Doc(doc)
    assert parsed.row("touchpoints", "Shop")["CSAT (95% interval)"].startswith("100.0% (")
    assert "needs an events table" in parsed.section_text("funnel")
    assert "events table" in parsed.section_text("channels")
    sl = parsed.section_text("support-loyalty")
    assert "support table" in sl and "orders table" in sl
    assert "needs dated rows" in parsed.section_text("periods")
    sc = parsed.section_text("scorecard")
    assert "no data" in sc and "needs an orders table" in sc
    assert "Hotline" in parsed.section_text("friction")


def test_no_tables_at_all_still_reports():
    doc = build_report(Dataset(default_journey("4741")), generated_at=WHEN)
    parsed = Doc(doc)
    assert "no dated rows" in "".join(parsed.text)
    assert "Upload" in parsed.section_text("touchpoints")
    assert "Upload" in parsed.section_text("friction")
    assert "no data" in parsed.section_text("scorecard")


def test_funnel_counts_only():
    counts = pl.DataFrame({"stage": ["Discovery", "Online research", "Purchase"],
                           "customers": [100, 40, 10]})
    parsed = Doc(build_report(Dataset(default_journey("4742"), funnel_counts=counts),
                              generated_at=WHEN))
    assert parsed.row("funnel", "1")["Customers reaching"] == "100"
    assert "svg" in [t for t, _ in parsed.tags]


@pytest.mark.parametrize(("value", "unit", "text"), [
    (0.5515873, "rate", "55.2%"),
    (1.0, "rate", "100.0%"),
    (-5.88, "nps", "−5.9"),
    (1.8994, "score", "1.90"),
    (28.53, "hours", "28.5 h"),
    (1234.5, "money", "1,234.50"),
    (16, "count", "16"),
    (0.12, "relative_change", "+12.0%"),
    (None, "money", "—"),
])
def test_format_value(value, unit, text):
    assert format_value(value, unit) == text
