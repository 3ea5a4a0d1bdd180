"""Target encoding by target kind: class labels ↔ indices, numeric values ↔ standardized values.

``"labels"`` become indices into the sorted unique training labels (``classes``).
``"values"`` (one or several numeric columns) are standardized with the training mean and
standard deviation::

    encoded = (y - mean) / std          decoded = outputs * std + mean
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gradwise.data.tabular import json_scalar, sort_key
from gradwise.errors import DataError

TARGET_KINDS = ("labels", "values")  # and None: no targets (features only)


def _where(names: list[str] | None) -> str:
    if not names:
        return "target 'y'"
    return f"target '{names[0]}'" if len(names) == 1 else f"targets {names}"


def label_list(values: Any, as_text: bool = False) -> list[Any]:
    """Labels as JSON scalars (``None`` where missing); integral floats become ints."""
    flat = np.asarray(values, dtype=object).reshape(-1)
    return [
        None if pd.isna(v) else (str(json_scalar(v)) if as_text else json_scalar(v)) for v in flat
    ]


def numeric_targets(values: Any, names: list[str] | None) -> np.ndarray:
    """Targets as float64 (n, k); text that is no number → DataError naming the column."""
    array = np.asarray(values)
    width = int(np.prod(array.shape[1:]))  # (n,) -> (n, 1); also for n = 0 (an empty split)
    array = array.reshape(len(array), width)
    if array.dtype.kind in "biuf":
        return array.astype(np.float64)
    columns = []
    if not len(array):
        return np.zeros((0, width))
    for j in range(array.shape[1]):
        series = pd.Series(array[:, j])
        numbers = pd.to_numeric(series, errors="coerce")
        bad = numbers.isna() & series.notna()
        if bad.any():
            if names and len(names) == array.shape[1]:
                name = names[j]
            else:
                name = "y" if array.shape[1] == 1 else f"y[:, {j}]"
            raise DataError(
                f"target '{name}' must be numeric for regression, found {series[bad].iloc[0]!r} "
                "(use task: classification for labels)"
            )
        columns.append(numbers.to_numpy(dtype=np.float64, na_value=np.nan))
    return np.stack(columns, axis=1)  # (n, k)


@dataclass
class TargetEncoder:
    kind: str  # labels | values
    names: list[str] | None  # target column names (tables); None for arrays
    classes: list[Any] | None = None  # labels: in index order
    mean: list[float] | None = None  # values: per target
    std: list[float] | None = None
    width: int = 1  # values: number of targets (k); 1 gives (n,) arrays

    @classmethod
    def fit(
        cls, values: Any, kind: str, names: list[str] | None = None, scale: bool = True
    ) -> TargetEncoder:
        """Fit on training targets of ``kind`` (``"labels"`` or ``"values"``)."""
        array = np.asarray(values)
        if kind == "labels":
            if array.ndim == 2 and array.shape[1] > 1:
                raise DataError(
                    f"{_where(names)}: classification takes one target column, found "
                    f"{array.shape[1]} (several targets are supported for regression)"
                )
            labels = [v for v in label_list(array) if v is not None]
            if any(isinstance(v, str) for v in labels):
                labels = [str(v) for v in labels]
            classes = sorted(set(labels), key=sort_key)
            if len(classes) < 2:
                found = repr(classes[0]) if classes else "no labels"
                raise DataError(
                    f"{_where(names)}: classification needs at least 2 classes, found only {found}"
                )
            return cls(kind, names, classes=classes)
        if kind != "values":
            raise DataError(
                f"targets: expected one of {', '.join(map(repr, TARGET_KINDS))} or None, "
                f"found {kind!r}"
            )
        y = numeric_targets(array, names)
        mean, std = np.nanmean(y, axis=0), np.nanstd(y, axis=0)
        if not scale:
            mean, std = np.zeros_like(mean), np.ones_like(std)
        std = np.where(std > 0, std, 1.0)
        return cls(kind, names, mean=mean.tolist(), std=std.tolist(), width=y.shape[1])

    @property
    def n_outputs(self) -> int:
        return len(self.classes) if self.classes is not None else self.width

    def encode(self, values: Any) -> np.ndarray:
        if self.classes is not None:
            labels = label_list(values, as_text=isinstance(self.classes[0], str))
            index = {label: i for i, label in enumerate(self.classes)}
            codes = np.fromiter((index.get(v, -1) for v in labels), np.int64, count=len(labels))
            if (codes < 0).any():
                unseen = sorted({str(labels[i]) for i in np.flatnonzero(codes < 0)})
                raise DataError(
                    f"{_where(self.names)} has labels not seen in training: "
                    f"{', '.join(map(repr, unseen[:5]))} (classes: {self.classes[:10]})"
                )
            return codes  # (n,) int64
        y = numeric_targets(values, self.names)
        if y.shape[1] != self.width:
            raise DataError(
                f"{_where(self.names)}: expected {self.width} target(s), found {y.shape[1]}"
            )
        encoded = ((y - np.asarray(self.mean)) / np.asarray(self.std)).astype(np.float32)
        return encoded[:, 0] if self.width == 1 else encoded  # (n,) or (n, k)

    def decode(self, outputs: np.ndarray) -> np.ndarray:
        outputs = np.asarray(outputs)
        if self.classes is not None:
            if outputs.ndim == 2 and outputs.shape[1] == len(self.classes):
                indices = outputs.argmax(axis=1)  # scores (n, classes) -> (n,)
            elif outputs.ndim == 2 and outputs.shape[1] == 1 and len(self.classes) == 2:
                indices = (outputs[:, 0] > 0).astype(np.int64)  # one logit for binary
            elif outputs.ndim == 1:
                indices = outputs.astype(np.int64)
            else:
                raise DataError(
                    f"cannot decode outputs of shape {outputs.shape} "
                    f"for {len(self.classes)} classes"
                )
            return np.asarray(self.classes)[indices]
        values = outputs.reshape(len(outputs), -1).astype(np.float64)
        decoded = values * np.asarray(self.std) + np.asarray(self.mean)  # (n, k)
        return decoded[:, 0] if self.width == 1 else decoded

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "names": self.names,
            "classes": self.classes,
            "mean": self.mean,
            "std": self.std,
            "width": self.width,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TargetEncoder:
        # files written before target kinds store a task name instead: the encoder tells
        kind = d.get("kind") or ("labels" if d["classes"] is not None else "values")
        return cls(kind, d["names"], d["classes"], d["mean"], d["std"], d["width"])
