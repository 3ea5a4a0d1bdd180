"""The tune: section and the search space: one clear line per mistake, found before any trial
runs; values suggested into dotted config keys."""

from __future__ import annotations

import typing

import optuna
import pytest

from gradwise.config import load_config
from gradwise.config.tune import ParamSpec, TuneConfig
from gradwise.errors import ConfigError
from gradwise.tuning import space
from gradwise.tuning.plan import plan_study
from tests.conftest import tiny_config

LR = {"type": "float", "low": 1e-4, "high": 0.1, "log": True}


def experiment(**tune) -> dict:
    return tiny_config("sklearn:iris", tune={"space": {"train.optimizer.lr": LR}, **tune})


# ------------------------------------------------------------------------- the section
def test_section_defaults_and_shorthands():
    config = load_config(
        experiment(
            space={
                "model.activation": ["relu", "gelu"],
                "train.batch_size": {"low": 16, "high": 64},
                "model.dropout": {"low": 0.0, "high": 0.5},
                "model.hidden": {"layers": {"low": 1, "high": 3}, "width": {"low": 8, "high": 64}},
            }
        )
    )
    tune = config.tune
    assert isinstance(tune, TuneConfig)
    kinds = {key: spec.type for key, spec in tune.space.items()}
    assert kinds == {
        "model.activation": "categorical",
        "train.batch_size": "int",
        "model.dropout": "float",
        "model.hidden": "layers",
    }
    assert (tune.trials, tune.sampler, tune.pruner, tune.metric) == (20, "tpe", "median", None)


@pytest.mark.parametrize(
    ("tune", "fragment"),
    [
        ({"space": {}}, "tune.space: needs at least one key"),
        ({"space": {"model.dropout": {"type": "float", "low": 0.1}}}, "needs low and high"),
        ({"space": {"model.dropout": {"type": "flot", "low": 0, "high": 1}}}, "got 'flot'"),
        ({"space": {"train.optimizer.lr": {"low": 0.0, "high": 1, "log": True}}}, "low > 0"),
        ({"space": {"model.dropout": {"low": 0.5, "high": 0.1}}}, "must be ≤ high"),
        ({"space": {"train.batch_size": {"type": "int", "low": 1.5, "high": 8}}}, "whole low"),
        (
            {"space": {"model.dropout": {"low": 0, "high": 1, "colour": 2}}},
            "tune.space.model.dropout.colour: unknown key; valid keys here: type, low, high",
        ),
        ({"space": {"model.norm": {"type": "categorical", "choices": []}}}, "non-empty list"),
        (
            {"space": {"model.dropout": {"low": 0.0, "high": 0.5, "log": True, "step": 0.1}}},
            "low > 0",
        ),
        (
            {"space": {"train.optimizer.lr": {"low": 0.1, "high": 1, "log": True, "step": 0.1}}},
            "cannot be combined",
        ),
        (
            {
                "space": {
                    "model.hidden": {
                        "layers": {"low": 0, "high": 2},
                        "width": {"low": 4, "high": 8},
                    }
                }
            },
            "layers.low must be ≥ 1",
        ),
        (
            {"space": {"model.hidden": {"type": "layers", "layers": {"low": 1, "high": 2}}}},
            "needs width",
        ),
        ({"space": {"tune.trials": [1, 2]}}, "not a config key that can be searched"),
        ({"metric": "accuracy"}, "tune.metric: must be a metric logged each epoch"),
        ({"sampler": "tpee"}, "(did you mean 'tpe'?)"),
        ({"pruner": "medain"}, "(did you mean 'median'?)"),
        ({"trials": 0}, "tune.trials"),
    ],
)
def test_each_bad_section_is_one_clear_error(tune: dict, fragment: str):
    with pytest.raises(ConfigError) as caught:
        load_config(experiment(**tune))
    message = str(caught.value)
    assert fragment in message, message
    assert "\n" not in message


# ------------------------------------------------------------- keys against the schema
@pytest.mark.parametrize(
    ("key", "entry", "fragments"),
    [
        ("train.optimzer.lr", LR, ["tune.space.train.optimzer.lr", "did you mean 'optimizer'"]),
        (
            "model.dropout",
            {"low": 0.0, "high": 1.0},
            ["tune.space.model.dropout", "1.0", "model.dropout"],
        ),
        ("train.optimizer.name", ["adam", "sgdd"], ["'sgdd'", "did you mean 'sgd'"]),
        ("train.batch_size.size", [1, 2], ["tune.space.train.batch_size.size", "not a section"]),
        (
            "model.hidden",
            {"layers": {"low": 1, "high": 2}, "width": {"low": 1, "high": 8}},
            [],
        ),  # fits: no error
    ],
)
def test_space_keys_are_checked_against_the_schema_before_any_trial(
    key, entry, fragments, tmp_path
):
    config = tiny_config("sklearn:iris", tune={"space": {key: entry}})
    if not fragments:
        plan = plan_study(config, out=tmp_path)
        assert list(plan.tune.space) == [key]
        assert not any(tmp_path.iterdir())  # planning writes nothing
        return
    with pytest.raises(ConfigError) as caught:
        plan_study(config, out=tmp_path)
    for fragment in fragments:
        assert fragment in str(caught.value), str(caught.value)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"workers": 0}, "--workers: must be ≥ 1, got 0"),
        ({"trials": 0}, "--trials: must be ≥ 1, got 0"),
        ({"timeout": -1.0}, "timeout: must be > 0 seconds, got -1.0"),
        ({"overrides": ["tune.sampler=grid"]}, "the grid sampler needs a step"),
    ],
)
def test_each_bad_option_is_one_clear_error(tmp_path, options, message):
    with pytest.raises(ConfigError) as caught:
        plan_study(experiment(), out=tmp_path, **options)
    assert message in str(caught.value)


def test_grid_caps_trials_at_the_grid_size(tmp_path):
    plan = plan_study(
        experiment(sampler="grid", space={"model.activation": ["relu", "tanh", "gelu"]}),
        trials=10,
        out=tmp_path,
    )
    assert plan.trials == 3


def test_no_tune_section_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="no tune section"):
        plan_study(tiny_config("sklearn:iris"), out=tmp_path)


def test_grid_needs_a_step_for_float_ranges(tmp_path):
    with pytest.raises(ConfigError, match=r"tune\.space\.train\.optimizer\.lr: the grid sampler"):
        plan_study(experiment(sampler="grid"), out=tmp_path)


def test_metric_needs_a_validation_split(tmp_path):
    config = experiment()
    config["data"] = {**config["data"], "valid": 0.0}
    with pytest.raises(ConfigError, match="valid_accuracy needs a validation split"):
        plan_study(config, out=tmp_path)


def test_plan_defaults(tmp_path):
    plan = plan_study(experiment(), out=tmp_path / "study", overrides=["tune.trials=7"])
    assert plan.metric == "valid_accuracy" and plan.direction == "maximize"
    assert plan.trials == 7 and plan.seed == 0 and plan.epochs == 3
    assert plan.storage == f"sqlite:///{(tmp_path / 'study' / 'study.db').resolve()}"
    assert "tune" not in plan.experiment
    regression = tiny_config(
        "sklearn:diabetes", task="regression", tune={"space": {"train.optimizer.lr": LR}}
    )
    plan = plan_study(regression, out=tmp_path / "r")
    assert (plan.metric, plan.direction) == ("valid_rmse", "minimize")
    assert plan_study(experiment(metric="valid_loss"), out=tmp_path).direction == "minimize"


# ---------------------------------------------------------------------------- the space
SPACE = {
    "train.optimizer.lr": ParamSpec.model_validate(LR),
    "train.batch_size": ParamSpec.model_validate({"low": 8, "high": 64, "step": 8}),
    "model.dropout": ParamSpec.model_validate({"low": 0.0, "high": 0.5, "step": 0.25}),
    "model.hidden": ParamSpec.model_validate(
        {"layers": {"low": 1, "high": 3}, "width": {"low": 4, "high": 64, "log": True}}
    ),
    "train.schedule": ParamSpec.model_validate([{"name": "cosine"}, {"name": "constant"}]),
}


def test_suggested_values_land_in_their_keys_and_fit_the_schema():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(20):
        trial = study.ask()
        values = space.suggest(trial, SPACE)
        assert set(values) == set(SPACE)
        assert 1e-4 <= values["train.optimizer.lr"] <= 0.1
        assert values["train.batch_size"] in range(8, 65, 8)
        assert values["model.dropout"] in (0.0, 0.25, 0.5)
        hidden = values["model.hidden"]
        assert 1 <= len(hidden) <= 3 and len(set(hidden)) == 1 and 4 <= hidden[0] <= 64
        assert values["train.schedule"] in ({"name": "cosine"}, {"name": "constant"})
        config = load_config(experiment(), values)  # every suggestion is a valid experiment
        assert config.model.hidden == hidden
        # recorded parameters → the same config values (as best.yaml is written)
        assert space.config_values(SPACE, trial.params) == values
        study.tell(trial, 0.0)
    # mappings are recorded as their JSON text, so Optuna stores only scalars
    assert set(study.trials[0].params["train.schedule"]) <= set('{"name": cosine constant}')


def test_grid_lists_every_parameter_value():
    assert space.grid(
        SPACE
        | {
            "train.optimizer.lr": ParamSpec.model_validate(
                {"low": 0.01, "high": 0.03, "step": 0.01}
            )
        }
    ) == {
        "train.optimizer.lr": [0.01, 0.02, 0.03],
        "train.batch_size": [8, 16, 24, 32, 40, 48, 56, 64],
        "model.dropout": [0.0, 0.25, 0.5],
        "model.hidden.layers": [1, 2, 3],
        "model.hidden.width": list(range(4, 65)),
        "train.schedule": ['{"name": "cosine"}', '{"name": "constant"}'],
    }


def test_registries_cover_every_name_the_schema_accepts():
    from gradwise.tuning.samplers import PRUNERS, SAMPLERS

    fields = TuneConfig.model_fields
    assert set(typing.get_args(fields["sampler"].annotation)) == set(SAMPLERS.names())
    assert set(typing.get_args(fields["pruner"].annotation)) == set(PRUNERS.names())
    assert set(typing.get_args(ParamSpec.model_fields["type"].annotation)) == set(
        space.PARAM_KINDS.names()
    )
