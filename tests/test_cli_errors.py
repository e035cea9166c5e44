"""The command line never shows a traceback (issue 11 §4): every subcommand, walked with a table
of bad flags, exits 2 with one clear line naming what is wrong (a JSON error object under
``--json``)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cjm_core.cli import main, parse_window
from cjm_core.errors import UsageError
from tests.conftest import ROOT

EVENTS = "customer,time,stage,channel\na,2025-01-01 10:00,A,web\na,2025-01-01 11:00,B,store\n"


@pytest.fixture
def files(tmp_path):
    ev = tmp_path / "events.csv"
    ev.write_text(EVENTS)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    return {"EV": str(ev), "EMPTY": str(empty), "MISSING": str(tmp_path / "nope.csv"),
            "OUT": str(tmp_path / "out"), "NODIR": str(tmp_path / "no" / "dir" / "r.html")}


#: (arguments, a word the message must hold); every one exits 2
BAD = [
    # inspect
    ("inspect", "the following arguments are required"),
    ("inspect MISSING", "cannot open"),
    ("inspect EV --table nope", "invalid choice: 'nope'"),
    ("inspect EV --map bogusrole=stage", "no role 'bogusrole'"),
    ("inspect EV --table events --map amount=stage", "no role 'amount'"),
    ("inspect EV --map stage", "ROLE=COLUMN"),
    ("inspect EV --scale csat=9", "--scale expects"),
    ("inspect EV --date-order ymd", "invalid choice: 'ymd'"),
    ("inspect EV --bogus", "unrecognized arguments"),
    # funnel
    ("funnel EV", "--steps"),
    ("funnel EV --steps A", "at least two steps"),
    ("funnel EV --steps A,A", "appears twice"),
    ("funnel EV --steps A,Purchase", "'Purchase'"),
    ("funnel EV --steps A,B --window=1e10d", "--window must be a positive"),
    ("funnel EV --steps A,B --window=infd", "--window must be a positive"),
    ("funnel EV --steps A,B --window=nand", "--window must be a positive"),
    ("funnel EV --steps A,B --window=-5d", "--window must be a positive"),
    ("funnel EV --steps A,B --window 0", "--window must be a positive"),
    ("funnel EV --steps A,B --window abc", "--window expects"),
    ("funnel EV --steps A,B --window 5x", "--window expects"),
    ("funnel EV --steps A,B --by colour", "'colour'"),
    ("funnel EV --steps A,B --by channel --by channel --by channel", "at most twice"),
    ("funnel EV --steps A,B --mode zigzag", "invalid choice: 'zigzag'"),
    ("funnel EV --steps A,B --step-column touchpoint", "'touchpoint'"),
    ("funnel MISSING --steps A,B", "cannot open"),
    ("funnel EMPTY --steps A,B", "Nothing was loaded"),
    # metrics
    ("metrics", "the following arguments are required"),
    ("metrics EV --industry 9999", "invalid choice: '9999'"),
    ("metrics MISSING", "cannot open"),
    ("metrics EMPTY", "Nothing was loaded"),
    ("metrics EV --map bogus=x", "no role 'bogus'"),
    # report
    ("report EV --industry 4742", "--out"),
    ("report EV --out OUT.html", "--industry"),
    ("report EV --industry 4742 --out NODIR", "cannot open"),
    ("report EMPTY --industry 4742 --out OUT.html", "Nothing was loaded"),
    # map
    ("map EV --out OUT.docx", "Cannot tell the export format"),
    ("map EV --segment foo --out OUT.png", "COLUMN=VALUE"),
    ("map EV --segment nosuch=1 --out OUT.png", "no nosuch column"),
    ("map EV --industry 1234 --out OUT.png", "invalid choice: '1234'"),
    # no subcommand at all
    ("", "required"),
    ("frobnicate", "invalid choice: 'frobnicate'"),
]


def _argv(text: str, files: dict) -> list[str]:
    """The words of ``text`` with a leading placeholder (EV, OUT, …) made a real path."""
    out = []
    for word in text.split():
        key = next((k for k in files if word.startswith(k)), None)
        out.append(files[key] + word[len(key):] if key else word)
    return out


@pytest.mark.parametrize(("args", "says"), BAD, ids=[a or "(none)" for a, _ in BAD])
def test_bad_flags_exit_2_with_one_clear_line(args, says, files, capsys):
    assert main(_argv(args, files)) == 2
    out, err = capsys.readouterr()
    lines = [ln for ln in err.splitlines() if ln.startswith("error [")]
    assert len(lines) == 1, err
    assert says in lines[0], lines[0]
    assert "Traceback" not in out + err


JSON_BAD = [(a, s) for a, s in BAD if a.split()[:1] in (["inspect"], ["funnel"], ["metrics"])]


@pytest.mark.parametrize(("args", "says"), JSON_BAD, ids=[a for a, _ in JSON_BAD])
def test_under_json_the_error_is_one_json_object(args, says, files, capsys):
    assert main([*_argv(args, files), "--json"]) == 2
    out, _err = capsys.readouterr()
    error = json.loads(out)["error"]
    assert set(error) == {"code", "message"} and says in error["message"]


def test_as_a_whole_process_no_traceback_either(files):
    for args in ("funnel EV --steps A,B --window=1e10d", "inspect EV --map bogusrole=stage",
                 "funnel EV --steps A,B --window abc --json"):
        proc = subprocess.run([sys.executable, "-m", "cjm_core", *_argv(args, files)],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "Traceback" not in proc.stdout + proc.stderr


def test_windows_must_be_positive_and_finite():
    assert parse_window("90m").total_seconds() == 5400
    for bad in ("0", "-1h", "inf", "nan", "1e10d", "5y"):
        with pytest.raises(UsageError):
            parse_window(bad)


def test_a_bug_is_one_line_and_exit_1_with_the_trace_on_request(files, capsys, monkeypatch):
    import cjm_core.cli as cli

    def broken(args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(cli, "cmd_metrics", broken)
    assert main(["metrics", files["EV"]]) == 1
    err = capsys.readouterr().err
    assert "error [internal-error]: ZeroDivisionError" in err and "Traceback" not in err
    monkeypatch.setenv("CJM_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        main(["metrics", files["EV"]])
