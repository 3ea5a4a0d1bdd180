"""Column-wise encoding of tables: impute, one-hot encode or code, scale — fitted on training rows.

Each kept column is described by a JSON-able spec::

    {"name": "age", "kind": "numeric", "fill": 41.0, "offset": 39.2, "factor": 12.1}
    {"name": "city", "kind": "categorical", "fill": "Paris", "categories": ["Lyon", "Paris"]}
    {"name": "shop", "kind": "embedded", "fill": "s17", "categories": ["s01", ..., "s99"]}

Numeric columns are imputed with the training median, then scaled ``(v - offset) / factor``;
categorical columns (object, string, category, bool) are imputed with the training mode and
one-hot encoded over the training categories (one-hot columns are not scaled). A categorical
column with more than ``one_hot_max`` categories (when the model learns embeddings) is
``embedded`` instead: one feature holding the category's index in ``categories`` (-1: unknown),
which the model looks up in a learned table (:mod:`gradwise.models.tabular`) — one column per
category never exists, so memory stays proportional to rows × columns. Date/time columns
(a datetime dtype, or text in ISO 8601 such as ``2024-03-01`` or ``2024-03-01T12:30``) become
numeric parts — year, month, day, weekday, hour, and the days elapsed since 1970 — each imputed
and scaled like a numeric column (parts constant in training are left out)::

    {"name": "sold", "kind": "datetime", "parts": ["year", "month", ...], "fill": [...],
     "offset": [...], "factor": [...]}
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gradwise._io import user_stacklevel
from gradwise.errors import DataError

ColumnSpec = dict[str, Any]
# where a model finds each kind of encoded feature (Preprocessor.table_layout): "numeric": the
# positions of scaled numbers, "embedded": [position, categories] of each embedded column's code
TableLayout = dict[str, list]
MANY_CATEGORIES = 100  # more than this in one column is probably an identifier
DATE_PARTS = ("year", "month", "day", "weekday", "hour", "elapsed_days")
DATE_SHARE = 0.95  # text: this share of a sample must parse as ISO 8601 dates
ISO_DATE = r"^\s*\d{4}-\d{2}-\d{2}"


def json_scalar(value: Any) -> Any:
    """A plain JSON scalar for a table cell or label (numpy types unwrapped, others as text)."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def sort_key(value: Any) -> tuple[str, Any]:
    return (type(value).__name__, value)


def is_date_column(series: pd.Series) -> bool:
    """A datetime dtype, or text whose (sampled) values are ISO 8601 dates."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return True
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        return False
    sample = series.dropna().head(200)
    if len(sample) == 0 or pd.api.types.infer_dtype(sample, skipna=True) != "string":
        return False
    looks_like = sample.str.match(ISO_DATE).mean() >= DATE_SHARE
    return bool(looks_like and parse_dates(sample).notna().mean() >= DATE_SHARE)


def parse_dates(series: pd.Series) -> pd.Series:
    """Datetimes (timezone-aware ones in UTC, naive), NaT where a value is no date."""
    if not pd.api.types.is_datetime64_any_dtype(series.dtype):
        series = pd.to_datetime(series, format="ISO8601", errors="coerce", utc=True)
    if getattr(series.dt, "tz", None) is not None:
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    return series


def date_parts(series: pd.Series) -> np.ndarray:
    """(n, len(DATE_PARTS)) float64 parts of a date column; NaN where the date is missing."""
    when = parse_dates(series)
    elapsed = (when - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
    parts = [when.dt.year, when.dt.month, when.dt.day, when.dt.weekday, when.dt.hour, elapsed]
    return np.column_stack([np.asarray(p, dtype=np.float64) for p in parts])


def column_kind(series: pd.Series) -> str:
    """``'numeric'``, ``'datetime'`` or ``'categorical'``; numbers stored as objects count as
    numeric."""
    if is_date_column(series):
        return "datetime"
    if pd.api.types.is_bool_dtype(series.dtype):
        return "categorical"
    if pd.api.types.is_numeric_dtype(series.dtype):
        if pd.api.types.is_complex_dtype(series.dtype):
            raise DataError(f"column '{series.name}': complex numbers are not supported")
        return "numeric"
    if series.dtype == object:
        present = series.dropna()
        if len(present) and all(
            isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in present
        ):
            return "numeric"
    return "categorical"


def numeric_values(series: pd.Series, where: str = "") -> np.ndarray:
    """Column as float64 with NaN for missing; text that is no number, or ±inf (a broken
    value, not a missing one: imputing it would hide it) → DataError."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):  # seconds since the epoch
        values = series.map(lambda t: t.timestamp() if pd.notna(t) else np.nan)
        return values.to_numpy(dtype=np.float64)
    numbers = pd.to_numeric(series, errors="coerce")
    bad = numbers.isna() & series.notna()
    if bad.any():
        example = series[bad].iloc[0]
        raise DataError(f"{where}column '{series.name}': expected numbers, found {example!r}")
    values = numbers.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    infinite = np.isinf(values)
    if infinite.any():
        raise DataError(
            f"{where}column '{series.name}': holds ±inf in {int(infinite.sum())} row(s) (the "
            f"first is row {int(np.argmax(infinite)) + 1}); inputs must be finite numbers"
        )
    return values


def category_values(series: pd.Series, as_text: bool) -> list[Any]:
    """Column cells as JSON scalars (``None`` for missing); text when the categories are text."""
    if pd.api.types.infer_dtype(series, skipna=True) == "string":  # already text: no per-cell work
        cells = series.to_numpy(dtype=object, copy=True)
        cells[pd.isna(cells)] = None
        return cells.tolist()
    return [
        None if pd.isna(v) else (str(json_scalar(v)) if as_text else json_scalar(v))
        for v in series.astype(object)
    ]


IQR_OF_NORMAL = 1.349  # the interquartile range of a standard normal distribution


def scale_stats(values: np.ndarray, scale: str, axis: Any = 0) -> tuple[np.ndarray, np.ndarray]:
    """(offset, factor) so that ``(v - offset) / factor`` is standardized / min-max scaled.

    ``robust``: ``offset`` the median, ``factor = IQR / 1.349`` (the standard deviation for
    normal data, unmoved by outliers), the standard deviation where the IQR is 0.
    """
    if scale == "robust":
        low, offset, high = np.percentile(values, [25, 50, 75], axis=axis)
        factor = np.where(high > low, (high - low) / IQR_OF_NORMAL, values.std(axis=axis))
    elif scale == "standard":
        offset, factor = values.mean(axis=axis), values.std(axis=axis)
    elif scale == "minmax":
        offset = values.min(axis=axis)
        factor = values.max(axis=axis) - offset
    elif scale == "none":
        shape = np.delete(np.array(values.shape), axis)
        return np.zeros(shape), np.ones(shape)
    else:
        raise DataError(f"data.scale: expected standard, robust, minmax or none, found '{scale}'")
    factor = np.where(factor > 0, factor, 1.0)  # constant inputs are left unscaled
    return np.asarray(offset, dtype=np.float64), np.asarray(factor, dtype=np.float64)


def fit_columns(
    table: pd.DataFrame, scale: str, one_hot_max: int | None = None
) -> tuple[list[ColumnSpec], list[str]]:
    """Specs for the training ``table``'s columns, and the names of columns dropped as constant.

    ``one_hot_max``: a categorical column with more categories is ``embedded`` (None: every
    categorical column is one-hot encoded)."""
    specs: list[ColumnSpec] = []
    dropped: list[str] = []
    for name in table.columns:
        series = table[name]
        kind = column_kind(series)
        if kind == "datetime":
            spec = date_spec(str(name), date_parts(series), scale)
            if spec is None:
                dropped.append(str(name))
            else:
                specs.append(spec)
            continue
        if kind == "numeric":
            values = numeric_values(series)
            present = values[~np.isnan(values)]
            if len(np.unique(present)) <= 1:
                dropped.append(str(name))
                continue
            fill = float(np.median(present))
            offset, factor = scale_stats(np.where(np.isnan(values), fill, values), scale)
            specs.append(
                {
                    "name": str(name),
                    "kind": "numeric",
                    "fill": fill,
                    "offset": float(offset),
                    "factor": float(factor),
                }
            )
        else:
            cells = [v for v in category_values(series, as_text=False) if v is not None]
            as_text = any(isinstance(v, str) for v in cells)
            cells = [str(v) for v in cells] if as_text else cells
            counts = Counter(cells)
            if len(counts) <= 1:
                dropped.append(str(name))
                continue
            specs.append(category_spec(str(name), counts, one_hot_max))
    return specs, dropped


def category_spec(name: str, counts: Counter, one_hot_max: int | None) -> ColumnSpec:
    """A categorical column's spec from its training counts (two categories or more): one-hot,
    or ``embedded`` when it has more than ``one_hot_max`` categories."""
    categories = sorted(counts, key=sort_key)
    embedded = one_hot_max is not None and len(categories) > one_hot_max
    if not embedded and len(categories) > MANY_CATEGORIES:
        warnings.warn(
            f"column '{name}' has {len(categories)} categories, one-hot encoded into as "
            "many features; leave identifier-like columns out with data.features",
            stacklevel=user_stacklevel(),
        )
    top = max(counts.values())
    fill = next(c for c in categories if counts[c] == top)  # the mode; ties: first
    kind = "embedded" if embedded else "categorical"
    return {"name": name, "kind": kind, "fill": fill, "categories": categories}


def date_spec(name: str, parts: np.ndarray, scale: str) -> ColumnSpec | None:
    """The spec of a date column from its training parts (n, len(DATE_PARTS)): the parts that
    vary, each with its median fill and scaling; None when none varies."""
    kept: dict[str, list[Any]] = {"parts": [], "fill": [], "offset": [], "factor": []}
    for j, part in enumerate(DATE_PARTS):
        values = parts[:, j]
        present = values[~np.isnan(values)]
        if len(np.unique(present)) <= 1:
            continue
        fill = float(np.median(present))
        offset, factor = scale_stats(np.where(np.isnan(values), fill, values), scale)
        for key, value in zip(kept, (part, fill, float(offset), float(factor)), strict=True):
            kept[key].append(value)
    return {"name": name, "kind": "datetime", **kept} if kept["parts"] else None


def missing_columns(table: pd.DataFrame, specs: list[ColumnSpec]) -> list[str]:
    return [s["name"] for s in specs if s["name"] not in table.columns]


@dataclass
class TransformReport:
    """What :func:`transform_table` had to repair: imputed columns, unseen categories."""

    imputed: list[str] = field(default_factory=list)
    unseen: dict[str, list[Any]] = field(default_factory=dict)  # column -> unseen values
    unseen_rows: dict[str, int] = field(default_factory=dict)  # column -> rows with one

    def unseen_text(self) -> str:
        """``city: 'Arles', 'Brest' (3 rows); ...`` for a warning."""
        return "; ".join(
            f"{name}: {', '.join(map(repr, values[:5]))}{' ...' if len(values) > 5 else ''} "
            f"({self.unseen_rows[name]} row{'s' if self.unseen_rows[name] != 1 else ''})"
            for name, values in self.unseen.items()
        )


def transform_table(
    table: pd.DataFrame, specs: list[ColumnSpec], unseen: str = "zeros"
) -> tuple[np.ndarray, TransformReport]:
    """Encode ``table`` with fitted specs → (n, features) float32, and what was repaired.

    A category not seen in training (a new customer's city) is "unknown": an all-zero one-hot
    row (code -1 in an embedded column), counted in the report; ``unseen="error"`` raises a
    DataError instead.
    """
    absent = missing_columns(table, specs)
    if absent:
        found = ", ".join(map(str, table.columns[:20])) + (" ..." if table.shape[1] > 20 else "")
        raise DataError(
            f"input is missing column(s) {', '.join(map(repr, absent))} used in training "
            f"(found: {found})"
        )
    blocks: list[np.ndarray] = []
    report = TransformReport()
    for spec in specs:
        series = table[spec["name"]]
        if spec["kind"] == "datetime":
            columns = [DATE_PARTS.index(part) for part in spec["parts"]]
            values = date_parts(series)[:, columns]
            gaps = np.isnan(values)
            if gaps.any():
                report.imputed.append(spec["name"])
                values = np.where(gaps, np.asarray(spec["fill"]), values)
            blocks.append((values - np.asarray(spec["offset"])) / np.asarray(spec["factor"]))
            continue
        if spec["kind"] == "numeric":
            values = numeric_values(series)
            gaps = np.isnan(values)
            if gaps.any():
                report.imputed.append(spec["name"])
                values[gaps] = spec["fill"]
            blocks.append(((values - spec["offset"]) / spec["factor"])[:, None])  # (n, 1)
            continue
        categories = spec["categories"]
        cells = np.empty(len(series), dtype=object)  # (n,) JSON scalars, None for missing
        cells[:] = category_values(series, as_text=isinstance(categories[0], str))
        gaps = np.equal(cells, None)
        if gaps.any():
            report.imputed.append(spec["name"])
            cells[gaps] = spec["fill"]
        # the category's index as a dict lookup would give it (1 == 1.0 == True), -1 if unseen
        codes = pd.Index(categories, dtype=object).get_indexer(cells)
        known = codes >= 0
        if not known.all():
            new = sorted({cells[i] for i in np.flatnonzero(~known)}, key=sort_key)
            if unseen == "error":
                shown = ", ".join(map(repr, new[:5])) + (" ..." if len(new) > 5 else "")
                raise DataError(
                    f"column '{spec['name']}' has categories not seen in training: {shown} "
                    f"(known: {', '.join(map(repr, categories[:10]))})"
                )
            report.unseen[spec["name"]] = new
            report.unseen_rows[spec["name"]] = int((~known).sum())
        if spec["kind"] == "embedded":
            blocks.append(codes[:, None].astype(np.float64))  # (n, 1): index, -1 unknown
            continue
        one_hot = np.zeros((len(cells), len(categories)))  # (n, k)
        one_hot[np.flatnonzero(known), codes[known]] = 1.0
        blocks.append(one_hot)
    encoded = np.concatenate(blocks, axis=1) if blocks else np.zeros((len(table), 0))
    return encoded.astype(np.float32), report


def feature_names(specs: list[ColumnSpec]) -> list[str]:
    """Names of the encoded features: ``age``, ``city=Lyon``, ``city=Paris``, ``shop#code``."""
    names: list[str] = []
    for spec in specs:
        if spec["kind"] == "embedded":
            names.append(f"{spec['name']}#code")
        elif spec["kind"] == "numeric":
            names.append(spec["name"])
        elif spec["kind"] == "datetime":
            names += [f"{spec['name']}.{part}" for part in spec["parts"]]
        else:
            names += [f"{spec['name']}={c}" for c in spec["categories"]]
    return names
