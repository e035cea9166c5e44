"""A public purchase log written with runs of spaces, end to end: it loads every row with the
right roles and its repeat purchase rate is the one counted from the raw lines; a file that
loads nothing makes the analysis commands fail with the reason, never an empty success."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import pytest

from cjm_core.cli import main
from tests.conftest import ROOT

#: shaped like CDNOW's purchase log: a single-spaced header, ids with leading zeros behind
#: leading spaces, fixed-width quantity and amount columns (so "12" and "120.76" follow a single
#: space), dates as YYYYMMDD, two orders of one customer on one day, customers whose orders
#: all have the same quantity (keyed by quantity, their orders collapsed into one)
PURCHASE_LOG = """\
customer_id date number_of_cds dollar_value
   00001 19970101  1  11.77
   00002 19970112  1  12.00
   00002 19970112  5  77.00
   00003 19970102  2  20.76
   00003 19970330  2  20.76
   00003 19970402  2  19.54
   00003 19971115  5  57.45
   00003 19971125  4  20.96
   00003 19980528 12 120.76
   00004 19970101  2  29.33
   00004 19970118  2  29.73
   00005 19970101  2  29.33
   00006 19970101  1  20.99
   00007 19970101  2  28.74
   00007 19970112  2  12.99
   00008 19970101  1   9.77
   00009 19970101  2  29.33
   00010 19970101  1  11.77
   00011 19970101  1  16.46
   00011 19970212  1  13.97
   00012 19970101  1  13.97
   00013 19970101  1  23.73
   00014 19970101  2  25.76
   00015 19970101  1  12.99
   00015 19970320 10 117.80
"""


def _brute_force_repeat_rate(text: str) -> tuple[float, float]:
    """(repeat rate with every line an order, the rate once orders were keyed by quantity)."""
    rows = [line.split() for line in text.splitlines()[1:] if line.strip()]
    per_customer = Counter(r[0] for r in rows)
    per_quantity = Counter(r[0] for r in {(r[0], r[2]) for r in rows})
    rate = sum(n >= 2 for n in per_customer.values()) / len(per_customer)
    collapsed = sum(n >= 2 for n in per_quantity.values()) / len(per_quantity)
    return rate, collapsed


@pytest.fixture
def purchase_log(tmp_path):
    path = tmp_path / "CDNOW_master.txt"
    path.write_text(PURCHASE_LOG, encoding="utf-8")
    return str(path)


def test_purchase_log_loads_every_row_with_the_right_roles(purchase_log, capsys):
    assert main(["inspect", purchase_log, "--json"]) == 0
    [entry] = json.loads(capsys.readouterr().out)["tables"]
    lines = len(PURCHASE_LOG.splitlines()) - 1
    assert entry["delimiter"] == "whitespace"
    assert entry["table"] == "orders"
    assert (entry["rows_in"], entry["rows_loaded"], entry["rows_rejected"]) == (lines, lines, 0)
    assert entry["roles"] == {"customer_id": "customer_id", "order_date": "date",
                              "amount": "dollar_value"}
    assert "number_of_cds" not in entry["roles"].values()
    assert entry["date_formats"] == {"date": "%Y%m%d"}


def test_purchase_log_repeat_rate_is_the_count_from_the_raw_lines(purchase_log, capsys):
    rate, collapsed = _brute_force_repeat_rate(PURCHASE_LOG)
    assert abs(rate - collapsed) > 0.05  # the file tells the right reading from the wrong one
    assert main(["metrics", purchase_log, "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)["metrics"]
    [repeat] = [m for m in metrics if m["metric"] == "repeat_purchase_rate" and not m["by"]]
    assert repeat["value"] == pytest.approx(rate)
    assert repeat["n"] == len({line.split()[0] for line in PURCHASE_LOG.splitlines()[1:]})


# --------------------------------------------------------------------------- nothing loaded

NOTHING_LOADS = {
    "header_only.csv": ("customer_id,date,amount\n", "empty-file", "no data rows"),
    "dates_all_bad.csv": (
        "Kunde;Bestelldatum;Betrag\nK1;31.02.2025;12,50\nK2;gestern;13,00\n",
        "bad-date", "'31.02.2025' is not a date",
    ),
    "ambiguous_dates.csv": (
        "customer,date,stage\nA,03/04/2025,Purchase\nB,05/06/2025,Purchase\n",
        "ambiguous-date-order", "--date-order",
    ),
}


def _command(name: str, path: str, tmp_path) -> list[str]:
    if name == "metrics":
        return ["metrics", path, "--json"]
    if name == "report":
        return ["report", path, "--industry", "4742", "--out", str(tmp_path / "r.html")]
    return ["map", path, "--out", str(tmp_path / "map.json")]


@pytest.mark.parametrize("file", sorted(NOTHING_LOADS))
@pytest.mark.parametrize("command", ["metrics", "report", "map"])
def test_a_file_that_loads_nothing_exits_2_with_the_reason(command, file, tmp_path, capsys):
    text, code, reason = NOTHING_LOADS[file]
    path = tmp_path / file
    path.write_text(text, encoding="utf-8")
    assert main(_command(command, str(path), tmp_path)) == 2
    out, err = capsys.readouterr()
    if command == "metrics":
        error = json.loads(out)["error"]
        assert error["code"] == code
        message = error["message"]
    else:
        assert out == ""
        assert err.splitlines()[-1].startswith(f"error [{code}]: ")
        message = err
    assert "Nothing was loaded" in message and file in message and reason in message
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "map.json").exists()


def test_nothing_loaded_as_a_process_is_a_message_not_a_trace(tmp_path):
    path = tmp_path / "header_only.csv"
    path.write_text("customer_id,date,amount\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "cjm_core", "metrics", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stdout == ""
    assert "error [empty-file]: Nothing was loaded" in done.stderr
    assert "Traceback" not in done.stderr


def test_one_empty_file_beside_one_that_loads_is_a_note_not_an_error(purchase_log, tmp_path,
                                                                      capsys):
    empty = tmp_path / "header_only.csv"
    empty.write_text("customer_id,date,amount\n", encoding="utf-8")
    assert main(["metrics", purchase_log, str(empty), "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["metrics"]
    assert "note: header_only.csv" in err
