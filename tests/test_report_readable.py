"""Every table of the HTML report reads as the pages' tables do (issue 13 §2): labelled headers,
no snake_case identifiers, no 'None', no raw JSON, percentages with one decimal, durations in
days, hours and minutes rather than raw seconds, NPS whole with its interval. The report is
parsed, not searched as text, so a table cell is judged as a cell."""

from __future__ import annotations

import re
from datetime import datetime
from html.parser import HTMLParser

import polars as pl
import pytest

from cjm_core.demo import sample
from cjm_core.model.dataset import Dataset
from cjm_core.model.journey import default_journey
from cjm_core.present.report import build_report

SNAKE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")
LONG_PERCENT = re.compile(r"\d\.\d{2,}\s?%")
RAW_SECONDS = re.compile(r"\b\d{3,}(?:\.\d+)? ?(?:s|sec|seconds)\b")
#: an NPS figure: whole, with its interval when it has one; a change signed
NPS_FIGURE = re.compile(r"[−+]?\d+(?: \((?:−?\d+–−?\d+|−?\d+ to −?\d+)\))?")
#: columns holding a row's figure (not its n, target or note)
FIGURE_COLUMNS = re.compile(r"^(Value|Now|Before|Change|Measured)")
WHEN = datetime(2026, 3, 1, 9, 30)


class Tables(HTMLParser):
    """Every table of a document as (headers, rows of cell texts)."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[tuple[list[str], list[list[str]]]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._tags: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append(([], []))
        elif tag == "tr":
            self._row, self._tags = [], []
        elif tag in ("td", "th"):
            self._cell = []
            self._tags.append(tag)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append(re.sub(r"\s+", " ", "".join(self._cell)).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            headers, rows = self.tables[-1]
            # a row of header cells only, first in its table: the headers
            if set(self._tags) == {"th"} and not headers and not rows:
                headers.extend(self._row)
            else:
                rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _is_nps(header: str, first: str, before: list[str]) -> bool:
    """Whether a cell holds an NPS figure: under an "NPS (95% interval)" header, or in a
    figure column of a row about NPS."""
    if header.startswith("NPS") and "interval" in header:
        return True
    about_nps = first in ("NPS", "Net Promoter Score")
    return about_nps and bool(FIGURE_COLUMNS.match(header)) and header not in before


def problems(doc: str) -> list[str]:
    """What reads as code in the document's tables, one line each (empty: all readable)."""
    found = []
    for i, (headers, rows) in enumerate(Tables(doc).tables):
        where = f"table {i} {headers[:3]}"
        found += [f"{where}: header {h!r}" for h in headers if SNAKE.search(h)]
        for row in rows:
            for j, text in enumerate(row):
                header = headers[j] if j < len(headers) else row[0]
                if ("None" in text or '{"' in text or LONG_PERCENT.search(text)
                        or RAW_SECONDS.search(text) or SNAKE.search(text)):
                    found.append(f"{where}: {header!r} cell {text!r}")
                if _is_nps(header, row[0], headers[:j]) and text not in ("–", "") \
                        and not NPS_FIGURE.fullmatch(text):
                    found.append(f"{where}: NPS {text!r} in {header!r} is not whole")
    return found


@pytest.mark.parametrize("isic", ["4742", "4773", "4741"])
def test_the_sample_reports_tables_read_as_words_and_figures(isic):
    data = Dataset(default_journey(isic), **sample.generate(isic))
    doc = build_report(data, generated_at=WHEN, workspace="Hifi Haus")
    assert len(Tables(doc).tables) >= 8
    assert not problems(doc), "\n".join(problems(doc))


def test_a_report_of_funnel_counts_and_undated_answers_reads_too():
    counts = pl.DataFrame({"stage": ["Discovery", "Online research", "Purchase"],
                           "customers": [1000, 400, 100]})
    fb = pl.DataFrame({"touchpoint": ["Shop", "Hotline", "Shop"], "csat": [5, 2, 4],
                       "nps": [10, 3, 9]})
    doc = build_report(Dataset(default_journey("4742"), funnel_counts=counts, feedback=fb),
                       generated_at=WHEN)
    assert not problems(doc), "\n".join(problems(doc))
    meta = Tables(doc).tables[0]
    assert any("funnel counts (3 rows)" in r[1] for r in meta[1])


def test_the_check_finds_code():
    """The check flags each kind of code (so the report tests can fail)."""
    bad = ("<table><tr><th>median_seconds</th><th>Where</th><th>Rate</th><th>n</th>"
           "<th>NPS (95% interval)</th><th>Time</th></tr>"
           '<tr><td>5</td><td>{"stage_role": "x"}</td><td>52.34%</td><td>None</td>'
           "<td>30.2</td><td>1210158 s</td></tr></table>")
    found = problems(bad)
    assert len(found) == 6, found
    assert problems("<table><tr><th>Metric</th><th>Now</th></tr>"
                    "<tr><td>NPS</td><td>30.2</td></tr></table>")
    good = ("<table><tr><th>Median time</th><th>Where</th><th>Rate</th><th>n</th>"
            "<th>NPS (95% interval)</th></tr><tr><td>14 d 0 h</td><td>all</td>"
            "<td>52.3% (49.0–55.1%)</td><td>1,523</td><td>30 (27–34)</td></tr></table>")
    assert not problems(good), problems(good)
