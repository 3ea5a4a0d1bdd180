"""Drawing mixture components (latent mixtures, a conditional GAN's classes) for samples."""

from __future__ import annotations

import torch


def systematic_draw(weights: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    """n component indices, component k drawn ⌊n·w_k⌋ or ⌈n·w_k⌉ times, in random order.

    Systematic sampling (as in particle-filter resampling): one u ~ U(0, 1), the points
    (u + i) / n for i = 0 … n − 1, each mapped to the component whose cumulative-weight
    interval holds it. Unlike n independent draws, the components' (and so the classes')
    shares in a sample are the mixture's own up to one draw, which takes the sampling noise of
    the proportions out of every statistic of the samples (the mean of a Fréchet distance)."""
    device = weights.device
    u = torch.rand(1, generator=generator, device=device)
    points = (u + torch.arange(n, device=device)) / n  # (n,) in (0, 1)
    cumulative = torch.cumsum(weights / weights.sum(), 0)  # (K,)
    k = torch.searchsorted(cumulative, points).clamp(max=len(weights) - 1)
    return k[torch.randperm(n, generator=generator, device=device)]
