"""The one parallelism helper (issue 12 §3): results in order, one knob, no pool inside a pool,
exceptions reach the caller."""

from __future__ import annotations

import os
import threading
import time

import pytest

from cjm_core import parallel
from cjm_core.parallel import pmap, run_both, threads


def _thread(_=None) -> int:
    time.sleep(0.05)  # long enough that a second worker picks up the next item
    return threading.get_ident()


@pytest.fixture(autouse=True)
def _two_threads(monkeypatch):
    monkeypatch.setenv(parallel.ENV, "2")


def test_pmap_keeps_the_order_of_the_items():
    def slow_first(x: int) -> int:
        time.sleep(0.05 if x == 0 else 0)
        return x * 10

    assert pmap(slow_first, range(7)) == [0, 10, 20, 30, 40, 50, 60]
    assert pmap(slow_first, []) == []


def test_run_both_returns_f_then_g():
    assert run_both(lambda: (time.sleep(0.03), "f")[1], lambda: "g") == ("f", "g")


def test_by_default_two_threads_side_by_side(monkeypatch):
    monkeypatch.delenv(parallel.ENV)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 8)
    assert threads() == parallel.DEFAULT_THREADS == 2
    assert len(set(pmap(_thread, range(4)))) == 2
    here = threading.get_ident()
    f, g = run_both(_thread, _thread)
    assert f == here and g != here


def test_one_core_means_one_thread_unless_the_knob_says_otherwise(monkeypatch):
    monkeypatch.delenv(parallel.ENV)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 1)
    assert threads() == 1
    monkeypatch.setenv(parallel.ENV, "2")
    assert threads() == 2


@pytest.mark.parametrize("knob, expected", [("1", 1), ("3", 3), ("0", 1), ("many", None)])
def test_the_knob(monkeypatch, knob, expected):
    monkeypatch.setenv(parallel.ENV, knob)
    assert threads() == (expected or min(2, os.cpu_count() or 1))


def test_one_thread_runs_everything_in_the_caller(monkeypatch):
    monkeypatch.setenv(parallel.ENV, "1")
    here = threading.get_ident()
    assert set(pmap(_thread, range(3))) == {here}
    assert run_both(_thread, _thread) == (here, here)


def test_a_call_inside_a_parallel_section_runs_sequentially():
    def inner(_=None) -> tuple[int, set[int], tuple[int, int], int]:
        me = threading.get_ident()
        return me, set(pmap(_thread, range(3))), run_both(_thread, _thread), threads()

    for me, mapped, both, n in [*pmap(inner, range(2)), *run_both(inner, inner)]:
        assert mapped == {me} and both == (me, me) and n == 1
    assert threads() > 1  # the caller is free again afterwards


def test_exceptions_reach_the_caller_after_every_call_has_ended():
    ended = []

    def work(x: int) -> int:
        if x == 1:
            raise ValueError("item 1")
        time.sleep(0.05)
        ended.append(x)
        return x

    with pytest.raises(ValueError, match="item 1"):
        pmap(work, range(4))
    assert sorted(ended) == [0, 2, 3]
    ended.clear()
    with pytest.raises(ValueError, match="item 1"):
        run_both(lambda: work(1), lambda: work(0))
    assert ended == [0]
    with pytest.raises(ValueError, match="item 1"):
        run_both(lambda: work(0), lambda: work(1))
    assert threads() > 1  # an exception leaves no thread marked busy
