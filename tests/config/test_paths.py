"""Relative paths in an experiment file mean the file's folder; on the command line (``--set``)
and in Python dicts they mean the current directory. The run directory keeps them absolute."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

import gradwise
from gradwise.data.options import resolve_source
from gradwise.errors import DataError
from tests.api.test_train import StopAfter
from tests.conftest import run_cli


def write_experiment(folder: Path, source: str, **train) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    experiment = {
        "data": {"source": source, "target": "label"},
        "model": {"kind": "mlp", "hidden": [8]},
        "train": {"epochs": 2, "batch_size": 64, "device": "cpu", **train},
    }
    path = folder / "churn.yaml"
    path.write_text(yaml.safe_dump(experiment), encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path: Path, table_csv: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``csv/churn.yaml`` next to ``csv/churn.csv``, the current directory elsewhere."""
    (tmp_path / "csv").mkdir()
    table_csv.rename(tmp_path / "csv" / "churn.csv")
    write_experiment(tmp_path / "csv", "churn.csv")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return tmp_path


def test_a_relative_source_means_the_experiment_files_folder(project: Path):
    config = gradwise.load_config(project / "csv" / "churn.yaml")
    assert config.data.source == str(project / "csv" / "churn.csv")
    # a relative path to the experiment file too: its folder, not the current directory
    relative = Path("..") / "csv" / "churn.yaml"
    assert gradwise.load_config(relative).data.source == str(project / "csv" / "churn.csv")


def test_set_and_dicts_mean_the_current_directory(project: Path):
    experiment = project / "csv" / "churn.yaml"
    override = gradwise.load_config(experiment, ["data.source=../csv/churn.csv"])
    assert override.data.source == str(project / "csv" / "churn.csv")
    from_dict = gradwise.load_config({"data": {"source": "new.csv", "target": "label"}})
    assert from_dict.data.source == str(project / "elsewhere" / "new.csv")


@pytest.mark.parametrize(
    "name", ["mnist1d", "sklearn:iris", "rdata:datasets/iris", "synthetic:moons", "mnist1dd"]
)
def test_built_in_names_are_not_paths(project: Path, name: str):
    path = write_experiment(project / "exp", name)
    assert gradwise.load_config(path).data.source == name
    assert resolve_source(name, project) == name


def test_an_image_folder_next_to_the_experiment(project: Path):
    (project / "exp" / "images" / "cat").mkdir(parents=True)
    path = write_experiment(project / "exp", "images")
    assert gradwise.load_config(path).data.source == str(project / "exp" / "images")


def test_the_missing_file_error_names_the_resolved_path(project: Path):
    path = write_experiment(project / "exp", "churn.csv")
    with pytest.raises(DataError) as info:
        gradwise.train(path, out=project / "runs")
    assert str(info.value) == f"data.source: file not found: '{project / 'exp' / 'churn.csv'}'"
    assert not (project / "runs").exists()


def test_the_command_line_from_the_parent_folder(project: Path):
    """The issue's case: ``gradwise train csv/churn.yaml`` from the folder above."""
    done = run_cli("train", "csv/churn.yaml", "--out", "runs", "--json", cwd=project)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "completed"


def test_a_source_only_in_the_current_directory_keeps_that_meaning(project: Path):
    """Older run directories hold paths relative to where training ran."""
    pd.read_csv(project / "csv" / "churn.csv").to_csv(project / "elsewhere" / "old.csv")
    path = write_experiment(project / "exp", "old.csv")
    assert gradwise.load_config(path).data.source == str(project / "elsewhere" / "old.csv")


def test_a_run_resumes_and_evaluates_from_another_directory(
    project: Path, monkeypatch: pytest.MonkeyPatch
):
    experiment = project / "csv" / "churn.yaml"
    with pytest.raises(KeyboardInterrupt):
        gradwise.train(experiment, out=project / "runs", callbacks=[StopAfter(1)])
    (run_dir,) = (project / "runs").iterdir()
    saved = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))
    assert saved["data"]["source"] == str(project / "csv" / "churn.csv")  # absolute
    other = project / "other"
    other.mkdir()
    monkeypatch.chdir(other)
    run = gradwise.resume(run_dir)
    assert run.summary["status"] == "completed"
    metrics = gradwise.Run(run_dir).evaluate()  # the test split, read through config.yaml
    assert metrics["accuracy"] == pytest.approx(run.summary["test"]["accuracy"])
