"""Command line: ``python -m cjm_core inspect FILE [--sheet NAME] [--json]``.

Reads a file exactly as the app does and prints what would load: the tables, their roles and every
problem. Analysts use it to check an export before uploading it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cjm_core.errors import CJMError
from cjm_core.ingest import TableLoad, ingest
from cjm_core.schema import TABLES


def _parse_map(items: list[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for item in items:
        role, sep, column = item.partition("=")
        if not sep or not role:
            raise SystemExit(f"--map expects ROLE=COLUMN, got {item!r}")
        out[role.strip()] = column or None
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cjm_core", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ins = sub.add_parser("inspect", help="read a file as the app does and report what loads")
    ins.add_argument("file", type=Path)
    ins.add_argument("--sheet", action="append", help="only this sheet (repeatable)")
    ins.add_argument("--table", choices=list(TABLES), help="treat every sheet as this table")
    ins.add_argument("--map", action="append", default=[], metavar="ROLE=COLUMN",
                     help="assign a column to a role (repeatable); ROLE= unassigns")
    ins.add_argument("--date-order", choices=["dmy", "mdy"],
                     help="settle day-first vs month-first when the dates cannot")
    ins.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _summary(load: TableLoad) -> str:
    r = load.result
    where = load.source + (f" [{load.sheet}]" if load.sheet else "")
    lines = [
        f"{where}: {r.table} — {r.status}",
        f"  rows in {r.rows_in}, loaded {r.rows_loaded}, rejected {r.rows_rejected}",
        "  roles: " + (", ".join(f"{role}={col}" for role, col in r.roles.items()) or "none"),
    ]
    if load.raw.encoding or load.raw.delimiter:
        lines.append(f"  encoding {load.raw.encoding}, delimiter {load.raw.delimiter!r}")
    for q in r.questions:
        lines.append(f"  question: {q.message}")
    entry = load.to_dict()
    for p in entry["problems"][:20]:
        lines.append(f"  [{p['code']}] {p['message']}")
    if entry["problem_count"] > 20:
        lines.append(f"  … {entry['problem_count'] - 20} more problems (use --json for all listed)")
    return "\n".join(lines)


def cmd_inspect(args: argparse.Namespace) -> int:
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        return _fail(args, "unreadable-file", f"cannot open {args.file}: {exc.strerror}")
    try:
        loads = ingest(data, args.file.name, sheets=args.sheet, table=args.table,
                       overrides=_parse_map(args.map), date_order=args.date_order)
    except CJMError as exc:
        return _fail(args, exc.code, exc.message)
    if args.json:
        tables = [dict(entry, source=str(args.file)) for entry in (ld.to_dict() for ld in loads)]
        print(json.dumps({"tables": tables}, ensure_ascii=False, default=str))
    else:
        print("\n\n".join(_summary(ld) for ld in loads) or f"{args.file}: no table found")
    return 0


def _fail(args: argparse.Namespace, code: str, message: str) -> int:
    if args.json:
        print(json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False))
    else:
        print(f"error [{code}]: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return {"inspect": cmd_inspect}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
