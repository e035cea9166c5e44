"""Fill the swimlane journey map (DESIGN §7) from a workspace's data and the industry's template.

Why: the map must show, side by side, what the data say (measured, with n) and what the team
believes (assumed, written in the workshop), and a rebuild on new data must never lose an edit.

Measured lanes (``source="measured"``), per stage of the journey:

- touchpoints / channels: the top three values among the stage's events; an item's ``value`` is
  its share of the stage's events (all rows at the stage), ``n`` the events there; the cell's
  ``n`` is the stage's events.
- customer actions: the top three ``event`` values the same way, when events have an ``event``
  column (otherwise the template's assumed text).
- KPIs: customers reached (`stage_customers`: the journey funnel's reached_k of
  `cjm_core.analytics.funnel`, DESIGN §5; the one customer count a stage shows: the KPI and the
  lane's
  "n=" caption both read it), drop-off to the next stage (``n`` = customers who reached this
  stage, interval = Wilson of the step), and CSAT / NPS / CES of the feedback at the stage
  with a status (met / within / missed, judged like the scorecard by
  `cjm_core.industries.targets.evaluate`) against the industry's level target for that score (CSAT:
  the
  workspace's CSAT level target, else 0.85).
- emotion (measured): the stage's CSAT (top-two-box share, DESIGN §5) mapped linearly onto
  −2…+2: share 0 → −2, share 1 → +2, i.e. ``4·share − 2`` (= 2 × (satisfied − not satisfied));
  the Wilson interval is mapped the same way, ``n`` is the answers. The CSAT target 0.85 sits
  at +1.4 on this scale (`emotion_of`).
- pain points: the worst funnel steps (drop-off above the median of the other steps, ranked by
  customers lost × that gap as in `cjm_core.analytics.friction`, at most two, placed at the stage
  where
  customers were lost), touchpoints whose CSAT at the stage is below the target, and the stage's
  worst comments (`cjm_core.analytics.comments.worst_comments`) as evidence. Steps and touchpoints
  carry a
  suggested challenge code from ``CODE_RULES``.

Assumed lanes (``source="assumed"``) come from ``TEMPLATES``: per industry (ISIC 4773, 4741, 4742)
and stage of its default journey, customer actions, thoughts, backstage / owning team, an assumed
emotion and opportunities from the seed's prioritised actions with a challenge code and an owner.

``build_map(..., previous=m)`` keeps everything assumed in ``m`` (cells' assumed text and items,
assumed emotions, lane titles/order/hidden, stage names/order/hidden, the title) and refreshes
only measured content. A cell's ``source`` describes its text; every item carries its own.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import polars as pl

from cjm_core.analytics.channels import channel_kind
from cjm_core.analytics.comments import polarity, worst_comments
from cjm_core.analytics.friction import csat_target_from, step_candidates
from cjm_core.analytics.funnel import journey_funnel
from cjm_core.analytics.satisfaction import ces, csat, nps
from cjm_core.analytics.stats import wilson
from cjm_core.errors import QueryError
from cjm_core.industries.journeys import INDUSTRIES
from cjm_core.industries.map_templates import TEMPLATES
from cjm_core.industries.targets import Target, evaluate, targets_for
from cjm_core.journey_map.model import (
    KPI_REACHED,
    KPI_VISITED,
    LANES,
    Cell,
    Emotion,
    Item,
    JourneyMap,
    Lane,
    MapStage,
    Source,
)
from cjm_core.metric import Metric
from cjm_core.model.dataset import Dataset
from cjm_core.model.journey import Journey, _key, default_journey
from cjm_core.present.findings import label as finding

__all__ = [
    "CODE_RULES",
    "KPI_CES",
    "KPI_CSAT",
    "KPI_DROPOFF",
    "KPI_NPS",
    "KPI_REACHED",
    "KPI_VISITED",
    "OWNERS",
    "TEMPLATES",
    "build_map",
    "compare_maps",
    "emotion_of",
    "first_channel",
    "stage_customers",
    "template_map",
    "with_first_channel",
]

#: teams an opportunity can belong to (the seeds' workshop functions plus IT)
OWNERS = ("marketing", "sales", "service", "e-commerce", "IT")
#: chips per stage in the touchpoint, channel and action lanes
TOP = 3
#: funnel steps named as pain points at most, and worst comments per stage
MAX_STEPS, MAX_COMMENTS = 2, 2
#: touchpoints below the CSAT target named per stage at most (clear misses first)
MAX_TOUCHPOINTS = 3

#: KPI item texts (stable: `compare_maps` and the chart find figures by them; KPI_REACHED and the
#: retired KPI_VISITED live in `cjm_core.journey_map.model`, which reads saved maps)
KPI_DROPOFF = "Drop-off to next stage"
KPI_CSAT, KPI_NPS, KPI_CES = "CSAT", "NPS", "CES"


def emotion_of(csat_share: float | None) -> float | None:
    """A CSAT top-two-box share (0…1) on the emotion scale: 0 → −2, 0.5 → 0, 1 → +2.

    >>> emotion_of(0.0), emotion_of(0.75), emotion_of(1.0), emotion_of(None)
    (-2.0, 1.0, 2.0, None)
    """
    return None if csat_share is None else 4.0 * csat_share - 2.0


# ----------------------------------------------------------------------------- templates


def _template_stage(isic: str, stage: str) -> dict[str, Any]:
    return TEMPLATES.get(isic, {}).get(stage, {})


def _fill_template(m: JourneyMap, isic: str) -> None:
    for st in m.stages:
        t = _template_stage(isic, st.key)
        if not t:
            continue
        for lane in ("actions", "thoughts", "backstage"):
            m.cell(lane, st.key).text = t[lane]
        m.cell("opportunities", st.key).items = [
            Item(o["text"], "assumed", code=o["code"], owner=o["owner"])
            for o in t["opportunities"]]
        m.emotion(st.key).assumed = float(t["emotion"])


def template_map(isic: str) -> JourneyMap:
    """The industry's default map: its default journey with only assumed content.

    >>> m = template_map("4742")
    >>> m.cell("opportunities", "delivery_installation").items[0].code
    'DT08'
    >>> m.emotion("in_store_demo").assumed, m.emotion("in_store_demo").measured
    (1.5, None)
    """
    if isic not in INDUSTRIES:
        raise QueryError(f"No map template for ISIC {isic!r}; known: {', '.join(INDUSTRIES)}.")
    j = default_journey(isic)
    m = JourneyMap(f"{INDUSTRIES[isic]} (template)", isic,
                   [MapStage(s.key, s.name) for s in j.stages])
    _fill_template(m, isic)
    return m


# ----------------------------------------------------------------------------- challenge codes

#: (kind, pattern, code): the first rule of the kind whose pattern is in the lower-cased name
#: wins. "tp" rules read a touchpoint's name, "step" rules a funnel step's "A → B". Why: guides
#: and help pages are information gaps (DT01); stock and reservation mismatches are the seeds'
#: omnichannel friction (MD06); hotlines, chat, e-mail and scheduling mean repeat contacts
#: across siloed systems (DT08); desks, advisors, counters and installers are staffing and
#: knowledge (CS08); web and app pages are friction in the sales process (DT07). Steps into a
#: cart or a purchase are missed sales (MD04); a step between stages whose customers mostly use
#: different channel kinds (online vs store) is MD06; a lost inquiry, visit or consultation is
#: staffing (CS08); any other step DT07.
CODE_RULES: tuple[tuple[str, str, str], ...] = (
    ("tp", r"guide|help ?cent|faq|how-?to|tips", "DT01"),
    ("tp", r"stock|availab|reserv|pick ?up|click", "MD06"),
    ("tp", r"hotline|phone|call|e-?mail|chat|scheduling|activation", "DT08"),
    ("tp", r"desk|advis|specialist|counter|staff|consult|install|service|demo|repair|setup|"
           r"\bstores?\b|floor|basket|listening|trial|workshop", "CS08"),
    ("tp", r"\bweb|\bapp\b|online|page|configurator|cart|checkout", "DT07"),
    ("step", r"→ .*(cart|basket|checkout|purchase|order)|^(cart|basket|checkout)", "MD04"),
    ("cross", "", "MD06"),
    ("step", r"inquiry|visit|consult|advice|advis|demo", "CS08"),
)


def suggest_code(kind: str, name: str, *, cross_channel: bool = False) -> str:
    """A challenge code for a pain point (see ``CODE_RULES``): ``kind`` "tp" with a touchpoint's
    name or "step" with a funnel step "A → B"; ``cross_channel`` says the step's two stages are
    mostly used through different channel kinds.

    >>> suggest_code("tp", "Installation hotline"), suggest_code("tp", "Setup service desk")
    ('DT08', 'CS08')
    >>> suggest_code("step", "In-store demo → Purchase")
    'MD04'
    >>> suggest_code("step", "Online research → Store inquiry", cross_channel=True)
    'MD06'
    """
    text = name.lower()
    for k, pattern, code in CODE_RULES:
        if k == "cross" and kind == "step" and cross_channel:
            return code
        if k == kind and re.search(pattern, text):
            return code
    return "DT07" if kind == "step" else "CS01"


# ----------------------------------------------------------------------------- data helpers


def _stage_keys(journey: Journey, values: list[str]) -> dict[str, str]:
    """Stage value in the data -> journey stage key (matched by name, key or normalised name)."""
    known = {s.name: s.key for s in journey.stages} | {s.key: s.key for s in journey.stages}
    out = {}
    for v in values:
        k = known.get(v) or known.get(_key(v))
        if k is not None:
            out[v] = k
    return out


def _with_stage_key(frame: pl.DataFrame | None, journey: Journey) -> pl.DataFrame | None:
    """Rows whose stage belongs to the journey, with its key in ``__stage``."""
    if frame is None or "stage" not in frame.columns or frame.height == 0:
        return None
    col = pl.col("stage").cast(pl.String)
    values = frame.select(col.drop_nulls().unique()).to_series().to_list()
    mapping = _stage_keys(journey, values)
    if not mapping:
        return None
    return (frame.with_columns(col.replace_strict(mapping, default=None, return_dtype=pl.String)
                               .alias("__stage"))
            .filter(pl.col("__stage").is_not_null()))


def _top_items(events: pl.DataFrame, column: str) -> tuple[dict[str, list[Item]], dict[str, int]]:
    """Top values of ``column`` per stage as items (share of the stage's events) and the
    stage's event counts."""
    totals = events.group_by("__stage").agg(pl.len().alias("total"))
    counts = (events.filter(pl.col(column).is_not_null())
              .group_by("__stage", pl.col(column).cast(pl.String).alias("value"))
              .agg(pl.len().alias("count"))
              .join(totals, on="__stage")
              .sort(["__stage", "count", "value"], descending=[False, True, False])
              .with_columns(pl.int_range(pl.len()).over("__stage").alias("rank"))
              .filter(pl.col("rank") < TOP))
    items: dict[str, list[Item]] = {}
    for r in counts.iter_rows(named=True):
        items.setdefault(r["__stage"], []).append(
            Item(r["value"], "measured", value=r["count"] / r["total"], n=r["count"],
                 unit="share"))
    return items, dict(totals.iter_rows())


def _dominant_kind(events: pl.DataFrame) -> dict[str, str]:
    """Stage key -> "online" or "store": the channel kind of most of the stage's events."""
    if "channel" not in events.columns:
        return {}
    kinds = (events.select("__stage", channel_kind(pl.col("channel")).alias("kind"))
             .drop_nulls("kind").group_by("__stage", "kind").agg(pl.len().alias("n"))
             .sort(["__stage", "n", "kind"], descending=[False, True, False]))
    return dict(kinds.group_by("__stage", maintain_order=True).agg(pl.col("kind").first())
                .iter_rows())


def _funnel_table(data: Dataset) -> pl.DataFrame | None:
    """The journey funnel table (:func:`journey_funnel`), one row per journey stage in its
    order: a stage no event (or count) has is a null row, "no data" (None when the data
    cannot give a funnel)."""
    try:
        result = journey_funnel(data.journey, data.events, data.funnel_counts)
    except QueryError:
        return None
    if result is None:
        return None
    names = [s.name for s in data.journey.stages]
    grid = pl.DataFrame({"step": names, "step_index": range(1, len(names) + 1)},
                        schema={"step": pl.String, "step_index": pl.Int64})
    return (grid.join(result.table.drop("step_index"), on="step", how="left")
            .sort("step_index"))


def _reached(table: pl.DataFrame | None, keys: list[str]) -> dict[str, int]:
    """Stage key -> reached, the funnel table's steps taken in the journey's order."""
    if table is None or table.height == 0:
        return {}
    rows = table.sort("step_index").get_column("reached").to_list()
    return {k: int(r) for k, r in zip(keys, rows, strict=False) if r is not None}


def stage_customers(data: Dataset) -> dict[str, int]:
    """Customers per stage as the map shows them (KPI "Customers reached" and the KPI cell's
    "n=" caption): the journey funnel's reached_k (DESIGN §5: a customer reaches a stage by
    following the journey's steps in order from a step-1 event), so that drop-off, the Funnel
    page and the map tell the same story. From events, else from ``funnel_counts``; stage key ->
    count, empty when the data give no funnel.

    >>> from datetime import datetime
    >>> from cjm_core.model.journey import journey_from_rows
    >>> j = journey_from_rows("4742", ["Browse", "Buy"], {"purchase": "Buy"})
    >>> ev = pl.DataFrame({"customer_id": ["a", "a", "b", "c"], "stage": ["Browse", "Buy",
    ...     "Browse", "Buy"], "timestamp": [datetime(2025, 1, d) for d in (1, 2, 1, 1)]})
    >>> stage_customers(Dataset(j, events=ev))  # c bought without browsing: not reached
    {'browse': 2, 'buy': 1}
    """
    return _reached(_funnel_table(data), [s.key for s in data.journey.stages])


# ----------------------------------------------------------------------------- scores


def _scores(fb: pl.DataFrame, keys: list[str]) -> dict[str, list[Metric]]:
    """CSAT, NPS and CES per ``keys`` group, by `cjm_core.analytics.satisfaction`'s definitions
    (scores
    the feedback lacks, or has no answer for, are left out)."""
    out = {}
    for name, fn in (("csat", csat), ("nps", nps), ("ces", ces)):
        if name in fb.columns and fb[name].null_count() < fb.height:
            out[name] = [m for m in fn(fb, by=keys) if m.value is not None]
    return out


def _level_target(targets: list[Target], metric: str, isic: str) -> Target | None:
    """The level target a stage figure is judged against (cut dropped: a stage map shows the
    industry's level at every stage); CSAT falls back to `csat_target_from` (0.85)."""
    if metric == "csat":
        return Target(isic, "csat", "CSAT", "level_min", low=csat_target_from(targets))
    for t in targets:
        if t.metric == metric and t.enabled and not t.relative:
            return replace(t, cut={})
    return None


def _status(target: Target | None, m: Metric) -> str | None:
    """met / within / missed of a stage figure, judged like the scorecard."""
    if target is None:
        return None
    return evaluate([target], [replace(m, by={})])[0].status


# ----------------------------------------------------------------------------- the build


class _Build:
    """The measured content of one map, computed once from the data."""

    def __init__(self, data: Dataset, targets: list[Target]) -> None:
        self.data, self.journey = data, data.journey
        self.targets = targets
        self.keys = [s.key for s in self.journey.stages]
        self.names = {s.key: s.name for s in self.journey.stages}
        self.events = _with_stage_key(data.events, self.journey)
        self.feedback = _with_stage_key(data.feedback, self.journey)
        self.csat_target = csat_target_from(targets)
        self.funnel = _funnel_table(data)

    def fill(self, m: JourneyMap) -> None:
        ev = self.events
        if ev is not None and ev.height:
            for lane, col in (("touchpoints", "touchpoint"), ("channels", "channel"),
                              ("actions", "event")):
                if col in ev.columns and ev[col].null_count() < ev.height:
                    items, totals = _top_items(ev, col)
                    for k, its in items.items():
                        m.cells.setdefault(lane, {})[k] = Cell("", "measured", its, totals[k],
                                                               "events")
        self._kpis_and_emotion(m)
        self._pain_points(m)

    # -- KPIs and emotion

    def _funnel_items(self, reached: dict[str, int]) -> dict[str, list[Item]]:
        """Customers reached and drop-off to the next stage, per stage key."""
        out: dict[str, list[Item]] = {}
        if self.funnel is None or self.funnel.height == 0:
            return out
        rows = self.funnel.sort("step_index").to_dicts()
        for i, (k, row) in enumerate(zip(self.keys, rows, strict=False)):
            if k not in reached:
                continue
            out[k] = [Item(KPI_REACHED, "measured", value=float(reached[k]), n=reached[k],
                           unit="count")]
            if i + 1 < len(rows) and rows[i + 1]["dropoff"] is not None:
                nxt = rows[i + 1]
                lo, hi = wilson(nxt["lost"], row["reached"])
                out[k].append(Item(KPI_DROPOFF, "measured", value=nxt["dropoff"],
                                   n=reached[k], low=lo, high=hi, unit="rate"))
        return out

    def _kpis_and_emotion(self, m: JourneyMap) -> None:
        reached = _reached(self.funnel, self.keys)
        items = self._funnel_items(reached)
        fb = self.feedback
        scores = _scores(fb, ["__stage"]) if fb is not None else {}
        labels = {"csat": KPI_CSAT, "nps": KPI_NPS, "ces": KPI_CES}
        for metric, ms in scores.items():
            target = _level_target(self.targets, metric, self.journey.isic)
            for r in ms:
                k = r.by["__stage"]
                items.setdefault(k, []).append(
                    Item(labels[metric], "measured", value=r.value, n=r.n, low=r.low,
                         high=r.high, status=_status(target, r), unit=r.unit))
                if metric == "csat":
                    e = m.emotion(k)
                    e.measured, e.n = emotion_of(r.value), r.n
                    e.low, e.high = emotion_of(r.low), emotion_of(r.high)
        for k, its in items.items():
            # the caption's n is the stage's customers, the very number of the reached KPI
            m.cells.setdefault("kpis", {})[k] = Cell("", "measured", its, reached.get(k),
                                                     "customers" if k in reached else None)

    # -- pain points

    def _step_pains(self) -> dict[str, list[Item]]:
        """The worst funnel steps by the Overview's own rule (:func:`step_candidates`: customers
        lost × the drop-off above the other steps' median), at most :data:`MAX_STEPS`, placed at
        the stage the customers were lost from. Stages without data are not steps."""
        if self.funnel is None:
            return {}
        present = self.funnel.filter(pl.col("reached").is_not_null())
        steps = sorted((f for f in step_candidates(present) if f.raw_impact > 0),
                       key=lambda f: -f.raw_impact)  # stable: earlier steps first on ties
        key_of = {s.name: s.key for s in self.journey.stages}
        kinds = _dominant_kind(self.events) if self.events is not None else {}
        out: dict[str, list[Item]] = {}
        for f in steps[:MAX_STEPS]:
            e = f.evidence
            a, b = key_of[e["from_step"]], key_of[e["to_step"]]
            cross = (a in kinds and b in kinds and kinds[a] != kinds[b])
            out.setdefault(a, []).append(Item(
                finding("step_dropoff", step=f.name, lost=e["lost"], n=e["n"]),  # + the rate
                "measured", value=e["dropoff"], n=int(e["n"]), low=e["dropoff_low"],
                high=e["dropoff_high"], code=suggest_code("step", f.name, cross_channel=cross),
                unit="rate"))
        return out

    def _touchpoint_pains(self, out: dict[str, list[Item]]) -> None:
        fb = self.feedback
        if fb is None or "touchpoint" not in fb.columns or "csat" not in fb.columns:
            return
        ms = _scores(fb.filter(pl.col("touchpoint").is_not_null()).select(
            "__stage", "touchpoint", "csat"), ["__stage", "touchpoint"]).get("csat", [])
        target = _level_target(self.targets, "csat", self.journey.isic)
        below = sorted((m for m in ms if m.value is not None and m.value < self.csat_target),
                       key=lambda m: (m.by["__stage"], m.high is None or
                                      m.high >= self.csat_target, m.value, m.by["touchpoint"]))
        per_stage: dict[str, int] = {}
        for r in below:
            if r.value is None:  # cannot be: _scores keeps measured values only
                continue
            k, tp = r.by["__stage"], r.by["touchpoint"]
            per_stage[k] = per_stage.get(k, 0) + 1
            if per_stage[k] > MAX_TOUCHPOINTS:
                continue
            out.setdefault(k, []).append(Item(
                finding("touchpoint_csat", touchpoint=tp, target=self.csat_target),  # + CSAT
                "measured", value=r.value, n=r.n,
                low=r.low, high=r.high, status=_status(target, r), code=suggest_code("tp", tp),
                unit="rate"))

    def _comment_pains(self, out: dict[str, list[Item]]) -> None:
        fb = self.feedback
        if fb is None or "comment" not in fb.columns:
            return
        with_text = fb.filter(pl.col("comment").is_not_null())
        for k in self.keys:
            part = with_text.filter(pl.col("__stage") == k)
            if part.height == 0:
                continue
            for c in worst_comments(part, None, k=MAX_COMMENTS):
                out.setdefault(k, []).append(
                    Item(finding("worst_comment", comment=c, where=self.names[k]), "measured",
                         value=polarity(c), n=part.height,
                         unit="sentiment"))

    def _pain_points(self, m: JourneyMap) -> None:
        out = self._step_pains()
        self._touchpoint_pains(out)
        self._comment_pains(out)
        for k, its in out.items():
            m.cells.setdefault("pain_points", {})[k] = Cell("", "measured", its)


def _segment_data(data: Dataset, column: str, value: str) -> Dataset:
    """The customers whose events carry ``value`` in ``column``: all their events; rows of
    other tables with that value in the column, or else of those customers; a table with
    neither the column nor customer_id is emptied (its rows cannot be told apart, and the whole
    population's figures must not pass for the segment's). ``first_channel`` is derived
    (`with_first_channel`) when the events lack it."""
    if column == "first_channel" and data.has("events", "customer_id", "timestamp", "channel") \
            and "first_channel" not in data.table("events").columns:
        data = with_first_channel(data)
    if data.events is None or column not in data.events.columns:
        raise QueryError(f"Cannot build a map for {column} = {value!r}: the events have no "
                         f"{column} column.")
    customers = (data.events.filter(pl.col(column).cast(pl.String) == value)
                 .get_column("customer_id").unique().implode())
    out: dict[str, Any] = {}  # table name -> frame, for dataclasses.replace
    for name, frame in data.tables().items():
        if name != "events" and column in frame.columns:
            out[name] = frame.filter(pl.col(column).cast(pl.String) == value)
        elif "customer_id" in frame.columns:
            out[name] = frame.filter(pl.col("customer_id").is_in(customers))
        else:
            out[name] = frame.clear()
    return replace(data, **out)


def build_map(
    data: Dataset,
    *,
    targets: list[Target] | None = None,
    title: str | None = None,
    segment: tuple[str, str] | None = None,
    previous: JourneyMap | None = None,
) -> JourneyMap:
    """The journey map of a dataset: measured lanes from the data, assumed lanes from the
    industry template or, when ``previous`` is given, from that (edited) map.

    ``segment=(column, value)`` maps only the customers whose events carry that value (e.g.
    ``("segment", "researcher")``, or ``("first_channel", "online")`` / ``"store"``: the column
    is derived by `with_first_channel` when the events lack it).
    ``targets`` default to the industry's (`cjm_core.industries.targets.targets_for`).

    >>> from cjm_core.demo.sample import generate
    >>> data = Dataset(default_journey("4742"), **generate("4742", customers=300))
    >>> m = build_map(data)
    >>> m.cell("touchpoints", "discovery").source, m.cell("thoughts", "discovery").source
    ('measured', 'assumed')
    >>> m.data_digest == data.digest()
    True
    """
    journey = data.journey
    seg_text = None
    if segment is not None:
        column, value = segment
        data = _segment_data(data, column, str(value))
        seg_text = f"{column}: {value}"
    targets = targets if targets is not None else targets_for(journey.isic)
    fresh = JourneyMap(title or f"{INDUSTRIES.get(journey.isic, journey.isic)} journey",
                       journey.isic, [MapStage(s.key, s.name) for s in journey.stages])
    _fill_template(fresh, journey.isic)
    _Build(data, targets).fill(fresh)
    fresh.segment = seg_text
    fresh.data_digest = data.digest()
    fresh.built_at = datetime.now(UTC).isoformat(timespec="seconds")
    if previous is not None:
        fresh = _merge(previous, fresh, title)
    return fresh


# ----------------------------------------------------------------------------- rebuild


def _merge_cell(old: Cell | None, new: Cell | None) -> Cell | None:
    """Assumed text and items of ``old``, measured items of ``new``."""
    if old is None:
        return new
    measured = [i for i in (new.items if new else []) if i.source == "measured"]
    assumed = [i for i in old.items if i.source != "measured"]
    new_measured = new if new is not None and new.source == "measured" else None
    source: Source
    if old.source == "assumed" and (old.text or new_measured is None):
        text, source = old.text, "assumed"
    else:
        text, source = ((new_measured.text, "measured") if new_measured is not None
                        else ("", "assumed"))
    n, n_of = ((new_measured.n, new_measured.n_of) if new_measured is not None else
               (old.n, old.n_of) if old.source == "assumed" else (None, None))
    return Cell(text, source, measured + assumed, n, n_of)


def _merge(old: JourneyMap, new: JourneyMap, title: str | None) -> JourneyMap:
    """``new``'s measured content inside ``old``'s assumed content and layout."""
    stages = [replace(s) for s in old.stages]
    stages += [s for s in new.stages if s.key not in {x.key for x in old.stages}]
    lanes = [replace(la) for la in old.lanes]
    lanes += [Lane(k, t) for k, t in LANES if k not in {la.key for la in old.lanes}]
    old_keys = {s.key for s in old.stages}
    cells: dict[str, dict[str, Cell]] = {}
    for lane in {*old.cells, *new.cells}:
        for st in stages:
            o = old.cells.get(lane, {}).get(st.key)
            n = new.cells.get(lane, {}).get(st.key)
            if st.key in old_keys and o is None and n is not None:
                # the team had nothing here: only measured content comes in, not the template
                n = n if n.source == "measured" else None
                if n is not None:
                    n = Cell(n.text, n.source, [i for i in n.items if i.source == "measured"],
                             n.n, n.n_of)
            c = _merge_cell(o, n)
            if c is not None:
                cells.setdefault(lane, {})[st.key] = c
    emotions = {}
    for st in stages:
        oe, ne = old.emotions.get(st.key), new.emotions.get(st.key)
        if oe is None and ne is None:
            continue
        assumed = oe.assumed if oe is not None else (ne.assumed if ne is not None
                                                     and st.key not in old_keys else None)
        e = Emotion(assumed=assumed)
        if ne is not None and ne.measured is not None:
            e.measured, e.low, e.high, e.n = ne.measured, ne.low, ne.high, ne.n
        emotions[st.key] = e
    return replace(new, title=title or old.title, stages=stages, lanes=lanes, cells=cells,
                   emotions=emotions)


# ----------------------------------------------------------------------------- segments


def first_channel(events: pl.DataFrame) -> pl.DataFrame:
    """Per customer, the kind of the first channel they used that is online (web/app) or a
    store (`cjm_core.analytics.channels.channel_kind`): columns customer_id, first_channel
    ("online" /
    "store"). Customers who used neither are left out. Ties at one instant: file order.

    >>> ev = pl.DataFrame({"customer_id": ["a", "a", "b", "c"],
    ...     "timestamp": [2, 1, 1, 1], "channel": ["store", "web", "Store", "phone"]})
    >>> first_channel(ev).sort("customer_id").rows()
    [('a', 'online'), ('b', 'store')]
    """
    if not {"customer_id", "timestamp", "channel"} <= set(events.columns):
        raise QueryError("First channel needs events with customer_id, timestamp and channel.")
    return (events.select("customer_id", "timestamp",
                          channel_kind(pl.col("channel")).alias("first_channel"))
            .with_row_index("__row")
            .drop_nulls(["customer_id", "timestamp", "first_channel"])
            .sort(["customer_id", "timestamp", "__row"])
            .group_by("customer_id", maintain_order=True).agg(pl.col("first_channel").first()))


def with_first_channel(data: Dataset) -> Dataset:
    """The dataset with a ``first_channel`` column ("online" / "store" / null) on its events,
    so ``build_map(data, segment=("first_channel", "online"))`` maps the customers who
    researched online first and ``("first_channel", "store")`` those who came to a store first.

    >>> ev = pl.DataFrame({"customer_id": ["a", "b"], "timestamp": [1, 1],
    ...                    "channel": ["app", "store"], "stage": ["Discovery", "Discovery"]})
    >>> with_first_channel(Dataset(default_journey("4742"), events=ev)).events[
    ...     "first_channel"].to_list()
    ['online', 'store']
    """
    if data.events is None:
        raise QueryError("First channel needs an events table.")
    ev = data.events.drop("first_channel", strict=False)
    fc = first_channel(ev)
    return replace(data, events=ev.join(fc, on="customer_id", how="left",
                                        maintain_order="left"))


def _kpi(m: JourneyMap, stage: str, text: str) -> float | None:
    c = m.cells.get("kpis", {}).get(stage)
    return next((i.value for i in c.items if i.text == text and i.source == "measured"),
                None) if c else None


def compare_maps(a: JourneyMap, b: JourneyMap) -> pl.DataFrame:
    """Two maps (e.g. two segments) side by side, per stage: customers reached, drop-off to the
    next stage, CSAT and measured emotion of each and the difference b − a (null where either
    is missing). Stages in ``a``'s order, then those only ``b`` has.

    >>> x, y = template_map("4742"), template_map("4742")
    >>> x.cell("kpis", "purchase").items = [Item(KPI_REACHED, "measured", value=10.0)]
    >>> y.cell("kpis", "purchase").items = [Item(KPI_REACHED, "measured", value=4.0)]
    >>> compare_maps(x, y).filter(pl.col("stage") == "purchase")["reached_diff"].item()
    -6.0
    """
    order = [s for s in a.stages] + [s for s in b.stages if s.key not in {x.key for x in a.stages}]
    rows = []
    for s in order:
        row: dict[str, Any] = {"stage": s.key, "name": s.name}
        for col, get in (("reached", lambda m, k: _kpi(m, k, KPI_REACHED)),
                         ("dropoff", lambda m, k: _kpi(m, k, KPI_DROPOFF)),
                         ("csat", lambda m, k: _kpi(m, k, KPI_CSAT)),
                         ("emotion", lambda m, k: m.emotions.get(k, Emotion()).measured)):
            va, vb = get(a, s.key), get(b, s.key)
            row[f"{col}_a"], row[f"{col}_b"] = va, vb
            row[f"{col}_diff"] = vb - va if va is not None and vb is not None else None
        rows.append(row)
    schema = {"stage": pl.String, "name": pl.String} | {
        f"{c}_{x}": pl.Float64 for c in ("reached", "dropoff", "csat", "emotion")
        for x in ("a", "b", "diff")}
    return pl.DataFrame(rows, schema=schema)

