"""``data.target`` naming several columns, ``train.loss_weights``, and each bad input's one line."""

from __future__ import annotations

import pytest

from gradwise.config import load_config
from gradwise.errors import ConfigError
from tests.conftest import run_torch_free

BOTH = {"source": "gems.csv", "target": ["price", "cut"]}


def config(data: dict | None = None, **train) -> dict:
    return {"data": data or BOTH, "train": train}


def test_several_targets_without_a_task_choose_the_multi_target_task():
    assert load_config(config()).task == "multitask"
    mapping = {"source": "gems.csv", "target": {"price": "regression", "cut": "classification"}}
    assert load_config(config(mapping)).task == "multitask"
    # one column keeps the single-target default; an explicit task is kept
    assert load_config(config({"source": "gems.csv", "target": ["cut"]})).task == "classification"
    explicit = {**config(), "task": "regression"}
    assert load_config(explicit).task == "regression"  # several values: multi-output regression


def test_loss_weights_fixed_or_uncertainty():
    assert load_config(config(loss_weights={"price": 2.0})).train.loss_weights == {"price": 2.0}
    assert load_config(config(loss_weights="uncertainty")).train.loss_weights == "uncertainty"
    assert load_config(config(loss_weights={"price": 0, "cut": 1})).train.loss_weights["price"] == 0


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            config(
                {"source": "gems.csv", "target": {"price": "regresion", "cut": "classification"}}
            ),
            r"data\.target\.price: unknown kind 'regresion' \(did you mean 'regression'\?\); "
            r"choose from: classification, regression",
        ),
        (
            config(loss_weights={"carat": 1.0}),
            r"train\.loss_weights\.carat: 'carat' is not a target; the targets are: price, cut",
        ),
        (
            config(loss_weights={"price": -0.5}),
            r"train\.loss_weights\.price: a loss weight must be a number ≥ 0, got -0\.5",
        ),
        (
            config(loss_weights={"price": 0, "cut": 0}),
            r"train\.loss_weights: every weight is 0",
        ),
        (
            config(loss_weights="uncertain"),
            r"train\.loss_weights: .*did you mean 'uncertainty'",
        ),
        (
            {**config(loss_weights="uncertainty"), "task": "regression"},
            r"train\.loss_weights: task 'regression' learns one target",
        ),
        (
            {
                "task": "classification",
                "data": {"source": "gems.csv", "target": {"cut": "classification"}},
            },
            r"data\.target: task 'classification' learns one target; a mapping",
        ),
        (
            config({**BOTH, "sampling": "oversample"}),
            r"data\.sampling: 'oversample' resamples rows by one target's classes",
        ),
        (config(class_weights=[1.0, 2.0]), r"train\.class_weights: a list of per-class weights"),
        (config(loss="bce"), r"train\.loss: 'bce' cannot be the loss of the value targets"),
        (
            {"task": "multitask", "data": {"source": "gems.csv"}},
            r"data\.target: required for several targets",
        ),
    ],
)
def test_each_bad_input_is_one_line_naming_the_key(raw: dict, message: str):
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(raw)
    assert "\n" not in str(caught.value)


def test_the_paradigm_and_its_config_are_torch_free_at_import():
    done = run_torch_free(
        "from gradwise.config import load_config\n"
        "from gradwise.tasks import TASKS\n"
        "config = load_config({'data': {'source': 'x.csv', 'target': ['a', 'b']},"
        " 'train': {'loss_weights': 'uncertainty'}})\n"
        "assert config.task == 'multitask' and TASKS.get('multitask').target_kind == 'multi'\n"
    )
    assert done.returncode == 0, done.stderr
