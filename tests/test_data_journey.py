"""Journeys from the data, not the template (issue 10 part 5): the stages of the uploaded events
in the order customers meet them, the template's names and stage roles where they correspond,
and "no data" for a role no data stage plays."""

from __future__ import annotations

import json
from datetime import datetime

import polars as pl
import pytest

from cjm_core.analytics.funnel import FunnelQuery, funnel
from cjm_core.analytics.scorecard import all_metrics, scorecard
from cjm_core.industries.targets import availability, evaluate, targets_for
from cjm_core.ingest.pipeline import ingest
from cjm_core.model.dataset import Dataset
from cjm_core.model.journey import (
    default_journey,
    describe,
    journey_from_events,
    journey_from_rows,
    journey_from_stages,
    proposal_table,
    role_by_meaning,
    stage_order,
)
from cjm_core.storage.workspaces import (
    data_journey,
    dataset_from_loads,
    ensure_sample_workspace,
    load_dataset,
    new_workspace,
    sample_workbook,
    save_loads,
)

GERMAN = ["Werbung gesehen", "Online recherchiert", "Beratung im Laden", "Kauf", "Reklamation"]
ENGLISH = ["Ad seen", "Browse", "Visit store", "Checkout", "Helpdesk"]


def journeys(paths: dict[str, list[str]]) -> pl.DataFrame:
    """Events from named customers' paths, one stage a day (2025-01-01, 01-02, …)."""
    rows = [(who, stage, datetime(2025, 1, 1 + day))
            for who, path in paths.items() for day, stage in enumerate(path)]
    return pl.DataFrame(rows, schema=["customer_id", "stage", "timestamp"], orient="row")


def export(stages: list[str], customers: int = 40) -> bytes:
    """An unknown shop export: German headers, ';', stages unlike the template's. Customer i
    goes ``1 + i % 5`` stages deep; every eighth one is a walk-in who starts at stage 3."""
    lines = ["Kunde;Zeitpunkt;Phase;Kanal"]
    for i in range(customers):
        start = 2 if i % 8 == 7 else 0
        for d, stage in enumerate(stages[start:start + 1 + i % 5]):
            channel = "Web" if start + d < 2 else "Laden"
            lines.append(f"K{i:02d};2025-03-{1 + d + i % 7:02d} 1{d}:00;{stage};{channel}")
    return ("\n".join(lines) + "\n").encode()


# ----------------------------------------------------------------------------- the order


def test_stage_order_by_hand():
    # a: Ad, Shop, Buy; b: Shop, Buy; c: Ad, Buy. Ad precedes Shop (a) and Buy (a, c); Shop
    # precedes Buy (a, b). First-occurrence ranks: Ad 0, 0; Shop 1, 0; Buy 2, 1, 1.
    order = stage_order(journeys({"a": ["Ad", "Shop", "Buy"], "b": ["Shop", "Buy"],
                                  "c": ["Ad", "Buy"]}))
    assert order["stage"].to_list() == ["Ad", "Shop", "Buy"]
    assert order["precedes"].to_list() == [2, 0, -2]
    assert order["position"].to_list() == [0.0, 0.5, 1.0]
    assert order["share"].to_list() == pytest.approx([2 / 3, 2 / 3, 1.0])


WALK_INS = {**{f"walk_in_{i}": ["Store", "Buy"] for i in range(5)},
            "researcher_1": ["Ad", "Research", "Store", "Buy"],
            "researcher_2": ["Ad", "Research", "Store"]}


def test_walk_ins_do_not_pull_a_later_stage_forward():
    # most customers walk into the store first; the two who see an ad and research online
    # visit the store after it. By median rank alone "Store" (0: the walk-ins) would come
    # before "Research" (1); every customer who has both meets Research first.
    order = stage_order(journeys(WALK_INS))
    assert order["stage"].to_list() == ["Ad", "Research", "Store", "Buy"]
    assert order["position"].to_list() == [0.0, 1.0, 0.0, 1.0]


def test_past_max_pairs_the_median_position_decides(monkeypatch):
    import cjm_core.model.journey as journey

    monkeypatch.setattr(journey, "MAX_PAIRS", 10)
    order = stage_order(journeys(WALK_INS))
    assert order["precedes"].to_list() == [0, 0, 0, 0]
    # medians Ad 0, Store 0, Research 1, Buy 1; means break the ties (Ad 0 < Store 4/7, and
    # Research 1 < Buy 4/3)
    assert order["stage"].to_list() == ["Ad", "Store", "Research", "Buy"]


def test_ties_are_broken_the_same_way_every_time():
    # "Mail" and "Call" never meet in one path and share position, share and first day: the
    # name decides. Equal times within a customer keep file order ("Zebra" row first).
    ev = journeys({"a": ["Mail", "Buy"], "b": ["Call", "Buy"]})
    assert stage_order(ev)["stage"].to_list() == ["Call", "Mail", "Buy"]
    assert stage_order(ev.reverse())["stage"].to_list() == ["Call", "Mail", "Buy"]
    same_time = pl.DataFrame({"customer_id": ["a", "a"], "stage": ["Zebra", "Apple"],
                              "timestamp": [datetime(2025, 1, 1)] * 2})
    assert stage_order(same_time)["stage"].to_list() == ["Zebra", "Apple"]


def test_rows_missing_a_required_value_are_left_out():
    ev = journeys({"a": ["Ad", "Buy"]}).vstack(pl.DataFrame(
        {"customer_id": [None, "b"], "stage": ["Ghost", None],
         "timestamp": [datetime(2025, 1, 1)] * 2}))
    assert stage_order(ev)["stage"].to_list() == ["Ad", "Buy"]


def test_large_data_orders_a_fixed_sample_that_keeps_rare_stages(monkeypatch):
    import cjm_core.model.journey as journey

    paths = {f"c{i}": ["Ad", "Shop", "Buy"][: 1 + i % 3] for i in range(300)}
    paths["unboxed"] = ["Ad", "Shop", "Buy", "Unboxing"]  # one customer: rare in any sample
    ev = journeys(paths)
    whole = stage_order(ev)
    monkeypatch.setattr(journey, "ORDER_SAMPLE_EVENTS", 100)
    sampled = stage_order(ev)
    assert sampled["stage"].to_list() == whole["stage"].to_list() == [
        "Ad", "Shop", "Buy", "Unboxing"]
    assert sampled.equals(stage_order(ev))  # the same sample every run
    ad = sampled.filter(pl.col("stage") == "Ad")["share"].item()
    assert ad == 1.0 and 0 < sampled.filter(pl.col("stage") == "Buy")["share"].item() < 1


# ----------------------------------------------------------------------------- names and roles


@pytest.mark.parametrize("name,role", [
    ("Kauf", "purchase"), ("Checkout", "purchase"), ("Bestellung", "purchase"),
    ("Beratung im Laden", "consultation"), ("Kaufberatung", "consultation"),
    ("Warenkorb", "cart"), ("Add to cart", "cart"), ("Helpdesk", "support"),
    ("Reklamation", "support"), ("Support", "support"), ("Anfrage", "inquiry"),
    ("Inquiry", "inquiry"), ("Visit store", "inquiry"), ("Werbung gesehen", None),
    ("Browse", None), ("Online recherchiert", None),
])
def test_roles_by_meaning(name, role):
    assert role_by_meaning(name) == role


def test_template_names_and_roles_where_names_correspond():
    j = journey_from_stages("4773", ["AWARENESS", "online-research", "Kauf", "Cart"])
    assert [(s.key, s.name) for s in j.stages] == [
        ("awareness", "Awareness"), ("online_research", "Online research"), ("kauf", "Kauf"),
        ("cart", "Cart")]
    # cart comes from the template, purchase by meaning; no stage says inquiry or support
    assert j.stage_roles == {"cart": "cart", "purchase": "kauf"}


def test_each_stage_plays_one_role_and_the_plainest_name_wins():
    j = journey_from_stages("4742", ["Repeat purchase", "Purchase", "Service hotline"])
    assert j.stage_roles == {"purchase": "purchase", "support": "service_hotline"}
    j = journey_from_stages("4742", ["Checkout", "Repeat purchase"])
    assert j.stage_roles == {"purchase": "checkout"}  # a tie: the earlier stage
    # "Support request" names inquiry and support by a word; "Support" names support whole
    j = journey_from_stages("4773", ["Support request", "Support"])
    assert j.stage_roles == {"inquiry": "support_request", "support": "support"}


def test_names_that_fold_alike_are_one_stage():
    j = journey_from_stages("4741", ["Kauf", "kauf", "KAUF "])
    assert [s.name for s in j.stages] == ["Kauf"]


@pytest.mark.parametrize("stages,roles", [
    (GERMAN, {"consultation": "beratung_im_laden", "purchase": "kauf",
              "support": "reklamation"}),
    (ENGLISH, {"inquiry": "visit_store", "purchase": "checkout", "support": "helpdesk"}),
])
def test_journey_of_an_unknown_export_follows_the_data(stages, roles):
    # the rows are shuffled: the order comes from the customers' paths, not the file
    ev = ingest(export(stages), "export.csv")[0].result.data.sample(fraction=1.0, seed=4)
    j = journey_from_events(ev, "4773")
    assert [s.name for s in j.stages] == stages
    assert j.stage_roles == roles
    assert describe(j).startswith(" → ".join(stages) + "; roles: ")


def test_proposal_table_lists_roles_and_evidence():
    ev = journeys({"a": ["Ad", "Checkout"], "b": ["Ad"]})
    j = journey_from_events(ev, "4773")
    table = proposal_table(j, stage_order(ev))
    assert table.rows() == [(1, "Ad", None, 1.0, 1.0), (2, "Checkout", "purchase", 0.5, 2.0)]


# ----------------------------------------------------------------------------- the samples


@pytest.mark.parametrize("isic", ["4773", "4741", "4742"])
def test_sample_workbooks_give_their_template_journey(isic, store):
    path = sample_workbook(isic)
    data = dataset_from_loads(ingest(path.read_bytes(), path.name), isic)
    assert data.journey == default_journey(isic)
    ws = ensure_sample_workspace(store, isic)
    assert store.get_journey(ws) == default_journey(isic)


# ----------------------------------------------------------------------------- a workspace


@pytest.mark.parametrize("stages", [GERMAN, ENGLISH])
def test_workspace_from_an_unknown_export(stages, store):
    from cjm_core.journey_map.build import KPI_REACHED, build_map

    ws = new_workspace(store, "Laden", "4773")
    assert store.get_journey(ws) == default_journey("4773")  # no data yet: the template
    save_loads(store, ws, ingest(export(stages), "export.csv"))
    data = load_dataset(store, ws)
    assert [s.name for s in data.journey.stages] == stages  # data order, nothing appended
    reached = funnel(data.events, FunnelQuery(), data.journey).table.sort("step_index")
    assert reached["reached"].to_list() == [35, 28, 21, 14, 7]
    assert all(0 < d < 1 for d in reached.filter(pl.col("step_index") > 1)["dropoff"])
    metrics = all_metrics(data)
    assert not [m for m in metrics if m.metric in ("cart_abandonment",
                                                    "inquiry_consultation_dropoff")]
    gaps = {g.metric: g for g in scorecard(data).gaps}
    assert gaps["cart_abandonment"].status == "no data"
    assert gaps["cart_abandonment"].reason == "needs the journey's cart stage role"
    m = build_map(data, targets=targets_for("4773"))
    kpis = {k: next(i.value for i in c.items if i.text == KPI_REACHED)
            for k, c in m.cells["kpis"].items()}
    assert [kpis[s.key] for s in m.stages] == [35, 28, 21, 14, 7]


def test_an_edited_journey_is_kept_when_events_arrive(store):
    ws = new_workspace(store, "Laden", "4773")
    mine = journey_from_rows("4773", ["Werbung gesehen", "Kauf"], {"purchase": "Kauf"})
    store.save_journey(ws, mine)
    save_loads(store, ws, ingest(export(GERMAN), "export.csv"))
    assert store.get_journey(ws) == mine
    proposed = data_journey(load_dataset(store, ws))
    assert proposed is not None and [s.name for s in proposed.stages] == GERMAN


def test_stage_values_spelt_differently_count_for_the_stage(store):
    ws = new_workspace(store, "Hi-Fi", "4742")
    csv = (b"customer,time,stage\n"
           b"a,2025-01-01 10:00,DISCOVERY\n"
           b"a,2025-01-02 10:00,online research\n"
           b"a,2025-01-03 10:00,Purchase\n"
           b"b,2025-01-01 10:00,discovery\n")
    save_loads(store, ws, ingest(csv, "e.csv"))
    data = load_dataset(store, ws)
    assert [s.name for s in data.journey.stages] == ["Discovery", "Online research", "Purchase"]
    table = funnel(data.events, FunnelQuery(), data.journey).table.sort("step_index")
    assert table["reached"].to_list() == [2, 1, 1]


def test_funnel_counts_give_a_journey_in_file_order():
    counts = pl.DataFrame({"stage": ["Anzeige", "Warenkorb", "Kasse"], "customers": [9, 5, 2]})
    j = data_journey(Dataset(default_journey("4773"), funnel_counts=counts))
    assert [s.name for s in j.stages] == ["Anzeige", "Warenkorb", "Kasse"]
    assert j.stage_roles == {"cart": "warenkorb", "purchase": "kasse"}


# ----------------------------------------------------------------------------- no data


def test_a_role_on_a_stage_without_events_is_no_data_not_100_percent():
    # the template's purchase stage has no event: cart abandonment would read 100%
    ev = journeys({"a": ["Awareness", "Cart"], "b": ["Cart"]})
    data = Dataset(default_journey("4773"), events=ev)
    assert not availability(data)["role.purchase"] and availability(data)["role.cart"]
    assert not [m for m in all_metrics(data) if m.metric == "cart_abandonment"]
    cart = [t for t in targets_for("4773") if t.metric == "cart_abandonment"]
    from cjm_core.metric import Metric

    gap = evaluate(cart, [Metric("cart_abandonment", 1.0, 2)], [Metric("cart_abandonment",
                   0.5, 2)], available=availability(data), journey=data.journey)[0]
    assert gap.status == "no data" and gap.value is None
    assert gap.reason == "needs the journey's purchase stage role"


# ----------------------------------------------------------------------------- command line


def test_cli_prints_the_journey_and_counts_real_customers(tmp_path, capsys):
    from cjm_core.cli import main
    from cjm_core.journey_map.build import KPI_REACHED
    from cjm_core.journey_map.model import JourneyMap

    path = tmp_path / "export.csv"
    path.write_bytes(export(ENGLISH))
    assert main(["metrics", str(path), "--industry", "4773", "--json"]) == 0
    captured = capsys.readouterr()
    assert "journey (from the data): Ad seen → Browse → Visit store → Checkout → Helpdesk" \
        in captured.err
    out = json.loads(captured.out)
    steps = [m for m in out["metrics"] if m["metric"] == "stage_conversion" and not m["by"].keys()
             - {"step"}]
    assert steps and all(0 < m["value"] < 1 for m in steps)
    gaps = {g["metric"]: g for g in out["gaps"]}
    assert gaps["cart_abandonment"]["status"] == "no data"
    mp = tmp_path / "map.json"
    assert main(["map", str(path), "--industry", "4773", "--out", str(mp)]) == 0
    m = JourneyMap.from_json(mp.read_text())
    assert [s.name for s in m.stages] == ENGLISH
    first = m.cells["kpis"][m.stages[0].key].items
    assert next(i.value for i in first if i.text == KPI_REACHED) == 35
    report = tmp_path / "report.html"
    assert main(["report", str(path), "--industry", "4773", "--out", str(report)]) == 0
    text = report.read_text(encoding="utf-8")
    assert "Ad seen → Browse → Visit store → Checkout → Helpdesk" in text
    assert "no stage plays: consultation, cart" in text
