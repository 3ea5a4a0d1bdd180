"""Multi-task runs end to end: per-target metrics in every place a run shows them (progress
line, metrics.jsonl, summary.json, evaluate, predict, the report), fixed and learned weights."""

from __future__ import annotations

import contextlib
import io
import json
import math
import warnings
from pathlib import Path

import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

import gradwise
from gradwise.cli.main import main
from gradwise.errors import CheckpointError
from gradwise.report import write_report
from tests.multitask.conftest import multitask_config

PER_TARGET = {
    "price_loss",
    "price_rmse",
    "price_mae",
    "price_r2",
    "cut_loss",
    "cut_accuracy",
    "cut_f1",
    "cut_auc",
}


def train_quietly(config: dict, out: Path) -> tuple[gradwise.Run, str]:
    """Train with the progress lines on; return the run and what they wrote."""
    stderr = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stderr(stderr):
        warnings.simplefilter("ignore")
        run = gradwise.train(config, out=out, quiet=False)
    return run, stderr.getvalue()


@pytest.fixture(scope="module")
def fixed(diamonds_csv: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("fixed")
    return train_quietly(multitask_config(diamonds_csv, loss_weights={"price": 2.0}), out)


@pytest.fixture(scope="module")
def learned(diamonds_csv: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("learned")
    config = multitask_config(diamonds_csv, loss_weights="uncertainty", epochs=6)
    config["train"]["optimizer"] = {"name": "adam", "lr": 0.05}  # s_t moves visibly in 6 epochs
    return train_quietly(config, out)


def test_every_epoch_logs_each_targets_loss_and_metrics(fixed):
    run, _ = fixed
    for line in run.metrics:
        assert {"train_loss", "train_price_loss", "train_cut_loss", "valid_loss"} <= set(line)
        assert {f"valid_{name}" for name in PER_TARGET} <= set(line)
        # fixed weights {price: 2, cut: 1 (left out)}: the total is their weighted sum
        assert line["valid_loss"] == pytest.approx(
            2.0 * line["valid_price_loss"] + line["valid_cut_loss"], rel=1e-5
        )
        assert not any(key.startswith("weight_") for key in line)  # nothing is learned


def test_the_progress_line_shows_each_targets_headline_metric(fixed):
    _, progress = fixed
    last = progress.strip().splitlines()[-1]
    assert last.startswith("epoch 4/4")
    assert "valid_price_rmse" in last and "valid_cut_accuracy" in last


def test_the_summary_has_per_target_test_metrics_and_the_weights(fixed):
    run, _ = fixed
    summary = run.summary
    assert PER_TARGET | {"loss"} <= set(summary["test"])
    assert summary["targets"] == {"price": "values", "cut": "labels"}
    assert summary["main_metric"] == "price_rmse"  # the first target's headline
    assert summary["loss_weights"] == {"kind": "fixed", "weights": {"price": 2.0, "cut": 1.0}}
    assert summary["test"]["price_rmse"] > 0 and 0 <= summary["test"]["cut_accuracy"] <= 1


def test_evaluate_reproduces_the_test_metrics_from_the_run_directory(fixed, diamonds_csv: Path):
    run, _ = fixed
    fresh = gradwise.Run(run.path)  # reads the test split again with the stored preprocessing
    measured = fresh.evaluate()
    for name in PER_TARGET:
        assert measured[name] == pytest.approx(run.summary["test"][name], rel=1e-4), name
    on_file = fresh.evaluate(str(diamonds_csv))  # every row, targets read from their columns
    assert on_file["rows"] == len(pd.read_csv(diamonds_csv))
    assert set(on_file) >= PER_TARGET


def cli(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    """``gradwise ARGV`` in this process (the warning printer it installs is put back)."""
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)
    return main(argv)


def test_predict_writes_a_column_per_target_and_class_probabilities(
    fixed, diamonds_csv: Path, monkeypatch: pytest.MonkeyPatch
):
    run, _ = fixed
    rows = pd.read_csv(diamonds_csv).head(5)
    values = run.predict(rows.drop(columns=["price", "cut"]))
    assert list(values.columns) == ["price", "cut"]
    assert set(values["cut"]) <= {"Fair", "Good", "Ideal"}
    out = run.path.parent / "predictions.csv"
    assert cli(["predict", str(run.path), str(diamonds_csv), "-o", str(out)], monkeypatch) == 0
    frame = pd.read_csv(out)
    assert list(frame.columns) == [
        "prediction_price",
        "prediction_cut",
        "proba_cut_Fair",
        "proba_cut_Good",
        "proba_cut_Ideal",
    ]
    probabilities = frame[["proba_cut_Fair", "proba_cut_Good", "proba_cut_Ideal"]]
    assert probabilities.sum(axis=1).to_numpy() == pytest.approx(1.0, abs=1e-6)
    winner = probabilities.to_numpy().argmax(axis=1)
    assert frame["prediction_cut"].tolist() == [["Fair", "Good", "Ideal"][k] for k in winner]


def test_predict_proba_gives_each_classification_target_its_probabilities(
    fixed, diamonds_csv: Path
):
    run, _ = fixed
    rows = pd.read_csv(diamonds_csv).head(5).drop(columns=["price", "cut"])
    assert run.classes == {"cut": ["Fair", "Good", "Ideal"]}
    proba = run.predict_proba(rows)
    assert list(proba) == ["cut"] and proba["cut"].shape == (5, 3)
    assert proba["cut"].sum(axis=1) == pytest.approx(1.0, abs=1e-6)
    labels = [run.classes["cut"][k] for k in proba["cut"].argmax(axis=1)]
    assert labels == run.predict(rows)["cut"].tolist()


def test_learned_weights_are_logged_each_epoch_and_kept_in_the_checkpoint(learned):
    run, _ = learned
    lines = run.metrics
    assert all({"weight_price", "weight_cut"} <= set(line) for line in lines)
    summary = run.summary["loss_weights"]
    assert summary["kind"] == "uncertainty"
    s = summary["log_variance"]
    # weight = c·exp(−s) with c = 1/2 for the value, 1 for the classes
    assert summary["weights"]["price"] == pytest.approx(0.5 * math.exp(-s["price"]), rel=1e-5)
    assert summary["weights"]["cut"] == pytest.approx(math.exp(-s["cut"]), rel=1e-5)
    assert lines[-1]["weight_price"] == pytest.approx(summary["weights"]["price"], rel=1e-5)
    assert abs(s["price"]) > 0.05 and abs(s["cut"]) > 0.05  # learned, not the starting 0
    stored = load_file(run.path / "checkpoints/last.safetensors")
    assert torch.allclose(stored["head.log_variance"], torch.tensor([s["price"], s["cut"]]))
    # the total logged is the uncertainty objective (it may be negative), not a plain sum
    line = lines[-1]
    assert line["valid_loss"] != pytest.approx(line["valid_price_loss"] + line["valid_cut_loss"])


def test_the_report_shows_each_target_and_the_learned_weights(learned):
    run, _ = learned
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = write_report(run.path, run.path / "report.html", run=run)
    html = (run.path / "report.html").read_text()
    assert {"results", "loss_weights"} <= set(result.sections)
    for text in ("price (values)", "cut (labels)", "learned loss weights per epoch", "log σ²"):
        assert text in html
    assert "could not be drawn" not in html


def test_the_cli_refuses_an_unknown_target_column_with_one_line(
    diamonds_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    config = multitask_config(diamonds_csv)
    config["data"]["target"] = ["price", "kut"]
    path = tmp_path / "exp.yaml"
    path.write_text(json.dumps(config))
    assert cli(["train", str(path), "--out", str(tmp_path / "runs")], monkeypatch) == 2
    stderr = capsys.readouterr().err
    assert stderr.strip().count("\n") == 0, stderr
    assert "data.target: column 'kut' not found" in stderr
    assert "did you mean 'cut'" in stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(diamonds_csv: Path, tmp_path):
    config = multitask_config(diamonds_csv, loss_weights="uncertainty", epochs=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = gradwise.train(config, out=tmp_path / "whole")
        short = gradwise.train({**config, "train": {**config["train"], "epochs": 2}}, out=tmp_path)
        resumed = gradwise.resume(short.path, overrides={"train.epochs": 4})
    ends = [load_file(run.path / "checkpoints/last.safetensors") for run in (whole, resumed)]
    assert ends[0].keys() == ends[1].keys()
    for name in ends[0]:
        assert torch.equal(ends[0][name], ends[1][name]), name


def test_two_value_targets_train_and_evaluate_from_disk(diamonds_csv: Path, tmp_path: Path):
    config = multitask_config(diamonds_csv, epochs=2)
    config["data"]["target"] = {"price": "regression", "depth": "regression"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = gradwise.train(config, out=tmp_path)
    measured = gradwise.Run(run.path).evaluate()
    for name in ("price_rmse", "depth_rmse", "depth_r2"):
        assert measured[name] == pytest.approx(run.summary["test"][name], rel=1e-4)
    assert run.summary["targets"] == {"price": "values", "depth": "values"}
    assert run.classes is None
    with pytest.raises(CheckpointError, match="predict_proba needs a classification"):
        run.predict_proba(pd.read_csv(diamonds_csv).head(2))
