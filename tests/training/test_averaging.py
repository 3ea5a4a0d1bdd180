"""Exponential moving average of the weights (``train.ema``)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

import gradwise
from gradwise.training import Callback
from gradwise.training.averaging import WeightAveraging
from tests.conftest import tiny_config


def test_the_average_follows_the_formula_with_warm_up_and_swaps_around_validation():
    model = nn.Sequential(nn.Linear(2, 1), nn.BatchNorm1d(1))
    trainer = SimpleNamespace(module=model)
    ema = WeightAveraging(0.5)
    ema.on_fit_start(trainer)
    weight = model[0].weight
    start = weight.detach().clone()
    expected = start.clone()
    for step, value in enumerate([1.0, 2.0, 3.0], start=1):
        with torch.no_grad():
            weight.fill_(value)
        ema.on_batch_end(trainer, torch.tensor(0.0))
        decay = min(0.5, (1 + step) / (10 + step))  # 2/11, 3/12, then capped at 0.5
        expected = decay * expected + (1 - decay) * value
    ema.on_train_epoch_end(trainer, 1)
    assert torch.allclose(weight, expected)  # validation sees the average
    assert model[1].num_batches_tracked.dtype == torch.long  # integer buffers are left alone
    ema.on_epoch_start(trainer, 2)
    assert torch.equal(weight, torch.full_like(weight, 3.0))  # training continues from live


def test_decay_outside_the_open_unit_interval_is_refused():
    with pytest.raises(ValueError, match="decay"):
        WeightAveraging(1.0)


class Recorder(Callback):
    """Records one weight after every step (the live weights) and at each epoch's end."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.steps: list[torch.Tensor] = []
        self.at_epoch_end: torch.Tensor | None = None

    def on_fit_start(self, trainer):
        self.initial = trainer.model.state_dict()[self.name].clone()

    def on_batch_end(self, trainer, loss):
        self.steps.append(trainer.model.state_dict()[self.name].clone())

    def on_epoch_end(self, trainer, epoch, logs):
        self.at_epoch_end = trainer.model.state_dict()[self.name].clone()


def test_a_run_validates_checkpoints_and_keeps_the_moving_average(tmp_path: Path):
    config = tiny_config(
        "",
        data={"source": "synthetic:classification", "options": {"n_samples": 200}},
        train={"epochs": 3, "batch_size": 16, "device": "cpu", "ema": 0.9},
    )
    recorder = Recorder("body.0.weight")
    run = gradwise.train(config, out=tmp_path, callbacks=[recorder])
    expected = recorder.initial
    for step, live in enumerate(recorder.steps, start=1):
        decay = min(0.9, (1 + step) / (10 + step))
        expected = decay * expected + (1 - decay) * live
    assert torch.allclose(recorder.at_epoch_end, expected, atol=1e-6)
    assert not torch.allclose(recorder.steps[-1], expected)  # the average is not the live copy
    last = load_file(run.path / "checkpoints/last.safetensors")
    assert torch.equal(last["body.0.weight"], recorder.at_epoch_end)
