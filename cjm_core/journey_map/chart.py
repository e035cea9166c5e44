"""Draw a :class:`~cjm_core.journey_map.model.JourneyMap` as a swimlane (DESIGN §7) with Altair.

The whole map is ONE layered chart laid out in pixel coordinates: lane rows, stage columns,
wrapped text, chips and the emotion curve are all computed here in Python (Vega-Lite cannot wrap
text by itself), so the screen, the presentation mode and every export (PNG, SVG, PDF through
:mod:`cjm_core.journey_map.export`) show exactly the same picture. Nothing here renders.

Presented on a screen (``fit=(width, height)``), the type, lane heights and cell lengths are
chosen so the whole map fits that many pixels, cut entries counted ("+2 more"); the presented
stage is the chart's ``focus`` parameter (the other columns veiled). Every mark, the emotion
curve included, sits on one pixel scale, and the spec fixes its own size, so a renderer that
resizes charts (Streamlit's "fit") cannot move one layer against another.

Reading the map: measured cells carry a small "measured · n=…" caption; assumed text is italic
and grey; measured emotion points are solid with their 95 % interval, assumed ones dashed and
hollow; a "⚑ belief ≠ data" flag marks every stage where the two differ by more than one step.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from typing import Any

import altair as alt

from cjm_core.errors import QueryError
from cjm_core.journey_map.model import Cell, Emotion, Item, JourneyMap, Lane
from cjm_core.metric import format_value
from cjm_core.present.charts import STATUS_COLOURS

#: one font everywhere: DejaVu Sans has the ⚑ ≠ − glyphs, and vl-convert finds it on servers
FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
#: lanes whose items are drawn as chips (one line, rounded box) rather than bullet text
CHIP_LANES = frozenset({"touchpoints", "channels", "kpis"})
FLAG_TEXT = "⚑ belief ≠ data"
LEGEND = ("measured = from the data (caption with n; emotion: solid, with 95% interval)  ·  "
          "assumed = set by the team (italic grey; emotion: dashed)  ·  ⚑ = belief ≠ data")

_INK, _GREY, _MUTED = "#212121", "#757575", "#9e9e9e"
_HEADER_FILL, _TITLE_FILL = "#37474f", "#eceff1"
_MEASURED_FILL, _ASSUMED_FILL, _FLAG_FILL = "#ffffff", "#f7f7f7", "#ffebee"
_CHIP_MEASURED, _CHIP_ASSUMED = "#e3f2fd", "#ffffff"
_FLAG_COLOUR = STATUS_COLOURS["missed"]
_MEASURED_COLOUR, _ASSUMED_COLOUR = "#1565c0", "#616161"
_EMOTION_DOMAIN = (-2.3, 2.3)
_CHAR_WIDTH = 0.6  # average DejaVu Sans advance as a share of the font size (a little generous)
_FOCUS_COLOUR, _VEIL_OPACITY = "#ff8f00", 0.6
#: the chart's parameter holding the presented stage's index
FOCUS = "focus"
#: padding around the chart, pixels
PADDING = 10
#: a fitted map's type at 1920×1080 (smallest, largest; scaled with the screen), the fewest
#: lines a cell is cut to before the type gets smaller, and the most it is allowed
FIT_FONTS = (10, 20)
FIT_LINES, FIT_LINES_MOST = 4, 8
#: the lanes that get a fitted map's spare height, most wanted first
FIT_PRIORITY = ("pain_points", "opportunities", "actions", "kpis", "thoughts", "touchpoints",
                "backstage", "channels")


@dataclass(frozen=True)
class _Style:
    """Sizes in pixels; ``large`` scales everything up for a projector."""

    font: float
    small: float
    heading: float
    title_w: float
    col_w: float
    pad: float
    emotion_h: float
    max_lines: int
    #: line height as a multiple of the font size
    leading: float = 1.4
    #: the most lines of text (a chip counts as one) a cell shows; 0: no limit but ``max_lines``
    #: per entry. Fitted maps cut the rest and say "+N more".
    cell_lines: int = 0
    chip_lines: int = 2
    #: lanes allowed more lines than ``cell_lines``: (lane key, lines)
    lane_lines: tuple[tuple[str, int], ...] = ()

    @property
    def line(self) -> float:
        return round(self.font * self.leading, 1)

    @property
    def chip_h(self) -> float:
        return round(self.font * (self.leading + 0.4), 1)

    def chars(self, width: float, size: float | None = None) -> int:
        """How many characters of ``size`` fit in ``width`` pixels (at least 4)."""
        return max(4, int((width - 2 * self.pad) / ((size or self.font) * _CHAR_WIDTH)))


def _style(n_stages: int, large: bool, width: int | None) -> _Style:
    if large:
        font, small, heading, title_w, emotion_h, max_lines, pad = 18, 14, 20, 200, 280, 6, 10
        default_w: float = 1880
        if (width or default_w) - title_w < 180 * n_stages:  # many stages: a size smaller
            font, small, heading = 16, 13, 17
    else:
        font, small, heading, title_w, emotion_h, max_lines, pad = 11, 9, 12, 130, 170, 8, 6
        default_w = title_w + max(120, min(200, 1100 / n_stages)) * n_stages
    total = width if width is not None else default_w
    col_w = max(60.0, (total - title_w) / n_stages)
    return _Style(font, small, heading, title_w, round(col_w, 1), pad, emotion_h, max_lines)


@dataclass
class _Canvas:
    """Marks collected in pixel coordinates (x right, y down) before they become layers."""

    style: _Style
    rects: list[dict[str, Any]] = field(default_factory=list)
    chips: list[dict[str, Any]] = field(default_factory=list)
    texts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def text(self, kind: str, x: float, y: float, text: str, **extra: Any) -> None:
        self.texts.setdefault(kind, []).append({"x": x, "y": y, "text": text, **extra})

    def rect(self, x: float, y: float, w: float, h: float, fill: str, **extra: Any) -> None:
        self.rects.append({"x": x, "x2": x + w, "y": y, "y2": y + h, "fill": fill, **extra})


def wrap(text: str, chars: int, max_lines: int) -> list[str]:
    """``text`` broken into lines of at most ``chars`` characters (existing line breaks kept),
    at most ``max_lines`` of them; the last one ends with "…" when something was cut.

    >>> wrap("Compares prices online before visiting the store", 20, 5)
    ['Compares prices', 'online before', 'visiting the store']
    >>> wrap("one two three four", 5, 2)
    ['one', 'two …']
    """
    lines = [ln for para in text.splitlines()
             for ln in (textwrap.wrap(para, chars, break_on_hyphens=False) or [""])]
    while lines and not lines[-1]:
        lines.pop()
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        lines[-1] = last + " …" if len(last) + 2 <= chars else last[: chars - 1] + "…"
    return lines


def _clip(text: str, chars: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= chars else text[: max(1, chars - 1)].rstrip() + "…"


# ----------------------------------------------------------------------------- cells


#: units whose figure is shown in the tooltip only (a comment's sentiment says little on a wall)
_TOOLTIP_ONLY_UNITS = frozenset({"sentiment"})


def _unit(item: Item, lane: str) -> str:
    if item.unit == "share" or (item.unit is None and lane in {"touchpoints", "channels"}):
        return "rate"
    return item.unit or ""


def _item_value(item: Item, lane: str, *, shown: bool = True) -> str:
    if item.value is None or (shown and item.unit in _TOOLTIP_ONLY_UNITS):
        return ""
    return format_value(item.value, _unit(item, lane))


def _item_tip(item: Item, lane: str, stage: str) -> dict[str, Any]:
    unit = _unit(item, lane)
    interval = (f"{format_value(item.low, unit)} – {format_value(item.high, unit)}"
                if item.low is not None and item.high is not None else None)
    return {"lane": lane, "stage": stage, "item": item.text,
            "value": _item_value(item, lane, shown=False) or None,
            "interval": interval, "n": item.n, "source": item.source, "status": item.status,
            "code": item.code, "owner": item.owner}


def _chip_width(st: _Style, lane: str, item: Item) -> float:
    """The width a one-line chip needs for its text (bold KPI figures are wider), at most the
    cell's."""
    value = _item_value(item, lane)
    text = f"{item.text} {value}" if value else item.text
    advance = 0.7 if lane == "kpis" and item.status else 0.62
    return min(st.col_w - 2 * st.pad, len(text) * st.font * advance + 3 * st.pad)


def _chip(cv: _Canvas, lane: str, stage: str, item: Item, x: float, y: float,
          w: float | None = None) -> float:
    """A rounded box ``w`` wide (the cell's width) with the item and its share or value (two
    lines at most); returns the height used. KPI chips are filled with their target status
    colour."""
    st = cv.style
    w = w or st.col_w - 2 * st.pad
    value = _item_value(item, lane)
    lines = wrap(f"{item.text} {value}" if value else item.text, st.chars(w), st.chip_lines)
    if value and not lines[-1].endswith(value):  # the figure matters more than the label
        lines[-1] = _clip(lines[-1], st.chars(w) - len(value) - 1) + " " + value
    if lane == "kpis" and item.status:  # a KPI with a target: filled with its status colour
        fill = STATUS_COLOURS.get(item.status, STATUS_COLOURS["no data"])
        ink = _INK if item.status == "within" else "#ffffff"
        kind = "kpi"
    else:
        fill = _CHIP_MEASURED if item.source == "measured" else _CHIP_ASSUMED
        ink, kind = (_INK, "chip") if item.source == "measured" else (_GREY, "chip_assumed")
    h = st.chip_h + (len(lines) - 1) * st.line
    cv.chips.append({"x": x, "x2": x + w, "y": y, "y2": y + h, "fill": fill, "kind": kind,
                     **_item_tip(item, lane, stage)})
    top = y + (st.chip_h - st.line) / 2
    for i, line in enumerate(lines):
        cv.text("kpi" if kind == "kpi" else kind + "_text", x + st.pad, top + i * st.line,
                line, colour=ink, baseline="top", lane=lane, stage=stage)
    return h + st.pad / 2


def _caption(n: int | None, chars: int, of: str | None = None) -> str:
    """"measured · n=… customers" (what n counts, when known), shortened to what fits the
    column: what n counts goes last, so "n=560 customers" is never read as events.

    >>> _caption(1358, 40, "events"), _caption(1358, 14, "events"), _caption(560, 40)
    ('measured · n=1,358 events', 'n=1,358 events', 'measured · n=560')
    """
    count = f"n={n:,}" if n is not None else ""
    full = f"{count} {of}" if count and of else count
    for text in (f"measured · {full}", full, f"measured · {count}", f"measured {count}",
                 count or "measured"):
        if text.strip(" ·") and len(text.strip(" ·")) <= chars:
            return text.strip(" ·")
    return _clip(count or "measured", chars)


def _bullet(item: Item, lane: str) -> str:
    code = f"[{item.code}] " if item.code else ""
    owner = f" — {item.owner}" if item.owner else ""
    value = _item_value(item, lane)
    return f"• {code}{item.text}{' ' + value if value else ''}{owner}"


def _lines(cv: _Canvas, kind: str, lines: list[str], x: float, y: float, **extra: Any) -> float:
    for i, line in enumerate(lines):
        cv.text(kind, x, y + i * cv.style.line, line, baseline="top", **extra)
    return len(lines) * cv.style.line


def _draw_cell(cv: _Canvas, lane: str, stage: str, cell: Cell, x: float, y: float) -> float:
    """Draw one cell's content from (x, y); returns the height used. With a cell limit
    (``cell_lines``, a fitted map) the entries that do not fit are counted in a "+N more"."""
    st = cv.style
    chars, top = st.chars(st.col_w), y
    x_in, y = x + st.pad, y + st.pad
    tags = {"lane": lane, "stage": stage}
    entries: list[Item | str] = ([cell.text] if cell.text else []) + list(cell.items)
    cap = dict(st.lane_lines).get(lane, st.cell_lines)
    room = cap or len(entries) * st.max_lines  # lines left in the cell
    flow = st.chip_lines == 1 and lane in CHIP_LANES  # one-line chips side by side
    row_x, row_y, inner = 0.0, y, st.col_w - 2 * st.pad
    for i, entry in enumerate(entries):
        if flow and isinstance(entry, Item):
            w = _chip_width(st, lane, entry)
            if row_x > 0 and row_x + w <= inner:  # beside the previous chip
                _chip(cv, lane, stage, entry, x_in + row_x, row_y, w)
                row_x += w + st.pad / 2
                continue
        # a fitted cell keeps a line for "+N more" while entries are left after this one
        fits = min(st.max_lines, room - (1 if cap and i < len(entries) - 1 else 0))
        if fits < 1:
            y += _lines(cv, "more", [f"+{len(entries) - i} more"], x_in, y, **tags)
            break
        if isinstance(entry, str):
            kind = "body" if cell.source == "measured" else "assumed"
            used = _lines(cv, kind, wrap(entry, chars, fits), x_in, y, **tags)
        elif lane in CHIP_LANES:
            w = _chip_width(st, lane, entry) if flow else inner
            row_x, row_y = w + st.pad / 2, y
            y += _chip(cv, lane, stage, entry, x_in, y, w)
            room -= 1
            continue
        else:
            kind = "body" if entry.source == "measured" else "assumed"
            used = _lines(cv, kind, wrap(_bullet(entry, lane), chars, fits), x_in, y, **tags)
        y += used
        room -= round(used / st.line)
    if cell.source == "measured" and (cell.text or cell.items or cell.n is not None):
        cv.text("caption", x_in, y + st.pad / 2,
                _caption(cell.n, st.chars(st.col_w, st.small), cell.n_of), baseline="top",
                **tags)
        y += st.small * 1.4 + st.pad / 2
    return y - top + st.pad


# ----------------------------------------------------------------------------- emotion


@dataclass(frozen=True)
class _EmotionRow:
    """Pixel rows of the emotion curve's −2.3 (``bottom``) and +2.3 (``top``)."""

    top: float
    bottom: float

    def y(self, v: float | None) -> float | None:
        """The pixel row of emotion ``v`` (clamped to the drawn range), None for None."""
        return None if v is None else self.at(v)

    def at(self, v: float) -> float:
        lo, hi = _EMOTION_DOMAIN
        v = min(max(v, lo), hi)
        return round(self.bottom - (v - lo) * (self.bottom - self.top) / (hi - lo), 2)


def _emotion_rows(m: JourneyMap, centres: dict[str, float], row: _EmotionRow
                  ) -> list[dict[str, Any]]:
    rows = []
    for s in m.visible_stages():
        e = m.emotions.get(s.key, Emotion())
        if e.assumed is None and e.measured is None:
            continue
        interval = (f"{e.low:+.2f} – {e.high:+.2f}".replace("-", "−")
                    if e.low is not None and e.high is not None else None)
        rows.append({"x": centres[s.key], "stage": s.name, "key": s.key,
                     "assumed": e.assumed, "measured": e.measured,
                     "low": _clamp(e.low), "high": _clamp(e.high), "interval": interval,
                     "n": e.n, "disagrees": e.disagrees, "ya": row.y(e.assumed),
                     "ym": row.y(e.measured), "ylo": row.y(e.low), "yhi": row.y(e.high)})
    return rows


def _clamp(v: float | None) -> float | None:
    return None if v is None else min(max(v, _EMOTION_DOMAIN[0]), _EMOTION_DOMAIN[1])


def _emotion_layers(m: JourneyMap, st: _Style, centres: dict[str, float], row: _EmotionRow,
                    x: alt.X, y_scale: alt.Scale) -> list[alt.Chart]:
    """The curve: a zero line and guides, the assumed curve dashed, the measured curve solid
    with error bars; flags and scale labels are text drawn by the caller. Every mark sits on
    the map's one pixel scale (the emotion turned into pixel rows here, as the scale labels
    are), so a renderer that resizes the chart cannot move a label off its grid line."""
    width = st.title_w + st.col_w * len(centres)
    rows = _emotion_rows(m, centres, row)

    def y(fld: str) -> alt.Y:
        return alt.Y(f"{fld}:Q", scale=y_scale, axis=None)

    guides = [{"x": st.title_w, "x2": width, "v": v, "y": row.at(v),
               "colour": _INK if v == 0 else "#e0e0e0", "w": 1.5 if v == 0 else 1}
              for v in (-2, -1, 0, 1, 2)]
    zero = alt.Chart(alt.Data(values=guides), description="emotion-guides").mark_rule().encode(
        x=x, x2="x2:Q", y=y("y"), color=alt.Color("colour:N", scale=None),
        strokeWidth=alt.StrokeWidth("w:Q", scale=None))
    tip_a = [alt.Tooltip("stage:N", title="Stage"),
             alt.Tooltip("assumed:Q", title="Assumed (workshop)", format="+.1f")]
    tip_m = [alt.Tooltip("stage:N", title="Stage"),
             alt.Tooltip("measured:Q", title="Measured", format="+.2f"),
             alt.Tooltip("interval:N", title="95% interval"), alt.Tooltip("n:Q", title="n")]
    assumed = [r for r in rows if r["assumed"] is not None]
    measured = [r for r in rows if r["measured"] is not None]
    dash = [7, 5]
    size = 7 * st.font
    return [
        zero,
        alt.Chart(alt.Data(values=assumed), description="emotion-assumed-line").mark_line(
            strokeDash=dash, color=_ASSUMED_COLOUR, strokeWidth=2).encode(
            x=x, y=y("ya"), order="x:Q"),
        alt.Chart(alt.Data(values=assumed), description="emotion-assumed-points").mark_point(
            filled=False, strokeDash=[3, 2], color=_ASSUMED_COLOUR, strokeWidth=2,
            size=size).encode(x=x, y=y("ya"), tooltip=tip_a),
        alt.Chart(alt.Data(values=[r for r in measured if r["low"] is not None
                                   and r["high"] is not None]),
                  description="emotion-measured-interval").mark_errorbar(
            ticks=True, color=_MEASURED_COLOUR, thickness=2).encode(
            x=x, y=y("ylo"), y2="yhi:Q", tooltip=tip_m),
        alt.Chart(alt.Data(values=measured), description="emotion-measured-line").mark_line(
            color=_MEASURED_COLOUR, strokeWidth=2.5).encode(x=x, y=y("ym"), order="x:Q"),
        alt.Chart(alt.Data(values=measured), description="emotion-measured-points").mark_point(
            filled=True, opacity=1, color=_MEASURED_COLOUR, size=size).encode(
            x=x, y=y("ym"), tooltip=tip_m),
    ]


def _draw_emotion_row(cv: _Canvas, m: JourneyMap, centres: dict[str, float],
                      y0: float) -> tuple[float, _EmotionRow]:
    """Backgrounds, flags, scale labels and n captions of the emotion row; returns its height and
    where the curve goes."""
    st = cv.style
    h = st.emotion_h
    flag_h = st.small * 1.6 + st.pad
    cap_h = st.small * 1.4 + st.pad
    row = _EmotionRow(y0 + flag_h, y0 + h - cap_h)
    for s in m.visible_stages():
        e = m.emotions.get(s.key, Emotion())
        x = centres[s.key] - st.col_w / 2
        if e.disagrees:
            cv.rect(x, y0, st.col_w, h, _FLAG_FILL, stroke="#cfd8dc", lane="emotion",
                    stage=s.name, tip=f"{FLAG_TEXT}: assumed {e.assumed:+.1f}, "
                    f"measured {e.measured:+.2f}".replace("-", "−"))
            cv.text("flag", centres[s.key], y0 + st.pad / 2, FLAG_TEXT, baseline="top",
                    lane="emotion", stage=s.name, key=s.key)
        if e.measured is not None:
            cv.text("caption", x + st.pad, y0 + h - cap_h + st.pad / 2,
                    _caption(e.n, st.chars(st.col_w, st.small), "answers"),
                    baseline="top", lane="emotion", stage=s.name)
    for v in (2, 0, -2):
        cv.text("scale", st.title_w - st.pad, row.at(v),
                f"{v:+d}".replace("-", "−") if v else "0", baseline="middle", v=v)
    return h, row


# ----------------------------------------------------------------------------- layout


def _x(width: float) -> alt.X:
    return alt.X("x:Q", scale=alt.Scale(domain=[0, width], nice=False, zero=False), axis=None)


def _header(cv: _Canvas, m: JourneyMap, cols: dict[str, float], y0: float) -> float:
    """Stage names in dark boxes; returns the header height."""
    st = cv.style
    chars = st.chars(st.col_w, st.heading)
    wrapped = {s.key: wrap(s.name, chars, 3) for s in m.visible_stages()}
    h = max(len(v) for v in wrapped.values()) * st.heading * 1.3 + 2 * st.pad
    for s in m.visible_stages():
        cv.rect(cols[s.key] + 1, y0, st.col_w - 2, h, _HEADER_FILL, lane="stage", stage=s.name,
                tip=s.name)
        for i, line in enumerate(wrapped[s.key]):
            cv.text("header", cols[s.key] + st.col_w / 2, y0 + st.pad + i * st.heading * 1.3,
                    line, baseline="top", lane="stage", stage=s.name)
    return h


def _row(cv: _Canvas, m: JourneyMap, lane: Lane, cols: dict[str, float], y0: float) -> float:
    """One lane's cells from y0; returns the row height (at least two lines, one when fitted)."""
    st = cv.style
    row = m.cells.get(lane.key, {})
    heights = {s.key: (_draw_cell(cv, lane.key, s.name, row[s.key], cols[s.key], y0)
                       if s.key in row else 0.0) for s in m.visible_stages()}
    h = max([(1 if st.cell_lines else 2) * st.line + 2 * st.pad, _lane_title_h(st, lane),
             *heights.values()])
    for s in m.visible_stages():
        cell = row.get(s.key, Cell())
        fill = _MEASURED_FILL if cell.source == "measured" else _ASSUMED_FILL
        cv.rect(cols[s.key], y0, st.col_w, h, fill, stroke="#cfd8dc", lane=lane.key,
                stage=s.name, source=cell.source, n=cell.n, tip=_cell_tip(cell, lane.key))
    return h


def _cell_tip(cell: Cell, lane: str) -> str | None:
    """A cell's whole text for its tooltip: what a fitted map cut is one hover away."""
    parts = [cell.text] + [_bullet(i, lane) for i in cell.items]
    return "  ".join(p for p in parts if p) or None


def _lane_title_lines(st: _Style, lane: Lane) -> list[str]:
    return wrap(lane.title, st.chars(st.title_w, st.heading), 4)


def _lane_title_h(st: _Style, lane: Lane) -> float:
    return len(_lane_title_lines(st, lane)) * st.heading * 1.3 + st.pad


def _lane_title(cv: _Canvas, lane: Lane, y0: float, h: float) -> None:
    st = cv.style
    cv.rect(0, y0, st.title_w, h, _TITLE_FILL, stroke="#cfd8dc", lane=lane.key, tip=lane.title)
    for i, line in enumerate(_lane_title_lines(st, lane)):
        cv.text("lane_title", st.pad, y0 + st.pad + i * st.heading * 1.3, line,
                baseline="top", lane=lane.key)


def _title(m: JourneyMap) -> str:
    return m.title + (f" — {m.segment}" if m.segment else "")


def _legend(m: JourneyMap) -> list[str]:
    return [LEGEND] + ([f"Built from data {m.built_at}"] if m.built_at else [])


def _draw_title(cv: _Canvas, m: JourneyMap) -> float:
    """A fitted map's title and legend drawn as text on the map's own pixel scale (a chart
    title's height depends on the renderer); returns the height used."""
    st = cv.style
    size = st.heading * 1.5
    width = st.title_w + st.col_w * len(m.visible_stages())
    cv.text("map_title", 0, 0, _clip(_title(m), int(width / (size * _CHAR_WIDTH))),
            baseline="top")
    cv.text("legend", 0, size * 1.25, _clip("  ·  ".join(_legend(m)),
                                            int(width / (st.small * _CHAR_WIDTH))),
            baseline="top")
    return size * 1.25 + st.small * 1.3 + st.pad


@dataclass
class _Layout:
    """The drawn map: marks in pixels, where the emotion curve goes, column centres, height."""

    canvas: _Canvas
    cols: dict[str, float]
    emotion: _EmotionRow | None
    top: float
    height: float


def _layout(m: JourneyMap, st: _Style, *, title: bool = False) -> _Layout:
    """Every lane drawn top to bottom (under the title when ``title``)."""
    cv = _Canvas(st)
    stages = m.visible_stages()
    cols = {s.key: st.title_w + i * st.col_w for i, s in enumerate(stages)}
    centres = {k: x + st.col_w / 2 for k, x in cols.items()}
    y = top = _draw_title(cv, m) if title else 0.0
    emotion = None
    for lane in m.visible_lanes():
        if lane.key == "stage":
            h = _header(cv, m, cols, y)
            if any(c.text or c.items for c in m.cells.get("stage", {}).values()):
                h += _row(cv, m, lane, cols, y + h)
        elif lane.key == "emotion":
            h, emotion = _draw_emotion_row(cv, m, centres, y)
        else:
            h = _row(cv, m, lane, cols, y)
        _lane_title(cv, lane, y, h)
        y += h
    return _Layout(cv, cols, emotion, top, y)


_TEXT_MARKS: dict[str, dict[str, Any]] = {
    "header": {"align": "center", "fontWeight": "bold", "color": "#ffffff"},
    "lane_title": {"align": "left", "fontWeight": "bold", "color": _INK},
    "body": {"align": "left"},
    "assumed": {"align": "left", "fontStyle": "italic"},
    "caption": {"align": "left", "color": _MEASURED_COLOUR},
    "kpi": {"align": "left", "fontWeight": "bold"},
    "chip_text": {"align": "left"},
    "chip_assumed_text": {"align": "left", "fontStyle": "italic"},
    "flag": {"align": "center", "fontWeight": "bold", "color": _FLAG_COLOUR},
    "scale": {"align": "right", "color": _GREY},
    "more": {"align": "left", "fontStyle": "italic", "color": _GREY},
    "map_title": {"align": "left", "fontWeight": "bold", "color": _INK},
    "legend": {"align": "left", "color": _GREY},
}


def _text_layer(kind: str, rows: list[dict[str, Any]], st: _Style, x: alt.X, y: alt.Y
                ) -> alt.Chart:
    size = {"header": st.heading, "lane_title": st.heading, "caption": st.small,
            "flag": st.small, "scale": st.small, "more": st.small, "legend": st.small,
            "map_title": st.heading * 1.5}.get(kind, st.font)
    baseline = rows[0].get("baseline", "top")
    mark = {"font": FONT, "fontSize": size, "baseline": baseline, **_TEXT_MARKS[kind]}
    enc: dict[str, Any] = {"x": x, "y": y, "text": alt.Text("text:N")}
    if "color" not in mark:
        default = _GREY if "assumed" in kind else _INK
        for r in rows:
            r.setdefault("colour", default)
        enc["color"] = alt.Color("colour:N", scale=None)
    return alt.Chart(alt.Data(values=rows), description=f"text-{kind}").mark_text(
        **mark).encode(**enc)


def _focus_layers(lay: _Layout, st: _Style, x: alt.X, y: alt.Y) -> list[alt.Chart]:
    """The presented stage: every other column (header to last lane) under a white veil, the
    stage itself framed. The stage's index is the chart's ``focus`` parameter; the focused
    column has no veil, so its tooltips stay reachable."""
    rows = [{"col": i, "x": x0, "x2": x0 + st.col_w, "y": lay.top, "y2": lay.height}
            for i, x0 in enumerate(lay.cols.values())]
    veil = alt.Chart(alt.Data(values=rows), description="stage-veil").mark_rect(
        fill="#ffffff", opacity=_VEIL_OPACITY).encode(x=x, x2="x2:Q", y=y, y2="y2:Q"
                                                     ).transform_filter(f"datum.col != {FOCUS}")
    inset = max(2.0, st.pad / 2)
    framed = [{**r, "x": r["x"] + inset / 2, "x2": r["x2"] - inset / 2} for r in rows]
    frame = alt.Chart(alt.Data(values=framed), description="stage-frame").mark_rect(
        filled=False, stroke=_FOCUS_COLOUR, strokeWidth=inset).encode(
        x=x, x2="x2:Q", y=y, y2="y2:Q").transform_filter(f"datum.col == {FOCUS}")
    return [veil, frame]


def _chart(m: JourneyMap, st: _Style, *, fitted: bool = False, focus: int | None = None
           ) -> alt.LayerChart:
    lay = _layout(m, st, title=fitted)
    cv = lay.canvas
    width = st.title_w + st.col_w * len(m.visible_stages())
    x = _x(width)
    y_scale = alt.Scale(domain=[0, lay.height], reverse=True, nice=False, zero=False)
    y = alt.Y("y:Q", scale=y_scale, axis=None)
    fill = alt.Color("fill:N", scale=None)
    cell_tip = [alt.Tooltip("lane:N", title="Lane"), alt.Tooltip("stage:N", title="Stage"),
                alt.Tooltip("tip:N", title="Text"), alt.Tooltip("source:N", title="Source"),
                alt.Tooltip("n:Q", title="n")]
    chip_tip = [alt.Tooltip("item:N", title="Item"), alt.Tooltip("stage:N", title="Stage"),
                alt.Tooltip("value:N", title="Value / share"),
                alt.Tooltip("interval:N", title="95% interval"), alt.Tooltip("n:Q", title="n"),
                alt.Tooltip("status:N", title="Target status"),
                alt.Tooltip("source:N", title="Source")]
    layers: list[alt.Chart] = [
        alt.Chart(alt.Data(values=cv.rects), description="cells").mark_rect(
            strokeWidth=1, stroke="#cfd8dc").encode(x=x, x2="x2:Q", y=y, y2="y2:Q", color=fill,
                                                   tooltip=cell_tip),
    ]
    if cv.chips:
        layers.append(alt.Chart(alt.Data(values=cv.chips), description="chips").mark_rect(
            cornerRadius=st.chip_h / 2, stroke="#90a4ae", strokeWidth=1).encode(
            x=x, x2="x2:Q", y=y, y2="y2:Q", color=fill, tooltip=chip_tip))
    layers += [_text_layer(kind, rows, st, x, y) for kind, rows in cv.texts.items()
               if kind not in ("caption", "flag")]
    if lay.emotion is not None:
        layers += _emotion_layers(m, st, {k: v + st.col_w / 2 for k, v in lay.cols.items()},
                                  lay.emotion, x, y_scale)
    layers += [_text_layer(kind, cv.texts[kind], st, x, y) for kind in ("caption", "flag")
               if kind in cv.texts]
    if focus is not None:
        layers += _focus_layers(lay, st, x, y)
    chart = alt.layer(*layers)
    if focus is not None:
        chart = chart.add_params(alt.param(name=FOCUS, value=focus))
    props: dict[str, Any] = {}
    if not fitted:
        props["title"] = alt.Title(
            _title(m), subtitle=_legend(m), anchor="start", font=FONT, subtitleFont=FONT,
            fontSize=st.heading * 1.5, subtitleFontSize=st.small, subtitleColor=_GREY)
    # "pad": the size is the layout's, whatever a renderer's default (Streamlit's is "fit",
    # which would squeeze the map); SVG so that a screen can scale it like the exports
    return chart.properties(
        width=width, height=lay.height, autosize=alt.AutoSizeParams(type="pad"),
        usermeta={"embedOptions": {"renderer": "svg"}}, **props,
    ).configure_view(stroke=None).configure(padding=PADDING, background="#ffffff")


def _fit_style(n_stages: int, width: float, font: int, cell_lines: int) -> _Style:
    """Sizes of a fitted map: type ``font`` px, cells cut to ``cell_lines`` lines."""
    small, heading, pad = max(9, round(font * 0.8)), round(font * 1.1), max(3, round(font * 0.4))
    title_w = round(font * 10)
    line = font * 1.25
    emotion_h = small * 3 + 2 * pad + 4.5 * line  # flags, the curve, the n captions
    col_w = math.floor(max(40.0, (width - title_w) / n_stages) * 10) / 10  # never wider
    return _Style(font, small, heading, title_w, col_w,
                  pad, round(emotion_h, 1), cell_lines, leading=1.25, cell_lines=cell_lines,
                  chip_lines=1)


def fitted_style(m: JourneyMap, size: tuple[int, int]) -> _Style:
    """The largest type that shows the whole map in ``size`` (width, height) pixels with at
    least :data:`FIT_LINES` lines a cell, else the most lines at the smallest type: a screen
    full for the back of the room, never a scroll bar. Cut entries are counted ("+2 more")."""
    w, h = size[0] - 2 * PADDING, size[1] - 2 * PADDING
    k = min(size[0] / 1920, size[1] / 1080)
    n = len(m.visible_stages())
    best: tuple[int, _Style] | None = None
    for font in range(max(9, round(FIT_FONTS[1] * k)), max(8, round(FIT_FONTS[0] * k)) - 1, -1):
        for lines in range(FIT_LINES_MOST, 0, -1):
            st = _fit_style(n, w, font, lines)
            if _layout(m, st, title=True).height <= h:
                if lines >= FIT_LINES:
                    return _widen(m, st, h)
                if best is None or lines > best[0]:
                    best = (lines, st)
                break
    return best[1] if best else _fit_style(n, w, max(8, round(FIT_FONTS[0] * k)), 1)


def _widen(m: JourneyMap, st: _Style, h: float) -> _Style:
    """``st`` with more lines for the lanes of :data:`FIT_PRIORITY`, one at a time in turn,
    while the map still fits ``h`` pixels: the room's spare height goes to pain points first."""
    lanes = [k for k in FIT_PRIORITY if k in {la.key for la in m.visible_lanes()}]
    extra = dict.fromkeys(lanes, st.cell_lines)
    while lanes:
        for lane in list(lanes):
            wider = replace(st, lane_lines=tuple({**extra, lane: extra[lane] + 1}.items()))
            if extra[lane] < FIT_LINES_MOST and _layout(m, wider, title=True).height <= h:
                extra[lane] += 1
                st = wider
            else:
                lanes.remove(lane)
    return st


def swimlane_chart(m: JourneyMap, *, large: bool = False, width: int | None = None,
                   fit: tuple[int, int] | None = None, focus: int | None = None,
                   hide_lanes: Collection[str] = ()) -> alt.LayerChart:
    """The journey map as one layered Altair chart: visible stages as columns left to right,
    visible lanes as rows in the map's order with their titles at the left.

    ``large`` is the presentation mode (bigger type and cells, 1880 px wide for a 1920×1080
    projector); ``width`` sets the total width in pixels (columns share what the titles leave).
    ``fit`` (width, height) makes the whole chart, title and padding included, fit that many
    pixels: type, lane heights and cell lengths are chosen for it (:func:`fitted_style`) and
    the title is drawn inside the map. ``focus`` highlights the visible stage of that index
    (the chart's ``focus`` parameter; the other columns are veiled); ``hide_lanes`` leaves
    those lane keys out of this drawing (the stage header always stays).

    >>> m = JourneyMap.empty("Demo", "4742", ["Discovery", "Demo", "Purchase"])
    >>> m.cell("actions", "demo").text = "Listens to three pairs of speakers"
    >>> spec = swimlane_chart(m).to_dict()
    >>> "layer" in spec and spec["width"] > 400
    True
    >>> spec = swimlane_chart(m, fit=(1280, 720), focus=1, hide_lanes={"kpis"}).to_dict()
    >>> spec["width"] + 20 <= 1280 and spec["height"] + 20 <= 720, spec["params"]
    (True, [{'name': 'focus', 'value': 1}])
    """
    if not m.visible_stages():
        raise QueryError("The map has no visible stages: show at least one stage to draw it.")
    hide = set(hide_lanes) - {"stage"}
    if hide:
        m = replace(m, lanes=[replace(la, hidden=la.hidden or la.key in hide) for la in m.lanes])
    if not m.visible_lanes():
        raise QueryError("The map has no visible lanes: show at least one lane to draw it.")
    if focus is not None and not 0 <= focus < len(m.visible_stages()):
        raise QueryError(f"The map has no stage {focus + 1}: it shows "
                         f"{len(m.visible_stages())} stages.")
    if fit is not None:
        return _chart(m, fitted_style(m, fit), fitted=True, focus=focus)
    return _chart(m, _style(len(m.visible_stages()), large, width), focus=focus)


def emotion_chart(m: JourneyMap, *, large: bool = False, width: int | None = None
                  ) -> alt.LayerChart:
    """The emotion curve alone under the stage names (the same layers the swimlane uses).

    >>> m = JourneyMap.empty("Demo", "4742", ["Discovery", "Demo", "Purchase"])
    >>> m.emotion("demo").assumed = 2.0
    >>> "layer" in emotion_chart(m).to_dict()
    True
    """
    titles = {la.key: la.title for la in m.lanes}
    lanes = [Lane("stage", titles.get("stage", "Stage")),
             Lane("emotion", titles.get("emotion", "Emotion"))]
    return swimlane_chart(replace(m, lanes=lanes, cells={}), large=large, width=width)
