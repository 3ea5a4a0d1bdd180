"""Target encoding by target kind: class labels ↔ indices, numeric values ↔ standardized values.

``"labels"`` become indices into the sorted unique training labels (``classes``).
``"values"`` (one or several numeric columns) are standardized with the training mean and
standard deviation::

    encoded = (y - mean) / std          decoded = outputs * std + mean

``"multi"`` (several target columns, each labels or values: multi-task learning) encodes each
column on its own (:class:`MultiTargetEncoder`) into one float32 array (n, T): a class index or a
standardized value per column; the model's outputs hold one block per target, in column order
(K class scores for labels, one value for values).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gradwise.data.kinds import KIND_OF_TASK, MULTI, TARGET_KINDS
from gradwise.data.tabular import json_scalar, sort_key
from gradwise.errors import DataError

FEW_CLASSES = 20  # more distinct numbers than this read as measured values, not classes


def _where(names: list[str] | None) -> str:
    if not names:
        return "target 'y'"
    return f"target '{names[0]}'" if len(names) == 1 else f"targets {names}"


def infer_target_kind(values: pd.Series) -> tuple[str, str]:
    """``("labels" | "values", why)`` for a target column: text, booleans and few whole numbers
    are labels; other numbers are values."""
    present = values.dropna()
    distinct = present.nunique()
    if pd.api.types.is_bool_dtype(present):
        return "labels", "true/false values"
    if not pd.api.types.is_numeric_dtype(present):
        return "labels", f"text with {distinct} distinct values"
    numbers = present.to_numpy(dtype=np.float64)
    whole = bool(np.all(numbers == np.round(numbers)))
    if whole and distinct <= FEW_CLASSES:
        return "labels", f"{distinct} distinct whole numbers"
    kind = "whole numbers" if whole else "numbers"
    return "values", f"{kind} with {distinct} distinct values"


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
        return _finite(array.astype(np.float64), names)
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
    return _finite(np.stack(columns, axis=1), names)  # (n, k)


def _finite(targets: np.ndarray, names: list[str] | None) -> np.ndarray:
    """``targets`` (n, k) unless a value is ±inf (missing values, NaN, are dropped elsewhere):
    an infinite target would only surface later as a non-finite loss."""
    infinite = np.isinf(targets)
    if infinite.any():
        j = int(np.nonzero(infinite.any(axis=0))[0][0])
        name = names[j] if names and len(names) == targets.shape[1] else "y"
        raise DataError(
            f"target '{name}' holds {int(infinite[:, j].sum())} infinite value(s); regression "
            "targets must be finite numbers"
        )
    return targets


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


@dataclass
class MultiTargetEncoder:
    """Several target columns, each encoded by its own :class:`TargetEncoder` (multi-task).

    Encoded targets are float32 (n, T): column t holds target t's class index (labels) or its
    standardized value (values). Model outputs are (n, Σ_t w_t), one block per target in
    column order: w_t = K_t class scores for labels, 1 for a value.
    """

    parts: list[TargetEncoder]  # one per target column, in column order
    kind: str = MULTI
    classes: None = None  # no single set of classes: each labels part has its own

    @classmethod
    def fit(
        cls, values: Any, names: list[str], kinds: dict[str, str], scale: bool = True
    ) -> MultiTargetEncoder:
        """Fit each column of ``values`` (n, T) as the kind ``kinds[name]`` says."""
        array = _columns(values, names)
        return cls(
            [
                TargetEncoder.fit(array[:, j], kinds[name], [name], scale)
                for j, name in enumerate(names)
            ]
        )

    @property
    def names(self) -> list[str]:
        return [part.names[0] for part in self.parts]  # type: ignore[index]

    @property
    def kinds(self) -> dict[str, str]:
        """Target column → ``"labels"`` | ``"values"``, in column order."""
        return {name: part.kind for name, part in zip(self.names, self.parts, strict=True)}

    @property
    def widths(self) -> list[int]:
        """Model outputs per target: its class count, or 1 for a value."""
        return [part.n_outputs for part in self.parts]

    @property
    def n_outputs(self) -> int:
        return sum(self.widths)

    def split_outputs(self, outputs: np.ndarray) -> list[np.ndarray]:
        """Outputs (n, Σ w_t) → one (n, w_t) block per target."""
        outputs = np.asarray(outputs).reshape(len(outputs), -1)
        if outputs.shape[1] != self.n_outputs:
            raise DataError(
                f"cannot decode outputs of shape {outputs.shape} for targets {self.names} "
                f"({self.n_outputs} outputs expected)"
            )
        return np.split(outputs, np.cumsum(self.widths)[:-1], axis=1)

    def encode(self, values: Any) -> np.ndarray:
        array = _columns(values, self.names)
        encoded = [part.encode(array[:, j]) for j, part in enumerate(self.parts)]
        return np.stack(encoded, axis=1).astype(np.float32)  # (n, T)

    def decode(self, outputs: np.ndarray) -> pd.DataFrame:
        """One column per target: class labels, or values in original units."""
        blocks = self.split_outputs(outputs)
        return pd.DataFrame(
            {
                name: part.decode(block)
                for name, part, block in zip(self.names, self.parts, blocks, strict=True)
            }
        )

    def decode_targets(self, encoded: np.ndarray) -> pd.DataFrame:
        """Encoded targets (n, T) back to labels and original units, one column per target."""
        encoded = np.asarray(encoded).reshape(len(encoded), len(self.parts))
        return pd.DataFrame(
            {
                name: part.decode(
                    encoded[:, j].astype(np.int64) if part.classes is not None else encoded[:, j]
                )
                for j, (name, part) in enumerate(zip(self.names, self.parts, strict=True))
            }
        )

    def to_dict(self) -> dict[str, Any]:
        return {"kind": MULTI, "names": self.names, "parts": [p.to_dict() for p in self.parts]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MultiTargetEncoder:
        return cls([TargetEncoder.from_dict(part) for part in d["parts"]])


def _columns(values: Any, names: list[str]) -> np.ndarray:
    """Targets as an (n, T) array, one column per name; DataError when the width differs."""
    array = np.asarray(values, dtype=object)
    array = array.reshape(len(array), -1) if array.ndim != 2 else array
    if array.shape[1] != len(names):
        raise DataError(f"targets {names}: expected {len(names)} columns, found {array.shape[1]}")
    return array


AnyTargetEncoder = TargetEncoder | MultiTargetEncoder


def fit_target_encoder(
    values: Any,
    kind: str,
    names: list[str] | None,
    scale: bool = True,
    kinds: dict[str, str] | None = None,
) -> AnyTargetEncoder:
    """The encoder of targets of ``kind``; ``"multi"`` fits one per column, of ``kinds``."""
    if kind != MULTI:
        return TargetEncoder.fit(values, kind, names, scale)
    if not names or kinds is None:
        raise DataError("data.target: several targets need a table whose target columns are named")
    return MultiTargetEncoder.fit(values, names, kinds, scale)


def target_encoder_from_dict(d: dict[str, Any]) -> AnyTargetEncoder:
    """The encoder stored by ``to_dict`` (either kind)."""
    if d.get("kind") == MULTI:
        return MultiTargetEncoder.from_dict(d)
    return TargetEncoder.from_dict(d)


def target_kinds(spec: Any, table: pd.DataFrame, names: list[str]) -> dict[str, str]:
    """Each target column's kind: as ``data.target`` maps it (``classification`` → labels,
    ``regression`` → values), else inferred from the column (:func:`infer_target_kind`)."""
    if isinstance(spec, dict):
        return {name: KIND_OF_TASK[spec[name]] for name in names}
    return {name: infer_target_kind(table[name])[0] for name in names}
