"""Data larger than memory: Parquet tables and memory-mapped ``.npy`` arrays read in chunks.

``data.stream: auto`` (the default) streams a Parquet or ``.npy`` source when holding it in
memory would pass the memory budget (a quarter of the memory available, or
``GRADWISE_MEMORY_BUDGET`` bytes); ``true`` always streams such a source, ``false`` never.

What stays in memory is proportional to the rows alone, never to rows × columns: the targets
(one column, read once, so that the split is stratified as in memory) and which split each row
is in. Everything else is read chunk by chunk — a Parquet file's row groups (cut into pieces of
at most :data:`CHUNK_ROWS` rows), an array's blocks of rows:

1. One pass over the training rows fits the preprocessing. Per numeric column the count, mean
   and sum of squared deviations of each chunk are merged (Chan et al.):
   ``n = n_a + n_b``, ``δ = μ_b − μ_a``, ``μ = μ_a + δ·n_b/n``, ``M2 = M2_a + M2_b + δ²·n_a·n_b/n``;
   missing values are filled with the median of a bounded random sample of the column (the
   in-memory path uses the exact median) and merged into the statistics as a group of
   ``n_missing`` values equal to the fill. Categories are counted exactly.
2. Each epoch visits the chunks in a shuffled order and shuffles rows within a buffer of
   :data:`BUFFER_CHUNKS` chunks, so memory is bounded by the buffer, not the file.
3. Validation and test splits are read the same way; only their model outputs are kept.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gradwise.data import tabular
from gradwise.data.preprocess import Preprocessor
from gradwise.data.raw import kind_of_shape
from gradwise.data.split import plain_split, split_sizes, stratified_split
from gradwise.data.targets import fit_target_encoder
from gradwise.errors import ConfigError, DataError

CHUNK_ROWS = 65_536  # rows read at once
BUFFER_CHUNKS = 4  # chunks shuffled together
MEDIAN_SAMPLE = 100_000  # values per column kept to estimate the fill median
TABLE_SUFFIXES = (".parquet", ".pq")
ARRAY_SUFFIXES = (".npy",)
IN_MEMORY_COPIES = 3  # read + encoded + tensors: what the in-memory path holds at its peak


# ------------------------------------------------------------------------------- deciding
def memory_budget() -> int:
    """Bytes a dataset may take in memory: ``GRADWISE_MEMORY_BUDGET``, else a quarter of the
    memory available."""
    if "GRADWISE_MEMORY_BUDGET" in os.environ:
        return int(float(os.environ["GRADWISE_MEMORY_BUDGET"]))
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024 // 4
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES") // 4


def stream_wanted(data: Any) -> bool:
    """Whether ``data`` (the ``data:`` section) is read in chunks."""
    path = Path(data.source)
    suffix = path.suffix.lower()
    streamable = suffix in TABLE_SUFFIXES + ARRAY_SUFFIXES
    if data.stream is True and not streamable:
        raise ConfigError(
            f"data.stream: '{data.source}' cannot be streamed; Parquet tables and .npy arrays "
            "can (or set data.stream: false)"
        )
    if suffix in ARRAY_SUFFIXES:
        if data.stream is False:
            raise ConfigError(
                f"data.stream: '{data.source}' is read memory-mapped, in chunks; for an array "
                "held in memory use an .npz file (arrays x and y)"
            )
        return True
    if data.stream is False or not streamable or not path.is_file():
        return False
    return data.stream is True or in_memory_bytes(path) > memory_budget()


def in_memory_bytes(path: Path) -> int:
    if path.suffix.lower() in ARRAY_SUFFIXES:
        array = np.load(path, mmap_mode="r")
        return array.shape[0] * int(np.prod(array.shape[1:])) * 4 * IN_MEMORY_COPIES
    import pyarrow.parquet as pq

    metadata = pq.ParquetFile(path).metadata
    return metadata.num_rows * metadata.num_columns * 8 * IN_MEMORY_COPIES


# -------------------------------------------------------------------------------- chunks
class ChunkReader:
    """A source read in parts (a Parquet file's row groups, an array's blocks of rows), each
    part as chunks of at most :data:`CHUNK_ROWS` rows."""

    path: Path
    n_rows: int
    parts: int

    def read(self, part: int) -> Iterator[tuple[int, pd.DataFrame | np.ndarray]]:
        """The chunks of ``part`` in file order, each with the file row it starts at."""
        raise NotImplementedError

    def targets(self) -> np.ndarray | None:
        raise NotImplementedError


class ParquetChunks(ChunkReader):
    """A Parquet table by row groups, each read in batches of :data:`CHUNK_ROWS` rows."""

    def __init__(self, path: Path, target: str | None, features: list[str] | None) -> None:
        import pyarrow.parquet as pq

        self.file = pq.ParquetFile(path)
        self.path = path
        names = self.file.schema_arrow.names
        if target is not None and target not in names:
            raise DataError(f"data.target: no column '{target}' in '{path}'")
        unknown = [name for name in features or [] if name not in names]
        if unknown:
            raise DataError(f"data.features: no column(s) {', '.join(unknown)} in '{path}'")
        self.target = target
        self.columns = features or [name for name in names if name != target]
        self.n_rows = self.file.metadata.num_rows
        self.parts = self.file.num_row_groups
        sizes = [self.file.metadata.row_group(g).num_rows for g in range(self.parts)]
        self.starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int).tolist()

    def read(self, part: int) -> Iterator[tuple[int, pd.DataFrame]]:
        start = self.starts[part]
        batches = self.file.iter_batches(
            batch_size=CHUNK_ROWS, row_groups=[part], columns=self.columns
        )
        for batch in batches:
            yield start, batch.to_pandas()
            start += batch.num_rows

    def targets(self) -> np.ndarray | None:
        if self.target is None:
            return None
        return self.file.read(columns=[self.target]).column(0).to_numpy(zero_copy_only=False)


class ArrayChunks(ChunkReader):
    """A memory-mapped ``.npy`` array (n, ...) in blocks of :data:`CHUNK_ROWS` rows; the
    targets are a second ``.npy`` file (``data.target``, beside the source when relative)."""

    def __init__(self, path: Path, target: str | None) -> None:
        self.x = np.load(path, mmap_mode="r")
        self.path = path
        self.target_path = None
        if target is not None:
            target_path = Path(target) if Path(target).is_absolute() else path.parent / target
            if target_path.suffix.lower() != ".npy" or not target_path.is_file():
                raise DataError(
                    f"data.target: for an .npy source give the .npy file of its targets; "
                    f"'{target_path}' is not one"
                )
            self.target_path = target_path
        self.n_rows = len(self.x)
        self.parts = -(-self.n_rows // CHUNK_ROWS)

    def read(self, part: int) -> Iterator[tuple[int, np.ndarray]]:
        start = part * CHUNK_ROWS
        yield start, np.asarray(self.x[start : start + CHUNK_ROWS], dtype=np.float64)

    def targets(self) -> np.ndarray | None:
        if self.target_path is None:
            return None
        y = np.load(self.target_path)
        if len(y) != self.n_rows:
            raise DataError(
                f"data.target: '{self.target_path}' has {len(y)} rows, '{self.path}' {self.n_rows}"
            )
        return y


def chunk_reader(data: Any) -> ChunkReader:
    path = Path(data.source)
    target = data.target if isinstance(data.target, str) or data.target is None else None
    if target is None and data.target is not None:
        raise ConfigError("data.target: a streamed source has one target")
    if path.suffix.lower() in ARRAY_SUFFIXES:
        return ArrayChunks(path, target)
    return ParquetChunks(path, target, data.features)


# ------------------------------------------------------------------------ fitting in a pass
@dataclass
class Moments:
    """Running count, mean, sum of squared deviations, minimum and maximum of columns, merged
    chunk by chunk (Chan et al.; see the module docstring)."""

    n: int = 0
    mean: Any = 0.0
    m2: Any = 0.0
    low: Any = np.inf
    high: Any = -np.inf

    def add(self, values: np.ndarray) -> None:
        """Merge the rows of ``values`` (n,) or (n, k)."""
        if len(values):
            mean = values.mean(axis=0)
            self.merge(len(values), mean, ((values - mean) ** 2).sum(axis=0))
            self.low = np.minimum(self.low, values.min(axis=0))
            self.high = np.maximum(self.high, values.max(axis=0))

    def merge(self, n: int, mean: Any, m2: Any) -> None:
        total = self.n + n
        delta = mean - self.mean
        self.mean = self.mean + delta * n / total
        self.m2 = self.m2 + m2 + delta**2 * self.n * n / total
        self.n = total

    def offset_factor(self, scale: str) -> tuple[np.ndarray, np.ndarray]:
        """``(v - offset) / factor`` as :func:`gradwise.data.tabular.scale_stats` computes it."""
        if scale == "standard":
            offset, factor = self.mean, np.sqrt(self.m2 / self.n)
        elif scale == "minmax":
            offset, factor = self.low, self.high - self.low
        else:
            offset, factor = np.zeros_like(self.mean), np.ones_like(self.mean)
        factor = np.where(factor > 0, factor, 1.0)
        return np.asarray(offset, dtype=np.float64), np.asarray(factor, dtype=np.float64)


@dataclass
class NumericColumn:
    """A numeric column's moments, missing count and a random sample for the fill median."""

    moments: Moments = field(default_factory=Moments)
    missing: int = 0
    sample: list[np.ndarray] = field(default_factory=list)

    def add(self, values: np.ndarray, rng: np.random.Generator, rate: float) -> None:
        present = values[~np.isnan(values)]
        self.missing += len(values) - len(present)
        self.moments.add(present)
        self.sample.append(present[rng.random(len(present)) < rate])

    def spec(self, name: str, scale: str) -> tabular.ColumnSpec | None:
        moments = self.moments
        if moments.n == 0 or moments.low == moments.high:
            return None  # constant in training
        sample = np.concatenate(self.sample)
        fill = float(np.median(sample if len(sample) else [moments.mean]))
        if self.missing:  # the filled cells: a group of equal values
            moments.merge(self.missing, fill, 0.0)
            moments.low, moments.high = min(moments.low, fill), max(moments.high, fill)
        if scale == "robust":  # quantiles of the random sample (all of it up to MEDIAN_SAMPLE)
            offset, factor = tabular.scale_stats(np.append(sample, fill), scale)
        else:
            offset, factor = moments.offset_factor(scale)
        return {
            "name": name,
            "kind": "numeric",
            "fill": fill,
            "offset": float(offset),
            "factor": float(factor),
        }


def category_spec(name: str, counts: Counter, one_hot_max: int | None) -> tabular.ColumnSpec | None:
    """A categorical column's spec from its exact counts (as ``fit_columns`` makes it)."""
    if any(isinstance(c, str) for c in counts):
        as_text: Counter = Counter()
        for value, count in counts.items():
            as_text[str(value)] += count
        counts = as_text
    if len(counts) <= 1:
        return None
    return tabular.category_spec(name, counts, one_hot_max)


def fit_table(
    reader: ParquetChunks,
    train_rows: np.ndarray,
    scale: str,
    seed: int,
    one_hot_max: int | None = None,
) -> tuple[list[tabular.ColumnSpec], list[str]]:
    """Column specs (as :func:`gradwise.data.tabular.fit_columns` makes them) in one pass."""
    rng = np.random.default_rng(seed)
    rate = min(1.0, MEDIAN_SAMPLE / max(len(train_rows), 1))
    kinds: dict[str, str] = {}
    numeric: dict[str, NumericColumn] = {}
    dates: dict[str, list[NumericColumn]] = {}
    counts: dict[str, Counter] = {}
    for _, table in training_chunks(reader, train_rows):
        for name in table.columns:
            series = table[name]
            kind = kinds.setdefault(name, tabular.column_kind(series))
            if kind == "numeric":
                column = numeric.setdefault(name, NumericColumn())
                column.add(tabular.numeric_values(series), rng, rate)
            elif kind == "datetime":
                parts = dates.setdefault(name, [NumericColumn() for _ in tabular.DATE_PARTS])
                for part, values in zip(parts, tabular.date_parts(series).T, strict=True):
                    part.add(values, rng, rate)
            else:
                cells = tabular.category_values(series, as_text=False)
                counts.setdefault(name, Counter()).update(c for c in cells if c is not None)
    specs: list[tabular.ColumnSpec] = []
    dropped: list[str] = []
    for name in reader.columns:
        if kinds.get(name) == "numeric":
            spec = numeric[name].spec(name, scale)
        elif kinds.get(name) == "datetime":
            spec = date_spec(name, dates[name], scale)
        else:
            spec = category_spec(name, counts.get(name, Counter()), one_hot_max)
        if spec is None:
            dropped.append(name)
        else:
            specs.append(spec)
    return specs, dropped


def date_spec(name: str, parts: list[NumericColumn], scale: str) -> tabular.ColumnSpec | None:
    """A date column's spec (as :func:`gradwise.data.tabular.date_spec` makes it) from its
    parts' running statistics."""
    kept: dict[str, list[Any]] = {"parts": [], "fill": [], "offset": [], "factor": []}
    for part, column in zip(tabular.DATE_PARTS, parts, strict=True):
        spec = column.spec(part, scale)
        if spec is not None:
            for key in kept:
                kept[key].append(part if key == "parts" else spec[key])
    return {"name": name, "kind": "datetime", **kept} if kept["parts"] else None


def as_columns(x: np.ndarray) -> np.ndarray:
    """Rows (n, f) as they are; (n, c, ...) as one row per position and channel (·, c)."""
    return x if x.ndim == 2 else np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def fit_array(
    reader: ArrayChunks, train_rows: np.ndarray, scale: str
) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature (n, f) or per-channel (n, c, ...) offset and factor in one pass."""
    moments = Moments()
    for _, x in training_chunks(reader, train_rows):
        if not np.isfinite(x).all():
            raise DataError(f"'{reader.path}': x holds NaN or infinite values")
        moments.add(as_columns(x))
    return moments.offset_factor(scale)


def training_chunks(
    reader: ChunkReader, rows: np.ndarray, parts: Any = None
) -> Iterator[tuple[np.ndarray, pd.DataFrame | np.ndarray]]:
    """For each chunk of ``parts`` (all, in file order, by default): the file rows of ``rows``
    (sorted) that it holds, and their features."""
    for part in range(reader.parts) if parts is None else parts:
        for start, features in reader.read(part):
            low, high = np.searchsorted(rows, [start, start + len(features)])
            picked = rows[low:high]
            if len(picked) == 0:
                continue
            local = picked - start
            if isinstance(features, pd.DataFrame):
                yield picked, features.iloc[local].reset_index(drop=True)
            else:
                yield picked, features[local]


# --------------------------------------------------------------------------------- splits
@dataclass
class StreamedSplits:
    """The splits of a streamed source: which file rows each split holds (sorted), their
    encoded targets, and the preprocessing fitted on the training rows in one pass. Features
    stay on disk (:class:`gradwise.training.streamed.StreamSplit` reads them)."""

    reader: ChunkReader
    indices: dict[str, np.ndarray]  # "train" | "valid" | "test" -> sorted file rows
    targets: dict[str, np.ndarray | None]  # encoded like Splits.y_*
    preprocessor: Preprocessor
    profile: dict[str, Any]

    @property
    def y_train(self) -> np.ndarray | None:
        return self.targets["train"]


def split_rows(
    data: Any, target_kind: str | None, seed: int
) -> tuple[ChunkReader, dict[str, np.ndarray], np.ndarray | None]:
    """The reader of a streamed source, the sorted file rows of each split (stratified by the
    labels, by ``seed``) and the targets as read."""
    reader = chunk_reader(data)
    raw_targets = reader.targets()
    if target_kind is not None and raw_targets is None:
        raise ConfigError(
            f"data.target: '{data.source}' is streamed for a task with targets; name them"
        )
    if raw_targets is not None and pd.isna(pd.Series(raw_targets)).any():
        raise DataError(
            f"data.target: '{data.source}' has rows without a target; remove them first"
        )
    n_valid, n_test = split_sizes(reader.n_rows, data.valid, data.test)
    if target_kind == "labels":
        _, codes = np.unique(raw_targets, return_inverse=True)  # no Python object per row
        train, valid, test = stratified_split(codes, n_valid, n_test, seed)
    else:
        train, valid, test = plain_split(reader.n_rows, n_valid, n_test, seed)
    return reader, {"train": train, "valid": valid, "test": test}, raw_targets


def load_streamed_splits(
    data: Any, target_kind: str | None, seed: int, one_hot_max: int | None = None
) -> StreamedSplits:
    """Split a streamed source, fit its preprocessing on the training rows in one pass, and
    encode the targets; ``one_hot_max`` as in :func:`gradwise.data.tabular.fit_columns`."""
    if data.sampling not in ("none", {"name": "none"}):
        raise ConfigError(
            "data.sampling: resampling needs the training split in memory; "
            "set data.stream: false or leave sampling out"
        )
    reader, indices, raw_targets = split_rows(data, target_kind, seed)
    if data.scale == "robust" and not isinstance(reader, ParquetChunks):
        raise ConfigError(
            "data.scale: robust scaling of streamed arrays is not supported (it needs "
            "quantiles of every feature); use standard or minmax, or set data.stream: false"
        )
    train = indices["train"]
    target = None
    if target_kind is not None:
        names = [data.target] if isinstance(reader, ParquetChunks) else None
        scale_target = data.options.get("scale_target", True)
        # labels: fitted on the distinct training labels (the classes are all it keeps)
        fitted = np.unique(raw_targets[train]) if target_kind == "labels" else raw_targets[train]
        target = fit_target_encoder(fitted, target_kind, names, scale_target)
    if isinstance(reader, ParquetChunks):
        specs, dropped = fit_table(reader, train, data.scale, seed, one_hot_max)
        if not specs:
            raise DataError(f"'{data.source}': every input column is constant in training")
        width = len(tabular.feature_names(specs))
        preprocessor = Preprocessor((width,), "tabular", data.scale, target, specs, dropped)
    else:
        offset, factor = fit_array(reader, train, data.scale)
        shape = tuple(reader.x.shape[1:])
        preprocessor = Preprocessor(
            shape,
            kind_of_shape(shape),
            data.scale,
            target,
            offset=offset.tolist(),
            factor=factor.tolist(),
        )
    targets = {
        name: None if target is None else encode_targets(target, raw_targets, rows)
        for name, rows in indices.items()
    }
    profile = {
        "source": data.source,
        "streamed": True,
        "rows": reader.n_rows,
        "chunk_rows": CHUNK_ROWS,
        "parts": reader.parts,
        "input_kind": preprocessor.input_kind,
        "feature_shape": list(preprocessor.feature_shape),
        "splits": {name: len(rows) for name, rows in indices.items()},
        "dropped_columns": preprocessor.dropped_columns,
    }
    return StreamedSplits(reader, indices, targets, preprocessor, profile)


def encode_targets(target: Any, raw_targets: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The encoded targets of ``rows``; labels through their distinct values (one lookup per
    class, not one Python object per row)."""
    if target.kind != "labels":
        return target.encode(raw_targets[rows])
    distinct, inverse = np.unique(raw_targets[rows], return_inverse=True)
    return target.encode(distinct)[inverse]


def streamed_test_split(
    data: Any, target_kind: str | None, seed: int, preprocessor: Preprocessor
) -> StreamedSplits:
    """A finished run's test split of a streamed source, with its stored preprocessing
    (nothing is refitted: only the targets are read to draw the same split)."""
    reader, indices, raw_targets = split_rows(data, target_kind, seed)
    encoded = None
    if preprocessor.target is not None and raw_targets is not None:
        encoded = encode_targets(preprocessor.target, raw_targets, indices["test"])
    return StreamedSplits(reader, indices, {"test": encoded}, preprocessor, {"streamed": True})
