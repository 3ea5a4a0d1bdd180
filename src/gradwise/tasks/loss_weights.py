"""Weighting the losses of several targets into one (``train.loss_weights``).

Fixed weights::

    L = Σ_t w_t · L_t                              (w_t = 1 for a target the mapping leaves out)

Learned homoscedastic-uncertainty weights (Kendall, Gal & Cipolla, "Multi-Task Learning Using
Uncertainty to Weigh Losses for Scene Geometry and Semantics", CVPR 2018): each target t has a
learned noise scale σ_t, and the loss is the negative log-likelihood of a Gaussian (regression)
or of a softmax whose logits are scaled by 1/σ_t² (classification)::

    L = Σ_{t regression}     1/(2σ_t²) · L_t + log σ_t
      + Σ_{t classification} 1/σ_t²    · L_t + log σ_t

Parametrised by s_t = log σ_t² for stability (σ_t² = exp(s_t) > 0 for any real s_t, no division
by a parameter that may reach 0), with log σ_t = s_t / 2::

    L = Σ_t c_t · exp(−s_t) · L_t + s_t / 2        c_t = 1/2 (regression), 1 (classification)

The effective weight of target t is c_t · exp(−s_t). A target whose loss stays high (noisy)
is down-weighted; the s_t/2 term stops every σ_t growing without bound: at the optimum for a
fixed L_t, exp(s_t) = 2 c_t L_t, i.e. σ_t² tracks the target's loss.
"""

from __future__ import annotations

import torch

UNCERTAINTY = "uncertainty"  # train.loss_weights value for learned weights
KIND_FACTOR = {"values": 0.5, "labels": 1.0}  # c_t by the target's kind


def weighted_total(
    losses: torch.Tensor, weights: torch.Tensor, log_variance: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The total loss and the effective weights (T,) of the per-target losses (T,).

    ``weights``: the fixed w_t, or the factors c_t when ``log_variance`` (s_t, (T,)) is given.
    """
    if log_variance is None:
        return (weights * losses).sum(), weights
    effective = weights * torch.exp(-log_variance)  # c_t / σ_t²
    total = (effective * losses).sum() + 0.5 * log_variance.sum()
    return total, effective.detach()
