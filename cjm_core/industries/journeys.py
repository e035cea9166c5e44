"""The journey of each industry (ISIC 4773, 4741, 4742) as its seed describes it: the stage
names in order and which stage plays each role that benchmark metrics use (inquiry,
consultation, cart, purchase, support; stage keys as :func:`cjm_core.model.journey._key`
makes them). :func:`cjm_core.model.journey.default_journey` builds a journey from these."""

from __future__ import annotations

INDUSTRIES: dict[str, str] = {
    "4773": "Other retail sale of new goods in specialized stores",
    "4741": "Computers, peripherals, software and telecom equipment in specialized stores",
    "4742": "Audio and video equipment in specialized stores",
}

#: isic -> (stage names in order, role -> stage key)
JOURNEY_TEMPLATES: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    # 4773: awareness to post-purchase support; in-store inquiry -> consultation is a target step
    "4773": (
        ("Awareness", "Online research", "Store inquiry", "Consultation", "Cart", "Purchase",
         "Support", "Repeat purchase"),
        {"inquiry": "store_inquiry", "consultation": "consultation", "cart": "cart",
         "purchase": "purchase", "support": "support"},
    ),
    # 4741: hybrid purchase path, setup/onboarding and support matter for complex tech
    "4741": (
        ("Awareness", "Online research", "Store visit", "Expert advice", "Cart", "Purchase",
         "Setup", "Support", "Loyalty"),
        {"inquiry": "store_visit", "consultation": "expert_advice", "cart": "cart",
         "purchase": "purchase", "support": "support"},
    ),
    # 4742: DESIGN §3's example template
    "4742": (
        ("Discovery", "Online research", "In-store demo", "Purchase", "Delivery & installation",
         "Support", "Loyalty & advocacy"),
        {"inquiry": "online_research", "consultation": "in_store_demo",
         "purchase": "purchase", "support": "support"},
    ),
}
