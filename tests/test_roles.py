"""Role and table suggestion from column names (en/de/fr/es) and from values."""

from __future__ import annotations

import polars as pl
import pytest

from cjm_core.ingest.roles import SYNONYMS, explain_roles, fold, suggest_roles, suggest_table
from cjm_core.model.schema import TABLES


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Kunden-Nr.", "kunden_nr"),
        ("  Datum / Uhrzeit ", "datum_uhrzeit"),
        ("Eröffnet am", "eroffnet_am"),
        ("Größe", "grosse"),
        ("Résolu le", "resolu_le"),
        ("Satisfacción", "satisfaccion"),
        ("customerId", "customer_id"),
        ("CustomerID", "customer_id"),
        ("NPS", "nps"),
        ("Zufriedenheit (1–5)", "zufriedenheit_1_5"),
    ],
)
def test_fold(text, folded):
    assert fold(text) == folded


def test_every_role_of_every_table_has_synonyms():
    for roles in TABLES.values():
        for role in roles:
            assert SYNONYMS.get(role.name), role.name
            assert all(fold(s) == s for s in SYNONYMS[role.name]), role.name


def _frame(columns: dict[str, list[str]]) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    return pl.DataFrame({"__row__": list(range(2, n + 2)), **columns})


def test_german_event_headers():
    df = _frame({
        "Kunden-Nr.": ["K1", "K2"], "Datum/Uhrzeit": ["01.03.2025 10:00", "02.03.2025 11:00"],
        "Phase": ["Kauf", "Beratung"], "Kontaktpunkt": ["Kasse", "Theke"], "Kanal": ["web", "x"],
        "Umsatz": ["12,50", "3"],
    })
    assert suggest_roles(df, "events") == {
        "customer_id": "Kunden-Nr.", "timestamp": "Datum/Uhrzeit", "stage": "Phase",
        "touchpoint": "Kontaktpunkt", "channel": "Kanal", "revenue": "Umsatz",
    }
    reasons = explain_roles(df, "events")
    assert reasons["customer_id"] == "name matches 'kunden_nr'"
    assert reasons["timestamp"] == "name matches 'datum_uhrzeit'"


def test_french_and_spanish_headers():
    fr = _frame({"Numéro client": ["1"], "Horodatage": ["2025-03-01"], "Étape": ["achat"],
                 "Point de contact": ["caisse"], "Canal": ["web"]})
    assert suggest_roles(fr, "events") == {
        "customer_id": "Numéro client", "timestamp": "Horodatage", "stage": "Étape",
        "touchpoint": "Point de contact", "channel": "Canal",
    }
    es = _frame({"ID Cliente": ["1"], "Fecha pedido": ["2025-03-01"], "Importe": ["12,50"],
                 "Número pedido": ["P1"]})
    assert suggest_roles(es, "orders") == {
        "customer_id": "ID Cliente", "order_date": "Fecha pedido", "amount": "Importe",
        "order_id": "Número pedido",
    }


def test_support_headers_in_german():
    df = _frame({"Fall-Nr.": ["1"], "Erstellt am": ["01.03.2025"], "Gelöst am": ["02.03.2025"],
                 "Anzahl Kontakte": ["2"], "Erstkontaktlösung": ["ja"], "Komplexität": ["einfach"],
                 "Aufwand": ["2"]})
    assert suggest_roles(df, "support") == {
        "opened_at": "Erstellt am", "ticket_id": "Fall-Nr.", "resolved_at": "Gelöst am",
        "contacts": "Anzahl Kontakte", "first_contact_resolved": "Erstkontaktlösung",
        "complexity": "Komplexität", "ces": "Aufwand",
    }


def test_token_containment_matches_longer_names():
    df = _frame({"customer_account_number": ["1"], "event_datum_uhrzeit": ["2025-03-01"],
                 "journey_phase_name": ["buy"]})
    roles = suggest_roles(df, "events")
    assert roles == {"customer_id": "customer_account_number", "timestamp": "event_datum_uhrzeit",
                     "stage": "journey_phase_name"}
    assert explain_roles(df, "events")["customer_id"] == "name contains 'customer'"


def test_date_column_in_orders_borrows_timestamp_synonyms():
    df = _frame({"Kunde": ["1"], "Datum": ["01.03.2025"], "Betrag": ["1"]})
    assert suggest_roles(df, "orders")["order_date"] == "Datum"


def test_values_nps_csat_comment():
    df = _frame({
        "Q1": ["0", "10", "9", "7", "3", "8"],
        "Q2": ["1", "5", "4", "4", "2", "3"],
        "Spalte 7": ["", "", "", "", "", ""],
        "Q3": ["Die Beratung war sehr gut und freundlich", "Lange Wartezeit an der Kasse",
                    "Alles prima, gerne wieder", "Lieferung kam zu spät, schade", "ok so weit",
                    "Produkt defekt, Umtausch schwierig"],
    })
    roles = suggest_roles(df, "feedback")
    assert roles["nps"] == "Q1"
    assert roles["csat"] == "Q2"
    assert roles["comment"] == "Q3"
    assert "Spalte 7" not in roles.values()  # every cell empty: no evidence
    reasons = explain_roles(df, "feedback")
    assert reasons["nps"] == "values 0–10 look like NPS (0–10)"
    assert reasons["csat"] == "values 1–5 look like a 1–5 score"
    assert reasons["comment"] == "long free text looks like comments"


def test_values_effort_name_decides_ces():
    df = _frame({"Mühe (Aufwand) Score": ["1", "2", "5"], "Q": ["1", "5", "4"]})
    roles = suggest_roles(df, "feedback")
    assert roles["ces"] == "Mühe (Aufwand) Score"
    assert roles["csat"] == "Q"


def test_values_yyyymmdd_integers_are_dates():
    df = _frame({"K": ["A17", "B22", "A17"], "D": ["20250301", "20250302", "20251231"],
                 "S": ["Kauf", "Suche", "Kauf"]})
    roles = suggest_roles(df, "events")
    assert roles["timestamp"] == "D"
    assert explain_roles(df, "events")["timestamp"] == "8-digit values read as dates yyyymmdd"
    assert roles["customer_id"] == "K"
    assert roles["stage"] == "S"


def test_values_dates_channel_stage_boolean():
    df = _frame({
        "a": ["C001", "C002", "C001", "C003", "C002", "C004"],
        "b": ["2025-03-01 10:00", "2025-03-01 11:00", "2025-03-02 09:00", "2025-03-02 10:00",
              "2025-03-03 10:00", "2025-03-03 12:00"],
        "c": ["Suche", "Kauf", "Suche", "Beratung", "Kauf", "Suche"],
        "d": ["Filiale", "Web", "App", "Telefon", "Web", "Filiale"],
    })
    assert suggest_roles(df, "events") == {"customer_id": "a", "timestamp": "b", "stage": "c",
                                           "channel": "d"}
    support = _frame({"o": ["01.03.2025", "02.03.2025"], "r": ["02.03.2025", "05.03.2025"],
                      "f": ["ja", "nein"]})
    assert suggest_roles(support, "support") == {"opened_at": "o", "resolved_at": "r",
                                                 "first_contact_resolved": "f"}


def test_id_named_columns_are_not_scores():
    df = _frame({"id": ["1", "2", "3"], "Nr.": ["4", "5", "6"], "Bewertung": ["1", "2", "3"]})
    roles = suggest_roles(df, "feedback")
    assert roles == {"csat": "Bewertung", "customer_id": "id"}
    assert explain_roles(df, "feedback")["customer_id"] == "name and values look like ids"


def test_each_column_used_once_and_row_column_ignored():
    df = _frame({"Datum": ["2025-03-01"], "Date": ["2025-03-01"], "Kunde": ["1"]})
    roles = suggest_roles(df, "events")
    assert len(set(roles.values())) == len(roles)
    assert "__row__" not in roles.values()


def test_suggestion_is_deterministic():
    df = _frame({"x": ["A1", "B2", "A1"], "y": ["2025-01-01", "2025-01-02", "2025-01-03"],
                 "z": ["a", "b", "a"]})
    first = [suggest_roles(df, t) for t in TABLES]
    assert all([suggest_roles(df, t) for t in TABLES] == first for _ in range(3))


def test_unknown_table_is_refused():
    with pytest.raises(ValueError, match="unknown table"):
        suggest_roles(_frame({"a": ["1"]}), "nope")


@pytest.mark.parametrize(
    ("columns", "hint", "table"),
    [
        ({"Kunden-Nr": ["1"], "Datum": ["01.03.2025"], "Phase": ["Kauf"], "Kanal": ["web"]},
         None, "events"),
        ({"Kunde": ["1"], "Bestelldatum": ["01.03.2025"], "Betrag": ["12,50"],
          "Bestellnummer": ["B1"]}, None, "orders"),
        ({"Zufriedenheit": ["4"], "NPS": ["9"], "Kommentar": ["gut"]}, None, "feedback"),
        ({"Ticket": ["T1"], "Eröffnet": ["01.03.2025"], "Geschlossen": ["02.03.2025"]},
         None, "support"),
        ({"Phase": ["Kauf"], "Anzahl Kunden": ["120"], "Monat": ["2025-01"]}, None,
         "funnel_counts"),
        ({"Frage 1": ["4"], "Kunde": ["K1"]}, "Umfrage", "feedback"),
        ({"Nr": ["1"], "Datum": ["01.03.2025"]}, "Tickets", "support"),
        ({"Nr": ["1"], "Datum": ["01.03.2025"]}, "Bestellungen", "orders"),
        ({"Nr": ["1"], "Wert": ["5"]}, "feedback.csv", "feedback"),
        ({"Nr": ["1"], "Wert": ["5"]}, "funnel_2025.xlsx", "funnel_counts"),
    ],
)
def test_suggest_table(columns, hint, table):
    assert suggest_table(_frame(columns), hint=hint) == table


def test_suggest_with_reasons_matches_the_separate_calls_and_shares_profiles():
    from cjm_core.ingest.roles import suggest_with_reasons

    frame = pl.DataFrame({"A": ["K1", "K2", "K3"], "B": ["01.03.2025", "02.03.2025", "3.3.2025"],
                          "Q7": ["9", "10", "3"], "Kommentar": ["gut", "schlecht", None]})
    profiles: dict = {}
    table = suggest_table(frame, profiles=profiles)
    assert table == suggest_table(frame) and profiles  # value profiles were collected
    roles, reasons = suggest_with_reasons(frame, table, profiles)
    assert roles == suggest_roles(frame, table)
    assert reasons == explain_roles(frame, table)


def test_profiles_read_past_leading_empty_cells():
    from cjm_core.ingest.roles import _head_values

    s = pl.Series([None] * 12_000 + ["  7 ", ""] * 4000 + ["8"])
    head = _head_values(s, 5000)
    assert len(head) == 4001 and head[0] == "7" and head[-1] == "8"
    assert suggest_roles(pl.DataFrame({"Q": s}), "feedback") == {"nps": "Q"}


def _exhaustive_table(frame: pl.DataFrame, hint: str | None) -> str:
    """suggest_table without its bound: every table scored by names and values."""
    from cjm_core.ingest import roles as R

    tokens: set[str] = set()
    if hint:
        folded = fold(hint.rsplit(".", 1)[0])
        tokens = set(folded.split("_")) | {folded}
    best, best_score = "events", float("-inf")
    for table in TABLES:
        score = R._table_score(frame, table, {})
        score += R._HINT_WEIGHT if tokens & set(R._HINTS[table]) else 0.0
        if score > best_score:
            best, best_score = table, score
    return best


_VALUES = {
    "id": ["C1", "C2", "C3", "C4"], "when": ["01.03.2025", "02.03.2025", "13.03.2025", ""],
    "score": ["1", "5", "4", "2"], "nps": ["0", "9", "10", "7"], "words": ["web", "store",
    "app", "web"], "money": ["12.50", "3.99", "100.00", "7.10"], "yes": ["ja", "nein", "ja", ""],
    "text": ["Die Beratung war lang und gut", "zu teuer", "alles bestens hier", "nie wieder"],
}


@pytest.mark.parametrize("seed", range(60))
def test_the_bound_never_changes_the_suggested_table(seed):
    import random

    rng = random.Random(seed)
    names = [n for syns in SYNONYMS.values() for n in syns[:4]] + ["Q1", "Spalte", "x", "Info"]
    frame = pl.DataFrame({
        f"{rng.choice(names)}_{j}" if rng.random() < 0.3 else rng.choice(names) + " " * j:
        _VALUES[rng.choice(list(_VALUES))]
        for j in range(rng.randint(1, 8))
    })
    hint = rng.choice([None, "export.csv", "Umfrage.xlsx", "tickets.csv", "orders", "funnel"])
    assert suggest_table(frame, hint=hint) == _exhaustive_table(frame, hint)


def _name_score_reference(col: str, synonyms: tuple[str, ...]):
    """The plain loop over every synonym that _name_score's index replaces."""
    tokens = col.split("_")
    best = None
    for syn in synonyms:
        words = syn.split("_")
        if col == syn:
            cand = (300 + len(syn), syn, "matches")
        elif any(tokens[i:i + len(words)] == words for i in range(len(tokens) - len(words) + 1)):
            cand = (200 + len(syn), syn, "contains")
        elif "_" not in syn and len(syn) >= 4 and any(syn in t for t in tokens):
            cand = (100 + len(syn), syn, "contains")
        else:
            continue
        if best is None or cand[0] > best[0]:
            best = cand
    return best


def test_name_score_index_matches_the_plain_loop():
    from cjm_core.ingest.roles import _name_score

    words = sorted({w for syns in SYNONYMS.values() for s in syns for w in s.split("_")})
    names = [s for syns in SYNONYMS.values() for s in syns]
    names += [f"{a}_{b}" for a, b in zip(words, reversed(words), strict=True)]
    names += [f"{a}{b}" for a, b in zip(words[::3], words[1::3], strict=False)]
    names += ["kunden_nr_alt", "eroeffnungsdatum", "datum_der_bestellung", "x", "", "id_id"]
    checked = 0
    for synonyms in SYNONYMS.values():
        for name in names:
            assert _name_score(name, synonyms) == _name_score_reference(name, synonyms), name
            checked += 1
    assert checked > 5000


# --------------------------------------------------------------------------- quantities and ids

ID_ROLES = ("customer_id", "order_id", "ticket_id")

#: how many of something, in the languages the synonyms cover; the last ones hold an id role's
#: synonym ("Bestellungen", "customers", "commandes") that must not win either
QUANTITY_HEADERS = [
    "number_of_cds", "Anzahl Artikel", "nombre de produits", "cantidad", "qty", "no. of items",
    "count", "Artikelanzahl", "Bestellmenge", "Number of customers", "Anzahl Bestellungen",
    "nombre de commandes", "Cantidad pedido", "item_count", "Qty ordered",
]


@pytest.mark.parametrize("header", QUANTITY_HEADERS)
@pytest.mark.parametrize("table", ["orders", "events", "support", "feedback"])
def test_quantity_headers_never_become_an_id(header, table):
    """Even when every value differs (what an id's values look like), a quantity is no id."""
    n = 40
    df = _frame({
        "Datum": [f"{1 + i % 28:02d}.03.2025" for i in range(n)],
        header: [str(3 + 7 * i) for i in range(n)],
        "Betrag": [f"{10 + i}.50" for i in range(n)],
    })
    roles = suggest_roles(df, table)
    assert header not in {roles.get(r) for r in ID_ROLES}, roles


@pytest.mark.parametrize(
    ("header", "values"),
    [
        ("Menge", ["2.5", "1.0", "0.75", "3.25"]),  # decimals: kilos, not money
        ("qty", ["0", "1", "1", "0"]),  # 0/1: not yes/no
        ("Anzahl", ["2St", "1St", "4St", "3St"]),  # codes with digits: not an id
        ("count", ["3", "9", "10", "0"]),  # 0-10: not an NPS
    ],
)
def test_quantity_values_never_fill_an_id_score_amount_or_yes_no(header, values):
    n = 20
    df = _frame({"Kunde": [f"K{i % 7}" for i in range(n)],
                 "Datum": [f"{1 + i % 28:02d}.03.2025" for i in range(n)],
                 header: [values[i % len(values)] for i in range(n)]})
    forbidden = {*ID_ROLES, "csat", "nps", "ces", "amount", "revenue", "first_contact_resolved"}
    for table in ("orders", "feedback", "support", "events"):
        roles = suggest_roles(df, table)
        assert header not in {roles.get(r) for r in forbidden}, (table, roles)
    # a count it may be: the number of contacts of a support case
    assert suggest_roles(df, "support").get("contacts") in (header, None)


def test_purchase_log_quantity_is_not_the_order_id():
    """The public purchase log's columns: 'number' in 'number_of_cds' once made it order_id,
    which collapsed each customer's orders into one per quantity."""
    df = _frame({
        "customer_id": ["00001", "00002", "00002", "00003", "00003", "00003", "00004", "00005"],
        "date": ["19970101", "19970112", "19970112", "19970102", "19970330", "19970402",
                 "19970101", "19970101"],
        "number_of_cds": ["1", "1", "5", "2", "2", "2", "2", "1"],
        "dollar_value": ["11.77", "12.00", "77.00", "20.76", "20.76", "19.54", "29.33", "29.33"],
    })
    assert suggest_table(df, hint="CDNOW_master.txt") == "orders"
    assert suggest_roles(df, "orders") == {
        "customer_id": "customer_id", "order_date": "date", "amount": "dollar_value"}


def test_an_id_name_on_a_column_that_repeats_a_few_values_is_no_id():
    """'Filial-Nr.' (store number) holds 4 values over 40 rows: no id role, and no score
    either (a column named like an id is never read as one). With varied values it is an id."""
    n = 40
    base = {"Datum": [f"{1 + i % 28:02d}.03.2025" for i in range(n)],
            "Betrag": [f"{10 + i}.50" for i in range(n)]}
    few = _frame({**base, "Filial-Nr.": [str(1 + i % 4) for i in range(n)]})
    for table in ("orders", "events", "feedback", "support"):
        assert "Filial-Nr." not in suggest_roles(few, table).values(), table
    many = _frame({**base, "Filial-Nr.": [str(1000 + i) for i in range(n)]})
    assert suggest_roles(many, "orders")["customer_id"] == "Filial-Nr."
    codes = _frame({**base, "Code": [f"{1 + i % 3}" for i in range(n)],
                    "Kunde": [f"K{i % 15}" for i in range(n)]})
    assert "Code" not in suggest_roles(codes, "orders").values()


def test_whole_numbers_of_one_width_need_variety_to_be_ids():
    """Four-digit numbers repeating two values (a year, a branch code) are counts, not ids."""
    from cjm_core.ingest.roles import _kind, _profile

    p = _profile(pl.Series([str(2024 + i % 2) for i in range(50)]))
    assert _kind(p, "x")[0] != "id"
    p = _profile(pl.Series([str(5000 + i) for i in range(50)]))
    assert _kind(p, "x")[0] == "id"
