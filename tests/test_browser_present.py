"""Presentation mode in the real app, as a facilitator at a projector sees it (issue 13 §4): the
whole map on one 1920×1080 or 1280×720 screen with every lane and no scroll bar, ◀ ▶ and the
arrow keys moving the highlighted stage in the map itself, and the emotion labels on their grid
lines. Screenshots go to /tmp/shots for a person to look at."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")
CHART = "[data-testid=stVegaLiteChart] svg.marks"
#: the first word of each lane's title as the map draws it (titles wrap)
LANE_WORDS = ["Stage", "Customer", "Touchpoints", "Channels", "Thoughts", "Emotion", "Pain",
              "Opportunities", "Backstage", "KPIs"]
FOCUS_COLOUR = "#ff8f00"  # chart.py's frame around the presented stage

#: every lane title's first line in the map's title column, with its box on the screen
_LANE_TITLES = """(words) => {
  const svg = document.querySelector('@CHART@');
  const left = svg.getBoundingClientRect().left;
  const texts = [...svg.querySelectorAll('g.mark-text text')];
  const found = {};
  for (const t of texts) {
    const word = t.textContent.split(' ')[0];
    const r = t.getBoundingClientRect();
    if (words.includes(word) && !(word in found) && r.left - left < 60) {
      found[word] = {top: r.top, bottom: r.bottom, left: r.left, right: r.right};
    }
  }
  return found;
}""".replace("@CHART@", CHART)

#: the frame around the presented stage: its left edge on the screen, or null
_FRAME_LEFT = """() => {
  const el = document.querySelector('@CHART@ [stroke="@COLOUR@"]');
  return el ? el.getBoundingClientRect().left : null;
}""".replace("@CHART@", CHART).replace("@COLOUR@", FOCUS_COLOUR)

#: the emotion scale labels' vertical centres and the horizontal grid lines' rows
_EMOTION_AXIS = """() => {
  const svg = document.querySelector('@CHART@');
  const labels = [...svg.querySelectorAll('g.mark-text text')]
    .filter(t => ['+2', '0', '\u22122'].includes(t.textContent))
    .map(t => [t.textContent, t.getBoundingClientRect()])
    .map(([text, r]) => [text, r.top + r.height / 2]);
  const rules = [...svg.querySelectorAll('g.mark-rule line')]
    .map(l => l.getBoundingClientRect()).filter(r => r.width > 200 && r.height < 1)
    .map(r => r.top);
  return {labels, rules};
}""".replace("@CHART@", CHART)


def present(page, server: str, size: tuple[int, int], query: str = ""):
    """The presentation of the sample map at ``size``, once the map has drawn its frame."""
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto(f"{server}/journey_map?present=1{query}", wait_until="domcontentloaded")
    page.locator(CHART).first.wait_for(timeout=120_000)
    page.wait_for_function(f"() => ({_FRAME_LEFT})() !== null", timeout=60_000)
    page.mouse.move(size[0] - 5, size[1] - 5)  # no hover tooltip over the map
    page.wait_for_timeout(500)


def step(page, action, stage: int, old_left: float) -> float:
    """Do ``action`` and wait until the URL presents ``stage`` and the frame has moved."""
    action()
    page.wait_for_function(f"() => new URLSearchParams(location.search).get('stage') === "
                           f"'{stage}'", timeout=30_000)
    page.wait_for_function(f"() => {{ const x = ({_FRAME_LEFT})(); "
                           f"return x !== null && Math.abs(x - {old_left}) > 20; }}",
                           timeout=30_000)
    page.mouse.move(5, page.viewport_size["height"] - 5)
    page.wait_for_timeout(500)
    return page.evaluate(_FRAME_LEFT)


def pixels(page, box: dict) -> list[tuple[int, ...]]:
    from PIL import Image

    shot = page.screenshot(clip=box)
    return list(Image.open(io.BytesIO(shot)).convert("RGB").get_flattened_data())


@pytest.mark.parametrize(("size", "name", "query"), [
    ((1920, 1080), "present_1080", ""),
    ((1280, 720), "present_720", ""),  # the 1920×1080 layout, scaled to the window
    ((1280, 720), "present_720_laid_out", "&w=1280&h=720"),  # laid out for the screen
], ids=["1080", "720-scaled", "720-laid-out"])
def test_the_whole_map_fits_the_screen_without_scrolling(server, browser_page, size, name,
                                                         query):
    page = browser_page
    present(page, server, size, query)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    scroll = page.evaluate("() => [document.scrollingElement.scrollHeight, innerHeight,"
                           " document.scrollingElement.scrollWidth, innerWidth]")
    assert scroll[0] <= scroll[1] + 2 and scroll[2] <= scroll[3] + 2, scroll
    box = page.locator(CHART).first.bounding_box()
    assert box["y"] + box["height"] <= size[1] + 1 and box["x"] + box["width"] <= size[0] + 1
    assert box["width"] >= size[0] * 0.9, box  # the screen is used, not a thumbnail
    lanes = page.evaluate(_LANE_TITLES, LANE_WORDS)
    assert sorted(lanes) == sorted(LANE_WORDS), lanes
    for word, r in lanes.items():
        assert r["top"] >= 0 and r["bottom"] <= size[1] and r["right"] <= size[0], (word, r)
    assert not page.locator("[data-testid=stSidebar]").is_visible()
    assert page.get_by_text("Stage 1 of 7: Discovery").is_visible()
    titles = page.get_by_text("Audio and video equipment in specialized stores journey")
    assert titles.count() == 1  # drawn once, by the map


def test_hidden_lanes_leave_the_screen_to_the_others(server, browser_page):
    page = browser_page
    present(page, server, (1920, 1080), "&map_hide=backstage,kpis")
    lanes = page.evaluate(_LANE_TITLES, LANE_WORDS)
    assert sorted(lanes) == sorted(set(LANE_WORDS) - {"Backstage", "KPIs"}), lanes
    assert page.evaluate("() => document.scrollingElement.scrollHeight") <= 1082
    assert "map_hide=backstage" in page.url


def test_arrows_and_keys_move_the_highlighted_stage_in_the_map(server, browser_page):
    page = browser_page
    present(page, server, (1920, 1080))
    left0 = page.evaluate(_FRAME_LEFT)
    chart = page.locator(CHART).first.bounding_box()
    # the second stage's column, header to KPIs: veiled first, then presented
    column = {"x": left0 + 270, "y": chart["y"] + 80, "width": 200,
              "height": chart["height"] - 100}
    before = pixels(page, column)
    left1 = step(page, lambda: page.get_by_role("button", name="▶").click(), 1, left0)
    page.screenshot(path=str(SHOTS / "present_1080_stage2.png"))
    assert left1 > left0 + 150  # the frame moved one column right
    after = pixels(page, column)
    changed = sum(a != b for a, b in zip(before, after, strict=True)) / len(before)
    assert changed > 0.2, changed  # the column itself looks different, not only the URL
    assert page.get_by_text("Stage 2 of 7: Online research").is_visible()

    left2 = step(page, lambda: page.keyboard.press("ArrowRight"), 2, left1)
    assert left2 > left1 + 150
    left_back = step(page, lambda: page.keyboard.press("ArrowLeft"), 1, left2)
    assert left_back == pytest.approx(left1, abs=2)
    left_start = step(page, lambda: page.get_by_role("button", name="◀").click(), 0, left1)
    assert left_start == pytest.approx(left0, abs=2)


@pytest.mark.parametrize(("path", "size"), [
    ("/journey_map?present=1", (1920, 1080)),
    ("/journey_map?present=1", (1280, 720)),
    ("/journey_map", (1400, 1000)),
], ids=["present-1080", "present-720", "page"])
def test_emotion_axis_labels_sit_on_their_grid_lines(server, browser_page, path, size):
    page = browser_page
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto(server + path, wait_until="domcontentloaded")
    page.locator(CHART).first.wait_for(timeout=120_000)
    page.wait_for_timeout(1000)
    axis = page.evaluate(_EMOTION_AXIS)
    labels = dict(axis["labels"])
    assert set(labels) == {"+2", "0", "−2"}, axis
    assert len(axis["rules"]) == 5, axis
    for text, y in labels.items():
        nearest = min(axis["rules"], key=lambda r, y=y: abs(r - y))
        assert abs(nearest - y) <= 2, (text, y, axis["rules"])
    assert labels["+2"] < labels["0"] < labels["−2"]
