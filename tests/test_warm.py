"""numba's start on a second thread (cjm_core.warm): begun once per process, by the command
line or by the Data page when it offers an upload, and it does load the loops the reading and
the funnel call. Checked in a fresh interpreter, since the warm-up is per process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, threading
from cjm_core import warm
warm.begin(parquet={parquet})
warm.begin()
warm.start(["metrics", "a.csv"])
threads = [t for t in threading.enumerate() if t.name == "cjm-warm"]
for t in threads:
    t.join(300)
from cjm_core.ingest import text_kernels as tk
from cjm_core.analytics import funnel_kernels as fk
print(json.dumps({{"threads": len(threads), "scan": len(tk._scan.signatures),
                  "strip": len(tk._edges_block.signatures),
                  "funnel": len(fk.ordered_funnel.signatures)}}))
"""


def _probe(parquet: bool) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE.format(parquet=parquet)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300, check=True)
    return json.loads(out.stdout.splitlines()[-1])


def test_a_text_warm_up_runs_once_and_loads_the_scan_and_the_funnel():
    got = _probe(parquet=False)
    assert got["threads"] == 1  # begun once, however often asked
    assert got["scan"] >= 1 and got["funnel"] >= 1
    assert got["strip"] == 0  # a Parquet file's check is not loaded for a text file


def test_a_parquet_warm_up_loads_the_typed_check_not_the_scan():
    got = _probe(parquet=True)
    assert got["threads"] == 1
    assert got["strip"] >= 1 and got["funnel"] >= 1 and got["scan"] == 0
