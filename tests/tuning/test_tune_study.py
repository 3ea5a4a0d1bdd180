"""Studies end to end on tiny data (in this process): results in the study directory,
best.yaml reproducing the best trial exactly, pruned and failed trials, resuming."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
import yaml
from optuna.trial import TrialState

import gradwise
from gradwise.errors import ConfigError
from gradwise.runs import RunPaths, read_metrics, read_summary
from gradwise.tuning import search
from gradwise.tuning.study import StudyQueue
from tests.conftest import tiny_config

PNG = b"\x89PNG\r\n\x1a\n"
SPACE = {
    "train.optimizer.lr": {"type": "float", "low": 1e-3, "high": 0.1, "log": True},
    "model.hidden": {"layers": {"low": 1, "high": 2}, "width": {"low": 4, "high": 32}},
    "model.activation": ["relu", "tanh"],
}


def iris(**tune) -> dict:
    return tiny_config(
        "sklearn:iris", name="iris", train={"epochs": 4}, tune={"space": SPACE, **tune}
    )


def stored(study_dir: Path) -> optuna.Study:
    return optuna.load_study(study_name="iris", storage=f"sqlite:///{study_dir / 'study.db'}")


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> gradwise.tuning.TuneResult:
    out = tmp_path_factory.mktemp("study")
    return gradwise.tune(iris(pruner="none"), trials=5, out=out)


def test_tune_json_follows_the_shared_format(finished):
    document = json.loads((finished.study_dir / "tune.json").read_text())
    assert {"study", "metric", "direction", "counts", "best", "leaderboard", "importances"} <= set(
        document
    )
    assert document["study"] == "iris"
    assert (document["metric"], document["direction"]) == ("valid_accuracy", "maximize")
    assert document["counts"] == {"complete": 5, "pruned": 0, "failed": 0}
    board = document["leaderboard"]
    assert sorted(e["trial"] for e in board) == [0, 1, 2, 3, 4]
    for entry in board:
        assert {"trial", "value", "state", "params", "epochs"} <= set(entry)
        assert set(entry["params"]) == {
            "train.optimizer.lr",
            "model.hidden.layers",
            "model.hidden.width",
            "model.activation",
        }
        assert entry["epochs"] == 4 and entry["state"] == "complete"
        # the value is the best valid_accuracy of the trial's own run directory
        history = read_metrics(RunPaths(Path(entry["run_dir"])))
        assert entry["value"] == max(m["valid_accuracy"] for m in history)
    values = [e["value"] for e in board]
    assert values == sorted(values, reverse=True)  # best first
    best = document["best"]
    assert (best["trial"], best["value"]) == (board[0]["trial"], board[0]["value"])
    assert best["params"] == board[0]["params"]
    assert set(document["importances"]) == set(board[0]["params"])
    assert sum(document["importances"].values()) == pytest.approx(1.0)
    for name in ("history.png", "parallel.png", "importances.png"):
        assert (finished.study_dir / name).read_bytes().startswith(PNG), name
    assert finished.best_value == best["value"] and finished.best_trial == best["trial"]


def test_each_trial_is_a_run_directory_with_its_parameters(finished):
    runs = sorted((finished.study_dir / "trials").iterdir())
    assert [r.name.split("-")[1] for r in runs] == [f"trial{n:04d}" for n in range(5)]
    for entry in finished.leaderboard:
        config = gradwise.load_config(Path(entry["run_dir"]) / "config.yaml")
        params = entry["params"]
        assert config.train.optimizer.lr == params["train.optimizer.lr"]
        assert config.model.hidden == [params["model.hidden.width"]] * params["model.hidden.layers"]
        assert config.model.activation == params["model.activation"]
        assert config.tune is None  # a trial is a plain run
        assert read_summary(RunPaths(Path(entry["run_dir"])))["status"] == "completed"


def test_best_yaml_trains_to_the_best_trials_score_exactly(finished, tmp_path: Path):
    document = yaml.safe_load(finished.best_config.read_text())
    assert "tune" not in document and document["name"] == "iris"
    run = gradwise.train(finished.best_config, out=tmp_path)  # as `gradwise train best.yaml`
    assert max(m["valid_accuracy"] for m in run.metrics) == finished.best_value
    best_run = RunPaths(Path(finished.document["best"]["run_dir"]))
    assert [m["valid_loss"] for m in run.metrics] == [
        m["valid_loss"] for m in read_metrics(best_run)
    ]


def test_a_second_run_resumes_and_grows_the_study(finished):
    before = {e["trial"]: e["value"] for e in finished.leaderboard}
    result = gradwise.tune(iris(pruner="none"), trials=6, out=finished.study_dir)
    after = {e["trial"]: e["value"] for e in result.leaderboard}
    assert set(after) == set(range(6))
    assert {k: after[k] for k in before} == before  # finished trials are not run again
    assert len(list((finished.study_dir / "trials").iterdir())) == 6


def test_pruned_trials_stop_early_and_their_runs_say_so(tmp_path: Path, monkeypatch):
    def always_prune(plan):  # a pruner that stops every trial after its first epoch
        return optuna.pruners.ThresholdPruner(lower=2.0)

    monkeypatch.setitem(search_pruners(), "median", always_prune)
    result = gradwise.tune(iris(warmup_epochs=0), trials=3, out=tmp_path)
    assert result.counts["pruned"] == 3 and result.best_value is None
    assert result.best_config is None and not (tmp_path / "best.yaml").exists()
    for entry in result.leaderboard:
        summary = read_summary(RunPaths(Path(entry["run_dir"])))
        assert (summary["status"], summary["pruned_at"], summary["epochs_run"]) == ("pruned", 1, 1)
        assert entry["epochs"] == 1 and entry["state"] == "pruned"
    assert result.importances == {}  # fewer than two complete trials
    assert (tmp_path / "importances.png").read_bytes().startswith(PNG)


def search_pruners() -> dict:
    from gradwise.tuning.samplers import PRUNERS

    return PRUNERS._entries


def test_a_failing_trial_is_recorded_with_its_reason_and_the_study_goes_on(tmp_path: Path):
    config = tiny_config(
        "sklearn:diabetes",
        name="iris",
        task="regression",
        train={"epochs": 3, "optimizer": {"name": "sgd", "momentum": 0.9}},
        tune={
            "space": {"train.optimizer.lr": {"type": "categorical", "choices": [0.01, 10.0]}},
            "sampler": "grid",
            "pruner": "none",
        },
    )
    result = gradwise.tune(config, trials=2, out=tmp_path)
    assert result.counts["complete"] == 1 and result.counts["failed"] == 1
    failed = next(e for e in result.leaderboard if e["state"] == "failed")
    assert failed["params"] == {"train.optimizer.lr": 10.0} and failed["value"] is None
    assert "non-finite loss" in failed["error"]
    assert read_summary(RunPaths(Path(failed["run_dir"])))["status"] == "failed"
    assert result.best_params == {"train.optimizer.lr": 0.01}


def test_any_exception_fails_only_its_trial(tmp_path: Path, monkeypatch):
    from gradwise import api

    real_train = api.train
    calls = []

    def train_or_run_out_of_memory(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise MemoryError("cannot allocate 96 GiB")
        return real_train(*args, **kwargs)

    monkeypatch.setattr(api, "train", train_or_run_out_of_memory)
    result = gradwise.tune(iris(pruner="none"), trials=3, out=tmp_path)
    assert result.counts == {"complete": 2, "pruned": 0, "failed": 1, "running": 0, "waiting": 0}
    failed = next(e for e in result.leaderboard if e["state"] == "failed")
    assert failed["trial"] == 1 and failed["error"] == "out of memory: cannot allocate 96 GiB"


def test_a_metric_runs_do_not_log_stops_the_study_before_it_starts(tmp_path: Path):
    out = tmp_path / "study"
    with pytest.raises(ConfigError, match=r"^tune.metric: the run logs no metric 'valid_nope'.*"):
        gradwise.tune(iris(metric="valid_nope"), trials=2, out=out)
    assert not out.exists()  # checked against the task's metrics: no study, no trial run
    with pytest.raises(ConfigError, match=r"'valid_acc' \(did you mean 'valid_accuracy'\?\)"):
        gradwise.tune(iris(metric="valid_acc"), trials=2, out=out)


def test_an_interrupted_trial_goes_back_to_the_queue(tmp_path: Path, monkeypatch):
    from gradwise import api

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "train", interrupted)
    with pytest.raises(KeyboardInterrupt):
        gradwise.tune(iris(), trials=2, out=tmp_path)
    trial = stored(tmp_path).trials[0]
    assert trial.state == TrialState.WAITING and trial.user_attrs["interrupted"] == 1
    assert json.loads((tmp_path / "tune.json").read_text())["counts"]["complete"] == 0


def test_timeout_leaves_the_rest_queued(tmp_path: Path):
    result = gradwise.tune(iris(), trials=4, out=tmp_path, timeout=1e-9)
    assert result.counts["waiting"] == 4 and result.document["waiting"] == 4


def test_gradwise_tune_is_the_function_after_submodules_are_imported():
    assert isinstance(search, object) and isinstance(StudyQueue, type)
    assert callable(gradwise.tune)
    with pytest.raises(ConfigError, match="no tune section"):
        gradwise.tune(tiny_config("sklearn:iris"))


def test_a_bad_storage_leaves_nothing_behind(tmp_path: Path):
    with pytest.raises(ConfigError, match="no database driver"):
        gradwise.tune(iris(), storage="nosuchdb://x", out=tmp_path / "study")
    assert not (tmp_path / "study").exists()
