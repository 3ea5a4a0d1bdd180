"""From estimator parameters to an experiment config (torch-free).

Each constructor parameter stands for one key of the experiment file (:data:`PARAMETER_KEYS`);
a parameter left at ``None`` keeps the value of ``config=`` (a YAML path or a dict), or
gradwise's default. ``options`` sets any further key by its dotted name
(``{"model.channels": [16, 32], "train.grad_clip": 1.0}``). The data section's source, target
and feature columns are not read: the estimator learns from the ``X`` and ``y`` given to ``fit``
(``data.valid`` of them validate, 0 unless early stopping is on; there is no test split).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gradwise.errors import ConfigError

# estimator parameter -> the experiment key it sets
PARAMETER_KEYS: dict[str, str] = {
    "model": "model.kind",
    "hidden": "model.hidden",
    "activation": "model.activation",
    "norm": "model.norm",
    "dropout": "model.dropout",
    "epochs": "train.epochs",
    "batch_size": "train.batch_size",
    "lr": "train.optimizer.lr",
    "optimizer": "train.optimizer.name",
    "weight_decay": "train.optimizer.weight_decay",
    "schedule": "train.schedule.name",
    "loss": "train.loss",
    "early_stopping": "train.early_stopping",
    "valid_fraction": "data.valid",
    "scale": "data.scale",
    "device": "train.device",
}
IN_MEMORY_SOURCE = "memory:fit"  # data.source of an estimator's experiment (X and y of fit)
EARLY_STOPPING_PATIENCE = 10  # early_stopping=True
EARLY_STOPPING_VALID = 0.1  # valid_fraction when early stopping is on and none was given


class ParameterError(ConfigError, ValueError):
    """An estimator parameter (or ``config=``) that gradwise cannot use; a ``ValueError`` for
    scikit-learn (searches record it as a failed fit) and a ``ConfigError`` for gradwise."""


class InputError(ConfigError, ValueError):
    """``X`` or ``y`` that gradwise cannot learn from (the message names what is wrong)."""


def base_config(config: str | Path | Mapping[str, Any] | None) -> dict[str, Any]:
    """The experiment ``config=`` names, as written (a YAML path or a mapping); {} for None."""
    if config is None:
        return {}
    if isinstance(config, Mapping):
        from gradwise.config.load import read_raw_config

        return read_raw_config({"data": {"source": IN_MEMORY_SOURCE}, **config})[0]
    if isinstance(config, (str, Path)):
        from gradwise.config.load import read_yaml_mapping

        return read_yaml_mapping(Path(config))
    raise ParameterError(f"config: expected a YAML path or a mapping, got {type(config).__name__}")


def parameter_overrides(params: Mapping[str, Any], task: str) -> dict[str, Any]:
    """Dotted keys set by the given (not None) parameters, ``options`` last."""
    overrides: dict[str, Any] = {"task": task}
    for name, key in PARAMETER_KEYS.items():
        value = params.get(name)
        if value is None:
            continue
        overrides[key] = _config_value(name, value)
    if params.get("random_state") is not None:
        overrides["seed"] = params["random_state"]
    for key, value in (params.get("options") or {}).items():
        if not isinstance(key, str):
            raise ParameterError(f"options: keys are dotted config keys, got {key!r}")
        if key == "task":
            raise ParameterError(f"options['task']: the estimator's class decides it ({task})")
        overrides[key] = value
    return overrides


def _config_value(name: str, value: Any) -> Any:
    """A parameter's value as the config takes it: tuples as lists; ``early_stopping`` True
    as ``{patience: 10}``, False as off, an int as the patience."""
    if name == "early_stopping":
        if value is True:
            return {"patience": EARLY_STOPPING_PATIENCE}
        if value is False:
            return None
        return value
    if isinstance(value, tuple):
        return list(value)
    return value


def build_config(
    params: Mapping[str, Any], task: str, extra: Mapping[str, Any] | None = None
) -> Any:
    """The validated :class:`~gradwise.config.ExperimentConfig` of an estimator: ``config=``
    under the parameters, data read from memory, no test split (``fit`` gets training rows).

    ``extra``: keys set last (``partial_fit`` sets one epoch). A problem raises
    :class:`ParameterError` naming the parameter (or the dotted key of ``options``)."""
    from gradwise.config.load import set_dotted, validate_config

    overrides = parameter_overrides(params, task)
    overrides.update(extra or {})
    try:
        raw = base_config(params.get("config"))
        model = raw.get("model")
        kind = overrides.get("model.kind")
        if kind is not None and isinstance(model, dict) and model.get("kind", "mlp") != kind:
            raw["model"] = {}  # another kind's keys do not carry over
        data = raw.get("data") if isinstance(raw.get("data"), dict) else {}
        data = {k: v for k, v in data.items() if k not in ("source", "target", "features")}
        raw["data"] = {**data, "source": IN_MEMORY_SOURCE, "test": 0.0}
        if "valid" not in data:  # every row trains, unless early stopping needs a validation
            stopping = overrides.get("train.early_stopping", _early_stopping(raw))
            raw["data"]["valid"] = EARLY_STOPPING_VALID if stopping is not None else 0.0
        for key, value in overrides.items():
            set_dotted(raw, key, value)
        return validate_config(raw, "config", overrides)
    except ConfigError as exc:
        raise ParameterError(_name_parameters(str(exc), overrides)) from None


def _early_stopping(raw: Mapping[str, Any]) -> Any:
    train = raw.get("train")
    return train.get("early_stopping") if isinstance(train, dict) else None


def _name_parameters(message: str, overrides: Mapping[str, Any]) -> str:
    """``override train.optimizer.lr=...`` → ``lr=...``: messages name the parameter."""
    by_key = {key: name for name, key in PARAMETER_KEYS.items()}
    by_key["seed"] = "random_state"
    for key in overrides:
        prefix = f"override {key}="
        if message.startswith(prefix):
            name = by_key.get(key, f"options['{key}']")
            return f"{name}={message[len(prefix) :]}"
    return message
