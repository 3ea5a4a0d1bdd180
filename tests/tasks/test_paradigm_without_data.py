"""A paradigm with no dataset (as reinforcement learning has an environment instead): no
targets, no splits, no preprocess.json — and `gradwise runs`, `report`, `doctor` and `Run`
still open its runs."""

from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import gradwise
from gradwise.cli.main import main
from gradwise.tasks import TASKS, Paradigm, Parts, TrainingData
from gradwise.training.engine import TensorSplit
from gradwise.training.optimizers import build_optimizer
from gradwise.training.schedules import build_schedules
from tests.conftest import tiny_config


class CurveFit(Paradigm):
    """Fits sin(x) on points it draws itself (a stand-in for an environment)."""

    needs_data = False

    def points(self, n: int, seed: int, device: torch.device) -> TensorSplit:
        generator = torch.Generator().manual_seed(seed)
        x = torch.rand(n, 1, generator=generator) * 6 - 3
        return TensorSplit({"x": x.to(device), "y": torch.sin(x).to(device)})

    def training_data(self, config, splits, device) -> TrainingData:
        return TrainingData(
            self.points(256, config.seed, device), self.points(64, config.seed + 1, device), None
        )

    def build_module(self, config, feature_shape) -> nn.Module:
        return nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))

    def build(self, config, data, device, augment) -> Parts:
        module = self.build_module(config, ()).to(device)
        optimizers = {"main": build_optimizer(module.parameters(), config.train.optimizer, device)}
        schedules = build_schedules(config.train, optimizers, len(data.train), True)
        return Parts(module, optimizers, schedules)

    def compute_loss(self, trainer, outputs, batch):
        return F.mse_loss(outputs, batch["y"])

    def train_step(self, trainer, batch):
        loss = trainer.compute_loss(self.forward(trainer, batch), batch)
        return {"loss": trainer.optimizer_step("main", loss)}

    def evaluate(self, trainer, split):
        outputs = trainer.predict_outputs(split["x"])
        return {"loss": trainer.compute_loss(outputs, split.tensors).item()}


if "toy_curve" not in TASKS:
    TASKS.register("toy_curve")(CurveFit)


def test_runs_without_data_are_trained_listed_reported_and_diagnosed(tmp_path: Path, capsys):
    config = tiny_config(
        "none", task="toy_curve", train={"epochs": 3, "batch_size": 32, "device": "cpu"}
    )
    run = gradwise.train(config, out=tmp_path)
    assert not (run.path / "preprocess.json").exists()
    assert not (run.path / "profile.json").exists()
    assert run.preprocessor is None and run.summary["status"] == "completed"
    assert "test" not in run.summary and run.summary["valid"]["loss"] > 0
    reopened = gradwise.Run(run.path)
    assert isinstance(reopened.model, nn.Sequential)  # rebuilt from the paradigm, weights loaded

    assert main(["runs", "--dir", str(tmp_path), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["task"] == "toy_curve"
    assert main(["report", str(run.path)]) == 0
    assert capsys.readouterr().out.strip() == str(run.path / "report.html")
    assert "toy_curve" in (run.path / "report.html").read_text()
    assert main(["doctor", str(run.path), "--json"]) == 0
    diagnosis = json.loads(capsys.readouterr().out)
    assert [f["code"] for f in diagnosis["findings"]] == ["healthy"]
    assert (run.path / "diagnosis.json").is_file()
    # it takes no input rows: predict and evaluate say so in one line
    rows = tmp_path / "rows.csv"
    rows.write_text("x\n1.0\n")
    assert main(["predict", str(run.path), str(rows), "-o", str(tmp_path / "out.csv")]) == 2
    assert main(["evaluate", str(run.path)]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 2 and all("a toy_curve run takes no input rows" in e for e in errors)
    assert not (tmp_path / "out.csv").exists()
