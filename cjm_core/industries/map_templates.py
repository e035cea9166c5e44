"""The journey-map template of each industry: per stage, the customer's actions and thoughts,
the backstage team, the assumed emotion (−2…+2) and the opportunities (text, challenge code,
owner), written from the seeds' insights and prioritised actions. The map build starts a new
map from these (:mod:`cjm_core.journey_map.build`)."""

from __future__ import annotations

from typing import Any


def _o(text: str, code: str, owner: str) -> dict[str, str]:
    return {"text": text, "code": code, "owner": owner}


def _s(actions: str, thoughts: str, backstage: str, emotion: float,
       *opportunities: dict[str, str]) -> dict[str, Any]:
    return {"actions": actions, "thoughts": thoughts, "backstage": backstage,
            "emotion": emotion, "opportunities": list(opportunities)}


_CRM = "Unified CRM: one customer view across web, store and service"
_SURVEY = "Short CSAT survey right after this step"

#: isic -> stage key -> lane contents (actions, thoughts, backstage, emotion −2…+2,
#: opportunities [{text, code, owner}]), written from the seeds' insights and prioritised actions
TEMPLATES: dict[str, dict[str, dict[str, Any]]] = {
    "4773": {  # seed 000: other specialised goods
        "awareness": _s(
            "Notices the shop in an ad, a newsletter or the window",
            "Is this a specialist I can trust?", "Marketing: campaigns, newsletter", 0.5,
            _o("Consistent brand promise online and in the window to win back foot traffic",
               "MD01", "marketing")),
        "online_research": _s(
            "Reads specs and reviews, checks whether the store has it in stock",
            "Is it really in stock at my store?", "E-commerce: product pages, stock feed", 0.0,
            _o(_CRM, "MD06", "IT"),
            _o("Show live store stock online, the same figure staff see", "DT07", "e-commerce")),
        "store_inquiry": _s(
            "Asks at the counter or calls the store about the product",
            "Will someone have time to help me?", "Sales: store staff, phone line", 0.0,
            _o("Staff can see what the customer researched online", "MD06", "IT"),
            _o("Enough trained staff at peak hours", "CS08", "sales")),
        "consultation": _s(
            "Gets expert advice, tries the product",
            "This person really knows the product", "Sales: product specialists", 1.0,
            _o("Train sales associates as product experts and consultants", "CS08", "sales"),
            _o("Advice worth coming in for, so price matching is not the only argument",
               "MD03", "sales")),
        "cart": _s(
            "Puts the item in the basket or online cart",
            "Is this the best price? Any hidden costs?", "E-commerce and store checkout", 0.0,
            _o("Find and remove the 2–3 biggest checkout frictions", "MD04", "e-commerce")),
        "purchase": _s(
            "Pays in store or online", "Glad that was easy", "Sales, e-commerce, POS", 1.0,
            _o(_SURVEY, "CS01", "service")),
        "support": _s(
            "Contacts service about care, repair or warranty",
            "Do I have to explain everything again?", "Service: hotline, email, repair desk",
            -1.0,
            _o("Proactive post-purchase sequence: setup guides, care tips, warranty reminders",
               "CS01", "service"),
            _o("Service sees the purchase and earlier contacts (no repeat questions)", "DT08",
               "IT")),
        "repeat_purchase": _s(
            "Buys accessories or the next product",
            "They remember what I bought", "Marketing: reminders, loyalty offers", 1.0,
            _o("Repeat business through reminders and accessories lowers acquisition costs",
               "MD08", "marketing")),
    },
    "4741": {  # seed 001: computers, peripherals, software, telecom
        "awareness": _s(
            "Sees an ad or a review of a new device", "Do I need an upgrade?",
            "Marketing: campaigns", 0.5,
            _o("Stay relevant against pure e-commerce with expert content", "MD01",
               "marketing")),
        "online_research": _s(
            "Compares specs, configures, reads reviews",
            "Too many options; which one fits me?", "E-commerce: configurator, product data",
            0.0,
            _o("Multi-channel friction audit and usability tests of the website", "DT07",
               "e-commerce")),
        "store_visit": _s(
            "Comes to the store to try devices", "I want to see it before I buy",
            "Sales: store floor, appointments", 0.5,
            _o(_CRM + " (staff see the online research)", "DT08", "IT")),
        "expert_advice": _s(
            "Gets advice from a tech advisor", "Finally someone who explains it",
            "Sales: tech advisors, business desk", 1.0,
            _o("Continuous product training and tablets with live stock and profiles",
               "CS08", "sales")),
        "cart": _s(
            "Adds the device and accessories to the cart", "Can I get it cheaper online?",
            "E-commerce and store checkout", 0.0,
            _o("Audit checkout and remove the biggest frictions (A/B tests, mystery shopping)",
               "MD04", "e-commerce")),
        "purchase": _s(
            "Pays in store or online", "Hope I chose right", "Sales, e-commerce", 0.5,
            _o("Post-purchase CSAT and NPS surveys across all channels", "CS01", "service")),
        "setup": _s(
            "Sets up the device, moves data, activates the contract",
            "Why is this so complicated?", "Service: setup desk, activation hotline", -1.0,
            _o("Onboarding programme: guided setup videos, follow-up calls, workshops",
               "CS01", "service"),
            _o("Enough trained staff at the setup desk", "CS08", "service")),
        "support": _s(
            "Calls, chats or brings the device for repair",
            "I have to explain everything again", "Service: hotline, chat, repair desk", -1.0,
            _o("Support sees purchase details at once (no silos)", "DT08", "IT"),
            _o("Cross-train sales and support staff for basic inquiries", "CS08", "service")),
        "loyalty": _s(
            "Joins the loyalty programme, trades in, writes a review",
            "They take care of me after the sale", "Marketing: loyalty, trade-in", 1.0,
            _o("Loyalty programme rewarding reviews and workshops", "DT09", "marketing")),
    },
    "4742": {  # seed 002: audio and video equipment
        "discovery": _s(
            "Sees an ad, a video or the store window", "That sound system looks great",
            "Marketing: campaigns, social media", 0.5,
            _o("Reasons to visit the store in every campaign (declining foot traffic)",
               "MD01", "marketing")),
        "online_research": _s(
            "Reads reviews, compares models, checks store stock",
            "I need to hear it before spending this much", "E-commerce: product pages, guides",
            0.0,
            _o("Rich product content and compatibility guides online", "DT06", "e-commerce"),
            _o("Compelling reasons to book an in-store demo (against showrooming)", "MD03",
               "marketing")),
        "in_store_demo": _s(
            "Listens in the demo room, gets a system recommendation",
            "Wow, now I understand the difference", "Sales: listening room, advisors", 1.5,
            _o("Expert available for every demo; guided comparisons", "CS08", "sales"),
            _o("Customised demo setups from the customer's online research", "DT09", "sales")),
        "purchase": _s(
            "Buys in store or online", "Is it worth the price?", "Sales, e-commerce", 0.5,
            _o("Streamlined checkout with delivery slot booking", "MD04", "e-commerce")),
        "delivery_installation": _s(
            "Schedules delivery and installation, waits for the installer",
            "When will they finally come?", "Service: installation scheduling, installers",
            -1.0,
            _o("Installation scheduling connected to sales and stock (one booking, no calls)",
               "DT08", "IT"),
            _o("Follow-up call after installation", "CS01", "service")),
        "support": _s(
            "Calls or chats for help, brings the device to the service desk",
            "Will they solve it the first time?", "Service: hotline, chat, service desk", -0.5,
            _o("Easy access to technical help; staff trained for post-purchase inquiries",
               "CS08", "service")),
        "loyalty_advocacy": _s(
            "Joins loyalty programme, recommends the store, buys accessories",
            "I'd recommend them", "Marketing: loyalty, reviews, events", 1.0,
            _o("Personalised upgrade and accessory offers from purchase history", "DT09",
               "marketing")),
    },
}
