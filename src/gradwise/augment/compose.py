"""From ``data.augment`` to the trainer's batch transforms: validate, check they fit the inputs,
build each augmentation in the listed order.

>>> transforms = build_batch_transforms([{"shift": 4}, {"gaussian_noise": 0.1}], context)
>>> x, y = Compose(transforms)(x, y)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

# Importing the modules registers their augmentations.
from gradwise.augment import image, mixup, noise, signal  # noqa: F401
from gradwise.augment.options import AUGMENT_OPTIONS, AugmentOptions, parse_augment
from gradwise.augment.registry import AUGMENTATIONS, AugmentContext, BatchAugmentation
from gradwise.errors import ConfigError

SPATIAL_DIMS = {"signal": 1, "image": 2}  # trailing dims an input kind's augmentations act on


def build_batch_transforms(
    entries: Sequence[Any], context: AugmentContext
) -> list[BatchAugmentation]:
    """One built augmentation per ``data.augment`` entry, in order."""
    built = []
    for index, (name, options) in enumerate(parse_augment(list(entries))):
        check_fits(index, name, options, context)
        built.append(AUGMENTATIONS.get(name)(options, context))
    return built


def check_fits(index: int, name: str, options: AugmentOptions, context: AugmentContext) -> None:
    """ConfigError when an augmentation does not fit the task or the inputs' kind/shape."""
    where = f"data.augment[{index}].{name}"
    allowed = AUGMENT_OPTIONS[name].inputs
    if context.input_kind not in allowed:
        raise ConfigError(
            f"{where}: works on {' or '.join(allowed)} inputs, but the data is "
            f"{context.input_kind} (feature shape {tuple(context.feature_shape)})"
        )
    needed = SPATIAL_DIMS.get(context.input_kind, 0)
    if len(context.feature_shape) < needed:
        raise ConfigError(
            f"{where}: needs inputs with at least {needed} dimension(s), got feature shape "
            f"{tuple(context.feature_shape)}"
        )
    options.check_shape(where, tuple(context.feature_shape))


class Compose:
    """Apply batch transforms one after another: ``(x, y) -> (x, y)``."""

    def __init__(self, transforms: Sequence[Any]) -> None:
        self.transforms = list(transforms)

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        for transform in self.transforms:
            x, y = transform(x, y)
        return x, y

    def __repr__(self) -> str:
        return f"Compose({self.transforms!r})"


__all__ = ["AUGMENTATIONS", "AugmentContext", "Compose", "build_batch_transforms"]
