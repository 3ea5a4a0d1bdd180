"""Augmentations for 1-D signals and sequences: batches ``(B, L)`` or ``(B, C, L)``, time last.

Each sample gets its own random shift / stretch / mask, applied to the whole batch at once by
gathering along the time axis with per-sample index tensors.
"""

from __future__ import annotations

import torch

from gradwise.augment.options import Shift, Stretch, TimeMask
from gradwise.augment.registry import AUGMENTATIONS, BatchAugmentation, per_position


def gather_time(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``out[b, ..., t] = x[b, ..., index[b, t]]`` for ``x`` (B, *C, L) and ``index`` (B, L')."""
    flat = x.reshape(x.shape[0], -1, x.shape[-1])  # (B, *C, L) -> (B, R, L)
    picked = flat.gather(-1, index[:, None, :].expand(-1, flat.shape[1], -1))  # (B, R, L')
    return picked.reshape(*x.shape[:-1], index.shape[-1])


@AUGMENTATIONS.register("shift")
class RandomShift(BatchAugmentation):
    """Formula: ``x'[t] = x[t − s]``, ``s`` uniform in ``{−max, …, max}`` per sample; indices
    wrap around (``circular``) or fall off the end and are filled with 0 (``zeros``)."""

    options: Shift

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        batch, length = x.shape[0], x.shape[-1]
        most = self.options.max
        shift = self.integers(-most, most, batch, device=x.device)  # (B,)
        source = self.steps(length, x.device)[None, :] - shift[:, None]  # (B, L)
        if self.options.mode == "circular":
            return gather_time(x, source % length)
        inside = (source >= 0) & (source < length)  # (B, L)
        shifted = gather_time(x, source.clamp(0, length - 1))
        return shifted * per_position(inside, x)


@AUGMENTATIONS.register("stretch")
class RandomStretch(BatchAugmentation):
    """Formula: ``x'[t] = x(c + (t − c) / f)`` about the centre ``c = (L − 1)/2``, one
    ``f ~ U(1 − a, 1 + a)`` per sample, linear interpolation between neighbouring steps and the
    edge values beyond the ends (a slower or faster copy of the same signal)."""

    options: Stretch

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        batch, length = x.shape[0], x.shape[-1]
        u = self.uniform(batch, device=x.device)
        factor = 1 + (2 * u - 1) * self.options.amount  # (B,)
        centre = (length - 1) / 2
        steps = self.steps(length, x.device)
        position = centre + (steps[None, :] - centre) / factor[:, None]  # (B, L) fractional
        position = position.clamp(0, length - 1)
        left = position.floor()
        right = (left + 1).clamp(max=length - 1)
        weight = per_position(position - left, x)  # (B, 1, ..., L)
        both = gather_time(x, torch.cat([left, right], dim=-1).long())  # (B, *C, 2L)
        return torch.lerp(both[..., :length], both[..., length:], weight)


@AUGMENTATIONS.register("time_mask")
class TimeMasking(BatchAugmentation):
    """Zero ``count`` windows of ``w ~ U{0..width}`` consecutive steps at random starts — the
    time masking of SpecAugment (Park et al., 2019), on raw signals."""

    options: TimeMask

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        batch, length = x.shape[0], x.shape[-1]
        steps = self.steps(length, x.device)[None, :]  # (1, L)
        masked = torch.zeros((batch, length), dtype=torch.bool, device=x.device)
        widest = min(self.options.width, length)
        for _ in range(self.options.count):  # a few windows, each for the whole batch
            width = self.integers(0, widest, batch, device=x.device)  # (B,)
            start = self.integers(0, length - width, batch, device=x.device)  # (B,)
            masked |= (steps >= start[:, None]) & (steps < (start + width)[:, None])
        return x * ~per_position(masked, x)
