"""``track:`` — what a run sends to TensorBoard and MLflow, read back through each library's own
reader (``EventAccumulator``, ``MlflowClient``) and compared with the run's own files."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gradwise
from gradwise._io import read_jsonl
from gradwise.errors import ConfigError
from gradwise.tracking.summaries import diagnostics_summary
from gradwise.training.callbacks import Callback
from tests.conftest import run_python, tiny_config

EPOCHS = 3


def tracked_config(**track: Any) -> dict[str, Any]:
    return tiny_config(
        "sklearn:iris",
        train={"epochs": EPOCHS, "batch_size": 16},
        diagnose={"every": 3},
        track=track,
    )


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[gradwise.Run, str]:
    """A run tracked to TensorBoard (in the run directory) and to a SQLite MLflow store."""
    folder = tmp_path_factory.mktemp("tracked")
    uri = f"sqlite:///{folder / 'store' / 'mlflow.db'}"
    (folder / "store").mkdir()
    config = tracked_config(tensorboard=True, mlflow=uri, experiment="iris-tests")
    return gradwise.train(config, out=folder / "runs"), uri


def scalars(log_dir: Path) -> tuple[Any, dict[str, dict[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "tensors": 0})
    events.Reload()
    series = {
        tag: {event.step: event.value for event in events.Scalars(tag)}
        for tag in events.Tags()["scalars"]
    }
    return events, series


def epoch_oracle(run: gradwise.Run) -> dict[str, dict[int, float]]:
    """What should have been tracked per epoch, from metrics.jsonl and diagnostics.jsonl."""
    expected: dict[str, dict[int, float]] = {}
    samples = read_jsonl(run.paths.diagnostics)
    for record in run.metrics:
        epoch = record["epoch"]
        numbers = {k: v for k, v in record.items() if k != "epoch"}
        numbers |= diagnostics_summary([s for s in samples if s["epoch"] == epoch])
        for key, value in numbers.items():
            expected.setdefault(key, {})[epoch] = value
    return expected


def test_tensorboard_holds_epoch_metrics_diagnostics_and_hyperparameters(both):
    run, _ = both
    events, series = scalars(run.path / "tensorboard")
    expected = epoch_oracle(run)
    assert any(key.startswith("grad_norm/") for key in expected)  # diagnostics were sampled
    for tag, by_epoch in expected.items():
        assert series[tag].keys() == by_epoch.keys(), tag
        np.testing.assert_allclose(
            [series[tag][e] for e in by_epoch], list(by_epoch.values()), rtol=1e-6, err_msg=tag
        )
    for key, value in run.summary["test"].items():
        assert series[f"test_{key}"] == {EPOCHS: pytest.approx(value, rel=1e-6)}

    from tensorboard.plugins.hparams import plugin_data_pb2

    content = events.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    hparams = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info.hparams
    assert hparams["train.optimizer.lr"].number_value == pytest.approx(1e-3)
    assert hparams["model.kind"].string_value == "mlp"
    assert hparams["data.source"].string_value == "sklearn:iris"
    config_text = events.Tensors("config/text_summary")[0].tensor_proto.string_val[0].decode()
    assert "name: tiny" in config_text
    report_text = events.Tensors("report/text_summary")[0].tensor_proto.string_val[0].decode()
    assert str(run.paths.report) in report_text


def test_mlflow_holds_params_metrics_report_and_status(both):
    from mlflow.tracking import MlflowClient

    run, uri = both
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("iris-tests")
    (tracked,) = client.search_runs([experiment.experiment_id])
    assert tracked.info.run_name == run.path.name
    assert tracked.info.status == "FINISHED"
    assert tracked.data.tags["gradwise.run_dir"] == str(run.path.resolve())
    params = tracked.data.params
    assert params["train.optimizer.lr"] == "0.001"
    assert params["train.epochs"] == str(EPOCHS)
    assert params["model.hidden"] == "[16]"
    for key, by_epoch in epoch_oracle(run).items():
        history = client.get_metric_history(tracked.info.run_id, key)
        assert {m.step: m.value for m in history} == pytest.approx(by_epoch, rel=1e-6), key
    assert tracked.data.metrics["test_accuracy"] == pytest.approx(run.summary["test"]["accuracy"])
    artifacts = {a.path for a in client.list_artifacts(tracked.info.run_id)}
    assert artifacts == {"report.html", "config.yaml"}
    # the artifacts live beside the database, not in the current folder
    store = Path(uri.removeprefix("sqlite:///")).parent
    assert (store / "mlartifacts").is_dir()
    assert not Path("mlruns").exists() and not Path("mlartifacts").exists()


def test_a_tensorboard_folder_and_a_file_store(tmp_path: Path, monkeypatch):
    from mlflow.tracking import MlflowClient

    monkeypatch.chdir(tmp_path)  # relative paths are the current folder's
    config = tracked_config(tensorboard="boards", mlflow="file:./mlruns")
    config["report"] = {"enabled": False}
    run = gradwise.train(config, out="runs")
    assert run.config.track.tensorboard == str(tmp_path / "boards")
    _, series = scalars(tmp_path / "boards" / run.path.name)
    assert sorted(series["train_loss"]) == [1, 2, 3]
    client = MlflowClient(tracking_uri=run.config.track.mlflow)
    (tracked,) = client.search_runs([client.get_experiment_by_name("tiny").experiment_id])
    assert [a.path for a in client.list_artifacts(tracked.info.run_id)] == ["config.yaml"]
    assert len(client.get_metric_history(tracked.info.run_id, "train_loss")) == EPOCHS


def test_a_resumed_run_goes_on_in_the_same_mlflow_run(tmp_path: Path):
    from mlflow.tracking import MlflowClient

    uri = (tmp_path / "mlruns").as_uri()  # a file store: no database to set up
    config = tracked_config(mlflow=uri)
    config["report"] = {"enabled": False}
    config["train"]["epochs"] = 2
    first = gradwise.train(config, out=tmp_path / "runs")
    gradwise.resume(first.path, overrides=["train.epochs=4"])
    client = MlflowClient(tracking_uri=uri)
    (tracked,) = client.search_runs([client.get_experiment_by_name("tiny").experiment_id])
    assert tracked.info.status == "FINISHED"
    steps = [m.step for m in client.get_metric_history(tracked.info.run_id, "train_loss")]
    assert sorted(steps) == [1, 2, 3, 4]


class InterruptAt(Callback):
    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_epoch_end(self, trainer, epoch: int, logs: dict[str, Any]) -> None:
        if epoch == self.epoch:
            raise KeyboardInterrupt


def test_an_interrupted_run_is_closed_as_killed_at_exit(tmp_path: Path):
    from mlflow.tracking import MlflowClient

    from gradwise.tracking.callback import OPEN_RUNS, close_open_runs

    uri = (tmp_path / "mlruns").as_uri()
    config = tracked_config(mlflow=uri)
    with pytest.raises(KeyboardInterrupt):
        gradwise.train(config, out=tmp_path / "runs", callbacks=[InterruptAt(2)])
    client = MlflowClient(tracking_uri=uri)
    (tracked,) = client.search_runs([client.get_experiment_by_name("tiny").experiment_id])
    assert tracked.info.status == "RUNNING"  # until the process exits
    assert len(OPEN_RUNS) == 1
    close_open_runs()  # what atexit calls
    assert client.get_run(tracked.info.run_id).info.status == "KILLED"
    assert not OPEN_RUNS
    history = client.get_metric_history(tracked.info.run_id, "train_loss")
    assert [m.step for m in history] == [1, 2]


# --------------------------------------------------------------------------- mistakes
@pytest.mark.parametrize(
    ("track", "expected"),
    [
        ({"tensorboard": ""}, "track.tensorboard: expected true, false or a folder path"),
        ({"mlflow": "sqlite://m.db"}, "sqlite:///PATH.db (three slashes)"),
        ({"mlflow": " "}, "track.mlflow: expected a tracking URI"),
        ({"mlflow": "file://host/x"}, "a file store is a local folder"),
        ({"mlflwo": "file:./x"}, "mlflow"),
    ],
)
def test_a_bad_track_section_names_the_key(track, expected):
    with pytest.raises(ConfigError, match="track") as caught:
        gradwise.load_config(tiny_config("sklearn:iris", track=track))
    assert expected in str(caught.value)


def test_a_missing_extra_is_one_line_before_anything_is_written(
    tmp_path: Path, monkeypatch, capsys
):
    """mlflow made unimportable: `gradwise train` says so in one line and writes no run."""
    from gradwise.cli.main import main

    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if not installed
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "exp.yaml"
    config.write_text(json.dumps(tiny_config("sklearn:iris", track={"mlflow": "file:./m"})))
    assert main(["train", str(config), "--out", "runs", "--quiet"]) == 2
    assert capsys.readouterr().err == (
        "gradwise: error: track.mlflow: needs mlflow, which is not installed; "
        "pip install 'gradwise[track]' (or remove track.mlflow)\n"
    )
    assert not (tmp_path / "runs").exists() and not (tmp_path / "m").exists()


def test_a_run_that_does_not_track_imports_neither_library(tmp_path: Path):
    code = (
        "import sys, gradwise\n"
        "from tests.conftest import tiny_config\n"
        "gradwise.train(tiny_config('sklearn:iris', train={'epochs': 1},"
        " report={'enabled': False}), out='runs')\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('mlflow', 'tensorboard')"
        " or m.startswith('torch.utils.tensorboard')]\n"
        "assert not loaded, loaded\n"
        "assert 'gradwise.tracking' in sys.modules  # the plug-in was loaded, and stayed light\n"
    )
    result = run_python("-c", code, cwd=tmp_path, env=_with_repo_on_path())
    assert result.returncode == 0, result.stderr


def _with_repo_on_path() -> dict[str, str]:
    import os

    root = str(Path(__file__).resolve().parents[2])
    return {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
