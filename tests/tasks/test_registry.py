"""The paradigm registry: names, what each built-in paradigm declares, torch-free import."""

from __future__ import annotations

import pytest

from gradwise.config import load_config
from gradwise.errors import ConfigError
from gradwise.experiment import build_experiment
from gradwise.tasks import TASKS, load_data, task_for_targets
from tests.conftest import run_torch_free, tiny_config


def test_built_in_paradigms_and_what_they_declare():
    assert {"classification", "regression"} <= set(TASKS.names())
    for name in TASKS.names():
        assert TASKS.get(name).name == name  # registration names the class
    assert task_for_targets("labels") == "classification"
    assert task_for_targets("values") == "regression"
    assert TASKS.get("classification").main_metric == "accuracy"
    assert TASKS.get("regression").default_loss == "mse"


def test_importing_the_registry_and_loading_a_config_do_not_import_torch():
    result = run_torch_free(
        "from gradwise.tasks import TASKS\n"
        "from gradwise.config import load_config\n"
        "load_config({'task': 'regression', 'data': {'source': 'sklearn:diabetes'}})\n"
        "assert TASKS.get('regression').target_kind == 'values'\n"
    )
    assert result.returncode == 0, result.stderr


def test_a_loss_that_does_not_fit_the_paradigm_names_the_task():
    config = load_config(tiny_config("sklearn:iris", train={"loss": "mse"}))
    with pytest.raises(ConfigError, match=r"train\.loss: 'mse' does not fit task 'classification'"):
        build_experiment(config, load_data(config))
