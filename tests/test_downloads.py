"""Every download neutralises formulas (issue 11 §2): one spreadsheet-export helper, and tests that
find every download button of the app and every file the command line writes and check that
each goes through it."""

from __future__ import annotations

import ast
import csv
import io
import tomllib
import zipfile

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from cjm_core.present.spreadsheet import DANGEROUS_START, frame_download
from tests.conftest import ROOT

APP_FILES = [ROOT / "app.py", ROOT / "ui.py", *sorted((ROOT / "app_pages").glob("*.py"))]


def _calls(path, attr: str) -> list[tuple[str, str, ast.Call]]:
    """(file, enclosing function or "<module>", call) for every call of ``….attr(...)`` or
    ``attr(...)``."""
    tree = ast.parse(path.read_text())
    out = []

    def walk(node, where):
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, ast.FunctionDef) else where
            f = child.func if isinstance(child, ast.Call) else None
            if (isinstance(f, ast.Attribute) and f.attr == attr) or (
                    isinstance(f, ast.Name) and f.id == attr):
                out.append((path.relative_to(ROOT).as_posix(), where, child))
            walk(child, inner)

    walk(tree, "<module>")
    return out


def _assigned_from(path, function: str, name: str) -> set[str]:
    """Names of the functions whose call results are assigned to ``name`` in ``function``."""
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == function:
            for sub in ast.walk(node):
                if isinstance(sub, ast.Assign) and isinstance(sub.value, ast.Call):
                    targets = [t for tgt in sub.targets for t in
                               (tgt.elts if isinstance(tgt, ast.Tuple) else [tgt])]
                    if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                        f = sub.value.func
                        found.add(f.id if isinstance(f, ast.Name) else f.attr)
    return found


def test_every_download_button_goes_through_the_spreadsheet_helper():
    sites = {(f, where) for path in APP_FILES for f, where, _ in _calls(path, "download_button")}
    # the only three: tables through ui.download_table (frame_download), the journey map
    # through map_export.export (its CSV and XLSX are written by cjm_core.present.spreadsheet),
    # and the Overview's report, one HTML page (no spreadsheet; its text is escaped, see
    # test_report) built by present.report.build_report
    assert sites == {("ui.py", "download_table"), ("app_pages/journey_map.py", "<module>"),
                     ("app_pages/overview.py", "<module>")}
    overview = (ROOT / "app_pages" / "overview.py").read_text()
    assert 'lambda: build_report(' in overview and 'mime="text/html"' in overview
    assert _assigned_from(ROOT / "ui.py", "download_table", "data") == {"frame_download"}
    map_page = (ROOT / "app_pages" / "journey_map.py").read_text()
    assert "*export(m, fmt)" in map_page
    export_src = (ROOT / "cjm_core" / "journey_map" / "export.py").read_text()
    assert "return safe_csv(table(m))" in export_src
    assert 'return safe_xlsx(table(m), sheet="Journey map")' in export_src


def test_every_file_the_command_line_writes_is_html_or_goes_through_the_map_export():
    main = ROOT / "cjm_core" / "cli.py"
    writers = {(where, attr) for attr in ("write_text", "write_bytes", "write", "open")
               for _f, where, _call in _calls(main, attr)}
    # report: one HTML page (not a spreadsheet); map: map_export.write, whose CSV and XLSX
    # come from cjm_core.present.spreadsheet (checked above)
    assert writers == {("cmd_report", "write_text"), ("cmd_map", "write")}
    assert "from cjm_core.journey_map.export import write" in main.read_text()


def test_the_tables_built_in_csv_download_is_off():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["disableDataExport"] is True


cells = st.text(alphabet=st.sampled_from([*DANGEROUS_START, " ", "\n", "a", "1", ",", '"']),
                max_size=8)


def _dangerous(cell: str) -> bool:
    return cell.startswith(DANGEROUS_START) or cell.lstrip(" \n").startswith(DANGEROUS_START)


@settings(max_examples=200, deadline=None)
@given(st.lists(cells, min_size=1, max_size=6), cells)
def test_no_cell_of_a_downloaded_table_starts_a_formula(values, name):
    frame = pl.DataFrame({name or "col": values, "n": list(range(len(values)))})
    data, mime, file = frame_download(frame, "rejected_survey.xlsx.csv")
    assert file == "rejected_survey.csv" and mime == "text/csv"
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert len(rows) == len(values) + 1
    for row in rows:
        for cell in row:
            assert not _dangerous(cell) or cell.startswith("'")
    # nothing lost: the neutralised cell is the original behind one apostrophe
    for original, row in zip(values, rows[1:], strict=True):
        assert row[0] in (original, "'" + original)


def test_xlsx_download_writes_text_not_formulas():
    frame = pl.DataFrame({"comment": ['=HYPERLINK("http://x","click")', "fine"]})
    data, mime, file = frame_download(frame, "rejected_events.csv.xlsx")
    assert file == "rejected_events.xlsx" and mime.endswith("sheet")
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # no formula cell
    strings = zipfile.ZipFile(io.BytesIO(data)).read("xl/sharedStrings.xml").decode()
    assert "'=HYPERLINK" in strings
