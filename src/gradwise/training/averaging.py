"""Exponential moving average (EMA) of the weights: evaluate, checkpoint and keep the average.

After every optimizer step ``t`` (counted from 1) the averaged copy of each floating-point
parameter and buffer ``θ`` moves toward the live one::

    θ̄ ← d_t · θ̄ + (1 − d_t) · θ,     d_t = min(d, (1 + t) / (10 + t))

The warm-up ``(1 + t) / (10 + t)`` keeps the first steps from being dominated by the random
initial weights when a run has few steps per epoch. Batch-norm running statistics are averaged
the same way, so the averaged model needs no extra pass over the data.

Training itself always steps the live weights. At the end of each training epoch the averaged
weights are swapped into the model, so validation, early stopping, the ``best`` and ``last``
checkpoints and the final model all see the average; the live weights are swapped back before
the next epoch. The live weights travel in the training state, so a resumed run continues
exactly (its ``last`` weights file holds the average).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch

from gradwise.training.callbacks import Callback

if TYPE_CHECKING:
    from gradwise.training.engine import Trainer

WARMUP_STEPS = 10  # the 10 in (1 + t) / (10 + t)


def warmed_decay(decay: float, steps: int) -> float:
    """d_t = min(d, (1 + t) / (10 + t)) after ``steps`` = t updates of an average (counted
    from 1): early averages follow the live weights closely instead of the initial ones."""
    return min(decay, (1 + steps) / (WARMUP_STEPS + steps))


def recompute_batch_norm(module: torch.nn.Module, forward_passes: Callable[[], None]) -> None:
    """Sets the running means and variances of ``module``'s batch-norm layers to the cumulative
    means of the batch means and variances that ``forward_passes`` produces, run without
    gradients in training mode (SWA's batch-norm update, Izmailov et al., 2018). The layers'
    momenta and the module's training flag are restored afterwards."""
    batch_norm = torch.nn.modules.batchnorm._BatchNorm
    norms = [layer for layer in module.modules() if isinstance(layer, batch_norm)]
    if not norms:
        return
    momenta = [layer.momentum for layer in norms]
    for layer in norms:
        layer.reset_running_stats()
        layer.momentum = None  # a cumulative average over the passes
    was_training = module.training
    module.train()
    with torch.no_grad():
        forward_passes()
    module.train(was_training)
    for layer, momentum in zip(norms, momenta, strict=True):
        layer.momentum = momentum


class WeightAveraging(Callback):
    """Keeps an exponential moving average of the model's weights (``train.ema: DECAY``)."""

    def __init__(self, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.steps = 0
        self.names: list[str] = []
        self.live: list[torch.Tensor] = []  # the model's own floating-point tensors
        self.averaged: list[torch.Tensor] = []
        self.stash: list[torch.Tensor] = []  # live weights while the average is swapped in
        self.swapped = False
        self.resumed_live: dict[str, torch.Tensor] | None = None

    def on_fit_start(self, trainer: Trainer) -> None:
        state = trainer.module.state_dict(keep_vars=True)
        self.names = [name for name, t in state.items() if t.is_floating_point()]
        self.live = [state[name].detach() for name in self.names]
        self.averaged = [t.clone() for t in self.live]
        self.stash = [torch.empty_like(t) for t in self.live]
        if self.resumed_live is not None:  # the model holds the average saved as `last`
            saved = [self.resumed_live[name] for name in self.names]
            torch._foreach_copy_(self.live, saved)
            self.resumed_live = None

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        if self.swapped:
            torch._foreach_copy_(self.live, self.stash)
            self.swapped = False

    def on_batch_end(self, trainer: Trainer, loss: torch.Tensor) -> None:
        self.steps += 1
        decay = warmed_decay(self.decay, self.steps)
        torch._foreach_lerp_(self.averaged, self.live, 1.0 - decay)

    def on_train_epoch_end(self, trainer: Trainer, epoch: int) -> None:
        torch._foreach_copy_(self.stash, self.live)
        torch._foreach_copy_(self.live, self.averaged)
        self.swapped = True

    def state_dict(self) -> dict[str, Any]:
        live = self.stash if self.swapped else self.live
        return {"steps": self.steps, "live": dict(zip(self.names, live, strict=True))}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.steps = state.get("steps", 0)
        self.resumed_live = state.get("live")
