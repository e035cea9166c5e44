"""The user's whole path as whole processes (issue 14): a file in, the figure out.

    .venv/bin/python -m bench.path_bench [--sizes 1000000,10000000] [--runs 3] [--dir DIR]
    CJM_BENCH_30M=1 .venv/bin/python -m bench.path_bench      # also 30M events

Each case is a fresh process, started the same way for ours and for every peer, in turns
(ours, peer, floor, ours, peer, floor, ...) after one warm-up each, so the machine's drift
touches all alike; the table gives medians of wall time and of peak RSS (``/usr/bin/time``'s
maximum resident set of the child, started from a small process so nothing is inherited), and
ratios to the peer measured in the same run.

- **funnel**: ``python -m cjm_core funnel FILE --steps <the 7 stages> --window 7d --json``
  against ClickHouse's own ``windowFunnel(7 days)`` over the same file (chdb, in its own
  process; ``file(...)`` with the Parquet schema or the CSV's columns), and the polars floor:
  read the file, group by customer. The reached counts are checked equal to windowFunnel's
  levels on every size (the run stops if not).
- **metrics**: ``python -m cjm_core metrics FILE --json`` on the CSV against pandas'
  ``read_csv(engine="pyarrow")`` of the same file in its own process.
- **app**: the Overview's first view on a saved workspace holding the events (Streamlit
  AppTest running ``app.py``: DuckDB to every figure), once per size up to 10M, in a fresh
  process whose harness start (component scan, imports) is done before the clock starts.
- **upload**: the 1M-row CSV uploaded on the Data page to every figure of the Overview
  (:func:`app_upload`: the page's own functions from the file's bytes, then AppTest), in
  fresh processes; server time by part.

Data: ``cjm_core.demo.sample.generate_events`` (retail 4742, 7 stages, ≈ 4.2 events per
customer), written once per size to Parquet (polars defaults) and CSV (time stamps as
``YYYY-MM-DD hh:mm:ss``) under ``--dir`` (default: the system's temp folder). The CLI's upload
limit is raised for the run (``CJM_MAX_UPLOAD_MB``): a 10M-event CSV is ≈ 1 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STEPS = ["Discovery", "Online research", "In-store demo", "Purchase",
         "Delivery & installation", "Support", "Loyalty & advocacy"]
WINDOW_S = 7 * 86400
ROOT = Path(__file__).resolve().parent.parent
CSV_COLUMNS = ("customer_id String, timestamp DateTime, stage String, touchpoint String, "
               "channel String, event String, segment String, revenue Nullable(Float64), "
               "region String")


# ----------------------------------------------------------------------------- peers (children)


def peer_chdb(path: str) -> None:
    """ClickHouse ``windowFunnel`` over the file; prints each level's customer count as JSON."""
    import chdb

    conds = ", ".join("stage = '" + s.replace("'", "\\'") + "'" for s in STEPS)
    src = (f"file('{path}', Parquet)" if path.endswith(".parquet")
           else f"file('{path}', CSVWithNames, '{CSV_COLUMNS}')")
    sql = (f"SELECT level, count() FROM (SELECT customer_id, windowFunnel({WINDOW_S})"
           f"(toDateTime(timestamp), {conds}) AS level FROM {src} GROUP BY customer_id) "
           "GROUP BY level ORDER BY level")
    rows = chdb.query(sql, "CSV").bytes().decode().split()
    print(json.dumps({int(a): int(b) for a, b in (r.split(",") for r in rows)}))


def peer_floor(path: str) -> None:
    """Bare polars: read the file, count events per customer."""
    import polars as pl

    frame = pl.read_parquet(path) if path.endswith(".parquet") else pl.read_csv(path)
    print(frame.group_by("customer_id").agg(pl.len()).height)


def peer_pandas(path: str) -> None:
    """pandas' fastest CSV reader, reading only."""
    import pandas as pd

    print(len(pd.read_csv(path, engine="pyarrow")))


def app_first_view(path: str) -> None:
    """The app's first page view (the Overview) on a saved workspace holding the events of
    ``path`` (Parquet), through the real page code (Streamlit AppTest): DuckDB to every figure,
    in a fresh process; then a rerun with everything cached. Prints seconds as JSON."""
    import polars as pl
    from streamlit.testing.v1 import AppTest

    from cjm_core.model.journey import default_journey
    from cjm_core.storage.store import Store
    from cjm_core.storage.workspaces import sample_workspace_id

    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "bench.duckdb")
        events = pl.read_parquet(path)
        with Store(db) as store:
            ws = store.create_workspace("bench", default_journey("4742"),
                                        workspace_id=sample_workspace_id("4742"))
            store.save_tables(ws, {"events": events})
        del events
        os.environ["CJM_DB"] = db
        # a running server has found its components and imported its modules before a user
        # opens a workspace: the harness's one-off scan (≈ 4 s) and the imports are not timed
        AppTest.from_string("import streamlit as st\nst.write(1)").run()
        sys.path.insert(0, str(ROOT))
        from cjm_core.present import charts  # noqa: F401
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        # last before the clock: a thread it starts (ui's warm-up) gets no head start
        import ui  # noqa: F401
        t0 = time.perf_counter()
        at.run()
        first = time.perf_counter() - t0
        assert not at.exception, at.exception
        t0 = time.perf_counter()
        at.run()
        again = time.perf_counter() - t0
    print(json.dumps({"first": first, "again": again}))


#: seconds between the Data page offering the upload and the file arriving (choosing a file
#: in the browser's dialog takes a user longer); not counted
USER_PICKS_S = 1.5

#: the parts of the upload path as app_upload reports them
UPLOAD_PARTS = {
    "read": "read the file (hash it, ui.read_upload)",
    "check": "suggest the roles, preview, check and type (ui.load_choice)",
    "cache_hits": "the cached upload on the two reruns (Save click, rerun after it)",
    "save": "save (save_loads: DuckDB, digest, the data's journey)",
    "data_rerun": "the Data page's rerun after the save (AppTest)",
    "overview": "the Overview's first view (AppTest)",
    "total": "total",
}


def app_upload(path: str) -> None:
    """A CSV uploaded on the Data page to every figure of the Overview, through the page's own
    code in one fresh process: the functions the Data page calls on an upload and on Save
    (``ui.read_upload``, ``suggest``, ``ui.load_choice``, ``preview``, ``save_loads``; AppTest
    cannot drive ``st.file_uploader``), then, through AppTest in the same process and session,
    the Data page's rerun after the save and the Overview's first view. Untimed before it, as a
    user does: the app opens on the Overview (the empty workspace), then the Data page. Prints
    seconds per part as JSON."""
    from streamlit.testing.v1 import AppTest

    from cjm_core.model.journey import default_journey
    from cjm_core.storage.store import Store
    from cjm_core.storage.workspaces import sample_workspace_id

    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "bench.duckdb")
        with Store(db) as store:
            store.create_workspace("bench", default_journey("4742"),
                                   workspace_id=sample_workspace_id("4742"))
        os.environ["CJM_DB"] = db
        AppTest.from_string("import streamlit as st\nst.write(1)").run()
        sys.path.insert(0, str(ROOT))
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        at.run()  # the user lands on the Overview (the app's first page, no data yet) ...
        assert not at.exception, at.exception
        at.switch_page("app_pages/data.py").run()  # ... and opens the Data page
        import ui
        from cjm_core.ingest.pipeline import digest, suggest
        from cjm_core.ingest.preview import preview
        from cjm_core.storage.workspaces import save_loads

        assert not at.exception, at.exception
        data = Path(path).read_bytes()
        # the user picks the file: the page offered the upload (and began numba's start, once
        # per server process, cjm_core.warm) a moment before the file arrives
        time.sleep(USER_PICKS_S)
        parts: dict[str, float] = {}
        t0 = time.perf_counter()  # the page hashes an upload once (app_pages/data.upload_key)
        key = digest(data)
        raws = ui.read_upload(key, data, Path(path).name)
        parts["read"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        store, ws = ui.get_store(), sample_workspace_id("4742")
        raw = raws[0]
        base = suggest(raw, lookup=store.find_mapping)
        roles = {r: c for r, c in base.roles.items() if c in raw.frame.columns}
        preview(raw, base.table, roles)
        choice = (base.table, tuple(sorted(roles.items())), base.date_order,
                  tuple(sorted(base.scales.items())))
        loaded = ui.load_choice(f"{key}:0", raw, *choice)
        parts["check"] = time.perf_counter() - t0
        assert loaded.result.status in ("loaded", "partial"), loaded.result.status
        t0 = time.perf_counter()  # each rerun of the Data page reads its cached upload again:
        for _ in range(2):  # the Save click, and the rerun after the save
            ui.read_upload(key, data, Path(path).name)
            ui.load_choice(f"{key}:0", raw, *choice)
        parts["cache_hits"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        save_loads(store, ws, [loaded])
        parts["save"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        at.run()  # the rerun after the save: the journey the data show
        parts["data_rerun"] = time.perf_counter() - t0
        assert not at.exception, at.exception
        t0 = time.perf_counter()
        at.switch_page("app_pages/overview.py").run()
        parts["overview"] = time.perf_counter() - t0
        assert not at.exception, at.exception
        assert at.session_state["workspace_id"] == ws
    parts["total"] = sum(parts.values())
    print(json.dumps(parts))


def generate(n: int, folder: str) -> None:
    """Write events_<n>.parquet and events_<n>.csv (a child, so the bench stays small)."""
    import polars as pl

    from cjm_core.demo.sample import generate_events

    frame = generate_events(n, "4742", seed=1, categorical=False)
    frame.write_parquet(Path(folder) / f"events_{n}.parquet")
    frame.with_columns(pl.col("timestamp").dt.strftime("%Y-%m-%d %H:%M:%S")).write_csv(
        Path(folder) / f"events_{n}.csv")


# ----------------------------------------------------------------------------- measuring


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB and standard output of one whole process."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as rss:
        t0 = time.perf_counter()
        out = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss.name, *cmd],
                             capture_output=True, text=True, env=env, cwd=ROOT)
        wall = time.perf_counter() - t0
        if out.returncode:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stdout[-2000:]}"
                               f"{out.stderr[-2000:]}")
        kb = int(rss.read().split()[-1])
    return wall, kb / 1024, out.stdout


def interleaved(cases: dict[str, list[str]], runs: int, env: dict[str, str]
                ) -> dict[str, dict]:
    """Each case ``runs`` times after a warm-up, in turns; medians and the last output."""
    got: dict[str, dict] = {name: {"wall": [], "rss": [], "out": ""} for name in cases}
    for i in range(runs + 1):
        for name, cmd in cases.items():
            wall, rss, out = run(cmd, env)
            got[name]["out"] = out
            if i:  # the first round warms caches (files, compiled loops)
                got[name]["wall"].append(wall)
                got[name]["rss"].append(rss)
    for g in got.values():
        g["s"] = statistics.median(g["wall"])
        g["mb"] = statistics.median(g["rss"])
        g["spread"] = (min(g["wall"]), max(g["wall"]))
    return got


def _me(*args: str) -> list[str]:
    return [sys.executable, "-m", "bench.path_bench", *args]


def check_counts(ours_json: str, levels_json: str) -> list[int]:
    """Our reached counts, asserted equal to windowFunnel's (reached_k = level ≥ k)."""
    ours = [s["reached"] for s in json.loads(ours_json)["steps"]]
    levels = {int(k): v for k, v in json.loads(levels_json).items()}
    theirs = [sum(n for lv, n in levels.items() if lv >= k) for k in range(1, len(STEPS) + 1)]
    if ours != theirs:
        raise SystemExit(f"funnel counts differ from ClickHouse: ours {ours}, windowFunnel "
                         f"{theirs}")
    return ours


# ----------------------------------------------------------------------------- the run


CHILDREN = {"chdb": peer_chdb, "floor": peer_floor, "pandas": peer_pandas, "app": app_first_view,
            "upload": app_upload}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in (*CHILDREN, "generate"):
        kind, *rest = sys.argv[1:]
        if kind == "generate":
            generate(int(rest[0]), rest[1])
        else:
            CHILDREN[kind](rest[0])
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sizes = "1000000,10000000" + (",30000000" if os.environ.get("CJM_BENCH_30M") == "1" else "")
    ap.add_argument("--sizes", default=sizes)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "cjm_path_bench"))
    args = ap.parse_args()
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CJM_MAX_UPLOAD_MB": "100000", "TZ": "UTC"}
    steps = ",".join(STEPS)
    rows, growth, app = [], [], []
    upload: dict[str, float] = {}
    for n in (int(x) for x in args.sizes.split(",")):
        pq, csv = folder / f"events_{n}.parquet", folder / f"events_{n}.csv"
        if not (pq.exists() and csv.exists()):
            print(f"generating {n:,} events in {folder} ...", file=sys.stderr)
            subprocess.run(_me("generate", str(n), str(folder)), check=True, cwd=ROOT)
        runs = args.runs if n <= 10_000_000 else max(1, args.runs - 2)
        for path, what in ((pq, "Parquet"), (csv, "CSV")):
            mb = path.stat().st_size / 1e6
            got = interleaved({
                "ours": [sys.executable, "-m", "cjm_core", "funnel", str(path), "--steps", steps,
                         "--window", "7d", "--json"],
                "chdb": _me("chdb", str(path)),
                "floor": _me("floor", str(path)),
            }, runs, env)
            reached = check_counts(got["ours"]["out"], got["chdb"]["out"])
            case = f"funnel, {n / 1e6:g}M events, {what} ({mb:,.0f} MB)"
            rows.append((case, got, "chdb", "ClickHouse windowFunnel (chdb)"))
            growth.append((n, what, got))
            print(f"{case}: reached {reached} = windowFunnel's", file=sys.stderr)
        if n <= 10_000_000:  # the app's first view: one fresh process (≈ 1 min at 10M)
            _wall, mb, out = run(_me("app", str(pq)), env)
            app.append((n, json.loads(out.splitlines()[-1]), mb))
        if n == 1_000_000:  # upload to the Overview: fresh processes, medians of each part
            got_up = [json.loads(run(_me("upload", str(csv)), env)[2].splitlines()[-1])
                      for _ in range(args.runs)]
            upload = {k: statistics.median(g[k] for g in got_up) for k in got_up[0]}
        if n == 1_000_000:
            got = interleaved({
                "ours": [sys.executable, "-m", "cjm_core", "metrics", str(csv), "--json"],
                "pandas": _me("pandas", str(csv)),
            }, max(args.runs, 5), env)
            rows.append((f"metrics, 1M-row CSV ({csv.stat().st_size / 1e6:,.0f} MB)", got,
                         "pandas", "pandas read_csv(engine='pyarrow')"))
    print(report(rows, growth))
    print(app_report(app, upload))


def app_report(app: list[tuple[int, dict, float]], upload: dict[str, float]) -> str:
    """The app's part of the report: first views by size, the upload path by part."""
    out = ["\nThe app through its real page code (Streamlit AppTest), a saved workspace holding "
           "the events, in a fresh process after the harness's start: the first view of the "
           "Overview (DuckDB to every figure) and a rerun (cached).\n",
           "| events | first view s | rerun s | process peak MB |", "|---:|---:|---:|---:|"]
    for n, got_app, mb in app:
        out.append(f"| {n:,} | {got_app['first']:.2f} | {got_app['again']:.2f} | {mb:,.0f} |")
    if upload:
        out += ["\nA 1M-row CSV uploaded on the Data page to every figure of the Overview "
                "(server time, the page's own functions, then AppTest for the Data page's rerun "
                "and the Overview; medians of fresh processes):\n", "| part | s |", "|---|---:|"]
        out += [f"| {label} | {upload[part]:.2f} |" for part, label in UPLOAD_PARTS.items()]
    return "\n".join(out)


def report(rows: list[tuple[str, dict, str, str]], growth: list[tuple[int, str, dict]]) -> str:
    out = ["Whole processes, medians after a warm-up, in turns (min–max of ours in brackets).",
           "",
           "| case | ours s | peer | peer s | ours / peer | polars floor s | ours MB | peer MB "
           "| floor MB |",
           "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for case, got, peer, label in rows:
        ours, other = got["ours"], got[peer]
        floor = got.get("floor")
        lo, hi = ours["spread"]
        floor_s, floor_mb = ((f"{floor['s']:.2f}", f"{floor['mb']:,.0f}") if floor
                             else ("—", "—"))
        out.append(f"| {case} | {ours['s']:.2f} ({lo:.2f}–{hi:.2f}) | {label} | "
                   f"{other['s']:.2f} | {ours['s'] / other['s']:.2f} | {floor_s} | "
                   f"{ours['mb']:,.0f} | {other['mb']:,.0f} | {floor_mb} |")
    out += ["", "Growth (funnel, whole process): seconds and MB per million events.", "",
            "| events | file | ours s | s / M events | ours MB | ClickHouse s | ClickHouse MB |",
            "|---:|---|---:|---:|---:|---:|---:|"]
    for n, what, got in growth:
        ours, ch = got["ours"], got["chdb"]
        out.append(f"| {n:,} | {what} | {ours['s']:.2f} | {ours['s'] / (n / 1e6):.3f} | "
                   f"{ours['mb']:,.0f} | {ch['s']:.2f} | {ch['mb']:,.0f} |")
    for what in ("Parquet", "CSV"):
        pts = [(n, g["ours"]["s"], g["ours"]["mb"]) for n, w, g in growth if w == what]
        if len(pts) >= 2:
            (n0, s0, m0), (n1, s1, m1) = pts[0], pts[-1]
            per = (n1 - n0) / 1e6
            out.append(f"\n{what}: slope {(s1 - s0) / per:.3f} s and {(m1 - m0) / per:,.1f} MB "
                       f"per million events between {n0 / 1e6:g}M and {n1 / 1e6:g}M "
                       f"(intercept ≈ {s0 - (s1 - s0) / per * n0 / 1e6:.2f} s)")
    return "\n".join(out)


if __name__ == "__main__":
    main()
