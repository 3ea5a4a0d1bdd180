"""Callbacks: the one way to plug into the training loop without touching it.

Every hook is a no-op by default; a callback overrides only what it needs, and the loop calls a
hook only on the callbacks that override it, so an unused hook costs nothing per step.
Hooks in order::

    on_fit_start → [on_epoch_start → (on_after_backward → on_batch_end)* →
    on_train_epoch_end → (validation) → on_epoch_end]* → on_fit_end

``on_after_backward`` sees the gradients before clipping and the optimizer step (diagnostics);
``on_train_epoch_end`` runs after the last step of an epoch, before validation;
``on_epoch_end`` receives the epoch's logs (train and valid metrics, lr, time) and may add to
them or set ``trainer.stop_training``. ``on_after_backward`` runs once per optimizer update
(``trainer.stepping`` names the optimizer), so twice in a step that updates two optimizers.
Callbacks with state that must survive a resume implement ``state_dict``/``load_state_dict``;
callbacks that write files or draw set ``main_process_only`` and run on rank 0 alone.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gradwise.training.metrics import higher_is_better

if TYPE_CHECKING:
    import torch

    from gradwise.training.engine import Trainer

HOOKS = (
    "on_fit_start",
    "on_epoch_start",
    "on_after_backward",
    "on_batch_end",
    "on_train_epoch_end",
    "on_epoch_end",
    "on_fit_end",
)


class Callback:
    main_process_only: bool = False  # True: only rank 0 of a distributed run calls it

    def on_fit_start(self, trainer: Trainer) -> None: ...
    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None: ...
    def on_after_backward(self, trainer: Trainer) -> None: ...
    def on_batch_end(self, trainer: Trainer, loss: torch.Tensor) -> None: ...
    def on_train_epoch_end(self, trainer: Trainer, epoch: int) -> None: ...
    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None: ...
    def on_fit_end(self, trainer: Trainer, logs: dict[str, Any]) -> None: ...

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


class CallbackList:
    """Dispatches each hook only to the callbacks that override it."""

    def __init__(self, callbacks: list[Callback]) -> None:
        self.callbacks = callbacks
        for hook in HOOKS:
            overriding = [
                getattr(cb, hook)
                for cb in callbacks
                if getattr(type(cb), hook) is not getattr(Callback, hook)
            ]
            setattr(self, hook, _fan_out(overriding))
            setattr(self, f"has_{hook}", bool(overriding))

    def state_dict(self) -> dict[str, Any]:
        return {type(cb).__name__: cb.state_dict() for cb in self.callbacks}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for cb in self.callbacks:
            cb.load_state_dict(state.get(type(cb).__name__, {}))


def _fan_out(methods):
    if not methods:
        return lambda *args: None
    if len(methods) == 1:
        return methods[0]

    def call_all(*args):
        for method in methods:
            method(*args)

    return call_all


def monitor_mode(metric: str, mode: str = "auto") -> str:
    if mode != "auto":
        return mode
    return "max" if higher_is_better(metric) else "min"


class Monitor:
    """Tracks the best value of a metric; ``improved(value)`` says whether it got better."""

    def __init__(self, metric: str, mode: str = "auto", min_delta: float = 0.0) -> None:
        self.metric = metric
        self.sign = 1.0 if monitor_mode(metric, mode) == "min" else -1.0
        self.min_delta = min_delta
        self.best = math.inf
        self.best_epoch: int | None = None

    def improved(self, value: float | None, epoch: int) -> bool:
        if value is None or math.isnan(value):
            return False
        if self.sign * value < self.best - self.min_delta:
            self.best, self.best_epoch = self.sign * value, epoch
            return True
        return False

    @property
    def best_value(self) -> float | None:
        return None if self.best_epoch is None else self.sign * self.best

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch = state.get("best", math.inf), state.get("best_epoch")


class BestWeights(Callback):
    """Keeps a CPU copy of the weights from the epoch with the best monitored value."""

    def __init__(self, metric: str, mode: str = "auto") -> None:
        self.monitor = Monitor(metric, mode)
        self.state: dict[str, torch.Tensor] | None = None

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        if self.monitor.improved(logs.get(self.monitor.metric), epoch):
            from gradwise.training.checkpoint import weights_copy

            self.state = weights_copy(trainer.module)

    def state_dict(self) -> dict[str, Any]:
        return self.monitor.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.monitor.load_state_dict(state)


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs."""

    def __init__(
        self, monitor: str, patience: int, mode: str = "auto", min_delta: float = 0.0
    ) -> None:
        self.monitor = Monitor(monitor, mode, min_delta)
        self.patience = patience
        self.wait = 0
        self.stopped_epoch: int | None = None

    @classmethod
    def from_config(cls, section: Any) -> EarlyStopping:
        """From a ``train.early_stopping`` section."""
        return cls(section.monitor, section.patience, section.mode, section.min_delta)

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        # the name was checked against the paradigm's logged metrics before training
        # (gradwise.tasks.checks.check_monitors); a metric a split cannot give this epoch (an
        # AUC with one class present) counts as no improvement
        if self.monitor.improved(logs.get(self.monitor.metric), epoch):
            self.wait = 0
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.stop_training = True

    def state_dict(self) -> dict[str, Any]:
        return {"monitor": self.monitor.state_dict(), "wait": self.wait}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.monitor.load_state_dict(state.get("monitor", {}))
        self.wait = state.get("wait", 0)


class MetricsLogger(Callback):
    """Appends one JSON line per epoch to ``metrics.jsonl`` (flushed, so it can be followed)."""

    main_process_only = True

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        from gradwise._io import to_jsonable

        with self.path.open("a", encoding="utf-8") as stream:
            stream.write(json.dumps(to_jsonable(logs)) + "\n")


def config_callbacks(train: Any) -> list[Callback]:
    """The callbacks a ``train`` section asks for: early stopping, weight averaging."""
    from gradwise.training.averaging import WeightAveraging

    callbacks: list[Callback] = []
    if train.early_stopping is not None:
        callbacks.append(EarlyStopping.from_config(train.early_stopping))
    if train.ema is not None:
        callbacks.append(WeightAveraging(train.ema))
    return callbacks


def truncate_jsonl(path: Path, last_epoch: int) -> list[dict[str, Any]]:
    """Keep only the lines of epochs ≤ ``last_epoch`` (for a resumed run); returns them."""
    from gradwise._io import atomic_write_text, read_jsonl

    if not path.exists():
        return []
    kept = [record for record in read_jsonl(path) if record.get("epoch", 0) <= last_epoch]
    atomic_write_text(path, "".join(json.dumps(record) + "\n" for record in kept))
    return kept
