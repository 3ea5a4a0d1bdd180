"""``model.init_from`` end to end: loading by name and shape, the record, frozen weights that
stay put, input checks, every bad source as one line, and an exact resume while unfreezing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import gradwise
from gradwise.errors import ConfigError
from gradwise.report.context import ReportContext
from gradwise.report.transfer_sections import transfer as transfer_section
from gradwise.training import Callback
from tests.conftest import run_cli

MODEL = {"kind": "cnn1d", "channels": [4, 8], "hidden": [6]}


def signals(n_classes: int, length: int = 32, n: int = 160) -> dict:
    options = {"n_samples": n, "n_classes": n_classes, "length": length}
    return {"source": "synthetic:signals", "options": options}


def experiment(data: dict, model: dict | None = None, **train) -> dict:
    return {
        "name": "t",
        "seed": 0,
        "data": data,
        "model": {**MODEL, **(model or {})},
        "train": {"epochs": 2, "batch_size": 32, "device": "cpu", **train},
        "report": {"enabled": False},
        "diagnose": {"enabled": False},
    }


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> gradwise.Run:
    """A 4-class run to start from."""
    out = tmp_path_factory.mktemp("source")
    return gradwise.train(experiment(signals(4)), out=out)


def test_fine_tuning_loads_by_name_and_shape_and_keeps_frozen_weights(
    source: gradwise.Run, tmp_path: Path, capsys: pytest.CaptureFixture
):
    config = experiment(
        signals(2),  # two classes: the head is re-created
        {"init_from": str(source.path), "freeze": ["features"]},
        l1=0.01,
        optimizer={"name": "adamw", "lr": 0.01, "weight_decay": 0.5},
    )
    run = gradwise.train(config, out=tmp_path, quiet=False)
    record = run.summary["transfer"]
    rows = {row["name"]: row for row in record["load"]["tensors"]}
    assert rows["head.weight"]["status"] == "fresh"
    assert rows["head.weight"]["reason"] == "shape mismatch: source 4 × 6, re-created"
    assert rows["head.weight"]["shape"] == [2, 6]
    assert rows["features.0.0.weight"]["status"] == "loaded"
    assert record["load"]["loaded"] == len(rows) - 2 and record["load"]["unused"] == 0
    # the frozen layers (weights and batch-norm statistics) are the source's, in spite of
    # weight decay and L1; the rest trained
    before = load_file(source.path / "checkpoints/best.safetensors")
    after = load_file(run.path / "checkpoints/last.safetensors")
    for name, tensor in after.items():
        if name.startswith("features"):
            assert torch.equal(tensor, before[name]), name
    assert not torch.equal(after["dense.0.weight"], before["dense.0.weight"])
    assert not torch.equal(after["dense.1.running_mean"], before["dense.1.running_mean"])
    # parameter counts: the frozen ones are the features'
    features = sum(
        t.numel()
        for n, t in before.items()
        if n.startswith("features") and "running" not in n and "num_batches" not in n
    )
    counts = record["parameters"]["first_epoch"]
    assert counts["frozen"] == features
    assert counts["trainable"] + counts["frozen"] == run.summary["parameters"]
    # the source run's scaling is reused (same inputs, scaled as in pretraining)
    ours = json.loads((run.path / "preprocess.json").read_text())
    theirs = json.loads((source.path / "preprocess.json").read_text())
    assert (ours["offset"], ours["factor"]) == (theirs["offset"], theirs["factor"])
    # the log lines and the report section say the same
    err = capsys.readouterr().err
    assert f"transfer: from {source.path}: {len(rows) - 2} tensors loaded, 2 freshly" in err
    assert "fresh   head.weight  (shape mismatch: source 4 × 6, re-created)" in err
    html = transfer_section(ReportContext(run.path))
    assert html is not None and "head.weight" in html and "shape mismatch" in html
    assert f"{counts['frozen']:,}" in html


def test_a_safetensors_file_is_a_source_too(source: gradwise.Run, tmp_path: Path):
    weights = source.path / "checkpoints" / "best.safetensors"
    run = gradwise.train(
        experiment(signals(4), {"init_from": str(weights)}, epochs=1), out=tmp_path
    )
    load = run.summary["transfer"]["load"]
    assert load["fresh"] == 0 and load["weights"] == str(weights)
    assert load["inputs"] == "weights file: inputs not checked"


def test_discriminative_rates_reach_the_optimizer_and_the_record(tmp_path: Path):
    run = gradwise.train(
        experiment(signals(2), optimizer={"name": "sgd", "lr": 0.1, "lr_decay": 0.5}, epochs=1),
        out=tmp_path,
    )
    groups = run.summary["transfer"]["layer_groups"]
    assert [g["lr"] for g in groups] == pytest.approx([0.0125, 0.025, 0.05, 0.1])
    assert run.metrics[0]["lr"] == pytest.approx(0.1)  # the head's rate is the logged one
    state = torch.load(run.path / "checkpoints/last.state.pt", weights_only=True)
    lrs = [g["lr"] for g in state["optimizers"]["main"]["param_groups"]]
    assert lrs == pytest.approx([0.1, 0.05, 0.025, 0.0125])


class StopAfter(Callback):
    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_epoch_end(self, trainer, epoch, logs):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def test_resume_while_unfreezing_equals_an_uninterrupted_run(source: gradwise.Run, tmp_path: Path):
    config = experiment(
        signals(2),
        {"init_from": str(source.path), "freeze": ["*"]},
        epochs=3,
        unfreeze={"every": 1},
        optimizer={"name": "adam", "lr": 0.01, "lr_decay": 0.5},
    )
    whole = gradwise.train(config, out=tmp_path / "whole")
    with pytest.raises(KeyboardInterrupt):
        gradwise.train(config, out=tmp_path / "cut", callbacks=[StopAfter(2)])
    (cut,) = (tmp_path / "cut").iterdir()
    resumed = gradwise.resume(cut)
    a = load_file(whole.path / "checkpoints/last.safetensors")
    b = load_file(resumed.path / "checkpoints/last.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [m["train_loss"] for m in whole.metrics] == [m["train_loss"] for m in resumed.metrics]
    groups = whole.summary["transfer"]["layer_groups"]
    assert [g["trains_from_epoch"] for g in groups] == [None, 3, 2, 1]  # head first trains


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "no such run directory or .safetensors file"),
        ("pt_file", "expected a run directory or a .safetensors file, got a '.pt' file"),
        ("not_a_run", "not a gradwise run (missing config.yaml)"),
        ("other_model", "no tensor matches this model by name and shape"),
        ("other_length", "was trained on inputs shaped (1, 32), this data gives (1, 24)"),
        ("all_frozen", "freezes every parameter of the model in epoch 1"),
        ("damaged", "cannot read weights"),
    ],
)
def test_a_bad_source_is_one_line_and_writes_nothing(
    source: gradwise.Run, tmp_path: Path, case: str, message: str
):
    model: dict = {"init_from": str(source.path)}
    data = signals(2)
    if case == "missing":
        model["init_from"] = str(tmp_path / "nowhere")
    elif case == "pt_file":
        (tmp_path / "w.pt").write_bytes(b"x")
        model["init_from"] = str(tmp_path / "w.pt")
    elif case == "not_a_run":
        (tmp_path / "folder").mkdir()
        model["init_from"] = str(tmp_path / "folder")
    elif case == "other_model":
        model = {**model, "kind": "rnn"}
    elif case == "other_length":
        data = signals(2, length=24)
    elif case == "all_frozen":
        model["freeze"] = ["*"]
    elif case == "damaged":
        (tmp_path / "w.safetensors").write_bytes(b"not a tensor file")
        model["init_from"] = str(tmp_path / "w.safetensors")
    config = experiment(data, model)
    if case == "other_model":
        config["model"] = {"kind": "rnn", "init_from": model["init_from"]}
    with pytest.raises(ConfigError) as caught:
        gradwise.train(config, out=tmp_path / "runs")
    assert str(caught.value).startswith("model.")
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert not (tmp_path / "runs").exists()


def test_a_table_source_needs_the_same_columns(table_csv: Path, tmp_path: Path):
    mlp = {"kind": "mlp", "hidden": [8]}
    data = {"source": str(table_csv), "target": "label"}
    pretrained = gradwise.train({**experiment(data, epochs=1), "model": mlp}, out=tmp_path)
    frame = __import__("pandas").read_csv(table_csv).rename(columns={"x2": "height"})
    other = tmp_path / "other.csv"
    frame.to_csv(other, index=False)
    config = experiment({"source": str(other), "target": "label"}, epochs=1)
    config["model"] = {**mlp, "init_from": str(pretrained.path)}
    with pytest.raises(
        ConfigError, match=r"other input columns \(missing here: x2; new here: height\)"
    ):
        gradwise.train(config, out=tmp_path / "runs")
    # the same columns: checked, and the table encoding is this data's own
    config["data"]["source"] = str(table_csv)
    run = gradwise.train(config, out=tmp_path / "ok")
    assert run.summary["transfer"]["load"]["inputs"].startswith("same input columns")
    assert np.isfinite(run.summary["test"]["accuracy"])


def test_the_cli_says_a_bad_source_in_one_line(tmp_path: Path):
    config = tmp_path / "exp.yaml"
    config.write_text(
        "data: {source: 'synthetic:signals'}\n"
        "model: {kind: cnn1d, init_from: no_such_run}\n"
        "train: {epochs: 1}\n"
    )
    result = run_cli("train", str(config), "--out", str(tmp_path / "runs"), "--quiet")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "model.init_from" in lines[0]
    assert str(tmp_path / "no_such_run") in lines[0]  # relative to the experiment file


def test_the_l1_penalty_leaves_frozen_weights_out():
    from gradwise.config import load_config
    from gradwise.experiment import build_experiment, load_data

    config = load_config(experiment(signals(2), {"freeze": ["features"]}, l1=0.01))
    trainer = build_experiment(config, load_data(config)).trainer
    module = trainer.module
    assert trainer.l1_weights["main"] == [module.dense[0].weight, module.head.weight]
