"""Columns that arrive typed (Parquet, JSON) stay typed: which types are kept, which role kinds
take them as they are, and the text a typed value reads as where text is needed (a column no
role takes as it is, a problem's value, a rejected row).

A Parquet file's time stamps and numbers used to be written out as text and read back, which
cost more than the rest of the load (≈ 4 s of 10M events); a kept column is checked by type
instead (nulls, finite numbers, ranges), with the same result as the text round trip.

>>> keeps_type(pl.Datetime("us")), keeps_type(pl.String), keeps_type(pl.List(pl.Int64))
(True, False, False)
>>> takes_typed("datetime", pl.Date), takes_typed("number", pl.Int32), takes_typed("id", pl.Int64)
(True, True, False)
>>> as_text(pl.Series("t", [datetime(2025, 3, 4, 13, 5), None])).to_list()
['2025-03-04 13:05:00', None]
"""

from __future__ import annotations

import json
from datetime import datetime  # noqa: F401  (the doctest above)

import polars as pl

__all__ = ["as_text", "as_text_expr", "keeps_type", "takes_typed", "text_frame"]


def _numeric(dtype: pl.DataType) -> bool:
    return dtype.is_integer() or dtype.is_float()


def keeps_type(dtype: pl.DataType) -> bool:
    """Whether a reader keeps a column of this type as it is (time stamps, dates, whole and
    floating numbers, booleans); every other type is read as text."""
    return (isinstance(dtype, pl.Datetime) or dtype == pl.Date or _numeric(dtype)
            or dtype == pl.Boolean)


def takes_typed(kind: str, dtype: pl.DataType) -> bool:
    """Whether a role of this kind is checked on a column of ``dtype`` as it is (else on its
    text): dates and time stamps for a datetime role, numbers for a number, integer or score
    role, booleans for a yes/no role. Ids and categories are always text."""
    if kind == "datetime":
        return isinstance(dtype, pl.Datetime) or dtype == pl.Date
    if kind in ("number", "integer", "score"):
        return _numeric(dtype)
    if kind == "boolean":
        return dtype == pl.Boolean
    return False


def as_text_expr(name: str, dtype: pl.DataType) -> pl.Expr:
    """The column as the text a person would write (``2025-03-04 13:05:00``, ``19.99``)."""
    col = pl.col(name)
    if dtype == pl.String:
        return col
    if isinstance(dtype, pl.Datetime):
        return col.dt.to_string("%Y-%m-%d %H:%M:%S%.f").alias(name)
    if dtype == pl.Date:
        return col.dt.to_string("%Y-%m-%d").alias(name)
    if dtype == pl.Time:
        return col.dt.to_string("%H:%M:%S%.f").alias(name)
    if isinstance(dtype, pl.Struct):
        return pl.when(col.is_not_null()).then(col.struct.json_encode()).alias(name)
    if isinstance(dtype, (pl.List, pl.Array, pl.Binary, pl.Object)):
        return col.map_elements(_json_text, return_dtype=pl.String).alias(name)
    return col.cast(pl.String).alias(name)


def as_text(values: pl.Series) -> pl.Series:
    """:func:`as_text_expr` of a series."""
    if values.dtype == pl.String:
        return values
    return values.to_frame().select(as_text_expr(values.name, values.dtype)).to_series()


def text_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column of ``frame`` as text but an Int64 ``__row__`` (rejected rows, the rows of a
    table that loaded nothing)."""
    if all(dt == pl.String or name == "__row__" for name, dt in frame.schema.items()):
        return frame
    return frame.select(pl.col(c) if c == "__row__" else as_text_expr(c, dt)
                        for c, dt in frame.schema.items())


def _json_text(value: object) -> str:
    if isinstance(value, pl.Series):
        value = value.to_list()
    if isinstance(value, bytes):
        return value.hex()
    return json.dumps(value, default=str, ensure_ascii=False)
