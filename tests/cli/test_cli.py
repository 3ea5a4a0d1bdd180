"""The command line end to end on tiny data: outputs, JSON, and one-line user errors."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.conftest import run_cli, run_cli_torch_free, tiny_config
from tests.data.conftest import one_line


def write_config(path: Path, config: dict) -> Path:
    path.write_text(yaml.safe_dump(config))
    return path


def assert_user_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """A user error: exit status 2 and stderr exactly one ``gradwise: error:`` line (no
    traceback, no warnings around it) holding every fragment."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    error = one_line(result.stderr.strip())
    assert error.startswith("gradwise: error:"), error
    for fragment in fragments:
        assert fragment in error, error


@pytest.fixture
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny classification run trained through the CLI, and the table it was trained on."""
    root = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"size": rng.normal(size=120), "shape": rng.choice(["a", "b"], 120)})
    frame["label"] = np.where(frame["size"] > 0, "big", "small")
    table = root / "table.csv"
    frame.to_csv(table, index=False)
    config = write_config(
        root / "exp.yaml", tiny_config(str(table), data={"source": str(table), "target": "label"})
    )
    result = run_cli("train", str(config), "--out", str(root / "runs"), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)  # stdout holds exactly one JSON document
    return Path(summary["run_dir"]), table


def test_help_and_datasets_do_not_import_torch():
    result = run_cli_torch_free(["datasets"])
    assert result.returncode == 0, result.stderr
    assert "mnist1d" in result.stdout


@pytest.mark.parametrize(
    "argv", [["--help"], ["init", "--help"], ["init", "mnist1d"], ["runs", "--dir", "no-runs"]]
)
def test_commands_that_do_not_train_do_not_import_torch(argv: list[str]):
    result = run_cli_torch_free(argv)
    assert result.returncode == 0, result.stderr


def test_datasets_json_lists_size_kind_task():
    result = run_cli("datasets", "--json")
    entries = {d["name"]: d for d in json.loads(result.stdout)}
    assert entries["mnist1d"]["kind"] == "signal" and entries["mnist1d"]["rows"] == 5000
    assert entries["sklearn:iris"]["targets"] == "labels"


def test_init_prints_a_config_that_validates(tmp_path: Path):
    from gradwise.config import load_config

    for model in ("mlp", "cnn1d", "rnn"):
        result = run_cli("init", "mnist1d", "--model", model)
        assert result.returncode == 0
        path = tmp_path / f"{model}.yaml"
        path.write_text(result.stdout)
        assert load_config(path).model.kind == model
    assert_user_error(
        run_cli("init", "mnist2d"), "unknown dataset 'mnist2d'", "did you mean 'mnist1d'"
    )


def test_train_predict_evaluate_runs(trained_run: tuple[Path, Path], tmp_path: Path):
    run_dir, table = trained_run
    inputs = tmp_path / "new.csv"
    pd.read_csv(table).drop(columns="label").to_csv(inputs, index=False)
    out = tmp_path / "pred.csv"
    result = run_cli("predict", str(run_dir), str(inputs), "-o", str(out))
    assert result.returncode == 0, result.stderr
    predictions = pd.read_csv(out)
    assert list(predictions.columns) == ["prediction", "proba_big", "proba_small"]
    assert len(predictions) == 120
    assert np.allclose(predictions[["proba_big", "proba_small"]].sum(axis=1), 1, atol=1e-5)

    result = run_cli("evaluate", str(run_dir), "--json")
    metrics = json.loads(result.stdout)
    assert 0 <= metrics["accuracy"] <= 1 and "f1" in metrics
    result = run_cli("evaluate", str(run_dir), "--data", str(table), "--json")
    assert json.loads(result.stdout)["accuracy"] == pytest.approx(
        (predictions["prediction"] == pd.read_csv(table)["label"]).mean()
    )

    result = run_cli("runs", "--dir", str(run_dir.parent), "--json")
    (row,) = json.loads(result.stdout)
    assert row["run"] == run_dir.name and row["task"] == "classification"
    assert row["model"] == "mlp" and row["metric"] == "accuracy"
    table_text = run_cli("runs", "--dir", str(run_dir.parent)).stdout
    assert run_dir.name in table_text and "accuracy" in table_text


def test_train_with_set_overrides_and_resume_of_a_finished_run(tmp_path: Path):
    config = write_config(
        tmp_path / "exp.yaml",
        tiny_config(
            "synthetic:moons", data={"source": "synthetic:moons", "options": {"n_samples": 100}}
        ),
    )
    result = run_cli(
        "train",
        str(config),
        "--out",
        str(tmp_path / "runs"),
        "--json",
        "--set",
        "train.epochs=2",
        "--set",
        "model.hidden=[8, 8]",
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["epochs_run"] == 2
    saved = yaml.safe_load((Path(summary["run_dir"]) / "config.yaml").read_text())
    assert saved["model"]["hidden"] == [8, 8]
    # resuming a finished run trains no more epochs and keeps the result
    resumed = run_cli("train", "--resume", summary["run_dir"], "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["epochs_run"] == 2


# ----------------------------------------------------------------------------- bad input
def _bad(tmp_path: Path, data: dict, **sections) -> subprocess.CompletedProcess:
    config = write_config(
        tmp_path / "bad.yaml", tiny_config(data.get("source", ""), data=data, **sections)
    )
    return run_cli("train", str(config), "--out", str(tmp_path / "runs"))


def test_missing_file(tmp_path: Path):
    assert_user_error(
        _bad(tmp_path, {"source": str(tmp_path / "nope.csv"), "target": "y"}), "nope.csv"
    )
    assert not (tmp_path / "runs").exists()


def test_missing_experiment_file(tmp_path: Path):
    assert_user_error(run_cli("train", str(tmp_path / "none.yaml")), "no such experiment file")


def test_empty_file(tmp_path: Path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert_user_error(_bad(tmp_path, {"source": str(empty), "target": "y"}), "empty.csv")
    assert not (tmp_path / "runs").exists()


def test_missing_target_column_lists_columns(tmp_path: Path, table_csv: Path):
    result = _bad(tmp_path, {"source": str(table_csv), "target": "lable"})
    assert_user_error(result, "lable", "label")
    assert not (tmp_path / "runs").exists()


def test_non_numeric_regression_target(tmp_path: Path, table_csv: Path):
    result = _bad(tmp_path, {"source": str(table_csv), "target": "color"}, task="regression")
    assert_user_error(result, "color", "numeric")


def test_single_class(tmp_path: Path):
    path = tmp_path / "one.csv"
    pd.DataFrame({"x": range(20), "y": ["a"] * 20}).to_csv(path, index=False)
    assert_user_error(_bad(tmp_path, {"source": str(path), "target": "y"}), "class")


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("train.optimizer.lr=-0.1", "train.optimizer.lr: must be greater than 0"),
        ("model.dropout=1.0", "model.dropout: must be less than 1"),
        ("train.optimiser.lr=0.1", "train.optimiser: unknown key (did you mean 'optimizer'?)"),
        ("train.epochs=many", "train.epochs"),
    ],
)
def test_bad_config_values(tmp_path: Path, override: str, fragment: str):
    config = write_config(tmp_path / "exp.yaml", tiny_config("synthetic:moons"))
    result = run_cli("train", str(config), "--set", override, "--out", str(tmp_path / "runs"))
    assert_user_error(result, fragment)
    assert not (tmp_path / "runs").exists()


def test_predict_with_missing_columns_and_unseen_categories_as_unknown(trained_run, tmp_path: Path):
    run_dir, table = trained_run
    frame = pd.read_csv(table).drop(columns="label")
    missing = tmp_path / "missing.csv"
    frame.drop(columns="shape").to_csv(missing, index=False)
    out = tmp_path / "p.csv"
    assert_user_error(run_cli("predict", str(run_dir), str(missing), "-o", str(out)), "shape")
    assert not out.exists()
    unseen = tmp_path / "unseen.csv"
    frame.assign(shape="zzz").to_csv(unseen, index=False)  # a new category: unknown, said
    result = run_cli("predict", str(run_dir), str(unseen), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "shape: 'zzz'" in result.stderr and f"({len(frame)} rows)" in result.stderr
    assert len(pd.read_csv(out)) == len(frame)


def test_a_folder_that_is_not_a_run(tmp_path: Path):
    assert_user_error(run_cli("evaluate", str(tmp_path)), "not a gradwise run")
    assert_user_error(
        run_cli("predict", str(tmp_path / "x"), "in.csv", "-o", "o.csv"), "no such run directory"
    )
    assert_user_error(run_cli("train", "--resume", str(tmp_path)), "not a gradwise run")
