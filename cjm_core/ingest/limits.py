"""Size limits for uploads and workbooks: one source of truth, each overridable by an environment
variable so a host can raise or lower them without code changes.

``MAX_UPLOAD_MB`` is the number that also goes into ``.streamlit/config.toml`` as
``server.maxUploadSize``; the core checks it again because the CLI has no Streamlit in front.

>>> MAX_UPLOAD_BYTES == MAX_UPLOAD_MB * 1024 * 1024
True
"""

from __future__ import annotations

import os

MB = 1024 * 1024


def _env_int(name: str, default: int) -> int:
    """An integer from the environment; a missing, blank or invalid value keeps the default."""
    raw = os.environ.get(name, "").strip()
    try:
        value = int(raw)
    except ValueError:
        return default
    return value if value > 0 else default


#: Upload limit in MB (env ``CJM_MAX_UPLOAD_MB``, default 200).
MAX_UPLOAD_MB: int = _env_int("CJM_MAX_UPLOAD_MB", 200)
#: The same limit in bytes, checked by :func:`cjm_core.ingest.read.read_file`.
MAX_UPLOAD_BYTES: int = MAX_UPLOAD_MB * MB

#: Total declared uncompressed size of all entries of a workbook zip (env ``CJM_MAX_UNZIPPED_MB``).
MAX_UNCOMPRESSED_BYTES: int = _env_int("CJM_MAX_UNZIPPED_MB", 500) * MB
#: Highest allowed compression ratio of one zip entry (uncompressed / compressed).
MAX_COMPRESSION_RATIO: int = 100
#: Entries smaller than this (uncompressed) are not ratio-checked: tiny XML parts compress well.
RATIO_MIN_ENTRY_BYTES: int = 1 * MB
#: Most entries a workbook zip may hold.
MAX_ZIP_ENTRIES: int = 10_000
#: Most cells a worksheet may declare in its ``<dimension ref=...>`` (env ``CJM_MAX_SHEET_CELLS``).
MAX_SHEET_CELLS: int = _env_int("CJM_MAX_SHEET_CELLS", 5_000_000)
#: Most rows one uploaded table may hold (env ``CJM_MAX_ROWS``): a 200 MB file of tiny lines
#: would otherwise become a hundred million rows in memory.
MAX_ROWS: int = _env_int("CJM_MAX_ROWS", 50_000_000)
