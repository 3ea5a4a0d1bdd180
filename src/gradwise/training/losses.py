"""Loss functions by name (``train.loss``).

Each factory receives the train config and the task's facts and returns ``loss(outputs, targets)``
with ``outputs`` the raw model outputs (logits for classification).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from gradwise.registry import Registry

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
LOSSES: Registry[Callable[..., LossFn]] = Registry("loss", key="train.loss")


@LOSSES.register("cross_entropy")
def cross_entropy(train: Any, class_weights: torch.Tensor | None = None, **_: Any) -> LossFn:
    """Formula: ``-Σ_k q_k log softmax(z)_k`` with ``q = (1 − ε)·onehot(y) + ε/K`` (label
    smoothing ε) and optional per-class weights ``w_y``."""
    smoothing = train.label_smoothing

    def loss(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        # soft targets (mixup) are (B, K) probabilities: -Σ_k w_k q_k log p_k, smoothed alike
        return F.cross_entropy(outputs, targets, weight=class_weights, label_smoothing=smoothing)

    return loss


@LOSSES.register("bce")
def binary_cross_entropy(train: Any, class_weights: torch.Tensor | None = None, **_: Any) -> LossFn:
    """Formula: ``-[y log σ(z) + (1 − y) log(1 − σ(z))]`` on one logit; class weights become
    ``pos_weight = w_1 / w_0``."""
    pos_weight = None if class_weights is None else class_weights[1:] / class_weights[0]

    def loss(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        targets = targets.to(outputs.dtype).reshape(outputs.shape)
        return F.binary_cross_entropy_with_logits(outputs, targets, pos_weight=pos_weight)

    return loss


def _regression(fn: Callable[..., torch.Tensor]) -> Callable[..., LossFn]:
    def factory(train: Any, **_: Any) -> LossFn:
        def loss(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
            return fn(outputs.reshape(targets.shape), targets, train)

        return loss

    factory.__doc__ = fn.__doc__
    return factory


LOSSES.register("mse")(_regression(lambda o, t, _: F.mse_loss(o, t)))  # mean (o − t)²
LOSSES.register("mae")(_regression(lambda o, t, _: F.l1_loss(o, t)))  # mean |o − t|
# Huber: ½r² for |r| ≤ δ, δ(|r| − ½δ) otherwise
LOSSES.register("huber")(_regression(lambda o, t, cfg: F.huber_loss(o, t, delta=cfg.huber_delta)))


def l1_penalty(parameters: list[torch.Tensor], strength: float) -> torch.Tensor:
    """Formula: ``λ · Σ |w|`` over weight matrices/kernels (biases and norm scales excluded)."""
    return strength * torch.stack([p.abs().sum() for p in parameters]).sum()
