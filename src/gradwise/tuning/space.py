"""The search space: each searched key's values in a trial, and checking the keys against the
experiment schema before any trial runs.

Every parameter type is a :class:`ParamKind` in ``PARAM_KINDS``; a kind says how a trial
suggests it (the Optuna parameters it records), how the recorded parameters become the config
value, which values must fit the schema (probes), and its grid for the grid sampler.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gradwise.config.load import load_config
from gradwise.config.tune import ParamSpec
from gradwise.errors import ConfigError
from gradwise.registry import Registry

Params = Mapping[str, Any]  # Optuna parameter name → recorded value
SCALAR_TYPES = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class ParamKind:
    suggest: Callable[[Any, str, ParamSpec], None]  # (trial, key, spec): record parameters
    value: Callable[[str, ParamSpec, Params], Any]  # recorded parameters → config value
    probes: Callable[[ParamSpec], list[Any]]  # config values that must fit the schema
    grid: Callable[[str, ParamSpec], dict[str, list[Any]]]  # parameter name → grid values


PARAM_KINDS: Registry[ParamKind] = Registry("parameter type", key="tune.space.*.type")


# ------------------------------------------------------------------------------- float
def _float_grid(key: str, spec: ParamSpec) -> dict[str, list[Any]]:
    if spec.step is None:
        raise ConfigError(
            f"tune.space.{key}: the grid sampler needs a step (or choices) for a float range"
        )
    count = math.floor((spec.high - spec.low) / spec.step + 1e-9) + 1
    return {key: [round(spec.low + i * spec.step, 12) for i in range(count)]}


PARAM_KINDS.register("float")(
    ParamKind(
        suggest=lambda trial, key, spec: trial.suggest_float(
            key, spec.low, spec.high, log=spec.log, step=spec.step
        ),
        value=lambda key, spec, params: float(params[key]),
        probes=lambda spec: [spec.low, spec.high],
        grid=_float_grid,
    )
)


# --------------------------------------------------------------------------------- int
def _suggest_int(trial: Any, name: str, spec: ParamSpec) -> int:
    step = int(spec.step or 1)
    return trial.suggest_int(name, int(spec.low), int(spec.high), step=step, log=spec.log)


def _int_values(spec: ParamSpec) -> list[int]:
    return list(range(int(spec.low), int(spec.high) + 1, int(spec.step or 1)))


PARAM_KINDS.register("int")(
    ParamKind(
        suggest=_suggest_int,
        value=lambda key, spec, params: int(params[key]),
        probes=lambda spec: [int(spec.low), int(spec.high)],
        grid=lambda key, spec: {key: _int_values(spec)},
    )
)


# ------------------------------------------------------------------------- categorical
def encoded(spec: ParamSpec) -> bool:
    """Lists and mappings among the choices are recorded as their JSON text (Optuna stores
    only scalars); then every choice of the key is, so that the mapping is one-to-one."""
    return any(not isinstance(choice, SCALAR_TYPES) for choice in spec.choices or [])


def optuna_choices(spec: ParamSpec) -> list[Any]:
    choices = spec.choices or []
    return [json.dumps(c) for c in choices] if encoded(spec) else list(choices)


PARAM_KINDS.register("categorical")(
    ParamKind(
        suggest=lambda trial, key, spec: trial.suggest_categorical(key, optuna_choices(spec)),
        value=lambda key, spec, params: json.loads(params[key]) if encoded(spec) else params[key],
        probes=lambda spec: list(spec.choices or []),
        grid=lambda key, spec: {key: optuna_choices(spec)},
    )
)


# ------------------------------------------------------------------------------ layers
def _suggest_layers(trial: Any, key: str, spec: ParamSpec) -> None:
    """``[width] * layers``: depth and width searched as two integers."""
    _suggest_int(trial, f"{key}.layers", spec.layers)
    _suggest_int(trial, f"{key}.width", spec.width)


def _layers_value(key: str, spec: ParamSpec, params: Params) -> list[int]:
    return [int(params[f"{key}.width"])] * int(params[f"{key}.layers"])


PARAM_KINDS.register("layers")(
    ParamKind(
        suggest=_suggest_layers,
        value=_layers_value,
        probes=lambda spec: [
            [int(spec.width.low)] * int(spec.layers.low),
            [int(spec.width.high)] * int(spec.layers.high),
        ],
        grid=lambda key, spec: {
            f"{key}.layers": _int_values(spec.layers),
            f"{key}.width": _int_values(spec.width),
        },
    )
)


# ------------------------------------------------------------------------------ space
def suggest(trial: Any, space: Mapping[str, ParamSpec]) -> dict[str, Any]:
    """Let the trial's sampler choose every searched key; returns ``{dotted key: value}``."""
    for key, spec in space.items():
        PARAM_KINDS.get(spec.type).suggest(trial, key, spec)
    return config_values(space, trial.params)


def config_values(space: Mapping[str, ParamSpec], params: Params) -> dict[str, Any]:
    """Recorded Optuna parameters → ``{dotted key: config value}`` (for best.yaml too)."""
    return {key: PARAM_KINDS.get(spec.type).value(key, spec, params) for key, spec in space.items()}


def grid(space: Mapping[str, ParamSpec]) -> dict[str, list[Any]]:
    """Every parameter's grid values, for the grid sampler."""
    values: dict[str, list[Any]] = {}
    for key, spec in space.items():
        values.update(PARAM_KINDS.get(spec.type).grid(key, spec))
    return values


def check_space(raw: Mapping[str, Any], space: Mapping[str, ParamSpec], origin: str) -> None:
    """Apply each key's extreme values and every choice to the experiment through the schema;
    the first value that does not fit raises a :class:`ConfigError` naming the key."""
    for key, spec in space.items():
        for value in PARAM_KINDS.get(spec.type).probes(spec):
            try:
                load_config(raw, {key: value})
            except ConfigError as exc:
                reason = str(exc).removeprefix("config: ").removeprefix("--set ")
                raise ConfigError(
                    f"{origin}: tune.space.{key}: the value {value!r} does not fit the "
                    f"experiment: {reason}"
                ) from None


def parameters(space: Mapping[str, ParamSpec]) -> dict[str, ParamSpec]:
    """Every Optuna parameter name with the range or choices it is drawn from."""
    found: dict[str, ParamSpec] = {}
    for key, spec in space.items():
        if spec.type == "layers":
            found[f"{key}.layers"], found[f"{key}.width"] = spec.layers, spec.width
        else:
            found[key] = spec
    return found
