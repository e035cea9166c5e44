"""The swimlane journey map (DESIGN §7): stages left to right × lanes top to bottom, each cell
measured (from data, with n) or assumed (written by the team), plus the emotion curve.

This module holds the model and its JSON/CSV forms; :mod:`cjm_core.journey_map.build` fills a map
from a
workspace's data, :mod:`cjm_core.journey_map.chart` draws it and :mod:`cjm_core.journey_map.export`
exports it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from cjm_core.errors import QueryError

#: lanes top to bottom, in the DESIGN order
LANES: tuple[tuple[str, str], ...] = (
    ("stage", "Stage"),
    ("actions", "Customer actions"),
    ("touchpoints", "Touchpoints"),
    ("channels", "Channels"),
    ("thoughts", "Thoughts"),
    ("emotion", "Emotion"),
    ("pain_points", "Pain points"),
    ("opportunities", "Opportunities"),
    ("backstage", "Backstage / owning team"),
    ("kpis", "KPIs vs target"),
)
LANE_KEYS = tuple(k for k, _ in LANES)
EMOTION_MIN, EMOTION_MAX = -2.0, 2.0

#: challenge codes of the seeds that pain points can carry
CHALLENGE_CODES: dict[str, str] = {
    "MD01": "Declining foot traffic",
    "MD03": "Showrooming",
    "MD04": "Cart abandonment / missed sales",
    "MD06": "Omnichannel complexity",
    "MD08": "High customer acquisition costs",
    "DT01": "Information gaps",
    "DT06": "Online research before purchase",
    "DT07": "Inconsistent experience / friction in the sales process",
    "DT08": "Siloed systems",
    "DT09": "Personalisation from purchase history",
    "CS01": "Brand reputation and trust",
    "CS08": "Staff knowledge and staffing",
}

Source = Literal["measured", "assumed"]

#: the KPI items that count customers (written by :mod:`cjm_core.journey_map.build`); the second
#: one is
#: no longer built, and maps saved with it are read without it (`_one_count_per_stage`)
KPI_REACHED = "Customers reached"
KPI_VISITED = "Customers at this stage"


@dataclass
class Item:
    """One entry of a cell: a touchpoint chip, a pain point, an opportunity, a KPI.

    ``value``/``n``/``low``/``high`` carry the figure behind a measured item (a share, a CSAT),
    ``status`` a KPI's target status (met / within / missed / no data), ``code`` a challenge code,
    ``owner`` an opportunity's owner.
    """

    text: str
    source: Source = "assumed"
    value: float | None = None
    n: int | None = None
    low: float | None = None
    high: float | None = None
    status: str | None = None
    code: str | None = None
    owner: str | None = None
    unit: str | None = None


@dataclass
class Cell:
    """What a lane says at a stage: free text and/or items; ``n`` and what it counts
    (``n_of``: "customers", "events", "answers"), so a caption never passes events for
    customers."""

    text: str = ""
    source: Source = "assumed"
    items: list[Item] = field(default_factory=list)
    n: int | None = None
    n_of: str | None = None


@dataclass
class Emotion:
    """A stage's point on the emotion curve (−2…+2): the team's assumption and the measured
    value (satisfaction mapped linearly) with its interval and n."""

    assumed: float | None = None
    measured: float | None = None
    low: float | None = None
    high: float | None = None
    n: int | None = None

    @property
    def disagrees(self) -> bool:
        """Assumed and measured differ by more than one step: where belief and data part."""
        return (self.assumed is not None and self.measured is not None
                and abs(self.assumed - self.measured) > 1.0)


@dataclass
class MapStage:
    key: str
    name: str
    hidden: bool = False


@dataclass
class Lane:
    key: str
    title: str
    hidden: bool = False


@dataclass
class JourneyMap:
    """Stages × lanes with cells, and the emotion curve.

    >>> m = JourneyMap.empty("Demo", "4742", ["Discovery", "Purchase"])
    >>> m.cell("actions", "purchase").text = "Buys the TV"
    >>> JourneyMap.from_json(m.to_json()) == m
    True
    >>> [lane.key for lane in m.visible_lanes()][:3]
    ['stage', 'actions', 'touchpoints']
    """

    title: str
    isic: str
    stages: list[MapStage]
    lanes: list[Lane] = field(default_factory=lambda: [Lane(k, t) for k, t in LANES])
    cells: dict[str, dict[str, Cell]] = field(default_factory=dict)
    emotions: dict[str, Emotion] = field(default_factory=dict)
    segment: str | None = None
    #: content digest of the data the measured cells came from, and when they were built
    data_digest: str | None = None
    built_at: str | None = None

    @classmethod
    def empty(cls, title: str, isic: str, stage_names: list[str]) -> JourneyMap:
        from cjm_core.model.journey import _key

        return cls(title, isic, [MapStage(_key(n), n) for n in stage_names])

    def cell(self, lane: str, stage: str) -> Cell:
        """The cell at (lane, stage key), created empty when missing."""
        if lane not in {la.key for la in self.lanes}:
            raise QueryError(f"The map has no lane {lane!r}.")
        if stage not in {s.key for s in self.stages}:
            raise QueryError(f"The map has no stage {stage!r}.")
        return self.cells.setdefault(lane, {}).setdefault(stage, Cell())

    def emotion(self, stage: str) -> Emotion:
        return self.emotions.setdefault(stage, Emotion())

    def visible_stages(self) -> list[MapStage]:
        return [s for s in self.stages if not s.hidden]

    def visible_lanes(self) -> list[Lane]:
        return [la for la in self.lanes if not la.hidden]

    def flagged_stages(self) -> list[str]:
        """Stage keys where the assumed and measured emotion differ by more than one step."""
        return [s.key for s in self.stages if self.emotions.get(s.key, Emotion()).disagrees]

    # -- serialisation ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> JourneyMap:
        try:
            return cls(
                title=str(d["title"]),
                isic=str(d["isic"]),
                stages=[MapStage(**s) for s in d["stages"]],
                lanes=[Lane(**la) for la in d["lanes"]],
                cells=_one_count_per_stage({lane: {st: _cell(c) for st, c in row.items()}
                                            for lane, row in d.get("cells", {}).items()}),
                emotions={k: Emotion(**e) for k, e in d.get("emotions", {}).items()},
                segment=d.get("segment"),
                data_digest=d.get("data_digest"),
                built_at=d.get("built_at"),
            )
        except (KeyError, TypeError) as exc:
            raise QueryError(f"This is not a journey map: {exc}") from exc

    @classmethod
    def from_json(cls, text: str) -> JourneyMap:
        try:
            return cls.from_dict(json.loads(text))
        except ValueError as exc:
            if isinstance(exc, QueryError):
                raise
            raise QueryError(f"The map file is not valid JSON: {exc}") from exc

    def with_stages(self, stages: list[MapStage]) -> JourneyMap:
        return replace(self, stages=stages)


def _one_count_per_stage(cells: dict[str, dict[str, Cell]]) -> dict[str, dict[str, Cell]]:
    """Maps saved before one count per stage showed, beside customers reached, "Customers at
    this stage" and the first stage's reached as the KPI caption's n: read them with the one
    count a stage now shows (the reached KPI, also its n and the caption's)."""
    for cell in cells.get("kpis", {}).values():
        cell.items = [i for i in cell.items
                      if not (i.source == "measured" and i.text == KPI_VISITED)]
        reached = next((i for i in cell.items if i.source == "measured"
                        and i.text == KPI_REACHED and i.value is not None), None)
        if reached is not None and reached.value is not None:
            reached.n = cell.n = int(reached.value)
            cell.n_of = "customers"
    return cells


def _cell(c: dict[str, Any]) -> Cell:
    return Cell(text=c.get("text", ""), source=c.get("source", "assumed"),
                items=[Item(**i) for i in c.get("items", [])], n=c.get("n"),
                n_of=c.get("n_of"))


# -- editing (the page's table editors hand rows back; these apply them) ----------------------


def stage_rows(m: JourneyMap) -> list[dict[str, Any]]:
    """One row per stage for the stage editor: order, key, name, hidden."""
    return [{"order": i + 1, "key": s.key, "name": s.name, "hidden": s.hidden}
            for i, s in enumerate(m.stages)]


def apply_stage_rows(m: JourneyMap, rows: list[dict[str, Any]]) -> JourneyMap:
    """Rename, reorder, hide, add (rows without a key) and remove (rows left out) stages.

    >>> m = JourneyMap.empty("x", "4742", ["A", "B"])
    >>> rows = stage_rows(m)
    >>> rows[0].update(order=3, name="Awareness"); rows.append({"order": 2, "name": "New"})
    >>> [(s.key, s.name) for s in apply_stage_rows(m, rows).stages]
    [('b', 'B'), ('new', 'New'), ('a', 'Awareness')]
    """
    from cjm_core.model.journey import _key

    clean = [r for r in rows if str(r.get("name") or "").strip()]
    if not clean:
        raise QueryError("A map needs at least one stage.")
    clean.sort(key=lambda r: (r.get("order") is None, r.get("order") or 0))
    taken = {s.key for s in m.stages}
    stages = []
    for r in clean:
        key = r.get("key") or _unique(_key(str(r["name"])) or "stage", taken)
        taken.add(key)
        stages.append(MapStage(key, str(r["name"]).strip(), bool(r.get("hidden") or False)))
    if len({s.key for s in stages}) != len(stages):
        raise QueryError("Two rows name the same stage; give each stage its own row.")
    keep = {s.key for s in stages}
    cells = {lane: {k: c for k, c in row.items() if k in keep} for lane, row in m.cells.items()}
    emotions = {k: e for k, e in m.emotions.items() if k in keep}
    return replace(m, stages=stages, cells=cells, emotions=emotions)


def _unique(key: str, taken: set[str]) -> str:
    out, i = key, 2
    while out in taken:
        out, i = f"{key}_{i}", i + 1
    return out


def lane_rows(m: JourneyMap) -> list[dict[str, Any]]:
    """One row per lane for the lane editor: order, key, title, hidden."""
    return [{"order": i + 1, "key": la.key, "title": la.title, "hidden": la.hidden}
            for i, la in enumerate(m.lanes)]


def apply_lane_rows(m: JourneyMap, rows: list[dict[str, Any]]) -> JourneyMap:
    """Rename, reorder and hide lanes (every lane stays in the model; hidden ones are not drawn).

    >>> m = JourneyMap.empty("x", "4742", ["A"])
    >>> rows = lane_rows(m); rows[1].update(title="Doing", hidden=True, order=99)
    >>> [la.key for la in apply_lane_rows(m, rows).visible_lanes()][-1]
    'kpis'
    """
    by_key = {la.key: la for la in m.lanes}
    ordered = sorted((r for r in rows if r.get("key") in by_key),
                     key=lambda r: (r.get("order") is None, r.get("order") or 0))
    lanes = [Lane(r["key"], str(r.get("title") or by_key[r["key"]].title).strip(),
                  bool(r.get("hidden") or False)) for r in ordered]
    missing = [la for la in m.lanes if la.key not in {x.key for x in lanes}]
    return replace(m, lanes=lanes + missing)


def item_rows(m: JourneyMap, lane: str) -> list[dict[str, Any]]:
    """The team's (assumed) entries of a lane, one row per item plus one per stage note:
    stage, text, code (pain points), owner (opportunities). Measured items are not edited here:
    they come from the data."""
    rows = []
    for s in m.stages:
        cell = m.cells.get(lane, {}).get(s.key)
        if cell is None:
            continue
        if cell.text and cell.source == "assumed":
            rows.append({"stage": s.name, "text": cell.text, "code": None, "owner": None,
                         "note": True})
        for it in cell.items:
            if it.source == "assumed":
                rows.append({"stage": s.name, "text": it.text, "code": it.code,
                             "owner": it.owner, "note": False})
    return rows


def apply_item_rows(m: JourneyMap, lane: str, rows: list[dict[str, Any]]) -> JourneyMap:
    """Replace a lane's assumed entries with the edited rows, keeping the measured ones.

    >>> m = JourneyMap.empty("x", "4742", ["A", "B"])
    >>> m2 = apply_item_rows(m, "pain_points", [{"stage": "B", "text": "Long queue",
    ...                                          "code": "CS08"}])
    >>> [(i.text, i.code) for i in m2.cell("pain_points", "b").items]
    [('Long queue', 'CS08')]
    """
    import copy

    names = {s.name: s.key for s in m.stages} | {s.key: s.key for s in m.stages}
    out = copy.deepcopy(m)
    for s in out.stages:
        cell = out.cells.get(lane, {}).get(s.key)
        if cell is not None:
            cell.items = [i for i in cell.items if i.source != "assumed"]
            if cell.source == "assumed":
                cell.text = ""
    for r in rows:
        text = str(r.get("text") or "").strip()
        if not text:
            continue
        stage = names.get(str(r.get("stage") or ""))
        if stage is None:
            raise QueryError(f"The row {text!r} names no stage of the map ({r.get('stage')!r}).")
        code = (str(r.get("code") or "").strip().upper() or None)
        if code is not None and code not in CHALLENGE_CODES:
            raise QueryError(f"{code!r} is not a challenge code; use one of "
                             + ", ".join(CHALLENGE_CODES) + ".")
        cell = out.cell(lane, stage)
        if r.get("note"):
            cell.text = f"{cell.text}\n{text}".strip() if cell.text else text
        else:
            cell.items.append(Item(text, "assumed", code=code,
                                   owner=str(r.get("owner") or "").strip() or None))
    return out


def emotion_rows(m: JourneyMap) -> list[dict[str, Any]]:
    """Per stage: the team's assumed emotion (editable) beside the measured one with its n."""
    return [{"stage": s.name, "assumed": m.emotions.get(s.key, Emotion()).assumed,
             "measured": m.emotions.get(s.key, Emotion()).measured,
             "n": m.emotions.get(s.key, Emotion()).n} for s in m.stages]


def apply_emotion_rows(m: JourneyMap, rows: list[dict[str, Any]]) -> JourneyMap:
    """Set the assumed emotions (−2…+2; empty clears); measured values are left as they are.

    >>> m = apply_emotion_rows(JourneyMap.empty("x", "4742", ["A"]), [{"stage": "A",
    ...                        "assumed": 1.5}])
    >>> m.emotions["a"].assumed
    1.5
    """
    import copy

    names = {s.name: s.key for s in m.stages}
    out = copy.deepcopy(m)
    for r in rows:
        key = names.get(r.get("stage", ""))
        if key is None:
            continue
        value = r.get("assumed")
        if value is not None and value == value:
            value = float(value)
            if not EMOTION_MIN <= value <= EMOTION_MAX:
                raise QueryError(f"Emotion at {r['stage']!r} must lie between −2 and +2, "
                                 f"not {value:g}.")
        else:
            value = None
        out.emotion(key).assumed = value
    return out


def stage_summary(m: JourneyMap, stage: str) -> list[tuple[str, list[str]]]:
    """A stage's visible lanes as plain lines (for presenting one stage at a time); figures
    carry their n and measured entries say so.

    >>> m = JourneyMap.empty("x", "4742", ["A"])
    >>> m.cell("pain_points", "a").items = [Item("Queue", "measured", value=0.4, n=50,
    ...                                          code="CS08")]
    >>> stage_summary(m, "a")
    [('Pain points', ['Queue [CS08] (measured, n=50)'])]
    """
    out = []
    for lane in m.visible_lanes():
        if lane.key in ("stage", "emotion"):
            continue
        cell = m.cells.get(lane.key, {}).get(stage)
        if cell is None:
            continue
        lines = [cell.text] if cell.text else []
        for it in cell.items:
            extra = [f"[{it.code}]"] if it.code else []
            extra += [f"owner: {it.owner}"] if it.owner else []
            tag = ("measured" + (f", n={it.n}" if it.n is not None else "")
                   if it.source == "measured" else "")
            lines.append(" ".join([it.text, *extra]) + (f" ({tag})" if tag else ""))
        if lines:
            out.append((lane.title, lines))
    e = m.emotions.get(stage)
    if e and (e.assumed is not None or e.measured is not None):
        parts = []
        if e.measured is not None:
            parts.append(f"measured {e.measured:+.1f}" + (f" (n={e.n})" if e.n else ""))
        if e.assumed is not None:
            parts.append(f"assumed {e.assumed:+.1f}")
        out.append(("Emotion", [", ".join(parts) + (" ⚑ belief ≠ data" if e.disagrees else "")]))
    return out
