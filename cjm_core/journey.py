"""The journey definition kept with every workspace: ordered stages, which stage plays each role
used by benchmark metrics, and the industry (ISIC code) whose targets apply.

Each seed industry has a default template drawn from its seed document.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from cjm_core.errors import QueryError

#: stage roles that benchmark metrics refer to (DESIGN §3)
STAGE_ROLES = ("inquiry", "consultation", "cart", "purchase", "support")

INDUSTRIES: dict[str, str] = {
    "4773": "Other retail sale of new goods in specialized stores",
    "4741": "Computers, peripherals, software and telecom equipment in specialized stores",
    "4742": "Audio and video equipment in specialized stores",
}


@dataclass(frozen=True)
class Stage:
    key: str
    name: str


@dataclass
class Journey:
    """Ordered stages plus stage roles and industry.

    >>> j = default_journey("4742")
    >>> [s.key for s in j.stages][:3]
    ['discovery', 'online_research', 'in_store_demo']
    >>> Journey.from_json(j.to_json()) == j
    True
    """

    isic: str
    stages: list[Stage]
    stage_roles: dict[str, str] = field(default_factory=dict)

    @property
    def stage_keys(self) -> list[str]:
        return [s.key for s in self.stages]

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Journey:
        d = json.loads(text)
        return cls(
            isic=d["isic"],
            stages=[Stage(**s) for s in d["stages"]],
            stage_roles=dict(d.get("stage_roles", {})),
        )


def _stages(*names: str) -> list[Stage]:
    return [Stage(_key(n), n) for n in names]


def _key(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name.lower().replace(" & ", "_")).strip("_")


_TEMPLATES: dict[str, tuple[list[Stage], dict[str, str]]] = {
    # 4773: awareness to post-purchase support; in-store inquiry -> consultation is a target step
    "4773": (
        _stages(
            "Awareness", "Online research", "Store inquiry", "Consultation", "Cart",
            "Purchase", "Support", "Repeat purchase",
        ),
        {"inquiry": "store_inquiry", "consultation": "consultation", "cart": "cart",
         "purchase": "purchase", "support": "support"},
    ),
    # 4741: hybrid purchase path, setup/onboarding and support matter for complex tech
    "4741": (
        _stages(
            "Awareness", "Online research", "Store visit", "Expert advice", "Cart",
            "Purchase", "Setup", "Support", "Loyalty",
        ),
        {"inquiry": "store_visit", "consultation": "expert_advice", "cart": "cart",
         "purchase": "purchase", "support": "support"},
    ),
    # 4742: DESIGN §3's example template
    "4742": (
        _stages(
            "Discovery", "Online research", "In-store demo", "Purchase",
            "Delivery & installation", "Support", "Loyalty & advocacy",
        ),
        {"inquiry": "online_research", "consultation": "in_store_demo",
         "purchase": "purchase", "support": "support"},
    ),
}


def default_journey(isic: str) -> Journey:
    """The seed's default journey for an ISIC code (4773, 4741 or 4742)."""
    if isic not in _TEMPLATES:
        known = ", ".join(sorted(_TEMPLATES))
        raise KeyError(f"no journey template for ISIC {isic!r}; known: {known}")
    stages, roles = _TEMPLATES[isic]
    return Journey(isic=isic, stages=list(stages), stage_roles=dict(roles))


def journey_from_rows(
    isic: str, names: list[str], stage_roles: dict[str, str | None] | None = None
) -> Journey:
    """Build a journey from stage names in order (as edited in the app), checking them.

    >>> journey_from_rows("4742", ["Browse", "Buy"], {"purchase": "Buy"}).stage_roles
    {'purchase': 'buy'}
    """
    clean = [str(n).strip() for n in names if n is not None and str(n).strip()]
    if not clean:
        raise QueryError("A journey needs at least one stage.")
    seen: set[str] = set()
    for name in clean:
        if _key(name) in seen:
            raise QueryError(f"The stage {name!r} appears twice; stage names must differ.")
        seen.add(_key(name))
    by_name = {n: _key(n) for n in clean}
    roles = {}
    for role, stage in (stage_roles or {}).items():
        if role not in STAGE_ROLES:
            raise QueryError(f"unknown stage role {role!r}; known: {', '.join(STAGE_ROLES)}")
        if stage:
            if stage not in by_name and stage not in by_name.values():
                raise QueryError(f"The {role} role points at {stage!r}, which is not a stage.")
            roles[role] = by_name.get(stage, stage)
    return Journey(isic=isic, stages=[Stage(k, n) for n, k in by_name.items()], stage_roles=roles)


def unknown_stages(journey: Journey, values: list[str]) -> list[str]:
    """Stage values found in data that the journey does not name (matched by name or key).

    >>> unknown_stages(default_journey("4742"), ["Purchase", "purchase", "Unboxing"])
    ['Unboxing']
    """
    known = {s.name for s in journey.stages} | {s.key for s in journey.stages}
    return sorted({v for v in values if v is not None and v not in known and _key(v) not in known})
