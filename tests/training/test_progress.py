"""The progress bar: what it draws, and that it stays silent when it should."""

from __future__ import annotations

import io
from pathlib import Path
from unittest.mock import patch

import torch

import gradwise
from gradwise.training.progress import ProgressBar, format_duration, progress_wanted
from tests.conftest import tiny_config


def test_epoch_lines_with_valid_metrics_and_time(tmp_path: Path):
    stream = io.StringIO()  # not a terminal: one line per finished epoch, no redrawn line
    bar = ProgressBar(steps_per_epoch=4, metric="accuracy", stream=stream)
    config = tiny_config(
        "synthetic:moons",
        data={"source": "synthetic:moons", "options": {"n_samples": 160}},
        report={"enabled": False},
    )
    gradwise.train(config, out=tmp_path, callbacks=[bar])
    lines = stream.getvalue().split("\n")
    assert lines[-1] == "" and len(lines) == 4 and "\r" not in stream.getvalue()
    for epoch, line in enumerate(lines[:3], start=1):
        assert line.startswith(f"epoch {epoch}/3  loss ")
        assert "valid_loss" in line and "valid_accuracy" in line and " s" in line
    assert "ETA 00:00" in lines[1] and "ETA" not in lines[2]  # no ETA once done


class FakeTrainer:
    epochs = 2
    global_step = 0


def drive_bar(stream: io.StringIO, live: bool) -> None:
    """Two epochs of three steps, the clock advancing 0.2 s a step (every step redraws)."""
    clock = iter(float(t) / 5 for t in range(1000))
    bar = ProgressBar(steps_per_epoch=3, metric="accuracy", stream=stream, live=live)
    trainer = FakeTrainer()
    with patch("gradwise.training.progress.time.perf_counter", lambda: next(clock)):
        bar.on_fit_start(trainer)
        for epoch in (1, 2):
            bar.on_epoch_start(trainer, epoch)
            for _ in range(3):
                trainer.global_step += 1
                bar.on_batch_end(trainer, torch.tensor(0.5))
            logs = {"train_loss": 0.5, "valid_loss": 0.4, "valid_accuracy": 0.9, "time": 0.6}
            bar.on_epoch_end(trainer, epoch, logs)
        bar.on_fit_end(trainer, logs)


def test_a_terminal_keeps_finished_epochs_and_redraws_the_live_line():
    stream = io.StringIO()
    drive_bar(stream, live=True)
    lines = stream.getvalue().split("\n")
    assert lines[-1] == "" and len(lines) == 3
    for epoch, line in enumerate(lines[:2], start=1):
        *live, finished = line.split("\r")
        assert len(live) == 4 and all(f"epoch {epoch}/2 step" in draw for draw in live[1:])
        assert "step 3/3" in live[-1] and "loss 0.5000" in live[-1]
        text, _, eta = finished.rstrip().partition("  ETA ")
        metrics = "loss 0.5000  valid_loss 0.4000  valid_accuracy 0.9000"
        assert text == f"epoch {epoch}/2  {metrics}  0.60 s"
        assert (eta != "") == (epoch == 1)  # an ETA until the last epoch
        assert len(finished) >= len(live[-1])  # the live line is wiped, not left in part

    lines_only = io.StringIO()  # the same lines, without the live ones
    drive_bar(lines_only, live=False)
    assert "\r" not in lines_only.getvalue()
    without_eta = [line.split("\r")[-1].partition("  ETA")[0].rstrip() for line in lines[:2]]
    assert without_eta == [
        line.partition("  ETA")[0] for line in lines_only.getvalue().splitlines()
    ]


def test_silent_when_quiet_or_not_a_terminal(monkeypatch):
    assert progress_wanted(quiet=True) is False
    monkeypatch.setattr("sys.stdout", io.StringIO())  # not a TTY
    assert progress_wanted(quiet=False) is False


def test_duration_format():
    assert format_duration(5) == "00:05"
    assert format_duration(3725) == "1:02:05"
