"""Channel transitions: `cjm_core.analytics.channels.transitions` against DuckDB's SQL (DESIGN §9:
no slower).

Both count consecutive channel pairs per customer in time order with file order breaking ties;
DuckDB numbers the rows in file order and takes ``lead()`` over the customer's events. The script
checks that both give the same counts before timing, then prints a markdown table of medians and
ratios (ours / DuckDB).

Run: ``.venv/bin/python -m bench.transitions_bench [N ...]`` (default 1M and 10M events).
"""

from __future__ import annotations

import sys

import duckdb
import polars as pl

from bench.common import median_seconds, table
from cjm_core.analytics.channels import transitions
from cjm_core.demo.sample import generate_events

SQL = """
select source, target, count(*)::bigint as count
from (
    select v as source,
           lead(v) over (partition by customer_id order by timestamp, ord) as target
    from (select customer_id, timestamp, {by}::varchar as v,
                 row_number() over () as ord
          from ev)
)
where target is not null
group by all
"""


def duck(con: duckdb.DuckDBPyConnection, by: str = "channel") -> pl.DataFrame:
    return con.sql(SQL.format(by=by)).pl()


def run(n: int, runs: int) -> list[tuple[str, float, str, float | None]]:
    ev = generate_events(n, "4742", seed=0, categorical=False)
    con = duckdb.connect()
    con.register("ev", ev)
    ours = transitions(ev).select("source", "target", "count").sort("source", "target")
    ref = duck(con).sort("source", "target")
    if ours.rows() != ref.rows():
        raise SystemExit(f"results differ at {n:,} events:\n{ours}\n{ref}")
    by_tp = transitions(ev, "touchpoint").select("source", "target", "count")
    if by_tp.sort("source", "target").rows() != duck(con, "touchpoint").sort(
            "source", "target").rows():
        raise SystemExit(f"touchpoint results differ at {n:,} events")
    label = f"{n / 1e6:g}M events"
    t_ours = median_seconds(lambda: transitions(ev), runs=runs)
    t_ref = median_seconds(lambda: duck(con), runs=runs)
    t_tp = median_seconds(lambda: transitions(ev, "touchpoint"), runs=runs)
    t_tp_ref = median_seconds(lambda: duck(con, "touchpoint"), runs=runs)
    con.close()
    print(f"{label}: {ours.height} channel pairs, {by_tp.height} touchpoint pairs, "
          f"{int(ours['count'].sum()):,} transitions; polars == DuckDB for both", file=sys.stderr)
    return [
        (f"transitions by channel, {label}", t_ours, "DuckDB lead() SQL", t_ref),
        (f"transitions by touchpoint, {label}", t_tp, "DuckDB lead() SQL", t_tp_ref),
    ]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    sizes = [int(float(a)) for a in argv] or [1_000_000, 10_000_000]
    rows = []
    for n in sizes:
        rows += run(n, runs=5 if n <= 2_000_000 else 3)
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
