"""Starting the command line loads no heavy library it does not use (issue 14): scipy, numba's
compiled kernels, Altair, vl-convert and Streamlit are imported where they are used, not by
``import cjm_core.cli``. Checked in a fresh interpreter through ``sys.modules``, not by time."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("scipy", "numba", "altair", "vl_convert", "streamlit")


def _loaded_after(code: str) -> set[str]:
    probe = (f"{code}\nimport json, sys\n"
             f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=120)
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_importing_the_cli_loads_no_heavy_library():
    loaded = _loaded_after("import cjm_core.cli")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def _imported_by_command(*args: str) -> set[str]:
    """Top-level packages a whole ``python -m cjm_core ...`` run imported (``-X importtime``)."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "cjm_core", *args],
                         capture_output=True, text=True, timeout=120)
    names = set()
    for line in out.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    assert "cjm_core" in names, out.stderr[-2000:]
    return names


def test_the_command_lines_help_loads_no_heavy_library():
    loaded = _imported_by_command("funnel", "--help")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_the_probe_sees_a_heavy_import():
    # the check itself can fail: importing the funnel's kernels does load numba
    assert "numba" in _loaded_after("import cjm_core.analytics.funnel_kernels")
