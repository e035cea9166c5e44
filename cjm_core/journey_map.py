"""The swimlane journey map (DESIGN §7): stages left to right × lanes top to bottom, each cell
measured (from data, with n) or assumed (written by the team), plus the emotion curve.

This module holds the model and its JSON/CSV forms; :mod:`cjm_core.map_build` fills a map from a
workspace's data, :mod:`cjm_core.map_chart` draws it and :mod:`cjm_core.map_export` exports it.
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
    """What a lane says at a stage: free text and/or items."""

    text: str = ""
    source: Source = "assumed"
    items: list[Item] = field(default_factory=list)
    n: int | None = None


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
        from cjm_core.journey import _key

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
                cells={lane: {st: _cell(c) for st, c in row.items()}
                       for lane, row in d.get("cells", {}).items()},
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


def _cell(c: dict[str, Any]) -> Cell:
    return Cell(text=c.get("text", ""), source=c.get("source", "assumed"),
                items=[Item(**i) for i in c.get("items", [])], n=c.get("n"))
