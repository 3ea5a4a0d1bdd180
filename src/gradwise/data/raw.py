"""What every data source returns (:class:`RawData`) and the registries sources are found in.

A source is a function ``read(name, options, seed) -> RawData``; it is registered under the
prefix of ``data.source`` (``sklearn:``, ``rdata:``, ``synthetic:``), under a built-in name
(``mnist1d``) or under a file extension (``.csv``), and reads ``options`` (``data.options``) as
the model :mod:`.options` declares for it under the same name. Resolution lives in
:mod:`.options` and :mod:`.sources`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from gradwise.data.options import SourceOptions
from gradwise.errors import DataError, did_you_mean
from gradwise.registry import Registry

if TYPE_CHECKING:
    import pandas as pd

InputKind = Literal["tabular", "signal", "image"]

# Options read by load_splits/preprocessing, not by a source (every source accepts them).
GENERIC_OPTIONS: dict[str, Any] = {
    name: field.default for name, field in SourceOptions.model_fields.items()
}


@dataclass
class RawData:
    """A source's content before splitting: a table, or arrays ``x``/``y``.

    Tables keep their columns (the target is chosen later from ``data.target`` or
    ``default_target``); arrays are ``x`` of shape (n, *feature_shape) with labels ``y`` of
    shape (n,) or (n, k). ``x_test``/``y_test`` are a fixed test split when the source has one.
    """

    source: str  # for messages and the profile
    table: pd.DataFrame | None = None
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    default_target: str | list[str] | None = None  # tables whose label column is known
    input_kind: InputKind = "tabular"

    @property
    def is_table(self) -> bool:
        return self.table is not None

    def __len__(self) -> int:
        if self.table is not None:
            return len(self.table)
        return 0 if self.x is None else len(self.x)


SourceReader = Callable[[str, Mapping[str, Any], int], RawData]

# data.source "PREFIX:NAME" → reader of NAME
SOURCE_KINDS: Registry[SourceReader] = Registry("source kind", key="data.source")
# data.source "NAME" for datasets built into gradwise (mnist1d)
BUILTINS: Registry[SourceReader] = Registry("built-in dataset", key="data.source")
# file extension (".csv") → reader of the path
FILE_FORMATS: Registry[SourceReader] = Registry("file format", key="data.source")


def lookup(registry: Registry[Any], name: str, what: str) -> Any:
    """``registry.get(name)`` raising a :class:`DataError` that names ``data.source``."""
    if name not in registry:
        raise DataError(
            f"data.source: unknown {what} '{name}'{did_you_mean(name, registry.names())}; "
            f"choose from: {', '.join(registry.names())}"
        )
    return registry.get(name)


def check_arrays(
    x: np.ndarray, y: np.ndarray | None, where: str, x_name: str = "x", y_name: str = "y"
) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate an (x, y) pair of arrays and give x as float32 of 2 to 4 dimensions."""
    if x.dtype.kind not in "biuf":
        raise DataError(f"{where}: '{x_name}' must hold numbers, found dtype {x.dtype}")
    if x.ndim == 1:  # a single feature
        x = x[:, None]
    if x.ndim > 4 or x.ndim == 0:
        raise DataError(
            f"{where}: '{x_name}' must have shape (n, features), (n, channels, length) or "
            f"(n, channels, height, width); found shape {x.shape}"
        )
    if len(x) == 0:
        raise DataError(f"{where}: '{x_name}' has no rows")
    if y is not None:
        if y.ndim == 0 or y.ndim > 2:
            raise DataError(f"{where}: '{y_name}' must have shape (n,) or (n, k), found {y.shape}")
        if len(y) != len(x):
            raise DataError(
                f"{where}: '{x_name}' has {len(x)} rows but '{y_name}' has {len(y)}; "
                "they must have the same length"
            )
    return x.astype(np.float32, copy=False), y


def kind_of_shape(shape: tuple[int, ...]) -> InputKind:
    """Input kind of a feature shape: (f,) tabular, (c, l) signal, (c, h, w) image."""
    return {1: "tabular", 2: "signal", 3: "image"}.get(len(shape), "tabular")  # type: ignore[return-value]
