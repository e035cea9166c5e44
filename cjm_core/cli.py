"""Command line: check an export, and analyse files without the app.

- ``inspect FILE``: read a file exactly as the app does; the tables, their roles, every problem.
- ``funnel FILE --steps A,B,C``: the funnel, with window, re-entry, mode and breakdown.
- ``metrics FILE...``: every metric the files support, and with ``--industry`` the target gaps.
- ``report FILE... --industry ISIC --out report.html``: the whole analysis as one offline page.
- ``map FILE... --out map.png|svg|pdf|json|csv``: the journey map built from the files' data.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Collection
from datetime import timedelta
from pathlib import Path
from typing import NoReturn

from cjm_core import warm
from cjm_core.analytics.funnel import FunnelQuery, funnel, funnel_from_counts
from cjm_core.analytics.scorecard import all_metrics, scorecard
from cjm_core.errors import CJMError, QueryError, UsageError
from cjm_core.industries.journeys import INDUSTRIES
from cjm_core.industries.targets import gaps_table, targets_for
from cjm_core.ingest.pipeline import TableLoad, ingest, ingest_path
from cjm_core.ingest.validate import SCALES
from cjm_core.metric import format_value, label
from cjm_core.model.journey import describe
from cjm_core.model.schema import TABLES, roles_of
from cjm_core.storage.workspaces import DEFAULT_SAMPLE, dataset_from_loads

_ALL_ROLES = frozenset(r for t in TABLES for r in roles_of(t))


def _parse_map(items: list[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for item in items:
        role, sep, column = item.partition("=")
        if not sep or not role:
            raise UsageError(f"--map expects ROLE=COLUMN, got {item!r}")
        if role.strip() not in _ALL_ROLES:
            raise UsageError(f"--map {item!r}: there is no role {role.strip()!r}; roles are "
                             + ", ".join(sorted(_ALL_ROLES)))
        out[role.strip()] = column or None
    return out


def _parse_scales(items: list[str]) -> dict[str, int]:
    """``--scale csat=5`` (repeatable) as {role: scale}; a role or scale that does not exist is
    refused with the choices."""
    out: dict[str, int] = {}
    for item in items:
        role, _, number = item.partition("=")
        role = role.strip()
        options = SCALES.get(role)
        if options is None or not number.strip().isdigit() or int(number) not in options:
            allowed = "; ".join(f"{r}={'|'.join(map(str, o))}" for r, o in SCALES.items())
            raise UsageError(f"--scale expects ROLE=SCALE ({allowed}), got {item!r}")
        out[role] = int(number)
    return out


class _Parser(argparse.ArgumentParser):
    """argparse whose errors (an unknown flag, a missing argument, a choice not offered) are a
    :class:`UsageError`, so they come out as one line, or a JSON error under ``--json``."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m cjm_core", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ins = sub.add_parser("inspect", help="read a file as the app does and report what loads")
    ins.add_argument("file", type=Path)
    ins.add_argument("--sheet", action="append", help="only this sheet (repeatable)")
    ins.add_argument("--table", choices=list(TABLES), help="treat every sheet as this table")
    ins.add_argument("--map", action="append", default=[], metavar="ROLE=COLUMN",
                     help="assign a column to a role (repeatable); ROLE= unassigns")
    ins.add_argument("--date-order", choices=["dmy", "mdy"],
                     help="settle day-first vs month-first when the dates cannot")
    ins.add_argument("--scale", action="append", default=[], metavar="ROLE=SCALE",
                     help=_SCALE_HELP)
    ins.add_argument("--json", action="store_true", help="print one JSON object")

    fun = sub.add_parser("funnel", help="the funnel over chosen steps")
    _file_args(fun, many=False)
    fun.add_argument("--steps", required=True, help="comma-separated steps, in order")
    fun.add_argument("--step-column", default="stage", choices=["stage", "event", "touchpoint"])
    fun.add_argument("--window", help="conversion window, e.g. 30m, 12h, 7d (default: none)")
    fun.add_argument("--reentry", choices=["latest", "first"], default="latest")
    fun.add_argument("--mode", choices=["ordered", "strict", "any"], default="ordered")
    fun.add_argument("--by", action="append", default=[], metavar="COLUMN",
                     help="break down by this column (up to two)")
    fun.add_argument("--exclude-open", action="store_true",
                     help="leave out customers whose window is still open")
    fun.add_argument("--json", action="store_true", help="print one JSON object")
    from cjm_core.engine.cli_support import add_engine_args  # --source, --engine (issue 15)
    add_engine_args(fun)

    met = sub.add_parser("metrics", help="every metric the files support")
    _file_args(met, many=True)
    met.add_argument("--industry", choices=list(INDUSTRIES),
                     help="also judge the metrics against this industry's targets")
    met.add_argument("--json", action="store_true", help="print one JSON object")

    rep = sub.add_parser("report", help="the whole analysis as one self-contained HTML file")
    _file_args(rep, many=True)
    rep.add_argument("--industry", choices=list(INDUSTRIES), required=True)
    rep.add_argument("--out", type=Path, required=True, help="where to write the HTML")

    mp = sub.add_parser("map", help="the swimlane journey map built from the files' data")
    _file_args(mp, many=True)
    mp.add_argument("--industry", choices=list(INDUSTRIES), default=DEFAULT_SAMPLE)
    mp.add_argument("--segment", metavar="COLUMN=VALUE",
                    help="the map for one segment, e.g. segment=researcher or "
                         "first_channel=online")
    mp.add_argument("--out", type=Path, required=True,
                    help="map.png, map.svg, map.pdf, map.json or map.csv")
    return parser


def _file_args(parser: argparse.ArgumentParser, *, many: bool) -> None:
    parser.add_argument("files", type=Path, nargs="+" if many else 1, metavar="FILE")
    parser.add_argument("--map", action="append", default=[], metavar="ROLE=COLUMN",
                        help="assign a column to a role (repeatable); ROLE= unassigns")
    parser.add_argument("--date-order", choices=["dmy", "mdy"],
                        help="settle day-first vs month-first when the dates cannot")
    parser.add_argument("--scale", action="append", default=[], metavar="ROLE=SCALE",
                        help=_SCALE_HELP)


_SCALE_HELP = ("read a score on this scale, e.g. csat=5 (repeatable); otherwise the header's or "
               "the one most answers fit")


def _summary(load: TableLoad) -> str:
    r = load.result
    where = load.source + (f" [{load.sheet}]" if load.sheet else "")
    lines = [
        f"{where}: {r.table} — {r.status}",
        f"  rows in {r.rows_in}, loaded {r.rows_loaded}, rejected {r.rows_rejected}, "
        f"cells blanked {r.cells_blanked}",
        "  roles: " + (", ".join(f"{role}={col}" for role, col in r.roles.items()) or "none"),
    ]
    if r.scale_details:
        lines.append("  scales: " + ", ".join(f"{role}={scale.describe()}"
                                               for role, scale in r.scale_details.items()))
    if load.raw.encoding or load.raw.delimiter:
        lines.append(f"  encoding {load.raw.encoding}, delimiter {load.raw.delimiter!r}")
    for q in r.questions:
        hint = (f" (answer with --scale {q.role}={' or '.join(q.options)})"
                if q.code == "ambiguous-scale" else "")
        lines.append(f"  question: {q.message}{hint}")
    entry = load.to_dict()
    for p in entry["problems"][:20]:
        lines.append(f"  [{p['code']}] {p['message']}")
    if entry["problem_count"] > 20:
        lines.append(f"  … {entry['problem_count'] - 20:,} more problems (--json lists "
                     f"{len(entry['problems']):,} of them)")
    return "\n".join(lines)


def cmd_inspect(args: argparse.Namespace) -> int:
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        return _fail(args, "unreadable-file", f"cannot open {args.file}: {exc.strerror}")
    try:
        loads = ingest(data, args.file.name, sheets=args.sheet, table=args.table,
                       overrides=_parse_map(args.map), date_order=args.date_order,
                       scales=_parse_scales(args.scale))
    except CJMError as exc:
        return _fail(args, exc.code, exc.message)
    if args.json:
        tables = [dict(entry, source=str(args.file)) for entry in (ld.to_dict() for ld in loads)]
        print(json.dumps({"tables": tables}, ensure_ascii=False, default=str))
    else:
        print("\n\n".join(_summary(ld) for ld in loads) or f"{args.file}: no table found")
    return 0


def _fail(args: argparse.Namespace, code: str, message: str) -> int:
    if getattr(args, "json", False):
        print(json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False))
    else:
        print(f"error [{code}]: {message}", file=sys.stderr)
    return 2


def _dataset(args: argparse.Namespace, keep: Collection[str] | None = None):
    """Load the command's files as the app would and build a dataset (no workspace).

    ``keep``: the roles or columns the command reads besides each table's required roles; a
    Parquet file's other columns are then never read (see :func:`ingest`)."""
    loads = []
    for path in args.files:  # a large text file read for some columns is read in blocks
        loads += ingest_path(path, overrides=_parse_map(args.map) or None,
                             date_order=args.date_order, scales=_parse_scales(args.scale),
                             keep=keep)
    for ld in loads:
        if ld.result.status in ("partial", "failed", "needs_answer") or not ld.result.rows_loaded:
            print(f"note: {ld.source}: {ld.result.summary()}", file=sys.stderr)
    _refuse_nothing_loaded(loads)
    dataset = dataset_from_loads(loads, getattr(args, "industry", None) or DEFAULT_SAMPLE)
    source = ("from the data" if dataset.has("events", "stage")
              or dataset.has("funnel_counts", "stage") else "the industry template")
    print(f"journey ({source}): {describe(dataset.journey)}", file=sys.stderr)
    return dataset


def _refuse_nothing_loaded(loads: list[TableLoad]) -> None:
    """No row loaded from any file: an error naming why, never figures of nothing."""
    if any(ld.result.rows_loaded for ld in loads):
        return
    reasons, codes = [], []
    for ld in loads:
        empty = [p for p in ld.raw.problems if p.code == "empty-file"]
        errors = [p for p in ld.result.problems if p.severity == "error"]
        first = (empty if ld.result.rows_in == 0 else []) or errors or list(ld.result.problems)
        why = first[0].message if first else "it holds no data rows"
        codes.append(first[0].code if first else "empty-file")
        if codes[-1] == "ambiguous-date-order":
            why += " Run again with --date-order dmy or --date-order mdy."
        where = ld.source + (f" [{ld.sheet}]" if ld.sheet else "")
        reasons.append(f"{where}: {ld.result.rows_loaded} of {ld.result.rows_in} rows loaded "
                       f"as {ld.result.table}; {why}")
    raise CJMError("Nothing was loaded, so there is nothing to measure. "
                   + " ".join(reasons or ["No table was found in the files."]),
                   code=codes[0] if codes else "empty-file")


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_MAX_WINDOW_S = 100 * 366 * 86400


def parse_window(text: str | None) -> timedelta | None:
    """``30m``, ``12h``, ``7d``, ``2w`` (or plain seconds) as a timedelta.

    >>> parse_window("7d"), parse_window(None)
    (datetime.timedelta(days=7), None)
    """
    if not text:
        return None
    number, unit = (text[:-1], text[-1]) if text[-1] in _UNITS else (text, "s")
    try:
        seconds = float(number) * _UNITS[unit]
    except ValueError:
        raise UsageError(f"--window expects e.g. 30m, 12h or 7d, got {text!r}") from None
    if not math.isfinite(seconds) or seconds <= 0 or seconds > _MAX_WINDOW_S:
        raise UsageError(f"--window must be a positive length of at most 100 years, e.g. 30m, "
                         f"12h or 7d; got {text!r} (leave it out for no window)")
    return timedelta(seconds=seconds)


def cmd_funnel(args: argparse.Namespace) -> int:
    if args.source or args.engine != "local" or not args.files:  # events where they live
        from cjm_core.engine.cli_support import cmd_source_funnel
        return cmd_source_funnel(args, _steps(args))
    data = _dataset(args, keep={args.step_column, *args.by})
    if not data.has("events", "customer_id", "timestamp", "stage"):
        if data.funnel_counts is None:
            raise CJMError("The file holds no events table (customer, timestamp, stage) and no "
                           "funnel_counts table.", code="missing-role")
        result = funnel_from_counts(data.funnel_counts, _steps(args), tuple(args.by))
    else:
        query = FunnelQuery(
            steps=_steps(args), step_column=args.step_column, window=parse_window(args.window),
            mode=args.mode, reentry=args.reentry, breakdown=_columns(data, args.by),
            exclude_open=args.exclude_open)
        result = funnel(data.events, query, data.journey)
    missing = result.missing_message()  # None unless some step has no event
    if missing:  # a zero that only means "no such step" must not look like data
        raise QueryError(missing, code="unknown-step")
    out = result.to_dict()
    if args.json:
        print(json.dumps(out, ensure_ascii=False, default=str))
        return 0
    print_funnel(out)
    return 0


def print_funnel(out: dict) -> None:
    """A funnel's ``to_dict()`` as the text the ``funnel`` command prints (every engine)."""
    for part in out.get("segments") or [{"segment": {}, "steps": out["steps"]}]:
        if part["segment"]:
            print(", ".join(f"{k}={v}" for k, v in part["segment"].items()))
        for s in part["steps"]:
            rate = "" if s["overall_conversion"] is None else f"{s['overall_conversion']:.1%}"
            print(f"  {s['step']:<30} {s['reached']:>9,}  {rate:>7}  lost {s['lost'] or 0:,}")
    print(f"entered mid-journey: {out['entered_mid_journey']:,}; "
          f"open windows: {out['open_windows']:,}")


def _steps(args: argparse.Namespace) -> list[str]:
    steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    if len(steps) < 2:
        raise UsageError("--steps needs at least two steps, e.g. --steps A,B,C")
    return steps


def _columns(data, names: list[str]) -> tuple[str, ...]:
    """``--by`` names a role (channel, segment) or one of the file's other columns."""
    if len(names) > 2:
        raise UsageError("--by can be given at most twice")
    for name in names:
        if name not in data.events.columns:
            raise CJMError(f"--by {name!r}: the events have no such column; they have "
                           + ", ".join(data.events.columns), code="unknown-column")
    return tuple(names)


def cmd_metrics(args: argparse.Namespace) -> int:
    data = _dataset(args)
    metrics = all_metrics(data)
    out: dict = {"metrics": [m.to_dict() for m in metrics]}
    if args.industry:
        out["gaps"] = [g.to_dict() for g in scorecard(data).gaps]
    if args.json:
        print(json.dumps(out, ensure_ascii=False, default=str))
        return 0
    for m in metrics:
        cut = ", ".join(f"{k}={v}" for k, v in m.by.items())
        flag = " (low sample)" if m.low_sample else ""
        print(f"{label(m.metric):<34} {cut:<40} {format_value(m.value, m.unit):>10}  "
              f"n={m.n:,}{flag}")
    if args.industry:
        print()
        for row in gaps_table(scorecard(data).gaps).iter_rows(named=True):
            cut = f" [{row['cut']}]" if row["cut"] not in ("", "all") else ""
            note = f" — {row['note']}" if row["note"] not in ("", "–") else ""
            print(f"{row['status']:<24} {row['target']}{cut}: {row['value']} vs {row['goal']}"
                  f"{note}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from cjm_core.present.report import build_report  # renders charts: loaded only when asked for

    data = _dataset(args)
    targets = targets_for(args.industry)
    args.out.write_text(build_report(data, targets=targets), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


def cmd_map(args: argparse.Namespace) -> int:
    from cjm_core.journey_map.build import build_map  # renders charts: loaded only when asked for
    from cjm_core.journey_map.export import write

    segment = None
    if args.segment:
        column, sep, value = args.segment.partition("=")
        if not sep or not column or not value:
            raise UsageError(f"--segment expects COLUMN=VALUE, got {args.segment!r}")
        segment = (column, value)
    data = _dataset(args)
    journey_map = build_map(data, targets=targets_for(args.industry), segment=segment)
    write(journey_map, args.out)
    print(f"wrote {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        return _fail(argparse.Namespace(json="--json" in argv), exc.code, exc.message)
    command = {"inspect": cmd_inspect, "funnel": cmd_funnel, "metrics": cmd_metrics,
               "report": cmd_report, "map": cmd_map}[args.command]
    warm.start(argv)  # numba's start on a second thread (begun earlier by python -m cjm_core)
    try:
        return command(args)
    except OSError as exc:
        return _fail(args, "unreadable-file", f"cannot open {exc.filename}: {exc.strerror}")
    except CJMError as exc:
        return _fail(args, exc.code, exc.message)
    except Exception as exc:  # a bug, not the user's doing: one line, the trace on request
        if os.environ.get("CJM_DEBUG") == "1":
            raise
        _fail(args, "internal-error", f"{type(exc).__name__}: {exc} (a bug: run again with "
                                      "CJM_DEBUG=1 for the traceback, and report it)")
        return 1
