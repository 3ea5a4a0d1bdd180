"""Data: sources and built-in datasets, preprocessing fitted on train, seeded splits, profiles.

Torch-free (numpy/pandas): the engine turns the arrays into tensors. Importing this package is
cheap — ``BUILTIN_DATASETS`` is plain data, everything else is imported on first use::

    from gradwise.data import load_splits
    splits = load_splits(config.data, target_kind="labels", seed=0)
    splits.x_train.shape, splits.preprocessor.classes, splits.profile["imbalance_ratio"]
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gradwise.data.catalog import BUILTIN_DATASETS

if TYPE_CHECKING:
    from gradwise.data.files import read_input_file
    from gradwise.data.load import Splits, load_splits
    from gradwise.data.preprocess import Preprocessor
    from gradwise.data.raw import RawData
    from gradwise.data.rdata import rdata_names
    from gradwise.data.sources import read_source

_LAZY = {
    "Splits": "gradwise.data.load",
    "load_splits": "gradwise.data.load",
    "Preprocessor": "gradwise.data.preprocess",
    "RawData": "gradwise.data.raw",
    "read_source": "gradwise.data.sources",
    "read_input_file": "gradwise.data.files",
    "rdata_names": "gradwise.data.rdata",
}

__all__ = [
    "BUILTIN_DATASETS",
    "Preprocessor",
    "RawData",
    "Splits",
    "load_splits",
    "rdata_names",
    "read_input_file",
    "read_source",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gradwise.data' has no attribute '{name}'")
