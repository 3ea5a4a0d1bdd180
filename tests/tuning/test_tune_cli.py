"""`gradwise tune` on the command line: one JSON document with --json, one line per mistake,
no torch or Optuna for --help; and the progress line."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import optuna
import pytest
import yaml
from optuna.trial import TrialState, create_trial

from gradwise.tuning.progress import StudyProgress
from tests.conftest import run_cli, run_python, tiny_config

SPACE = {"train.optimizer.lr": {"type": "float", "low": 1e-3, "high": 0.1, "log": True}}


def write_config(path: Path, **tune) -> Path:
    config = tiny_config("sklearn:iris", name="iris", tune={"space": SPACE, **tune})
    path.write_text(yaml.safe_dump(config))
    return path


def test_two_workers_with_json_print_tune_json_and_nothing_else(tmp_path: Path):
    config = write_config(tmp_path / "exp.yaml", pruner="none")
    study_dir = tmp_path / "s"
    result = run_cli(
        "tune", str(config), "--trials", "4", "--workers", "2", "--out", str(study_dir),
        "--set", "train.epochs=2", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)  # exactly one JSON document on stdout
    assert document == json.loads((study_dir / "tune.json").read_text())
    assert document["counts"] == {"complete": 4, "pruned": 0, "failed": 0}
    assert [e["epochs"] for e in document["leaderboard"]] == [2] * 4  # --set reached trials
    assert (study_dir / "best.yaml").is_file()
    assert result.stderr == ""  # no progress line when stdout is not a terminal
    # the two workers shared the default SQLite storage: each trial ran once
    study = optuna.load_study(study_name="iris", storage=f"sqlite:///{study_dir / 'study.db'}")
    assert sorted(t.number for t in study.trials) == [0, 1, 2, 3]
    run_dirs = {t.user_attrs["run_dir"] for t in study.trials}
    assert {str(p) for p in (study_dir / "trials").iterdir()} == run_dirs and len(run_dirs) == 4


@pytest.mark.parametrize(
    ("args", "tune", "fragment"),
    [
        (
            [],
            {"space": {"train.optimzer.lr": SPACE["train.optimizer.lr"]}},
            "tune.space.train.optimzer.lr",
        ),
        (["--workers", "0"], {}, "--workers: must be ≥ 1, got 0"),
    ],
)
def test_each_mistake_is_one_line_and_exit_status_2(tmp_path: Path, args, tune, fragment):
    config = write_config(tmp_path / "exp.yaml", **tune)
    result = run_cli("tune", str(config), "--out", str(tmp_path / "s"), *args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gradwise: error:"), result.stderr
    assert fragment in lines[0]
    assert not (tmp_path / "s" / "trials").exists()


def test_help_imports_neither_torch_nor_optuna():
    code = (
        "import sys; from gradwise.cli.main import build_parser; "
        "build_parser().parse_args(['tune', 'x.yaml', '--workers', '2']); "
        "assert 'torch' not in sys.modules and 'optuna' not in sys.modules"
    )
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr


def test_progress_line_counts_every_state_and_the_best(monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    study = optuna.create_study(direction="maximize")
    stream = io.StringIO()
    progress = StudyProgress(study, "valid_accuracy", total=10, quiet=False, stream=stream)
    for state, value in [
        (TrialState.COMPLETE, 0.9),
        (TrialState.COMPLETE, 0.7),
        (TrialState.PRUNED, None),
        (TrialState.FAIL, None),
        (TrialState.RUNNING, None),
    ]:
        study.add_trial(create_trial(state=state, value=value))
    progress.update()
    progress.close()
    line = stream.getvalue().strip("\r\n")
    assert re.fullmatch(
        r"trials 4/10 · 2 complete · 1 pruned · 1 failed · best valid_accuracy 0\.9000 \(#0\) "
        r"· ETA \d\d:\d\d",
        line,
    ), line
    quiet = StudyProgress(study, "valid_accuracy", total=10, quiet=True, stream=stream)
    assert not quiet.enabled
