"""A whole ``python -m cjm_core`` process (issue 14): it ends with ``os._exit`` once its output is
flushed, skipping the interpreter's teardown, so everything it prints or writes must be there in
full, with its exit status, whether its output goes to a pipe or a file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "sample_4742.xlsx"


def _run(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cjm_core", *args], cwd=ROOT, timeout=300,
                          **kw)


def test_the_whole_output_reaches_a_pipe():
    done = _run("metrics", str(SAMPLE), "--json", capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    metrics = json.loads(done.stdout)["metrics"]  # cut short, it would not parse
    assert len(metrics) > 20
    assert "journey (from the data)" in done.stderr  # what it told stderr arrived too


def test_the_whole_output_reaches_a_file(tmp_path):
    out = tmp_path / "metrics.json"
    with out.open("w") as fh:
        done = _run("metrics", str(SAMPLE), "--json", stdout=fh, stderr=subprocess.PIPE)
    assert done.returncode == 0
    piped = _run("metrics", str(SAMPLE), "--json", capture_output=True, text=True).stdout
    assert out.read_text() == piped


def test_a_written_report_is_whole(tmp_path):
    out = tmp_path / "report.html"
    done = _run("report", str(SAMPLE), "--industry", "4742", "--out", str(out),
                capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8").rstrip().endswith("</html>")


def test_the_exit_status_of_a_failure_survives(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("just one column\nx\n")
    done = _run("funnel", str(bad), "--steps", "A,B", capture_output=True, text=True)
    assert done.returncode == 2
    assert "error [missing-role]: Nothing was loaded" in done.stderr
    assert "Traceback" not in done.stderr
