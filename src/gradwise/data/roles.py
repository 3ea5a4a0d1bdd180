"""Table columns that are not features: row indexes and identifiers (DESIGN.md §6).

Two kinds of column are left out of a table's inputs unless ``data.features`` names them:

- a **row index**: an unnamed column (pandas reads an empty header as ``Unnamed: N``; R's
  ``write.csv`` and pandas' ``to_csv`` both write one; R's ``read.csv`` calls it ``X``, readr
  ``...1``, pandas' ``reset_index`` ``index``) whose values count the rows in file order,
  ``0..n-1`` or ``1..n``. Where rows are ordered by something that tracks the target, it
  leaks the target; elsewhere it is noise.
- an **identifier**: a column with a different value in (almost) every row — text in at least
  :data:`ID_SHARE` of the rows, or integers all distinct in a column named like an id
  (``id``, ``customer_id``, ``orderId``, ``uuid``, ``key``). One-hot encoded it is one feature
  per row; as a number, noise.

Other numbers are never identifiers: measurements are distinct too, and a column of years or
counts may run 1, 2, 3, ... as a row index does (only its name tells them apart).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

ID_SHARE = 0.95  # text: distinct in at least this share of its non-missing rows
MIN_ROWS = 20  # fewer rows say nothing about distinctness
UNNAMED = re.compile(r"^(Unnamed: \d+||X|\.\.\.1|index)$")
ID_NAME = re.compile(r"(^|[_\W])id$|^id([_\W]|$)|[a-z]Id$|ID$|_?uuid$|_?key$", re.IGNORECASE)


def row_index_reason(name: str, series: pd.Series) -> str | None:
    """Why ``series`` is a row index (None when it is not one)."""
    if not UNNAMED.match(name) or not pd.api.types.is_numeric_dtype(series.dtype):
        return None
    values = series.to_numpy()
    if len(values) == 0 or pd.isna(values).any():
        return None
    for start in (0, 1):
        if np.array_equal(values, np.arange(start, start + len(values))):
            return f"row index {start}..{start + len(values) - 1}"
    return None


def identifier_reason(name: str, series: pd.Series) -> str | None:
    """Why ``series`` is an identifier (None when it is not one)."""
    present = series.dropna()
    n = len(present)
    if n < MIN_ROWS or pd.api.types.is_bool_dtype(series.dtype):
        return None
    if pd.api.types.is_integer_dtype(series.dtype):
        if present.nunique() < n:
            return None
        if ID_NAME.search(name):
            return f"identifier: {n} distinct integers in {n} rows"
        return None
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_datetime64_any_dtype(
        series.dtype
    ):
        return None
    distinct = present.astype(str).nunique()
    if distinct >= ID_SHARE * n:
        return f"identifier: {distinct} distinct values in {n} rows"
    return None


def left_out_columns(table: pd.DataFrame, is_date: object = None) -> dict[str, str]:
    """The columns of ``table`` that are row indexes or identifiers, with why; ``is_date``
    (a predicate on a column) spares date columns, whose values are distinct too."""
    reasons: dict[str, str] = {}
    for name in table.columns:
        series = table[name]
        if callable(is_date) and is_date(series):
            continue
        reason = row_index_reason(str(name), series) or identifier_reason(str(name), series)
        if reason is not None:
            reasons[str(name)] = reason
    return reasons
