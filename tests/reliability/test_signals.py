"""SIGTERM and SIGINT during training, evaluation, checkpointing and report writing: the run
ends ``interrupted`` with a final checkpoint where the trainer stands between epochs, and
resumes to completion; a stop while the report is written leaves the run completed. A run
whose process died without a word is ``stale`` in ``gradwise runs`` (its heartbeat)."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path

import pytest

import gradwise
from gradwise import api
from gradwise.runs import RunPaths, run_status
from gradwise.tasks import TASKS
from gradwise.training import checkpoint as checkpoint_module
from gradwise.training.checkpoint import load_checkpoint
from tests.reliability import harness
from tests.reliability.conftest import PARADIGMS

SIGNALS = [signal.SIGTERM, signal.SIGINT]


def interrupted_run(out: Path) -> tuple[Path, dict]:
    (run,) = out.iterdir()
    return run, json.loads((run / "summary.json").read_text())


def resumes_to_the_end(run: Path) -> None:
    resumed = gradwise.resume(run)
    assert resumed.summary["status"] == "completed"
    assert [m["epoch"] for m in resumed.metrics] == [1, 2, 3, 4]


@pytest.mark.parametrize("signum", SIGNALS)
def test_a_signal_during_evaluation(tmp_path: Path, paradigm: str, signum: int, monkeypatch):
    case = PARADIGMS.get(paradigm)
    task_class = TASKS.get(paradigm)
    evaluation = getattr(task_class, case.evaluation)

    sent = []

    def stopped(self, trainer, *args, **kwargs):
        if trainer.epoch == 1 and not sent:  # epoch 2's evaluation (not again in the resume)
            sent.append(signum)
            os.kill(os.getpid(), signum)
        return evaluation(self, trainer, *args, **kwargs)

    monkeypatch.setattr(task_class, case.evaluation, stopped)
    monkeypatch.setattr(api, "Checkpointer", harness.EveryEpoch)
    with pytest.raises(KeyboardInterrupt):
        gradwise.train(case.config(tmp_path), out=tmp_path / "runs")
    run, summary = interrupted_run(tmp_path / "runs")
    assert summary["status"] == "interrupted" and summary["epochs_run"] == 1
    resumes_to_the_end(run)


@pytest.mark.parametrize("signum", SIGNALS)
def test_a_signal_during_a_checkpoint_write_still_leaves_that_epoch(
    tmp_path: Path, paradigm: str, signum: int, monkeypatch
):
    real_write = checkpoint_module.atomic_write
    sent = []

    def write(path, writer):
        if Path(path).name == "last.state.pt" and not sent and "previous" in _names(path):
            sent.append(path)  # epoch 2: new weights written, the state not yet
            os.kill(os.getpid(), signum)
        return real_write(path, writer)

    monkeypatch.setattr(checkpoint_module, "atomic_write", write)
    monkeypatch.setattr(api, "Checkpointer", harness.EveryEpoch)
    config = PARADIGMS.get(paradigm).config(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        gradwise.train(config, out=tmp_path / "runs")
    run, summary = interrupted_run(tmp_path / "runs")
    assert sent and summary["status"] == "interrupted" and summary["epochs_run"] == 2
    module = gradwise.api.Run(run).model  # any module of the run's shape
    restored = load_checkpoint(run / "checkpoints", module)
    assert (restored.tag, restored.epoch, restored.skipped) == ("last", 2, [])  # the final one
    assert not [p for p in (run / "checkpoints").iterdir() if p.name.startswith(".")]
    resumes_to_the_end(run)


def _names(path: str | Path) -> set[str]:
    return {p.name.split(".")[0] for p in Path(path).parent.iterdir()}


def test_a_signal_while_the_report_is_written_leaves_the_run_completed(tmp_path: Path, monkeypatch):
    import gradwise.report

    def stopped(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the signal interrupts this
        raise AssertionError("SIGTERM did not interrupt the report")

    monkeypatch.setattr(gradwise.report, "write_report", stopped)
    config = PARADIGMS.get("regression").config(tmp_path) | {"report": {"enabled": True}}
    with pytest.raises(KeyboardInterrupt):
        gradwise.train(config, out=tmp_path / "runs")
    run, summary = interrupted_run(tmp_path / "runs")
    assert summary["status"] == "completed" and not (run / "report.html").exists()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def summary_of(run: Path, **fields) -> dict:
    summary = {"status": "running", "pid": os.getpid(), "host": socket.gethostname(), **fields}
    (run / "summary.json").write_text(json.dumps(summary))
    return summary


def test_a_live_run_is_running_and_a_dead_or_silent_one_is_stale(tmp_path: Path):
    paths = RunPaths(tmp_path)
    paths.heartbeat.touch()
    assert run_status(paths, summary_of(tmp_path)) == "running"
    assert run_status(paths, summary_of(tmp_path, host="elsewhere")) == "running"
    old = time.time() - 120
    os.utime(paths.heartbeat, (old, old))
    assert run_status(paths, summary_of(tmp_path)) == "stale"  # alive but silent (hung)
    paths.heartbeat.touch()
    child = os.fork()
    if child == 0:
        os._exit(0)
    os.waitpid(child, 0)
    assert run_status(paths, summary_of(tmp_path, pid=child)) == "stale"  # gone
    assert run_status(paths, {"status": "completed", "pid": child}) == "completed"


def test_training_touches_its_heartbeat(tmp_path: Path):
    started = time.time()
    run = gradwise.train(PARADIGMS.get("regression").config(tmp_path), out=tmp_path / "runs")
    assert RunPaths(run.path).heartbeat.stat().st_mtime >= started - 1
    assert run.summary["pid"] == os.getpid() and run.summary["host"] == socket.gethostname()
