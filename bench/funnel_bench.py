"""Funnel benchmark (DESIGN §9): a windowed 7-step funnel with re-entry and ties against the
floor (a plain polars ``group_by(customer_id).agg(len)``) and against the same algorithm written
in pandas, on events from ``cjm_core.demo.sample.generate_events``.

    .venv/bin/python -m bench.funnel_bench [--sizes 100000,1000000,10000000] [--runs 3]

Target: at 10M events, funnel ≤ 3× the group_by floor and ≥ 10× faster than pandas. Peak memory
is measured per case in a fresh subprocess (VmHWM; the polars cases first run on 1,000 rows so
the compiled funnel loops are loaded), next to the data's in-memory size (string views included).
Prints markdown tables of medians and ratios (ours / reference).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta

import numpy as np
import pandas as pd
import polars as pl

from bench.common import median_seconds, table, view_bytes
from cjm_core.analytics.funnel import FunnelQuery, funnel
from cjm_core.demo.sample import generate_events
from cjm_core.model.journey import default_journey

ISIC = "4742"
WINDOW = timedelta(days=7)
JOURNEY = default_journey(ISIC)
STEPS = [s.name for s in JOURNEY.stages]
QUERY = FunnelQuery(window=WINDOW)  # 7 steps, re-entry "latest", ties in the data
#: skip pandas at a size when its estimated time (3 runs + warm-up) exceeds this
PANDAS_BUDGET_S = 240.0


def polars_floor(ev: pl.DataFrame) -> object:
    return ev.group_by("customer_id").agg(pl.len())


def polars_funnel(ev: pl.DataFrame) -> object:
    return funnel(ev, QUERY, JOURNEY)


def pandas_funnel(df: pd.DataFrame, steps: list[str] = STEPS, window: timedelta = WINDOW
                  ) -> dict:
    """The same algorithm in pandas, vectorised: sort by (customer, time, step, file order),
    entry step per customer, attempts from each entry-step event (adjacent repeats pruned),
    greedy next-step matching with searchsorted per step, best attempt per customer, then
    reached per step, mean/median seconds per step, mid-journey and open-window counts."""
    k = len(steps)
    step = df["stage"].map({name: i + 1 for i, name in enumerate(steps)})
    d = pd.DataFrame({"c": df["customer_id"], "t": df["timestamp"], "s": step}).dropna()
    d["s"] = d["s"].astype("int64")
    d = d.sort_values(["c", "t", "s"], kind="stable").reset_index(drop=True)
    cid = d["c"].ne(d["c"].shift()).cumsum().to_numpy() - 1
    t = d["t"].to_numpy().astype("datetime64[s]").astype(np.int64)
    s = d["s"].to_numpy()
    w = int(window.total_seconds())
    entry = d.groupby(cid, sort=False)["s"].first().to_numpy()
    anchors = np.flatnonzero(s == entry[cid])
    later = np.r_[(anchors[1:] == anchors[:-1] + 1) & (cid[anchors[1:]] == cid[anchors[:-1]]),
                  False]
    anchors = anchors[~later]
    start = s[anchors]
    positions = [None] + [np.flatnonzero(s == j) for j in range(1, k + 1)]
    level = np.ones(len(anchors), dtype=np.int64)
    pos = np.full((k, len(anchors)), -1, dtype=np.int64)
    pos[start - 1, np.arange(len(anchors))] = anchors
    cur = anchors.copy()
    alive = np.ones(len(anchors), dtype=bool)
    for j in range(2, k + 1):
        act = np.flatnonzero(alive & (start < j))
        p = positions[j]
        i = np.searchsorted(p, cur[act], side="right")
        ok = i < len(p)
        nxt = p[np.minimum(i, len(p) - 1)]
        ok &= (cid[nxt] == cid[cur[act]]) & (t[nxt] - t[anchors[act]] <= w)
        alive[act[~ok]] = False
        won = act[ok]
        cur[won] = nxt[ok]
        level[won] += 1
        pos[j - 1, won] = nxt[ok]
    att = pd.DataFrame({"c": cid[anchors], "score": level * len(anchors) + np.arange(len(anchors))})
    best = att.groupby("c", sort=True)["score"].max()
    which = (best.to_numpy() % len(anchors))
    lvl = best.to_numpy() // len(anchors)
    owner_entry = entry[best.index.to_numpy()]
    main = owner_entry == 1
    per = pd.DataFrame({"level": lvl[main]})
    chosen = pos[:, which[main]]
    for j in range(2, k + 1):
        ok = chosen[j - 1] >= 0
        a, b = np.maximum(chosen[j - 2], 0), np.maximum(chosen[j - 1], 0)
        per[f"d{j}"] = np.where(ok, t[b] - t[a], np.nan)
    last_anchor = pd.Series(t[anchors]).groupby(cid[anchors]).max()
    open_ = (lvl[main] < k) & (last_anchor.to_numpy()[main] + w > t.max())
    return {
        "reached": [int((per["level"] >= j).sum()) for j in range(1, k + 1)],
        "median": [per[f"d{j}"].median() for j in range(2, k + 1)],
        "mean": [per[f"d{j}"].mean() for j in range(2, k + 1)],
        "mid": int((owner_entry > 1).sum()),
        "open": int(open_.sum()),
    }


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def _measure(case: str, path: str) -> None:
    """In the child: load, reset the RSS high-water mark, run the case once, report."""
    ev = pl.read_parquet(path)
    df = ev.to_pandas() if case == "pandas" else None
    fn = {"floor": lambda: polars_floor(ev), "funnel": lambda: polars_funnel(ev),
          "pandas": lambda: pandas_funnel(df)}[case]
    if case != "pandas":  # warm-up: the compiled loops loaded, a fixed cost whatever the data
        {"floor": polars_floor, "funnel": polars_funnel}[case](ev.head(1000))
    base = _status_kb("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:  # resets VmHWM to the current RSS
        f.write("5")
    fn()
    print(json.dumps({"base_kb": base, "peak_kb": _status_kb("VmHWM")}))


def _rss_case(case: str, path: str) -> dict:
    """Run one case once in a fresh interpreter (ru_maxrss would inherit this process's peak
    across fork/exec, so the child reads VmHWM from /proc after resetting it)."""
    code = f"from bench import funnel_bench as b; b._measure({case!r}, {path!r})"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    return json.loads(out.stdout.strip().splitlines()[-1])


def check_same(ev: pl.DataFrame, df: pd.DataFrame) -> None:
    """The pandas version must give the same numbers, or the comparison means nothing."""
    ours = polars_funnel(ev)
    theirs = pandas_funnel(df)
    assert ours.table["reached"].to_list() == theirs["reached"], (ours.table, theirs)
    assert ours.entered_mid_journey == theirs["mid"] and ours.open_windows == theirs["open"]
    means = ours.table["mean_seconds"].to_list()[1:]
    for a, b in zip(means, theirs["mean"], strict=True):
        assert (a is None and np.isnan(b)) or abs(a - b) < 1e-6 * max(1.0, abs(b))


def interleaved_medians(fns: list, runs: int) -> list[float]:
    """Medians of ``fns`` timed in turn (a, b, a, b, …) so that load from other processes on a
    shared machine falls on both sides of a ratio alike."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            times[i].append(time.perf_counter() - t0)
    return [statistics.median(t) for t in times]


def pandas_case(ev: pl.DataFrame, runs: int, n: int) -> tuple[float | None, str]:
    df = ev.to_pandas()
    one = time.perf_counter()
    check_same(ev, df)
    est = (time.perf_counter() - one) * (runs + 1)
    if est > PANDAS_BUDGET_S:
        return None, (f"pandas skipped at {n:,}: one run took {est / (runs + 1):.1f} s "
                      f"(> {PANDAS_BUDGET_S:.0f} s budget for {runs} runs)")
    return median_seconds(lambda: pandas_funnel(df), runs), ""


def run_size(n: int, runs: int, tmp: str, memory: bool) -> tuple[list, list, str]:
    t0 = time.perf_counter()
    ev = generate_events(n, ISIC, seed=0)
    print(f"# {n:,} events generated in {time.perf_counter() - t0:.1f} s "
          f"({ev['customer_id'].n_unique():,} customers, {ev.estimated_size() / 1e6:.0f} MB)",
          file=sys.stderr, flush=True)
    floor, ours = interleaved_medians([lambda: polars_floor(ev), lambda: polars_funnel(ev)], runs)
    rows = [(f"funnel {n:,}", ours, "polars group_by floor", floor)]
    note = ""
    pd_s, note = pandas_case(ev, runs, n)
    if pd_s is not None:
        rows.append((f"funnel {n:,}", ours, "same algorithm in pandas", pd_s))
    mem = []
    if memory:
        path = os.path.join(tmp, f"ev_{n}.parquet")
        ev.write_parquet(path)
        size_mb = view_bytes(ev) / 1e6  # string views included (estimated_size omits them)
        for case in ("floor", "funnel") + (("pandas",) if not note else ()):
            r = _rss_case(case, path)
            extra = (r["peak_kb"] - r["base_kb"]) / 1024
            mem.append((n, case, size_mb, r["peak_kb"] / 1024, extra))
    return rows, mem, note


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000,10000000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-memory", action="store_true", help="skip the per-case RSS subprocesses")
    args = ap.parse_args(argv)
    rows, mem, notes = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.sizes.split(",")):
            r, m, note = run_size(n, args.runs, tmp, not args.no_memory)
            rows += r
            mem += m
            notes += [note] if note else []
    print(table(rows))
    if mem:
        print("\n| events | case | data MB | peak RSS MB | peak − RSS after load MB |")
        print("|---:|---|---:|---:|---:|")
        for n, case, size, peak, extra in mem:
            print(f"| {n:,} | {case} | {size:.0f} | {peak:.0f} | {max(extra, 0):.0f} |")
    for note in notes:
        print(f"\n{note}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"\nmachine: {os.cpu_count()} CPUs; polars {pl.__version__}, pandas {pd.__version__}; "
          f"max RSS of this process {rss} MB")


if __name__ == "__main__":
    main()
