"""A one-line progress bar on stderr: epoch, step, loss, main metric, ETA.

Shown only when stdout is a terminal and ``--quiet`` is off; redrawn at most 10 times a second so
it costs nothing measurable per step (the loss is read from the device only on a redraw).
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

from gradwise.training.callbacks import Callback

if TYPE_CHECKING:
    import torch

    from gradwise.training.engine import Trainer


def progress_wanted(quiet: bool) -> bool:
    return not quiet and sys.stdout.isatty()


def format_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class ProgressBar(Callback):
    main_process_only = True

    def __init__(
        self, steps_per_epoch: int, metric: str, stream: TextIO | None = None, width: int = 24
    ) -> None:
        self.steps_per_epoch = steps_per_epoch
        self.metric = metric
        self.stream = stream or sys.stderr
        self.width = width
        self.last_draw = 0.0
        self.epoch_line = ""

    def on_fit_start(self, trainer: Trainer) -> None:
        self.started = time.perf_counter()
        self.start_step = trainer.global_step
        self.total_steps = trainer.epochs * self.steps_per_epoch

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        self.epoch = epoch
        self.step_in_epoch = 0

    def on_batch_end(self, trainer: Trainer, loss: torch.Tensor) -> None:
        self.step_in_epoch += 1
        now = time.perf_counter()
        if now - self.last_draw < 0.1:
            return
        self.last_draw = now
        self.draw(trainer, f"loss {loss.item():.4f}")

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        parts = [f"loss {logs['train_loss']:.4f}"]
        if "valid_loss" in logs:
            parts.append(f"valid_loss {logs['valid_loss']:.4f}")
        key = f"valid_{self.metric}"
        if key in logs:
            parts.append(f"{key} {logs[key]:.4f}")
        self.draw(trainer, "  ".join(parts))

    def draw(self, trainer: Trainer, text: str) -> None:
        done = trainer.global_step - self.start_step
        total_left = self.total_steps - trainer.global_step
        elapsed = time.perf_counter() - self.started
        eta = elapsed / done * total_left if done else 0.0
        fraction = min(1.0, trainer.global_step / max(1, self.total_steps))
        filled = int(fraction * self.width)
        bar = "█" * filled + "·" * (self.width - filled)
        line = (
            f"\repoch {self.epoch}/{trainer.epochs} step {self.step_in_epoch}/"
            f"{self.steps_per_epoch} {bar} {text}  ETA {format_duration(eta)}"
        )
        self.stream.write(line.ljust(len(self.epoch_line)))
        self.epoch_line = line
        self.stream.flush()

    def on_fit_end(self, trainer: Trainer, logs: dict[str, Any]) -> None:
        self.stream.write("\n")
        self.stream.flush()
