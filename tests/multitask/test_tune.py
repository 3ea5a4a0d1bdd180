"""``gradwise tune`` on a multi-task experiment: any per-target metric can be the objective."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import gradwise
from gradwise.errors import ConfigError
from tests.multitask.conftest import multitask_config

SPACE = {"train.optimizer.lr": {"type": "float", "low": 1e-3, "high": 0.05, "log": True}}


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread: None) -> None:
    """One torch thread for every test here (see tests/conftest.py)."""


def test_a_study_optimizes_one_targets_metric(diamonds_csv: Path, tmp_path: Path):
    config = multitask_config(diamonds_csv, epochs=2)
    config["tune"] = {"space": SPACE, "metric": "valid_cut_accuracy", "pruner": "none"}
    result = gradwise.tune(config, trials=2, out=tmp_path)
    document = json.loads((result.study_dir / "tune.json").read_text())
    assert (document["metric"], document["direction"]) == ("valid_cut_accuracy", "maximize")
    assert document["counts"]["complete"] == 2
    assert all(0 <= entry["value"] <= 1 for entry in document["leaderboard"])


def test_the_default_objective_is_the_total_validation_loss(diamonds_csv: Path, tmp_path: Path):
    from gradwise.config import load_config
    from gradwise.tuning.plan import default_metric

    config = load_config({**multitask_config(diamonds_csv), "tune": {"space": SPACE}})
    assert default_metric(config) == "valid_loss"


def test_a_metric_of_no_target_is_refused_before_any_trial(diamonds_csv: Path, tmp_path: Path):
    config = multitask_config(diamonds_csv)
    config["tune"] = {"space": SPACE, "metric": "valid_cut_rmse"}
    with pytest.raises(ConfigError, match=r"tune\.metric: the run logs no metric 'valid_cut_rmse'"):
        gradwise.tune(config, trials=1, out=tmp_path)
    assert not any(tmp_path.iterdir())
