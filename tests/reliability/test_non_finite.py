"""Non-finite values injected at a chosen step — a NaN input feature, an Inf regression target,
a huge learning rate, a NaN gradient, a layer returning NaN, a NaN validation loss: each stops
training at that step, before the optimizer steps, with a message naming the step and where
the numbers went non-finite; no checkpoint ever holds a non-finite tensor."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import gradwise
from gradwise import api
from gradwise._io import read_jsonl
from gradwise.errors import TrainingError
from gradwise.training import Callback, Trainer
from tests.reliability import harness
from tests.reliability.conftest import PARADIGMS


def poison_batch(name: str, value: float, step: int) -> type[Trainer]:
    class Poisoned(Trainer):
        def train_step(self, batch):
            if self.global_step + 1 == step:
                batch[name].view(-1)[0] = value  # in place: the batch the NaN guard probes
            return super().train_step(batch)

    return Poisoned


class PoisonGradient(Callback):
    """One gradient entry of ``layer`` set to NaN after each backward pass of ``step`` (with
    several optimizers: the one stepping ``layer`` catches it; the others' checks skip it)."""

    def __init__(self, layer: str, step: int) -> None:
        self.layer, self.step = layer, step

    def on_after_backward(self, trainer) -> None:
        if trainer.global_step + 1 == self.step:
            dict(trainer.module.named_modules())[self.layer].weight.grad.view(-1)[0] = math.nan


class PoisonOutput(Callback):
    """``layer`` returns NaN: in training at ``step``, or in evaluation during epoch 2."""

    def __init__(self, layer: str, step: int = 0, evaluation: bool = False) -> None:
        self.layer, self.step, self.evaluation = layer, step, evaluation

    def on_fit_start(self, trainer) -> None:
        def hook(module, inputs, output):
            if module.training and not self.evaluation and trainer.global_step + 1 == self.step:
                return output * math.nan
            if not module.training and self.evaluation and trainer.epoch + 1 == 2:
                return output * math.nan
            return output

        dict(trainer.module.named_modules())[self.layer].register_forward_hook(hook)


def train_failing(tmp_path: Path, config: dict, **options) -> tuple[str, Path]:
    out = tmp_path / "runs"
    api_checkpointer = api.Checkpointer
    api.Checkpointer = harness.EveryEpoch  # every epoch written: every chance to leak
    try:
        with pytest.raises(TrainingError) as caught:
            gradwise.train(config, out=out, **options)
    finally:
        api.Checkpointer = api_checkpointer
    (run,) = out.iterdir()
    return str(caught.value), run


def assert_nothing_non_finite_kept(run: Path, failed_epoch: int) -> None:
    tensors: list[torch.Tensor] = []
    for path in (run / "checkpoints").glob("*.safetensors"):
        tensors += load_file(path).values()
    for path in (run / "checkpoints").glob("*.state.pt"):
        tensors += _tensors(torch.load(path, weights_only=True))
    assert tensors or failed_epoch == 1  # a checkpoint of each epoch before the failure
    assert all(torch.isfinite(t).all() for t in tensors if t.is_floating_point())
    epochs = [row["epoch"] for row in read_jsonl(run / "metrics.jsonl")]
    assert epochs == list(range(1, failed_epoch))
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "failed" and "non-finite" in summary["error"]


def _tensors(state) -> list[torch.Tensor]:
    if isinstance(state, torch.Tensor):
        return [state]
    if isinstance(state, dict):
        return [t for v in state.values() for t in _tensors(v)]
    if isinstance(state, (list, tuple)):
        return [t for v in state for t in _tensors(v)]
    return []


def test_a_nan_input(tmp_path: Path, paradigm: str):
    case = PARADIGMS.get(paradigm)
    step = case.epoch_2_step

    class Poisoned(Trainer):
        def train_step(self, batch):
            if self.global_step + 1 == step:
                case.poison_input(self, batch, math.nan)
            return super().train_step(batch)

    message, run = train_failing(tmp_path, case.config(tmp_path), trainer_class=Poisoned)
    assert f"{case.failure} at epoch 2, step {step}; " in message
    layer = f"first non-finite layer: {case.input_layer} (output)"
    assert f"{layer}; non-finite input: {case.input_name}" in message
    assert_nothing_non_finite_kept(run, failed_epoch=2)


def test_an_infinite_regression_target(tmp_path: Path):
    case = PARADIGMS.get("regression")
    step = case.epoch_2_step
    trainer_class = poison_batch("y", math.inf, step)
    message, run = train_failing(tmp_path, case.config(tmp_path), trainer_class=trainer_class)
    assert f"non-finite loss (inf) at epoch 2, step {step}; " in message
    layer = "none (the loss itself overflowed)"
    assert f"first non-finite layer: {layer}; non-finite input: batch['y']" in message
    assert_nothing_non_finite_kept(run, failed_epoch=2)


def test_a_nan_gradient(tmp_path: Path, paradigm: str):
    case = PARADIGMS.get(paradigm)
    callbacks = [PoisonGradient(case.first_layer, case.epoch_2_step)]
    message, run = train_failing(tmp_path, case.config(tmp_path), callbacks=callbacks)
    assert f"non-finite gradient at epoch 2, step {case.epoch_2_step}; " in message
    assert f"first non-finite layer: {case.first_layer}.weight (gradient)" in message
    assert_nothing_non_finite_kept(run, failed_epoch=2)


def test_a_layer_returning_nan(tmp_path: Path, paradigm: str):
    case = PARADIGMS.get(paradigm)
    callbacks = [PoisonOutput(case.first_layer, case.epoch_2_step)]
    message, run = train_failing(tmp_path, case.config(tmp_path), callbacks=callbacks)
    assert f"{case.failure} at epoch 2, step {case.epoch_2_step}; " in message
    assert f"first non-finite layer: {case.first_layer} (output)" in message
    assert_nothing_non_finite_kept(run, failed_epoch=2)


def test_a_nan_validation_loss(tmp_path: Path, paradigm: str):
    case = PARADIGMS.get(paradigm)
    if not case.validation:
        pytest.skip(f"a {paradigm} run has no validation split (no valid_loss to poison)")
    callbacks = [PoisonOutput(case.evaluated_layer, evaluation=True)]
    message, run = train_failing(tmp_path, case.config(tmp_path), callbacks=callbacks)
    step = 2 * case.steps_per_epoch
    assert f"non-finite valid_loss (nan) at epoch 2, step {step}; " in message
    assert f"first non-finite layer: {case.evaluated_layer} (output)" in message
    assert_nothing_non_finite_kept(run, failed_epoch=2)


def test_a_huge_learning_rate(tmp_path: Path):
    case = PARADIGMS.get("regression")
    config = case.config(tmp_path)
    config["train"] |= {"optimizer": {"name": "sgd", "lr": 10.0, "momentum": 0.0}, "epochs": 20}
    message, run = train_failing(tmp_path, config)
    found = re.search(r"non-finite loss \((nan|inf)\) at epoch (\d+), step (\d+); ", message)
    assert found, message
    epoch, step = int(found.group(2)), int(found.group(3))
    assert (epoch - 1) * case.steps_per_epoch < step <= epoch * case.steps_per_epoch
    layer = r"\S+ \((weights|output)\)|none \(the loss itself overflowed\)"
    assert re.search(f"first non-finite layer: ({layer});", message), message
    assert_nothing_non_finite_kept(run, failed_epoch=epoch)
