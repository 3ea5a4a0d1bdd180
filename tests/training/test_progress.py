"""The progress bar: what it draws, and that it stays silent when it should."""

from __future__ import annotations

import io
from pathlib import Path

import gradwise
from gradwise.training.progress import ProgressBar, format_duration, progress_wanted
from tests.conftest import tiny_config


def test_bar_shows_epoch_step_loss_metric_and_eta(tmp_path: Path):
    stream = io.StringIO()
    bar = ProgressBar(steps_per_epoch=4, metric="accuracy", stream=stream)
    config = tiny_config(
        "synthetic:moons",
        data={"source": "synthetic:moons", "options": {"n_samples": 160}},
        report={"enabled": False},
    )
    gradwise.train(config, out=tmp_path, callbacks=[bar])
    text = stream.getvalue()
    last = text.rstrip("\n").split("\r")[-1]
    assert "epoch 3/3" in last and "step 4/4" in last
    assert "valid_loss" in last and "valid_accuracy" in last and "ETA 00:00" in last
    assert text.endswith("\n")


def test_silent_when_quiet_or_not_a_terminal(monkeypatch):
    assert progress_wanted(quiet=True) is False
    monkeypatch.setattr("sys.stdout", io.StringIO())  # not a TTY
    assert progress_wanted(quiet=False) is False


def test_duration_format():
    assert format_duration(5) == "00:05"
    assert format_duration(3725) == "1:02:05"
