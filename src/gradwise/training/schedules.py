"""Learning-rate schedules by name (``train.schedule.name``), stepped once per optimizer step.

Each schedule is a multiplier ``f(t)`` of the configured learning rate, with ``t`` the step
count, ``S`` the steps per epoch and ``T`` the total steps; linear warm-up over
``W = warmup_epochs · S`` steps multiplies it by ``min(1, 0.01 + 0.99·t/W)``:

- constant:    f = 1
- step:        f = γ^⌊t / (step_epochs·S)⌋
- exponential: f = γ^(t / S)                       (γ per epoch)
- linear:      f = 1 − (1 − m)·t'/T'                (t', T' after warm-up; the RL-Zoo ``lin_``)
- cosine:      f = m + (1 − m)·½(1 + cos(π·t'/T'))  (t', T' after warm-up; m = min_lr_ratio)
- one_cycle:   cosine rise from lr/25 to lr over pct_start·T, then cosine fall to lr·m
               (Smith & Topin, 2017), warm-up included in the rise
- plateau:     f = 1 until the monitored metric stalls for ``patience`` epochs, then ×factor
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from gradwise.registry import Registry

Multiplier = Callable[[int], float]
SCHEDULES: Registry[Callable[[Any, int, int], Multiplier]] = Registry(
    "schedule", key="train.schedule.name"
)


@SCHEDULES.register("constant")
def constant(cfg: Any, steps_per_epoch: int, total_steps: int) -> Multiplier:
    return lambda t: 1.0


@SCHEDULES.register("plateau")
def plateau(cfg: Any, steps_per_epoch: int, total_steps: int) -> Multiplier:
    return lambda t: 1.0  # the per-epoch reduction is applied by LRSchedule.epoch_end


@SCHEDULES.register("step")
def step(cfg: Any, steps_per_epoch: int, total_steps: int) -> Multiplier:
    period = cfg.step_epochs * steps_per_epoch
    return lambda t: cfg.gamma ** (t // period)


@SCHEDULES.register("exponential")
def exponential(cfg: Any, steps_per_epoch: int, total_steps: int) -> Multiplier:
    return lambda t: cfg.gamma ** (t / steps_per_epoch)


@SCHEDULES.register("linear")
def linear(cfg: Any, steps_per_epoch: int, total_steps: int) -> Multiplier:
    warmup = round(cfg.warmup_epochs * steps_per_epoch)
    span = max(1, total_steps - warmup)
    floor = cfg.min_lr_ratio
    return lambda t: 1.0 - (1.0 - floor) * min(1.0, max(0, t - warmup) / span)


@SCHEDULES.register("cosine")
def cosine(cfg: Any, steps_per_epoch: int, total_steps: int) -> Multiplier:
    warmup = round(cfg.warmup_epochs * steps_per_epoch)
    span = max(1, total_steps - warmup)
    floor = cfg.min_lr_ratio

    def f(t: int) -> float:
        progress = min(1.0, max(0, t - warmup) / span)
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

    return f


@SCHEDULES.register("one_cycle")
def one_cycle(cfg: Any, steps_per_epoch: int, total_steps: int) -> Multiplier:
    rise = max(1, round(cfg.pct_start * total_steps))
    fall = max(1, total_steps - rise)
    start, floor = 1 / 25, cfg.min_lr_ratio

    def f(t: int) -> float:
        if t < rise:
            return start + (1 - start) * 0.5 * (1 - math.cos(math.pi * t / rise))
        progress = min(1.0, (t - rise) / fall)
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

    return f


class LRSchedule:
    """Sets each param group's lr to ``base_lr · warmup(t) · f(t) · plateau_factor``."""

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        cfg: Any,
        steps_per_epoch: int,
        total_steps: int,
        monitor_mode: str = "min",
    ) -> None:
        self.optimizer = optimizer
        self.cfg = cfg
        self.multiplier = SCHEDULES.get(cfg.name)(cfg, steps_per_epoch, total_steps)
        self.warmup_steps = (
            0 if cfg.name == "one_cycle" else round(cfg.warmup_epochs * steps_per_epoch)
        )
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        self.monitor_sign = 1.0 if monitor_mode == "min" else -1.0
        self.step_count = 0
        self.plateau_factor = 1.0
        self.plateau_best = math.inf
        self.plateau_wait = 0
        # a constant schedule without warm-up sets the same lr every step: skip the work
        self.varies_per_step = cfg.name not in ("constant", "plateau") or self.warmup_steps > 0
        self._apply()

    def current_multiplier(self) -> float:
        warm = 1.0
        if self.step_count < self.warmup_steps:
            warm = 0.01 + 0.99 * self.step_count / self.warmup_steps
        return warm * self.multiplier(self.step_count) * self.plateau_factor

    def _apply(self) -> None:
        factor = self.current_multiplier()
        for group, base_lr in zip(self.optimizer.param_groups, self.base_lrs, strict=True):
            group["lr"] = base_lr * factor

    def step(self) -> None:
        self.step_count += 1
        if self.varies_per_step:
            self._apply()

    def seek(self, step_count: int) -> None:
        """Continue from step ``step_count`` (a loop whose steps per epoch vary keeps the
        schedule on its epochs' clock)."""
        self.step_count = step_count
        self._apply()

    def epoch_end(self, monitored: float | None) -> None:
        if self.cfg.name != "plateau" or monitored is None or math.isnan(monitored):
            return
        value = self.monitor_sign * monitored
        if value < self.plateau_best:
            self.plateau_best, self.plateau_wait = value, 0
        else:
            self.plateau_wait += 1
            if self.plateau_wait > self.cfg.patience:
                self.plateau_factor *= self.cfg.factor
                self.plateau_wait = 0
                self._apply()

    @property
    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    def state_dict(self) -> dict[str, Any]:
        return {
            "step_count": self.step_count,
            "plateau_factor": self.plateau_factor,
            "plateau_best": self.plateau_best,
            "plateau_wait": self.plateau_wait,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._apply()


def build_schedules(
    train: Any,
    optimizers: dict[str, torch.optim.Optimizer],
    n_train: int,
    has_valid: bool,
) -> dict[str, LRSchedule]:
    """One ``train.schedule`` per named optimizer, over ``train.epochs`` epochs of ``n_train``
    rows; ``plateau`` watches the validation loss (the training loss without validation)."""
    from gradwise.training.batching import batch_size_of, steps_per_epoch
    from gradwise.training.callbacks import monitor_mode

    per_epoch = steps_per_epoch(n_train, batch_size_of(train))
    mode = monitor_mode("valid_loss" if has_valid else "train_loss")
    return {
        name: LRSchedule(optimizer, train.schedule, per_epoch, per_epoch * train.epochs, mode)
        for name, optimizer in optimizers.items()
    }
