"""What a person reads from the command line: epoch lines, the interrupt and resume messages,
``predict -o -``, ``runs --dir``, ``evaluate``'s loss and row count, error labels that say
where a value came from, and ``lr-find --write`` keeping the file's comments."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from pydantic import BaseModel, ValidationError, field_validator

import gradwise
from gradwise.cli.main import main
from gradwise.config import load_config
from gradwise.config.errors import format_validation_error
from gradwise.diagnose.lr_find import write_config_with_lr
from gradwise.errors import ConfigError
from gradwise.training.engine import Trainer
from tests.conftest import tiny_config
from tests.data.conftest import one_line

EPOCH_LINE = re.compile(
    r"^epoch (\d+)/3  loss \d+\.\d{4}  valid_loss \d+\.\d{4}  valid_accuracy \d\.\d{4}  "
    r"\d+\.\d\d s(  ETA \d\d:\d\d)?$"
)


def write_table(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"size": rng.normal(size=120), "shape": rng.choice(["a", "b"], 120)})
    frame["label"] = np.where(frame["size"] > 0, "big", "small")
    table = folder / "table.csv"
    frame.to_csv(table, index=False)
    return table


def write_experiment(folder: Path, table: Path, **sections) -> Path:
    config = tiny_config(
        str(table), data={"source": str(table), "target": "label"}, report={"enabled": False}
    )
    config.update(sections)
    path = folder / "exp.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny classification run on a table, and the table."""
    root = tmp_path_factory.mktemp("output")
    table = write_table(root)
    run = gradwise.train(write_experiment(root, table), out=root / "runs")
    return run.path, table


def user_error(capsys: pytest.CaptureFixture) -> str:
    """The one ``gradwise: error:`` line on stderr (nothing else there)."""
    captured = capsys.readouterr()
    error = one_line(captured.err.strip())
    assert error.startswith("gradwise: error: "), error
    return error.removeprefix("gradwise: error: ")


# ------------------------------------------------------------------------------ progress
def test_epoch_lines_on_stderr_when_not_a_terminal(tmp_path: Path, capsys):
    config = write_experiment(tmp_path, write_table(tmp_path))
    assert main(["train", str(config), "--out", str(tmp_path / "runs")]) == 0
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert [EPOCH_LINE.match(line)[1] for line in lines] == ["1", "2", "3"], captured.err
    assert "\r" not in captured.err and "ETA" not in lines[-1]
    assert captured.out.startswith("test: ")  # the summary stays on stdout

    assert main(["train", str(config), "--out", str(tmp_path / "runs"), "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    assert main(["train", str(config), "--out", str(tmp_path / "runs"), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["epochs_run"] == 3 and captured.err == ""


# ----------------------------------------------------------------------- interrupt/resume
def interrupt_at(monkeypatch: pytest.MonkeyPatch, epoch: int) -> None:
    """Ctrl-C while epoch ``epoch`` trains."""
    train_epoch = Trainer.train_epoch

    def interrupted(self: Trainer, train):
        if self.epoch + 1 == epoch:
            raise KeyboardInterrupt
        return train_epoch(self, train)

    monkeypatch.setattr(Trainer, "train_epoch", interrupted)


def test_interrupt_names_the_resume_command_and_a_finished_run_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    config = write_experiment(tmp_path, write_table(tmp_path))
    out = tmp_path / "runs"
    interrupt_at(monkeypatch, 2)
    assert main(["train", str(config), "--out", str(out), "--quiet"]) == 130
    (run_dir,) = out.iterdir()
    assert user_error(capsys) == f"interrupted; resume with: gradwise train --resume {run_dir}"
    monkeypatch.undo()

    assert main(["train", "--resume", str(run_dir), "--quiet"]) == 0
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["epochs_run"] == 3
    capsys.readouterr()
    # resuming the completed run trains nothing and rewrites nothing
    assert main(["train", "--resume", str(run_dir)]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"{run_dir}: already complete (3 epochs); nothing to resume\n"
    assert captured.err == ""
    assert json.loads((run_dir / "summary.json").read_text()) == summary


def test_interrupt_before_the_first_epoch_ended(tmp_path: Path, monkeypatch, capsys):
    config = write_experiment(tmp_path, write_table(tmp_path))
    interrupt_at(monkeypatch, 1)
    assert main(["train", str(config), "--out", str(tmp_path / "runs"), "--quiet"]) == 130
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert user_error(capsys) == (
        f"interrupted before the first epoch ended; nothing to resume in {run_dir}"
    )


# ------------------------------------------------------------------- predict, runs, evaluate
def test_predict_to_stdout(trained, tmp_path: Path, capsys):
    run_dir, table = trained
    inputs = tmp_path / "new.csv"
    pd.read_csv(table).drop(columns="label").to_csv(inputs, index=False)
    assert main(["predict", str(run_dir), str(inputs), "-o", str(tmp_path / "p.csv")]) == 0
    capsys.readouterr()
    assert main(["predict", str(run_dir), str(inputs), "-o", "-"]) == 0
    captured = capsys.readouterr()
    assert captured.out == (tmp_path / "p.csv").read_text() and captured.err == ""
    assert not (tmp_path / "-").exists()
    assert main(["predict", str(run_dir), str(inputs), "-o", "-", "--json"]) == 2
    assert "--json" in user_error(capsys)


def test_runs_in_a_missing_folder_is_an_error(tmp_path: Path, monkeypatch, capsys):
    assert main(["runs", "--dir", str(tmp_path / "none")]) == 2
    assert user_error(capsys) == f"runs --dir {tmp_path / 'none'}: no such folder"
    (tmp_path / "file").write_text("")
    assert main(["runs", "--dir", str(tmp_path / "file")]) == 2
    assert user_error(capsys).endswith(": not a folder")
    monkeypatch.chdir(tmp_path)  # no runs/ yet: the default folder is not an error
    assert main(["runs"]) == 0
    assert capsys.readouterr().out == "no runs under runs\n"


def test_evaluate_shows_loss_and_rows(trained, capsys):
    run_dir, table = trained
    summary = json.loads((run_dir / "summary.json").read_text())
    assert main(["evaluate", str(run_dir), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["rows"] == 24  # 20% of 120 rows
    assert metrics["loss"] == pytest.approx(summary["test"]["loss"], rel=1e-5)
    assert metrics["accuracy"] == pytest.approx(summary["test"]["accuracy"])

    assert main(["evaluate", str(run_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "24 rows of the test split"
    assert lines[2].split() == ["loss", f"{metrics['loss']:.4g}"]  # first, under the header
    assert main(["evaluate", str(run_dir), "--data", str(table), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 120


# --------------------------------------------------------------------------- error labels
def test_error_labels_say_where_the_value_came_from(trained, tmp_path: Path, capsys):
    run_dir, table = trained
    config = write_experiment(tmp_path, table, train={"epochs": 3.5})
    argv = ["train", str(config), "--out", str(tmp_path / "runs")]
    assert main(argv) == 2
    assert user_error(capsys).startswith(f"{config}: train.epochs: ")
    assert main([*argv, "--set", "model.dropout=2"]) == 2  # the file's problem comes first
    assert user_error(capsys).startswith("--set model.dropout=2: model.dropout: must be less")
    assert main([*argv, "--set", "train.epochs=2", "--set", "train.optimiser.lr=1"]) == 2
    assert user_error(capsys).startswith("--set train.optimiser.lr=1: train.optimiser: unknown")
    assert not (tmp_path / "runs").exists()

    assert main(["evaluate", str(run_dir), "--data", str(tmp_path / "nope.csv")]) == 2
    assert user_error(capsys) == f"--data: file not found: '{tmp_path / 'nope.csv'}'"
    no_shape = tmp_path / "no-shape.csv"
    pd.read_csv(table).drop(columns="shape").to_csv(no_shape, index=False)
    assert main(["evaluate", str(run_dir), "--data", str(no_shape)]) == 2
    assert user_error(capsys).startswith(f"--data {no_shape}: input is missing column(s) 'shape'")


def test_a_fractional_integer_says_got_once():
    with pytest.raises(ConfigError) as caught:
        load_config(tiny_config("synthetic:moons"), ["train.epochs=3.5"])
    assert str(caught.value) == (
        "--set train.epochs=3.5: train.epochs: must be a valid integer, "
        "got 3.5 (a number with a fractional part)"
    )
    with pytest.raises(ConfigError) as caught:  # a value in a mapping names its key
        load_config(tiny_config("synthetic:moons", seed=1.5))
    assert str(caught.value) == (
        "config: seed: must be a valid integer, got 1.5 (a number with a fractional part)"
    )


class Positive(BaseModel):
    x: float = 1.0

    @field_validator("x")
    @classmethod
    def positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError(f"must be > 0, got {value:g}")
        return value


def test_a_validator_that_says_what_it_got_is_not_repeated():
    with pytest.raises(ValidationError) as caught:
        Positive.model_validate({"x": -1})
    assert format_validation_error(caught.value, Positive) == "x: must be > 0, got -1"


# ------------------------------------------------------------------------- lr-find --write
COMMENTED = """\
# churn: my first experiment
name: churn
data:
  source: synthetic:moons   # built in, no file
train:
  epochs: 3
  # tried 0.1 first: it diverged
  optimizer: {name: adam, lr: 0.001}  # the default
"""


def test_lr_find_write_keeps_the_files_comments(tmp_path: Path):
    source = tmp_path / "exp.yaml"
    source.write_text(COMMENTED)
    written = write_config_with_lr(source, [], 0.0031, tmp_path / "tuned.yaml")
    assert written.read_text() == COMMENTED.replace("lr: 0.001", "lr: 0.0031")
    assert load_config(written).train.optimizer.lr == 0.0031
    write_config_with_lr(source, ["train.optimizer.lr=1"], 3e-5, written)  # an exponent
    assert written.read_text() == COMMENTED.replace("lr: 0.001", "lr: 3.0e-05")
    assert load_config(written).train.optimizer.lr == 3e-5


@pytest.mark.parametrize(
    ("text", "overrides"),
    [
        (COMMENTED.replace(", lr: 0.001", ""), []),  # no lr in the file: written anew
        (COMMENTED, ["train.epochs=5"]),  # another override: written anew, with it
    ],
)
def test_lr_find_write_falls_back_to_a_new_file(tmp_path: Path, text: str, overrides):
    source = tmp_path / "exp.yaml"
    source.write_text(text)
    written = write_config_with_lr(source, overrides, 0.02, tmp_path / "tuned.yaml")
    raw = yaml.safe_load(written.read_text())
    assert raw["train"]["optimizer"] == {"name": "adam", "lr": 0.02}
    assert raw["train"]["epochs"] == (5 if overrides else 3)


def test_lr_find_write_into_another_folder_keeps_the_data_file(tmp_path: Path):
    (tmp_path / "exp").mkdir()
    (tmp_path / "exp/rows.csv").write_text("a,b,label\n1,2,x\n3,4,y\n")
    source = tmp_path / "exp/exp.yaml"
    source.write_text(
        "# tuned below\ndata:\n  source: rows.csv  # next to this file\n  target: label\n"
        "train:\n  optimizer: {name: adam, lr: 0.001}\n"
    )
    written = write_config_with_lr(source, [], 0.01, tmp_path / "out/tuned.yaml")
    config = load_config(written)
    assert Path(config.data.source) == (tmp_path / "exp/rows.csv").resolve()
    assert config.train.optimizer.lr == 0.01
    assert "# next to this file" in written.read_text()  # still an edit of the same text
