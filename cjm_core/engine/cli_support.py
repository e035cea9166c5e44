"""``python -m cjm_core funnel --source SPEC [--engine local|spark]``: the funnel of events read
where they live, through the engine seam (issue 15).

- ``--source parquet:PATH`` (a folder, a file or a glob), ``delta:PATH`` or ``table:NAME``
  (Spark only): events with the role-named columns (``customer_id``, ``timestamp``, ``stage``
  …), as the app's events table has them.
- ``--engine local`` (default) reads the Parquet files with polars and runs the local engine;
  ``--engine spark`` runs the same passes on Spark (``--spark-master local[2]`` by default, or
  ``sc://host:port`` for Spark Connect, or ``CJM_SPARK_MASTER``); ``--partitions`` sets the
  number of customer partitions.
- ``--start`` / ``--end`` (days, inclusive), ``--channel`` and ``--segment`` (repeatable) are the
  app's filters; on Spark they are pushed into the read.

The output is that of the file-based ``funnel`` command, plus the engine's line. pyspark is
imported only when ``--engine spark`` is used.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import time
import warnings
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from cjm_core.errors import QueryError, UsageError

if TYPE_CHECKING:  # pragma: no cover - imported when a source is used (CLI start-up stays fast)
    from cjm_core.analytics.funnel import FunnelResult
    from cjm_core.model.filters import Filters
    from cjm_core.model.journey import Journey


def add_engine_args(parser: argparse.ArgumentParser) -> None:
    """The engine options of a command; the command's FILE becomes optional (``--source``
    replaces it)."""
    for action in parser._actions:  # the positional FILE: optional once a source can be given
        if action.dest == "files":
            action.nargs, action.required, action.default = "*", False, []
    parser.add_argument("--source", metavar="SPEC",
                        help="read the events where they live instead of FILE: parquet:PATH, "
                             "delta:PATH or table:NAME (the last two with --engine spark)")
    parser.add_argument("--engine", choices=["local", "spark"], default="local",
                        help="compute here (polars) or on Spark; with --source only")
    parser.add_argument("--spark-master", metavar="URL",
                        help="local[N], spark://host:port, yarn or sc://host:port (Spark "
                             "Connect); default CJM_SPARK_MASTER or local[2]")
    parser.add_argument("--partitions", type=int, help="customer partitions on Spark")
    parser.add_argument("--start", type=date.fromisoformat, help="first day (YYYY-MM-DD)")
    parser.add_argument("--end", type=date.fromisoformat, help="last day (YYYY-MM-DD)")
    parser.add_argument("--channel", action="append", default=[], help="only this channel")
    parser.add_argument("--segment", action="append", default=[], help="only this segment")


def parquet_files(path: str) -> list[str]:
    """The Parquet files of a path (a file, a folder's ``*.parquet``, or a glob), sorted by name:
    their order is the read order that breaks ties between identical events."""
    p = Path(path)
    files = (sorted(glob.glob(str(p / "*.parquet"))) if p.is_dir()
             else sorted(glob.glob(path)) if any(ch in path for ch in "*?[") else [path])
    if not files or not all(Path(f).is_file() for f in files):
        raise QueryError(f"No Parquet file at {path!r}.", code="unreadable-file")
    return files


def local_events(source: str, columns: list[str], filters: Filters) -> pl.DataFrame:
    """The events of a ``parquet:`` source read by polars, filtered as the app filters them
    (the period on ``timestamp``, channel and segment on the events' own columns)."""
    kind, _, where = source.partition(":")
    if kind != "parquet":
        raise UsageError(f"--source {source!r}: the local engine reads parquet:PATH; use "
                         "--engine spark for delta: and table: sources.")
    lf = pl.scan_parquet(parquet_files(where))
    names = lf.collect_schema().names()
    missing = [c for c in columns if c not in names]
    if missing:
        raise QueryError(f"The events have no column {missing[0]!r}; they have "
                         + ", ".join(names), code="unknown-column")
    need = list(dict.fromkeys([*columns, *[c for c in ("channel", "segment") if c in names]]))
    frame = lf.select(need).with_row_index("_row").collect()
    if not filters.is_empty():
        from cjm_core.model.dataset import Dataset
        from cjm_core.model.journey import default_journey

        kept = filters.apply(Dataset(default_journey("4742"), events=frame)).events
        frame = kept if kept is not None else frame.clear()
    return frame.select(*columns, pl.col("_row").cast(pl.Int64))


def source_funnel(args: argparse.Namespace, steps: list[str],
                  journey: Journey | None = None) -> tuple[FunnelResult, str]:
    """The funnel of ``--source`` on the chosen engine, and a line saying where and how long."""
    from cjm_core.analytics.funnel import FunnelQuery
    from cjm_core.cli import parse_window
    from cjm_core.model.filters import Filters

    query = FunnelQuery(steps=steps, step_column=args.step_column,
                        window=parse_window(args.window), mode=args.mode,
                        reentry=args.reentry, breakdown=tuple(args.by),
                        exclude_open=args.exclude_open)
    if len(query.breakdown) > 2:
        raise UsageError("--by can be given at most twice")
    filters = Filters(args.start, args.end, tuple(args.channel), tuple(args.segment))
    t0 = time.perf_counter()
    if args.engine == "spark":
        from pyspark.sql import SparkSession

        from cjm_core.engine.spark import PushedFilters, SparkEngine, session

        # pyspark warns about pandas 3 on every Arrow job; the engine moves Arrow batches only
        warnings.filterwarnings("ignore", category=FutureWarning,
                                message="PySpark does not yet fully support pandas")
        master = args.spark_master or os.environ.get("CJM_SPARK_MASTER") or "local[2]"
        ours = SparkSession.getActiveSession() is None  # stop only a session started here
        spark = session(master)
        try:
            engine = SparkEngine(spark, args.source, PushedFilters(
                filters.start, filters.end, filters.channel, filters.segment), args.partitions)
            result = engine.funnel(query, journey)
            where = (f"spark {master}, {len(engine.last_times.rows)} partitions, "
                     f"{sum(engine.last_times.rows):,} rows")
        finally:
            if ours and not master.startswith("sc://"):
                spark.stop()
    else:
        from cjm_core.engine.local import LocalEngine
        from cjm_core.engine.passes import make_plan

        cols = make_plan(query, journey).columns()
        events = local_events(args.source, cols, filters)
        result = LocalEngine(events).funnel(query, journey)
        where = f"local, {events.height:,} rows"
    return result, f"engine: {where}, {time.perf_counter() - t0:.1f} s"


def cmd_source_funnel(args: argparse.Namespace, steps: list[str]) -> int:
    """The ``funnel`` command on ``--source``: the same output as on files."""
    if args.files and args.source:
        raise UsageError("Give either FILE or --source, not both.")
    if not args.source:
        raise UsageError("funnel needs FILE, or --source SPEC"
                         + (" (--engine spark reads events only from a source)"
                            if args.engine == "spark" else ""))
    result, where = source_funnel(args, steps)
    missing = result.missing_message()
    if missing:
        raise QueryError(missing, code="unknown-step")
    out = result.to_dict()
    medians = result.table["median_rel_error"].drop_nulls().to_list()
    out["median_rel_error"] = max(medians, default=0.0)
    if args.json:
        print(json.dumps(out, ensure_ascii=False, default=str))
        print(where, file=sys.stderr)
        return 0
    from cjm_core.cli import print_funnel

    print_funnel(out)
    if out["median_rel_error"]:
        print(f"median times within ±{out['median_rel_error']:.2%} (summarised above "
              "10,000 distinct values)")
    print(where, file=sys.stderr)
    return 0
