"""The journey definition kept with every workspace: ordered stages, which stage plays each role
used by benchmark metrics, and the industry (ISIC code) whose targets apply.

Each seed industry has a default template drawn from its seed document.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace

import polars as pl

from cjm_core.errors import QueryError
from cjm_core.industries.journeys import JOURNEY_TEMPLATES
from cjm_core.ingest.roles import fold

#: stage roles that benchmark metrics refer to (DESIGN §3)
STAGE_ROLES = ("inquiry", "consultation", "cart", "purchase", "support")

@dataclass(frozen=True)
class Stage:
    key: str
    name: str


@dataclass
class Journey:
    """Ordered stages plus stage roles and industry.

    >>> j = default_journey("4742")
    >>> [s.key for s in j.stages][:3]
    ['discovery', 'online_research', 'in_store_demo']
    >>> Journey.from_json(j.to_json()) == j
    True
    """

    isic: str
    stages: list[Stage]
    stage_roles: dict[str, str] = field(default_factory=dict)

    @property
    def stage_keys(self) -> list[str]:
        return [s.key for s in self.stages]

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    def keeping_roles(self, keep: dict[str, bool]) -> Journey:
        """The journey with only the stage roles ``keep`` says yes to (e.g. those a data stage
        plays, see :meth:`cjm_core.model.dataset.Dataset.roles_played`).

        >>> sorted(default_journey("4742").keeping_roles({"purchase": True}).stage_roles)
        ['purchase']
        """
        roles = {r: k for r, k in self.stage_roles.items() if keep.get(r)}
        return self if roles == self.stage_roles else replace(self, stage_roles=roles)

    @classmethod
    def from_json(cls, text: str) -> Journey:
        d = json.loads(text)
        return cls(
            isic=d["isic"],
            stages=[Stage(**s) for s in d["stages"]],
            stage_roles=dict(d.get("stage_roles", {})),
        )


def _stages(*names: str) -> list[Stage]:
    return [Stage(_key(n), n) for n in names]


def _key(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name.lower().replace(" & ", "_")).strip("_")


_TEMPLATES: dict[str, tuple[list[Stage], dict[str, str]]] = {
    isic: (_stages(*names), dict(roles)) for isic, (names, roles) in JOURNEY_TEMPLATES.items()
}


def default_journey(isic: str) -> Journey:
    """The seed's default journey for an ISIC code (4773, 4741 or 4742)."""
    if isic not in _TEMPLATES:
        known = ", ".join(sorted(_TEMPLATES))
        raise KeyError(f"no journey template for ISIC {isic!r}; known: {known}")
    stages, roles = _TEMPLATES[isic]
    return Journey(isic=isic, stages=list(stages), stage_roles=dict(roles))


def journey_from_rows(
    isic: str, names: list[str], stage_roles: dict[str, str | None] | None = None
) -> Journey:
    """Build a journey from stage names in order (as edited in the app), checking them.

    >>> journey_from_rows("4742", ["Browse", "Buy"], {"purchase": "Buy"}).stage_roles
    {'purchase': 'buy'}
    """
    clean = [str(n).strip() for n in names if n is not None and str(n).strip()]
    if not clean:
        raise QueryError("A journey needs at least one stage.")
    seen: set[str] = set()
    for name in clean:
        if _key(name) in seen:
            raise QueryError(f"The stage {name!r} appears twice; stage names must differ.")
        seen.add(_key(name))
    by_name = {n: _key(n) for n in clean}
    roles = {}
    for role, stage in (stage_roles or {}).items():
        if role not in STAGE_ROLES:
            raise QueryError(f"unknown stage role {role!r}; known: {', '.join(STAGE_ROLES)}")
        if stage:
            if stage not in by_name and stage not in by_name.values():
                raise QueryError(f"The {role} role points at {stage!r}, which is not a stage.")
            roles[role] = by_name.get(stage, stage)
    return Journey(isic=isic, stages=[Stage(k, n) for n, k in by_name.items()], stage_roles=roles)


def unknown_stages(journey: Journey, values: list[str]) -> list[str]:
    """Stage values found in data that the journey does not name (matched by name or key).

    >>> unknown_stages(default_journey("4742"), ["Purchase", "purchase", "Unboxing"])
    ['Unboxing']
    """
    known = {s.name for s in journey.stages} | {s.key for s in journey.stages}
    return sorted({v for v in values if v is not None and v not in known and _key(v) not in known})


# ----------------------------------------------------------------------------- journey from data

#: stage role -> folded names that say the role (en, de, fr, es). Multi-word entries are matched
#: as whole word runs, single words as whole words or, when 5+ letters, as the tail of a German
#: compound ("Kaufberatung" is a consultation, "Kundenreklamation" support).
ROLE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "inquiry": (
        "inquiry", "inquiries", "enquiry", "enquiries", "anfrage", "anfragen", "question",
        "questions", "request", "store_visit", "visit_store", "shop_visit", "visit_shop",
        "store_inquiry", "ladenbesuch", "filialbesuch", "geschaftsbesuch", "demande", "consulta",
    ),
    "consultation": (
        "consultation", "consult", "consulting", "beratung", "advice", "advisory", "expert_advice",
        "demo", "demonstration", "vorfuhrung", "conseil", "asesoramiento",
    ),
    "cart": (
        "cart", "basket", "warenkorb", "add_to_cart", "shopping_cart", "trolley", "einkaufswagen",
        "panier", "carrito", "carrello",
    ),
    "purchase": (
        "purchase", "purchased", "buy", "bought", "checkout", "check_out", "order", "ordered",
        "kauf", "kaufen", "gekauft", "kaufabschluss", "bestellung", "bestellt", "payment",
        "zahlung", "kasse", "achat", "commande", "compra", "transaction",
    ),
    "support": (
        "support", "helpdesk", "help_desk", "service_desk", "customer_service", "kundendienst",
        "kundenservice", "reklamation", "beschwerde", "complaint", "complaints", "ticket",
        "hotline", "repair", "reparatur", "return", "returns", "retoure", "warranty", "garantie",
        "after_sales", "sav", "soporte",
    ),
}


def _role_score(folded: str, role: str) -> int:
    """How plainly a folded stage name says a role: 3 the whole name, 2 a word or word run,
    1 the tail of a compound word, 0 not at all."""
    words = folded.split("_")
    best = 0
    for syn in ROLE_SYNONYMS[role]:
        if folded == syn:
            return 3
        parts = syn.split("_")
        if any(words[i:i + len(parts)] == parts for i in range(len(words) - len(parts) + 1)):
            best = 2
        elif best < 1 and len(syn) >= 5 and any(w.endswith(syn) for w in words):
            best = 1
    return best


def role_by_meaning(name: str) -> str | None:
    """The stage role a stage's name says, if any (the plainest match; ties in
    ``STAGE_ROLES`` order).

    >>> [role_by_meaning(n) for n in ["Kauf", "Beratung im Laden", "Helpdesk", "Browse"]]
    ['purchase', 'consultation', 'support', None]
    """
    scores = [(_role_score(fold(name), r), -i, r) for i, r in enumerate(STAGE_ROLES)]
    score, _, role = max(scores)
    return role if score else None


#: above this many events, :func:`stage_order` reads a fixed sample of customers (the order is
#: an estimate; the sample keeps it to a fraction of a second on millions of rows) ...
ORDER_SAMPLE_EVENTS = 100_000
#: ... plus every customer of a stage the sample holds fewer events of than this, so a rare
#: stage is never left out of the journey nor placed on a handful of paths
RARE_STAGE_EVENTS = 50


def _order_sample(ev: pl.LazyFrame) -> pl.DataFrame:
    """The events :func:`stage_order` reads, with ``__hashed``: the customer is in the fixed
    hash sample (the base of ``share``). ``ev`` is a query: only the sample is collected."""
    n = int(ev.select(pl.len()).collect().item())
    if n <= ORDER_SAMPLE_EVENTS:
        return ev.with_columns(pl.lit(True).alias("__hashed")).collect()
    every = -(-n // ORDER_SAMPLE_EVENTS)
    ev = ev.with_columns((pl.col("customer_id").hash(seed=0) % every == 0).alias("__hashed"))
    counts, sample = pl.collect_all([
        ev.group_by("stage").agg(pl.col("__hashed").sum().alias("n")),
        ev.filter(pl.col("__hashed"))])
    rare = counts.filter(pl.col("n") < RARE_STAGE_EVENTS)["stage"]
    if rare.len():
        extra = ev.filter(pl.col("stage").is_in(rare.implode())).select("customer_id").unique()
        sample = ev.filter(pl.col("__hashed")
                           | pl.col("customer_id").is_in(extra.collect()["customer_id"].implode())
                           ).collect()
    return sample


def stage_order(events: pl.DataFrame) -> pl.DataFrame:
    """The stages of an events table in the order customers meet them, with the evidence.

    Per customer, each stage's first occurrence is ranked among the customer's stages (0 = the
    stage they met first; equal times are ordered by the stage's first row in the file).
    ``precedes`` is, over the other stages, the number that customers having both mostly meet
    after this one minus the number they mostly meet before it: a stage skipped by walk-ins
    still sorts after the stages that come before it whenever both are seen. ``position`` is the
    median rank of the stage's first occurrence (``mean_position`` its mean) and ``share`` the
    share of customers who have the stage. Sorted by ``precedes`` (descending), then
    ``position``, ``mean_position``, ``share`` (descending), ``first_seen`` and the name, so
    the order is the same on every run. Rows missing customer, stage or timestamp are left out;
    above ``ORDER_SAMPLE_EVENTS`` events only a fixed hash sample of customers is read (plus
    every customer of a stage rare in it; ``share`` is then estimated on the hash sample).

    >>> from datetime import datetime as dt
    >>> ev = pl.DataFrame({
    ...     "customer_id": ["a", "a", "a", "b", "b", "c", "c"],
    ...     "stage": ["Ad", "Shop", "Buy", "Shop", "Buy", "Ad", "Buy"],
    ...     "timestamp": [dt(2025, 1, d) for d in (1, 2, 3, 1, 2, 1, 2)]})
    >>> stage_order(ev).select("stage", "precedes", "position").rows()
    [('Ad', 2, 0.0), ('Shop', 0, 0.5), ('Buy', -2, 1.0)]
    """
    stage = pl.col("stage")
    kind = events.schema["stage"]
    if not (kind == pl.String or kind.is_integer() or isinstance(kind, (pl.Enum, pl.Categorical))):
        stage = stage.cast(pl.String)  # text of other types may merge values: group as text
    # one query over the events; stages become text only on the (sampled) rows read
    ev = (events.lazy().select("customer_id", stage, "timestamp")
          .with_row_index("__row").drop_nulls())
    sample = _order_sample(ev).with_columns(pl.col("stage").cast(pl.String))
    firsts = (sample.group_by("customer_id", "stage")
              .agg(pl.col("timestamp").min().alias("t"), pl.col("__row").min(),
                   pl.col("__hashed").first())
              .sort("customer_id", "t", "__row")
              .with_columns(pl.int_range(pl.len()).over("customer_id").alias("rank")))
    pairs = _precedence(firsts)
    customers = firsts.filter(pl.col("__hashed"))["customer_id"].n_unique()
    return (firsts.group_by("stage")
            .agg(pl.col("rank").median().alias("position"),
                 pl.col("rank").mean().alias("mean_position"),
                 (pl.col("__hashed").sum() / max(customers, 1)).alias("share"),
                 pl.col("t").min().alias("first_seen"))
            .join(pairs, on="stage", how="left")
            .with_columns(pl.col("precedes").fill_null(0))
            .select("stage", "precedes", "position", "mean_position", "share", "first_seen")
            .sort(["precedes", "position", "mean_position", "share", "first_seen", "stage"],
                  descending=[True, False, False, True, False, False]))


#: the most (customer, stage, other stage) rows the pairwise count may build; beyond it (paths
#: with hundreds of distinct stages, e.g. page URLs) the order rests on the median position
MAX_PAIRS = 5_000_000


def _precedence(firsts: pl.DataFrame) -> pl.DataFrame:
    """stage, precedes: over the other stages, how many customers having both mostly meet
    after this one minus how many they mostly meet before it (all 0 past ``MAX_PAIRS``)."""
    per_customer = firsts.group_by("customer_id").len()["len"].cast(pl.Int64)
    if int((per_customer * per_customer).sum()) > MAX_PAIRS:
        return pl.DataFrame(schema={"stage": pl.String, "precedes": pl.Int64})
    return (firsts.select("customer_id", "stage", "rank")
            .join(firsts.select("customer_id", pl.col("stage").alias("other"),
                                pl.col("rank").alias("other_rank")), on="customer_id")
            .filter(pl.col("stage") != pl.col("other"))
            .group_by("stage", "other")
            .agg((pl.col("rank") < pl.col("other_rank")).mean().alias("before"))
            .group_by("stage")
            .agg(((pl.col("before") > 0.5).sum().cast(pl.Int64)
                  - (pl.col("before") < 0.5).sum().cast(pl.Int64)).alias("precedes")))


def journey_from_stages(isic: str, names: list[str]) -> Journey:
    """A journey over the data's own stages, in the order given, with the industry template's
    display names, keys and stage roles where a name corresponds to a template stage (same name
    after case, accent and punctuation folding), and the remaining roles matched by meaning
    (:data:`ROLE_SYNONYMS`; each stage plays at most one role; plainer matches are served
    first, ties go by role order, then to the earlier stage).
    Names that fold alike are one stage (the first spelling given is its name).

    >>> j = journey_from_stages("4742", ["Werbung gesehen", "ONLINE RESEARCH", "Kauf"])
    >>> [s.name for s in j.stages], j.stage_roles
    (['Werbung gesehen', 'Online research', 'Kauf'], {'inquiry': 'online_research', \
'purchase': 'kauf'})
    """
    template = _TEMPLATES.get(isic)
    by_fold: dict[str, Stage] = {}
    if template is not None:
        for st in template[0]:
            by_fold.setdefault(fold(st.name), st)
            by_fold.setdefault(fold(st.key), st)
    stages: list[Stage] = []
    seen: set[str] = set()
    for name in names:
        if name is None or not str(name).strip():
            continue
        f = fold(name) or str(name).strip()
        if f in seen:
            continue
        seen.add(f)
        st = by_fold.get(f) or Stage(_key(str(name).strip()) or f, str(name).strip())
        if st.key in {s.key for s in stages}:
            st = Stage(f"{st.key}_{len(stages) + 1}", st.name)
        stages.append(st)
    keys = {s.key for s in stages}
    roles = {r: k for r, k in (template[1] if template else {}).items() if k in keys}
    taken = set(roles.values())
    # plainest matches first (a whole-name match beats a word in another stage's name), then
    # role order, then the earlier stage
    pairs = sorted((-_role_score(fold(s.name), role), r, i, role, s.key)
                   for r, role in enumerate(STAGE_ROLES) for i, s in enumerate(stages))
    for neg, _r, _i, role, key in pairs:
        if neg < 0 and role not in roles and key not in taken:
            roles[role] = key
            taken.add(key)
    roles = {r: roles[r] for r in STAGE_ROLES if r in roles}
    return Journey(isic=isic, stages=stages, stage_roles=roles)


def journey_from_events(events: pl.DataFrame, isic: str) -> Journey:
    """The journey an events table shows: its stages in :func:`stage_order`, named and given
    roles by :func:`journey_from_stages`.

    >>> from datetime import datetime as dt
    >>> ev = pl.DataFrame({"customer_id": ["a", "a", "b", "b"],
    ...     "stage": ["Helpdesk", "Checkout", "Checkout", "Helpdesk"],
    ...     "timestamp": [dt(2025, 1, d) for d in (2, 1, 1, 3)]})
    >>> j = journey_from_events(ev, "4773")
    >>> j.stage_keys, j.stage_roles
    (['checkout', 'helpdesk'], {'purchase': 'checkout', 'support': 'helpdesk'})
    """
    return journey_from_stages(isic, stage_order(events)["stage"].to_list())


def journey_from_counts(counts: pl.DataFrame, isic: str) -> Journey:
    """The journey of an aggregated ``funnel_counts`` table: its stages in file order."""
    names = (counts.select(pl.col("stage").cast(pl.String)).drop_nulls()
             .unique(maintain_order=True)["stage"].to_list())
    return journey_from_stages(isic, names)


def proposal_table(journey: Journey, order: pl.DataFrame | None = None) -> pl.DataFrame:
    """A journey's stages as the Data page lists a proposal: order, stage, the role it plays,
    and, with a :func:`stage_order` frame of the data, the share of customers who have the
    stage and its median position in their paths (1 = the first stage they meet; matched by
    folded name).

    >>> proposal_table(journey_from_stages("4773", ["Browse", "Kauf"])).rows()
    [(1, 'Browse', None, None, None), (2, 'Kauf', 'purchase', None, None)]
    """
    evidence: dict[str, tuple[float, float]] = {}
    if order is not None:
        for row in order.iter_rows(named=True):
            evidence.setdefault(fold(row["stage"]), (row["share"], row["position"] + 1))
    role_of = {k: r for r, k in journey.stage_roles.items()}
    rows = []
    for i, st in enumerate(journey.stages, start=1):
        share, position = evidence.get(fold(st.name)) or evidence.get(fold(st.key)) or (None, None)
        rows.append({"order": i, "stage": st.name, "role": role_of.get(st.key),
                     "share_of_customers": share, "median_position": position})
    return pl.DataFrame(rows, schema={"order": pl.Int64, "stage": pl.String, "role": pl.String,
                                      "share_of_customers": pl.Float64,
                                      "median_position": pl.Float64})


def stage_names(journey: Journey, values: list[str]) -> dict[str, str]:
    """Data stage values that mean a journey stage but are spelt differently from its name and
    key (case, accents, punctuation), mapped to the stage's name: so "online research" in the
    data counts for the stage "Online research".

    >>> stage_names(default_journey("4742"), ["online research", "Purchase", "Unboxing"])
    {'online research': 'Online research'}
    """
    exact = {s.name for s in journey.stages} | {s.key for s in journey.stages}
    by_fold: dict[str, str] = {}
    for s in journey.stages:
        by_fold.setdefault(fold(s.name), s.name)
        by_fold.setdefault(fold(s.key), s.name)
    return {v: by_fold[fold(v)] for v in values
            if v is not None and v not in exact and fold(v) in by_fold}


def stages_played(journey: Journey, values: list[str]) -> dict[str, bool]:
    """For each stage role, whether the journey gives it to a stage found among ``values``
    (the data's stage values, matched by name or key as the funnel matches them).

    >>> stages_played(default_journey("4773"), ["Cart", "purchase"])["cart"]
    True
    >>> stages_played(default_journey("4773"), ["Cart", "purchase"])["support"]
    False
    """
    found = set(values)
    names = {s.key: s.name for s in journey.stages}
    out = {}
    for role in STAGE_ROLES:
        key = journey.stage_roles.get(role) or ""
        out[role] = bool(key) and (key in found or names.get(key, key) in found)
    return out


def roles_text(journey: Journey) -> str:
    """Which stage plays each stage role, and the roles no stage plays.

    >>> roles_text(journey_from_stages("4773", ["Ad seen", "Browse", "Checkout"]))
    'purchase = Checkout; no stage plays: inquiry, consultation, cart, support'
    """
    names = {s.key: s.name for s in journey.stages}
    played = [f"{r} = {names.get(k, k)}" for r, k in journey.stage_roles.items()]
    missing = [r for r in STAGE_ROLES if r not in journey.stage_roles]
    parts = [", ".join(played)] if played else []
    if missing:
        parts.append("no stage plays: " + ", ".join(missing))
    return "; ".join(parts)


def describe(journey: Journey) -> str:
    """The journey in one line, as the command line prints it.

    >>> describe(journey_from_stages("4773", ["Ad seen", "Browse", "Checkout"]))
    'Ad seen → Browse → Checkout; roles: purchase = Checkout; no stage plays: inquiry, \
consultation, cart, support'
    """
    text = " → ".join(s.name for s in journey.stages)
    roles = roles_text(journey)
    if journey.stage_roles:
        return f"{text}; roles: {roles}"
    return f"{text}; {roles}" if roles else text
