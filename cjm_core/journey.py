"""The journey definition kept with every workspace: ordered stages, which stage plays each role
used by benchmark metrics, and the industry (ISIC code) whose targets apply.

Each seed industry has a default template drawn from its seed document.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

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
