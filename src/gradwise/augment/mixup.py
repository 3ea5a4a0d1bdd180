"""Mixup (Zhang, Cissé, Dauphin & Lopez-Paz, "mixup: Beyond Empirical Risk Minimization",
ICLR 2018) for classification and regression.

Formula (per sample i, partner j = π(i) for a random permutation π of the batch)::

    λ_i ~ Beta(α, α)
    x'_i = λ_i · x_i + (1 − λ_i) · x_j
    y'_i = λ_i · y_i + (1 − λ_i) · y_j

Class labels become soft one-hot targets ``(B, K)`` first (a single-logit binary model gets
``(B,)`` probabilities of the positive class); regression targets are mixed as they are. The
losses accept soft targets (``cross_entropy`` and ``bce``). Zhang et al. draw one λ per batch;
one per sample gives the same expected mix with less variance between batches.

PyTorch's ``Beta`` distribution cannot take a generator, so the Beta variates are built from
Gamma variates drawn with Marsaglia & Tsang's method, every random number from the run's
generator. That takes ~30 small tensor ops, so a pool of ``LAMBDA_POOL`` variates is drawn once
when the run is built and each batch picks its λs from it at random indices (one op): the λs
are draws from the pool's empirical distribution, within ~1/√LAMBDA_POOL of Beta(α, α).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from gradwise.augment.options import Mixup
from gradwise.augment.registry import (
    AUGMENTATIONS,
    AugmentContext,
    BatchAugmentation,
    per_sample,
)

GAMMA_ROUNDS = 8  # candidates per variate; each is accepted with probability ≥ 0.95
LAMBDA_POOL = 1 << 16  # Beta variates drawn once per run; batches index into them


def log_gamma(
    shape: float,
    size: int,
    generator: torch.Generator,
    device: torch.device,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """``log G`` for ``G ~ Gamma(shape, 1)``, ``size`` variates (Marsaglia & Tsang, 2000).

    Formula: for a ≥ 1, with ``d = a − 1/3``, ``c = 1/√(9d)``, draw ``z ~ N(0, 1)``,
    ``u ~ U(0, 1)``, ``v = (1 + c·z)³``; accept ``d·v`` when ``v > 0`` and
    ``log u < z²/2 + d − d·v + d·log v``. For a < 1: ``G = G_{a+1} · U^{1/a}``.

    All ``GAMMA_ROUNDS`` candidates are drawn at once and the first accepted one is kept, so the
    draw is a fixed number of tensor ops (no data-dependent loop, no device sync).
    """
    boosted = shape < 1.0
    a = shape + 1.0 if boosted else shape
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    z = torch.randn((GAMMA_ROUNDS, size), generator=generator, device=device, dtype=dtype)
    u = torch.rand((GAMMA_ROUNDS, size), generator=generator, device=device, dtype=dtype)
    v = (1 + c * z) ** 3  # (R, size)
    log_v = torch.log(v.clamp(min=1e-30))
    accepted = (v > 0) & (torch.log(u) < 0.5 * z**2 + d - d * v + d * log_v)
    first = accepted.to(torch.uint8).argmax(dim=0, keepdim=True)  # (1, size); 0 if none
    log_g = math.log(d) + log_v.gather(0, first).squeeze(0)  # (size,)
    if boosted:
        boost = torch.rand(size, generator=generator, device=device, dtype=dtype).clamp(min=1e-30)
        log_g = log_g + torch.log(boost) / shape
    return log_g


def beta_symmetric(
    alpha: float,
    size: int,
    generator: torch.Generator,
    device: torch.device,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """``size`` variates of Beta(α, α) as ``G₁ / (G₁ + G₂) = sigmoid(log G₁ − log G₂)``."""
    first = log_gamma(alpha, size, generator, device, dtype)
    second = log_gamma(alpha, size, generator, device, dtype)
    return torch.sigmoid(first - second)


@AUGMENTATIONS.register("mixup")
class MixupBatch(BatchAugmentation):
    options: Mixup

    def __init__(self, options: Mixup, context: AugmentContext) -> None:
        super().__init__(options, context)
        device = context.generator.device
        self.lambdas = beta_symmetric(options.alpha, LAMBDA_POOL, self.generator, device)

    def soft_targets(self, y: torch.Tensor) -> torch.Tensor:
        """Class indices → float targets that can be mixed; float targets stay as they are."""
        if y.dtype.is_floating_point:
            return y
        if self.context.n_classes is None or self.context.output_dim == 1:
            return y.float()  # values, or a single-logit binary model: P(class 1)
        return F.one_hot(y, self.context.n_classes).float()  # (B,) -> (B, K)

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.p <= 0.0:
            return x, y
        batch = x.shape[0]
        pick = torch.randint(LAMBDA_POOL, (batch,), generator=self.generator, device=x.device)
        lam = self.lambdas.to(x.device)[pick]  # (B,) ~ Beta(α, α)
        mask = self.chosen(batch, x.device)
        if mask is not None:
            lam = torch.where(mask, lam, torch.ones_like(lam))
        partner = torch.randperm(batch, generator=self.generator, device=x.device)  # (B,)
        # lerp(a, b, λ) = a + λ·(b − a) = λ·b + (1 − λ)·a
        x_mixed = torch.lerp(x[partner], x, per_sample(lam, x).to(x.dtype))
        targets = self.soft_targets(y)
        lam_y = per_sample(lam, targets).to(targets.dtype)
        return x_mixed, torch.lerp(targets[partner], targets, lam_y)
