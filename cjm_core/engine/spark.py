"""The Spark engine: the engine seam's passes run per Spark partition, partials summed here.

How a figure is computed (the same passes as :mod:`cjm_core.engine.local`):

1. The events are read where they live (``parquet:PATH``, ``delta:PATH``, ``table:NAME``, or a
   Spark DataFrame), only the columns the figure needs; the filters (period, channel, segment)
   are ``where`` clauses on the read, so Parquet and Delta skip what they can.
2. ``repartition(n, customer_id)`` puts every customer's events in one partition (a hash of the
   id); ``sortWithinPartitions(customer_id, timestamp)`` orders them.
3. ``mapInArrow`` runs the compiled per-customer pass on each partition (Arrow batches, cut at
   customer boundaries into chunks) and sends back one row: the partition's partial (pickled
   plain values), its rows and its seconds. No per-row Python.
4. The driver adds the partials and builds the figure exactly as the local engine does.

Only aggregates leave the executors. The funnel makes one more, cheaper pass first (no shuffle):
rows dropped, and the data's first and last timestamps and time unit.

pyspark is imported only inside this module's functions, so importing it costs nothing when
Spark is not used.
"""

from __future__ import annotations

import os
import pickle
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from cjm_core.analytics.funnel import FunnelQuery, FunnelResult
from cjm_core.engine import passes
from cjm_core.engine.partials import CountPartial, FunnelPartial, merge_all
from cjm_core.errors import QueryError, UsageError
from cjm_core.metric import Metric
from cjm_core.model.journey import Journey

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame, SparkSession

#: rows per chunk handed to the compiled pass inside a partition (whole customers)
CHUNK_ROWS = 1_000_000
_OUT_SCHEMA = "state binary, rows long, seconds double, peak_mb double"
_FILE = "_file"


def session(master: str = "local[2]", app: str = "cjm", conf: dict[str, str] | None = None
            ) -> SparkSession:
    """A SparkSession: ``sc://host:port`` connects to a Spark Connect server (needs
    ``pyspark[connect]``), anything else is a master URL (``local[2]``, ``spark://…``,
    ``yarn``). Python workers run this interpreter (``PYSPARK_PYTHON``) unless set already,
    and local workers import ``cjm_core`` from this checkout (on a cluster, install the package
    on the executors: docs/scale.md). The session's time zone is UTC, so timestamps read as
    stored."""
    from pyspark.sql import SparkSession

    if master.startswith("sc://"):
        builder = SparkSession.builder.remote(master)
    else:
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        if master.startswith("local"):  # local workers import cjm_core from this checkout
            root = str(Path(__file__).resolve().parents[2])
            paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
            if root not in paths:
                os.environ["PYTHONPATH"] = os.pathsep.join([root, *filter(None, paths)])
        builder = (SparkSession.builder.master(master)
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false")
                   .config("spark.sql.shuffle.partitions", "8")
                   .config("spark.sql.execution.arrow.maxRecordsPerBatch", "100000"))
    builder = builder.appName(app).config("spark.sql.session.timeZone", "UTC")
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def read_source(spark: SparkSession, source: str) -> DataFrame:
    """The events of a source spec: ``parquet:PATH`` (a folder, a file or a glob),
    ``delta:PATH`` or ``table:NAME`` (a catalog table)."""
    kind, sep, where = source.partition(":")
    if not sep or not where:
        raise UsageError(f"A Spark source is parquet:PATH, delta:PATH or table:NAME; got "
                         f"{source!r}.")
    if kind == "parquet":
        return spark.read.parquet(where)
    if kind == "delta":
        return spark.read.format("delta").load(where)
    if kind == "table":
        return spark.read.table(where)
    raise UsageError(f"Unknown Spark source kind {kind!r}: use parquet:, delta: or table:.")


@dataclass(frozen=True)
class PushedFilters:
    """The shared filters as Spark ``where`` clauses on the events (period: ``start``
    inclusive, ``end`` inclusive as a day; channel and segment: the values listed)."""

    start: date | None = None
    end: date | None = None
    channel: tuple[str, ...] = ()
    segment: tuple[str, ...] = ()

    def apply(self, df: DataFrame) -> DataFrame:
        from pyspark.sql import functions as F

        if self.start is not None:
            df = df.where(F.col("timestamp") >= F.lit(_day(self.start)))
        if self.end is not None:
            df = df.where(F.col("timestamp") < F.lit(_day(self.end) + timedelta(days=1)))
        if self.channel and "channel" in df.columns:
            df = df.where(F.col("channel").isin(list(self.channel)))
        if self.segment:
            if "segment" not in df.columns:
                return df.where(F.lit(False))
            df = df.where(F.col("segment").isin(list(self.segment)))
        return df


def _day(d: date) -> datetime:
    return datetime(d.year, d.month, d.day)


@dataclass
class PartitionTimes:
    """Rows and seconds of each partition's pass (the bench reports them)."""

    rows: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)  # the Python worker's peak RSS


# ----------------------------------------------------------------------------- partition side


def _read_order(chunk: pl.DataFrame) -> pl.DataFrame:
    """Rows in read order with ``_row`` counting them, when the read order is (file, row in
    file); the passes need only the relative order of one customer's rows."""
    if _FILE not in chunk.columns:
        return chunk
    return (chunk.sort(_FILE, passes.ROW).drop(_FILE)
            .with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias(passes.ROW)))


def _chunks(batches: Iterator[Any], whole_customers: bool) -> Iterator[pl.DataFrame]:
    """The partition's batches as polars frames of about CHUNK_ROWS rows, each holding whole
    customers (the partition is sorted by customer: the last customer of a chunk is held
    back and put in front of the next one), in read order."""
    for chunk in _customer_chunks(batches, whole_customers):
        yield _read_order(chunk)


def _customer_chunks(batches: Iterator[Any], whole_customers: bool) -> Iterator[pl.DataFrame]:
    import pyarrow as pa

    held: pl.DataFrame | None = None
    buf: list[Any] = []
    rows = 0

    def frame() -> pl.DataFrame:
        out = pl.from_arrow(pa.Table.from_batches(buf))
        assert isinstance(out, pl.DataFrame)
        return out if held is None else pl.concat([held, out], how="vertical_relaxed")

    for batch in batches:
        buf.append(batch)
        rows += batch.num_rows
        if rows < CHUNK_ROWS:
            continue
        chunk = frame()
        buf, rows = [], 0
        if whole_customers and chunk.height:
            last = chunk["customer_id"][-1]
            cut = int((chunk["customer_id"] == last).arg_max() or 0)
            held, chunk = chunk[cut:], chunk[:cut]
        else:
            held = None
        if chunk.height:
            yield chunk
    if buf:
        yield frame()
    elif held is not None and held.height:
        yield held


def _partition_fn(work: Callable[[pl.DataFrame], Any], whole_customers: bool = True
                  ) -> Callable[[Iterator[Any]], Iterator[Any]]:
    """The mapInArrow function: ``work`` per chunk (returns a partial with ``merge`` and
    ``to_state``), the partition's sum as one row."""
    def run(batches: Iterator[Any]) -> Iterator[Any]:
        import resource

        import pyarrow as pa

        t0 = time.perf_counter()
        total = None
        rows = 0
        for chunk in _chunks(batches, whole_customers):
            rows += chunk.height
            part = work(chunk)
            total = part if total is None else total.merge(part)
        if total is None:
            return
        state = pickle.dumps(total.to_state(), protocol=pickle.HIGHEST_PROTOCOL)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        yield pa.RecordBatch.from_pydict(
            {"state": [state], "rows": [rows], "seconds": [time.perf_counter() - t0],
             "peak_mb": [peak]},
            schema=pa.schema([("state", pa.binary()), ("rows", pa.int64()),
                              ("seconds", pa.float64()), ("peak_mb", pa.float64())]))
    return run


# ----------------------------------------------------------------------------- engine


class SparkEngine:
    """The figures of :class:`cjm_core.engine.local.LocalEngine`, computed on Spark.

    ``source``: a source spec (see :func:`read_source`) or a Spark DataFrame with the
    role-named columns (``customer_id``, ``timestamp``, ``stage`` …). ``partitions``: how many
    customer partitions (default: ``spark.sql.shuffle.partitions``)."""

    name = "spark"

    def __init__(self, spark: SparkSession, source: str | DataFrame,
                 filters: PushedFilters | None = None, partitions: int | None = None) -> None:
        self.spark = spark
        self.source = source
        self.filters = filters or PushedFilters()
        self.partitions = partitions
        self.last_times = PartitionTimes()  # the last job's partitions
        self.job_seconds: list[float] = []  # wall time of each Spark job run

    def _read(self, columns: list[str], order: bool = True) -> DataFrame:
        from pyspark.sql import functions as F

        df = read_source(self.spark, self.source) if isinstance(self.source, str) else self.source
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise QueryError(f"The events table has no column {missing[0]!r}.")
        df = self.filters.apply(df)
        keep = list(dict.fromkeys(columns))
        if not order:
            return df.select(*keep)
        if passes.ROW in df.columns:
            return df.select(*keep, passes.ROW)
        # read order breaks ties between identical events, as file order does locally: for
        # Parquet the file (by name) and the row in it, else the order Spark reads rows in
        if isinstance(self.source, str) and self.source.startswith("parquet:"):
            return df.select(*keep, F.col("_metadata.file_path").alias(_FILE),
                             F.col("_metadata.row_index").alias(passes.ROW))
        return df.select(*keep, F.monotonically_increasing_id().alias(passes.ROW))

    def _by_customer(self, df: DataFrame) -> DataFrame:
        from pyspark.sql import functions as F

        df = df.where(F.col("customer_id").isNotNull())
        n = self.partitions or int(self.spark.conf.get("spark.sql.shuffle.partitions") or 8)
        return df.repartition(n, "customer_id").sortWithinPartitions("customer_id",
                                                                    "timestamp")

    def _run(self, df: DataFrame, work: Callable[[pl.DataFrame], Any],
             whole_customers: bool = True) -> list[Any]:
        t0 = time.perf_counter()
        rows = df.mapInArrow(_partition_fn(work, whole_customers), _OUT_SCHEMA).collect()
        self.job_seconds.append(time.perf_counter() - t0)
        self.last_times = PartitionTimes([int(r["rows"]) for r in rows],
                                         [float(r["seconds"]) for r in rows],
                                         [float(r["peak_mb"]) for r in rows])
        return [pickle.loads(r["state"]) for r in rows]

    def _schema(self, df: DataFrame) -> dict[str, pl.DataType]:
        empty = pl.from_arrow(df.limit(0).toArrow())
        assert isinstance(empty, pl.DataFrame)
        return dict(empty.schema)

    def funnel(self, query: FunnelQuery | None = None, journey: Journey | None = None
               ) -> FunnelResult:
        """The funnel of the local engine, computed on Spark."""
        plan = passes.make_plan(query or FunnelQuery(), journey)
        stats = self._time_stats(self._read(plan.columns(), order=False), plan)
        plan = passes.with_time(plan, stats)
        # read order matters only for which row's breakdown value a tie picks
        df = self._read(plan.columns(), order=bool(plan.breakdown))
        states = self._run(self._by_customer(df), lambda part: passes.funnel_partial(part, plan))
        total = merge_all([FunnelPartial.from_state(s) for s in states],
                          FunnelPartial.empty(plan.k))
        schema = self._schema(df) if plan.breakdown else {}  # the breakdown columns' types
        return passes.funnel_result(total, plan, stats, schema)

    def _time_stats(self, df: DataFrame, plan: passes.FunnelPlan) -> passes.TimeStats:
        """:func:`passes.time_stats` as one Spark aggregation (no Python, no shuffle)."""
        from pyspark.sql import functions as F

        t0 = time.perf_counter()
        us = _micros(df)
        ok = (F.col("customer_id").isNotNull() & F.col("timestamp").isNotNull()
              & F.col(plan.step_column).isNotNull())
        kept_us = F.when(ok, us)
        aggs = [F.count(F.lit(1)).alias("all"), F.count(kept_us).alias("rows"),
                F.min(kept_us).alias("lo"), F.max(kept_us).alias("hi")]
        for unit in (1_000_000, 1000):
            r = F.pmod(kept_us, F.lit(unit))
            aggs += [F.min(r).alias(f"a{unit}"), F.max(r).alias(f"b{unit}")]
        row = df.agg(*aggs).collect()[0]
        self.job_seconds.append(time.perf_counter() - t0)
        if not row["rows"]:
            return passes.TimeStats(0, int(row["all"]))
        return passes.TimeStats(int(row["rows"]), int(row["all"]) - int(row["rows"]),
                                int(row["lo"]), int(row["hi"]),
                                {u: (int(row[f"a{u}"]), int(row[f"b{u}"]))
                                 for u in (1_000_000, 1000)})

    def transitions(self, by: Literal["channel", "touchpoint"] = "channel", *,
                    drop_self: bool = False) -> pl.DataFrame:
        """The transitions table of the local engine, computed on Spark."""
        df = self._by_customer(self._read(["customer_id", "timestamp", by]))
        states = self._run(df, lambda part: passes.transitions_partial(part, by))
        total = merge_all([CountPartial.from_state(s) for s in states], CountPartial())
        return passes.transitions_result(total, drop_self)

    def _channel_total(self, journey: Journey) -> CountPartial:
        present = self._columns()
        cols = ["customer_id", "timestamp", *[c for c in ("stage", "channel") if c in present]]
        df = self._by_customer(self._read(cols))
        states = self._run(df, lambda part: passes.channel_partial(part, journey))
        if not states:  # no events at all: the figures of an empty table
            empty = pl.from_arrow(df.limit(0).toArrow())
            assert isinstance(empty, pl.DataFrame)
            return passes.channel_partial(empty, journey)
        return merge_all([CountPartial.from_state(s) for s in states], CountPartial())

    def _columns(self) -> list[str]:
        df = read_source(self.spark, self.source) if isinstance(self.source, str) else self.source
        return list(df.columns)

    def omnichannel(self, journey: Journey) -> list[Metric]:
        """The omnichannel metrics of the local engine, computed on Spark."""
        return passes.omnichannel_result(self._channel_total(journey))

    def online_to_store(self, journey: Journey) -> Metric:
        """The online-to-store metric of the local engine, computed on Spark."""
        return passes.online_to_store_result(self._channel_total(journey))


def _micros(df: DataFrame) -> Any:
    """``timestamp`` as µs since the epoch, as the Arrow batches hand it to the passes: an
    instant (TIMESTAMP), a wall-clock time read as UTC (TIMESTAMP_NTZ) or a day (DATE)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import DateType, TimestampNTZType

    kind = df.schema["timestamp"].dataType
    if isinstance(kind, TimestampNTZType):
        return F.expr("timestampdiff(MICROSECOND, TIMESTAMP_NTZ'1970-01-01 00:00:00', "
                      "timestamp)")
    if isinstance(kind, DateType):
        return F.unix_date(F.col("timestamp")).cast("long") * F.lit(86_400_000_000)
    return F.unix_micros(F.col("timestamp"))
