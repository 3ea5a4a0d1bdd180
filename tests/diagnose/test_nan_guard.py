"""The NaN guard: a non-finite loss or gradient stops training with the step and the first layer
that went non-finite, and the last good checkpoint stays intact."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from safetensors.torch import load_file

import gradwise
from gradwise.diagnose.doctor import diagnose
from gradwise.errors import TrainingError
from gradwise.training import Callback
from tests.conftest import tiny_config

STEPS_PER_EPOCH = 4  # iris: 105 training rows in batches of 32 → 4 steps


class PoisonGradient(Callback):
    """Turns one gradient entry of ``layer`` into NaN at optimizer step ``step`` (1-based)."""

    def __init__(self, step: int, layer: str = "body.0") -> None:
        self.step, self.layer = step, layer

    def on_after_backward(self, trainer) -> None:
        if trainer.global_step + 1 == self.step:
            module = dict(trainer.model.named_modules())[self.layer]
            module.weight.grad.view(-1)[0] = math.nan


def train_poisoned(tmp_path: Path, step: int) -> tuple[str, Path]:
    config = tiny_config("sklearn:iris", diagnose={"enabled": False}, report={"enabled": False})
    with pytest.raises(TrainingError) as caught:
        gradwise.train(config, out=tmp_path, callbacks=[PoisonGradient(step)])
    (run_dir,) = list(tmp_path.iterdir())
    return str(caught.value), run_dir


def assert_last_checkpoint_finite(run_dir: Path, epoch: int) -> None:
    tensors = load_file(str(run_dir / "checkpoints" / "last.safetensors"))
    assert all(t.isfinite().all() for t in tensors.values())
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == list(range(1, epoch + 1))


def test_nan_gradient_mid_epoch_stops_at_that_step(tmp_path: Path) -> None:
    message, run_dir = train_poisoned(tmp_path, step=STEPS_PER_EPOCH + 2)  # epoch 2, 2nd step
    assert f"non-finite gradient at epoch 2, step {STEPS_PER_EPOCH + 2}" in message
    assert "first non-finite layer: body.0.weight (gradient)" in message
    assert_last_checkpoint_finite(run_dir, epoch=1)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["error"] == message
    (finding,) = [f for f in diagnose(run_dir).findings if f.code == "non_finite_loss"]
    assert finding.evidence["step"] == STEPS_PER_EPOCH + 2
    assert finding.evidence["layer"] == "body.0.weight (gradient)"


def test_nan_gradient_on_the_last_step_never_reaches_the_checkpoint(tmp_path: Path) -> None:
    # the loss of the poisoned step is finite, its gradient is not: the step is refused before
    # the optimizer steps, so epoch 2's checkpoint is never written
    message, run_dir = train_poisoned(tmp_path, step=2 * STEPS_PER_EPOCH)
    assert f"non-finite gradient at epoch 2, step {2 * STEPS_PER_EPOCH}" in message
    assert "body.0.weight (gradient)" in message
    assert_last_checkpoint_finite(run_dir, epoch=1)
