"""The sample generator: deterministic, schema-shaped, believable, and carrying its planted facts.

Planted facts are checked at the data level with plain polars, on the data the committed
workbooks hold (SAMPLE_CUSTOMERS customers, SAMPLE_SEED), so the analysis tests built on them
stand on solid ground.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from itertools import pairwise

import fastexcel
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from cjm_core.demo.sample import (
    PLANTED_FACTS,
    SAMPLE_CUSTOMERS,
    SAMPLE_SEED,
    funnel_counts_example,
    generate,
    generate_events,
)
from cjm_core.model.journey import default_journey
from cjm_core.model.schema import roles_of
from tests.conftest import ROOT

ISICS = ("4773", "4741", "4742")
SAMPLE_DIR = ROOT / "sample_data"
TABLES = ("events", "feedback", "support", "orders")
DTYPES = {"id": pl.String, "text": pl.String, "category": pl.String, "datetime": pl.Datetime("us"),
          "number": pl.Float64, "integer": pl.Int64, "boolean": pl.Boolean, "score": pl.Int64}


@cache
def sample(isic: str) -> dict[str, pl.DataFrame]:
    """The data the committed workbook of `isic` holds."""
    return generate(isic, SAMPLE_CUSTOMERS, seed=SAMPLE_SEED)


def stage_names(isic: str) -> list[str]:
    return [s.name for s in default_journey(isic).stages]


def stage_reach(events: pl.DataFrame) -> dict[str, int]:
    """Distinct customers with any event at each stage (each stage counted on its own)."""
    return dict(events.group_by("stage").agg(pl.col("customer_id").n_unique()).iter_rows())


def ordered_reach(events: pl.DataFrame, stages: list[str]) -> list[int]:
    """Customers matching stages 1..k in order (t1 <= t2 <= ...), earliest match first."""
    e = events.select("customer_id", "timestamp", "stage")
    cur = (e.filter(pl.col("stage") == stages[0]).group_by("customer_id")
           .agg(pl.col("timestamp").min().alias("t")))
    out = [cur.height]
    for name in stages[1:]:
        nxt = (e.filter(pl.col("stage") == name)
               .select("customer_id", pl.col("timestamp").alias("t2")).sort("t2"))
        cur = (cur.sort("t").join_asof(nxt, left_on="t", right_on="t2", by="customer_id",
                                       strategy="forward", check_sortedness=False)
               .filter(pl.col("t2").is_not_null()).select("customer_id", pl.col("t2").alias("t")))
        out.append(cur.height)
    return out


def top2(df: pl.DataFrame) -> pl.DataFrame:
    return df.group_by("touchpoint").agg(pl.len().alias("n"), (pl.col("csat") >= 4).mean()
                                         .alias("share"))


# ---------------------------------------------------------------------------- determinism


@pytest.mark.parametrize("isic", ISICS)
def test_same_seed_gives_identical_frames(isic):
    a = generate(isic, 300, seed=7)
    b = generate(isic, 300, seed=7)
    for table in TABLES:
        assert_frame_equal(a[table], b[table])


@pytest.mark.parametrize("isic", ISICS)
def test_different_seed_gives_different_frames(isic):
    a, b = generate(isic, 300, seed=1), generate(isic, 300, seed=2)
    for table in TABLES:
        assert not a[table].equals(b[table]), table


def test_industries_differ():
    assert not sample("4773")["events"]["touchpoint"].unique().sort().equals(
        sample("4742")["events"]["touchpoint"].unique().sort())


def test_generate_events_is_deterministic():
    assert_frame_equal(generate_events(5000, seed=3), generate_events(5000, seed=3))
    assert not generate_events(5000, seed=3).equals(generate_events(5000, seed=4))


def test_unknown_industry_is_refused_with_the_known_codes():
    with pytest.raises(ValueError, match="4741, 4742, 4773"):
        generate("9999")


# ---------------------------------------------------------------------------- shape


@pytest.mark.parametrize("isic", ISICS)
@pytest.mark.parametrize("table", TABLES)
def test_columns_and_dtypes_match_schema_roles(isic, table):
    df = sample(isic)[table]
    roles = roles_of(table)
    extra = {"region"} if table == "events" else set()
    assert set(df.columns) == set(roles) | extra
    for name, role in roles.items():
        assert df.schema[name] == DTYPES[role.kind], (table, name, df.schema[name])


@pytest.mark.parametrize("isic", ISICS)
def test_required_and_key_columns_have_no_nulls(isic):
    data = sample(isic)
    for table, cols in {"events": ["customer_id", "timestamp", "stage", "touchpoint", "channel"],
                        "feedback": ["csat", "touchpoint", "stage", "customer_id"],
                        "support": ["ticket_id", "opened_at", "channel", "complexity"],
                        "orders": ["order_id", "customer_id", "order_date", "amount"]}.items():
        nulls = data[table].select(pl.col(cols).null_count()).row(0)
        assert nulls == (0,) * len(cols), (table, nulls)


@pytest.mark.parametrize("isic", ISICS)
def test_stages_are_the_journey_templates_display_names(isic):
    assert set(sample(isic)["events"]["stage"].unique()) == set(stage_names(isic))


def test_generate_events_has_the_events_columns_and_the_asked_row_count():
    df = generate_events(200_000)
    assert df.height == 200_000
    assert df.columns == sample("4742")["events"].columns
    assert isinstance(df.schema["stage"], pl.Enum)
    per_customer = df.height / df["customer_id"].n_unique()
    assert 3.5 < per_customer < 5.5  # DESIGN §9: 10M events for about 2.35M customers
    plain = generate_events(1000, "4741", categorical=False)
    assert plain.schema == sample("4741")["events"].schema


# ---------------------------------------------------------------------------- value ranges


@pytest.mark.parametrize("isic", ISICS)
def test_scores_stay_on_their_scales(isic):
    fb, sup = sample(isic)["feedback"], sample(isic)["support"]
    low, high = PLANTED_FACTS[isic]["ces_scale"]
    assert fb["csat"].min() >= 1 and fb["csat"].max() <= 5
    assert fb["nps"].min() >= 0 and fb["nps"].max() <= 10
    assert fb["ces"].min() >= low and fb["ces"].max() <= high
    assert sup["ces"].min() >= low and sup["ces"].max() <= high
    # the scale is used, not just its middle
    assert fb["csat"].n_unique() == 5 and fb["nps"].drop_nulls().n_unique() == 11


def test_ces_scale_follows_the_seeds():
    assert sample("4773")["feedback"]["ces"].max() == 7
    for isic in ("4741", "4742"):
        assert sample(isic)["feedback"]["ces"].max() == 5


@pytest.mark.parametrize("isic", ISICS)
def test_order_amounts_are_in_the_industry_band(isic):
    low, high = PLANTED_FACTS[isic]["amount_range"]
    amount = sample(isic)["orders"]["amount"]
    assert amount.min() >= low and amount.max() <= high
    assert low * 2 < amount.median() < high / 3


@pytest.mark.parametrize("isic", ISICS)
def test_everything_happens_within_the_two_years(isic):
    data = sample(isic)
    lo, hi = datetime(2024, 1, 1), datetime(2026, 1, 1)
    for table, col in [("events", "timestamp"), ("feedback", "timestamp"),
                       ("support", "opened_at"), ("orders", "order_date")]:
        ts = data[table][col]
        assert ts.min() >= lo and ts.max() < hi, table
    assert data["orders"]["order_date"].max() > datetime(2025, 11, 1)


@pytest.mark.parametrize("isic", ISICS)
def test_support_cases_are_plausible(isic):
    sup = sample(isic)["support"].with_columns(
        ((pl.col("resolved_at") - pl.col("opened_at")).dt.total_seconds() / 3600).alias("hours"))
    resolved = sup.filter(pl.col("resolved_at").is_not_null())
    assert (resolved["hours"] >= 0).all()
    assert 0 < sup["resolved_at"].null_count() < 0.1 * sup.height  # some cases still open
    assert set(sup["complexity"]) == {"simple", "complex"}
    assert resolved.filter(pl.col("first_contact_resolved"))["contacts"].eq(1).all()
    assert resolved.filter(~pl.col("first_contact_resolved"))["contacts"].ge(2).all()
    median = dict(resolved.group_by("complexity").agg(pl.col("hours").median()).iter_rows())
    assert median["simple"] < 6  # hours
    assert 18 < median["complex"] < 72  # one to three days
    assert sup["ticket_id"].n_unique() == sup.height


@pytest.mark.parametrize("isic", ISICS)
def test_orders_are_the_purchase_events(isic):
    ev, orders = sample(isic)["events"], sample(isic)["orders"]
    paid = ev.filter(pl.col("revenue").is_not_null())
    assert orders.height == paid.height
    assert orders["amount"].sum() == pytest.approx(paid["revenue"].sum())
    assert set(paid["stage"]) == {"Purchase", stage_names(isic)[-1]}
    assert orders["order_id"].n_unique() == orders.height


@pytest.mark.parametrize("isic", ISICS)
def test_comments_are_mostly_kind_and_complaints_sit_on_the_bad_touchpoint(isic):
    fb = sample(isic)["feedback"]
    commented = fb.filter(pl.col("comment").is_not_null())
    assert 0.15 < commented.height / fb.height < 0.5
    assert commented.filter(pl.col("csat") >= 4).height > commented.height / 2
    planted = PLANTED_FACTS[isic]["low_csat_touchpoint"]
    complaints = (commented.filter(pl.col("csat") <= 2).group_by("touchpoint").len()
                  .sort("len", "touchpoint", descending=True))
    assert complaints["touchpoint"][0] == planted
    complaint_share = complaints["len"][0] / complaints["len"].sum()
    answer_share = fb.filter(pl.col("touchpoint") == planted).height / fb.height
    assert complaint_share > 3 * answer_share
    assert complaint_share > 0.4


# ---------------------------------------------------------------------------- believability


@pytest.mark.parametrize("isic", ISICS)
def test_walk_ins_start_mid_journey(isic):
    ev = sample(isic)["events"]
    first = (ev.sort("timestamp", maintain_order=True).group_by("customer_id")
             .agg(pl.col("stage").first(), pl.col("segment").first()))
    mid = first.filter(pl.col("stage") != stage_names(isic)[0])
    assert mid.height > 0.2 * first.height
    walk_ins = first.filter(pl.col("segment") == "walk-in")
    entry = set(PLANTED_FACTS[isic]["walk_in_entry_stages"])
    assert walk_ins["stage"].is_in(entry).mean() > 0.95


@pytest.mark.parametrize("isic", ISICS)
def test_customers_cross_channels_both_ways(isic):
    ev = sample(isic)["events"]
    bought = ev.filter(pl.col("stage") == "Purchase").select(
        "customer_id", pl.col("channel").alias("bought_via"), pl.col("timestamp").alias("bought"))
    before = ev.join(bought, on="customer_id").filter(pl.col("timestamp") < pl.col("bought"))
    online_then_store = before.filter(pl.col("channel").is_in(["web", "app"]),
                                      pl.col("bought_via") == "store")
    store_then_online = before.filter(pl.col("channel") == "store",
                                      pl.col("bought_via").is_in(["web", "app"]))
    assert online_then_store["customer_id"].n_unique() > 50
    assert store_then_online["customer_id"].n_unique() > 50
    assert set(ev["channel"]) == {"web", "app", "phone", "store"}


@pytest.mark.parametrize("isic", ISICS)
def test_file_has_out_of_order_rows_ties_and_backward_steps(isic):
    ev = sample(isic)["events"]
    assert (ev["timestamp"].diff().dt.total_seconds() < 0).sum() > 0  # not sorted by time
    ties = ev.group_by("customer_id", "timestamp").len().filter(pl.col("len") > 1)
    assert ties.height > 10
    rank = {s: i for i, s in enumerate(stage_names(isic))}
    first_at = (ev.group_by("customer_id", "stage").agg(pl.col("timestamp").min())
                .with_columns(pl.col("stage").replace_strict(rank).alias("k"))
                .sort("customer_id", "k"))
    backward = first_at.filter(
        pl.col("timestamp") < pl.col("timestamp").shift(1).over("customer_id"))
    assert 0 < backward["customer_id"].n_unique() < 0.05 * ev["customer_id"].n_unique()


@pytest.mark.parametrize("isic", ISICS)
def test_segments_and_regions_are_present(isic):
    customers = sample(isic)["events"].unique("customer_id")
    share = dict(customers.group_by("segment").len().with_columns(
        pl.col("len") / customers.height).iter_rows())
    assert set(share) == {"researcher", "walk-in", "gift buyer", "pro/enthusiast"}
    assert all(0.1 < v < 0.5 for v in share.values())
    assert customers["region"].n_unique() == 4


@pytest.mark.parametrize("isic", ISICS)
def test_repeat_purchase_rate_is_believable(isic):
    per_customer = sample(isic)["orders"].group_by("customer_id").len()
    rate = (per_customer["len"] >= 2).mean()
    assert 0.15 <= rate <= 0.35


@pytest.mark.parametrize("isic", ISICS)
def test_funnel_narrows_from_step_one(isic):
    reached = ordered_reach(sample(isic)["events"], stage_names(isic))
    assert all(a >= b for a, b in pairwise(reached))
    assert reached[-1] > 30


# ---------------------------------------------------------------------------- planted facts


@pytest.mark.parametrize("isic", ISICS)
def test_planted_low_csat_touchpoint(isic):
    facts = PLANTED_FACTS[isic]
    fb = sample(isic)["feedback"]
    answers = fb.filter(pl.col("touchpoint") == facts["low_csat_touchpoint"])
    assert answers.height >= 150
    assert set(answers["stage"]) == {facts["low_csat_stage"]}
    share = (answers["csat"] >= 4).mean()
    assert share <= facts["low_csat_expected_max"]
    others = top2(fb).filter(pl.col("touchpoint") != facts["low_csat_touchpoint"],
                             pl.col("n") >= facts["csat_min_answers"])
    assert others.height >= 4
    assert others["share"].min() >= facts["other_csat_min"]
    assert others["share"].min() - share > 0.15
    assert 0.8 < others["share"].median() < 0.95


@pytest.mark.parametrize("isic", ISICS)
def test_planted_dropoff_step_by_stage_reach(isic):
    facts = PLANTED_FACTS[isic]
    stages = stage_names(isic)
    scope = stages[: stages.index(facts["dropoff_scope"][1]) + 1]
    reach = stage_reach(sample(isic)["events"])
    drop = {(a, b): 1 - reach[b] / reach[a] for a, b in pairwise(scope)}
    step = facts["high_dropoff_step"]
    assert drop[step] >= facts["high_dropoff_expected_min"]
    assert max(drop, key=drop.get) == step
    assert reach[step[0]] > 500  # robust at the committed size


@pytest.mark.parametrize("isic", ISICS)
def test_planted_dropoff_step_by_ordered_funnel(isic):
    facts = PLANTED_FACTS[isic]
    stages = stage_names(isic)
    scope = stages[: stages.index(facts["dropoff_scope"][1]) + 1]
    reached = ordered_reach(sample(isic)["events"], scope)
    drop = {step: 1 - n / m for step, (m, n) in zip(pairwise(scope), pairwise(reached),
                                                    strict=True)}
    step = facts["high_dropoff_step"]
    assert drop.pop(step) >= facts["high_dropoff_expected_min"]
    assert min(drop.values()) > 0.1
    assert max(drop.values()) <= facts["neighbour_dropoff_max"]


@pytest.mark.parametrize("isic", ISICS)
def test_planted_poor_first_contact_resolution(isic):
    facts = PLANTED_FACTS[isic]
    fcr = dict(sample(isic)["support"].filter(pl.col("resolved_at").is_not_null())
               .group_by("channel").agg(pl.col("first_contact_resolved").mean()).iter_rows())
    poor = fcr.pop(facts["poor_fcr_channel"])
    assert poor <= facts["poor_fcr_expected_max"]
    assert min(fcr.values()) >= facts["other_fcr_min"]


def test_planted_facts_name_real_stages_and_touchpoints():
    for isic, facts in PLANTED_FACTS.items():
        stages = stage_names(isic)
        assert all(s in stages for s in facts["high_dropoff_step"])
        assert facts["low_csat_touchpoint"] in set(sample(isic)["events"]["touchpoint"])
        assert facts["poor_fcr_channel"] in set(sample(isic)["support"]["channel"])


# ---------------------------------------------------------------------------- committed files


@pytest.mark.parametrize("isic", ISICS)
def test_committed_workbook_has_the_four_sheets_and_current_data(isic):
    path = SAMPLE_DIR / f"sample_{isic}.xlsx"
    assert path.exists(), "run `python -m cjm_core.demo.sample`"
    assert path.stat().st_size < 1_500_000
    assert fastexcel.read_excel(path).sheet_names == list(TABLES)
    for table in TABLES:
        got = pl.read_excel(path, sheet_name=table, engine="calamine")
        want = sample(isic)[table]
        assert got.columns == want.columns
        assert got.height == want.height, f"{path.name}:{table} is stale; regenerate it"
        times = [c for c, t in want.schema.items() if t == pl.Datetime("us")]
        assert all(got.schema[c] in (pl.Datetime("ms"), pl.Datetime("us")) for c in times)
        assert_frame_equal(got, want, check_dtypes=False)


def test_committed_funnel_counts_csv_matches_the_generator():
    path = SAMPLE_DIR / "funnel_counts_example.csv"
    got = pl.read_csv(path)
    want = funnel_counts_example("4742")
    assert_frame_equal(got, want, check_dtypes=False)


def test_funnel_counts_example_shape():
    df = funnel_counts_example("4742")
    assert df.columns == ["stage", "customers", "period", "segment", "channel"]
    assert (df["customers"] > 0).all()
    assert set(df["stage"]) == set(stage_names("4742"))
    assert df["period"].n_unique() == 8  # two years of quarters
    # summing over segments and channels gives a funnel shape around the planted step
    total = dict(df.group_by("stage").agg(pl.col("customers").sum()).iter_rows())
    assert total["Purchase"] < 0.6 * total["In-store demo"]


# ---------------------------------------------------------------------------- invariants


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(isic=st.sampled_from(ISICS), customers=st.integers(1, 80),
       seed=st.integers(0, 2**32 - 1), years=st.integers(1, 3))
def test_invariants_hold_for_any_seed_and_size(isic, customers, seed, years):
    data = generate(isic, customers, seed=seed, start=date(2023, 3, 1), years=years)
    ev, fb, sup, orders = (data[t] for t in TABLES)
    end = datetime(2023 + years, 3, 1)
    assert ev["customer_id"].n_unique() <= customers
    assert ev.filter((pl.col("timestamp") < datetime(2023, 3, 1))
                     | (pl.col("timestamp") >= end)).height == 0
    assert fb.filter(~pl.col("csat").is_between(1, 5)).height == 0
    assert fb.filter(~pl.col("nps").is_between(0, 10)).height == 0
    assert set(fb["customer_id"]) <= set(ev["customer_id"])
    assert set(orders["customer_id"]) <= set(ev["customer_id"])
    assert sup.filter(pl.col("resolved_at") < pl.col("opened_at")).height == 0
    assert sup.filter(pl.col("first_contact_resolved") & (pl.col("contacts") != 1)).height == 0
    assert (orders["amount"] > 0).all()
