"""The ``AUGMENTATIONS`` registry and the base class of every per-batch augmentation.

An augmentation is built once per run from its validated options and an :class:`AugmentContext`
(the run's seeded augmentation stream, the class count, the input shape) and then called on
every training batch: ``x, y = augmentation(x, y)``. It works on the whole batch with tensor
ops on the batch's device; every random number comes from ``context.generator``, so a seed
fixes every batch.

Each sample of the batch is augmented with probability ``p`` (a Bernoulli mask over the batch),
so ``p`` and the strength options are independent knobs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from gradwise.augment.options import AugmentOptions
from gradwise.registry import Registry


@dataclass(frozen=True)
class AugmentContext:
    """What an augmentation may need to know about the run."""

    generator: torch.Generator  # the run's augmentation stream (on the training device)
    n_classes: int | None = None  # class-index targets: K, for one-hot targets in mixup
    output_dim: int | None = None  # model outputs: 1 for a single-logit binary (bce) model
    input_kind: str = "tabular"  # tabular | signal | image
    feature_shape: tuple[int, ...] = ()  # one example, e.g. (1, 40) or (3, 32, 32)


class BatchAugmentation:
    """Base class: ``(x, y) -> (x, y)`` on a whole batch, each sample chosen with prob ``p``.

    Input-only augmentations implement :meth:`augment` (the transformed batch, all samples);
    the base class keeps the original of each sample not chosen. Those that change targets too
    (mixup) override :meth:`__call__`.
    """

    def __init__(self, options: AugmentOptions, context: AugmentContext) -> None:
        self.options = options
        self.context = context
        self.generator = context.generator
        self.p = options.p
        self._steps: dict[tuple[int, torch.device], torch.Tensor] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.options!r})"

    # ------------------------------------------------------------------ random numbers
    def uniform(self, *shape: int, device: torch.device) -> torch.Tensor:
        """U[0, 1) of ``shape`` from the run's generator."""
        return torch.rand(shape, generator=self.generator, device=device)

    def normal(self, *shape: int, device: torch.device) -> torch.Tensor:
        """N(0, 1) of ``shape`` from the run's generator."""
        return torch.randn(shape, generator=self.generator, device=device)

    def integers(
        self,
        low: torch.Tensor | int,
        high: torch.Tensor | int,
        size: int,
        device: torch.device,
    ) -> torch.Tensor:
        """(size,) integers uniform in ``[low, high]`` (inclusive; bounds may be (size,))."""
        if isinstance(low, int) and isinstance(high, int):
            return torch.randint(low, high + 1, (size,), generator=self.generator, device=device)
        span = (high - low + 1).float()
        return low + (self.uniform(size, device=device) * span).long()

    def steps(self, length: int, device: torch.device) -> torch.Tensor:
        """``arange(length)`` on ``device``, made once per length and device."""
        key = (length, device)
        if key not in self._steps:
            self._steps[key] = torch.arange(length, device=device)
        return self._steps[key]

    def chosen(self, batch_size: int, device: torch.device) -> torch.Tensor | None:
        """(B,) bool: the samples to augment; ``None`` means all (p = 1, nothing drawn)."""
        if self.p >= 1.0:
            return None
        return self.uniform(batch_size, device=device) < self.p

    # -------------------------------------------------------------------------- applying
    def augment(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.p <= 0.0:
            return x, y
        mask = self.chosen(x.shape[0], x.device)
        augmented = self.augment(x)
        if mask is None:
            return augmented, y
        return torch.where(per_sample(mask, x), augmented, x), y


def per_sample(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(B,) → (B, 1, ..., 1) so it broadcasts over one sample of ``like``."""
    return values.reshape(values.shape[0], *([1] * (like.dim() - 1)))


def per_position(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(B, *T) → (B, 1, ..., 1, *T) so it broadcasts over the channels of ``like`` (B, *C, *T).

    A per-sample mask over the trailing axes: (B, L) for signals, (B, H, W) for images.
    """
    ones = [1] * (like.dim() - values.dim())
    return values.reshape(values.shape[0], *ones, *values.shape[1:])


AugmentationFactory = Callable[[AugmentOptions, AugmentContext], BatchAugmentation]
AUGMENTATIONS: Registry[AugmentationFactory] = Registry("augmentation", key="data.augment")
