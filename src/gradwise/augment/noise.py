"""Noise injection on the inputs (any input kind).

Training on noisy copies of the inputs is a regularizer: for small Gaussian noise it is
equivalent to Tikhonov regularization of the input–output map (Bishop, 1995, "Training with
noise is equivalent to Tikhonov regularization").
"""

from __future__ import annotations

import torch

from gradwise.augment.options import (
    DropoutNoise,
    GaussianNoise,
    MultiplicativeNoise,
    Scale,
    UniformNoise,
)
from gradwise.augment.registry import AUGMENTATIONS, BatchAugmentation, per_sample


@AUGMENTATIONS.register("uniform_noise")
class AddUniformNoise(BatchAugmentation):
    """Formula: ``x' = x + u``, ``u ~ U(-a, a)`` independently per input."""

    options: UniformNoise

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        u = self.uniform(*x.shape, device=x.device)  # (B, *S) in [0, 1)
        return x + (2 * u - 1) * self.options.amount


@AUGMENTATIONS.register("gaussian_noise")
class AddGaussianNoise(BatchAugmentation):
    """Formula: ``x' = x + σ·ε``, ``ε ~ N(0, 1)`` independently per input."""

    options: GaussianNoise

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.options.sigma * self.normal(*x.shape, device=x.device)


@AUGMENTATIONS.register("dropout_noise")
class DropInputs(BatchAugmentation):
    """Formula: ``x' = m ⊙ x``, ``m_i ~ Bernoulli(1 − rate)`` — masking noise as in denoising
    autoencoders (Vincent et al., 2008); not rescaled, so the expected input shrinks by
    ``1 − rate`` only where it is applied."""

    options: DropoutNoise

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        keep = self.uniform(*x.shape, device=x.device) >= self.options.rate  # (B, *S)
        return x * keep


@AUGMENTATIONS.register("multiplicative_noise")
class MultiplyNoise(BatchAugmentation):
    """Formula: ``x' = x · (1 + σ·ε)``, ``ε ~ N(0, 1)`` per input — Gaussian multiplicative
    noise (Srivastava et al., 2014, §10)."""

    options: MultiplicativeNoise

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        eps = self.normal(*x.shape, device=x.device)  # (B, *S)
        return x * (1 + self.options.sigma * eps)


@AUGMENTATIONS.register("scale")
class RandomScale(BatchAugmentation):
    """Formula: ``x' = s·x``, one ``s ~ U(1 − a, 1 + a)`` per sample (amplitude scaling)."""

    options: Scale

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        u = self.uniform(x.shape[0], device=x.device)  # (B,)
        factor = 1 + (2 * u - 1) * self.options.amount
        return x * per_sample(factor, x)
