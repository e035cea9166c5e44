"""Generated sample data: one workbook per industry with planted facts the tests recover.

Public names: ``sample.generate``."""
