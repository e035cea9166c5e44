"""The one shape every computed figure takes, so pages, the command line and benchmarks gaps all
read the same thing: a value with its n, interval, cut and a low-sample flag (DESIGN §5); and the
one catalogue that names every metric (label, unit, format, direction, definition) for the pages,
the report, the command line and README."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

#: below this n a figure is marked "low sample" (DESIGN §5)
LOW_SAMPLE_N = 30

Unit = Literal["rate", "nps", "score", "hours", "money", "count", "per_customer"]
Direction = Literal["higher", "lower"]


@dataclass(frozen=True)
class Metric:
    """One figure. Rates are fractions 0–1, NPS is −100…100, times in hours, money as uploaded.

    >>> m = Metric("csat", 0.8, n=20, low=0.58, high=0.92, by={"touchpoint": "Hotline"})
    >>> m.low_sample, m.to_dict()["by"]
    (True, {'touchpoint': 'Hotline'})
    """

    metric: str
    value: float | None
    n: int
    low: float | None = None
    high: float | None = None
    by: dict[str, str] = field(default_factory=dict)
    unit: Unit = "rate"

    @property
    def low_sample(self) -> bool:
        return self.n < LOW_SAMPLE_N

    def to_dict(self) -> dict:
        """The ``metrics --json`` entry."""
        d = asdict(self)
        d["low_sample"] = self.low_sample
        return d



_MINUS = "\u2212"


def format_value(value: float | None, unit: str) -> str:
    """A figure as the report prints it: rates and relative changes as percentages with one
    decimal, NPS with one decimal, scores with two, hours with one, money with thousands
    separators, counts as whole numbers; "—" when there is no value.

    >>> format_value(0.5515873, "rate"), format_value(30.18, "nps"), format_value(28.53, "hours")
    ('55.2%', '30.2', '28.5 h')
    >>> format_value(-0.115, "relative_change"), format_value(None, "rate")
    ('−11.5%', '—')
    """
    if value is None:
        return "—"
    text = {
        "rate": lambda v: f"{v * 100:.1f}%",
        "relative_change": lambda v: f"{v * 100:+.1f}%",
        "nps": lambda v: f"{v:.1f}",
        "score": lambda v: f"{v:.2f}",
        "hours": lambda v: f"{v:.1f} h",
        "money": lambda v: f"{v:,.2f}",
        "count": lambda v: f"{v:,.0f}",
        "per_customer": lambda v: f"{v:.2f}",
    }.get(unit, lambda v: f"{v:.4g}")(value)
    return text.replace("-", _MINUS)


def format_duration(seconds: float | None) -> str:
    """A duration in the two largest units a person reads ("2 d 23 h", "45 min", "12 s"),
    "—" when there is none.

    >>> [format_duration(s) for s in (1210158, 2700, 12, 0, 90061, 3600, None)]
    ['14 d 0 h', '45 min', '12 s', '0 s', '1 d 1 h', '1 h 0 min', '—']
    """
    if seconds is None or seconds != seconds:  # None or NaN
        return "—"
    s = round(float(seconds))
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days:,} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


# -- the catalogue -------------------------------------------------------------------------------

#: how a table column shows a figure of each unit: a printf pattern, or "percent" for a fraction
#: shown as a percentage (the formats Streamlit's NumberColumn takes)
COLUMN_FORMATS: dict[str, str] = {
    "rate": "percent", "nps": "%.1f", "score": "%.2f", "hours": "%.1f h", "money": "%.2f",
    "count": "%d", "per_customer": "%.2f",
}


@dataclass(frozen=True)
class MetricInfo:
    """What a metric is called and how it reads: ``label`` (the one spelling every page, the
    report and the command line show), ``unit`` (as in :class:`Metric`), ``fmt`` (a table
    column's format, see :data:`COLUMN_FORMATS`), ``direction`` (which way is better) and a
    one-line ``definition``.

    >>> info("fcr").label, info("fcr").fmt, info("resolution_hours_p90").direction
    ('First-contact resolution', 'percent', 'lower')
    >>> info("ces").format(2.345)
    '2.35'
    """

    name: str
    label: str
    unit: Unit
    fmt: str
    direction: Direction
    definition: str

    def format(self, value: float | None) -> str:
        """The figure as text in this metric's unit (:func:`format_value`)."""
        return format_value(value, self.unit)


def _m(name: str, label: str, unit: Unit, direction: Direction, definition: str) -> MetricInfo:
    return MetricInfo(name, label, unit, COLUMN_FORMATS[unit], direction, definition)


#: every metric :func:`cjm_core.analytics.scorecard.all_metrics` can return, in README's order
CATALOGUE: dict[str, MetricInfo] = {i.name: i for i in (
    _m("stage_conversion", "Step conversion", "rate", "higher",
       'customers reaching a step / reaching the step before (`by: {"step": "A → B"}`), '
       "Wilson interval"),
    _m("overall_conversion", "Overall conversion", "rate", "higher",
       "customers reaching the last step / reaching the first"),
    _m("cart_abandonment", "Cart abandonment", "rate", "lower",
       "1 − purchase / cart, among customers reaching the journey's cart stage"),
    _m("inquiry_consultation_dropoff", "Inquiry → consultation drop-off", "rate", "lower",
       "1 − consultation / inquiry (the journey's stage roles)"),
    _m("csat", "CSAT", "rate", "higher",
       "share of answers in the top two boxes (4–5 of 5, 6–7 of 7, 9–10 of 10), Wilson interval"),
    _m("nps", "NPS", "nps", "higher",
       "100 × (promoters 9–10 − detractors 0–6), interval ±1.96·SE"),
    _m("ces", "CES", "score", "lower",
       "mean effort score on its scale (1–5 or 1–7), lower is better, t-interval"),
    _m("fcr", "First-contact resolution", "rate", "higher",
       "cases resolved at first contact / all resolved cases"),
    _m("resolution_hours_median", "Resolution time, median", "hours", "lower",
       "median of resolved_at − opened_at over resolved cases, in hours"),
    _m("resolution_hours_mean", "Resolution time, mean", "hours", "lower",
       "mean of resolved_at − opened_at over resolved cases, in hours"),
    _m("resolution_hours_p90", "Resolution time, 90th percentile", "hours", "lower",
       "90th percentile of resolved_at − opened_at over resolved cases, in hours"),
    _m("resolved_within_24h", "Resolved within 24 h", "rate", "higher",
       "share of resolved cases resolved within 24 hours"),
    _m("resolved_within_48h", "Resolved within 48 h", "rate", "higher",
       "share of resolved cases resolved within 48 hours"),
    _m("open_cases", "Open cases", "count", "lower",
       "cases with no resolved_at (counted, not dropped)"),
    _m("repeat_purchase_rate", "Repeat purchase rate", "rate", "higher",
       "customers with ≥ 2 orders / customers with ≥ 1"),
    _m("clv", "Customer lifetime value (historic)", "money", "higher",
       "historic customer lifetime value: revenue per customer over the period"),
    _m("average_order_value", "Average order value", "money", "higher", "revenue / orders"),
    _m("purchase_frequency", "Orders per customer", "per_customer", "higher",
       "orders per customer"),
    _m("omnichannel_share", "Omnichannel customers", "rate", "higher",
       "customers who used ≥ 2 channels before their first purchase (or in the period if they "
       "did not buy) / all customers with a channel"),
    _m("omnichannel_conversion", "Omnichannel conversion", "rate", "higher",
       "purchasers among the omnichannel customers / all of them"),
    _m("online_to_store_conversion", "Online-to-store conversion", "rate", "higher",
       "customers with a web/app event who later buy in a store / all customers with a web/app "
       "event"),
)}


def info(name: str) -> MetricInfo:
    """The catalogue's entry for a metric; a name it does not know is a bug (KeyError).

    >>> info("clv").label
    'Customer lifetime value (historic)'
    """
    try:
        return CATALOGUE[name]
    except KeyError:
        msg = f"metric {name!r} is not in the catalogue (cjm_core.metric.CATALOGUE)"
        raise KeyError(msg) from None


def label(name: str) -> str:
    """A metric's label; a name outside the catalogue (say a saved target's) reads as words.

    >>> label("open_cases"), label("returns_rate")
    ('Open cases', 'returns rate')
    """
    known = CATALOGUE.get(name)
    return known.label if known else name.replace("_", " ")


def markdown_table() -> str:
    """README's metric table, written from the catalogue (a test keeps README in step).

    >>> markdown_table().splitlines()[2].split(" | ")[:4]
    ['| `stage_conversion`', 'Step conversion', 'rate', 'higher']
    """
    rows = ["| metric | label | unit | better | definition |", "|---|---|---|---|---|"]
    rows += [f"| `{i.name}` | {i.label} | {i.unit} | {i.direction} | {i.definition} |"
             for i in CATALOGUE.values()]
    return "\n".join(rows)


_DASH = "–"


def format_interval(value: float | None, low: float | None = None, high: float | None = None,
                    unit: str = "rate") -> str:
    """A figure as a table shows it, with its 95% interval when there is one: rates with one
    decimal ("0.2% (0.0–1.4%)"), NPS as a whole number, the unit written once when both ends
    are positive and " to " between ends that carry a sign; "–" when there is no value.

    >>> format_interval(0.002494, 0.0004403, 0.01399)
    '0.2% (0.0–1.4%)'
    >>> format_interval(30.18, 26.65, 33.71, "nps"), format_interval(-2.4, -9.3, 4.6, "nps")
    ('30 (27–34)', '−2 (−9 to 5)')
    >>> format_interval(-0.0713, -0.2557, 0.1587, "relative_change")
    '−7.1% (−25.6% to +15.9%)'
    >>> format_interval(28.53, None, None, "hours"), format_interval(None, 0.1, 0.2)
    ('28.5 h', '–')
    """
    def one(v: float) -> str:
        return f"{round(v):d}".replace("-", _MINUS) if unit == "nps" else format_value(v, unit)

    if value is None or value != value:
        return _DASH
    text = one(value)
    if low is None or high is None or low != low or high != high:
        return text
    lo, hi = one(low), one(high)
    if any(end.startswith(("+", _MINUS)) for end in (lo, hi)):
        return f"{text} ({lo} to {hi})"
    suffix = next((s for s in ("%", " h") if lo.endswith(s) and hi.endswith(s)), "")
    return f"{text} ({lo.removesuffix(suffix) if suffix else lo}–{hi})"
