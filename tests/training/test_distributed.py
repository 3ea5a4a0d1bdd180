"""Data-parallel training through torchrun (2 CPU processes, gloo): the same global batch and
seed give the weights of one process (to float rounding: ≤ 1e-6 relative), rank 0 alone writes
the run, and a data-parallel run killed with SIGKILL resumes — under 2 processes or 1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from safetensors.torch import load_file

from tests.conftest import run_cli

PARITY_TOLERANCE = 1e-6  # max |a - b| / max |b| per tensor (sums in another order)


def write_experiment(folder: Path, epochs: int, **train: object) -> Path:
    config = {
        "name": "ddp",
        "seed": 3,
        "data": {"source": "sklearn:digits", "valid": 0.1, "test": 0.2},
        "model": {"kind": "mlp", "hidden": [32]},  # no dropout, no batch norm: exact parity
        "train": {"epochs": epochs, "batch_size": 64, "device": "cpu", **train},
        "diagnose": {"enabled": False},
        "report": {"enabled": False},
    }
    path = folder / "exp.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def run_dir(out: Path) -> Path:
    (found,) = out.iterdir()
    return found


def weights(run: Path, tag: str = "last") -> dict:
    return load_file(run / "checkpoints" / f"{tag}.safetensors")


def max_relative_difference(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()  # the unwrapped module: no "module." prefix
    return max(float((a[k] - b[k]).abs().max() / b[k].abs().max()) for k in a)


def test_two_processes_train_the_weights_of_one(tmp_path: Path):
    experiment = write_experiment(tmp_path, epochs=4)
    one = run_cli("train", str(experiment), "--out", str(tmp_path / "one"), "--json")
    two = run_cli("train", str(experiment), "--out", str(tmp_path / "two"), "--nproc", "2")
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr
    assert two.stdout.count("run: ") == 1  # rank 0 speaks for the run; one run directory
    single, parallel = run_dir(tmp_path / "one"), run_dir(tmp_path / "two")
    assert max_relative_difference(weights(parallel), weights(single)) <= PARITY_TOLERANCE
    lines = [json.loads(line) for line in (parallel / "metrics.jsonl").read_text().splitlines()]
    reference = [json.loads(line) for line in (single / "metrics.jsonl").read_text().splitlines()]
    assert len(lines) == len(reference) == 4  # one line per epoch, written once
    for line, ref in zip(lines, reference, strict=True):  # losses reduced over both ranks
        assert line["train_loss"] == pytest.approx(ref["train_loss"], rel=1e-5)
        assert line["valid_accuracy"] == pytest.approx(ref["valid_accuracy"])
    summary = json.loads((parallel / "summary.json").read_text())
    assert summary["status"] == "completed"
    assert summary["test"]["auc"] == pytest.approx(json.loads(one.stdout)["test"]["auc"], abs=1e-6)


def start_parallel(experiment: Path, out: Path) -> subprocess.Popen:
    argv = [sys.executable, "-m", "gradwise.cli.main", "train", str(experiment)]
    return subprocess.Popen(
        [*argv, "--out", str(out), "--nproc", "2", "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # the launcher and its workers: one process group to kill
    )


def kill_after_epochs(process: subprocess.Popen, out: Path, epochs: int) -> Path:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        runs = list(out.glob("*/metrics.jsonl"))
        if runs and len(runs[0].read_text().splitlines()) >= epochs:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return runs[0].parent
        assert process.poll() is None, "the run ended before it could be killed"
        time.sleep(0.005)
    raise AssertionError("no epoch was logged in time")


def test_a_killed_data_parallel_run_resumes_with_two_processes_or_one(tmp_path: Path):
    experiment = write_experiment(tmp_path, epochs=12)  # ~0.1 s each: killed after the 2nd
    whole = run_cli("train", str(experiment), "--out", str(tmp_path / "whole"), "--nproc", "2")
    assert whole.returncode == 0, whole.stderr
    reference = weights(run_dir(tmp_path / "whole"))

    killed = kill_after_epochs(start_parallel(experiment, tmp_path / "cut"), tmp_path / "cut", 2)
    summary = json.loads((killed / "summary.json").read_text())
    assert summary["status"] == "running"  # died without a word
    cut_at = len((killed / "metrics.jsonl").read_text().splitlines())
    assert cut_at < 12
    resumed = run_cli("train", "--resume", str(killed), "--nproc", "2", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert max_relative_difference(weights(killed), reference) == 0.0  # same ranks: same sums
    assert len((killed / "metrics.jsonl").read_text().splitlines()) == 12

    # a different number of processes: the same run, to float rounding
    again = kill_after_epochs(start_parallel(experiment, tmp_path / "again"), tmp_path / "again", 2)
    single = run_cli("train", "--resume", str(again), "--quiet")
    assert single.returncode == 0, single.stderr
    assert max_relative_difference(weights(again), reference) <= 1e-5


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--nproc", "0"], "train --nproc/--nnodes: give at least 1"),
        (["--nproc", "2", "--nnodes", "2"], "needs --rdzv-endpoint HOST:PORT"),
        (["--nproc", "2", "--set", "train.epochs=zero"], "train.epochs"),
    ],
)
def test_launch_mistakes_are_one_line_before_any_process_starts(tmp_path, argv, message):
    experiment = write_experiment(tmp_path, epochs=1)
    result = run_cli("train", str(experiment), "--out", str(tmp_path / "runs"), *argv)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()
