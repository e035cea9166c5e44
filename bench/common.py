"""Timing helpers for the benchmark scripts: medians of several runs, ratios to a reference
measured in the same run. Never used by the test suite."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import polars as pl

from cjm_core.demo.sample import generate_events


def median_seconds(fn: Callable[[], object], runs: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``fn`` over ``runs`` calls after ``warmup`` uncounted ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def table(rows: list[tuple[str, float, str, float | None]]) -> str:
    """Markdown table: case, median seconds, reference, ratio (ours / reference)."""
    out = ["| case | median s | reference | reference median s | ratio |",
           "|---|---:|---|---:|---:|"]
    for case, ours, ref_name, ref in rows:
        ratio = f"{ours / ref:.2f}" if ref else "—"
        ref_s = f"{ref:.3f}" if ref else "—"
        out.append(f"| {case} | {ours:.3f} | {ref_name} | {ref_s} | {ratio} |")
    return "\n".join(out)


def events_csv(rows: int, seed: int = 1) -> bytes:
    """Generated events as the CSV bytes an upload would carry (timestamps as text)."""
    frame = generate_events(rows, "4742", seed=seed)
    return frame.with_columns(pl.col("timestamp").dt.strftime("%Y-%m-%d %H:%M:%S")
                              ).write_csv().encode()


def view_bytes(frame: pl.DataFrame) -> int:
    """Bytes a frame really holds: ``estimated_size`` plus what it leaves out for text columns,
    polars' 16-byte view per string (strings over 12 bytes live in buffers besides)."""
    size = frame.estimated_size()
    for name, dtype in frame.schema.items():
        if dtype == pl.String:
            lengths = frame.get_column(name).str.len_bytes()
            counted = frame.select(pl.col(name)).estimated_size()
            held = 16 * frame.height + int(lengths.filter(lengths > 12).sum() or 0)
            size += max(0, held - counted)
    return size
