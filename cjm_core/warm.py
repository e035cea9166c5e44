"""numba's start, begun on a second thread as early as a command knows it will need it.

numba costs a whole process ≈ 0.5 s before its first compiled loop runs: importing it, building
its typing and target context (which imports scipy to look for a BLAS), and loading the loops'
machine code from its cache. :func:`start` does that on a thread of its own, begun by
``python -m cjm_core`` before the command's own modules are imported, so it overlaps that import
and the reading of the file (polars and numpy leave the GIL free while they work) instead of
standing in front of the first compiled call. Errors are left for the real call to raise.
"""

from __future__ import annotations

import threading

__all__ = ["begin", "needed", "parquet_only", "start"]

_started = threading.Event()
_lock = threading.Lock()

#: the commands that read files locally (``inspect`` only reads them: its scan is the one call)
_COMMANDS = ("funnel", "metrics", "report", "map", "inspect")


def needed(argv: list[str]) -> bool:
    """Whether a command line will run compiled loops here: it reads files, not a data lake, and
    asks for more than its help.

    >>> needed(["metrics", "a.csv"]), needed(["funnel", "--source", "parquet:/x"]), needed([])
    (True, False, False)
    >>> needed(["funnel", "--help"])
    False
    """
    return bool(argv) and argv[0] in _COMMANDS and not any(
        a in ("--source", "-h", "--help", "--engine=spark", "spark")
        or a.startswith("--source=") for a in argv[1:])


def start(argv: list[str]) -> None:
    """Begin the warm-up on a daemon thread, once per process, when ``argv`` needs it."""
    if needed(argv):
        begin(parquet=parquet_only(argv))


def begin(*, parquet: bool = False) -> None:
    """Begin the warm-up on a daemon thread, once per process: the command line's, or the
    app's Data page when it offers an upload (the user picks a file in the second numba takes
    to start, instead of waiting for it after the upload)."""
    with _lock:
        if _started.is_set():
            return
        _started.set()
    threading.Thread(target=_warm, args=(parquet,), name="cjm-warm", daemon=True).start()


def parquet_only(argv: list[str]) -> bool:
    """Whether every file a command line names is a Parquet file (by its name).

    >>> parquet_only(["funnel", "a.parquet", "--steps", "A,B"]), parquet_only(["metrics", "a.csv"])
    (True, False)
    """
    files = [a.lower() for a in argv[1:] if a.lower().endswith(_DATA_SUFFIXES)]
    return bool(files) and all(f.endswith(".parquet") for f in files)


_DATA_SUFFIXES = (".parquet", ".csv", ".tsv", ".txt", ".xlsx", ".xls", ".ods", ".json",
                  ".jsonl", ".ndjson")


def _warm(parquet: bool) -> None:
    """The loops a command calls, in the order it calls them: a Parquet file's text check,
    else a text file's scan and date parser; then the funnel's (numba loads each loop's
    machine code on its first call, so loops never called are not loaded)."""
    try:
        import numpy as np
        import polars as pl

        from cjm_core.ingest import text_kernels as kernels

        if parquet:
            kernels.may_need_strip(pl.Series(["a"]))
        else:
            kernels.scan_cells(b"a,b\n1,2\n", ",")
            kernels.iso_datetimes(pl.Series(["2024-01-01 00:00:00"]), "%Y-%m-%d %H:%M:%S")
        kernels.match_codes(pl.Series(["a"]), {"a": 1}, 2)
        from cjm_core.analytics.funnel import FunnelQuery, funnel

        frame = pl.DataFrame({"customer_id": ["a", "a", "b"], "stage": ["A", "B", "A"],
                              "timestamp": np.array([0, 1, 2], dtype="datetime64[us]")})
        funnel(frame, FunnelQuery(steps=["A", "B"]))
    except Exception:  # a warm-up only: the real call raises
        return
