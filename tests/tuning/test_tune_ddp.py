"""`gradwise tune --nproc 2`: every trial trains as a 2-process data-parallel run (gloo on the
CPU). Oracle: the same study with trials trained in the worker itself — the same trials end in
the same states with the same objectives (to float rounding) and the same pruned epochs. Rank 0
alone reports each epoch's value and writes the run; bad combinations are one line, exit 2."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import yaml
from optuna.trial import TrialState

import gradwise
from gradwise.errors import ConfigError
from gradwise.tuning.parallel import (
    SPEC_ENV,
    ParallelTrialFailed,
    TrialSpec,
    check_devices,
    read_back,
)
from gradwise.tuning.plan import plan_study
from gradwise.tuning.trial import MetricNotLogged
from tests.conftest import run_cli, tiny_config

# a bad and a good learning rate: the grid (order fixed by tune.seed) runs the good one first,
# so the median pruner (one finished trial is enough) stops the bad one after its first epoch
GRID = {"train.optimizer.lr": [1e-5, 0.05]}
TUNE = {
    "space": GRID,
    "sampler": "grid",
    "pruner": "median",
    "startup_trials": 1,
    "warmup_epochs": 0,
    "metric": "valid_loss",
    "seed": 0,
}
OBJECTIVE_TOLERANCE = 1e-5  # relative: the weights agree to ~1e-6 (tests/training)


def experiment(**tune: object) -> dict:
    return tiny_config(
        "sklearn:iris",
        name="iris",
        train={"epochs": 2, "batch_size": 32},
        diagnose={"enabled": False},
        tune={**TUNE, **tune},
    )


def study_trials(study_dir: Path) -> list[optuna.trial.FrozenTrial]:
    storage = f"sqlite:///{study_dir / 'study.db'}"
    return sorted(
        optuna.load_study(study_name="iris", storage=storage).trials, key=lambda t: t.number
    )


def metrics(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_two_trials_of_two_processes_match_trials_trained_in_the_worker(tmp_path: Path):
    config = tmp_path / "exp.yaml"
    config.write_text(yaml.safe_dump(experiment()))
    parallel_dir, single_dir = tmp_path / "parallel", tmp_path / "single"
    result = run_cli("tune", str(config), "--nproc", "2", "--out", str(parallel_dir), "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)  # one JSON document on stdout: nothing from the ranks
    gradwise.tune(str(config), out=single_dir)
    assert document["counts"] == {"complete": 1, "pruned": 1, "failed": 0}

    parallel, single = study_trials(parallel_dir), study_trials(single_dir)
    for ddp, one in zip(parallel, single, strict=True):
        assert ddp.state == one.state and ddp.params == one.params
        assert ddp.value == pytest.approx(one.value, rel=OBJECTIVE_TOLERANCE)
        assert ddp.intermediate_values.keys() == one.intermediate_values.keys()
        run_dir = Path(ddp.user_attrs["run_dir"])
        assert run_dir.parent == parallel_dir / "trials"
        lines = metrics(run_dir)  # written by rank 0 alone: one line per epoch trained
        assert [line["epoch"] for line in lines] == list(ddp.intermediate_values)
        # reported once per epoch, by rank 0: the values its reduced metrics logged
        assert list(ddp.intermediate_values.values()) == [line["valid_loss"] for line in lines]
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["pid"] not in (os.getpid(), ddp.user_attrs["pid"])  # trained elsewhere
        assert (run_dir / "checkpoints" / "last.safetensors").is_file()
        assert (run_dir / "checkpoints" / "best.safetensors").is_file()
        assert summary["status"] == {TrialState.COMPLETE: "completed"}.get(ddp.state, "pruned")
    pruned = next(t for t in parallel if t.state == TrialState.PRUNED)
    assert pruned.params == {"train.optimizer.lr": 1e-5} and len(pruned.intermediate_values) == 1
    summary = json.loads((Path(pruned.user_attrs["run_dir"]) / "summary.json").read_text())
    assert summary["pruned_at"] == 1 and summary["epochs_run"] == 1  # both ranks stopped
    assert "test" in json.loads(
        (Path(parallel[0].user_attrs["run_dir"]) / "summary.json").read_text()
    )
    # one run directory per trial, and nothing else left behind by the trials' processes
    assert len(list((parallel_dir / "trials").iterdir())) == 2
    assert not [p.name for p in parallel_dir.iterdir() if p.name.startswith(".")]


def trial_processes() -> list[int]:
    """The processes training a data-parallel trial (their environment holds its spec)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and SPEC_ENV.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:  # gone, or not ours
            continue
    return found


def wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal: Linux")
def test_a_killed_worker_leaves_no_trial_training(tmp_path: Path):
    config = tmp_path / "exp.yaml"
    config.write_text(yaml.safe_dump(experiment(pruner="none")))
    argv = [sys.executable, "-m", "gradwise.cli.main", "tune", str(config), "--nproc", "2"]
    argv += ["--trials", "1"]
    tune = subprocess.Popen(
        [*argv, "--out", str(tmp_path / "s"), "--set", "train.epochs=100000", "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        metrics = tmp_path / "s" / "trials"
        training = lambda: any(p.stat().st_size for p in metrics.glob("*/metrics.jsonl"))  # noqa: E731
        assert wait_until(training, 120), "the trial never started training"
        ranks = trial_processes()
        assert len(ranks) == 2
    finally:
        os.kill(tune.pid, signal.SIGKILL)  # the worker (and launcher) dies without a word
        tune.wait()
    assert wait_until(lambda: not set(ranks) & set(trial_processes()), 60), "ranks train on"


@pytest.mark.parametrize(
    ("overrides", "nproc", "fragment"),
    [
        ({"train.batch_size": 1}, 2, "train.batch_size 1 is smaller than --nproc 2"),
        (
            {"tune.space": {"train.batch_size": [16, 2]}},
            4,
            "tune.space.train.batch_size 2 is smaller than --nproc 4",
        ),
        (
            {"tune.space": {"train.batch_size": {"low": 1, "high": 64}}},
            2,
            "tune.space.train.batch_size.low 1 is smaller than --nproc 2",
        ),
        ({}, 0, "--nproc: must be ≥ 1, got 0"),
    ],
)
def test_impossible_combinations_are_refused_before_any_trial(
    tmp_path: Path, overrides: dict, nproc: int, fragment: str
):
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        plan_study(experiment(), overrides=overrides, nproc=nproc, out=tmp_path / "s")
    assert not (tmp_path / "s").exists()


def test_an_impossible_combination_is_one_line_and_exit_status_2(tmp_path: Path):
    config = tmp_path / "exp.yaml"
    config.write_text(yaml.safe_dump(experiment()))
    result = run_cli(
        "tune", str(config), "--nproc", "2", "--set", "train.batch_size=1", "--out",
        str(tmp_path / "s"),
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "--nproc 2" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "s").exists()


def test_more_processes_than_gpus_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import torch

    plan = plan_study(experiment(), nproc=2, out=tmp_path / "s")
    check_devices(plan, "cpu")  # the CPU takes any number of processes
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ConfigError, match=r"--nproc 2: train\.device cuda .* this machine has 1"):
        check_devices(plan, "cuda")


def test_a_trial_spec_travels_as_json_unchanged(tmp_path: Path):
    plan = plan_study(experiment(), nproc=2, workers=2, out=tmp_path / "s")
    overrides = {"train.optimizer.lr": 0.05, "model.hidden": [8, 8]}
    spec = TrialSpec(plan, 7, "iris-trial0003", overrides, tmp_path / "r", os.getpid())
    assert TrialSpec.from_json(spec.to_json()) == spec


@pytest.mark.parametrize(
    ("result", "failures", "error", "fragment"),
    [
        (
            None,
            {0: -9, 1: -15},
            ParallelTrialFailed,
            "process 0 was killed by signal 9 (SIGKILL, e.g. by the out-of-memory",
        ),
        (None, {1: 1}, ParallelTrialFailed, "process 1 exited with status 1"),
        ({"error": "non-finite loss at step 3"}, {0: 1}, ParallelTrialFailed, "non-finite loss"),
        ({"error": "runs do not log 'x'", "metric_not_logged": True}, {}, MetricNotLogged, "x"),
    ],
)
def test_a_failed_trial_says_why(result, failures, error, fragment):
    with pytest.raises(error, match=re.escape(fragment)):
        read_back(result, failures)
