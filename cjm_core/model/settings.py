"""The view settings of the analysis pages (funnel, touchpoints, channels): one registry for each
setting's name, default, help and URL form. A page's widget key, the setting's name and its URL
query parameter are the same string, so a link reproduces the view (DESIGN §8).

Reading never raises: a URL value that does not parse, or names a choice the data do not offer,
falls back to the default; of a list, the unknown names are dropped and the rest kept.

>>> FUNNEL_WINDOW.read({"funnel_window": "7"}), FUNNEL_WINDOW.read({"funnel_window": "abc"})
(7, 30)
>>> FUNNEL_STEPS.read({"funnel_steps": "Discovery,Nowhere,Purchase"},
...                   choices=["Discovery", "Purchase"], default=[])
['Discovery', 'Purchase']
>>> FUNNEL_MODE.to_text("strict"), FUNNEL_MODE.to_text("ordered") is None
('strict', True)
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

#: a default that depends on the data: the page passes it to ``read`` and ``to_text``
DATA_DEFAULT: Any = None


@dataclass(frozen=True, eq=False)
class Setting:
    """One view setting. ``parse`` turns URL text into a value and raises ``ValueError`` on junk;
    ``dump`` is its inverse. ``choices`` are the fixed choices (a page may pass the data's own);
    ``most`` caps a list's length."""

    name: str
    default: Any
    help: str
    parse: Callable[[str], Any]
    dump: Callable[[Any], str]
    choices: tuple | None = None
    most: int | None = None

    def read(self, params: Mapping[str, str], *, choices: Collection | None = None,
             default: Any = DATA_DEFAULT) -> Any:
        """The value in URL parameters ``params``, else the default (``default`` if given, for
        settings whose default depends on the data)."""
        fallback = self.default if default is DATA_DEFAULT else default
        fallback = list(fallback) if isinstance(fallback, list) else fallback  # a fresh copy
        text = params.get(self.name)
        if text is None:
            return fallback
        try:
            value = self.parse(text)
        except (ValueError, TypeError, OverflowError):
            return fallback
        return self.within(value, choices, fallback)

    def within(self, value: Any, choices: Collection | None, fallback: Any) -> Any:
        """``value`` restricted to the choices: unknown list items dropped (an emptied list and
        any unknown single value give ``fallback``)."""
        allowed = self.choices if choices is None else choices
        if isinstance(value, list):
            kept = [v for i, v in enumerate(value)
                    if (allowed is None or v in allowed) and v not in value[:i]]
            kept = kept[: self.most] if self.most else kept
            return kept if kept or not value else fallback
        return value if allowed is None or value in allowed else fallback

    def allows(self, value: Any, choices: Collection | None = None) -> bool:
        """Whether ``value`` is a valid value of this setting under ``choices``."""
        try:
            return self.parse(self.dump(value)) == value and \
                self.within(value, choices, _INVALID) == value
        except (ValueError, TypeError, OverflowError):
            return False

    def to_text(self, value: Any, *, default: Any = DATA_DEFAULT) -> str | None:
        """URL text of ``value``; None for the default (the parameter is left out of the URL)."""
        fallback = self.default if default is DATA_DEFAULT else default
        return None if value == fallback else self.dump(value)


_INVALID = object()


def choice(text: str) -> str:
    """One of a setting's choices, as written (the choices themselves are checked by ``read``).

    >>> choice("strict")
    'strict'
    """
    return text


def integer(low: int, high: int) -> Callable[[str], int]:
    """A parser of whole numbers from ``low`` to ``high``.

    >>> integer(0, 10)("7"), integer(0, 10)(" 3 ")
    (7, 3)
    """
    def parse(text: str) -> int:
        value = int(text.strip())
        if not low <= value <= high:
            raise ValueError(f"{value} is outside {low}..{high}")
        return value
    return parse


def boolean(text: str) -> bool:
    """Yes or no: true/false, 1/0, yes/no, on/off.

    >>> boolean("true"), boolean("0")
    (True, False)
    """
    low = text.strip().lower()
    if low in ("true", "1", "yes", "on"):
        return True
    if low in ("false", "0", "no", "off"):
        return False
    raise ValueError(f"not a yes/no value: {text!r}")


def dump_bool(value: bool) -> str:
    """The URL text of a yes/no value.

    >>> dump_bool(True)
    'true'
    """
    return "true" if value else "false"


def names(text: str) -> list[str]:
    r"""Comma-separated names; a comma or backslash inside a name is escaped with a backslash.

    >>> names("a,b\\,c,,d")
    ['a', 'b,c', 'd']
    >>> names(dump_names(["x,y", "z\\"])) == ["x,y", "z\\"]
    True
    """
    parts, part, escaped = [], [], False
    for char in text:
        if escaped or char not in "\\,":
            part.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            parts.append("".join(part))
            part = []
    parts.append("".join(part))
    return [p for p in parts if p]


def dump_names(values: Collection[str]) -> str:
    r"""The URL text of a list of names (the inverse of :func:`names`).

    >>> print(dump_names(["Buy, then pay", "Web"]))
    Buy\, then pay,Web
    """
    return ",".join(v.replace("\\", "\\\\").replace(",", "\\,") for v in values)


def _choice(name: str, options: tuple[str, ...], help: str, default: str | None = None):
    return Setting(name, options[0] if default is None else default, help, choice, str, options)


# -- Funnel --------------------------------------------------------------------------------------
#: the longest conversion window in any unit (a million days still fits a timestamp)
WINDOW_MOST = 1_000_000
FUNNEL_STEP_COLUMN = _choice(
    "funnel_step_column", ("stage", "event", "touchpoint"),
    "What the steps are: journey stages (default) or any chosen list of events or touchpoints")
FUNNEL_STEPS = Setting(
    "funnel_steps", DATA_DEFAULT,
    "The steps, in order (default: the journey's stages, or the first four events)",
    names, dump_names)
FUNNEL_MODE = _choice(
    "funnel_mode", ("ordered", "strict", "any"),
    "ordered: later steps after earlier ones; strict: no other event in between; any: steps in "
    "any order")
FUNNEL_WINDOW = Setting(
    "funnel_window", 30, "Conversion window, in the window unit (0 = no window)",
    integer(0, WINDOW_MOST), str)
FUNNEL_WINDOW_UNIT = _choice(
    "funnel_window_unit", ("minutes", "hours", "days"), "Unit of the conversion window",
    default="days")
FUNNEL_REENTRY = _choice(
    "funnel_reentry", ("latest", "first"),
    "latest: the window restarts at a customer's latest first-step event (PostHog, ClickHouse); "
    "first: anchored at the first (Mixpanel)")
FUNNEL_BREAKDOWN = Setting(
    "funnel_breakdown", [], "Break the funnel down by up to two columns of the events",
    names, dump_names, most=2)
FUNNEL_ATTRIBUTION = _choice(
    "funnel_attribution", ("first", "last"),
    "Which event's breakdown value a customer gets: the first touch or the last")
FUNNEL_EXCLUDE_OPEN = Setting(
    "funnel_exclude_open", False,
    "Leave out customers whose conversion window is still open at the end of the data",
    boolean, dump_bool)
FUNNEL_MID = _choice(
    "funnel_mid", ("separate", "per_stage"),
    "Customers who entered mid-journey: shown apart, or each stage counted on its own "
    "(distinct customers with an event at each stage, ignoring the window and the order)")

FUNNEL_SETTINGS = (FUNNEL_STEP_COLUMN, FUNNEL_STEPS, FUNNEL_MODE, FUNNEL_WINDOW,
                   FUNNEL_WINDOW_UNIT, FUNNEL_REENTRY, FUNNEL_BREAKDOWN, FUNNEL_ATTRIBUTION,
                   FUNNEL_EXCLUDE_OPEN, FUNNEL_MID)

# -- Touchpoints ---------------------------------------------------------------------------------
TP_BY = _choice("tp_by", ("touchpoint", "stage", "channel"),
                "Cut the scores per touchpoint, stage or channel (default: the first the "
                "feedback has)")
TP_SCORE = _choice("tp_score", ("csat", "nps", "ces"),
                   "The score shown: CSAT, NPS or CES (default: the first the feedback has)")
TP_TOUCHPOINT = Setting(
    "tp_touchpoint", DATA_DEFAULT,
    "The touchpoint whose answers and comments are shown (default: the worst)", choice, str)

TOUCHPOINT_SETTINGS = (TP_BY, TP_SCORE, TP_TOUCHPOINT)

# -- Channels ------------------------------------------------------------------------------------
CHANNELS_BY = _choice("channels_by", ("channel", "touchpoint"),
                      "Moves between channels or between touchpoints")
CHANNELS_VIEW = _choice("channels_view", ("sankey", "matrix"),
                        "Show the moves as a Sankey diagram or as a matrix")
CHANNELS_DROP_SELF = Setting(
    "channels_drop_self", False,
    "Leave out repeats (web → web); shares are then over the remaining moves",
    boolean, dump_bool)
CHANNELS_TOP = Setting(
    "channels_top", 40, "Largest moves shown in the Sankey diagram (with more than 40 moves)",
    integer(5, 200), str)

CHANNEL_SETTINGS = (CHANNELS_BY, CHANNELS_VIEW, CHANNELS_DROP_SELF, CHANNELS_TOP)

#: each page's view settings, by the page's file name
VIEW_SETTINGS: dict[str, tuple[Setting, ...]] = {
    "funnel": FUNNEL_SETTINGS,
    "touchpoints": TOUCHPOINT_SETTINGS,
    "channels": CHANNEL_SETTINGS,
}


def _shown_default(setting: Setting) -> str:
    if setting.default is DATA_DEFAULT:
        return "from the data"
    if setting.default == []:
        return "none"
    return f"`{setting.dump(setting.default)}`"


def parameters_table() -> str:
    """The README's table of URL parameters (the workspace, the filters, every page's view).

    >>> print(parameters_table().splitlines()[2])
    | `ws` | every page | the sample | Workspace id, or a share link's token |
    """
    from cjm_core.model.filters import FILTER_SETTINGS

    rows = ["| parameter | page | default | meaning |", "|---|---|---|---|",
            "| `ws` | every page | the sample | Workspace id, or a share link's token |"]
    rows += [f"| `{f.name}` | every page | none | {f.help} |" for f in FILTER_SETTINGS]
    rows += [f"| `{s.name}` | {page.capitalize()} | {_shown_default(s)} | {s.help} |"
             for page, group in VIEW_SETTINGS.items() for s in group]
    rows += ["| `present` | Journey map | off | `1`: presentation mode, the map alone on the "
             "screen |",
             "| `stage` | Journey map | `0` | Presentation mode: the highlighted stage, counted "
             "from 0 |",
             "| `version` | Journey map | the latest | The saved map version to open |"]
    rows += [f"| `{s.name}` | Journey map | {_shown_default(s)} | {s.help} |"
             for s in MAP_SETTINGS]
    return "\n".join(rows) + "\n"


# -- Journey map (presentation mode) -------------------------------------------------------------
MAP_HIDE = Setting(
    "map_hide", [], "Presentation mode: lanes hidden for the room (lane keys, e.g. "
    "backstage,thoughts)", names, dump_names)
MAP_WIDTH = Setting(
    "w", 1920, "Presentation mode: the screen width the map is laid out for, in pixels (it is "
    "then scaled to the window)", integer(640, 7680), str)
MAP_HEIGHT = Setting(
    "h", 1080, "Presentation mode: the screen height the map is laid out for, in pixels",
    integer(360, 4320), str)

#: the journey map's view settings (the presented stage is ``stage``, read by
#: ``journey_map.status.stage_focus``); they are no widgets' values, so they are not in
#: VIEW_SETTINGS (whose settings are each a widget's key), and the README table lists them apart
MAP_SETTINGS = (MAP_HIDE, MAP_WIDTH, MAP_HEIGHT)
