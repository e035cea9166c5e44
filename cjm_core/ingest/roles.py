"""Which column plays which role, and which of the five tables a sheet is: suggestions only.

Names are tried first (exact folded synonyms in English, German, French and Spanish, then a
synonym's words inside a longer name, then a synonym inside a compound word such as
"eroeffnungsdatum"), then values for roles still open (0-10 integers look like NPS, 1-5 like CSAT,
text that parses as dates like a timestamp, few distinct words like a stage or a channel).
Every suggestion carries a short reason so the mapping screen can say why.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import polars as pl

from cjm_core.ingest.dates import sniff_datetime
from cjm_core.ingest.typed import as_text
from cjm_core.ingest.validate import parse_number, sniff_decimal
from cjm_core.model.schema import FEEDBACK_SCORES, ROW, TABLES, roles_of

_SPECIAL = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d",
                          "Æ": "AE", "Œ": "OE", "Ø": "O", "Ł": "L", "ẞ": "SS"})


def fold(text: str) -> str:
    """A column name reduced for matching: lowercase, no accents, words joined by ``_``.

    camelCase is split into words ("customerId" -> "customer_id").

    >>> fold("Kunden-Nr.")
    'kunden_nr'
    >>> fold("  Zufriedenheit (1–5) ")
    'zufriedenheit_1_5'
    >>> fold("Größe"), fold("CustomerID"), fold("Résolu le")
    ('grosse', 'customer_id', 'resolu_le')
    """
    text = str(text).translate(_SPECIAL)
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z][a-z])|(?<=[a-z])(?=[A-Z])", "_", text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


#: role -> folded synonyms (en, de, fr, es); umlauts fold to the bare vowel ("gelöst" -> "gelost")
SYNONYMS: dict[str, tuple[str, ...]] = {
    "customer_id": (
        "customer", "customer_id", "customer_no", "customer_nr", "customer_number", "customerid",
        "cust_id", "client", "client_id", "clientid", "user", "user_id", "userid", "member_id",
        "visitor_id", "account_id", "contact_id", "person_id", "customers", "kunde", "kunden",
        "kunden_id", "kundenid", "kunden_nr", "kundennr", "kundennummer", "kunden_nummer", "kd_nr",
        "kdnr", "nutzer_id", "benutzer_id", "id_client", "numero_client", "num_client",
        "no_client", "n_client", "identifiant_client", "cliente", "id_cliente", "numero_cliente",
        "num_cliente", "usuario", "id_usuario",
    ),
    "timestamp": (
        "timestamp", "time_stamp", "date", "datetime", "date_time", "time", "event_time",
        "event_date", "created_at", "occurred_at", "ts", "datum", "datum_uhrzeit", "zeitpunkt",
        "zeit", "zeitstempel", "uhrzeit", "horodatage", "date_heure", "heure", "fecha",
        "fecha_hora", "hora", "marca_de_tiempo", "marca_temporal",
    ),
    "stage": (
        "stage", "journey_stage", "phase", "journey_phase", "step", "funnel_stage", "funnel_step",
        "stufe", "schritt", "etappe", "kaufphase", "etape", "etapa", "fase", "paso",
    ),
    "touchpoint": (
        "touchpoint", "touch_point", "contact_point", "kontaktpunkt", "touchpunkt",
        "beruhrungspunkt", "point_de_contact", "point_contact", "punto_de_contacto",
        "punto_contacto",
    ),
    "channel": (
        "channel", "sales_channel", "kanal", "vertriebskanal", "verkaufskanal", "canal",
        "canal_de_vente", "canal_venta", "medium",
    ),
    "event": (
        "event", "event_name", "event_type", "action", "activity", "aktion", "ereignis",
        "aktivitat", "evenement", "evento", "accion", "actividad",
    ),
    "segment": (
        "segment", "persona", "customer_segment", "kundensegment", "kundengruppe", "zielgruppe",
        "segment_client", "segmento", "segmento_cliente",
    ),
    "revenue": (
        "revenue", "sales", "umsatz", "erlos", "chiffre_d_affaires", "ventes", "ingresos",
        "ventas", "montant", "importe",
    ),
    "amount": (
        "amount", "total", "order_total", "order_value", "value", "price", "betrag", "summe",
        "gesamtbetrag", "bestellwert", "wert", "preis", "montant", "montant_total", "prix",
        "importe", "monto", "total_pedido", "precio",
    ),
    "csat": (
        "csat", "satisfaction", "customer_satisfaction", "satisfaction_score", "rating", "stars",
        "zufriedenheit", "kundenzufriedenheit", "bewertung", "sterne", "satisfaction_client",
        "note", "satisfaccion", "satisfaccion_cliente", "valoracion", "calificacion",
    ),
    "nps": (
        "nps", "net_promoter_score", "promoter_score", "recommend", "likelihood_to_recommend",
        "recommendation", "weiterempfehlung", "empfehlung", "weiterempfehlungsbereitschaft",
        "recommandation", "recommander", "recomendacion", "recomendar",
    ),
    "ces": (
        "ces", "customer_effort", "customer_effort_score", "effort", "effort_score", "aufwand",
        "kundenaufwand", "effort_client", "esfuerzo", "esfuerzo_cliente",
    ),
    "comment": (
        "comment", "comments", "feedback", "remark", "remarks", "notes", "verbatim", "free_text",
        "kommentar", "bemerkung", "anmerkung", "freitext", "notiz", "notizen", "commentaire",
        "remarque",
        "comentario", "comentarios", "observaciones", "observacion",
    ),
    "opened_at": (
        "opened_at", "opened", "open_date", "date_opened", "created_at", "created",
        "creation_date", "erstellt_am", "erstellt", "eroffnet", "eroffnet_am", "geoffnet",
        "angelegt", "angelegt_am", "eingang", "ouvert_le", "ouverture", "date_ouverture",
        "date_creation", "fecha_apertura", "apertura", "fecha_creacion", "abierto",
    ),
    "resolved_at": (
        "resolved_at", "resolved", "closed_at", "closed", "close_date", "resolution_date",
        "date_resolved", "solved_at", "gelost_am", "gelost", "geschlossen", "geschlossen_am",
        "erledigt", "erledigt_am", "abgeschlossen", "abgeschlossen_am", "resolu_le", "resolu",
        "ferme_le", "date_resolution", "date_cloture", "fecha_resolucion", "resuelto",
        "fecha_cierre", "cerrado",
    ),
    "first_contact_resolved": (
        "fcr", "first_contact_resolution", "first_contact_resolved", "resolved_first_contact",
        "erstkontaktlosung", "erstlosung", "beim_ersten_kontakt_gelost", "resolu_premier_contact",
        "resolution_premier_contact", "resolucion_primer_contacto", "resuelto_primer_contacto",
    ),
    "complexity": (
        "complexity", "difficulty", "case_type", "komplexitat", "schwierigkeit", "complexite",
        "difficulte", "complejidad", "dificultad",
    ),
    "order_date": (
        "order_date", "date_of_order", "ordered_at", "purchase_date", "bestelldatum", "kaufdatum",
        "auftragsdatum", "date_commande", "date_de_commande", "date_achat", "fecha_pedido",
        "fecha_compra",
    ),
    "order_id": (
        "order_id", "order", "order_no", "order_nr", "order_number", "ordernumber", "invoice",
        "receipt", "bestellnummer", "bestell_nr", "bestellung", "auftragsnummer", "auftrag",
        "auftrags_nr", "belegnummer", "beleg_nr", "rechnungsnummer", "numero_commande",
        "commande", "id_commande", "no_commande", "numero_pedido", "pedido", "id_pedido",
    ),
    "contacts": (
        "contacts", "contact_count", "number_of_contacts", "n_contacts", "num_contacts",
        "interactions", "kontakte", "anzahl_kontakte", "kontaktanzahl", "nombre_contacts",
        "nb_contacts", "contactos", "numero_contactos", "num_contactos",
    ),
    "customers": (
        "customers", "customer_count", "number_of_customers", "n_customers", "users", "visitors",
        "count", "kunden", "anzahl_kunden", "kundenanzahl", "anzahl", "besucher", "clients",
        "nombre_clients", "nb_clients", "nombre_de_clients", "clientes", "numero_clientes",
        "cantidad",
    ),
    "period": (
        "period", "month", "week", "quarter", "year", "zeitraum", "periode", "monat", "woche",
        "quartal", "jahr", "mois", "semaine", "trimestre", "annee", "periodo", "mes", "semana",
        "ano",
    ),
    "ticket_id": (
        "ticket", "ticket_id", "ticket_no", "ticket_nr", "ticket_number", "ticketnummer", "case",
        "case_id", "case_number", "incident", "fall", "fall_nr", "fallnummer", "vorgang",
        "vorgangsnummer", "dossier", "numero_ticket", "id_ticket", "caso", "numero_caso",
        "incidencia", "id_incidencia",
    ),
}

#: a role's lesser synonyms, borrowed from a sibling role ("Datum" is an order date in orders)
_BORROWED: dict[str, tuple[str, ...]] = {
    "order_date": ("timestamp",),
    "opened_at": ("timestamp",),
    "amount": ("revenue",),
    "revenue": ("amount",),
}

def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_CHANNEL_WORDS = _words(
    "web website online onlineshop webshop shop eshop e_shop internet app mobile mobil phone "
    "telephone telefon hotline call callcenter call_center store in_store instore filiale laden "
    "geschaft ladengeschaft markt email e_mail mail newsletter chat live_chat social facebook "
    "instagram whatsapp messenger sms post brief catalog katalog boutique magasin tienda "
    "telefono movil correo pos kiosk marketplace amazon ebay offline retail field_sales "
    "aussendienst"
)
_COMPLEXITY_WORDS = _words(
    "simple complex einfach komplex schwer leicht complexe facile difficile sencillo complejo "
    "easy hard low high medium niedrig hoch mittel"
)
_BOOL_WORDS = _words(
    "yes no true false y n ja nein j wahr falsch oui non vrai faux si sí verdadero x 1 0 "
    "1.0 0.0"
)
_PERIOD = re.compile(
    r"^(\d{4}[-/]\d{1,2}|\d{1,2}[-/.]\d{4}|(q|kw|w|cw|t|s)\s*\d{1,2}([ /-]*\d{2,4})?|"
    r"\d{4}\s*[-/]?\s*(q|kw|w|t|s)\s*\d{1,2}|\d{4})$",
    re.IGNORECASE,
)

#: roles unique to a table: finding one is strong evidence for that table
_DISTINCTIVE: dict[str, frozenset[str]] = {
    "events": frozenset({"event", "touchpoint", "revenue"}),
    "feedback": frozenset({"csat", "nps", "ces", "comment"}),
    "support": frozenset({"opened_at", "resolved_at", "ticket_id", "first_contact_resolved",
                          "contacts", "complexity"}),
    "orders": frozenset({"order_date", "amount", "order_id"}),
    "funnel_counts": frozenset({"customers", "period"}),
}

#: folded words in a sheet or file name that point to a table
_HINTS: dict[str, tuple[str, ...]] = {
    "events": ("event", "events", "ereignisse", "journey", "journeys", "interactions",
               "interaktionen", "touchpoints", "besuche", "visits", "clickstream", "log",
               "aktivitaten", "evenements", "eventos", "interacciones", "activity"),
    "feedback": ("feedback", "survey", "surveys", "umfrage", "umfragen", "befragung",
                 "bewertungen", "reviews", "nps", "csat", "enquete", "sondage", "avis",
                 "encuesta", "encuestas", "opiniones", "satisfaction", "zufriedenheit"),
    "support": ("support", "tickets", "ticket", "helpdesk", "help_desk", "service",
                "kundenservice", "kundendienst", "cases", "falle", "reklamationen",
                "beschwerden", "complaints", "sav", "reclamations", "soporte", "incidencias",
                "incidents", "servicedesk"),
    "orders": ("orders", "order", "bestellungen", "bestellung", "auftrage", "sales", "verkaufe",
               "umsatze", "transactions", "transaktionen", "kaufe", "purchases", "commandes",
               "ventes", "pedidos", "ventas", "compras"),
    "funnel_counts": ("funnel", "funnels", "trichter", "counts", "embudo", "entonnoir",
                      "conversion", "konversion", "funnel_counts"),
}


#: a sheet or file name naming a table outweighs weak column evidence, not strong evidence
_HINT_WEIGHT = 15.0


@dataclass(frozen=True)
class _Match:
    score: float
    column: str
    reason: str
    by_name: bool


def _name_score(col: str, synonyms: tuple[str, ...]) -> tuple[int, str, str] | None:
    """(score, synonym, how) for the best way a folded column name matches a synonym list.

    A synonym equal to the name scores 300 + its length, one whose words appear in a row among
    the name's words 200 + its length, a one-word synonym of four letters or more inside one of
    the name's words ("eroeffnungsdatum") 100 + its length; on a tie the synonym listed first wins.
    """
    index = _synonym_index(synonyms)
    tokens = col.split("_")
    best: tuple[int, int] | None = None  # (score, -position)
    how = ""
    if (p := index.exact.get(col)) is not None:
        best, how = (300 + len(col), -p), "matches"
    for i in range(len(tokens)):
        for j in range(i + 1, len(tokens) + 1):
            p = index.phrases.get(tuple(tokens[i:j]))
            if p is not None and (best is None or (200 + len(synonyms[p]), -p) > best):
                best, how = (200 + len(synonyms[p]), -p), "contains"
    for p, syn in index.compounds:
        if (best is None or (100 + len(syn), -p) > best) and any(syn in t for t in tokens):
            best, how = (100 + len(syn), -p), "contains"
    return None if best is None else (best[0], synonyms[-best[1]], how)


@dataclass(frozen=True)
class _SynonymIndex:
    exact: dict[str, int]  # synonym -> its position in the list (the first, when repeated)
    phrases: dict[tuple[str, ...], int]  # a synonym's words -> its position
    compounds: tuple[tuple[int, str], ...]  # one-word synonyms of 4+ letters, with positions


@functools.cache
def _synonym_index(synonyms: tuple[str, ...]) -> _SynonymIndex:
    exact: dict[str, int] = {}
    phrases: dict[tuple[str, ...], int] = {}
    for p, syn in enumerate(synonyms):
        exact.setdefault(syn, p)
        phrases.setdefault(tuple(syn.split("_")), p)
    compounds = tuple((p, syn) for p, syn in enumerate(synonyms)
                      if "_" not in syn and len(syn) >= 4)
    return _SynonymIndex(exact, phrases, compounds)


#: roles that identify one thing (a customer, an order, a case): a quantity never plays them
ID_ROLES = frozenset({"customer_id", "order_id", "ticket_id"})

#: folded words that make a name a quantity ("number of CDs", "Anzahl Artikel", "qty")
_QUANTITY_WORDS = frozenset({
    "qty", "qties", "quantity", "quantities", "count", "counts", "anzahl", "menge", "stuckzahl",
    "quantite", "quantites", "cantidad", "cantidades", "nb", "pcs", "pieces",
})
#: folded word pairs that do: "number of", "no. of", "nombre de" ("nombre d'articles")
_QUANTITY_PAIRS = frozenset({
    ("number", "of"), ("no", "of"), ("num", "of"), ("nr", "of"), ("nombre", "de"),
    ("nombre", "d"),
})


def is_quantity_name(column: str) -> bool:
    """Whether a column's name says it counts something, so it is never an identifier.

    "number" alone is an id word ("Kundennummer", "order number"); "number of" is a quantity.
    German compounds count too ("Artikelanzahl", "Bestellmenge").

    >>> [is_quantity_name(c) for c in ("number_of_cds", "No. of items", "Anzahl Artikel",
    ...                                 "Bestellmenge", "order number", "account_id")]
    [True, True, True, True, False, False]
    """
    tokens = fold(column).split("_")
    if _QUANTITY_WORDS.intersection(tokens):
        return True
    if any(t.endswith(("anzahl", "menge")) for t in tokens):
        return True
    return any(tuple(tokens[i:i + 2]) in _QUANTITY_PAIRS for i in range(len(tokens) - 1))


def _by_name(columns: list[str], table: str) -> dict[str, _Match]:
    """Greedy assignment of name matches, best score first, each column and role used once.

    A quantity ("number of customers", "Anzahl Bestellungen") is never matched to an id role,
    however much of an id role's synonym its name holds.
    """
    roles = list(roles_of(table))
    folded = {c: fold(c) for c in columns}
    quantities = {c for c in columns if is_quantity_name(c)}
    cands = []
    for ri, role in enumerate(roles):
        lists = [(SYNONYMS.get(role, ()), 0)]
        lists += [(SYNONYMS[b], 150) for b in _BORROWED.get(role, ()) if b in SYNONYMS]
        for ci, col in enumerate(columns):
            if role in ID_ROLES and col in quantities:
                continue
            for syns, penalty in lists:
                hit = _name_score(folded[col], syns)
                if hit is not None:
                    score, syn, how = hit
                    cands.append((-(score - penalty), ri, ci, f"name {how} '{syn}'"))
    cands.sort()
    out: dict[str, _Match] = {}
    used: set[str] = set()
    for neg, ri, ci, reason in cands:
        role, col = roles[ri], columns[ci]
        if role in out or col in used:
            continue
        out[role] = _Match(-neg, col, reason, True)
        used.add(col)
    return out


@dataclass
class _Profile:
    """What a column's values look like, from a deterministic head sample."""

    n: int
    distinct: int
    ints: tuple[int, int] | None  # (min, max) when every value is a whole number
    decimals: bool  # numbers with a fractional part
    yyyymmdd: bool
    date: bool
    boolean: bool
    digits_share: float
    spaces_share: float
    mean_len: float
    same_width: bool
    folded_values: list[str]


_PROFILE_ROWS = 5000


def _head_values(s: pl.Series, n: int) -> pl.Series:
    """The first ``n`` non-empty values as stripped text, reading only as much of ``s`` as needed
    (a large column is not stripped in full to keep its first few thousand values)."""
    k = n
    while True:
        text = as_text(s.slice(0, k)).str.strip_chars()  # a typed column as the reader wrote it
        text = text.filter(text.is_not_null() & (text != ""))
        if len(text) >= n or k >= len(s):
            return text.head(n)
        k *= 4


def _profile(s: pl.Series) -> _Profile | None:
    text = _head_values(s, _PROFILE_ROWS)
    n = len(text)
    if n == 0:
        return None
    distinct_values = text.unique(maintain_order=True)
    v = pl.col("v")
    as_int = v.str.replace(r"^([+-]?\d+)\.0+$", "$1").cast(pl.Int64, strict=False)
    (int_nulls, int_min, int_max, eight_digits, datelike_share, digits_share, spaces_share,
     mean_len, widths) = text.to_frame("v").select(  # one query for every share and count
        as_int.null_count().alias("a"), as_int.min().alias("b"), as_int.max().alias("c"),
        v.str.contains(r"^\d{8}$").all().alias("d"),
        v.str.contains(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}").mean().alias("e"),
        v.str.contains(r"\d").mean().alias("f"), v.str.contains(r"\s").mean().alias("g"),
        v.str.len_chars().mean().alias("h"), v.str.len_chars().n_unique().alias("i"),
    ).row(0)
    ints = (int(int_min), int(int_max)) if int_nulls == 0 else None
    # a value without a digit is never a number: skip parsing when some value has none
    decimals = (ints is None and digits_share == 1.0
                and parse_number(text, sniff_decimal(text)).null_count() == 0)
    yyyymmdd = bool(eight_digits) and _parses_all(text, "%Y%m%d")
    date = False
    if datelike_share >= 0.9 and not yyyymmdd and ints is None and not decimals:
        fmt = sniff_datetime(text)
        date = (fmt.format is not None or fmt.ambiguous) and fmt.matched >= 0.9 * n
    boolean = len(distinct_values) <= 2 and all(
        v in _BOOL_WORDS for v in distinct_values.str.to_lowercase().to_list())
    return _Profile(
        n=n,
        distinct=len(distinct_values),
        ints=ints,
        decimals=decimals,
        yyyymmdd=yyyymmdd,
        date=date,
        boolean=boolean,
        digits_share=float(digits_share),
        spaces_share=float(spaces_share),
        mean_len=float(mean_len),
        same_width=widths == 1,
        folded_values=[fold(v) for v in distinct_values.head(50).to_list()],
    )


def _parses_all(text: pl.Series, fmt: str) -> bool:
    return text.str.to_datetime(format=fmt, strict=False).null_count() == 0


#: a column named like an identifier is never read as a score or an amount, whatever its values
_ID_WORDS = _words("id nr no num number nummer numero key code ref")
#: distinct values in a profile that make a column varied enough to be an identifier
_ID_MIN_DISTINCT = 100


def _varied(p: _Profile) -> bool:
    """Whether a column has the many distinct values an identifier needs: half of its values,
    or 100 of the (up to 5,000) profiled ones. A store number or a quantity repeats far more."""
    return p.distinct >= min(0.5 * p.n, _ID_MIN_DISTINCT)


def _kind(p: _Profile, col: str) -> tuple[str, str] | None:
    """(kind, reason) for a column by its values; kind picks the roles it may fill."""
    quantity = is_quantity_name(col)
    if quantity and (p.ints is not None or p.decimals):
        return "quantity", "name says a quantity (how many), not an id, score or amount"
    if (not quantity and _ID_WORDS & set(fold(col).split("_")) and not p.date
            and not p.yyyymmdd):
        # named like an id: an id when its values vary enough, else nothing (never a score)
        return ("id", "name and values look like ids") if _varied(p) else None
    if p.boolean:
        return "boolean", "values look like yes/no"
    if p.yyyymmdd:
        return "date", "8-digit values read as dates yyyymmdd"
    if p.ints is not None:
        return _int_kind(p, col)
    if p.decimals:
        return "money", "decimal numbers look like amounts"
    if p.date:
        return "date", "values read as dates"
    kind = _text_kind(p)
    return None if quantity and kind is not None and kind[0] == "id" else kind


def _int_kind(p: _Profile, col: str) -> tuple[str, str]:
    assert p.ints is not None
    lo, hi = p.ints
    if lo >= 0 and hi <= 10 and (lo == 0 or hi > 7):
        return "nps", f"values {lo}–{hi} look like NPS (0–10)"
    if lo >= 1 and hi <= 7:
        effort = _name_score(fold(col), SYNONYMS["ces"]) is not None
        scale = 5 if hi <= 5 else 7
        return ("ces" if effort else "score"), f"values {lo}–{hi} look like a 1–{scale} score"
    if lo >= 0 and p.distinct >= max(2, 0.5 * p.n):
        return "id", "many distinct whole numbers look like ids"
    if lo >= 1000 and p.same_width and _varied(p):
        return "id", "whole numbers of one width look like ids"
    return "count", "whole numbers look like counts"


def _text_kind(p: _Profile) -> tuple[str, str] | None:
    if p.mean_len >= 25 or (p.spaces_share >= 0.5 and p.distinct >= 0.8 * p.n and p.n >= 3):
        return "text", "long free text looks like comments"
    if p.digits_share >= 0.8 and p.spaces_share == 0:
        if all(_PERIOD.match(v.replace("_", "-")) for v in p.folded_values):
            return "period", "values look like periods"
        return "id", "short codes with digits look like ids"
    if p.distinct <= 50 and (p.distinct <= 12 or p.distinct <= 0.5 * p.n):
        channelish = sum(_is_channel(v) for v in p.folded_values)
        if channelish * 2 >= len(p.folded_values):
            return "channel", "few distinct values look like channels"
        if all(v in _COMPLEXITY_WORDS for v in p.folded_values):
            return "complexity", "values look like simple/complex"
        return "category", "few distinct words look like stages"
    return None


def _is_channel(v: str) -> bool:
    return v in _CHANNEL_WORDS or any(t in _CHANNEL_WORDS for t in v.split("_"))


#: which roles a kind of column may fill, in order of preference
_KIND_ROLES: dict[str, tuple[str, ...]] = {
    "boolean": ("first_contact_resolved",),
    "date": ("timestamp", "opened_at", "order_date", "resolved_at", "period"),
    "nps": ("nps",),
    "score": ("csat", "ces"),
    "ces": ("ces", "csat"),
    "id": ("customer_id", "ticket_id", "order_id"),
    "count": ("customers", "contacts", "amount", "revenue"),
    "quantity": ("customers", "contacts"),
    "money": ("amount", "revenue"),
    "text": ("comment",),
    "period": ("period",),
    "channel": ("channel", "touchpoint"),
    "complexity": ("complexity",),
    "category": ("stage", "touchpoint", "segment", "event", "channel"),
}


def _suggest(
    frame: pl.DataFrame, table: str, cache: dict[str, _Profile | None] | None = None
) -> dict[str, _Match]:
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}; choose one of {', '.join(TABLES)}")
    columns = [c for c in frame.columns if c != ROW]
    found = dict(_names_cached(columns, table, cache))
    roles = roles_of(table)
    used = {m.column for m in found.values()}
    for col in columns:
        if len(found) == len(roles):  # every role filled: no column's values can add one
            break
        if col in used:
            continue
        cache = {} if cache is None else cache
        if col not in cache:
            cache[col] = _profile(frame.get_column(col))
        prof = cache[col]
        kind = _kind(prof, col) if prof is not None else None
        if kind is None:
            continue
        name, reason = kind
        role = next((r for r in _KIND_ROLES[name] if r in roles and r not in found), None)
        if role is not None:
            found[role] = _Match(1.0, col, reason, False)
            used.add(col)
    return {r: found[r] for r in roles if r in found}


def suggest_roles(frame: pl.DataFrame, table: str) -> dict[str, str]:
    """Role -> column suggested for ``frame`` read as ``table``; names first, then values.

    >>> df = pl.DataFrame({"Kunden-Nr.": ["K1", "K2"], "Datum": ["01.03.2025", "02.03.2025"],
    ...                    "Phase": ["Kauf", "Beratung"]})
    >>> suggest_roles(df, "events")
    {'customer_id': 'Kunden-Nr.', 'timestamp': 'Datum', 'stage': 'Phase'}
    """
    return {r: m.column for r, m in _suggest(frame, table).items()}


def suggest_with_reasons(
    frame: pl.DataFrame, table: str, profiles: dict[str, Any] | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """:func:`suggest_roles` and :func:`explain_roles` in one pass over the values.

    ``profiles`` is a cache of column value profiles to share with :func:`suggest_table` on the
    same frame, so a column's values are looked at once per upload.

    >>> suggest_with_reasons(pl.DataFrame({"Q7": ["9", "0", "3"]}), "feedback")
    ({'nps': 'Q7'}, {'nps': 'values 0–9 look like NPS (0–10)'})
    """
    found = _suggest(frame, table, {} if profiles is None else profiles)
    return {r: m.column for r, m in found.items()}, {r: m.reason for r, m in found.items()}


def explain_roles(frame: pl.DataFrame, table: str) -> dict[str, str]:
    """Role -> short reason for each suggestion of :func:`suggest_roles`, for the mapping screen.

    >>> explain_roles(pl.DataFrame({"Empfehlung": ["9", "10", "3"]}), "feedback")
    {'nps': "name matches 'empfehlung'"}
    >>> explain_roles(pl.DataFrame({"Q7": ["9", "0", "3"]}), "feedback")
    {'nps': 'values 0–9 look like NPS (0–10)'}
    """
    return {r: m.reason for r, m in _suggest(frame, table).items()}


def _table_score(frame: pl.DataFrame, table: str, cache: dict[str, _Profile | None]) -> float:
    found = _suggest(frame, table, cache)
    return _score(table, found, len([c for c in frame.columns if c != ROW]))


def _score(table: str, found: dict[str, _Match], n_columns: int) -> float:
    roles = roles_of(table)
    score = 0.0
    for role, m in found.items():
        weight = _role_weight(table, role)
        if not m.by_name:
            weight *= 0.5
        elif m.score < 300:
            weight *= 0.7
        score += weight
    missing = [r for r, role in roles.items() if role.required and r not in found]
    score -= 4.0 * len(missing)
    if table == "feedback":
        score += 3.0 if any(r in found for r in FEEDBACK_SCORES) else -4.0
    unexplained = n_columns - len(found)
    return score - 0.5 * unexplained


def _role_weight(table: str, role: str) -> float:
    return 3.0 if roles_of(table)[role].required else 2.0 if role in _DISTINCTIVE[table] else 1.0


def _names_cached(columns: list[str], table: str, cache: dict | None) -> dict[str, _Match]:
    """:func:`_by_name`, kept in a suggestion's cache (bounds and scores ask for it again).

    That cache maps column names to value profiles; these entries sit beside them under tuple
    keys, which no column name can equal.
    """
    if cache is None:
        return _by_name(columns, table)
    key = ("by name", table, tuple(columns))  # a tuple never clashes with a column's name
    if key not in cache:
        cache[key] = _by_name(columns, table)
    return cache[key]


def _score_bound(frame: pl.DataFrame, table: str, cache: dict | None = None) -> float:
    """The most :func:`_table_score` can give, from the column names alone (no values looked at).

    Names are matched first and exactly as the full score does; each column left over can fill
    at most one more role by its values, worth at most half that role's weight, plus the missing
    role's penalty and the unexplained column's half point it takes away (and, for feedback, the
    swing from no score column to one).
    """
    columns = [c for c in frame.columns if c != ROW]
    by_name = _names_cached(columns, table, cache)
    roles = roles_of(table)
    gains = sorted(
        (0.5 * _role_weight(table, r) + (4.0 if role.required else 0.0) + 0.5
         for r, role in roles.items() if r not in by_name),
        reverse=True,
    )
    k = min(len(columns) - len(by_name), len(gains))
    bound = _score(table, by_name, len(columns)) + sum(gains[:k])
    if table == "feedback" and k and not any(r in by_name for r in FEEDBACK_SCORES):
        bound += 7.0
    return bound


def suggest_table(
    frame: pl.DataFrame, hint: str | None = None, *, profiles: dict[str, Any] | None = None
) -> str:
    """Which of the five tables ``frame`` most likely is.

    Scores each table by the required and distinctive roles its columns fill (by name counting
    more than by values); ``hint`` (a sheet or file name such as "Umfrage" or "tickets.csv") adds
    weight to the table it names. ``profiles`` (an empty dict to start) collects the value
    profiles computed here for :func:`suggest_with_reasons` on the same frame.

    >>> suggest_table(pl.DataFrame({"Kunde": ["1"], "Bestelldatum": ["01.03.2025"],
    ...                             "Betrag": ["12,50"]}))
    'orders'
    >>> suggest_table(pl.DataFrame({"A": ["x"], "B": ["y"]}), hint="Umfrage.xlsx")
    'feedback'
    """
    hint_tokens: set[str] = set()
    if hint:
        base = re.sub(r"\.(csv|tsv|txt|xlsx|xlsm|xls|ods|parquet|jsonl?|ndjson)$", "", hint,
                      flags=re.IGNORECASE)
        folded = fold(base)
        hint_tokens = set(folded.split("_")) | {folded}
    def hinted(table: str) -> float:
        return _HINT_WEIGHT if hint_tokens & set(_HINTS[table]) else 0.0

    # the first table (in TABLES order) with the highest score wins; a table whose bound from
    # its column names cannot reach the best score found so far is not looked at by its values
    cache: dict[str, _Profile | None] = {} if profiles is None else profiles
    order = {t: i for i, t in enumerate(TABLES)}
    bounds = {t: _score_bound(frame, t, cache) + hinted(t) for t in TABLES}
    best, best_key = "events", (float("-inf"), 0)
    for table in sorted(TABLES, key=lambda t: -bounds[t]):
        if bounds[table] < best_key[0] - 1e-9:
            break  # the bounds come in falling order: no table after this one can win either
        key = (_table_score(frame, table, cache) + hinted(table), -order[table])
        if key > best_key:
            best, best_key = table, key
    return best
