"""The five tables of DESIGN §3, their roles, which roles are required and what type each holds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["id", "text", "category", "datetime", "number", "integer", "boolean", "score"]
#: the column every raw table starts with: each row's number as the user sees it in the file
ROW = "__row__"


@dataclass(frozen=True)
class Role:
    name: str
    kind: Kind
    required: bool = False
    #: inclusive bounds for numbers and scores; None means unbounded
    low: float | None = None
    high: float | None = None
    help: str = ""


TABLES: dict[str, tuple[Role, ...]] = {
    "events": (
        Role("customer_id", "id", True, help="who did it"),
        Role("timestamp", "datetime", True, help="when"),
        Role("stage", "category", True, help="journey stage"),
        Role("touchpoint", "category", help="where (web shop, store counter, hotline)"),
        Role("channel", "category", help="web, app, phone, store"),
        Role("event", "category", help="fine-grained action"),
        Role("segment", "category", help="segment or persona"),
        Role("revenue", "number", low=None, help="money attached to the event"),
    ),
    "feedback": (
        Role("csat", "score", low=1, high=10, help="satisfaction, 1-5 (or 1-7, 1-10)"),
        Role("nps", "score", low=0, high=10, help="likelihood to recommend, 0-10"),
        Role("ces", "score", low=1, high=7, help="customer effort, 1-5 or 1-7, lower is better"),
        Role("touchpoint", "category"),
        Role("stage", "category"),
        Role("customer_id", "id"),
        Role("timestamp", "datetime"),
        Role("channel", "category"),
        Role("comment", "text"),
    ),
    "support": (
        Role("opened_at", "datetime", True),
        Role("ticket_id", "id"),
        Role("customer_id", "id"),
        Role("resolved_at", "datetime"),
        Role("contacts", "integer", low=0),
        Role("first_contact_resolved", "boolean"),
        Role("channel", "category"),
        Role("complexity", "category", help="simple or complex"),
        Role("ces", "score", low=1, high=7),
    ),
    "orders": (
        Role("customer_id", "id", True),
        Role("order_date", "datetime", True),
        Role("amount", "number", True),
        Role("order_id", "id"),
        Role("channel", "category"),
    ),
    "funnel_counts": (
        Role("stage", "category", True),
        Role("customers", "integer", True, low=0),
        Role("period", "category"),
        Role("segment", "category"),
        Role("channel", "category"),
    ),
}

#: feedback needs at least one of these (DESIGN §3: "score columns, at least one")
FEEDBACK_SCORES = ("csat", "nps", "ces")


def scale_column(score: str) -> str:
    """The column of a loaded table holding the scale (5, 7, 10) a score was read on; ingest
    writes it, satisfaction reads it, so a 1–7 survey whose answers never pass 5 stays 1–7.

    >>> scale_column("csat")
    'csat_scale'
    """
    return f"{score}_scale"


def roles_of(table: str) -> dict[str, Role]:
    """Roles of a table by name.

    >>> sorted(r for r, role in roles_of("orders").items() if role.required)
    ['amount', 'customer_id', 'order_date']
    """
    return {r.name: r for r in TABLES[table]}


def required_roles(table: str) -> list[str]:
    """Roles that must be mapped for the table to load."""
    return [r.name for r in TABLES[table] if r.required]
