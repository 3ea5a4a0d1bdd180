"""Training progress on stderr: one line per finished epoch, and a live line on a terminal.

On a terminal the epoch in progress is a redrawn line (step, bar, loss, ETA; at most 10 redraws a
second, so it costs nothing measurable per step: the loss is read from the device only on a
redraw), and each finished epoch is written over it as a line of its own (train and valid loss,
the main metric, time), which stays in the scrollback. Anywhere else (a log file, ``nohup``, CI)
only the finished-epoch lines are written, one per epoch, as Keras' ``verbose=2`` does.
``--quiet`` (``quiet=True`` in the API) writes nothing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from gradwise.training.callbacks import Callback

if TYPE_CHECKING:
    import torch

    from gradwise.training.engine import Trainer


def progress_wanted(quiet: bool) -> bool:
    """Whether a live, redrawn progress line is wanted: ``--quiet`` is off and stdout is a
    terminal (a redrawn line in a log file is noise)."""
    return not quiet and is_terminal(sys.stdout)


def is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty is not None and isatty())


def format_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def format_seconds(seconds: float) -> str:
    """An epoch's time: ``0.12 s``, ``4.3 s``, ``01:05``."""
    if seconds < 10:
        return f"{seconds:.2f} s"
    return f"{seconds:.1f} s" if seconds < 60 else format_duration(seconds)


class ProgressBar(Callback):
    """``live``: redraw a line for the epoch in progress (default: when ``stream`` is a
    terminal); finished epochs are always written as lines of their own."""

    main_process_only = True

    def __init__(
        self,
        steps_per_epoch: int,
        metric: str | Sequence[str],
        stream: TextIO | None = None,
        width: int = 24,
        live: bool | None = None,
    ) -> None:
        self.steps_per_epoch = steps_per_epoch
        self.metrics = [metric] if isinstance(metric, str) else list(metric)  # valid_<name>
        self.stream = stream or sys.stderr
        self.width = width
        self.live = is_terminal(self.stream) if live is None else live
        self.last_draw = 0.0
        self.live_line = ""  # the live line on screen now ("" when there is none)

    def on_fit_start(self, trainer: Trainer) -> None:
        self.started = time.perf_counter()
        self.start_step = trainer.global_step
        self.total_steps = trainer.epochs * self.steps_per_epoch

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        self.epoch = epoch
        self.step_in_epoch = 0

    def on_batch_end(self, trainer: Trainer, loss: torch.Tensor) -> None:
        self.step_in_epoch += 1
        if not self.live:
            return
        now = time.perf_counter()
        if now - self.last_draw < 0.1:
            return
        self.last_draw = now
        self.draw(trainer, f"loss {loss.item():.4f}")

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        width = len(str(trainer.epochs))
        parts = [f"epoch {epoch:>{width}}/{trainer.epochs}", f"loss {logs['train_loss']:.4f}"]
        if "valid_loss" in logs:
            parts.append(f"valid_loss {logs['valid_loss']:.4f}")
        for metric in self.metrics:
            if metric in logs:  # logged under its own name (an agent's eval_return)
                if logs[metric] == logs[metric]:  # not NaN: measured this epoch
                    parts.append(f"{metric} {logs[metric]:.4g}")
                continue
            key = f"valid_{metric}"
            if key in logs and key != "valid_loss":
                parts.append(f"{key} {logs[key]:.4f}")
        if "time" in logs:
            parts.append(format_seconds(logs["time"]))
        if epoch < trainer.epochs:
            parts.append(f"ETA {format_duration(self.eta(trainer))}")
        self.write_line("  ".join(parts))

    def eta(self, trainer: Trainer) -> float:
        done = trainer.global_step - self.start_step
        elapsed = time.perf_counter() - self.started
        return elapsed / done * (self.total_steps - trainer.global_step) if done else 0.0

    def draw(self, trainer: Trainer, text: str) -> None:
        """Redraw the live line of the epoch in progress."""
        fraction = min(1.0, trainer.global_step / max(1, self.total_steps))
        filled = int(fraction * self.width)
        bar = "█" * filled + "·" * (self.width - filled)
        line = (
            f"epoch {self.epoch}/{trainer.epochs} step {self.step_in_epoch}/"
            f"{self.steps_per_epoch} {bar} {text}  ETA {format_duration(self.eta(trainer))}"
        )
        self.stream.write("\r" + line.ljust(len(self.live_line)))
        self.live_line = line
        self.stream.flush()

    def write_line(self, line: str) -> None:
        """A finished epoch's line, over the live line if one is on screen."""
        if self.live_line:
            line = "\r" + line.ljust(len(self.live_line))
            self.live_line = ""
        self.stream.write(line + "\n")
        self.stream.flush()

    def on_fit_end(self, trainer: Trainer, logs: dict[str, Any]) -> None:
        if self.live_line:  # stopped inside an epoch
            self.stream.write("\n")
            self.live_line = ""
        self.stream.flush()
