"""A workspace's events read where they live (issue 15): what the app asks of a data-lake
source, on the local engine (``parquet:`` read by polars) or on Spark.

- :func:`describe`: the source's columns, events count, first and last day and the values
  offered to filter and pick steps on (the "Test the source" button, the sidebar filters);
- :func:`source_funnel`: the funnel of the source under the app's filters, pushed into the read;
- :func:`spark_session`: a Spark session, or a :class:`~cjm_core.errors.QueryError` saying why
  not (no Java, no pyspark, a server that does not answer).

Every failure is a :class:`~cjm_core.errors.CJMError` with a message a manager can act on
(:func:`spark_errors` turns pyspark's and py4j's exceptions into one), never a trace.
"""

from __future__ import annotations

import shutil
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from cjm_core.analytics.funnel import FunnelQuery, FunnelResult
from cjm_core.errors import CJMError, QueryError
from cjm_core.model.filters import Facets, Filters
from cjm_core.model.journey import Journey

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import SparkSession

#: columns whose distinct values are offered (steps, filters, breakdowns); at most MAX_VALUES each
VALUE_COLUMNS = ("stage", "channel", "segment", "touchpoint")
MAX_VALUES = 200


@dataclass(frozen=True)
class SourceFacts:
    """What a source holds: its columns (name → type), events count, first and last day, and
    the distinct values of :data:`VALUE_COLUMNS` present (sorted, at most MAX_VALUES)."""

    columns: dict[str, str]
    rows: int
    first_day: date | None = None
    last_day: date | None = None
    values: dict[str, list[str]] = field(default_factory=dict)

    def facets(self) -> Facets:
        """The sidebar's filter choices."""
        return Facets(self.first_day, self.last_day, self.values.get("channel", []),
                      self.values.get("segment", []))

    def missing(self) -> list[str]:
        """Required event columns the source lacks."""
        return [c for c in ("customer_id", "timestamp", "stage") if c not in self.columns]


@dataclass(frozen=True)
class SourceFunnel:
    """A funnel computed on a source: the result, the events read (after the filters), the
    engine's description and the seconds it took."""

    result: FunnelResult
    rows: int
    engine: str
    seconds: float


def _day(value: Any) -> date | None:
    if value is None:
        return None
    return value.date() if isinstance(value, datetime) else value


def _java_missing() -> bool:
    import os

    home = os.environ.get("JAVA_HOME")
    return shutil.which("java") is None and not (home and shutil.which("java", path=home
                                                                      + "/bin"))


def spark_session(master: str) -> SparkSession:
    """The process's Spark session for ``master`` (``local[2]``, ``spark://…``, ``yarn`` or
    ``sc://host:port``), started if none is; a QueryError (code ``spark-unavailable``) when
    Spark cannot start here. A process has one Spark session: while one runs, it is reused
    whatever master is asked for."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise QueryError("Spark is not installed on this server (the pyspark package); "
                         "compute on the local engine or install pyspark.",
                         code="spark-unavailable") from None
    if not master.startswith("sc://") and _java_missing():
        raise QueryError("Spark needs Java 17, which is not installed on this server (no "
                         "'java' on the PATH or in JAVA_HOME); install it, use a Spark "
                         "Connect server (sc://host:port), or compute on the local engine.",
                         code="spark-unavailable")
    from cjm_core.engine.spark import session

    # pyspark warns about pandas 3 on every Arrow job; the engine moves Arrow batches only
    warnings.filterwarnings("ignore", category=FutureWarning,
                            message="PySpark does not yet fully support pandas")
    with spark_errors(f"Spark ({master})", starting=True):
        spark = session(master, app="cjm-app")
        if not master.startswith("sc://"):
            spark.sparkContext.setLogLevel("ERROR")
        return spark


@contextmanager
def spark_errors(where: str, *, starting: bool = False) -> Iterator[None]:
    """Turn pyspark's and py4j's exceptions into a QueryError naming ``where``; our own
    errors pass through."""
    try:
        yield
    except CJMError:
        raise
    except Exception as exc:  # only pyspark's and py4j's are translated
        module = type(exc).__module__ or ""
        if not module.startswith(("pyspark", "py4j")) and not starting:
            raise
        raise QueryError(_spark_message(where, exc, starting), code="spark-error") from None


def _spark_message(where: str, exc: BaseException, starting: bool) -> str:
    text = str(exc)
    condition = getattr(exc, "getCondition", lambda: None)() or ""
    if "PATH_NOT_FOUND" in text or condition == "PATH_NOT_FOUND":
        return f"{where}: no events there, the path does not exist."
    if "TABLE_OR_VIEW_NOT_FOUND" in text:
        return f"{where}: no such table in Spark's catalog."
    if "DATA_SOURCE_NOT_FOUND" in text and "delta" in text.lower():
        return f"{where}: this Spark has no Delta Lake support (the delta-spark package)."
    if "JAVA_GATEWAY_EXITED" in text or "Java gateway" in text:
        return f"{where}: Spark could not start (Java gateway exited); is Java 17 installed?"
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
    verb = "could not start" if starting else "could not read the events"
    return f"{where}: Spark {verb}: {first[:300]}"


def _local_frame(spec: str) -> pl.LazyFrame:
    from cjm_core.engine.cli_support import parquet_files

    kind, _, where = spec.partition(":")
    if kind != "parquet":
        raise QueryError(f"The local engine reads Parquet only, not {kind}: sources; choose "
                         "Spark.", code="bad-query")
    return pl.scan_parquet(parquet_files(where))


def describe(spec: str, spark: SparkSession | None = None) -> SourceFacts:
    """The columns, events count, day range and offered values of a source spec, read by
    polars (``spark`` None; ``parquet:`` only) or by Spark."""
    if spark is None:
        return _describe_local(spec)
    return _describe_spark(spec, spark)


def _describe_local(spec: str) -> SourceFacts:
    lf = _local_frame(spec)
    try:
        schema = lf.collect_schema()
        present = [c for c in VALUE_COLUMNS if c in schema]
        aggs = [pl.len().alias("rows")]
        if "timestamp" in schema:
            aggs += [pl.col("timestamp").min().alias("lo"), pl.col("timestamp").max().alias("hi")]
        row = lf.select(aggs).collect().row(0, named=True)
        values = {c: _sorted_values(lf.select(pl.col(c).drop_nulls().unique().head(MAX_VALUES + 1))
                                    .collect().to_series().to_list())
                  for c in present}
    except pl.exceptions.PolarsError as exc:
        raise QueryError(f"The Parquet files at {spec.partition(':')[2]!r} could not be read: "
                         f"{str(exc).splitlines()[0][:300]}", code="unreadable-file") from None
    return SourceFacts({k: str(v) for k, v in schema.items()}, int(row["rows"]),
                       _day(row.get("lo")), _day(row.get("hi")), values)


def _sorted_values(raw: list[Any]) -> list[str]:
    return sorted(str(v) for v in raw)[:MAX_VALUES]


def _describe_spark(spec: str, spark: SparkSession) -> SourceFacts:
    from pyspark.sql import functions as F

    from cjm_core.engine.spark import read_source

    with spark_errors(spec):
        df = read_source(spark, spec)
        columns = {f.name: f.dataType.simpleString() for f in df.schema.fields}
        present = [c for c in VALUE_COLUMNS if c in columns]
        aggs = [F.count(F.lit(1)).alias("rows")]
        if "timestamp" in columns:
            aggs += [F.min("timestamp").alias("lo"), F.max("timestamp").alias("hi")]
        aggs += [F.slice(F.collect_set(F.col(c).cast("string")), 1, MAX_VALUES + 1).alias(c)
                 for c in present]
        row = df.agg(*aggs).collect()[0].asDict()
    return SourceFacts(columns, int(row["rows"]), _day(row.get("lo")), _day(row.get("hi")),
                       {c: _sorted_values(row[c] or []) for c in present})


def source_funnel(spec: str, query: FunnelQuery, journey: Journey | None, filters: Filters,
                  spark: SparkSession | None = None, *, master: str = "") -> SourceFunnel:
    """The funnel of a source under the app's filters: on the local engine (``spark`` None:
    the Parquet files read by polars, only the columns needed) or on Spark (the filters are
    ``where`` clauses on the read). The same figures as
    :func:`cjm_core.analytics.funnel.funnel` on those events."""
    t0 = time.perf_counter()
    if spark is None:
        from cjm_core.engine.cli_support import local_events
        from cjm_core.engine.local import LocalEngine
        from cjm_core.engine.passes import make_plan

        try:
            events = local_events(spec, make_plan(query, journey).columns(), filters)
        except pl.exceptions.PolarsError as exc:
            raise QueryError(f"The Parquet files at {spec.partition(':')[2]!r} could not be "
                             f"read: {str(exc).splitlines()[0][:300]}",
                             code="unreadable-file") from None
        result = LocalEngine(events).funnel(query, journey)
        return SourceFunnel(result, events.height, "the local engine",
                            time.perf_counter() - t0)
    from cjm_core.engine.spark import PushedFilters, SparkEngine

    engine = SparkEngine(spark, spec, PushedFilters(filters.start, filters.end,
                                                    filters.channel, filters.segment))
    with spark_errors(spec):
        result = engine.funnel(query, journey)
    return SourceFunnel(result, sum(engine.last_times.rows), f"Spark ({master or 'Spark'})",
                        time.perf_counter() - t0)
