"""A run stopped by SIGTERM ends interrupted and resumes; damaged checkpoints are one-line
errors; files are written with the mode the umask gives; 5% left for training is enough."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest

import gradwise
from gradwise._io import atomic_write_text
from gradwise.config import load_config
from tests.conftest import run_cli, tiny_config

ROOT = Path(__file__).resolve().parents[2]

TRAIN_SLOWLY = textwrap.dedent(
    """
    import sys, time, warnings
    warnings.simplefilter("ignore")
    import gradwise
    from gradwise.training.callbacks import Callback
    from tests.conftest import tiny_config

    class Slow(Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            time.sleep(0.3)

    config = tiny_config("sklearn:iris", train={"epochs": 200, "device": "cpu"})
    gradwise.train(config, out=sys.argv[1], callbacks=[Slow()])
    """
)


def test_sigterm_ends_the_run_interrupted_and_it_resumes(tmp_path: Path):
    process = subprocess.Popen(
        [sys.executable, "-c", TRAIN_SLOWLY, str(tmp_path)], cwd=ROOT, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    metrics = None
    while time.monotonic() < deadline and process.poll() is None:
        found = list(tmp_path.glob("*/metrics.jsonl"))
        if found and found[0].read_text().count("\n") >= 2:
            metrics = found[0]
            break
        time.sleep(0.05)
    assert metrics is not None, process.stderr.read().decode() if process.stderr else ""
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    assert process.returncode != 0
    run_dir = metrics.parent
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    assert (run_dir / "checkpoints/last.safetensors").is_file()
    epochs_done = summary["epochs_run"]
    config = load_config(run_dir / "config.yaml")
    assert epochs_done < config.train.epochs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        resumed = gradwise.resume(run_dir)
    assert resumed.summary["status"] == "completed"
    assert [m["epoch"] for m in resumed.metrics] == list(range(1, config.train.epochs + 1))


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> gradwise.Run:
    config = tiny_config("sklearn:iris", train={"epochs": 2, "device": "cpu"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gradwise.train(config, out=tmp_path_factory.mktemp("runs"))


@pytest.mark.parametrize("size", [0, 7, 100])
def test_a_truncated_checkpoint_is_one_line_with_exit_status_two(finished, tmp_path, size):
    import shutil

    run_dir = tmp_path / "run"
    shutil.copytree(finished.path, run_dir)
    for tag in ("best", "last"):
        weights = run_dir / f"checkpoints/{tag}.safetensors"
        weights.write_bytes(weights.read_bytes()[:size])
    rows = tmp_path / "rows.csv"
    rows.write_text(
        "sepal length (cm),sepal width (cm),petal length (cm),petal width (cm)\n1,2,3,4\n"
    )
    result = run_cli("predict", str(run_dir), str(rows), "-o", str(tmp_path / "out.csv"))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "cannot load weights" in line and "best.safetensors" in line
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_files_written_atomically_get_the_mode_the_umask_gives(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        path = atomic_write_text(tmp_path / "summary.json", "{}")
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == mode


def test_a_whole_run_directory_is_readable_by_the_team(finished):
    # the run was written under the test process's umask (022 on these machines)
    expected = 0o666 & ~_current_umask()
    for name in ("config.yaml", "summary.json", "preprocess.json", "checkpoints/last.safetensors"):
        assert (finished.path / name).stat().st_mode & 0o777 == expected, name


def _current_umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def test_five_percent_left_for_training_is_enough():
    assert load_config({"data": {"source": "x.csv", "valid": 0.15, "test": 0.8}}).data.test == 0.8
    with pytest.raises(Exception, match="must leave at least 5% for training"):
        load_config({"data": {"source": "x.csv", "valid": 0.16, "test": 0.8}})
