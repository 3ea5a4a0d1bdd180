"""``gradwise init FILE``: the file is opened, the target must be one of its columns, the task is
inferred from that column and said; a model not made for the data's shape is said."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from gradwise.cli.main import main
from gradwise.config import load_config
from tests.conftest import run_cli


@pytest.fixture
def people(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    n = 200
    frame = pd.DataFrame(
        {
            "age": rng.integers(1, 80, size=n),  # whole numbers, many distinct: values
            "income": rng.normal(50, 10, size=n),
            "grade": rng.integers(1, 4, size=n),  # few whole numbers: classes
            "member": rng.random(n) > 0.5,
            "city": rng.choice(["Lyon", "Oslo", "Kyiv"], size=n),
        }
    )
    path = tmp_path / "people.csv"
    frame.to_csv(path, index=False)
    frame.to_parquet(tmp_path / "people.parquet")
    return path


def init(capsys, *argv: str) -> tuple[int, str, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # said every time, not once per process
        status = main(["init", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_a_missing_file_is_an_error(tmp_path: Path):
    result = run_cli("init", str(tmp_path / "nonexist.csv"), "--target", "x")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == f"gradwise: error: init: file not found: '{tmp_path}/nonexist.csv'\n"


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_without_target_it_lists_the_columns(people: Path, capsys, suffix: str):
    path = people.with_suffix(suffix)
    status, out, err = init(capsys, str(path))
    assert status == 2 and out == ""
    assert err == (
        f"gradwise: error: init: pass --target COLUMN to say what to predict from '{path}'; "
        "columns: age, income, grade, member, city\n"
    )


def test_a_target_that_is_not_a_column(people: Path, capsys):
    status, out, err = init(capsys, str(people), "--target", "incom")
    assert status == 2 and out == ""
    assert err.startswith(
        f"gradwise: error: init --target: no column 'incom' in '{people}' "
        "(did you mean 'income'?); columns: age, income"
    )


@pytest.mark.parametrize(
    ("target", "task", "why"),
    [
        ("income", "regression", "numbers with 200 distinct values"),
        ("age", "regression", "whole numbers with"),
        ("grade", "classification", "3 distinct whole numbers"),
        ("member", "classification", "true/false values"),
        ("city", "classification", "text with 3 distinct values"),
    ],
)
def test_the_task_is_inferred_from_the_target_and_said(
    people: Path, capsys, tmp_path: Path, target: str, task: str, why: str
):
    status, out, _ = init(capsys, str(people), "--target", target)
    assert status == 0
    comment = f"# task: {task}, inferred from column '{target}' ({why}"
    assert comment in out
    written = tmp_path / "exp.yaml"
    written.write_text(out)
    config = load_config(written)
    assert (config.task, config.data.target) == (task, target)
    assert yaml.safe_load(out)["train"]["loss"] == (
        "mse" if task == "regression" else "cross_entropy"
    )


def test_parquet_reads_only_what_it_needs(people: Path, capsys):
    status, out, _ = init(capsys, str(people.with_suffix(".parquet")), "--target", "city")
    assert status == 0 and yaml.safe_load(out)["task"] == "classification"


def test_built_in_datasets_keep_their_catalog_targets(capsys):
    for name, target, task in [
        ("sklearn:iris", "target", "classification"),
        ("rdata:MASS/Boston", "medv", "regression"),
    ]:
        status, out, _ = init(capsys, name)
        written = yaml.safe_load(out)
        assert status == 0 and (written["data"]["target"], written["task"]) == (target, task)
        assert "inferred" not in out
    status, out, _ = init(capsys, "mnist1d")
    assert status == 0 and "target" not in yaml.safe_load(out)["data"]


def test_an_rdata_table_is_opened_for_another_target(capsys):
    status, out, _ = init(capsys, "rdata:ggplot2/diamonds", "--target", "cut")
    assert status == 0 and yaml.safe_load(out)["task"] == "classification"
    status, _, err = init(capsys, "rdata:ggplot2/diamonds", "--target", "clarty")
    assert status == 2 and "(did you mean 'clarity'?)" in err


def test_a_model_not_made_for_the_data_is_said(capsys):
    status, out, err = init(capsys, "mnist1d", "--model", "cnn2d")
    assert status == 0
    line = err.strip()
    assert line.startswith(
        "gradwise: warning: model.kind: cnn2d is made for image data, but mnist1d is signal data"
    )
    assert line.endswith("cnn1d is the model for signal data") and "\n" not in line
    assert "# note: model.kind: cnn2d is made for image data" in out
    assert yaml.safe_load(out)["model"]["kind"] == "cnn2d"  # said, not refused
    status, out, err = init(capsys, "mnist1d", "--model", "cnn1d")
    assert status == 0 and err == "" and "# note:" not in out


def test_task_flag_overrides_the_inferred_task(people: Path, capsys):
    code, out, _ = init(capsys, str(people), "--target", "grade", "--task", "regression")
    assert code == 0
    config = yaml.safe_load(out)
    assert config["task"] == "regression" and config["train"]["loss"] == "mse"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--task", "regresion"], "init --task: unknown task 'regresion' (did you mean"),
        (["--agent", "ppo"], "init --agent: only for a task with agents"),
    ],
)
def test_task_and_agent_flags_are_checked(people: Path, capsys, argv, message):
    code, out, err = init(capsys, str(people), "--target", "grade", *argv)
    assert code == 2 and out == ""
    assert message in err


@pytest.mark.parametrize(
    ("rows", "epochs", "batch", "lr"),
    [(200, 200, 128, 0.001), (6259, 146, 128, 0.001), (53_940, 34, 256, 0.002)],
)
def test_the_table_recipe_trains_about_the_same_number_of_steps(
    tmp_path: Path, capsys, rows: int, epochs: int, batch: int, lr: float
):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=rows), "y": rng.normal(size=rows)})
    frame.to_csv(tmp_path / "t.csv", index=False)
    status, out, _ = init(capsys, str(tmp_path / "t.csv"), "--target", "y")
    written = yaml.safe_load(out)
    assert status == 0 and f"# {rows} rows: {epochs} epochs of {batch}" in out
    assert (written["train"]["epochs"], written["train"]["batch_size"]) == (epochs, batch)
    assert written["train"]["optimizer"]["lr"] == lr
    model, data = written["model"], written["data"]
    assert model["numeric_embedding"] == "periodic" and data["one_hot_max"] == 9
    assert written["train"]["early_stopping"] == {"patience": 20}
    (tmp_path / "exp.yaml").write_text(out)
    load_config(tmp_path / "exp.yaml")  # valid as printed


def test_arrays_keep_their_own_recipe(capsys):
    status, out, _ = init(capsys, "mnist1d", "--model", "mlp")
    written = yaml.safe_load(out)
    assert status == 0 and "numeric_embedding" not in written["model"]
    assert "one_hot_max" not in written["data"]
