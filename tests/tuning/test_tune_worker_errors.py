"""What stops a worker process: a user error reaches the caller as its own class; a worker
killed mid-trial (the out-of-memory killer's SIGKILL) has its trial run again by the others,
the study's results are written, and the caller gets one line naming the worker."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

import optuna
import pytest

import gradwise
from gradwise.errors import ConfigError, DataError, GradwiseError
from gradwise.tuning.plan import plan_study
from gradwise.tuning.trial import MetricNotLogged
from gradwise.tuning.worker import WorkerDied, WorkerReport, worker_process
from tests.conftest import tiny_config

SPACE = {"train.optimizer.lr": {"type": "float", "low": 1e-3, "high": 0.1, "log": True}}


class Results(list):
    put = list.append  # a worker's report queue, in this process


def test_a_workers_user_error_keeps_its_class(tmp_path: Path):
    config = tiny_config("sklearn:iris", tune={"space": SPACE, "metric": "valid_nope"})
    plan = plan_study(config, trials=2, out=tmp_path)
    plan.study_dir.mkdir(parents=True, exist_ok=True)
    results = Results()
    previous = signal.getsignal(signal.SIGTERM)
    try:
        worker_process(plan, 0, results)  # as a spawned worker runs it
    finally:
        signal.signal(signal.SIGTERM, previous)
    (report,) = results
    error = report.user_error()
    assert type(error) is MetricNotLogged and "runs do not log 'valid_nope'" in str(error)
    data = WorkerReport(1, error="data.csv: no column 'y'", error_type="gradwise.errors:DataError")
    assert type(data.user_error()) is DataError
    gone = WorkerReport(1, error="gone", error_type="gradwise.nowhere:Gone")
    assert type(gone.user_error()) is GradwiseError
    assert not isinstance(gone.user_error(), ConfigError)
    assert WorkerReport(1, error="Traceback ...").user_error() is None  # a bug


RUNNING_PIDS = """SELECT t.number, a.value_json FROM trials t JOIN trial_user_attributes a
ON a.trial_id = t.trial_id WHERE t.state = 'RUNNING' AND a.key = 'pid'"""


def kill_the_first_worker_trial(database: Path, killed: list[tuple[int, int]]) -> None:
    """SIGKILL the worker of the first trial seen running (as the out-of-memory killer would);
    reads the study's SQLite file read-only, not to race the study's own setup."""
    deadline = time.monotonic() + 300
    while not killed and time.monotonic() < deadline:
        try:
            with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1) as connection:
                rows = connection.execute(RUNNING_PIDS).fetchall()
        except sqlite3.Error:  # not created yet, or being written
            rows = []
        for number, pid in rows:
            if int(pid) != os.getpid():
                os.kill(int(pid), signal.SIGKILL)
                killed.append((number, int(pid)))
                return
        time.sleep(0.1)


def test_a_killed_workers_trial_runs_again_and_the_results_are_written(tmp_path: Path):
    config = tiny_config(
        "sklearn:iris", name="iris", train={"epochs": 150}, tune={"space": SPACE, "pruner": "none"}
    )
    killed: list[tuple[int, int]] = []
    killer = threading.Thread(
        target=kill_the_first_worker_trial, args=(tmp_path / "study.db", killed)
    )
    killer.start()
    try:
        with pytest.raises(WorkerDied) as caught:
            gradwise.tune(config, trials=3, workers=2, out=tmp_path)
    finally:
        killed.append((-1, -1))  # stops the killer if the study ended first
        killer.join()
    number, pid = killed[0]
    message = str(caught.value)
    assert "\n" not in message and f"(pid {pid}) was killed by signal 9 (SIGKILL" in message
    assert message.endswith("its trial went back to the queue")
    document = json.loads((tmp_path / "tune.json").read_text())  # written all the same
    assert document["counts"] == {"complete": 3, "pruned": 0, "failed": 0}
    assert document["waiting"] == 0  # nothing left running
    study = optuna.load_study(study_name="iris", storage=f"sqlite:///{tmp_path / 'study.db'}")
    trial = study.trials[number]
    assert trial.user_attrs["orphaned"] == 1 and trial.user_attrs["pid"] != pid  # run again
