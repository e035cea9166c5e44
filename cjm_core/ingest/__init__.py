"""From uploaded bytes to validated tables: readers per format (text, workbooks under the workbook
guard, Parquet, JSON lines), dates, numbers and roles, validation with problem codes, and the
first rows under the chosen roles before saving (``preview.py``).

Public names: ``pipeline.Choice``, ``pipeline.TableLoad``, ``pipeline.ingest``,
``pipeline.load``, ``read.RawTable``, ``read.read_file``, ``validate.LoadResult``,
``validate.load_table``, ``problems.CODES``, ``problems.Problem``, ``preview.preview``,
``preview.unused_columns``."""
