"""The sentences that state a finding, one template per kind, for every place that states one:
the Overview's friction cards and the friction summaries, the journey map's pain-point lines and
the HTML report.

Why: the same finding was written three ways, and one of them read "App checkout: CSAT 83% below
the 85% target 82.8%" (the map draws its measured figure after the line's text). Each kind now
has one template with two forms:

- ``sentence``: the whole finding, every figure in it (cards, summaries, the report);
- ``label``: the lead-in the journey map draws before the item's measured figure, so that
  ``label + " " + figure`` reads as one sentence ("…, a drop-off of 64.6%").

Figures are written as everywhere else (:func:`cjm_core.metric.format_value`): percentages with
one decimal, counts with thousands separators, NPS as a whole number.

>>> print(sentence("touchpoint_csat", touchpoint="App checkout", csat=0.828, low=0.8,
...                high=0.85, n=250, target=0.85, below=43))  # doctest: +NORMALIZE_WHITESPACE
App checkout: CSAT 82.8% (95% interval 80.0–85.0%, n = 250), short of the 85.0% target;
43 of 250 answers not in the top boxes.
>>> label("touchpoint_csat", touchpoint="App checkout", target=0.85) + " 82.8%"
'App checkout: CSAT below the 85.0% target, at 82.8%'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cjm_core.metric import format_value

__all__ = ["KINDS", "TEMPLATES", "Template", "label", "sentence", "status_text"]

_MINUS = "\u2212"


@dataclass(frozen=True)
class Template:
    """One kind of finding: the facts its sentence reads, its two forms (``str.format``
    patterns over the facts as text) and how each fact is written (a fact left out reads "—";
    the label needs only the name and the facts it names)."""

    facts: tuple[str, ...]
    sentence: str
    label: str
    text: Callable[[Mapping[str, Any]], dict[str, str]]


def _rate(v: float | None) -> str:
    return format_value(v, "rate")


def _count(v: float | None) -> str:
    return format_value(v, "count")


def _interval(low: float | None, high: float | None, unit: str = "rate") -> str:
    """"95% interval 61.2–67.8%" (the unit written once when both ends share it), or ""."""
    if low is None or high is None:
        return ""
    lo, hi = _figure(low, unit), _figure(high, unit)
    if unit == "rate" and not lo.startswith(_MINUS):
        lo = lo.removesuffix("%")
    return f"95% interval {lo}–{hi}"


def _figure(v: float | None, unit: str) -> str:
    """A figure in its unit; NPS as a whole number (a manager reads "30", not "30.2")."""
    if v is not None and unit == "nps":
        return f"{round(v):d}".replace("-", _MINUS)
    return format_value(v, unit)


def _step(f: Mapping[str, Any]) -> dict[str, str]:
    interval = _interval(f.get("low"), f.get("high"))
    return {"step": str(f["step"]), "lost": _count(f.get("lost")), "n": _count(f.get("n")),
            "dropoff": _rate(f.get("dropoff")), "interval": f" ({interval})" if interval else "",
            "median": _rate(f.get("median"))}


def _touchpoint(f: Mapping[str, Any]) -> dict[str, str]:
    interval = _interval(f.get("low"), f.get("high"))
    n = _count(f.get("n"))
    return {"touchpoint": str(f["touchpoint"]), "csat": _rate(f.get("csat")),
            "details": f"{interval}, n = {n}" if interval else f"n = {n}", "n": n,
            "target": _rate(f.get("target")), "below": _count(f.get("below"))}


def _comment(f: Mapping[str, Any]) -> dict[str, str]:
    return {"comment": str(f["comment"]), "where": str(f.get("where") or "")}


#: what a scorecard status says in a sentence (the marks are :data:`STATUS_LABELS`' own)
_STATUS_WORDS = {"met": "✓ met", "within": "≈ within reach (the 95% interval reaches it)",
                 "missed": "✗ missed", "no data": "– no data"}


def status_text(status: str) -> str:
    """A scorecard status in words, with its mark.

    >>> status_text("within")
    '≈ within reach (the 95% interval reaches it)'
    """
    return _STATUS_WORDS.get(status, status)


def _gap(f: Mapping[str, Any]) -> dict[str, str]:
    unit = str(f.get("unit") or "rate")
    value = f.get("value")
    shown = "no data" if value is None else _figure(value, unit)
    if value is not None and unit == "relative_change":
        shown = f"a change of {shown}"
    return {"label": str(f["label"]), "value": shown, "target": str(f.get("target") or "—"),
            "status": status_text(str(f.get("status") or "no data"))}


#: one template per kind of finding
TEMPLATES: dict[str, Template] = {
    # a funnel step losing more customers than the journey's other steps
    "step_dropoff": Template(
        ("step", "lost", "n", "dropoff", "low", "high", "median"),
        "{step}: {lost} of {n} customers lost, a drop-off of {dropoff}{interval}; the other "
        "steps' median drop-off is {median}.",
        "{step}: {lost} of {n} customers lost, a drop-off of",
        _step),
    # a touchpoint's CSAT below the CSAT target
    "touchpoint_csat": Template(
        ("touchpoint", "csat", "low", "high", "n", "target", "below"),
        "{touchpoint}: CSAT {csat} ({details}), short of the {target} target; {below} of {n} "
        "answers not in the top boxes.",
        "{touchpoint}: CSAT below the {target} target, at",
        _touchpoint),
    # one of the most negative comments at a touchpoint or stage
    "worst_comment": Template(
        ("comment", "where"),
        "At {where}: “{comment}”",
        "“{comment}”",
        _comment),
    # a scorecard metric against its target
    "target_gap": Template(
        ("label", "value", "unit", "target", "status"),
        "{label}: {value} against the target {target}: {status}.",
        "{label}:",
        _gap),
}
KINDS: tuple[str, ...] = tuple(TEMPLATES)


def _template(kind: str) -> Template:
    try:
        return TEMPLATES[kind]
    except KeyError:
        msg = f"no finding of kind {kind!r}; known: {', '.join(KINDS)}"
        raise KeyError(msg) from None


def sentence(kind: str, **facts: Any) -> str:
    """The finding as a whole sentence.

    >>> print(sentence("step_dropoff", step="Demo → Buy", lost=531, n=822, dropoff=0.646,
    ...                low=0.612, high=0.678, median=0.28))  # doctest: +NORMALIZE_WHITESPACE
    Demo → Buy: 531 of 822 customers lost, a drop-off of 64.6% (95% interval 61.2–67.8%);
    the other steps' median drop-off is 28.0%.
    """
    t = _template(kind)
    return t.sentence.format(**t.text(facts))


def label(kind: str, **facts: Any) -> str:
    """The lead-in the journey map draws before the item's own figure.

    >>> label("step_dropoff", step="Demo → Buy", lost=531, n=822, dropoff=0.646, median=0.28)
    'Demo → Buy: 531 of 822 customers lost, a drop-off of'
    """
    t = _template(kind)
    return t.label.format(**t.text(facts))
