"""Every metric a dataset supports, as one flat list, and the scorecard against the industry's
targets. The command line's ``metrics`` and the pages read the same numbers from here.

The scorecard judges levels on the last 12 months of the data shown (:func:`judged_window`),
the window of the Overview's tiles, so a manager reads one figure per metric ("20% to 30% a
year", "+10% year over year": the seeds' targets are yearly); relative targets compare those
months with the 12 before. Data without dates are judged whole."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, TypeVar

import polars as pl

from cjm_core.analytics.channels import channel_metrics
from cjm_core.analytics.comments import worst_comments
from cjm_core.analytics.friction import Friction, friction_points
from cjm_core.analytics.funnel import (
    FunnelResult,
    funnel_metrics,
    journey_funnel,
    role_dropoff,
)
from cjm_core.analytics.loyalty import loyalty_metrics
from cjm_core.analytics.periods import last_periods
from cjm_core.analytics.satisfaction import csat, satisfaction_metrics
from cjm_core.analytics.support import support_metrics
from cjm_core.industries.targets import Gap, Target, availability, evaluate, targets_for
from cjm_core.metric import Metric
from cjm_core.model.dataset import DATE_COLUMN, Dataset
from cjm_core.model.journey import Journey
from cjm_core.parallel import pmap

T = TypeVar("T")

#: role-based funnel figures the seeds set targets on: name -> (from stage role, to stage role)
ROLE_STEPS = {
    "cart_abandonment": ("cart", "purchase"),
    "inquiry_consultation_dropoff": ("inquiry", "consultation"),
}


#: which family of figures each metric comes from (so a caller can ask for only some)
FAMILIES = {
    "satisfaction": {"csat", "nps", "ces"},
    "support": {"fcr", "resolution_hours_median", "resolution_hours_mean",
                "resolution_hours_p90", "resolved_within_24h", "resolved_within_48h",
                "open_cases"},
    "loyalty": {"repeat_purchase_rate", "clv", "average_order_value", "purchase_frequency"},
    "journey": {"stage_conversion", "overall_conversion", "cart_abandonment",
                "inquiry_consultation_dropoff", "omnichannel_share", "omnichannel_conversion",
                "online_to_store_conversion"},
}


class _Shared:
    """Results computed once per identity of their inputs, for the figures the Overview's
    passes have in common (the judged window, its journey funnel): the scorecard, the friction
    points, the tiles and the compact funnel run side by side (``ui.prefetch``) and each used to
    compute them again. A caller asking while another computes the same waits for it.

    Inputs are held weakly (frames are never changed in place, so the same object means the
    same rows); an entry goes when one of them is collected, or when ``size`` newer entries came.
    Results are shared objects: callers only read them."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple, _Entry] = OrderedDict()
        self._gone: list[tuple] = []  # keys whose input was collected while the lock was held

    def get(self, inputs: tuple, extra: tuple, compute: Callable[[], T]) -> T:
        key = (tuple(id(x) for x in inputs), extra)
        with self._lock:
            while self._gone:
                self._entries.pop(self._gone.pop(), None)
            entry = self._entries.get(key)
            if entry is not None and entry.holds(inputs):
                self._entries.move_to_end(key)
                mine = False
            else:
                entry = self._entries[key] = _Entry(inputs, lambda _: self._collected(key))
                while len(self._entries) > self._size:
                    self._entries.popitem(last=False)
                mine = True
        if not mine:
            entry.done.wait()
            return entry.value if entry.ok else compute()  # its error is the computer's
        try:
            entry.value = compute()
            entry.ok = True
        except BaseException:
            self._drop(key, entry)
            raise
        finally:
            entry.done.set()
        return entry.value

    def _collected(self, key: tuple) -> None:
        """An input of the entry was collected: drop it now, or at the next call when the lock
        is taken (a collection can happen in this very thread while it holds it)."""
        if self._lock.acquire(blocking=False):
            try:
                self._entries.pop(key, None)
            finally:
                self._lock.release()
        else:
            self._gone.append(key)

    def _drop(self, key: tuple, entry: _Entry) -> None:
        with self._lock:
            if self._entries.get(key) is entry:
                self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class _Entry:
    def __init__(self, inputs: tuple, gone: Callable[[Any], None]) -> None:
        self.refs = tuple(None if x is None else weakref.ref(x, gone) for x in inputs)
        self.done = threading.Event()
        self.ok = False
        self.value: Any = None

    def holds(self, inputs: tuple) -> bool:
        return all((r is None and x is None) or (r is not None and r() is x)
                   for r, x in zip(self.refs, inputs, strict=True))


_FUNNELS = _Shared(size=16)
#: the periods hold frames (the window's rows): only the last dataset's are kept, for the page
#: view that asks for them several times
_PERIODS = _Shared(size=1)


def shared_journey_funnel(journey: Journey, events: pl.DataFrame | None = None,
                          funnel_counts: pl.DataFrame | None = None) -> FunnelResult | None:
    """:func:`cjm_core.analytics.funnel.journey_funnel`, computed once for the same journey and
    frames (the same objects) and shared: the scorecard's metrics, the friction points, the
    tiles and the Overview's funnel all count the judged window's funnel. The result is only
    read, never changed.

    >>> from datetime import datetime
    >>> from cjm_core.model.journey import journey_from_rows
    >>> j = journey_from_rows("4742", ["Look", "Buy"], {})
    >>> ev = pl.DataFrame({"customer_id": ["a", "a", "b"], "stage": ["Look", "Buy", "Look"],
    ...                    "timestamp": [datetime(2025, 1, 1)] * 3})
    >>> shared_journey_funnel(j, ev) is shared_journey_funnel(j, ev)
    True
    """
    return _FUNNELS.get((journey, events, funnel_counts), (),
                        lambda: journey_funnel(journey, events, funnel_counts))


def all_metrics(data: Dataset, only: set[str] | None = None) -> list[Metric]:
    """Every metric the dataset's tables support, overall and per touchpoint, stage and channel
    where the data have them (DESIGN §5). Tables that are missing simply add nothing.

    >>> import polars as pl
    >>> from cjm_core.model.journey import default_journey
    >>> fb = pl.DataFrame({"csat": [5, 4, 2], "touchpoint": ["Web", "Web", "Hotline"]})
    >>> ms = all_metrics(Dataset(default_journey("4742"), feedback=fb))
    >>> [(m.by.get("touchpoint", "all"), round(m.value, 2)) for m in ms if m.metric == "csat"]
    [('all', 0.67), ('Hotline', 0.0), ('Web', 1.0)]
    """
    def wanted(family: str) -> bool:
        return only is None or bool(FAMILIES[family] & only)

    out: list[Metric] = []
    if wanted("satisfaction") and (data.feedback is not None or data.support is not None):
        out += satisfaction_metrics(data.feedback, data.support)
    if wanted("support") and data.has("support", "opened_at"):
        out += support_metrics(data.table("support"))
    if wanted("loyalty") and data.has("orders", "customer_id", "order_date", "amount"):
        out += loyalty_metrics(data.table("orders"))
        if data.has("orders", "channel"):
            out += loyalty_metrics(data.table("orders"), by=["channel"])
    if wanted("journey") and data.has("events", "customer_id", "timestamp", "stage"):
        out += _event_metrics(data)
    elif wanted("journey") and data.has("funnel_counts", "stage", "customers"):
        counted = journey_funnel(data.journey, funnel_counts=data.table("funnel_counts"))
        if counted is not None:  # never None here: the table has stage and customers
            out += funnel_metrics(counted)
    return out if only is None else [m for m in out if m.metric in only]


def _event_metrics(data: Dataset) -> list[Metric]:
    events, journey = data.table("events"), data.journey
    # the same as journey_funnel(journey, events): the events have the funnel's columns
    result = shared_journey_funnel(journey, events, data.funnel_counts)
    # never None here: the caller checked the events have customer_id, timestamp and stage
    out = funnel_metrics(result) if result is not None else []
    # a role no data stage plays is "no data", never a 100% drop-off or a 0% conversion
    journey = journey.keeping_roles(data.roles_played)
    for a, b in ROLE_STEPS.values():
        m = role_dropoff(events, journey, a, b)
        if m.n:
            out.append(m)
    if data.has("events", "channel"):
        omni, o2s = channel_metrics(events, journey, data.orders)  # one pass for both
        out += omni
        if o2s.n:
            out.append(o2s)
    return out


def judged_window(data: Dataset, months: int = 12) -> tuple[Dataset, dict]:
    """What levels are judged on: the last ``months`` months of the tables with dates, and the
    tables without dates whole (none of their rows can be placed in or out of the window), with
    :func:`cjm_core.analytics.periods.last_periods`' bounds; ``data`` itself and ``{}`` when no
    table has dates.

    >>> from datetime import datetime
    >>> from cjm_core.model.journey import default_journey
    >>> ev = pl.DataFrame({"customer_id": ["a", "b"], "stage": ["x", "x"],
    ...                    "timestamp": [datetime(2023, 6, 1), datetime(2024, 12, 31)]})
    >>> fb = pl.DataFrame({"touchpoint": ["Web"], "csat": [5]})
    >>> window, bounds = judged_window(Dataset(default_journey("4742"), events=ev, feedback=fb))
    >>> window.events["customer_id"].to_list(), window.feedback.height, bounds["undated"]
    (['b'], 1, ['feedback'])
    >>> judged_window(Dataset(default_journey("4742"), feedback=fb))[1]
    {}
    """
    window, _, _, bounds = _periods(data, months)
    return window, bounds


def _periods(data: Dataset, months: int = 12
             ) -> tuple[Dataset, Dataset | None, Dataset | None, dict]:
    """The judged window, the last ``months`` months and the ones before (dated tables only),
    and their bounds; (data, None, None, {}) without dates. Cut once per dataset (the same
    object) and months, and shared (see :func:`shared_periods`)."""
    return _PERIODS.get((data,), (months,), lambda: _cut_periods(data, months))


def shared_periods(data: Dataset, months: int = 12
                   ) -> tuple[Dataset, Dataset | None, Dataset | None, dict]:
    """The judged window, the last ``months`` months, the ones before and their bounds, as
    :func:`judged_window` and :func:`cjm_core.analytics.periods.last_periods` give them, cut
    once for the same dataset object and shared, so that the funnels over them are shared too
    (:func:`shared_journey_funnel`); (data, None, None, {}) without dates. Only the last
    dataset's periods are kept (their frames cost memory)."""
    return _periods(data, months)


def _cut_periods(data: Dataset, months: int
                 ) -> tuple[Dataset, Dataset | None, Dataset | None, dict]:
    if not any(_dated(name, frame) for name, frame in data.tables().items()):
        return data, None, None, {}
    recent, before, bounds = last_periods(data, months)
    undated: dict[str, Any] = {t: data.tables()[t] for t in bounds["undated"]}
    return replace(recent, **undated), recent, before, bounds


@dataclass(frozen=True)
class Scorecard:
    """The gaps to the industry's targets; ``current``: the metrics levels were judged on (those
    of :func:`judged_window`); ``recent`` and ``previous``: the last 12 months and the 12 before
    (the dated tables only), which relative targets compare; ``periods``: their bounds ({}
    without dates)."""

    gaps: list[Gap]
    current: list[Metric]
    recent: list[Metric]
    previous: list[Metric]
    periods: dict


def scorecard(data: Dataset, targets: list[Target] | None = None) -> Scorecard:
    """Gaps to the targets: levels judged on the last 12 months of the (filtered) data, or all
    of it without dates (:func:`judged_window`); relative targets on the last 12 months against
    the 12 before (DESIGN §5 "Period over period")."""
    return overview(data, targets, friction=False, every_period_metric=True)[0]


def overview(data: Dataset, targets: list[Target] | None = None, *, friction: bool = True,
             every_period_metric: bool = False) -> tuple[Scorecard, list[Friction]]:
    """The Overview's two answers, the scorecard and the top 3 friction points, computed side by
    side: the passes are independent and polars releases the GIL, so threads use both cores.
    Both are over :func:`judged_window` (the Overview's tiles' months).

    The 12 months before are only measured for the metrics of relative targets, unless
    ``every_period_metric`` (the report's period-over-period table wants them all)."""
    targets = targets if targets is not None else targets_for(data.journey.isic)
    window, recent_data, before_data, periods = _periods(data)
    # the period before is only needed for the metrics of relative targets
    relative = None if every_period_metric else {t.metric for t in targets if t.relative}

    def measured(period: Dataset) -> list[Metric]:
        return [] if relative == set() else all_metrics(period, relative)

    # the largest pass first, so that the others share the second thread meanwhile
    passes: list[Callable[[], Any]] = [
        partial(all_metrics, window), partial(top_friction, window, targets) if friction
        else list]
    if before_data is not None and recent_data is not None:
        passes.append(partial(measured, before_data))
        if periods["undated"]:  # the window holds undated tables whole: not for comparing
            passes.append(partial(measured, recent_data))
    current, top, *compared = pmap(lambda run: run(), passes)
    # nothing dated: relative targets have no periods to compare
    previous = compared[0] if periods else []
    recent = compared[1] if len(compared) > 1 else current
    gaps = evaluate(targets, current, previous, available=availability(data),
                    journey=data.journey, recent=recent)
    return Scorecard(gaps, current, recent, previous, periods), top


def top_friction(data: Dataset, targets: list[Target] | None = None, top: int = 3
                 ) -> list[Friction]:
    """The top friction points (DESIGN §5 "Friction priority"): funnel steps over the journey's
    stages and touchpoints by CSAT, with counts, scores and the worst comments as evidence."""
    result = shared_journey_funnel(data.journey, data.events, data.funnel_counts)
    table = result.table if result is not None else pl.DataFrame()
    by_touchpoint = (csat(data.table("feedback"), by=["touchpoint"])
                     if data.has("feedback", "csat", "touchpoint") else [])
    feedback = data.feedback
    comments = None
    if data.has("feedback", "comment", "touchpoint"):
        commented = data.table("feedback")

        def comments(touchpoint: str) -> list[str]:
            return worst_comments(commented, touchpoint, k=3)
    targets = targets if targets is not None else targets_for(data.journey.isic)
    if table.height == 0 and not by_touchpoint:
        return []
    return friction_points(table, by_touchpoint, feedback, targets, top,
                           worst_comments=comments)


def _dated(name: str, frame: pl.DataFrame) -> bool:
    col = DATE_COLUMN.get(name)
    return col in frame.columns and frame[col].null_count() < frame.height
