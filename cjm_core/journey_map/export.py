"""Export a journey map (DESIGN §7): PNG, SVG and PDF of the swimlane rendered without a
browser (vl-convert), the map as JSON (to version it) and as CSV/XLSX (to read it in a
spreadsheet), with every text cell neutralised against formula injection.

>>> from cjm_core.journey_map.model import JourneyMap
>>> m = JourneyMap.empty("Demo", "4742", ["Discovery", "Demo", "Purchase"])
>>> m.cell("actions", "demo").text = "=HYPERLINK(\\"http://x\\")"
>>> "'=HYPERLINK" in to_csv(m)
True
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, get_args

import polars as pl

from cjm_core.errors import QueryError
from cjm_core.journey_map.chart import swimlane_chart
from cjm_core.journey_map.model import LANES, JourneyMap
from cjm_core.present.spreadsheet import safe_csv, safe_xlsx

Format = Literal["png", "svg", "pdf", "json", "csv", "xlsx"]
FORMATS: tuple[str, ...] = get_args(Format)
MIME: dict[str, str] = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "json": "application/json",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CSV_COLUMNS = ("lane", "lane_title", "stage_key", "stage", "source", "text", "items", "n",
               "value", "low", "high")
_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts")
_fonts_registered = False


# ----------------------------------------------------------------------------- pictures


def _register_fonts() -> None:
    """Let vl-convert use the system fonts (DejaVu has the ⚑ ≠ − glyphs the map draws)."""
    global _fonts_registered
    if _fonts_registered:
        return
    import vl_convert as vlc

    for d in _FONT_DIRS:
        if os.path.isdir(d):
            vlc.register_font_directory(d)
    _fonts_registered = True


def _spec(m: JourneyMap, **kw: Any) -> dict[str, Any]:
    _register_fonts()
    return swimlane_chart(m, **kw).to_dict()


def _render_error(fmt: str, exc: Exception) -> QueryError:
    return QueryError(f"The map could not be drawn as {fmt.upper()}: {exc}")


def to_svg(m: JourneyMap, **kw: Any) -> str:
    """The swimlane as SVG text; ``kw`` goes to :func:`~cjm_core.journey_map.chart.swimlane_chart`
    (``large``, ``width``).

    >>> from cjm_core.journey_map.model import JourneyMap
    >>> to_svg(JourneyMap.empty("Demo", "4742", ["A", "B", "C"])).startswith("<svg")
    True
    """
    import vl_convert as vlc

    try:
        return vlc.vegalite_to_svg(_spec(m, **kw), allowed_base_urls=[])
    except ValueError as exc:
        raise _render_error("svg", exc) from exc


def to_png(m: JourneyMap, scale: float = 2.0, **kw: Any) -> bytes:
    """The swimlane as PNG bytes, ``scale`` times the chart's pixel size (2 for sharp print)."""
    import vl_convert as vlc

    try:
        return vlc.vegalite_to_png(_spec(m, **kw), scale=scale, allowed_base_urls=[])
    except ValueError as exc:
        raise _render_error("png", exc) from exc


def to_pdf(m: JourneyMap, **kw: Any) -> bytes:
    """The swimlane as a one-page vector PDF."""
    import vl_convert as vlc

    try:
        return vlc.vegalite_to_pdf(_spec(m, **kw), allowed_base_urls=[])
    except ValueError as exc:
        raise _render_error("pdf", exc) from exc


# ----------------------------------------------------------------------------- tables


def to_json(m: JourneyMap) -> str:
    """The map as JSON (:meth:`JourneyMap.from_json` reads it back)."""
    return m.to_json()


def rows(m: JourneyMap) -> list[dict[str, Any]]:
    """One row per lane × stage (every lane and stage, hidden ones too, so nothing is lost),
    then the emotion rows (one per stage and source). Text is NOT neutralised here.

    >>> from cjm_core.journey_map.model import JourneyMap
    >>> m = JourneyMap.empty("Demo", "4742", ["Discovery", "Demo", "Purchase"])
    >>> m.emotion("demo").assumed = 1.5
    >>> len(rows(m)), rows(m)[-1]["value"]
    (28, 1.5)
    """
    titles = {la.key: la.title for la in m.lanes} | {k: t for k, t in LANES
                                                       if k not in {la.key for la in m.lanes}}
    out: list[dict[str, Any]] = []
    for lane in m.lanes:
        if lane.key == "emotion":
            continue
        for s in m.stages:
            c = m.cells.get(lane.key, {}).get(s.key)
            items = "; ".join(_item_text(i) for i in c.items) if c else ""
            out.append({"lane": lane.key, "lane_title": lane.title, "stage_key": s.key,
                        "stage": s.name, "source": c.source if c else "", "text": c.text if c
                        else "", "items": items, "n": c.n if c else None,
                        "value": None, "low": None, "high": None})
    for s in m.stages:
        e = m.emotions.get(s.key)
        if e is None:
            continue
        for source, value, low, high, n in (("assumed", e.assumed, None, None, None),
                                            ("measured", e.measured, e.low, e.high, e.n)):
            if value is not None:
                out.append({"lane": "emotion", "lane_title": titles.get("emotion", "Emotion"),
                            "stage_key": s.key, "stage": s.name, "source": source,
                            "text": "belief ≠ data" if e.disagrees else "", "items": "",
                            "n": n, "value": value, "low": low, "high": high})
    return out


def _item_text(item: Any) -> str:
    code = f"[{item.code}] " if item.code else ""
    value = f" ({item.value:g}{' ' + item.unit if item.unit else ''})" if item.value is not None \
        else ""
    n = f" n={item.n}" if item.n is not None else ""
    status = f" {item.status}" if item.status else ""
    owner = f" — {item.owner}" if item.owner else ""
    return f"{code}{item.text}{value}{n}{status}{owner}"


def table(m: JourneyMap) -> pl.DataFrame:
    """:func:`rows` as a frame with the columns :data:`CSV_COLUMNS` (text not neutralised)."""
    schema = {c: pl.String for c in CSV_COLUMNS[:7]} | {
        "n": pl.Int64, "value": pl.Float64, "low": pl.Float64, "high": pl.Float64}
    return pl.DataFrame(rows(m), schema=schema, orient="row")


def to_csv(m: JourneyMap) -> str:
    """The map as CSV (columns :data:`CSV_COLUMNS`), every text cell neutralised."""
    return safe_csv(table(m))


def to_xlsx(m: JourneyMap) -> bytes:
    """The map as an XLSX workbook: text written as text (never as a formula, neutralised too),
    numbers as numbers."""
    return safe_xlsx(table(m), sheet="Journey map")


# ----------------------------------------------------------------------------- dispatch


def export(m: JourneyMap, fmt: Format | str, **kw: Any) -> tuple[bytes, str, str]:
    """The map in ``fmt`` (a `Format`, any case; another name is a ``QueryError``) as (bytes,
    MIME type, file suffix); ``kw`` goes to the chart.

    >>> from cjm_core.journey_map.model import JourneyMap
    >>> data, mime, suffix = export(JourneyMap.empty("Demo", "4742", ["A", "B", "C"]), "json")
    >>> mime, suffix
    ('application/json', '.json')
    """
    fmt = fmt.lower()
    if fmt == "png":
        data = to_png(m, **kw)
    elif fmt == "svg":
        data = to_svg(m, **kw).encode("utf-8")
    elif fmt == "pdf":
        data = to_pdf(m, **kw)
    elif fmt == "json":
        data = to_json(m).encode("utf-8")
    elif fmt == "csv":
        data = to_csv(m).encode("utf-8-sig")  # the BOM makes Excel read UTF-8
    elif fmt == "xlsx":
        data = to_xlsx(m)
    else:
        raise QueryError(f"Cannot export a map as {fmt!r}: choose one of {', '.join(FORMATS)}.")
    return data, MIME[fmt], f".{fmt}"


def write(m: JourneyMap, path: Path | str, **kw: Any) -> Path:
    """Write the map to ``path`` in the format its suffix names (.png .svg .pdf .json .csv
    .xlsx); returns the path."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise QueryError(f"Cannot tell the export format from {path.name!r}: end the file name "
                         f"with one of {', '.join('.' + f for f in FORMATS)}.")
    data, _, _ = export(m, fmt, **kw)
    path.write_bytes(data)
    return path
