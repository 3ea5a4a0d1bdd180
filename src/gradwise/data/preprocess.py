"""The fitted preprocessing of a run: features in, float32 arrays out; targets both ways.

Fitted on the training split only, stored in the run directory as ``preprocess.json``
(:meth:`Preprocessor.to_dict`) and reloaded by predict/evaluate (:meth:`Preprocessor.from_dict`).
Tables are encoded column by column (:mod:`.tabular`); arrays are scaled per feature (n, f) or
per channel (n, c, ...).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gradwise._io import user_stacklevel
from gradwise.data import tabular
from gradwise.data.raw import RawData, kind_of_shape
from gradwise.data.targets import (
    AnyTargetEncoder,
    fit_target_encoder,
    target_encoder_from_dict,
)
from gradwise.errors import CheckpointError, DataError

# 2: the target kind ("targets") instead of the task name; 3: "embedded" columns and robust
# scaling (a file of version 1 or 2 still loads)
FORMAT_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)


@dataclass
class Preprocessor:
    """Feature encoding and scaling plus target encoding, fitted on the training split."""

    feature_shape: tuple[int, ...]  # one example after encoding, e.g. (12,), (1, 40), (3, 32, 32)
    input_kind: str  # tabular | signal | image
    scale: str  # standard | minmax | none
    target: AnyTargetEncoder | None  # None: no targets (features only)
    columns: list[tabular.ColumnSpec] | None = None  # tables: one spec per kept input column
    dropped_columns: list[str] = field(default_factory=list)  # constant in training
    offset: list[float] | None = None  # arrays: per feature (n, f) or per channel (n, c, ...)
    factor: list[float] | None = None

    # ---------------------------------------------------------------------------- fitting
    @classmethod
    def fit(
        cls,
        features: pd.DataFrame | np.ndarray,
        target_values: np.ndarray | None = None,
        *,
        target_kind: str | None,
        scale: str = "standard",
        target_names: list[str] | None = None,
        scale_target: bool = True,
        target_kinds: dict[str, str] | None = None,
        one_hot_max: int | None = None,
    ) -> Preprocessor:
        """Fit on training features (a table or an (n, ...) array) and training targets.

        ``target_kind``: ``"labels"``, ``"values"``, ``"multi"`` (several columns, each of the
        kind ``target_kinds`` gives), or None for no targets (``target_values`` is then ignored).
        ``one_hot_max``: tables' categorical columns with more categories are ``embedded``
        (:func:`gradwise.data.tabular.fit_columns`).
        """
        target = None
        if target_kind is not None:
            if target_values is None:
                raise DataError(f"targets: {target_kind!r} needs target values, found none")
            target = fit_target_encoder(
                target_values, target_kind, target_names, scale_target, target_kinds
            )
        if isinstance(features, pd.DataFrame):
            columns, dropped = tabular.fit_columns(features, scale, one_hot_max)
            width = len(tabular.feature_names(columns))
            if width == 0:
                raise DataError(
                    "no usable feature columns: every input column is constant in training "
                    f"({', '.join(dropped) or 'none given'})"
                )
            return cls((width,), "tabular", scale, target, columns, dropped)
        x = np.asarray(features, dtype=np.float64)
        _check_finite(x, "x")
        axis = 0 if x.ndim == 2 else (0, *range(2, x.ndim))  # per feature / per channel
        offset, factor = tabular.scale_stats(x, scale, axis)
        return cls(
            tuple(x.shape[1:]),
            kind_of_shape(x.shape[1:]),
            scale,
            target,
            offset=offset.tolist(),
            factor=factor.tolist(),
        )

    # ---------------------------------------------------------------------------- features
    @property
    def is_table(self) -> bool:
        return self.columns is not None

    @property
    def feature_names(self) -> list[str]:
        if self.columns is not None:
            return tabular.feature_names(self.columns)
        return [f"x{i}" for i in range(int(np.prod(self.feature_shape)))]

    @property
    def table_layout(self) -> tabular.TableLayout | None:
        """Tables: where the model finds each kind of feature — ``numeric``: the positions of
        scaled numbers (numeric and date columns), ``embedded``: ``[position, categories]``
        of each embedded column's code; None for array inputs."""
        if self.columns is None:
            return None
        layout: tabular.TableLayout = {"numeric": [], "embedded": []}
        position = 0
        for spec in self.columns:
            width = len(tabular.feature_names([spec]))
            if spec["kind"] == "embedded":
                layout["embedded"].append([position, len(spec["categories"])])
            elif spec["kind"] != "categorical":
                layout["numeric"] += range(position, position + width)
            position += width
        return layout

    @property
    def target_kind(self) -> str | None:
        """``"labels"``, ``"values"``, or None when fitted without targets."""
        return None if self.target is None else self.target.kind

    @property
    def classes(self) -> list[Any] | None:
        """Class labels (JSON scalars) in index order; None for values or no targets."""
        return None if self.target is None else self.target.classes

    @property
    def n_outputs(self) -> int:
        """Target outputs: one per class, or one per value target; 0 without targets."""
        return 0 if self.target is None else self.target.n_outputs

    @property
    def input_columns(self) -> list[str] | None:
        """Tables: the input columns the model reads, in training order (an array's columns);
        None for array inputs."""
        return None if self.columns is None else [spec["name"] for spec in self.columns]

    def transform_features(
        self,
        data: Any,
        *,
        warn_missing: bool = True,
        unseen: str = "zeros",
    ) -> np.ndarray:
        """Encode new inputs like the training data → float32 (n, *feature_shape).

        ``data``: anything :func:`~gradwise.data.files.read_input_file` reads (a path, a
        DataFrame, a mapping or list of mappings, an array); a table run's array holds the
        :attr:`input_columns` in order. Raises DataError for missing columns or a wrong array
        shape. A category not seen in training is "unknown" (an all-zero one-hot row), with a
        warning that counts the rows (``unseen="error"`` raises instead); missing values are
        imputed with the training statistics (one warning naming the columns unless
        ``warn_missing`` is false).
        """
        if not isinstance(data, (pd.DataFrame, np.ndarray)):
            data = self.read_inputs(data)
        if isinstance(data, RawData):
            data = data.table if data.table is not None else data.x
        if self.columns is not None:
            if not isinstance(data, pd.DataFrame):
                data = self._array_table(np.asarray(data))
            encoded, report = tabular.transform_table(data, self.columns, unseen)
            if report.imputed and warn_missing:
                warnings.warn(
                    f"imputed missing values in column(s) {', '.join(report.imputed)} "
                    "with training medians/modes",
                    stacklevel=user_stacklevel(),
                )
            if report.unseen:
                warnings.warn(
                    "categories not seen in training, encoded as unknown: " + report.unseen_text(),
                    stacklevel=user_stacklevel(),
                )
            return encoded
        x = self._as_array(data)
        # per feature for (n, f); per channel for (n, c, ...): broadcast over rows and positions
        shape = (1, -1) if x.ndim == 2 else (1, -1, *([1] * (x.ndim - 2)))
        offset = np.asarray(self.offset).reshape(shape)
        factor = np.asarray(self.factor).reshape(shape)
        return ((x - offset) / factor).astype(np.float32)

    def read_inputs(self, data: Any) -> RawData:
        """``data`` (a path, a DataFrame, mappings, an array) read as new inputs for this run."""
        from gradwise.data.files import read_input_file

        return read_input_file(data, self.reader_options())

    def _array_table(self, x: np.ndarray) -> pd.DataFrame:
        """A table run's array (n, columns) as a table of its columns; a 1-D array is one row
        (columns,), or with a single input column one value per row (as for array runs)."""
        names = self.input_columns or []
        rows = x
        if x.ndim == 1:
            rows = x[None] if len(names) > 1 and x.size == len(names) else x[:, None]
        if rows.ndim != 2 or rows.shape[1] != len(names):
            shown = ", ".join(names[:10]) + (" ..." if len(names) > 10 else "")
            raise DataError(
                f"inputs: an array for this run has shape (n, {len(names)}), one column per "
                f"training input column in order ({shown}); got shape {x.shape}"
            )
        return pd.DataFrame(rows, columns=names).infer_objects()

    def _as_array(self, data: pd.DataFrame | np.ndarray) -> np.ndarray:
        x = np.asarray(data.to_numpy() if isinstance(data, pd.DataFrame) else data)
        if x.dtype.kind not in "biuf":
            raise DataError(f"input must hold numbers, found dtype {x.dtype}")
        x = x.astype(np.float64)
        size = int(np.prod(self.feature_shape))
        if x.ndim == 1:  # one example flattened, or one value per row
            x = x[None] if x.size == size and size > 1 else x[:, None]
        if x.ndim >= 1 and x.shape[1:] != self.feature_shape:
            if (
                x.ndim >= 2
                and int(np.prod(x.shape[1:])) == size
                and (1 in self.feature_shape or x.ndim == 2)
            ):
                x = x.reshape(len(x), *self.feature_shape)  # e.g. (n, 40) for (1, 40)
            else:
                raise DataError(
                    f"input rows have shape {x.shape[1:]}, expected {self.feature_shape} "
                    "as in training"
                )
        _check_finite(x, "input")
        return x

    # ---------------------------------------------------------------------------- targets
    def encode_target(self, values: Any) -> np.ndarray:
        """Labels → int64 class indices, or numbers → standardized float32 (n,) / (n, k)."""
        return self._encoder("encode targets").encode(values)

    def decode_predictions(self, outputs: np.ndarray) -> np.ndarray | pd.DataFrame:
        """Class labels from indices or scores (n, classes); values un-standardized; several
        targets: a table with one column per target."""
        return self._encoder("decode predictions").decode(outputs)

    def _encoder(self, action: str) -> AnyTargetEncoder:
        if self.target is None:
            raise DataError(f"cannot {action}: this preprocessing was fitted without targets")
        return self.target

    def targets_of(self, data: Any) -> np.ndarray | None:
        """The target values in inputs read for evaluate (a path, a DataFrame, mappings, or
        :class:`RawData`): the target column(s) of a table, ``y`` of an NPZ or an image folder's
        class names. None when they hold no targets (an array has none), or when the
        preprocessing was fitted without targets."""
        if self.target is None:
            return None
        raw = data if isinstance(data, RawData) else self.read_inputs(data)
        if raw.table is None:
            return raw.y
        names = self.target.names or []
        if not names or any(n not in raw.table.columns for n in names):
            return None
        return raw.table[names[0]].to_numpy() if len(names) == 1 else raw.table[names].to_numpy()

    def reader_options(self) -> dict[str, Any]:
        """Options for :func:`read_input_file` so new images match the training shape."""
        if self.input_kind != "image":
            return {}
        return {"channels": self.feature_shape[0], "image_size": list(self.feature_shape[1:])}

    # ---------------------------------------------------------------------------- storage
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only; :meth:`from_dict` restores an identical preprocessor."""
        return {
            "version": FORMAT_VERSION,
            "targets": self.target_kind,
            "feature_shape": list(self.feature_shape),
            "input_kind": self.input_kind,
            "scale": self.scale,
            "target": None if self.target is None else self.target.to_dict(),
            "columns": self.columns,
            "dropped_columns": list(self.dropped_columns),
            "offset": self.offset,
            "factor": self.factor,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Preprocessor:
        """Restore :meth:`to_dict`'s output; version 1 files (a task name, always a target)
        load too, the target kind read from the stored encoder."""
        if not isinstance(d, dict) or d.get("version") not in READABLE_VERSIONS:
            found = d.get("version") if isinstance(d, dict) else type(d).__name__
            raise CheckpointError(
                f"preprocess.json: expected format version {FORMAT_VERSION} (or older: "
                f"{', '.join(map(str, READABLE_VERSIONS[:-1]))}), found {found!r}"
            )
        try:
            _check_stored_shapes(d)
            target = None if d["target"] is None else target_encoder_from_dict(d["target"])
            kind = target.kind if target is not None else None
            if d["version"] >= 2 and d["targets"] != kind:
                raise CheckpointError(
                    f"preprocess.json: 'targets' is {d['targets']!r} but the stored target "
                    f"encoder is for {kind!r}"
                )
            return cls(
                feature_shape=tuple(d["feature_shape"]),
                input_kind=d["input_kind"],
                scale=d["scale"],
                target=target,
                columns=d["columns"],
                dropped_columns=list(d["dropped_columns"]),
                offset=d["offset"],
                factor=d["factor"],
            )
        except (KeyError, TypeError) as err:
            raise CheckpointError(f"preprocess.json: missing or malformed entry {err}") from err


def _check_stored_shapes(d: dict[str, Any]) -> None:
    """The stored entries later code indexes into have the types it expects (a file from
    elsewhere is checked here, not found out by a TypeError deep inside a transform)."""
    columns, shape = d["columns"], d["feature_shape"]
    if columns is not None and not (
        isinstance(columns, list)
        and all(isinstance(c, dict) and isinstance(c.get("name"), str) for c in columns)
    ):
        raise CheckpointError("preprocess.json: 'columns' must be a list of column entries")
    if not (isinstance(shape, list) and all(type(n) is int and n > 0 for n in shape)):
        raise CheckpointError("preprocess.json: 'feature_shape' must be a list of sizes")


def _check_finite(x: np.ndarray, name: str) -> None:
    bad = ~np.isfinite(x)
    if bad.any():
        raise DataError(
            f"{name} contains {int(bad.sum())} missing or infinite values; "
            "arrays must be complete (tables are imputed, arrays are not)"
        )
