"""Artifacts across versions: every JSON file of a run carries ``format_version``, and a run
directory written by gradwise 0.1.0 (``fixtures/run-v1``, run format 1) stays readable by the
API and the commands that read runs: Run, predict, evaluate, report, doctor, runs, resume."""

from __future__ import annotations

import fnmatch
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

import gradwise
from gradwise import _io
from gradwise.api import Run
from gradwise.cli.main import main
from gradwise.runs import FORMAT_VERSION
from gradwise.tasks import TASKS
from gradwise.training import Callback
from tests.reliability.conftest import PARADIGMS

FIXTURE = Path(__file__).parent / "fixtures" / "run-v1"
IRIS_COLUMNS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]


@pytest.fixture
def old_run(tmp_path: Path) -> Path:
    copy = tmp_path / "run-v1"
    shutil.copytree(FIXTURE, copy)
    return copy


def json_files(run: Path) -> list[Path]:
    return sorted(run.rglob("*.json"))


def test_every_json_file_of_a_run_carries_its_format_version(
    trained_run: Path, paradigm: str, tmp_path: Path, capsys
):
    Run(trained_run).doctor(write=True)  # diagnosis.json too
    loading = PARADIGMS.get(paradigm).loads(trained_run, tmp_path)  # what it may add to the run
    assert main(loading.argv) == 0, capsys.readouterr().err
    files = json_files(trained_run)
    names = {p.relative_to(trained_run).as_posix() for p in files}
    task = TASKS.get(paradigm)
    expected = {"summary.json", "diagnosis.json", *fnmatch.filter(task.run_files(), "*.json")}
    expected |= {"profile.json"} if task.needs_data else set()
    assert expected <= names
    assert {"checkpoints/last.json", "checkpoints/previous.json", "checkpoints/best.json"} <= names
    for path in files:
        assert json.loads(path.read_text())["format_version"] == FORMAT_VERSION, path


class ReadTheRunAtEveryStep(Callback):
    """What a reader finds in the run directory at each step: the JSON-lines files' lines and
    the run format version beside them."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir, self.seen = run_dir, []

    def on_batch_end(self, trainer, loss) -> None:
        (run,) = self.run_dir.iterdir()
        lines = sum(len(_io.read_jsonl(p)) for p in run.glob("*.jsonl"))
        version = json.loads((run / "summary.json").read_text()).get("format_version")
        self.seen.append((lines, version))


def test_json_lines_files_are_versioned_by_the_summary_written_before_their_first_line(
    tmp_path: Path, paradigm: str
):
    """A JSON-lines file (metrics.jsonl, diagnostics.jsonl, latent_kl.jsonl) is a log, one
    record per line: its lines carry no ``format_version`` (a version per line repeats it,
    a header line would be read as a record); the run's ``summary.json`` versions them, and
    it is written before the first line, so no reader meets a line of an unknown format."""
    reader = ReadTheRunAtEveryStep(tmp_path / "runs")
    run = gradwise.train(
        PARADIGMS.get(paradigm).config(tmp_path), out=tmp_path / "runs", callbacks=[reader]
    )
    assert reader.seen and {version for _, version in reader.seen} == {FORMAT_VERSION}
    assert reader.seen[0][0] == 0 and reader.seen[-1][0] > 0  # before and after lines exist
    logs = list(run.path.glob("*.jsonl"))
    assert run.path / "metrics.jsonl" in logs
    for path in logs:
        assert all(isinstance(row, dict) for row in _io.read_jsonl(path)), path
    assert json.loads((run.path / "summary.json").read_text())["format_version"] == FORMAT_VERSION


def test_the_fixture_is_what_this_version_writes():
    assert {p.name for p in json_files(FIXTURE)} >= {"summary.json", "preprocess.json"}
    for path in json_files(FIXTURE):
        assert json.loads(path.read_text())["format_version"] == 1, path


def test_an_old_run_reads_through_the_api(old_run: Path, tmp_path: Path):
    run = Run(old_run)
    assert run.summary["status"] == "completed" and [m["epoch"] for m in run.metrics] == [1, 2, 3]
    rows = pd.DataFrame([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], columns=IRIS_COLUMNS)
    assert len(run.predict(rows)) == 2 and run.predict_proba(rows).shape == (2, 3)
    metrics = run.evaluate()
    assert metrics["rows"] == 30 and 0.0 <= metrics["accuracy"] <= 1.0
    assert run.evaluate() == Run(FIXTURE).evaluate()  # the same weights, the same split
    assert {f.code for f in run.doctor(write=False)}


def test_an_old_run_reads_through_the_commands(old_run: Path, tmp_path: Path, capsys):
    rows = tmp_path / "rows.csv"
    pd.DataFrame([[5.1, 3.5, 1.4, 0.2]], columns=IRIS_COLUMNS).to_csv(rows, index=False)
    assert main(["predict", str(old_run), str(rows), "-o", str(tmp_path / "p.csv")]) == 0
    assert main(["evaluate", str(old_run), "--json"]) == 0
    assert main(["doctor", str(old_run)]) == 0
    assert main(["runs", "--dir", str(old_run.parent), "--json"]) == 0
    out = capsys.readouterr().out
    assert '"status": "completed"' in out
    assert main(["report", str(old_run)]) == 0
    assert (old_run / "report.html").stat().st_size > 1000
    resumed = gradwise.resume(old_run, overrides=["train.epochs=4"])
    assert [m["epoch"] for m in resumed.metrics] == [1, 2, 3, 4]


def test_checkpoints_from_before_manifests_still_load_and_resume(old_run: Path):
    for manifest in (old_run / "checkpoints").glob("*.json"):
        manifest.unlink()
    run = Run(old_run)
    assert run.predict_proba(pd.DataFrame([[5.1, 3.5, 1.4, 0.2]], columns=IRIS_COLUMNS)).shape
    resumed = gradwise.resume(old_run, overrides=["train.epochs=4"])
    assert resumed.summary["epochs_run"] == 4
