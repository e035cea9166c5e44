"""The differential test of issue 15: the same figures on the local engine and on Spark
(local[2], started and stopped here), on random event logs and on a generated Parquet folder.

Under `make test` (CJM_REQUIRE_BROWSER=1) or with CI set, a missing Java or pyspark is a failure;
elsewhere these tests are skipped with the reason."""

from __future__ import annotations

import json
import os
import shutil
from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from cjm_core.analytics.funnel import FunnelQuery
from cjm_core.demo.sample import generate_events
from cjm_core.engine.local import LocalEngine
from cjm_core.model.filters import Filters
from cjm_core.model.journey import default_journey, journey_from_rows
from tests.test_engine import assert_same_funnel, event_logs, log_frame

JOURNEY = default_journey("4742")
STEPS = ["A", "B", "C", "D"]
LOG_JOURNEY = journey_from_rows("4742", STEPS, {"purchase": "D"})


def _missing() -> str | None:
    if shutil.which("java") is None:
        return "Java is not installed (make spark installs openjdk-17-jre-headless)"
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (requirements-dev.txt pins it)"
    return None


@pytest.fixture(scope="module")
def spark():
    reason = _missing()
    if reason:
        if os.environ.get("CJM_REQUIRE_BROWSER") == "1" or os.environ.get("CI"):
            pytest.fail(f"Spark tests must run under make test / CI: {reason}")
        pytest.skip(reason)
    from cjm_core.engine.spark import session

    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "PYSPARK_PYTHON")}
    s = session("local[2]", app="cjm-tests",
                conf={"spark.sql.shuffle.partitions": "3",
                      "spark.driver.memory": "1g",
                      "spark.sql.adaptive.enabled": "false"})
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()
    for key, value in saved.items():  # session() set them for its Python workers
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _engine(spark, frame: pl.DataFrame, partitions: int = 3, **kw):
    from cjm_core.engine.spark import SparkEngine

    with_row = frame.with_row_index("_row").with_columns(pl.col("_row").cast(pl.Int64))
    return SparkEngine(spark, spark.createDataFrame(with_row.to_arrow()), partitions=partitions,
                       **kw)


def _batched(logs: list) -> pl.DataFrame:
    """Many random logs in one frame: customer ids prefixed by the log's number, and the log
    in column ``log`` (one Spark job checks them all)."""
    frames = [log_frame(raw).with_columns(pl.lit(i, dtype=pl.Int64).alias("log"),
                                          (pl.lit(f"{i}:") + pl.col("customer_id"))
                                          .alias("customer_id"))
              for i, raw in enumerate(logs)]
    return pl.concat(frames) if frames else log_frame([]).with_columns(
        pl.lit(0, dtype=pl.Int64).alias("log"))


QUERY_FLAGS = st.tuples(st.sampled_from(["ordered", "strict", "any"]),
                        st.sampled_from(["latest", "first"]),
                        st.sampled_from([None, 25, 60]),
                        st.sampled_from([("log",), ("log", "channel")]),
                        st.sampled_from(["first", "last"]), st.booleans())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(event_logs, min_size=1, max_size=12), QUERY_FLAGS)
def test_random_logs_give_the_same_funnel_on_spark(spark, logs, flags):
    mode, reentry, minutes, by, attribution, exclude_open = flags
    ev = _batched(logs)
    q = FunnelQuery(steps=STEPS, mode=mode, reentry=reentry,
                    window=None if minutes is None else timedelta(minutes=minutes),
                    breakdown=by, attribution=attribution, exclude_open=exclude_open)
    try:
        want = LocalEngine(ev, parts=2).funnel(q)
    except TypeError:  # funnel.py's comparison of a breakdown with no customer left
        with pytest.raises(TypeError):
            _engine(spark, ev).funnel(q)
        return
    assert_same_funnel(want, _engine(spark, ev).funnel(q))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(event_logs, min_size=1, max_size=12))
def test_random_logs_give_the_same_channel_figures_on_spark(spark, logs):
    ev = _batched(logs)
    local, remote = LocalEngine(ev), _engine(spark, ev)
    assert_frame_equal(local.transitions("channel"), remote.transitions("channel"))
    assert local.omnichannel(LOG_JOURNEY) == remote.omnichannel(LOG_JOURNEY)
    assert local.online_to_store(LOG_JOURNEY) == remote.online_to_store(LOG_JOURNEY)


@pytest.fixture(scope="module")
def parquet_folder(tmp_path_factory):
    """A generated events folder of three Parquet files (about 60,000 events)."""
    folder = tmp_path_factory.mktemp("events")
    ev = generate_events(60_000, "4742", seed=9, categorical=False)
    for i, part in enumerate(ev.iter_slices(20_000)):
        part.write_parquet(folder / f"part-{i}.parquet")
    return folder, ev


EVERY_MODE = [FunnelQuery(mode=m, reentry=r, window=w)
              for m in ("ordered", "strict", "any") for r in ("latest", "first")
              for w in (None, timedelta(days=7))]


def test_every_mode_with_and_without_a_window_from_parquet(spark, parquet_folder):
    from cjm_core.engine.spark import SparkEngine

    folder, ev = parquet_folder
    remote = SparkEngine(spark, f"parquet:{folder}/*.parquet", partitions=4)
    local = LocalEngine(ev)
    for q in [*EVERY_MODE,
              FunnelQuery(window=timedelta(days=3), breakdown=("channel",),
                          attribution="last", exclude_open=True),
              FunnelQuery(mid_journey="per_stage", breakdown=("segment",))]:
        got = remote.funnel(q, JOURNEY)
        assert_same_funnel(local.funnel(q, JOURNEY), got)
        assert sum(remote.last_times.rows) == ev.height
    assert_frame_equal(local.transitions("touchpoint"), remote.transitions("touchpoint"))
    assert local.omnichannel(JOURNEY) == remote.omnichannel(JOURNEY)


def test_filters_are_pushed_into_the_read(spark, parquet_folder):
    from cjm_core.engine.spark import PushedFilters, SparkEngine
    from cjm_core.model.dataset import Dataset

    folder, ev = parquet_folder
    f = Filters(start=date(2024, 1, 10), end=date(2024, 2, 20), channel=("web", "store"),
                segment=("researcher",))
    pushed = PushedFilters(f.start, f.end, f.channel, f.segment)
    remote = SparkEngine(spark, f"parquet:{folder}", filters=pushed)
    plan = remote._read(["customer_id", "timestamp", "stage"])._jdf.queryExecution() \
        .executedPlan().toString()
    assert "PushedFilters: [" in plan and "IsNotNull(timestamp)" in plan
    want = f.apply(Dataset(JOURNEY, events=ev)).events
    assert want.height
    q = FunnelQuery(window=timedelta(days=7))
    assert_same_funnel(LocalEngine(want).funnel(q, JOURNEY), remote.funnel(q, JOURNEY))


def test_cli_funnel_through_spark_equals_the_local_engine(spark, parquet_folder, capsys):
    from cjm_core.cli import main

    folder, _ev = parquet_folder
    args = ["funnel", "--source", f"parquet:{folder}/*.parquet",
            "--steps", ",".join(s.name for s in JOURNEY.stages), "--window", "7d",
            "--mode", "strict", "--by", "segment", "--json"]
    assert main(args) == 0
    local = json.loads(capsys.readouterr().out)
    assert main([*args, "--engine", "spark", "--partitions", "4"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out) == local
    assert "engine: spark local[2], 4 partitions, 60,000 rows" in out.err
    assert spark.range(3).count() == 3  # the command left the tests' session running


@pytest.mark.parametrize("kind", ["date", "berlin", "parquet-naive", "ms"])
def test_timestamp_types_give_the_same_funnel(spark, tmp_path, kind):
    """Days, instants with a time zone, wall-clock times read from Parquet (TIMESTAMP_NTZ)
    and millisecond times: the same time unit, last timestamp and open windows on Spark."""
    from cjm_core.engine.spark import SparkEngine

    raw = [(c, m, s, ch) for c, m, s, ch in
           [("a", 0, "A", "web"), ("a", 3, "B", "app"), ("b", 1, "A", None), ("b", 9, "C", "web"),
            ("c", 2, "B", "store"), ("c", 4, "A", "web"), ("c", 40, "B", "web"),
            ("d", 39, "A", "store")]]
    ev = log_frame(raw)
    if kind == "date":
        ev = ev.with_columns(pl.col("timestamp").dt.offset_by("1d").dt.date()
                             + pl.duration(days=pl.int_range(pl.len())))
    elif kind == "berlin":
        ev = ev.with_columns(pl.col("timestamp").dt.replace_time_zone("Europe/Berlin"))
    elif kind == "ms":
        ev = ev.with_columns(pl.col("timestamp") + pl.duration(milliseconds=pl.int_range(pl.len())))
    q = FunnelQuery(steps=STEPS, window=timedelta(minutes=60))
    if kind == "date":
        q = FunnelQuery(steps=STEPS, window=timedelta(days=2))
    if kind == "parquet-naive":
        ev.write_parquet(tmp_path / "ev.parquet")
        remote = SparkEngine(spark, f"parquet:{tmp_path}")
    else:
        remote = _engine(spark, ev)
    assert_same_funnel(LocalEngine(ev).funnel(q), remote.funnel(q))
