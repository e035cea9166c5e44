"""Load benchmark: the real Streamlit server under concurrent sessions, no browser.

    .venv/bin/python -m bench.load_bench [--sessions 10] [--waves 3] [--customers 50000]

Starts ``streamlit run app.py`` (headless, loopback, its own ``CJM_DB`` holding a generated
workspace of --customers customers) and opens --sessions websocket clients at once on
``/_stcore/stream``, each speaking Streamlit's protocol as the browser does: a ``BackMsg``
``rerun_script`` with the client state (query string, page), then ``ForwardMsg`` replies until
the script-finished message. Each session opens the app on its workspace (``?ws=``, the
Overview), then the Overview, Funnel, Touchpoints and Journey map pages, by the page hashes the
``navigation`` message announced (as a sidebar link does, without the query string). A page's
time runs from the rerun request to the script-finished message; an exception element in a
reply counts as an error and is printed.

Per wave of --sessions sessions: p50 / p95 / max page time, the wave's wall time, the server's
CPU time per session (utime + stime from ``/proc``), its RSS after the wave (``VmRSS``; ``VmHWM``
the high-water mark so far) and the time ``/_stcore/health`` took, polled during the wave.

References, measured in the same run: one session alone on the warm cache (on the waves'
server, after the first wave; three times, pooled), against which a warm wave's p50 and CPU per
session are given; and one session alone on a fresh server of its own (cold cache), against
which the first wave is given. The first wave meets a cold cache (the workspace read from
DuckDB, every metric computed); the later waves find everything cached, so a session there
costs what is not shared: rendering and sending its pages. The clients run in this process, on
the server's machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: what a session does after opening the app: the pages' titles, as the navigation names them
PAGES = ["Overview", "Funnel", "Touchpoints", "Journey map"]
PAGE_TIMEOUT = 600.0  # s; a page slower than this fails the run rather than hanging it
START_TIMEOUT = 120.0  # s for the server to answer its health check
HEALTH_EVERY = 0.5  # s between health probes during a wave
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- the server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_workspace(db: str, customers: int) -> str:
    """A generated workspace saved in a fresh DuckDB file; returns its id."""
    from cjm_core.demo.sample import generate
    from cjm_core.model.journey import default_journey
    from cjm_core.storage.store import Store
    from cjm_core.storage.workspaces import sample_workspace_id

    tables = generate("4742", customers, seed=5)
    with Store(db) as store:
        ws = store.create_workspace("bench", default_journey("4742"),
                                    workspace_id=sample_workspace_id("4742"))
        store.save_tables(ws, tables)
    return ws


class Server:
    """``streamlit run app.py`` on a free loopback port with its own database, stopped on exit;
    its log's tail goes to stderr when something fails."""

    def __init__(self, db: str, log_path: str) -> None:
        self.db, self.log_path, self.port = db, log_path, free_port()

    def __enter__(self) -> Server:
        self.log = open(self.log_path, "w+")  # closed in __exit__
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(self.port),
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=dict(os.environ, CJM_DB=self.db), stdout=self.log,
            stderr=subprocess.STDOUT)
        self.pid = self.proc.pid
        try:
            asyncio.run(wait_healthy(self.port, self.proc))
        except BaseException as exc:
            self.__exit__(type(exc), exc, None)
            raise
        return self

    def __exit__(self, kind, exc, tb) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=15)
        if kind is not None:
            self.log.seek(0)
            sys.stderr.write("server log:\n" + self.log.read()[-4000:])
        self.log.close()


def proc_status(pid: int) -> dict[str, float]:
    """The server's RSS and high-water mark (MB) and its CPU time so far (s)."""
    found = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0]) / 1024
    with open(f"/proc/{pid}/stat") as f:
        # fields after the command name (which may hold spaces): utime and stime are 14 and 15
        rest = f.read().rsplit(")", 1)[1].split()
    found["cpu"] = (int(rest[11]) + int(rest[12])) / CLK_TCK
    return found


async def health(port: int) -> float:
    """Seconds for one ``GET /_stcore/health`` answered 200."""
    t0 = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"GET /_stcore/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Connection: close\r\n\r\n")
        await writer.drain()
        reply = await reader.read()
    finally:
        writer.close()
    if not reply.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"health check answered {reply[:60]!r}")
    return time.perf_counter() - t0


async def wait_healthy(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited ({proc.returncode}) before answering")
        try:
            await health(port)
            return
        except (OSError, RuntimeError):
            await asyncio.sleep(0.25)
    raise RuntimeError(f"the server did not answer its health check in {START_TIMEOUT:.0f} s")


# -- one session ----------------------------------------------------------------------------


@dataclass
class Visit:
    page: str
    seconds: float
    errors: list[str] = field(default_factory=list)


class Session:
    """One browser tab's worth of protocol: rerun requests out, forward messages in."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.page_hashes: dict[str, tuple[str, str]] = {}  # title -> (hash, url path)

    async def open_page(self, label: str, *, query: str = "") -> Visit:
        """Run a page: the app's default page first, then the page titled ``label``."""
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = query
        state.widget_states.SetInParent()
        if self.page_hashes:
            state.page_script_hash, state.page_name = self.page_hashes[label]
        t0 = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        errors = await asyncio.wait_for(self._until_finished(), PAGE_TIMEOUT)
        return Visit(label, time.perf_counter() - t0, errors)

    async def _until_finished(self) -> list[str]:
        errors = []
        while True:
            fwd = ForwardMsg()
            fwd.ParseFromString(await self.ws.recv())
            kind = fwd.WhichOneof("type")
            if kind == "navigation":
                self.page_hashes = {p.page_name: (p.page_script_hash, p.url_pathname)
                                    for p in fwd.navigation.app_pages}
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                element = fwd.delta.new_element
                if element.WhichOneof("type") == "exception":
                    errors.append(f"{element.exception.type}: {element.exception.message}")
            elif kind == "page_not_found":
                errors.append(f"page not found: {fwd.page_not_found.page_name!r}")
            elif kind == "script_finished":
                if fwd.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    errors.append("script finished with a compile error")
                if fwd.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    return errors


async def walk(port: int, ws_id: str) -> list[Visit]:
    """Open the app on the workspace, then each page of ``PAGES`` in turn."""
    async with websockets.connect(f"ws://127.0.0.1:{port}/_stcore/stream",
                                  subprotocols=["streamlit"], max_size=None,
                                  open_timeout=PAGE_TIMEOUT, ping_interval=None) as ws:
        session = Session(ws)
        visits = [await session.open_page("open the app", query=f"ws={ws_id}")]
        for label in PAGES:
            visits.append(await session.open_page(label))
        return visits


# -- waves ----------------------------------------------------------------------------------


@dataclass
class Wave:
    name: str
    sessions: int
    visits: list[Visit]
    wall: float
    cpu: float  # server CPU seconds over the wave
    rss: float
    hwm: float
    health: list[float]

    def times(self, page: str | None = None) -> list[float]:
        return sorted(v.seconds for v in self.visits if page is None or v.page == page)

    def errors(self) -> list[str]:
        return [f"{v.page}: {e}" for v in self.visits for e in v.errors]


def quantile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank quantile: of 50 page times, p50 is the 25th and p95 the 48th."""
    rank = max(1, min(len(sorted_values), math.ceil(q * len(sorted_values))))
    return sorted_values[rank - 1]


async def run_wave(name: str, port: int, pid: int, ws_id: str, sessions: int,
                   probe: bool = True) -> Wave:
    before = proc_status(pid)
    done = asyncio.Event()
    probes: list[float] = []

    async def poll_health() -> None:
        while not done.is_set():
            probes.append(await health(port))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), HEALTH_EVERY)

    prober = asyncio.create_task(poll_health()) if probe else None
    t0 = time.perf_counter()
    try:
        walks = await asyncio.gather(*(walk(port, ws_id) for _ in range(sessions)))
    finally:
        done.set()
        if prober:
            await prober
    wall = time.perf_counter() - t0
    after = proc_status(pid)
    return Wave(name, sessions, [v for w in walks for v in w], wall, after["cpu"] - before["cpu"],
                after["VmRSS"], after["VmHWM"], probes)


async def run(args: argparse.Namespace, port: int, pid: int, ws_id: str) -> tuple:
    waves = [await run_wave("1 (cold cache)", port, pid, ws_id, args.sessions)]
    solos = [await run_wave("one session alone", port, pid, ws_id, 1, probe=False)
             for _ in range(3)]
    solo = Wave(f"one session alone, warm ({len(solos)} pooled)", 1,
                [v for s in solos for v in s.visits], statistics.median(s.wall for s in solos),
                statistics.median(s.cpu for s in solos), solos[-1].rss, solos[-1].hwm, [])
    for i in range(2, args.waves + 1):
        waves.append(await run_wave(str(i), port, pid, ws_id, args.sessions))
    return waves, solo


def report(args: argparse.Namespace, waves: list[Wave], solo: Wave, cold_solo: Wave,
           base: dict) -> None:
    solo_p50, solo_cpu, solo_wall = quantile(solo.times(), .5), solo.cpu, solo.wall
    print(f"{args.sessions} sessions a wave, {len(PAGES) + 1} pages each (open the app, then "
          f"{', '.join(PAGES)}); workspace of {args.customers:,} customers; "
          f"server RSS {base['VmRSS']:.0f} MB when started; load average "
          f"{' '.join(f'{x:.1f}' for x in base['load'])} before the first wave\n")
    print("| wave | sessions | pages | p50 s | p95 s | max s | wall s | server CPU s / session "
          "| RSS after MB | RSS peak MB | health p50 / max s | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    for w in [*waves, solo, cold_solo]:
        t = w.times()
        hp = (f"{statistics.median(w.health):.3f} / {max(w.health):.3f}" if w.health else "—")
        print(f"| {w.name} | {w.sessions} | {len(t)} | {quantile(t, .5):.2f} | "
              f"{quantile(t, .95):.2f} | {t[-1]:.2f} | {w.wall:.1f} | {w.cpu / w.sessions:.2f} | "
              f"{w.rss:.0f} | {w.hwm:.0f} | {hp} | {len(w.errors())} |")
    print(f"\nReference: one session alone on the warm cache: page p50 {solo_p50:.3f} s; "
          f"median session {solo_wall:.2f} s, server CPU {solo_cpu:.2f} s.")
    cold = waves[0]
    others = (cold.cpu - cold_solo.cpu) / max(cold.sessions - 1, 1)
    print(f"Cold cache: one session alone on a fresh server, server CPU {cold_solo.cpu:.2f} s; "
          f"the cold wave {cold.cpu:.2f} s for {cold.sessions} sessions, so each session after "
          f"the first cost {others:.2f} s = {others / solo_cpu:.2f}× a warm session alone.")
    warm = waves[1:]
    if warm:
        w_p50 = statistics.median(quantile(w.times(), .5) for w in warm)
        w_cpu = statistics.median(w.cpu / w.sessions for w in warm)
        w_wall = statistics.median(w.wall for w in warm)
        print(f"Warm waves (median over {len(warm)}): page p50 {w_p50:.3f} s = "
              f"{w_p50 / solo_p50:.1f}× alone; server CPU per session {w_cpu:.2f} s = "
              f"{w_cpu / solo_cpu:.2f}× alone; wave wall {w_wall:.1f} s = "
              f"{w_wall / (args.sessions * solo_wall):.2f}× {args.sessions} sessions one "
              f"after another.")
        print(f"Cold first wave against the warm ones: page p50 "
              f"{quantile(cold.times(), .5) / w_p50:.1f}×, server CPU per session "
              f"{cold.cpu / cold.sessions / w_cpu:.1f}×, wall {cold.wall / w_wall:.1f}×.")
    print("\n| page | alone, cold s | alone, warm: median of 3 s | cold wave p50 s "
          "| warm waves p50 s |")
    print("|---|---:|---:|---:|---:|")
    for label in ["open the app", *PAGES]:
        alone = statistics.median(solo.times(label))
        warm_p = (f"{statistics.median(quantile(w.times(label), .5) for w in warm):.2f}"
                  if warm else "—")
        print(f"| {label} | {cold_solo.times(label)[0]:.3f} | {alone:.3f} | "
              f"{quantile(cold.times(label), .5):.2f} | {warm_p} |")
    errors = [e for w in [*waves, solo, cold_solo] for e in w.errors()]
    if errors:
        print(f"\n{len(errors)} errors:")
        for e in errors[:20]:
            print("  " + e)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--waves", type=int, default=3)
    ap.add_argument("--customers", type=int, default=50_000)
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "load.duckdb")
        ws_id = make_workspace(db, args.customers)
        # the cold reference gets a server of its own: the waves' server starts cold as well
        with Server(db, os.path.join(tmp, "cold.log")) as server:
            cold_solo = asyncio.run(run_wave("one session alone, cold (own server)", server.port,
                                             server.pid, ws_id, 1, probe=False))
        with Server(db, os.path.join(tmp, "server.log")) as server:
            base = proc_status(server.pid) | {"load": os.getloadavg()}
            waves, solo = asyncio.run(run(args, server.port, server.pid, ws_id))
    report(args, waves, solo, cold_solo, base)
    if any(w.errors() for w in [*waves, solo, cold_solo]):
        sys.exit(1)

if __name__ == "__main__":
    main()
