"""Augmentations for images: batches ``(B, H, W)`` or ``(B, C, H, W)``.

Everything is a batched tensor op on the batch's device: flips with ``torch.where``, crops by
gathering rows and columns at per-sample offsets, rotations/translations with ``affine_grid`` +
``grid_sample`` (one 2×3 matrix per sample), cutout with a per-sample mask.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from gradwise.augment.options import Affine, Crop, Cutout, HorizontalFlip
from gradwise.augment.registry import AUGMENTATIONS, BatchAugmentation, per_position


def as_channels(x: torch.Tensor) -> torch.Tensor:
    """(B, H, W) or (B, *C, H, W) → (B, R, H, W)."""
    return x.reshape(x.shape[0], -1, x.shape[-2], x.shape[-1])


@AUGMENTATIONS.register("hflip")
class HorizontalFlipBatch(BatchAugmentation):
    """Mirror each chosen image left-right: ``x'[.., i, j] = x[.., i, W − 1 − j]``."""

    options: HorizontalFlip

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        return x.flip(-1)


@AUGMENTATIONS.register("crop")
class PaddedCrop(BatchAugmentation):
    """Pad by ``padding`` pixels on every side, then crop an H×W window at a random offset in
    ``{0, …, 2·padding}²`` per sample (a random translation by up to ``padding`` pixels).

    ``fill: reflect`` needs ``padding < min(H, W)``; :func:`.compose.check_fits` checks it when
    the run is built (:meth:`.options.Crop.check_shape`)."""

    options: Crop

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        pad = self.options.padding
        if pad == 0:
            return x
        images = as_channels(x)  # (B, R, H, W)
        batch, channels, height, width = images.shape
        mode = "constant" if self.options.fill == "zeros" else self.options.fill
        padded = F.pad(images, (pad, pad, pad, pad), mode=mode)  # (B, R, H + 2p, W + 2p)
        top = self.integers(0, 2 * pad, batch, device=x.device)  # (B,)
        left = self.integers(0, 2 * pad, batch, device=x.device)
        rows = top[:, None] + self.steps(height, x.device)  # (B, H)
        cols = left[:, None] + self.steps(width, x.device)  # (B, W)
        padded_width = padded.shape[-1]
        picked_rows = padded.gather(
            2, rows[:, None, :, None].expand(batch, channels, height, padded_width)
        )  # (B, R, H, W + 2p)
        cropped = picked_rows.gather(
            3, cols[:, None, None, :].expand(batch, channels, height, width)
        )  # (B, R, H, W)
        return cropped.reshape(x.shape)


@AUGMENTATIONS.register("affine")
class RandomAffine(BatchAugmentation):
    """Rotate by ``θ ~ U(−degrees, degrees)`` and translate by ``t ~ U(−translate, translate)``
    of the image size on each axis, bilinear sampling, zeros outside.

    Formula: the output pixel at ``q`` (in pixels from the image centre, as ``(column, row)``)
    samples the input at ``R(θ)·q + t ⊙ (W, H)``. ``affine_grid`` works in [−1, 1] coordinates
    ``p = 2q ⊘ (W, H)``, where that map is ``p ↦ D⁻¹·R(θ)·D·p + 2t`` with ``D = diag(W, H)``::

        theta = [[cos θ,          −sin θ · H/W,   2t_x],
                 [sin θ · W/H,     cos θ,         2t_y]]

    (without the ``H/W`` and ``W/H`` factors a non-square image would be distorted, not rotated).
    """

    options: Affine

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        images = as_channels(x)  # (B, R, H, W)
        batch, _, height, width = images.shape
        device = x.device
        angle = (2 * self.uniform(batch, device=device) - 1) * math.radians(self.options.degrees)
        shift = (2 * self.uniform(batch, 2, device=device) - 1) * 2 * self.options.translate
        cos, sin = torch.cos(angle), torch.sin(angle)  # (B,)
        theta = torch.stack(
            [
                torch.stack([cos, -sin * (height / width), shift[:, 0]], dim=-1),
                torch.stack([sin * (width / height), cos, shift[:, 1]], dim=-1),
            ],
            dim=1,
        )  # (B, 2, 3)
        grid = F.affine_grid(theta.to(images.dtype), list(images.shape), align_corners=False)
        moved = F.grid_sample(images, grid, padding_mode="zeros", align_corners=False)
        return moved.reshape(x.shape)


@AUGMENTATIONS.register("cutout")
class CutoutBatch(BatchAugmentation):
    """Zero a ``size × size`` square centred at a uniformly random pixel, clipped at the borders
    (DeVries & Taylor, "Improved Regularization of Convolutional Neural Networks with Cutout",
    2017)."""

    options: Cutout

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        batch, height, width = x.shape[0], x.shape[-2], x.shape[-1]
        size = self.options.size
        centre_row = self.integers(0, height - 1, batch, device=x.device)  # (B,)
        centre_col = self.integers(0, width - 1, batch, device=x.device)
        top, left = centre_row - size // 2, centre_col - size // 2
        rows = self.steps(height, x.device)[None, :]  # (1, H)
        cols = self.steps(width, x.device)[None, :]  # (1, W)
        in_rows = (rows >= top[:, None]) & (rows < (top + size)[:, None])  # (B, H)
        in_cols = (cols >= left[:, None]) & (cols < (left + size)[:, None])  # (B, W)
        square = in_rows[:, :, None] & in_cols[:, None, :]  # (B, H, W)
        return x * ~per_position(square, x)
