"""Seeded generator of believable journey data for the three seed industries.

Why: the app ships a sample workspace per industry, tests need data with known answers, and the
benchmarks need millions of events. Everything here is vectorised numpy + polars and depends only
on the seed, so the same call always gives the same frames.

The data carries *planted facts* (``PLANTED_FACTS``): one touchpoint with poor CSAT, one funnel
step with an unusually high drop-off and one support channel with poor first-contact resolution.
Analysis tests check that the dashboard finds them. ``sample_data/README.md`` documents them.

Regenerate the committed files with ``python -m cjm_core.demo.sample``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from cjm_core.model.journey import default_journey

__all__ = [
    "CHANNELS",
    "PLANTED_FACTS",
    "SAMPLE_CUSTOMERS",
    "SAMPLE_SEED",
    "SEGMENTS",
    "SUPPORT_CHANNELS",
    "funnel_counts_example",
    "generate",
    "generate_events",
    "write_sample_workbooks",
]

SEGMENTS = ("researcher", "walk-in", "gift buyer", "pro/enthusiast")
CHANNELS = ("web", "app", "phone", "store")
SUPPORT_CHANNELS = ("phone", "email", "chat", "store")
REGIONS = ("North", "South", "East", "West")
ONLINE = frozenset({"web", "app"})

#: what the committed workbooks were generated with
SAMPLE_SEED = 0
SAMPLE_CUSTOMERS = 3000

_SEGMENT_SHARE = (0.38, 0.25, 0.17, 0.20)
_REGION_SHARE = (0.3, 0.3, 0.2, 0.2)
#: beta(a, b) of each segment's leaning towards web/app rather than store/phone
_ONLINE_LEAN = ((4.0, 4.0), (2.0, 6.0), (4.0, 3.0), (3.0, 3.0))
#: multiplier on every continue probability, by segment (gift buyers and pros decide faster)
_SEGMENT_LIFT = (1.0, 1.0, 1.05, 1.08)
#: multiplier on the repeat-purchase probability, by segment
_REPEAT_LIFT = (1.0, 0.85, 0.6, 1.5)
#: mean events per customer of generate_events (DESIGN §9: 10M events for 2.35M customers)
_EVENTS_PER_CUSTOMER = 10_000_000 / 2_350_000
_DAY = 86_400
_TIE_SHARE = 0.025
_BACKWARD_SHARE = 0.004
_REVISIT_SHARE = 0.06
_LATE_BATCH = ("East", 3)  # store rows of this region and month arrive at the end of the file
_LOW_CSAT = 0.55  # top-two-box share of the planted touchpoint
_OTHER_CSAT = (0.87, 0.93)  # the other touchpoints are spread over this range
_POOR_FCR = 0.45  # first-contact resolution of simple cases on the planted channel
_COMPLEX_FCR = 0.55  # complex cases resolve at first contact this much as often


@dataclass(frozen=True)
class _Tp:
    """A touchpoint: where an event happens and what can be asked about it."""

    name: str
    channel: str
    weight: float
    events: tuple[str, ...]
    survey: float = 0.0  # chance an event here gets a survey answer
    ticket: str | None = None  # support channel when an event here opens a support case
    effort: bool = False  # the survey asks customer effort here


@dataclass(frozen=True)
class _Industry:
    isic: str
    #: per stage, then one more group for repeat purchases (shown in the last stage)
    touchpoints: tuple[tuple[_Tp, ...], ...]
    entry: tuple[dict[str, float], ...]  # by segment: stage name -> share starting there
    cont: tuple[float, ...]  # chance to go on from stage k to k + 1
    skips: tuple[tuple[str, tuple[str, ...], float], ...]  # (after, skipped stages, chance)
    extra: tuple[float, ...]  # mean extra events per stage visit (Poisson)
    gaps: tuple[tuple[float, float], ...]  # (median hours, sigma) to reach each stage; then repeat
    repeat: float  # chance a purchaser buys again
    amounts: tuple[float, ...]  # median order value by segment
    amount_range: tuple[float, float]
    low_csat: str
    poor_fcr: str
    fcr: float  # first-contact resolution of simple cases elsewhere
    complex_share: float
    ces_scale: tuple[int, int]
    planted_comments: tuple[str, ...]


def _checkouts(event: str, survey: float) -> tuple[_Tp, ...]:
    """The ways to pay; `event` names every event (e.g. "Repeat purchase") when given."""
    places = (("Store checkout", "store", 5.0, "Purchased in store"),
              ("Web shop checkout", "web", 3.0, "Placed online order"),
              ("App checkout", "app", 1.2, "Placed order in app"),
              ("Phone order", "phone", 0.4, "Ordered by phone"))
    return tuple(_Tp(name, channel, weight, (event or default,), survey, effort=True)
                 for name, channel, weight, default in places)


_DISCOVERY = (
    _Tp("Search ad", "web", 3.0, ("Clicked search ad",)),
    _Tp("Social media ad", "web", 2.5, ("Clicked social ad", "Watched product video")),
    _Tp("Newsletter", "web", 2.0, ("Opened newsletter", "Clicked newsletter offer")),
    _Tp("Store window", "store", 1.2, ("Noticed window display",)),
    _Tp("App notification", "app", 1.0, ("Opened app notification",)),
)

_HELP = _Tp("Help centre", "web", 2.5, ("Read setup guide", "Watched how-to video"), 0.04)

_AV = _Industry(
    isic="4742",
    touchpoints=(
        _DISCOVERY,
        (
            _Tp("Web shop product page", "web", 5.0,
                ("Viewed product page", "Compared models", "Read reviews", "Checked store stock"),
                0.04),
            _Tp("Mobile app", "app", 2.5,
                ("Viewed product in app", "Saved to wishlist", "Checked store stock"), 0.04),
            _Tp("Buying guide", "web", 1.5, ("Read buying guide", "Used speaker finder"), 0.05),
            _Tp("Live chat", "web", 1.0, ("Asked a product question",), 0.35, effort=True),
            _Tp("Demo booking", "web", 1.0, ("Booked a demo appointment",), 0.2, effort=True),
            _Tp("Phone advice", "phone", 0.6, ("Called for product advice",), 0.3),
        ),
        (
            _Tp("Listening room", "store", 3.0, ("Attended listening demo", "Compared speakers"),
                0.3),
            _Tp("Home cinema demo room", "store", 2.0, ("Watched home cinema demo",), 0.3),
            _Tp("Sales advisor", "store", 4.0,
                ("Consulted sales advisor", "Got system recommendation"), 0.3),
            _Tp("Video consultation", "web", 0.6, ("Joined video consultation",), 0.4),
        ),
        _checkouts("", 0.3),
        (
            _Tp("Installation hotline", "phone", 4.0,
                ("Called to schedule installation", "Rescheduled installation"), 0.55,
                effort=True),
            _Tp("Delivery tracking", "app", 2.0, ("Tracked delivery", "Delivery received"), 0.1),
            _Tp("Installer visit", "store", 2.5, ("Installation completed", "TV wall-mounted"),
                0.35, effort=True),
            _Tp("Store pickup", "store", 2.0, ("Collected at store",), 0.1),
        ),
        (
            _Tp("Support hotline", "phone", 3.0, ("Called support",), 0.35, "phone", True),
            _Tp("Email support", "web", 2.0, ("Emailed support",), 0.35, "email", True),
            _Tp("Live chat support", "app", 1.5, ("Chatted with support",), 0.35, "chat", True),
            _Tp("Service desk", "store", 2.0, ("Brought device to service desk",), 0.35, "store",
                True),
            _HELP,
            _Tp("Follow-up call", "phone", 1.5, ("Received follow-up call",), 0.3),
        ),
        (
            _Tp("Loyalty programme", "app", 3.0,
                ("Joined loyalty programme", "Redeemed loyalty points"), 0.1),
            _Tp("Review request", "web", 3.0, ("Wrote a review", "Rated product"), 0.05),
            _Tp("Referral programme", "web", 1.0, ("Referred a friend",), 0.1),
            _Tp("Store event", "store", 1.5, ("Attended listening event",), 0.3),
        ),
        _checkouts("Repeat purchase", 0.2),
    ),
    entry=(
        {"Discovery": 0.85, "Online research": 0.15},
        {"In-store demo": 0.9, "Purchase": 0.1},
        {"Discovery": 0.6, "Online research": 0.25, "In-store demo": 0.15},
        {"Discovery": 0.4, "Online research": 0.5, "In-store demo": 0.1},
    ),
    cont=(0.78, 0.68, 0.38, 0.93, 0.72, 0.62),
    skips=(("Online research", ("In-store demo",), 0.08),),
    extra=(0.25, 1.2, 0.5, 0.0, 0.4, 0.4, 0.6),
    gaps=((0, 1), (20, 1.2), (96, 1.0), (2, 2.0), (72, 0.6), (336, 1.0), (720, 0.8), (2880, 0.7)),
    repeat=0.32,
    amounts=(450.0, 300.0, 150.0, 1300.0),
    amount_range=(50.0, 5000.0),
    low_csat="Installation hotline",
    poor_fcr="phone",
    fcr=0.85,
    complex_share=0.33,
    ces_scale=(1, 5),
    planted_comments=(
        "Waited 40 minutes on the hotline.",
        "Installation appointment rescheduled twice.",
        "Nobody called back to confirm the installation date.",
        "Hotline kept me on hold, then the line dropped.",
        "Installer slot moved again without asking me.",
        "Took three calls just to book the installation.",
        "The hotline could not tell me when the installer would come.",
        "Waited all day at home, installer never showed up.",
    ),
)

_COMPUTERS = _Industry(
    isic="4741",
    touchpoints=(
        _DISCOVERY,
        (
            _Tp("Web shop product page", "web", 5.0,
                ("Viewed product page", "Compared specs", "Read reviews", "Checked store stock"),
                0.04),
            _Tp("Mobile app", "app", 2.0, ("Viewed product in app", "Checked store stock"), 0.04),
            _Tp("Configurator", "web", 1.5, ("Configured a laptop", "Compared tariffs"), 0.05),
            _Tp("Live chat", "web", 1.0, ("Asked a product question",), 0.35, effort=True),
            _Tp("Phone advice", "phone", 0.5, ("Called for product advice",), 0.3),
        ),
        (
            _Tp("Store floor", "store", 5.0, ("Browsed store", "Tried devices"), 0.2),
            _Tp("Appointment desk", "store", 1.5, ("Checked in for appointment",), 0.2),
            _Tp("Virtual store tour", "web", 0.5, ("Took virtual store tour",), 0.1),
        ),
        (
            _Tp("Tech advisor", "store", 5.0,
                ("Consulted tech advisor", "Got configuration advice"), 0.35),
            _Tp("Business desk", "store", 1.5, ("Discussed business needs",), 0.35),
            _Tp("Video consultation", "web", 0.7, ("Joined video consultation",), 0.4),
            _Tp("Phone advice", "phone", 0.8, ("Called for expert advice",), 0.35),
        ),
        (
            _Tp("Web shop cart", "web", 3.0, ("Added to cart", "Applied voucher"), 0.02),
            _Tp("App cart", "app", 1.5, ("Added to cart in app",), 0.02),
            _Tp("In-store basket", "store", 4.0, ("Item reserved at counter", "Added to basket"),
                0.02),
        ),
        _checkouts("", 0.3),
        (
            _Tp("Setup service desk", "store", 4.0,
                ("Booked setup service", "Data transfer", "Device setup"), 0.55, effort=True),
            _Tp("Setup guide", "web", 2.5, ("Read setup guide", "Watched setup video"), 0.05),
            _Tp("Remote setup session", "web", 1.0, ("Joined remote setup",), 0.4, effort=True),
            _Tp("Activation hotline", "phone", 1.0, ("Called to activate contract",), 0.35,
                effort=True),
        ),
        (
            _Tp("Tech support hotline", "phone", 3.0, ("Called tech support",), 0.35, "phone",
                True),
            _Tp("Email support", "web", 2.0, ("Emailed support",), 0.35, "email", True),
            _Tp("Live chat support", "app", 2.0, ("Chatted with support",), 0.35, "chat", True),
            _Tp("Repair desk", "store", 2.0, ("Brought device for repair", "Warranty claim"), 0.35,
                "store", True),
            _HELP,
        ),
        (
            _Tp("Loyalty programme", "app", 3.0,
                ("Joined loyalty programme", "Redeemed loyalty points"), 0.1),
            _Tp("Trade-in programme", "store", 1.5, ("Traded in old device",), 0.3),
            _Tp("Review request", "web", 2.5, ("Wrote a review", "Rated product"), 0.05),
            _Tp("Workshop", "store", 1.0, ("Attended a workshop",), 0.3),
        ),
        _checkouts("Repeat purchase", 0.2),
    ),
    entry=(
        {"Awareness": 0.85, "Online research": 0.15},
        {"Store visit": 0.75, "Expert advice": 0.15, "Cart": 0.1},
        {"Awareness": 0.55, "Online research": 0.3, "Store visit": 0.15},
        {"Awareness": 0.35, "Online research": 0.5, "Store visit": 0.15},
    ),
    cont=(0.82, 0.72, 0.78, 0.74, 0.40, 0.85, 0.72, 0.65),
    skips=(
        ("Online research", ("Store visit", "Expert advice"), 0.12),
        ("Store visit", ("Expert advice",), 0.08),
    ),
    extra=(0.4, 1.8, 0.3, 0.6, 0.4, 0.0, 0.6, 0.4, 0.5),
    gaps=((0, 1), (24, 1.2), (120, 1.0), (0.3, 1.0), (1, 2.0), (0.3, 2.2), (24, 1.2), (504, 1.0),
          (1080, 0.8), (3600, 0.7)),
    repeat=0.30,
    amounts=(350.0, 200.0, 80.0, 900.0),
    amount_range=(20.0, 3000.0),
    low_csat="Setup service desk",
    poor_fcr="chat",
    fcr=0.85,
    complex_share=0.38,
    ces_scale=(1, 5),
    planted_comments=(
        "Setup took three days instead of same day.",
        "Data transfer was incomplete, lost my bookmarks and photos.",
        "Paid for setup and still had to install everything myself.",
        "Setup appointment was moved twice.",
        "Waited an hour at the setup desk with nobody there.",
        "Laptop came back from setup with the wrong language settings.",
        "Nobody at the setup desk knew how to move my email accounts.",
        "Had to come back to the store twice to finish setup.",
    ),
)

_SPECIALISED = _Industry(
    isic="4773",
    touchpoints=(
        _DISCOVERY,
        (
            _Tp("Web shop product page", "web", 5.0,
                ("Viewed product page", "Read reviews", "Read care guide"), 0.04),
            _Tp("Mobile app", "app", 2.0, ("Viewed product in app", "Saved to wishlist"), 0.04),
            _Tp("Online stock check", "web", 2.5,
                ("Checked store availability", "Reserved item for pickup"), 0.3),
            _Tp("Live chat", "web", 1.0, ("Asked a product question",), 0.35, effort=True),
            _Tp("Phone inquiry", "phone", 0.6, ("Called the store",), 0.3),
        ),
        (
            _Tp("Store counter", "store", 5.0, ("Asked at the counter", "Asked for availability"),
                0.25),
            _Tp("Store phone line", "phone", 1.0, ("Called to ask about a product",), 0.25),
        ),
        (
            _Tp("Product specialist", "store", 5.0,
                ("Consultation with specialist", "Got personal recommendation"), 0.35),
            _Tp("Trial area", "store", 2.0, ("Tried product in store",), 0.3),
            _Tp("Video consultation", "web", 0.6, ("Joined video consultation",), 0.4),
        ),
        (
            _Tp("Web shop cart", "web", 3.0, ("Added to cart", "Applied voucher"), 0.02),
            _Tp("App cart", "app", 1.2, ("Added to cart in app",), 0.02),
            _Tp("In-store basket", "store", 4.0, ("Item set aside", "Added to basket"), 0.02),
        ),
        _checkouts("", 0.3),
        (
            _Tp("Customer service hotline", "phone", 3.0, ("Called customer service",), 0.35,
                "phone", True),
            _Tp("Email support", "web", 2.0, ("Emailed customer service",), 0.35, "email", True),
            _Tp("Live chat support", "app", 1.5, ("Chatted with support",), 0.35, "chat", True),
            _Tp("Care & repair service", "store", 2.0,
                ("Brought item for repair", "Warranty claim"), 0.35, "store", True),
            _Tp("Care tips email", "web", 3.0, ("Opened care tips email",), 0.05),
            _HELP,
        ),
        (
            _Tp("Re-order reminder", "web", 3.0, ("Opened re-order reminder",), 0.05),
            _Tp("Loyalty offer", "app", 2.0, ("Viewed loyalty offer",), 0.05),
            _Tp("Accessory newsletter", "web", 2.0, ("Clicked accessory offer",), 0.0),
            _Tp("Workshop", "store", 1.5, ("Attended a workshop",), 0.3),
        ),
        _checkouts("Repeat purchase", 0.2),
    ),
    entry=(
        {"Awareness": 0.85, "Online research": 0.15},
        {"Store inquiry": 0.8, "Consultation": 0.12, "Cart": 0.08},
        {"Awareness": 0.55, "Online research": 0.25, "Store inquiry": 0.2},
        {"Awareness": 0.35, "Online research": 0.45, "Store inquiry": 0.2},
    ),
    cont=(0.80, 0.72, 0.38, 0.74, 0.70, 0.80, 0.62),
    skips=(("Online research", ("Store inquiry", "Consultation"), 0.12),),
    extra=(0.4, 1.6, 0.3, 0.4, 0.4, 0.0, 0.5, 0.4),
    gaps=((0, 1), (20, 1.2), (96, 1.0), (0.2, 1.0), (0.5, 2.0), (0.3, 2.0), (336, 1.0), (720, 0.8),
          (2160, 0.7)),
    repeat=0.30,
    amounts=(90.0, 60.0, 45.0, 220.0),
    amount_range=(10.0, 1500.0),
    low_csat="Online stock check",
    poor_fcr="email",
    fcr=0.85,
    complex_share=0.25,
    ces_scale=(1, 7),
    planted_comments=(
        "Website said in stock, the store had none.",
        "Reserved online, but the item was not in the store.",
        "Stock check showed the wrong store.",
        "Drove 30 minutes for an item that was sold out.",
        "Availability online never matches the shop.",
        "The stock check said 'available' for a discontinued model.",
        "Reservation vanished, staff could not find it.",
        "Online stock was wrong twice in a row.",
    ),
)

_INDUSTRIES: dict[str, _Industry] = {i.isic: i for i in (_SPECIALISED, _COMPUTERS, _AV)}

_POSITIVE = {
    "online": (
        "Easy to find what I needed.", "Clear product information.", "Quick and simple.",
        "Great comparison tools.", "Helpful reviews and specs.", "Smooth checkout.",
        "Fast answer in the chat.", "Order confirmation came right away.",
    ),
    "store": (
        "Very helpful staff.", "Staff really knew the products.", "Great advice, no pressure.",
        "Friendly and competent.", "Took time to explain the options.", "Excellent service.",
        "Loved being able to try it first.", "Quick and friendly at the till.",
    ),
    "phone": (
        "Friendly person on the phone.", "Problem solved in one call.", "Quick callback.",
        "Clear explanation on the phone.", "Helpful and patient.",
    ),
}
_NEUTRAL = (
    "OK, nothing special.", "Fine overall.", "Took a bit long.", "Average experience.",
    "Could be clearer.", "Prices a bit high.",
)
_NEGATIVE = {
    "online": (
        "Website was confusing.", "Could not find the specs I needed.", "Page kept loading slowly.",
        "Prices online differ from the store.", "Chat answers were generic.",
    ),
    "store": (
        "Staff seemed rushed.", "Had to wait a long time for help.",
        "Advice felt like a sales pitch.",
        "Store was understaffed.", "Long queue at the till.",
    ),
    "phone": (
        "Long wait on the phone.", "Was transferred three times.", "Nobody called back.",
        "Had to explain my problem again.",
    ),
}
_COMMENT_RATE = (0.7, 0.6, 0.35, 0.2, 0.25)  # chance of a comment, by CSAT 1..5

#: NPS 0..10 given CSAT 1..5 (rows); promoters follow satisfied answers
_NPS_GIVEN_CSAT = np.array([
    [10, 10, 12, 14, 14, 14, 12, 8, 4, 1, 1],
    [3, 4, 6, 10, 14, 18, 20, 14, 7, 2, 2],
    [0, 0, 1, 2, 4, 12, 20, 30, 20, 7, 4],
    [0, 0, 0, 1, 1, 3, 9, 27, 29, 18, 12],
    [0, 0, 0, 0, 0, 1, 1, 6, 12, 30, 50],
], dtype=float)
#: CES given CSAT, on a 1..5 scale (rows: CSAT 1..5); 1..7 adds two steps at the top
_CES5_GIVEN_CSAT = np.array([
    [0, 2, 10, 38, 50],
    [2, 8, 30, 40, 20],
    [10, 30, 40, 15, 5],
    [35, 45, 15, 4, 1],
    [60, 32, 6, 2, 0],
], dtype=float)
_CES7_GIVEN_CSAT = np.array([
    [0, 1, 3, 8, 18, 30, 40],
    [1, 4, 12, 25, 28, 18, 12],
    [6, 18, 30, 26, 12, 6, 2],
    [30, 40, 18, 8, 3, 1, 0],
    [55, 33, 8, 3, 1, 0, 0],
], dtype=float)


def _planted_facts(ind: _Industry) -> dict[str, Any]:
    """What the analysis must find; `*_designed` is the built-in truth, the bounds are what tests
    may assert on a sample of the committed size (n >= `csat_min_answers` per touchpoint)."""
    stages = [s.name for s in default_journey(ind.isic).stages]
    k = int(np.argmin(ind.cont))
    fcr_poor = _POOR_FCR * (1 - ind.complex_share * (1 - _COMPLEX_FCR))
    return {
        "industry": ind.isic,
        "low_csat_touchpoint": ind.low_csat,
        "low_csat_stage": next(stages[i] for i, tps in enumerate(ind.touchpoints[:-1])
                               if any(t.name == ind.low_csat for t in tps)),
        "low_csat_designed": _LOW_CSAT,
        "low_csat_expected_max": 0.65,
        "other_csat_designed": _OTHER_CSAT,
        "other_csat_min": 0.75,
        "csat_min_answers": 50,
        "high_dropoff_step": (stages[k], stages[k + 1]),
        "high_dropoff_designed": round(1 - ind.cont[k], 2),
        "high_dropoff_expected_min": 0.5,
        "neighbour_dropoff_max": 0.42,
        "dropoff_scope": (stages[0], "Purchase"),
        "poor_fcr_channel": ind.poor_fcr,
        "poor_fcr_designed": round(fcr_poor, 2),
        "poor_fcr_expected_max": 0.55,
        "other_fcr_min": 0.6,
        "repeat_rate_band": (0.15, 0.35),
        "ces_scale": ind.ces_scale,
        "amount_range": ind.amount_range,
        "walk_in_entry_stages": tuple(ind.entry[SEGMENTS.index("walk-in")]),
    }


#: machine-readable facts planted in the data, per ISIC code; see sample_data/README.md
PLANTED_FACTS: dict[str, dict[str, Any]] = {isic: _planted_facts(i) for isic, i in
                                            _INDUSTRIES.items()}


# ----------------------------------------------------------------------------- simulation core


def _industry(isic: str) -> _Industry:
    if isic not in _INDUSTRIES:
        known = ", ".join(sorted(_INDUSTRIES))
        raise ValueError(f"no sample generator for ISIC {isic!r}; known: {known}")
    return _INDUSTRIES[isic]


def _end_of(start: date, years: int) -> date:
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February
        return start.replace(year=start.year + years, day=28)


@dataclass
class _Tables:
    """Flat numpy lookup tables built once per industry."""

    stages: list[str]
    tp_names: list[str]  # unique touchpoint names
    tp_name: np.ndarray  # per touchpoint slot: index into tp_names
    tp_channel: np.ndarray  # per slot: index into CHANNELS
    tp_survey: np.ndarray
    tp_ticket: np.ndarray  # per slot: index into SUPPORT_CHANNELS, -1 for none
    tp_effort: np.ndarray
    tp_csat: np.ndarray  # top-two-box share of the touchpoint
    cum: np.ndarray  # group + cumulative share, slots sorted by group
    w_online: np.ndarray  # per choice group (stage, then repeat): total weight online
    w_offline: np.ndarray
    ev_offset: np.ndarray
    ev_count: np.ndarray
    events: list[str]  # unique event names
    ev_code: np.ndarray  # per flattened event slot: index into events


def _tables(ind: _Industry) -> _Tables:
    stages = [s.name for s in default_journey(ind.isic).stages]
    assert len(ind.touchpoints) == len(stages) + 1, ind.isic
    slots: list[tuple[int, _Tp]] = []
    for g, tps in enumerate(ind.touchpoints):
        for online in (0, 1):
            slots += [(2 * g + online, t) for t in tps if (t.channel in ONLINE) == bool(online)]
    tp_names = list(dict.fromkeys(t.name for _, t in slots))
    events = list(dict.fromkeys(e for _, t in slots for e in t.events))
    cum, ev_offset, ev_count = [], [], []
    ev_code: list[int] = []
    for group in sorted({g for g, _ in slots}):
        ws = np.array([t.weight for g, t in slots if g == group])
        cum += list(group + np.cumsum(ws) / ws.sum())
    for _, t in slots:
        ev_offset.append(len(ev_code))
        ev_count.append(len(t.events))
        ev_code += [events.index(e) for e in t.events]
    low, high = _OTHER_CSAT
    csat = {n: low + (high - low) * ((i * 0.618) % 1.0) for i, n in enumerate(tp_names)}
    csat[ind.low_csat] = _LOW_CSAT
    groups = len(ind.touchpoints)
    w_on = np.array([sum(t.weight for t in ind.touchpoints[g] if t.channel in ONLINE)
                     for g in range(groups)])
    w_off = np.array([sum(t.weight for t in ind.touchpoints[g] if t.channel not in ONLINE)
                      for g in range(groups)])
    return _Tables(
        stages=stages,
        tp_names=tp_names,
        tp_name=np.array([tp_names.index(t.name) for _, t in slots]),
        tp_channel=np.array([CHANNELS.index(t.channel) for _, t in slots]),
        tp_survey=np.array([t.survey for _, t in slots]),
        tp_ticket=np.array([SUPPORT_CHANNELS.index(t.ticket) if t.ticket else -1
                            for _, t in slots]),
        tp_effort=np.array([t.effort for _, t in slots]),
        tp_csat=np.array([csat[t.name] for _, t in slots]),
        cum=np.array(cum),
        w_online=w_on,
        w_offline=w_off,
        ev_offset=np.array(ev_offset),
        ev_count=np.array(ev_count),
        events=events,
        ev_code=np.array(ev_code),
    )


def _rng(seed: int, isic: str, purpose: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, int(isic), purpose]))


def _choose(rng: np.random.Generator, shares: np.ndarray, n: int) -> np.ndarray:
    """Index drawn from `shares` (one row of probabilities, or one row per draw)."""
    cdf = np.cumsum(shares, axis=-1)
    cdf = cdf / cdf[..., -1:]
    u = rng.random(n)
    if cdf.ndim == 1:
        return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)
    return np.minimum((u[:, None] >= cdf).sum(axis=1), cdf.shape[1] - 1)


def _hour_table() -> np.ndarray:
    """Inverse CDF of the hour of day by channel: shops 10-19 h, phones 8-19 h, web evenings."""
    web = np.array([1, .5, .3, .2, .2, .4, 1, 2, 3, 4, 4.5, 5, 5.5, 5, 5, 5, 5.5, 6, 7, 8, 9, 8.5,
                    6, 3])
    store = np.zeros(24)
    store[10:19] = [3, 5, 6, 6, 6, 7, 8, 8, 6]
    phone = np.zeros(24)
    phone[8:19] = [5, 8, 9, 9, 7, 7, 8, 8, 7, 5, 3]
    table = np.stack([web, web, phone, store])  # in CHANNELS order
    cdf = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)
    q = (np.arange(4096) + 0.5) / 4096
    return np.stack([np.searchsorted(c, q, side="right") for c in cdf]).astype(np.int64)


_HOURS = _hour_table()


def _time_of_day(rng: np.random.Generator, channel: np.ndarray) -> np.ndarray:
    """Seconds after midnight, drawn by channel."""
    hour = _HOURS[channel, rng.integers(0, 4096, len(channel))]
    return hour * 3600 + rng.integers(0, 3600, len(channel))


def _start_days(rng: np.random.Generator, segment: np.ndarray, start: date,
                days: int) -> np.ndarray:
    """First-contact day of each customer: busier Saturdays and Q4, gift buyers before Christmas."""
    calendar = pl.date_range(start, _end_of(start, 10), eager=True)[:days]
    month = calendar.dt.month().to_numpy()
    day = calendar.dt.day().to_numpy()
    weekday = calendar.dt.weekday().to_numpy()
    base = 1.0 + 0.5 * (weekday == 6) - 0.3 * (weekday == 7) + 0.3 * (month == 11) \
        + 0.4 * (month == 12) - 0.15 * np.isin(month, (1, 2, 7))
    gift = base * (1.0 + 4.0 * ((month == 12) & (day <= 23)) + 2.5 * ((month == 11) & (day >= 20)))
    out = np.empty(len(segment), dtype=np.int64)
    for s in range(len(SEGMENTS)):
        m = segment == s
        weights = gift if SEGMENTS[s] == "gift buyer" else base
        out[m] = _choose(rng, weights, int(m.sum()))
    return out


def _customers(ind: _Industry, n: int, rng: np.random.Generator, stages: list[str],
               start: date, days: int) -> dict[str, np.ndarray]:
    """Who the customers are: segment, region, online lean, entry stage, first-contact day."""
    segment = _choose(rng, np.array(_SEGMENT_SHARE), n).astype(np.int8)
    region = _choose(rng, np.array(_REGION_SHARE), n).astype(np.int8)
    lean = np.array(_ONLINE_LEAN)[segment]
    w = rng.beta(lean[:, 0], lean[:, 1]).astype(np.float32)
    entry_table = np.array([[e.get(s, 0.0) for s in stages] for e in ind.entry])
    entry = np.empty(n, dtype=np.int64)
    for s in range(len(SEGMENTS)):
        m = segment == s
        entry[m] = _choose(rng, entry_table[s], int(m.sum()))
    day0 = _start_days(rng, segment, start, days)
    order = np.argsort(day0, kind="stable")  # customer numbers grow with first contact
    return {"segment": segment[order], "region": region[order], "w": w[order],
            "entry": entry[order], "day0": day0[order]}


def _progress(ind: _Industry, c: dict[str, np.ndarray], rng: np.random.Generator,
              stages: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Events per customer and stage (a count matrix) and how many of the last stage's events
    are ordinary ones (the rest are repeat purchases)."""
    n, n_stages = len(c["segment"]), len(stages)
    entry = c["entry"]
    k = np.arange(n_stages - 1)
    p = np.minimum(np.array(ind.cont, dtype=np.float32)[None, :]
                   * np.array(_SEGMENT_LIFT, dtype=np.float32)[c["segment"]][:, None], 0.97)
    go_on = (rng.random((n, n_stages - 1), dtype=np.float32) < p) | (k[None, :] < entry[:, None])
    last = np.argmax(~np.c_[go_on, np.zeros(n, bool)], axis=1)
    ks = np.arange(n_stages)
    reached = (ks[None, :] >= entry[:, None]) & (ks[None, :] <= last[:, None])
    for after, skipped, chance in ind.skips:
        a = stages.index(after)
        cols = [stages.index(s) for s in skipped]
        beyond = max(cols) + 1  # only customers who get past the skipped stages skip them
        skip = reached[:, a] & reached[:, beyond] & (entry <= a) & (rng.random(n) < chance)
        reached[np.ix_(skip, cols)] = False
    counts = (reached * (1 + rng.poisson(np.array(ind.extra), (n, n_stages)))).astype(np.int32)
    purchase = stages.index("Purchase")
    buys_again = reached[:, purchase] & (
        rng.random(n) < ind.repeat * np.array(_REPEAT_LIFT)[c["segment"]])
    base_last = counts[:, -1].copy()
    counts[:, -1] += buys_again * (1 + (rng.random(n) < 0.22))
    return counts, base_last


def _simulate(ind: _Industry, n: int, rng: np.random.Generator, start: date,
              years: int) -> dict[str, Any]:
    """Customers walking the journey: flat numpy arrays with one item per event.

    Rows come out grouped by customer and in stage order; rows at or after the horizon (the end
    of the period) are still there and dropped when frames are built.
    """
    tab = _tables(ind)
    n_stages = len(tab.stages)
    days = (_end_of(start, years) - start).days
    c = _customers(ind, n, rng, tab.stages, start, days)
    counts, base_last = _progress(ind, c, rng, tab.stages)

    flat = counts.ravel()
    per_customer = counts.sum(axis=1)
    total = int(per_customer.sum())
    cust = np.repeat(np.arange(n, dtype=np.int32), per_customer)
    stage = np.repeat(np.tile(np.arange(n_stages, dtype=np.int8), n), flat)
    j = (np.arange(total, dtype=np.int64)
         - np.repeat((np.cumsum(flat) - flat).astype(np.int64), flat)).astype(np.int32)
    del flat
    first_row = (np.cumsum(per_customer) - per_customer)[per_customer > 0]
    first = np.zeros(total, dtype=bool)
    first[first_row] = True
    repeat = (stage == n_stages - 1) & (j >= base_last[cust])
    group = stage.copy()
    group[repeat] = n_stages

    tp = _where(tab, rng, group, c["w"][cust])
    rows = {"cust": cust, "stage": stage, "tp": tp, "j": j, "repeat": repeat,
            "event": tab.ev_code[tab.ev_offset[tp]
                                 + (rng.random(total, dtype=np.float32) * tab.ev_count[tp])
                                 .astype(np.int32)],
            "channel": tab.tp_channel[tp]}
    rows["ts"] = _when(ind, rng, rows, group, first, first_row, c["day0"])
    rows = _add_revisits(rows, tab, rng)
    purchase_row = np.flatnonzero(((rows["stage"] == tab.stages.index("Purchase"))
                                   & (rows["j"] == 0)) | rows["repeat"])
    revenue = np.full(len(rows["ts"]), np.nan)
    revenue[purchase_row] = _amounts(ind, rng, c["segment"][rows["cust"][purchase_row]],
                                     rows["repeat"][purchase_row])
    rows["revenue"] = revenue
    return {"rows": rows, "segment": c["segment"], "region": c["region"], "tables": tab,
            "horizon": days * _DAY}


def _where(tab: _Tables, rng: np.random.Generator, group: np.ndarray,
           w: np.ndarray) -> np.ndarray:
    """Touchpoint of each event: online or not by the customer's lean, then by weight."""
    won = tab.w_online[group] * w
    woff = tab.w_offline[group] * (1 - w)
    online = rng.random(len(group), dtype=np.float32) * (won + woff) < won
    del won, woff
    u = rng.random(len(group), dtype=np.float32) * np.float32(0.9999)
    u += (2 * group + online).astype(np.float32)
    return np.searchsorted(tab.cum, u, side="right").astype(np.int16)


def _when(ind: _Industry, rng: np.random.Generator, rows: dict[str, np.ndarray],
          group: np.ndarray, first: np.ndarray, first_row: np.ndarray,
          day0: np.ndarray) -> np.ndarray:
    """Seconds since the start for each event, never before the customer's previous event,
    except for a few ties (same second) and a handful of back-dated rows."""
    total = len(group)
    cust, channel = rows["cust"], rows["channel"]
    new_block = (rows["j"] == 0) & ~first
    med = np.r_[np.array([g[0] for g in ind.gaps]) * 3600.0, 600.0].astype(np.float32)
    sig = np.r_[np.array([g[1] for g in ind.gaps]), 1.3].astype(np.float32)
    g = np.where(new_block, group, len(med) - 1)  # the last entry: next event of the same visit
    gap = (med[g] * np.exp(sig[g] * rng.standard_normal(total, dtype=np.float32)))
    gap = gap.astype(np.int64)
    del g
    gap[first] = 0
    steps = np.cumsum(gap)
    # the customer's first event at a plausible time of day for its channel
    base = day0 * _DAY + _time_of_day(rng, channel[first_row]) - steps[first_row]
    cand = steps + base[cust]
    del steps
    new_day = np.flatnonzero(new_block & (gap > 12 * 3600))
    del gap
    cand[new_day] = cand[new_day] // _DAY * _DAY + _time_of_day(rng, channel[new_day])
    # ties: the event lands on the very second of the one before it
    tie = np.flatnonzero(new_block & (rng.random(total, dtype=np.float32) < _TIE_SHARE / 2))
    jitter = rng.integers(5, 180, total, dtype=np.int64)
    jitter[first] = 0
    jitter[tie] = 0
    cand[tie] = -(2**40)
    offset = np.cumsum(jitter)
    del jitter
    # ts = max(cand, previous ts + jitter) per customer, as one running maximum
    shift = (np.arange(len(base), dtype=np.int64) << 36) - offset[first_row]
    shift = shift[cust]
    cand -= offset
    cand += shift
    ts = np.maximum.accumulate(cand)
    del cand
    ts -= shift
    ts += offset
    # a handful of rows logged before the customer's previous stage (back-dated entries)
    stage = rows["stage"]
    back = np.flatnonzero(new_block & (rng.random(total, dtype=np.float32) < _BACKWARD_SHARE))
    back = back[(stage[back] > stage[back - 1]) & (ts[back] > ts[back - 1])]
    ts[back] = np.maximum(ts[back - 1] - rng.integers(3600, 2 * _DAY, len(back)), 0)
    return ts


def _add_revisits(rows: dict[str, np.ndarray], tab: _Tables,
                  rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Customers going back to research online after a store stage (showrooming)."""
    research = tab.stages.index("Online research")
    src = np.flatnonzero((rows["stage"] == research + 1) & (rows["j"] == 0)
                         & (rng.random(len(rows["stage"]), dtype=np.float32) < _REVISIT_SHARE))
    m = len(src)
    group = 2 * research + 1  # online touchpoints of the research stage
    slots = np.flatnonzero(np.ceil(tab.cum) - 1 == group)
    weights = np.diff(np.r_[group, tab.cum[slots]])
    tp = slots[_choose(rng, weights, m)].astype(np.int16)
    extra = {
        "cust": rows["cust"][src],
        "stage": np.full(m, research, dtype=np.int8),
        "tp": tp,
        "j": np.full(m, 99, dtype=np.int32),
        "repeat": np.zeros(m, bool),
        "event": tab.ev_code[tab.ev_offset[tp] + (rng.random(m) * tab.ev_count[tp]).astype(int)],
        "channel": tab.tp_channel[tp],
        "ts": rows["ts"][src] + (3600 * 8 * np.exp(rng.standard_normal(m))).astype(np.int64),
    }
    return {key: np.concatenate([rows[key], extra[key]]) for key in rows}


def _amounts(ind: _Industry, rng: np.random.Generator, segment: np.ndarray,
             repeat: np.ndarray) -> np.ndarray:
    """Order values: log-normal by segment, repeat orders smaller (accessories), shop prices."""
    median = np.array(ind.amounts)[segment] * np.where(repeat, 0.45, 1.0)
    raw = median * np.exp(0.85 * rng.standard_normal(len(segment)))
    low, high = ind.amount_range
    price = np.round(np.clip(raw, low + 1, high), 0) - np.where(rng.random(len(raw)) < 0.7, 0.01, 0)
    return np.clip(price, low, high)


# ----------------------------------------------------------------------------- frames


def _timestamps(seconds: np.ndarray, start: date) -> pl.Series:
    epoch = int((datetime(start.year, start.month, start.day) - datetime(1970, 1, 1))
                .total_seconds())
    return pl.Series((seconds + epoch) * 1_000_000).cast(pl.Datetime("us"))


def _labels(values: list[str] | tuple[str, ...], codes: np.ndarray,
            categorical: bool) -> pl.Series:
    if categorical:
        return pl.Series(codes.astype(np.uint32)).cat.to(pl.Enum(list(values)))
    return pl.Series(list(values), dtype=pl.String).gather(codes)


def _customer_ids(n: int) -> pl.Series:
    width = max(6, len(str(n)))
    return pl.Series(np.arange(1, n + 1)).cast(pl.String).str.zfill(width).str.pad_start(
        width + 1, "C")


def _visible(sim: dict[str, Any]) -> dict[str, np.ndarray]:
    """The rows inside the period (small data only: this copies every array)."""
    keep = sim["rows"]["ts"] < sim["horizon"]
    return {key: v[keep] for key, v in sim["rows"].items()}


def _events_frame(sim: dict[str, Any], start: date, categorical: bool,
                  limit: int | None = None) -> pl.DataFrame:
    r, tab = sim["rows"], sim["tables"]
    order = _file_order(r["ts"], sim["horizon"], sim["region"][r["cust"]], r["channel"], limit)
    cust = r["cust"][order]
    return pl.DataFrame({
        "customer_id": _customer_ids(len(sim["segment"])).gather(cust),
        "timestamp": _timestamps(r["ts"][order], start),
        "stage": _labels(tab.stages, r["stage"][order], categorical),
        "touchpoint": _labels(tab.tp_names, tab.tp_name[r["tp"][order]], categorical),
        "channel": _labels(CHANNELS, r["channel"][order], categorical),
        "event": _labels(tab.events, r["event"][order], categorical),
        "segment": _labels(SEGMENTS, sim["segment"][cust], categorical),
        "revenue": pl.Series(r["revenue"][order]).fill_nan(None),
        "region": _labels(REGIONS, sim["region"][cust], categorical),
    })


def _file_order(ts: np.ndarray, horizon: int, region: np.ndarray, channel: np.ndarray,
                limit: int | None) -> np.ndarray:
    """Export order: by time (ties keep step order), with one store's late upload at the end.

    Rows at or after the horizon are left out; with `limit`, so are all but the earliest `limit`.
    """
    bits = 36  # row numbers below 2**36; seconds since the start (shifted) above them
    key = ((ts + 8 * _DAY) << bits) | np.arange(len(ts), dtype=np.int64)
    key.sort()
    order = key & ((1 << bits) - 1)
    del key
    sorted_ts = ts[order]
    inside = min(int(np.searchsorted(sorted_ts, horizon)), len(ts) if limit is None else limit)
    order, sorted_ts = order[:inside], sorted_ts[:inside]
    month = ((sorted_ts // _DAY) // 30.4375) % 12 + 1  # only picks which rows arrive late
    late = (region[order] == REGIONS.index(_LATE_BATCH[0])) \
        & (channel[order] == CHANNELS.index("store")) & (month == _LATE_BATCH[1]) \
        & (sorted_ts < 365 * _DAY)
    return np.r_[order[~late], order[late]]


def _feedback_frame(sim: dict[str, Any], ind: _Industry, rng: np.random.Generator,
                    start: date) -> pl.DataFrame:
    r, tab = sim["rows"], sim["tables"]
    asked = np.flatnonzero(rng.random(len(r["tp"])) < tab.tp_survey[r["tp"]])
    tp = r["tp"][asked]
    n = len(asked)
    ts = r["ts"][asked] + (3600 * 18 * np.exp(0.9 * rng.standard_normal(n))).astype(np.int64)
    p = tab.tp_csat[tp]
    # unhappy answers at the planted touchpoint are angrier (more 1s and 2s) than elsewhere
    angry = np.where(tab.tp_name[tp] == tab.tp_names.index(ind.low_csat), 0.35, 0.15)
    cut = np.c_[angry * (1 - p), 2 * angry * (1 - p), 1 - p, 1 - p + 0.45 * p]
    csat = 1 + (rng.random(n)[:, None] >= cut).sum(axis=1)
    nps = _choose(rng, _NPS_GIVEN_CSAT[csat - 1], n)
    low, high = ind.ces_scale
    ces_table = _CES7_GIVEN_CSAT if high == 7 else _CES5_GIVEN_CSAT
    ces = low + _choose(rng, ces_table[csat - 1], n)
    nps_asked = rng.random(n) < 0.7
    ces_asked = rng.random(n) < np.where(tab.tp_effort[tp], 0.9, 0.25)
    comment = _comments(rng, ind, tab, tp, csat)
    df = pl.DataFrame({
        "customer_id": _customer_ids(len(sim["segment"])).gather(r["cust"][asked]),
        "timestamp": _timestamps(ts, start),
        "touchpoint": _labels(tab.tp_names, tab.tp_name[tp], False),
        "stage": _labels(tab.stages, r["stage"][asked], False),
        "channel": _labels(CHANNELS, r["channel"][asked], False),
        "csat": pl.Series(csat, dtype=pl.Int64),
        "nps": pl.Series(np.where(nps_asked, nps, -1), dtype=pl.Int64),
        "ces": pl.Series(np.where(ces_asked, ces, -1), dtype=pl.Int64),
        "comment": comment,
    }).with_columns(pl.col("nps", "ces").replace(-1, None))
    keep = ts < sim["horizon"]
    return df.filter(pl.Series(keep))[np.argsort(ts[keep], kind="stable")]


def _comments(rng: np.random.Generator, ind: _Industry, tab: _Tables, tp: np.ndarray,
              csat: np.ndarray) -> pl.Series:
    """Short free-text comments: praise for good scores, complaints (mostly planted) for bad."""
    kind = np.array([0, 0, 2, 1])[tab.tp_channel[tp]]  # online, store, phone
    planted = tab.tp_name[tp] == tab.tp_names.index(ind.low_csat)
    pools = (ind.planted_comments, _NEUTRAL, _POSITIVE["online"], _POSITIVE["store"],
             _POSITIVE["phone"], _NEGATIVE["online"], _NEGATIVE["store"], _NEGATIVE["phone"])
    pool = np.where(csat >= 4, 2 + kind, np.where(csat == 3, 1, 5 + kind))
    pool = np.where(planted & (csat <= 3), 0, pool)
    sizes = np.array([len(x) for x in pools])
    offsets = np.r_[0, np.cumsum(sizes)[:-1]]
    text = [c for x in pools for c in x]
    pick = offsets[pool] + (rng.random(len(tp)) * sizes[pool]).astype(int)
    has = rng.random(len(tp)) < np.array(_COMMENT_RATE)[csat - 1]
    return pl.Series("comment", text, dtype=pl.String).gather(pick).zip_with(
        pl.Series(has), pl.Series([None] * len(tp), dtype=pl.String))


def _support_frame(sim: dict[str, Any], ind: _Industry, rng: np.random.Generator,
                   start: date) -> pl.DataFrame:
    r, tab = sim["rows"], sim["tables"]
    idx = np.flatnonzero(tab.tp_ticket[r["tp"]] >= 0)
    idx = idx[np.argsort(r["ts"][idx], kind="stable")]
    n = len(idx)
    channel = tab.tp_ticket[r["tp"][idx]]
    complex_ = rng.random(n) < ind.complex_share
    base = np.where(channel == SUPPORT_CHANNELS.index(ind.poor_fcr), _POOR_FCR, ind.fcr)
    fcr = rng.random(n) < base * np.where(complex_, _COMPLEX_FCR, 1.0)
    # hours to resolve: minutes when solved at once, a working day when not, 1-3 days if complex
    median = np.select([fcr & ~complex_, ~complex_, fcr], [0.5, 8.0, 6.0], 40.0)
    median = np.where(fcr & ~complex_ & (channel == SUPPORT_CHANNELS.index("email")), 4.0, median)
    sigma = np.select([fcr & ~complex_, ~complex_], [0.8, 0.7], 0.35)
    hours = median * np.exp(sigma * rng.standard_normal(n))
    opened = r["ts"][idx]
    resolved = opened + (hours * 3600).astype(np.int64)
    still_open = (resolved >= sim["horizon"]) | (rng.random(n) < 0.03)
    fcr &= ~still_open
    contacts = np.where(fcr, 1, 2 + rng.poisson(np.where(complex_, 1.5, 0.7)))
    low, high = ind.ces_scale
    effort = np.where(fcr, 0.0, 1.5) + np.where(complex_, 1.0, 0.0) + (high - low) * 0.08
    ces = np.clip(np.round(low + effort + 0.9 * rng.standard_normal(n)), low, high).astype(int)
    answered = ~still_open & (rng.random(n) < 0.7)
    return pl.DataFrame({
        "ticket_id": pl.Series(np.arange(1, n + 1)).cast(pl.String).str.zfill(6)
        .str.pad_start(7, "T"),
        "customer_id": _customer_ids(len(sim["segment"])).gather(r["cust"][idx]),
        "opened_at": _timestamps(opened, start),
        "resolved_at": _timestamps(resolved, start),
        "contacts": pl.Series(contacts, dtype=pl.Int64),
        "first_contact_resolved": pl.Series(fcr, dtype=pl.Boolean),
        "channel": _labels(SUPPORT_CHANNELS, channel, False),
        "complexity": _labels(("simple", "complex"), complex_.astype(int), False),
        "ces": pl.Series(np.where(answered, ces, -1), dtype=pl.Int64),
    }).with_columns(
        pl.when(pl.Series(still_open)).then(None).otherwise(pl.col("resolved_at"))
        .alias("resolved_at"),
        pl.col("ces").replace(-1, None),
    )


def _orders_frame(events: pl.DataFrame) -> pl.DataFrame:
    orders = (events.filter(pl.col("revenue").is_not_null())
              .sort("timestamp", "customer_id", maintain_order=True))
    return orders.select(
        pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(6).str.pad_start(7, "O")
        .alias("order_id"),
        "customer_id",
        pl.col("timestamp").alias("order_date"),
        pl.col("revenue").alias("amount"),
        "channel",
    )


# ----------------------------------------------------------------------------- public API


def generate(isic: str, customers: int = 3000, *, seed: int = 0, start: date = date(2024, 1, 1),
             years: int = 2) -> dict[str, pl.DataFrame]:
    """A believable workspace for one industry: events, feedback, support and orders.

    Same arguments, same frames. Columns are named as the roles in `cjm_core.model.schema`;
    events also carry a ``region`` breakdown dimension. See ``PLANTED_FACTS`` for the
    friction points planted in the data.

    >>> data = generate("4742", customers=200, seed=1)
    >>> sorted(data)
    ['events', 'feedback', 'orders', 'support']
    >>> data["events"].columns[:3]
    ['customer_id', 'timestamp', 'stage']
    """
    ind = _industry(isic)
    if customers < 1 or years < 1:
        raise ValueError("customers and years must be at least 1")
    sim = _simulate(ind, customers, _rng(seed, isic, 1), start, years)
    sim["rows"] = _visible(sim)
    events = _events_frame(sim, start, categorical=False)
    return {
        "events": events,
        "feedback": _feedback_frame(sim, ind, _rng(seed, isic, 2), start),
        "support": _support_frame(sim, ind, _rng(seed, isic, 3), start),
        "orders": _orders_frame(events),
    }


def generate_events(n_events: int, isic: str = "4742", *, seed: int = 0,
                    categorical: bool = True) -> pl.DataFrame:
    """Exactly `n_events` events for benchmarks (the earliest ones of a simulated period).

    Same journeys and columns as ``generate(...)["events"]``, about 4.26 events per customer
    (DESIGN §9). Text columns are ``pl.Enum`` to keep memory low; ``categorical=False`` gives
    plain strings, as an upload would.

    >>> generate_events(1000, seed=3).height
    1000
    """
    ind = _industry(isic)
    if n_events < 0:
        raise ValueError("n_events must not be negative")
    start = date(2024, 1, 1)
    pilot = _simulate(ind, 20_000, _rng(seed, isic, 5), start, 2)
    per_customer = max(1.0, len(_visible(pilot)["ts"]) / 20_000)
    customers = int(n_events / per_customer * 1.02) + 20
    while True:
        sim = _simulate(ind, customers, _rng(seed, isic, 4), start, 2)
        inside = int((sim["rows"]["ts"] < sim["horizon"]).sum())
        if inside >= n_events:
            return _events_frame(sim, start, categorical, limit=n_events)
        customers = int(customers * n_events / max(inside, 1) * 1.02) + 20


def funnel_counts_example(isic: str = "4742") -> pl.DataFrame:
    """Already aggregated stage counts, as a web-analytics or POS report would give them.

    One row per stage, quarter (of each customer's first contact), segment and channel (where the
    customer first touched that stage): distinct customers.

    >>> funnel_counts_example().columns
    ['stage', 'customers', 'period', 'segment', 'channel']
    """
    events = generate(isic, SAMPLE_CUSTOMERS, seed=SAMPLE_SEED)["events"]
    stages = [s.name for s in default_journey(isic).stages]
    first = (events.sort("timestamp", maintain_order=True)
             .with_columns(pl.col("timestamp").min().over("customer_id").alias("first")))
    per_stage = first.group_by("customer_id", "stage", maintain_order=True).agg(
        pl.col("channel").first(), pl.col("segment").first(), pl.col("first").first())
    return (
        per_stage.with_columns(
            (pl.col("first").dt.year().cast(pl.String) + "-Q"
             + pl.col("first").dt.quarter().cast(pl.String)).alias("period"))
        .group_by("stage", "period", "segment", "channel")
        .agg(pl.len().cast(pl.Int64).alias("customers"))
        .with_columns(pl.col("stage").replace_strict(stages, range(len(stages))).alias("_k"))
        .sort("period", "segment", "channel", "_k")
        .select("stage", "customers", "period", "segment", "channel")
    )


def write_sample_workbooks(out_dir: Path) -> list[Path]:
    """Write sample_<isic>.xlsx (sheets events, feedback, support, orders) and the funnel CSV.

    Workbook metadata is fixed so that regenerating gives the same bytes for the same data.
    """
    import xlsxwriter

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for isic in ("4773", "4741", "4742"):
        path = out_dir / f"sample_{isic}.xlsx"
        data = generate(isic, SAMPLE_CUSTOMERS, seed=SAMPLE_SEED)
        with xlsxwriter.Workbook(str(path)) as wb:
            wb.set_properties({"title": f"CJM sample data, ISIC {isic}",
                               "created": datetime(2024, 1, 1)})
            for name in ("events", "feedback", "support", "orders"):
                data[name].write_excel(
                    workbook=wb, worksheet=name, table_style=None, autofilter=True,
                    dtype_formats={pl.Datetime: "yyyy-mm-dd hh:mm:ss"}, float_precision=2,
                    column_widths=20, freeze_panes="A2",
                )
        written.append(path)
    csv = out_dir / "funnel_counts_example.csv"
    funnel_counts_example("4742").write_csv(csv)
    written.append(csv)
    return written


def main(argv: list[str] | None = None) -> int:
    """Regenerate sample_data/ beside the package (or in the folder given)."""
    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0]) if argv else Path(__file__).resolve().parents[2] / "sample_data"
    for path in write_sample_workbooks(out):
        print(f"{path}  {path.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
