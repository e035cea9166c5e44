"""Industry targets from the seeds as data, and the gap of each measured metric to its target
(DESIGN §6).

Why: a manager wants to see at once how the store stands against the industry's targets. Targets
are plain dataclasses (``TARGETS``, one per seed benchmark) with the seed file they come from and
its own wording; a workspace may override or disable any of them (stored as JSON by the
integrator). ``evaluate`` turns measured `Metric` lists into `Gap` rows: value with its interval,
the target as text, the signed distance in the metric's own unit and a status (met / within the
interval / missed / no data, with the missing table or role named).

Conventions:

- ``better`` says which way is good. The threshold is ``low`` when higher is better and ``high``
  when lower is better; ``strict`` makes it "<" / ">" instead of "≤" / "≥".
- ``range`` / ``relative_range`` / ``by_complexity`` targets with both ends are met from the
  better side of the range on: exceeding "5% to 10%" online-to-store conversion is not a miss; the
  gap's ``detail`` says "beyond the target range" instead.
- Relative targets ("−10% vs baseline", "+10% a year") are judged on the period-over-period change
  ``current / previous − 1`` of the same metric and cut; its interval comes from the two intervals
  by the delta method on the log ratio.
- ``cut``: ``{}`` is the whole; ``{"touchpoint": "*"}`` means every touchpoint (one gap each);
  ``{"stage_role": "purchase"}`` means the journey's stage with that role (metric cut
  ``{"stage": <display name>}``); any other key/value pair is matched as it is, e.g.
  ``{"complexity": "complex"}``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

import polars as pl

from cjm_core.errors import CJMError
from cjm_core.metric import Metric, format_interval, info, label
from cjm_core.model.journey import Journey, default_journey

__all__ = [
    "KINDS",
    "SEEDS",
    "TARGETS",
    "Gap",
    "Target",
    "availability",
    "cut_text",
    "evaluate",
    "gaps_table",
    "note_text",
    "target_text",
    "targets_for",
    "targets_from_json",
    "targets_table",
    "targets_to_json",
]

Kind = Literal["level_min", "level_max", "range", "bands", "relative_change", "relative_range",
               "by_complexity"]
KINDS: tuple[str, ...] = ("level_min", "level_max", "range", "bands", "relative_change",
                          "relative_range", "by_complexity")
RELATIVE_KINDS = frozenset({"relative_change", "relative_range"})
Status = Literal["met", "within", "missed", "no data"]

#: the seed document of each industry (DESIGN: ../shared/seeds/)
SEEDS: dict[str, str] = {
    "4773": "seeds/000_edfc8570a8b0999e.txt",
    "4741": "seeds/001_235983ba834fa39a.txt",
    "4742": "seeds/002_e3e17342bb1ea720.txt",
}


@dataclass(frozen=True)
class Target:
    """One benchmark target. See the module docstring for ``better``, ``strict`` and ``cut``.

    >>> t = Target("4741", "nps", "NPS", "level_min", low=30, unit="nps")
    >>> target_text(t)
    '≥ 30'
    """

    isic: str
    metric: str
    label: str
    kind: Kind
    low: float | None = None
    high: float | None = None
    better: Literal["higher", "lower"] = "higher"
    strict: bool = False
    #: for kind "bands": (name, lower threshold) from the lowest band up
    bands: tuple[tuple[str, float], ...] = ()
    cut: dict[str, str] = field(default_factory=dict)
    #: the score scale the target is written for, e.g. "1-7" (CES)
    scale: str | None = None
    unit: str = "rate"
    source: str = ""
    wording: str = ""
    enabled: bool = True

    @property
    def key(self) -> tuple[str, str, tuple[tuple[str, str], ...]]:
        """Identity of a target inside one industry: overrides replace the target with this key."""
        return (self.isic, self.metric, tuple(sorted(self.cut.items())))

    @property
    def relative(self) -> bool:
        return self.kind in RELATIVE_KINDS

    @property
    def threshold(self) -> float | None:
        """The value the metric (or its change) must reach: low if higher is better, else high."""
        if self.kind == "bands" and self.bands:
            return min(v for _, v in self.bands)
        return self.low if self.better == "higher" else self.high


def _t(isic: str, metric: str, label: str, kind: Kind, wording: str, **kw: Any) -> Target:
    return Target(isic, metric, label, kind, source=SEEDS[isic], wording=wording, **kw)


_W4773_CSAT = "Achieve a CSAT score of 85%+ across all major touchpoints."
_W4773_ABANDON = ("Reduce online cart abandonment by 10% and in-store inquiry-to-consultation "
                  "drop-off by 5%.")
_W4773_RES = "Decrease average resolution time by 15% and increase FCR to 80%+."
_W4742_TTR = "24-48 hours for complex issues, immediate for simple inquiries"

#: every DESIGN §6 row, as data (4741's "after purchase, after support" and 4742's "by
#: complexity" rows become two targets each)
TARGETS: list[Target] = [
    # ISIC 4773: other specialised goods
    _t("4773", "csat", "CSAT per major touchpoint", "level_min", _W4773_CSAT,
       low=0.85, cut={"touchpoint": "*"}),
    _t("4773", "cart_abandonment", "Online cart abandonment", "relative_change", _W4773_ABANDON,
       high=-0.10, better="lower"),
    _t("4773", "inquiry_consultation_dropoff", "In-store inquiry→consultation drop-off",
       "relative_change", _W4773_ABANDON, high=-0.05, better="lower"),
    _t("4773", "resolution_hours_mean", "Average resolution time", "relative_change", _W4773_RES,
       high=-0.15, better="lower"),
    _t("4773", "fcr", info("fcr").label, "level_min", _W4773_RES, low=0.80),
    _t("4773", "ces", "Customer effort score (1–7)", "level_max",
       "Achieve an average CES score below 2 (on a 1-7 scale, lower is better).",
       high=2.0, better="lower", strict=True, scale="1-7", unit="score"),
    _t("4773", "omnichannel_conversion", "Omnichannel conversion rate", "relative_change",
       "Increase omnichannel conversion rate by 10% year-over-year.", low=0.10),
    # ISIC 4741: computers, peripherals, software, telecom
    _t("4741", "csat", "CSAT after purchase", "level_min", "85%+", low=0.85,
       cut={"stage_role": "purchase"}),
    _t("4741", "csat", "CSAT after support", "level_min", "85%+", low=0.85,
       cut={"stage_role": "support"}),
    _t("4741", "nps", "Net Promoter Score", "level_min", "30%+", low=30.0, unit="nps"),
    _t("4741", "omnichannel_conversion", "Omnichannel conversion rate", "relative_range",
       "Increase by 10-15% annually", low=0.10, high=0.15),
    _t("4741", "repeat_purchase_rate", info("repeat_purchase_rate").label, "level_min", "25%+",
       low=0.25),
    _t("4741", "clv", "Customer lifetime value", "relative_range",
       "Increase by 5-10% annually", low=0.05, high=0.10, unit="money"),
    # ISIC 4742: audio and video equipment
    _t("4742", "nps", "Net Promoter Score", "bands", "30-50+ (Good to Excellent)",
       bands=(("good", 30.0), ("excellent", 50.0)), unit="nps"),
    _t("4742", "online_to_store_conversion", info("online_to_store_conversion").label, "range",
       "5-10% for high-value electronics (Source: Google 'Connected Shoppers Report')",
       low=0.05, high=0.10),
    _t("4742", "ces", "CES for service/support (1–5)", "level_max",
       "Below 2.0 (on a 1-5 scale, lower is better)", high=2.0, better="lower", strict=True,
       scale="1-5", unit="score", cut={"stage_role": "support"}),
    _t("4742", "repeat_purchase_rate", info("repeat_purchase_rate").label, "range",
       "20-30% year-over-year", low=0.20, high=0.30),
    _t("4742", "resolution_hours_median", "Time to resolution, complex issues", "by_complexity",
       _W4742_TTR, low=24.0, high=48.0, better="lower", unit="hours",
       cut={"complexity": "complex"}),
    # "immediate" = resolved at the first contact; 80% is the seeds' only FCR level (4773)
    _t("4742", "fcr", "Simple inquiries resolved at first contact", "by_complexity",
       _W4742_TTR, low=0.80, cut={"complexity": "simple"}),
]


def targets_for(isic: str, overrides: list[Target] | None = None, *,
                include_disabled: bool = False) -> list[Target]:
    """The industry's targets with a workspace's overrides applied.

    An override replaces the built-in target with the same metric and cut (``Target.key``) or is
    added; ``enabled=False`` hides a target. Overrides for another industry are ignored.

    >>> from dataclasses import replace
    >>> nps = next(t for t in targets_for("4741") if t.metric == "nps")
    >>> mine = replace(nps, low=40.0)
    >>> [(t.metric, t.low) for t in targets_for("4741", [mine]) if t.metric == "nps"]
    [('nps', 40.0)]
    """
    out = {t.key: t for t in TARGETS if t.isic == isic}
    for o in overrides or []:
        if o.isic == isic:
            out[o.key] = o
    return [t for t in out.values() if t.enabled or include_disabled]


def targets_table(targets: list[Target]) -> pl.DataFrame:
    """One row per target with its text, for the Benchmarks page's editable table."""
    return pl.DataFrame(
        [{"isic": t.isic, "metric": t.metric, "label": t.label, "kind": t.kind,
          "target": target_text(t), "low": t.low, "high": t.high, "better": t.better,
          "cut": json.dumps(t.cut, sort_keys=True), "scale": t.scale, "source": t.source,
          "wording": t.wording, "enabled": t.enabled} for t in targets],
        schema={"isic": pl.String, "metric": pl.String, "label": pl.String, "kind": pl.String,
                "target": pl.String, "low": pl.Float64, "high": pl.Float64,
                "better": pl.String, "cut": pl.String, "scale": pl.String,
                "source": pl.String, "wording": pl.String, "enabled": pl.Boolean},
    )


def targets_to_json(targets: list[Target]) -> str:
    """JSON text of a target list (what the workspace store keeps)."""
    return json.dumps([asdict(t) for t in targets], ensure_ascii=False, sort_keys=True)


_FIELDS = {f.name for f in fields(Target)}


def targets_from_json(text: str) -> list[Target]:
    """Targets back from ``targets_to_json``; a malformed entry raises `CJMError` naming it.

    >>> targets_from_json(targets_to_json(TARGETS)) == TARGETS
    True
    """
    try:
        raw = json.loads(text)
    except (TypeError, ValueError) as e:
        raise CJMError(f"The saved targets are not valid JSON: {e}", code="bad-targets") from e
    if not isinstance(raw, list):
        raise CJMError("The saved targets must be a JSON list.", code="bad-targets")
    out = []
    for i, d in enumerate(raw, start=1):
        where = f"target {i}"
        if not isinstance(d, dict):
            raise CJMError(f"{where} is not an object.", code="bad-targets")
        unknown = set(d) - _FIELDS
        missing = {"isic", "metric", "label", "kind"} - set(d)
        if unknown or missing:
            raise CJMError(f"{where}: unknown fields {sorted(unknown)}, missing {sorted(missing)}",
                           code="bad-targets")
        d = dict(d)
        d["bands"] = tuple((str(n), float(v)) for n, v in d.get("bands") or ())
        d["cut"] = {str(k): str(v) for k, v in (d.get("cut") or {}).items()}
        t = Target(**d)
        _check(t, where)
        out.append(t)
    return out


def _check(t: Target, where: str) -> None:
    if t.kind not in KINDS:
        raise CJMError(f"{where} ({t.label}): unknown kind {t.kind!r}; known: {', '.join(KINDS)}",
                       code="bad-targets")
    if t.better not in ("higher", "lower"):
        raise CJMError(f"{where} ({t.label}): 'better' must be 'higher' or 'lower'",
                       code="bad-targets")
    if t.threshold is None:
        need = "bands" if t.kind == "bands" else ("low" if t.better == "higher" else "high")
        raise CJMError(f"{where} ({t.label}): a {t.kind} target needs '{need}'",
                       code="bad-targets")
    for v in (t.low, t.high):
        if v is not None and not math.isfinite(v):
            raise CJMError(f"{where} ({t.label}): thresholds must be finite numbers",
                           code="bad-targets")
    if t.low is not None and t.high is not None and t.low > t.high:
        raise CJMError(f"{where} ({t.label}): low {t.low} is above high {t.high}",
                       code="bad-targets")


# ----------------------------------------------------------------------------- text


def _fmt(v: float, unit: str, signed: bool = False) -> str:
    if unit in ("rate", "relative_change"):
        s = f"{v * 100:+.4g}%" if signed else f"{v * 100:.4g}%"
    elif unit == "hours":
        s = f"{v:.4g} h"
    else:
        s = f"{v:+.4g}" if signed else f"{v:.4g}"
    return s.replace("-", "−")


def target_text(t: Target) -> str:
    """The target as a person would say it, e.g. "≥ 85%", "< 2 (1–7 scale)", "−10% or better
    vs the previous period", "+5% to +10% vs the previous period", "≥ 30 good, ≥ 50 excellent".

    >>> [target_text(t) for t in targets_for("4742")][:2]
    ['≥ 30 good, ≥ 50 excellent', '5% to 10%']
    """
    unit = "relative_change" if t.relative else t.unit
    signed = t.relative
    if t.kind == "bands":
        text = ", ".join(f"≥ {_fmt(v, unit)} {name}" for name, v in t.bands)
    elif t.low is not None and t.high is not None:
        text = f"{_fmt(t.low, unit, signed)} to {_fmt(t.high, unit, signed)}"
    else:  # one edge: the one on the better side (_check requires it)
        higher = t.better == "higher"
        edge = t.low if higher else t.high
        if edge is None:
            raise CJMError(f"{t.label}: the target has no {'low' if higher else 'high'} value",
                           code="bad-targets")
        sign = ('>' if t.strict else '≥') if higher else ('<' if t.strict else '≤')
        text = f"{sign} {_fmt(edge, unit, signed)}"
    if t.relative:
        text += " vs the previous period"
    if t.scale:
        text += f" ({t.scale.replace('-', '–')} scale)"
    return text


# ----------------------------------------------------------------------------- what data a
# metric needs: (any of these availability keys, reason when none is there)

_NEEDS: dict[str, list[tuple[tuple[str, ...], str]]] = {
    "csat": [(("feedback.csat",), "needs a feedback table with a csat score column")],
    "nps": [(("feedback.nps",), "needs a feedback table with an nps score column")],
    "ces": [(("feedback.ces", "support.ces"),
             "needs a ces score column in the feedback or support table")],
    "fcr": [(("support.first_contact_resolved", "support.contacts"),
             "needs a support table with first_contact_resolved or contacts")],
    "cart_abandonment": [
        (("events.stage",), "needs an events table with stages"),
        (("role.cart",), "needs the journey's cart stage role"),
        (("role.purchase",), "needs the journey's purchase stage role")],
    "inquiry_consultation_dropoff": [
        (("events.stage",), "needs an events table with stages"),
        (("role.inquiry",), "needs the journey's inquiry stage role"),
        (("role.consultation",), "needs the journey's consultation stage role")],
    "omnichannel_conversion": [
        (("events.channel",), "needs an events table with a channel column"),
        (("role.purchase", "orders"),
         "needs the journey's purchase stage role or an orders table")],
    "online_to_store_conversion": [
        (("events.channel",), "needs an events table with a channel column"),
        (("role.purchase", "orders.channel"),
         "needs the journey's purchase stage role or an orders table with a channel")],
    "repeat_purchase_rate": [(("orders",), "needs an orders table")],
    "clv": [(("orders",), "needs an orders table")],
}
for _m in ("resolution_hours_mean", "resolution_hours_median", "resolution_hours_p90"):
    _NEEDS[_m] = [(("support.resolved_at",), "needs a support table with resolved_at")]
_CUT_NEEDS: dict[str, list[tuple[tuple[str, ...], str]]] = {
    "touchpoint": [(("feedback.touchpoint", "events.touchpoint"), "needs a touchpoint column")],
    "complexity": [(("support.complexity",), "needs a support table with a complexity column")],
    "stage": [(("feedback.stage", "events.stage"), "needs a stage column")],
}


def availability(dataset: Any) -> dict[str, bool]:
    """What a `cjm_core.model.dataset.Dataset` offers, as ``evaluate``'s ``available`` dict: keys
    ``"<table>"`` (present with rows), ``"<table>.<role>"`` (column with some value) and
    ``"role.<stage role>"`` (set in the journey and, when there are events with stages, given
    to a stage the events have: a role no data stage plays is "no data", never a 0% or 100%
    figure measured against a stage with no events)."""
    from cjm_core.model.schema import TABLES

    out: dict[str, bool] = {}
    for table, roles in TABLES.items():
        out[table] = dataset.has(table)
        for role in roles:
            out[f"{table}.{role.name}"] = dataset.has(table, role.name)
    played = dataset.roles_played
    for stage_role in ("inquiry", "consultation", "cart", "purchase", "support"):
        out[f"role.{stage_role}"] = bool(played.get(stage_role))
    return out


def _known(available: dict[str, bool], key: str) -> bool | None:
    """True / False when ``available`` says so (also under the ``stage_role.`` spelling of a
    ``role.`` key, or via its table being absent), None when it does not say."""
    if key in available:
        return bool(available[key])
    if key.startswith("role.") and f"stage_role.{key[5:]}" in available:
        return bool(available[f"stage_role.{key[5:]}"])
    table = key.split(".")[0]
    if not key.startswith("role.") and table in available and not available[table]:
        return False
    return None


def _missing(t: Target, available: dict[str, bool] | None) -> list[str]:
    """Reasons of the requirements ``available`` says are not met (unknown keys are not
    blamed)."""
    needs = list(_NEEDS.get(t.metric, []))
    for k in t.cut:
        needs += _CUT_NEEDS.get("stage" if k == "stage_role" else k, [])
    if available is None:
        return []
    out = []
    for keys, reason in needs:
        known = [_known(available, k) for k in keys]
        if not any(v is True for v in known) and any(v is False for v in known):
            out.append(reason)
    return out


def _unplayed_roles(t: Target, available: dict[str, bool] | None) -> str | None:
    """The reasons of the metric's stage-role requirements that ``available`` says no data
    stage meets, joined; None when they are met or not known."""
    if available is None:
        return None
    out = []
    for keys, reason in _NEEDS.get(t.metric, []):
        if not any(k.startswith("role.") for k in keys):
            continue
        known = [_known(available, k) for k in keys]
        if not any(v is True for v in known) and any(v is False for v in known):
            out.append(reason)
    return "; ".join(out) or None


def _needs_text(t: Target) -> str:
    return "; ".join(reason for _, reason in _NEEDS.get(t.metric, []))


# ----------------------------------------------------------------------------- gaps


@dataclass
class Gap:
    """A metric against its target. ``value`` is the metric (or, for relative targets, its
    change current / previous − 1) with its interval; ``distance`` is in the same unit, negative
    when short of the target; ``band`` names the band reached for band targets."""

    metric: str
    label: str
    by: dict[str, str]
    value: float | None
    low: float | None
    high: float | None
    target: str
    distance: float | None
    status: Status
    reason: str | None
    source: str
    n: int | None = None
    unit: str = "rate"
    kind: str = ""
    band: str | None = None
    detail: str | None = None
    current: float | None = None
    previous: float | None = None
    wording: str = ""

    def to_dict(self) -> dict:
        """The ``metrics --json`` ``gaps`` entry."""
        return asdict(self)


def _index(metrics: list[Metric] | None) -> dict[tuple, Metric]:
    return {(m.metric, tuple(sorted(m.by.items()))): m for m in metrics or []}


def _judge(t: Target, v: float, lo: float | None, hi: float | None
           ) -> tuple[Status, float, str | None, str | None]:
    """status, distance, band, detail for a value against a target's threshold."""
    thr = t.threshold
    assert thr is not None
    if t.better == "higher":
        distance = v - thr
        met = v > thr if t.strict else v >= thr
        reaches = hi is not None and hi >= thr
    else:
        distance = thr - v
        met = v < thr if t.strict else v <= thr
        reaches = lo is not None and lo <= thr
    status: Status = "met" if met else ("within" if reaches else "missed")
    band = None
    if t.kind == "bands" and t.bands:
        ordered = sorted(t.bands, key=lambda b: b[1])
        band = f"below {ordered[0][0]}"
        for name, edge in ordered:
            if v >= edge:
                band = name
    detail = None
    if t.low is not None and t.high is not None:
        if t.better == "higher" and v > t.high:
            detail = "beyond the target range (above its top)"
        elif t.better == "lower" and v < t.low:
            detail = "beyond the target range (below its bottom)"
        elif met:
            detail = "inside the target range"
    return status, distance, band, detail


def _change(cur: Metric, prev: Metric) -> tuple[float, float | None, float | None]:
    """Relative change current / previous − 1 and a 95% interval by the delta method on the
    log ratio, taking each metric's standard error from its interval (half width / 1.96)."""
    now, before = cur.value, prev.value
    if now is None or before is None:  # the caller checks both
        raise TypeError("a relative change needs both values")
    change = now / before - 1
    if now <= 0 or before <= 0:
        return change, None, None
    var = 0.0
    for m, value in ((cur, now), (prev, before)):
        if m.low is not None and m.high is not None:
            se = (m.high - m.low) / (2 * 1.959963984540054)
            var += (se / value) ** 2
    if var == 0.0:
        return change, None, None
    half = 1.959963984540054 * math.sqrt(var)
    ratio = change + 1
    return change, ratio * math.exp(-half) - 1, ratio * math.exp(half) - 1


def _cuts(t: Target, journey: Journey, current: dict[tuple, Metric]
          ) -> list[dict[str, str]] | str:
    """The metric cuts a target looks at, or a reason why it cannot."""
    if not t.cut:
        return [{}]
    cut = dict(t.cut)
    if "stage_role" in cut:
        role = cut.pop("stage_role")
        key = journey.stage_roles.get(role)
        if not key:
            return f"needs the journey's {role} stage role"
        stage = next((s.name for s in journey.stages if s.key == key or s.name == key), key)
        cut["stage"] = stage
    every = [k for k, v in cut.items() if v == "*"]
    if not every:
        return [cut]
    fixed = {k: v for k, v in cut.items() if v != "*"}
    keys = set(cut)
    found = [dict(by) for (name, by) in current if name == t.metric and set(dict(by)) == keys
             and all(dict(by)[k] == v for k, v in fixed.items())]
    return sorted(found, key=lambda b: sorted(b.items())) or [cut]


def _cut_text(by: dict[str, str]) -> str:
    if not by:
        return ""
    return " at " + ", ".join(f"{k} {v!r}" if v != "*" else f"every {k}" for k, v in by.items())


def evaluate(
    targets: list[Target],
    current: list[Metric],
    previous: list[Metric] | None = None,
    available: dict[str, bool] | None = None,
    *,
    journey: Journey | None = None,
    recent: list[Metric] | None = None,
) -> list[Gap]:
    """One `Gap` per target and cut (a "*" cut gives one per value found, e.g. per touchpoint).

    ``current`` / ``previous`` are the metric lists of this period and the one before (relative
    targets compare them, matched on metric and cut); ``available`` (see `availability`) lets a
    "no data" gap name the table or role that is missing; ``journey`` maps stage roles to stage
    names (default: the industry's default journey). ``recent``, when given, is what relative
    targets compare with ``previous`` instead of ``current`` (the scorecard: levels on the last
    12 months with undated tables whole, changes on the dated tables' last 12 months against the
    12 before); keys of ``available`` it does
    not name are not blamed, and ``stage_role.<role>`` is read like ``role.<role>``.

    >>> nps = [t for t in targets_for("4741") if t.metric == "nps"]
    >>> g = evaluate(nps, [Metric("nps", 25.0, 400, 18.0, 32.0, unit="nps")])
    >>> g[0].status, g[0].distance, g[0].target
    ('within', -5.0, '≥ 30')
    """
    cur, prev = _index(current), _index(previous)
    rec = _index(recent) if recent is not None else cur
    gaps = []
    for t in targets:
        if not t.enabled:
            continue
        j = journey or default_journey(t.isic)
        cuts = _cuts(t, j, cur)
        if isinstance(cuts, str):
            gaps.append(_no_data(t, dict(t.cut), cuts))
            continue
        for by in cuts:
            gaps.append(_one(t, by, rec if t.relative else cur, prev, previous is not None,
                             available))
    return gaps


def _no_data(t: Target, by: dict[str, str], reason: str) -> Gap:
    return Gap(t.metric, t.label, by, None, None, None, target_text(t), None, "no data", reason,
               t.source, unit="relative_change" if t.relative else t.unit, kind=t.kind,
               wording=t.wording)


def _one(t: Target, by: dict[str, str], cur: dict[tuple, Metric], prev: dict[tuple, Metric],
         have_previous: bool, available: dict[str, bool] | None) -> Gap:
    k = (t.metric, tuple(sorted(by.items())))
    m = cur.get(k)
    unplayed = _unplayed_roles(t, available)
    if unplayed:  # a figure over a stage with no data (e.g. 100% drop-off) is not a measurement
        return _no_data(t, by, unplayed)
    if m is None or m.value is None:
        missing = _missing(t, available)
        if missing:
            return _no_data(t, by, "; ".join(missing))
        reason = f"no {t.metric} value{_cut_text(by)} in the data"
        if available is None and _needs_text(t):
            reason += f" ({_needs_text(t)})"
        return _no_data(t, by, reason)
    if t.relative:
        if not have_previous:
            return _no_data(t, by, "needs a previous period to compare with")
        p = prev.get(k)
        if p is None or p.value is None:
            return _no_data(t, by, f"no {t.metric} value{_cut_text(by)} in the previous period")
        if p.value == 0:
            return _no_data(t, by, "the previous period's value is 0: no relative change")
        value, lo, hi = _change(m, p)
        unit = "relative_change"
    else:
        value, lo, hi, unit = m.value, m.low, m.high, t.unit
        p = None
    status, distance, band, detail = _judge(t, value, lo, hi)
    return Gap(t.metric, t.label, by, value, lo, hi, target_text(t), distance, status, None,
               t.source, n=m.n, unit=unit, kind=t.kind, band=band, detail=detail,
               current=m.value, previous=p.value if p is not None else None, wording=t.wording)



#: status marks from the fonts every machine has (DejaVu, Liberation): colour emoji showed as
#: empty boxes on a machine without an emoji font
STATUS_LABELS: dict[str, str] = {
    "met": "✓ met", "within": "≈ within the interval", "missed": "✗ missed",
    "no data": "– no data",
}


def cut_text(cut: dict[str, str]) -> str:
    """Where a target or gap applies, in words: "all" for the whole, "every touchpoint" for a
    "*" cut, the stage of a stage role, else "key: value".

    >>> [cut_text(c) for c in ({}, {"touchpoint": "*"}, {"stage_role": "support"},
    ...                        {"complexity": "complex"}, {"stage": "Support"})]
    ['all', 'every touchpoint', 'the stage with the support role', 'complexity: complex', \
'stage: Support']
    """
    if not cut:
        return "all"
    parts = []
    for k, v in cut.items():
        if k == "stage_role":
            parts.append(f"the stage with the {v} role")
        elif v == "*":
            parts.append(f"every {k.replace('_', ' ')}")
        else:
            parts.append(f"{k.replace('_', ' ')}: {v}")
    return ", ".join(parts)


_SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def note_text(gap: Gap) -> str:
    """A gap's note in words: the reason for "no data" (metric names as their labels, role
    names with spaces), else the detail or the band reached, else "–".

    >>> g = Gap("inquiry_consultation_dropoff", "Drop-off", {}, None, None, None, "≤ −5%",
    ...         None, "no data", "no inquiry_consultation_dropoff value in the data", "")
    >>> note_text(g)
    'no Inquiry → consultation drop-off value in the data'
    >>> note_text(replace(g, reason="needs a support table with first_contact_resolved"))
    'needs a support table with first contact resolved'
    """
    text = gap.reason or gap.detail or (f"band reached: {gap.band}" if gap.band else "")
    if not text:
        return "–"
    return _SNAKE.sub(lambda m: label(m.group(0)), text)


def _distance_text(distance: float, unit: str) -> str:
    """Signed distance in the metric's unit; between rates (or relative changes) in points."""
    if unit in ("rate", "relative_change"):
        return f"{distance * 100:+.1f} pp".replace("-", "−")
    text = format_interval(distance, None, None, unit)
    return text if text.startswith(("−", "+")) else "+" + text


def gaps_table(gaps: list[Gap]) -> pl.DataFrame:
    """The scorecard as text a person reads: value with its 95% interval in the metric's unit
    (percentages with one decimal, NPS whole), n with separators, where it applies, the target,
    the signed distance (points between rates), the status and a note (for "no data": what is
    missing); "–" where there is nothing.

    >>> g = Gap("nps", "NPS", {}, 30.18, 26.65, 33.71, "≥ 30", 0.18, "met", None, "", n=1650,
    ...         unit="nps", band="good")
    >>> gaps_table([g]).row(0)
    ('NPS', 'all', '30 (27–34)', '1,650', '≥ 30', '+0', '✓ met', 'band reached: good')
    >>> r = Gap("csat", "CSAT", {"stage_role": "support"}, None, None, None, "≥ 85%", None,
    ...         "no data", "needs the journey's support stage role", "")
    >>> gaps_table([r]).row(0)[1:4], gaps_table([r]).row(0)[5]
    (('the stage with the support role', '–', '–'), '–')
    """
    rows = []
    for g in gaps:
        unit = "relative_change" if g.kind in RELATIVE_KINDS else g.unit
        rows.append({
            "target": g.label, "cut": cut_text(g.by),
            "value": format_interval(g.value, g.low, g.high, unit),
            "n": "–" if g.n is None else f"{g.n:,}",
            "goal": g.target,
            "distance": "–" if g.distance is None else _distance_text(g.distance, unit),
            "status": STATUS_LABELS.get(g.status, g.status),
            "note": note_text(g),
        })
    return pl.DataFrame(rows, schema=dict.fromkeys(
        ("target", "cut", "value", "n", "goal", "distance", "status", "note"), pl.String))


def apply_edits(targets: list[Target], rows: list[dict]) -> list[Target]:
    """Targets with the Benchmarks page's edits (``low``, ``high``, ``enabled`` per row of
    :func:`targets_table`, in the same order) applied and checked.

    >>> t = targets_for("4741")
    >>> rows = targets_table(t).to_dicts()
    >>> rows[0]["enabled"] = False
    >>> [x.enabled for x in apply_edits(t, rows)][:2]
    [False, True]
    """
    if len(rows) != len(targets):
        raise CJMError("The edited targets do not line up with the industry's targets; reload "
                       "the page and edit again.", code="bad-targets")
    out = []
    for i, (t, row) in enumerate(zip(targets, rows, strict=True), start=1):
        edited = replace(t, low=_number(row.get("low")), high=_number(row.get("high")),
                         enabled=bool(row.get("enabled", True)))
        _check(edited, f"target {i}")
        out.append(edited)
    return out


def _number(value: float | str | None) -> float | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    return float(value)
