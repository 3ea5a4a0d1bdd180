"""A table's column names and a reader of one column, without reading the whole table
(``gradwise init`` checks ``--target`` and infers the task from that one column)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gradwise.errors import DataError

TableColumns = tuple[list[str], Any]  # the column names, and a reader of one column (a Series)


def csv_columns(path: Path) -> TableColumns:
    import pandas as pd

    try:
        header = pd.read_csv(path, nrows=5)
    except pd.errors.EmptyDataError as err:
        raise DataError(f"init: '{path}' is empty: no header and no rows") from err
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError, OSError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise DataError(f"init: cannot read '{path}' as CSV: {reason}") from err
    return [str(c) for c in header.columns], lambda c: pd.read_csv(path, usecols=[c])[c]


def parquet_columns(path: Path) -> TableColumns:
    import pandas as pd
    import pyarrow.parquet as pq

    try:
        names = list(pq.read_schema(path).names)
    except Exception as err:  # pyarrow raises its own types (ArrowInvalid, ...)
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise DataError(f"init: cannot read '{path}' as Parquet: {reason}") from err
    names = [n for n in names if not n.startswith("__index_level_")]  # pandas' stored index
    return names, lambda c: pd.read_parquet(path, columns=[c])[c]


def rdata_columns(dataset: str) -> TableColumns:
    from gradwise.data.rdata import read_rdata

    table = read_rdata(dataset.split(":", 1)[1], {}, 0).table
    return [str(c) for c in table.columns], lambda c: table[c]
