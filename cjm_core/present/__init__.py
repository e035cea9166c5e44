"""What a person reads: charts (Altair, Plotly), the offline HTML report, and spreadsheet exports
that neutralise formulas.

Public names: ``spreadsheet.frame_download``, ``spreadsheet.neutralise``,
``spreadsheet.safe_csv``, ``spreadsheet.safe_xlsx``."""
