"""Two worker processes on one study in a real PostgreSQL server on loopback (started by
scripts/postgres.sh, installing it from Debian's packages if needed): trials are neither
duplicated nor lost, and every one is recorded with its own run. (Two workers on the default
SQLite storage: tests/tune/test_tune_cli.py.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

import gradwise
from gradwise.runs import RunPaths, read_summary
from gradwise.tuning.plan import plan_study
from gradwise.tuning.study import open_storage, open_study
from tests.conftest import tiny_config

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "postgres.sh"
SPACE = {"train.optimizer.lr": {"low": 1e-3, "high": 0.1, "log": True}}
TRIALS = 6


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL server for the session; skipped only where it cannot be
    installed or started."""
    # not under pytest's private temp folder: the server runs as the 'postgres' user
    folder = tempfile.mkdtemp(prefix="gradwise-pg-", dir="/tmp")
    started = subprocess.run(
        ["bash", str(SCRIPT), "start", folder], capture_output=True, text=True, timeout=600
    )
    if started.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        reason = (started.stderr.strip().splitlines() or ["no message"])[-1]
        pytest.skip(f"PostgreSQL could not be installed or started here: {reason}")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop", folder], capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


def check_two_workers_share_the_study(storage: str, study_dir: Path) -> None:
    config = tiny_config(
        "sklearn:iris",
        name="iris",
        train={"epochs": 3},
        tune={"space": SPACE},
    )
    result = gradwise.tune(
        config, trials=TRIALS, workers=2, storage=storage, study="shared", out=study_dir
    )
    study = optuna.load_study(study_name="shared", storage=storage)
    trials = study.get_trials(deepcopy=False)
    assert sorted(t.number for t in trials) == list(range(TRIALS))  # none twice, none lost
    finished = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
    assert all(t.state in finished for t in trials), [t.state for t in trials]
    assert not any(t.state == TrialState.FAIL for t in trials), [t.user_attrs for t in trials]
    run_dirs = {t.user_attrs["run_dir"] for t in trials}
    assert len(run_dirs) == TRIALS  # each trial trained once, in its own run directory
    assert sorted(p.name for p in (study_dir / "trials").iterdir()) == sorted(
        Path(d).name for d in run_dirs
    )
    for run_dir in run_dirs:
        assert read_summary(RunPaths(Path(run_dir)))["status"] in ("completed", "pruned")
    workers = {t.user_attrs["pid"] for t in trials}
    assert os.getpid() not in workers and 1 <= len(workers) <= 2  # run by the spawned workers
    counts = result.document["counts"]
    assert counts["complete"] + counts["pruned"] + counts["failed"] == TRIALS
    assert len(result.leaderboard) == TRIALS and result.best_config.is_file()


def test_two_workers_on_postgresql(postgres_url: str, tmp_path: Path):
    check_two_workers_share_the_study(postgres_url, tmp_path / "study")
    # another machine joining the finished study finds nothing left to run
    plan = plan_study(
        tiny_config("sklearn:iris", name="iris", tune={"space": SPACE}),
        trials=TRIALS,
        storage=postgres_url,
        study="shared",
        out=tmp_path / "other",
    )
    assert open_study(plan, open_storage(plan.storage)).claim() is None
    assert len(optuna.load_study(study_name="shared", storage=postgres_url).trials) == TRIALS
