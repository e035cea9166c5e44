"""Work side by side on the machine's cores, in one place: one knob (``CJM_THREADS``, default 2;
1 runs everything in the calling thread) and never a pool inside a pool.

Why threads: polars, numpy and the numba kernels release the GIL while they work, so two threads
use two cores. Why one helper: the funnel, the date parser, validation and the Overview each
opened their own pool, and they call each other (the Overview's passes run funnels, validation
parses dates), so pools nested and a 2-core machine ran more threads than it has cores. Here a
call made while a parallel section is running (from a worker, or from the caller's own share of
the work) runs sequentially in its thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["DEFAULT_THREADS", "ENV", "pmap", "run_both", "threads"]

T = TypeVar("T")
U = TypeVar("U")

#: the environment variable that sets how many threads a parallel section may use
ENV = "CJM_THREADS"
DEFAULT_THREADS = 2

_state = threading.local()


def threads() -> int:
    """Threads a parallel section may use: ``CJM_THREADS`` (a whole number ≥ 1), else 2 (1 on a
    one-core machine); 1 when called from inside a parallel section, so pools never nest.

    >>> threads() >= 1
    True
    """
    if getattr(_state, "busy", False):
        return 1
    try:
        return max(1, int(os.environ[ENV]))
    except (KeyError, ValueError):
        return min(DEFAULT_THREADS, os.cpu_count() or 1)


def _busy(fn: Callable[[], T]) -> T:
    """``fn()`` with this thread marked as part of a parallel section."""
    before = getattr(_state, "busy", False)
    _state.busy = True
    try:
        return fn()
    finally:
        _state.busy = before


def pmap(fn: Callable[[T], U], items: Iterable[T]) -> list[U]:
    """``[fn(x) for x in items]``, the calls side by side on up to :func:`threads` threads;
    results in the order of ``items``; the exception of the first item that raised is raised
    here, after every call has ended.

    >>> pmap(lambda x: x * x, range(5))
    [0, 1, 4, 9, 16]
    """
    todo = list(items)
    workers = min(threads(), len(todo))
    if workers <= 1:
        return [fn(x) for x in todo]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda x: _busy(lambda: fn(x)), todo))


def run_both(f: Callable[[], T], g: Callable[[], U]) -> tuple[T, U]:
    """``(f(), g())``, side by side: ``g`` on a second thread while ``f`` runs in this one
    (sequentially when :func:`threads` is 1). An exception of either is raised here, after both
    have ended.

    >>> run_both(lambda: "left", lambda: "right")
    ('left', 'right')
    """
    if threads() <= 1:
        return f(), g()
    with ThreadPoolExecutor(max_workers=1) as pool:  # leaving it waits for g, even if f raised
        later = pool.submit(_busy, g)
        first = _busy(f)
        second = later.result()
    return first, second
