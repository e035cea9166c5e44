"""What a person reads: charts (Altair, Plotly), tables as text in each figure's unit
(``tables.py``: labels, one-decimal percentages with intervals, counts with separators), the
findings' sentences (``findings.py``), the offline HTML report, and spreadsheet exports that
neutralise formulas.

Public names: ``spreadsheet.frame_download``, ``spreadsheet.neutralise``,
``spreadsheet.safe_csv``, ``spreadsheet.safe_xlsx``, ``tables.readable``, ``tables.gaps_view``,
``tables.role_label``, ``findings.sentence``, ``report.build_report``."""
