"""End-to-end training through the Python API: the run directory, resume, predict, evaluate."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

import gradwise
from gradwise.errors import CheckpointError, DataError, TrainingError
from gradwise.training import Callback
from tests.conftest import tiny_config


def test_run_directory_layout(table_csv: Path, tmp_path: Path):
    run = gradwise.train(
        tiny_config(str(table_csv), data={"source": str(table_csv), "target": "label"}),
        out=tmp_path / "runs",
    )
    root = run.path
    for name in (
        "config.yaml",
        "metrics.jsonl",
        "summary.json",
        "preprocess.json",
        "checkpoints/last.safetensors",
        "checkpoints/last.state.pt",
        "checkpoints/best.safetensors",
    ):
        assert (root / name).is_file(), name
    lines = [json.loads(line) for line in (root / "metrics.jsonl").read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2, 3]
    assert {
        "train_loss",
        "valid_loss",
        "valid_accuracy",
        "valid_f1",
        "valid_auc",
        "lr",
        "time",
    } <= set(lines[0])
    summary = run.summary
    assert summary["status"] == "completed"
    assert set(summary["test"]) >= {"accuracy", "f1", "auc", "loss"}
    assert summary["best_epoch"] in (1, 2, 3)
    assert summary["parameters"] == sum(p.numel() for p in run.model.parameters())
    assert not list(root.rglob("*.tmp"))  # atomic writes leave no temp files
    # the resolved config is complete and loads again
    assert gradwise.load_config(root / "config.yaml").train.epochs == 3


def test_predict_applies_the_stored_preprocessing(table_csv: Path, tmp_path: Path):
    config = tiny_config(
        str(table_csv),
        data={"source": str(table_csv), "target": "label"},
        train={"epochs": 30, "batch_size": 64, "device": "cpu", "optimizer": {"lr": 0.01}},
    )
    run = gradwise.train(config, out=tmp_path)
    frame = pd.read_csv(table_csv)
    predicted = run.predict(frame.drop(columns="label"))
    assert set(predicted) <= {"yes", "no"}
    assert (predicted == frame["label"]).mean() > 0.8  # learned the rule
    proba = run.predict_proba(frame.drop(columns="label"))
    assert proba.shape == (len(frame), 2) and np.allclose(proba.sum(1), 1, atol=1e-5)
    # a fresh Run object (as `gradwise predict` would load it) gives identical predictions
    again = gradwise.Run(run.path).predict(frame.drop(columns="label"))
    assert (again == predicted).all()
    metrics = run.evaluate(table_csv)
    assert metrics["accuracy"] == pytest.approx((predicted == frame["label"]).mean())


def test_regression_reports_errors_in_original_units(regression_csv: Path, tmp_path: Path):
    config = tiny_config(
        str(regression_csv),
        task="regression",
        data={"source": str(regression_csv), "target": "price"},
        train={"epochs": 60, "batch_size": 32, "device": "cpu", "optimizer": {"lr": 0.01}},
    )
    run = gradwise.train(config, out=tmp_path)
    test = run.summary["test"]
    assert test["r2"] > 0.95
    frame = pd.read_csv(regression_csv)
    predicted = run.predict(frame.drop(columns="price"))
    rmse = float(np.sqrt(np.mean((predicted - frame["price"]) ** 2)))
    assert rmse < 0.25 * frame["price"].std()  # in price units, not standardized ones
    assert run.evaluate(regression_csv)["rmse"] == pytest.approx(rmse, rel=1e-4)


class StopAfter(Callback):
    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_epoch_end(self, trainer, epoch, logs):
        if epoch == self.epoch:
            raise KeyboardInterrupt


@pytest.mark.parametrize(
    "model",
    [
        {"kind": "mlp", "hidden": [16], "dropout": 0.2, "norm": "batch"},
        {"kind": "cnn1d", "channels": [4, 4], "dropout": 0.1},
        {"kind": "cnn1d", "channels": [4, 4], "ema": 0.9},  # live weights in the state
    ],
)
def test_resume_ends_with_the_same_weights(tmp_path: Path, model: dict):
    model = dict(model)
    ema = model.pop("ema", None)
    config = tiny_config(
        "synthetic:signals",
        model=model,
        data={"source": "synthetic:signals", "options": {"n_samples": 200}},
        train={
            "epochs": 4,
            "batch_size": 16,
            "device": "cpu",
            "schedule": {"name": "one_cycle"},
            "early_stopping": {"patience": 10},
            "ema": ema,
        },
    )
    whole = gradwise.train(config, out=tmp_path / "whole")
    with pytest.raises(KeyboardInterrupt):
        gradwise.train(config, out=tmp_path / "cut", callbacks=[StopAfter(2)])
    (cut_dir,) = (tmp_path / "cut").iterdir()
    assert json.loads((cut_dir / "summary.json").read_text())["status"] == "interrupted"
    resumed = gradwise.resume(cut_dir)
    for tag in ("last", "best"):
        a = load_file(whole.path / f"checkpoints/{tag}.safetensors")
        b = load_file(resumed.path / f"checkpoints/{tag}.safetensors")
        assert a.keys() == b.keys()
        for key in a:
            assert torch.equal(a[key], b[key]), (tag, key)
    assert [m["train_loss"] for m in whole.metrics] == [m["train_loss"] for m in resumed.metrics]
    assert resumed.summary["test"] == whole.summary["test"]


def steps_and_epochs(run: gradwise.Run) -> tuple[int, int, int, list[int]]:
    """Training rows, optimizer steps, epochs of the last training state, metrics epochs."""
    n_train = json.loads((run.path / "profile.json").read_text())["splits"]["train"]
    state = torch.load(run.path / "checkpoints/last.state.pt", weights_only=True)
    metrics = (run.path / "metrics.jsonl").read_text().splitlines()
    epochs = [json.loads(line)["epoch"] for line in metrics]
    return n_train, state["global_step"], state["epoch"], epochs


def test_full_batch_and_pure_sgd(tmp_path: Path):
    base = {"source": "synthetic:classification", "options": {"n_samples": 120}}
    full = gradwise.train(
        tiny_config("", data=base, train={"epochs": 2, "batch_size": "full", "device": "cpu"}),
        out=tmp_path,
    )
    assert full.summary["status"] == "completed" and full.summary["epochs_run"] == 2
    _, steps, epoch, epochs = steps_and_epochs(full)
    assert (steps, epoch, epochs) == (2, 2, [1, 2])  # one step per epoch
    sgd = gradwise.train(
        tiny_config(
            "",
            data=base,
            train={"epochs": 2, "batch_size": 1, "device": "cpu", "optimizer": {"name": "sgd"}},
        ),
        out=tmp_path,
    )
    assert sgd.summary["status"] == "completed" and sgd.summary["epochs_run"] == 2
    n_train, steps, epoch, epochs = steps_and_epochs(sgd)
    assert n_train > 1
    # one step per sample: batches of one are all kept, not dropped as a last lone sample
    assert (steps, epoch, epochs) == (2 * n_train, 2, [1, 2])


def test_early_stopping_on_a_monitored_metric(tmp_path: Path):
    config = tiny_config(
        "synthetic:classification",
        data={"source": "synthetic:classification", "options": {"n_samples": 200}},
        train={
            "epochs": 200,
            "device": "cpu",
            "optimizer": {"lr": 0.05},
            "early_stopping": {"patience": 3, "monitor": "valid_accuracy"},
        },
    )
    run = gradwise.train(config, out=tmp_path)
    summary = run.summary
    assert summary["stopped_early"] and summary["epochs_run"] < 200


def test_non_finite_loss_stops_with_step_and_layer_and_keeps_checkpoint(tmp_path: Path):
    # an lr that diverges after a few good epochs (lr 10 overflows within the first epoch,
    # before any checkpoint exists), so there is a last good checkpoint to keep
    config = tiny_config(
        "synthetic:regression",
        task="regression",
        data={"source": "synthetic:regression", "options": {"n_samples": 200}},
        train={
            "epochs": 50,
            "device": "cpu",
            "optimizer": {"name": "sgd", "lr": 0.5, "momentum": 0.9},
        },
    )
    with pytest.raises(TrainingError, match=r"non-finite loss .* at epoch \d+, step \d+") as caught:
        gradwise.train(config, out=tmp_path)
    failed_epoch = int(re.search(r"at epoch (\d+)", str(caught.value)).group(1))
    assert failed_epoch >= 2, "the setup must fail after a completed epoch"
    (run_dir,) = tmp_path.iterdir()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "failed" and "first non-finite layer" in summary["error"]
    weights = load_file(run_dir / "checkpoints/last.safetensors")
    assert weights and all(torch.isfinite(t.float()).all() for t in weights.values())
    state = torch.load(run_dir / "checkpoints/last.state.pt", weights_only=True)
    assert 1 <= state["epoch"] < failed_epoch  # a completed epoch before the failure


def test_l1_and_weight_decay_shrink_weights(tmp_path: Path):
    base = tiny_config(
        "synthetic:classification",
        data={"source": "synthetic:classification", "options": {"n_samples": 200}},
        train={"epochs": 20, "device": "cpu"},
    )
    plain = gradwise.train(base, out=tmp_path)
    l1 = gradwise.train({**base, "train": {**base["train"], "l1": 0.01}}, out=tmp_path)

    def weight_mass(run):
        return sum(p.abs().sum().item() for n, p in run.model.named_parameters() if p.dim() > 1)

    assert weight_mass(l1) < 0.7 * weight_mass(plain)


def test_user_errors_leave_no_run_directory(tmp_path: Path, table_csv: Path):
    with pytest.raises(DataError):
        gradwise.train(
            tiny_config(str(table_csv), data={"source": str(table_csv), "target": "nope"}),
            out=tmp_path / "runs",
        )
    assert not (tmp_path / "runs").exists()


def test_not_a_run_directory(tmp_path: Path):
    with pytest.raises(CheckpointError, match="not a gradwise run"):
        gradwise.Run(tmp_path)
    with pytest.raises(CheckpointError, match="no such run directory"):
        gradwise.Run(tmp_path / "missing")


class FakeTrainer:
    """Just what the checkpointer reads: a model, the epoch, the training state."""

    def __init__(self) -> None:
        self.module = torch.nn.Linear(2, 1)
        self.epoch = 0

    def state_dict(self) -> dict:
        return {"epoch": self.epoch}

    def step(self, checkpointer, loss: float) -> None:
        self.epoch += 1
        with torch.no_grad():
            self.module.weight.fill_(self.epoch)
        checkpointer.on_epoch_end(self, self.epoch, {"valid_loss": loss})


def saved_epoch(folder: Path, tag: str) -> float:
    return load_file(folder / f"{tag}.safetensors")["weight"][0, 0].item()


def test_checkpoints_are_paced_and_best_is_flushed(tmp_path: Path):
    from gradwise.api import Checkpointer

    checkpointer = Checkpointer(tmp_path, "valid_loss", interval=3600)
    trainer = FakeTrainer()
    trainer.step(checkpointer, 1.0)  # the first epoch is written at once
    assert saved_epoch(tmp_path, "last") == saved_epoch(tmp_path, "best") == 1
    trainer.step(checkpointer, 0.5)  # best, kept in memory: no write within the interval
    trainer.step(checkpointer, 0.7)
    assert saved_epoch(tmp_path, "last") == saved_epoch(tmp_path, "best") == 1
    checkpointer.flush_best()  # what a failed or interrupted run does
    assert saved_epoch(tmp_path, "best") == 2
    assert saved_epoch(tmp_path, "last") == 1
    checkpointer.on_fit_end(trainer, {})
    assert saved_epoch(tmp_path, "last") == 3
    assert torch.load(tmp_path / "last.state.pt", weights_only=True) == {"epoch": 3}

    checkpointer = Checkpointer(tmp_path / "every", "valid_loss", interval=0)
    trainer = FakeTrainer()
    for loss in (1.0, 0.5, 0.7):
        trainer.step(checkpointer, loss)
        assert saved_epoch(tmp_path / "every", "last") == trainer.epoch
    assert saved_epoch(tmp_path / "every", "best") == 2
