"""Per-batch data augmentation and training-set sampling (DESIGN.md §3 ``data.augment``,
``data.sampling``).

- :func:`build_batch_transforms` turns ``data.augment`` into ``(x, y) -> (x, y)`` callables that
  the trainer applies to each *training* batch, on the batch's device, drawing every random
  number from the trainer's seeded generator.
- :func:`resample` applies ``data.sampling`` to the *training* split's arrays.

This package imports torch lazily: the option tables in :mod:`.options` are what the config
schema validates against, and validation must stay torch-free.
"""

from __future__ import annotations

from typing import Any

from gradwise.augment.options import (
    AUGMENT_OPTIONS,
    SAMPLING_OPTIONS,
    parse_augment,
    parse_sampling,
)

_LAZY = {
    "AUGMENTATIONS": "gradwise.augment.compose",
    "AugmentContext": "gradwise.augment.compose",
    "build_batch_transforms": "gradwise.augment.compose",
    "Compose": "gradwise.augment.compose",
    "SAMPLERS": "gradwise.augment.sampling",
    "resample": "gradwise.augment.sampling",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'gradwise.augment' has no attribute {name!r}")


__all__ = [
    "AUGMENTATIONS",
    "AUGMENT_OPTIONS",
    "SAMPLERS",
    "SAMPLING_OPTIONS",
    "AugmentContext",
    "Compose",
    "build_batch_transforms",
    "parse_augment",
    "parse_sampling",
    "resample",
]
