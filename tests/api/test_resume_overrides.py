"""``train --resume RUN --set train.epochs=N`` trains on to N epochs (and says so in the run's
config); any other change, or a schedule drawn over the total length, is refused with the
reason and leaves the run as it was."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

import gradwise
from gradwise.cli.main import main
from gradwise.errors import ConfigError
from tests.conftest import tiny_config

QUIET = {"report": {"enabled": False}, "diagnose": {"enabled": False}}


def iris(epochs: int, schedule: str = "constant") -> dict:
    train = {"epochs": epochs, "schedule": {"name": schedule}}
    return tiny_config("sklearn:iris", train=train, **QUIET)


def quietly(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def last_weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(run_dir / "checkpoints/last.safetensors")


def saved_epochs(run_dir: Path) -> int:
    return yaml.safe_load((run_dir / "config.yaml").read_text())["train"]["epochs"]


@pytest.mark.parametrize("schedule", ["constant", "step", "exponential", "plateau"])
def test_training_longer_equals_training_that_long(tmp_path: Path, schedule: str):
    longer = quietly(gradwise.train, iris(5, schedule), out=tmp_path / "whole")
    short = quietly(gradwise.train, iris(3, schedule), out=tmp_path / "cut")
    resumed = quietly(gradwise.resume, short.path, overrides=["train.epochs=5"])
    assert resumed.path == short.path and saved_epochs(short.path) == 5
    assert [m["epoch"] for m in resumed.metrics] == [1, 2, 3, 4, 5]
    assert resumed.summary["epochs_run"] == 5 and resumed.summary["status"] == "completed"
    a, b = last_weights(longer.path), last_weights(resumed.path)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_the_cli_applies_the_override(tmp_path: Path, capsys):
    run = quietly(gradwise.train, iris(2), out=tmp_path)
    status = quietly(
        main, ["train", "--resume", str(run.path), "--set", "train.epochs=3", "--quiet"]
    )
    assert status == 0, capsys.readouterr().err
    assert "best epoch" in capsys.readouterr().out
    assert len(run.metrics) == 3 and saved_epochs(run.path) == 3


@pytest.mark.parametrize(
    ("schedule", "overrides", "message"),
    [
        (
            "constant",
            ["train.optimizer.lr=0.1", "model.hidden=[4]"],
            r"^--set: a resumed run keeps its config; cannot change model.hidden, "
            r"train.optimizer.lr \(only train.epochs can change",
        ),
        (
            "cosine",
            ["train.epochs=5"],
            r"^--set train.epochs: the cosine schedule of .* draws its learning rate over the "
            r"original 2 epochs",
        ),
        ("one_cycle", ["train.epochs=5"], r"the one_cycle schedule"),
        ("constant", ["train.epochs=1"], r"has trained 2 epochs already; give more than 2$"),
    ],
)
def test_what_cannot_change_is_refused_and_nothing_is_written(
    tmp_path: Path, schedule: str, overrides: list[str], message: str
):
    run = quietly(gradwise.train, iris(2, schedule), out=tmp_path)
    files = {p: p.read_bytes() for p in run.path.rglob("*") if p.is_file()}
    with pytest.raises(ConfigError, match=message):
        gradwise.resume(run.path, overrides=overrides)
    assert {p: p.read_bytes() for p in run.path.rglob("*") if p.is_file()} == files


def test_the_cli_refuses_in_one_line(tmp_path: Path, capsys):
    run = quietly(gradwise.train, iris(2), out=tmp_path)
    status = main(["train", "--resume", str(run.path), "--set", "train.batch_size=8"])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "cannot change train.batch_size" in err


def test_resuming_a_completed_run_through_the_api_leaves_it_as_it_is(tmp_path: Path):
    config = iris(3)
    config["train"]["early_stopping"] = {"patience": 1, "min_delta": 10.0}  # stops at epoch 2
    run = quietly(gradwise.train, config, out=tmp_path)
    files = {p: p.read_bytes() for p in run.path.rglob("*") if p.is_file()}
    again = quietly(gradwise.resume, run.path)
    assert again.path == run.path and again.summary["epochs_run"] == run.summary["epochs_run"]
    assert {p: p.read_bytes() for p in run.path.rglob("*") if p.is_file()} == files
