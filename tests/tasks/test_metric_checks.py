"""What is checked before training: monitored metric names against what the task logs (and the
logged names against a real run's logs), the model kind against the data's shape, class labels
that look like measured values; and per-class metric keys named by the class labels."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import gradwise
from gradwise.cli.main import main
from gradwise.errors import ConfigError, DataError
from gradwise.tasks.supervised import class_keys
from tests.conftest import tiny_config
from tests.tasks import toy_paradigm  # noqa: F401  (registers toy_gan)

QUIET = {"report": {"enabled": False}, "diagnose": {"enabled": False}}
IMBALANCED = {
    "source": "synthetic:classification",
    "options": {"n_samples": 400, "weights": [0.8, 0.2]},
}


def iris(**train) -> dict:
    return tiny_config("sklearn:iris", train={"epochs": 2, **train}, **QUIET)


def quiet_train(config: dict, out: Path, **kwargs) -> gradwise.Run:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gradwise.train(config, out=out, **kwargs)


# ------------------------------------------------------------------------------- metric names
@pytest.mark.parametrize("key", ["train.monitor", "train.early_stopping.monitor"])
def test_a_misspelt_monitor_fails_before_training_and_leaves_nothing(tmp_path: Path, key: str):
    out = tmp_path / "runs"
    with pytest.raises(ConfigError) as caught:
        gradwise.train(iris(), out=out, overrides=[f"{key}=valid_acc"])
    message = str(caught.value)
    assert message.startswith(f"{key}: the run logs no metric 'valid_acc'")
    assert "(did you mean 'valid_accuracy'?)" in message  # not the closer-spelt valid_auc
    assert message.endswith(
        "choose from: train_loss, valid_loss, valid_accuracy, valid_f1, valid_auc"
    )
    assert not out.exists()


def test_the_cli_says_it_in_one_line_with_status_2(tmp_path: Path, capsys):
    experiment = tmp_path / "exp.yaml"
    experiment.write_text(yaml.safe_dump(iris()))
    out = tmp_path / "runs"
    status = main(["train", str(experiment), "--out", str(out), "--set", "train.monitor=valid_f"])
    err = capsys.readouterr().err
    assert status == 2 and not out.exists()
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "train.monitor: the run logs no metric 'valid_f' (did you mean 'valid_f1'?)" in err


def test_without_validation_data(tmp_path: Path):
    # early stopping has no fallback: a valid_* monitor is refused before the first epoch
    with pytest.raises(ConfigError, match=r"^train.early_stopping.monitor: 'valid_loss' needs a "):
        gradwise.train(iris(early_stopping=2), out=tmp_path / "a", overrides={"data.valid": 0})
    assert not (tmp_path / "a").exists()
    # the checkpoint monitor keeps its rule: a valid_* name falls back to train_loss ...
    run = quiet_train(iris(monitor="valid_accuracy"), tmp_path / "b", overrides={"data.valid": 0})
    assert run.summary["monitor"] == "train_loss" and run.summary["best_epoch"] is not None
    # ... but a name the task never logs is still refused
    with pytest.raises(ConfigError, match=r"the run logs no metric 'valid_accurcy'"):
        gradwise.train(
            iris(monitor="valid_accurcy"), out=tmp_path / "c", overrides={"data.valid": 0}
        )


def test_a_tune_metric_the_runs_do_not_log_fails_before_the_study(tmp_path: Path):
    space = {"train.optimizer.lr": {"type": "float", "low": 1e-3, "high": 0.1, "log": True}}
    config = tiny_config("sklearn:iris", tune={"space": space, "metric": "valid_acc"})
    with pytest.raises(ConfigError, match=r"^tune.metric: .*did you mean 'valid_accuracy'"):
        gradwise.tune(config, trials=1, out=tmp_path / "study")
    assert not (tmp_path / "study").exists()


CASES = {
    "balanced classes": iris(),
    "imbalanced classes": tiny_config("", data=IMBALANCED, train={"epochs": 1}, **QUIET),
    "regression": tiny_config("synthetic:regression", task="regression", **QUIET),
    "two optimizers": tiny_config(
        "",
        task="toy_gan",
        data={"source": "synthetic:regression", "options": {"n_samples": 200}},
        **QUIET,
    ),
}


# (regression without a validation split is left out: reading it fails in the data layer,
# numeric_targets cannot reshape an empty split)
@pytest.mark.parametrize(
    ("case", "valid"),
    [(case, 0.2) for case in CASES] + [(case, 0.0) for case in CASES if case != "regression"],
)
def test_the_declared_names_are_what_a_run_logs(tmp_path: Path, case: str, valid: float):
    config = {**CASES[case], "train": {**CASES[case]["train"], "epochs": 1}}
    run = quiet_train(config, tmp_path, overrides={"data.valid": valid})
    engine_keys = {"train_time"}  # seconds, not a metric
    logged = {k for k in run.metrics[0] if k.startswith(("train_", "valid_"))} - engine_keys
    assert logged == set(run.task.logged_metrics(has_valid=valid > 0))
    if case == "imbalanced classes" and valid:
        assert {"valid_balanced_accuracy", "valid_recall_0", "valid_pr_auc"} <= logged


# ------------------------------------------------------------------------- per-class metric keys
def test_class_keys_are_safe_and_unique():
    assert class_keys(["yes", "no"]) == ["yes", "no"]
    assert class_keys(["Yes", "yes", "Not sure?"]) == ["yes", "yes_1", "not_sure"]
    assert class_keys([-1, 1, 2.5, True]) == ["minus_1", "1", "2_5", "true"]
    assert class_keys(["?", "!"]) == ["0", "1"]
    assert class_keys(["猫", "犬"]) == ["猫", "犬"]  # letters of any script are kept


def test_recall_keys_use_the_class_names(tmp_path: Path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 3))
    label = np.where(x[:, 0] > 0.9, "Yes", "No")  # ~18% yes: imbalanced
    table = tmp_path / "churn.csv"
    pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "churn": label}).to_csv(table)
    run = quiet_train(tiny_config(str(table), data={"target": "churn"}, **QUIET), tmp_path / "runs")
    assert {"recall_yes", "recall_no"} <= set(run.summary["test"])
    assert {"valid_recall_yes", "valid_recall_no"} <= set(run.metrics[0])
    assert not any(k.startswith("recall_0") for k in run.summary["test"])
    assert {"recall_yes", "recall_no"} <= set(gradwise.Run(run.path).evaluate())


# --------------------------------------------------------------------- the data vs the config
def table(tmp_path: Path, target: np.ndarray) -> str:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(len(target), 4)), columns=list("abcd"))
    frame["y"] = target
    path = tmp_path / "table.csv"
    frame.to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize(
    "model", [{"kind": "cnn1d", "channels": [4]}, {"kind": "rnn", "hidden_size": 4}]
)
def test_a_sequence_model_on_a_table_is_said(tmp_path: Path, model: dict):
    source = table(tmp_path, np.arange(120) % 2)
    config = tiny_config(source, data={"target": "y"}, **QUIET)
    config["model"], config["train"]["epochs"], kind = model, 1, model["kind"]
    with pytest.warns(
        UserWarning,
        match=rf"^model.kind: {kind} is made for signal data, but "
        r"the data is a table shaped \(4,\): .*; mlp is the model for a table$",
    ):
        gradwise.train(config, out=tmp_path / "runs")


def test_a_model_that_cannot_take_the_shape_is_an_error(tmp_path: Path):
    source = table(tmp_path, np.arange(120) % 2)
    config = tiny_config(source, data={"target": "y"}, **QUIET)
    config["model"] = {"kind": "cnn2d", "channels": [4]}
    with pytest.raises(DataError, match=r"^model.kind: cnn2d expects inputs shaped"):
        gradwise.train(config, out=tmp_path / "runs")
    assert not (tmp_path / "runs").exists()


def test_class_labels_that_look_like_values_are_said(tmp_path: Path):
    ages = np.random.default_rng(2).integers(1, 80, size=300)  # ~75 ages with gaps
    config = tiny_config(table(tmp_path, ages), data={"target": "y"}, **QUIET)
    config["train"]["epochs"] = 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gradwise.train(config, out=tmp_path / "runs")
    (said,) = [str(w.message) for w in caught if "looks like a measured value" in str(w.message)]
    assert said.startswith("data.target: 'y' has ") and said.endswith(
        "use task: regression to predict the value"
    )
    few = tiny_config(table(tmp_path, np.arange(300) % 3), data={"target": "y"}, **QUIET)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gradwise.train(few, out=tmp_path / "runs")
    assert not [w for w in caught if "measured value" in str(w.message)]
    assert not [w for w in caught if "model.kind" in str(w.message)]  # mlp suits a table
