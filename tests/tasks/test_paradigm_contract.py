"""The engine contract, proven by a paradigm and an engine subclass that live only here.

A toy GAN (two models, two optimizers, alternating updates, its own noise stream) trains,
checkpoints, is killed with SIGKILL and resumed bit-identically, and gets a report; a Trainer
subclass overrides one step. Neither needs an edit to ``src/``.
"""

from __future__ import annotations

import json
import textwrap
import warnings
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import gradwise
from gradwise.errors import ConfigError
from gradwise.tasks import TASKS
from gradwise.training.engine import Trainer
from tests.conftest import run_python, tiny_config
from tests.tasks import toy_paradigm  # noqa: F401  (registers toy_gan)

ROOT = Path(__file__).resolve().parents[2]
TABLE = {"source": "synthetic:regression", "options": {"n_samples": 240, "n_features": 3}}


def toy_config(**train) -> dict:
    return tiny_config(
        "",
        task="toy_gan",
        data=TABLE,
        train={"epochs": 5, "batch_size": 32, "device": "cpu", "monitor": "valid_loss", **train},
        diagnose={"enabled": True, "every": 3},
        report={"enabled": False},
    )


def quiet_train(config: dict, out: Path, **kwargs) -> gradwise.Run:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gradwise.train(config, out=out, **kwargs)


def weights(run_dir: Path, tag: str) -> dict[str, torch.Tensor]:
    return load_file(run_dir / f"checkpoints/{tag}.safetensors")


def test_the_task_choices_come_from_the_registry():
    from gradwise.config import load_config

    assert "toy_gan" in TASKS.names()
    assert load_config(toy_config()).task == "toy_gan"
    with pytest.raises(ConfigError, match=r"unknown task 'toy_ga' \(did you mean 'toy_gan'\?\)"):
        load_config({**toy_config(), "task": "toy_ga"})


def test_a_paradigm_with_two_optimizers_trains_checkpoints_both_and_is_diagnosed(tmp_path: Path):
    run = quiet_train(toy_config(), tmp_path)
    metrics = run.metrics
    assert len(metrics) == 5
    assert {
        "train_discriminator_loss",
        "train_generator_loss",
        "valid_discriminator_accuracy",
    } <= set(metrics[0])
    assert {"lr_discriminator", "lr_generator"} <= set(metrics[0])
    state = torch.load(run.path / "checkpoints/last.state.pt", weights_only=True)
    assert set(state["optimizers"]) == {"discriminator", "generator"}
    assert set(state["schedules"]) == {"discriminator", "generator"}
    assert {"order", "augment", "noise"} <= set(state["generators"])
    assert all(o["state"] for o in state["optimizers"].values())  # both stepped
    n_train = json.loads((run.path / "profile.json").read_text())["splits"]["train"]
    assert state["global_step"] == 5 * -(-n_train // 32)  # one step per batch, both updates
    # the collector sampled both updates of a step: every layer has its own gradient norm
    lines = [json.loads(line) for line in (run.path / "diagnostics.jsonl").read_text().splitlines()]
    names = {layer["name"] for layer in lines[0]["layers"]}
    assert {"generator.0", "discriminator.0"} <= names
    assert all(layer["grad_norm"] is not None for line in lines for layer in line["layers"])
    assert run.summary["status"] == "completed" and run.summary["main_metric"] == (
        "discriminator_accuracy"
    )


KILLER = textwrap.dedent(
    """
    import os, signal, sys, warnings
    warnings.simplefilter("ignore")
    import gradwise
    from gradwise.training.callbacks import Callback
    from tests.tasks import toy_paradigm  # registers toy_gan
    from tests.tasks.test_paradigm_contract import toy_config

    class KillAt(Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            if epoch == 3:
                os.kill(os.getpid(), signal.SIGKILL)

    gradwise.train(toy_config(), out=sys.argv[1], callbacks=[KillAt()])
    """
)


def test_killed_and_resumed_it_ends_bit_identical_to_an_uninterrupted_run(tmp_path: Path):
    whole = quiet_train(toy_config(), tmp_path / "whole")
    killed = run_python("-c", KILLER, str(tmp_path / "cut"), cwd=ROOT)
    assert killed.returncode == -9, killed.stderr
    (cut_dir,) = (tmp_path / "cut").iterdir()
    assert json.loads((cut_dir / "summary.json").read_text())["status"] == "running"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        resumed = gradwise.resume(cut_dir)
    for tag in ("last", "best"):
        a, b = weights(whole.path, tag), weights(resumed.path, tag)
        assert a.keys() == b.keys() and {k.split(".")[0] for k in a} == {
            "generator",
            "discriminator",
        }
        for key in a:
            assert torch.equal(a[key], b[key]), (tag, key)
    series = ["train_loss", "train_generator_loss", "valid_discriminator_accuracy"]
    assert [[m[k] for k in series] for m in whole.metrics] == [
        [m[k] for k in series] for m in resumed.metrics
    ]
    assert resumed.summary["status"] == "completed"
    states = [
        torch.load(run.path / "checkpoints/last.state.pt", weights_only=True)
        for run in (whole, resumed)
    ]
    assert (
        states[0]["paradigm"] == states[1]["paradigm"] == {"updates": 2 * states[0]["global_step"]}
    )


def test_the_run_gets_a_report_and_is_listed(tmp_path: Path):
    from gradwise.cli.main import main

    run = quiet_train(toy_config(epochs=2), tmp_path)
    assert main(["report", str(run.path)]) == 0
    page = (run.path / "report.html").read_text()
    assert "toy_gan" in page and "discriminator_accuracy" in page
    assert main(["runs", "--dir", str(tmp_path)]) == 0


class DoubledLoss(Trainer):
    """Overrides one step: the loss is doubled, in training and validation alike."""

    def compute_loss(self, outputs, batch):
        return 2.0 * super().compute_loss(outputs, batch)


def test_an_engine_subclass_overrides_one_step_for_training_and_validation(tmp_path: Path):
    config = tiny_config(
        "",
        data={"source": "synthetic:classification", "options": {"n_samples": 200}},
        train={
            "epochs": 1,
            "batch_size": 32,
            "device": "cpu",
            "optimizer": {"name": "sgd", "lr": 1e-12},
        },
        diagnose={"enabled": False},
        report={"enabled": False},
    )
    plain = quiet_train(config, tmp_path / "plain")
    doubled = quiet_train(config, tmp_path / "doubled", trainer_class=DoubledLoss)
    (a,), (b,) = plain.metrics, doubled.metrics  # lr ~0: the same weights throughout
    assert b["valid_loss"] == pytest.approx(2 * a["valid_loss"], rel=1e-6)
    assert b["train_loss"] == pytest.approx(2 * a["train_loss"], rel=1e-6)
