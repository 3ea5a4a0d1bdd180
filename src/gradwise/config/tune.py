"""The ``tune:`` section: a hyperparameter search over any config key (``gradwise tune``).

```yaml
tune:
  space:
    train.optimizer.lr: {type: float, low: 1.0e-4, high: 0.1, log: true}
    train.batch_size: {type: categorical, choices: [32, 64, 128]}
    model.dropout: {type: float, low: 0.0, high: 0.5}
    model.hidden: {type: layers, layers: {low: 1, high: 3}, width: {low: 32, high: 512, log: true}}
    model.activation: [relu, gelu]           # a list is shorthand for categorical choices
  metric: valid_accuracy     # default: valid_<main metric> (valid_accuracy, valid_rmse)
  direction: maximize        # default: from the metric (accuracy/f1/auc/r2 up, losses down)
  trials: 40                 # trials in the whole study, across every worker and machine
  timeout: null              # seconds after which no new trial starts (the rest stay queued)
  sampler: tpe               # tpe | random | grid | cmaes | qmc
  pruner: median             # median | hyperband | none
```

Only the shape of each entry is checked here; that each key exists in the experiment schema
and accepts the range is checked against the whole experiment before any trial runs
(``gradwise.tuning.space.check_space``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from gradwise.config.errors import NestedProblem, first_problem
from gradwise.config.sections import Section

ParamType = Literal["float", "int", "categorical", "layers"]
Choice = Any  # a YAML scalar, or a list/mapping (stored in the study as its JSON text)


class ParamSpec(Section):
    """One searched key: a float/int range, a list of choices, or a layer stack."""

    type: ParamType
    low: float | None = None  # float/int: smallest value
    high: float | None = None  # float/int: largest value (included)
    log: bool = False  # float/int: sample uniformly in log space (needs low > 0)
    step: float | None = None  # float/int: spacing of the values (int default: 1)
    choices: list[Choice] | None = None  # categorical: the values to choose from
    layers: ParamSpec | None = None  # layers: how many layers (an int range)
    width: ParamSpec | None = None  # layers: units/channels of each layer (an int range)

    @model_validator(mode="before")
    @classmethod
    def _infer_type(cls, raw: Any) -> Any:
        if isinstance(raw, list):  # `key: [a, b]` is shorthand for categorical choices
            return {"type": "categorical", "choices": raw}
        if isinstance(raw, dict) and "type" not in raw:
            if "choices" in raw:
                return {"type": "categorical", **raw}
            if "layers" in raw or "width" in raw:
                return {"type": "layers", **raw}
            ints = all(_is_int(raw.get(bound)) for bound in ("low", "high"))
            return {"type": "int" if ints else "float", **raw}
        return raw

    @model_validator(mode="after")
    def _fits_its_type(self) -> ParamSpec:
        SPEC_CHECKS[self.type](self)
        return self


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _forbid(spec: ParamSpec, *fields: str) -> None:
    given = [f for f in fields if getattr(spec, f) not in (None, False)]
    if given:
        raise ValueError(f"type {spec.type} takes no {', '.join(given)}")


def _check_range(spec: ParamSpec) -> None:
    _forbid(spec, "choices", "layers", "width")
    if spec.low is None or spec.high is None:
        raise ValueError(f"type {spec.type} needs low and high")
    if spec.low > spec.high:
        raise ValueError(f"low ({spec.low:g}) must be ≤ high ({spec.high:g})")
    if spec.log and spec.low <= 0:
        raise ValueError(f"log: true needs low > 0, got low={spec.low:g}")
    if spec.log and spec.step is not None:
        raise ValueError("log and step cannot be combined")
    if spec.step is not None and spec.step <= 0:
        raise ValueError(f"step must be > 0, got {spec.step:g}")


def _check_int(spec: ParamSpec) -> None:
    _check_range(spec)
    for name in ("low", "high", "step"):
        value = getattr(spec, name)
        if value is not None and float(value) != int(value):
            raise ValueError(f"type int needs a whole {name}, got {value:g}")


def _check_categorical(spec: ParamSpec) -> None:
    _forbid(spec, "low", "high", "log", "step", "layers", "width")
    if not spec.choices:
        raise ValueError("type categorical needs a non-empty list of choices")


def _check_layers(spec: ParamSpec) -> None:
    _forbid(spec, "low", "high", "log", "step", "choices")
    for part in ("layers", "width"):
        sub = getattr(spec, part)
        if sub is None or sub.type != "int":
            raise ValueError(f"type layers needs {part}: {{low: INT, high: INT}}")
        if sub.low is None or sub.low < 1:
            raise ValueError(f"{part}.low must be ≥ 1")


SPEC_CHECKS: dict[str, Callable[[ParamSpec], None]] = {
    "float": _check_range,
    "int": _check_int,
    "categorical": _check_categorical,
    "layers": _check_layers,
}


class TuneConfig(Section):
    space: dict[str, ParamSpec]  # dotted config key → what to search
    metric: str | None = None  # logged metric to optimize; default valid_<main metric>
    direction: Literal["maximize", "minimize"] | None = None  # default: from the metric
    trials: Annotated[int, Field(ge=1)] = 20  # trials in the whole study (every worker)
    timeout: Annotated[float, Field(gt=0)] | None = None  # seconds; then no new trial starts
    sampler: Literal["tpe", "random", "grid", "cmaes", "qmc"] = "tpe"
    pruner: Literal["median", "hyperband", "none"] = "median"
    startup_trials: Annotated[int, Field(ge=0)] = 5  # median: finished trials before pruning
    warmup_epochs: Annotated[int, Field(ge=0)] = 2  # median: no pruning before this epoch
    seed: Annotated[int, Field(ge=0)] | None = None  # sampler seed; default: the experiment's
    reports: bool = False  # write report.html into each trial's run directory

    @field_validator("space", mode="before")
    @classmethod
    def _entries_name_their_key(cls, raw: Any) -> Any:
        """Validate each entry here so that a message names the dotted key (pydantic's own
        error path cannot hold a key with dots in it)."""
        if not isinstance(raw, dict):
            return raw
        if not raw:
            raise ValueError("needs at least one key to search, e.g. train.optimizer.lr")
        checked = {}
        for key, entry in raw.items():
            if not isinstance(key, str) or not key or key.split(".")[0] == "tune":
                raise ValueError(f"'{key}' is not a config key that can be searched")
            try:
                checked[key] = ParamSpec.model_validate(entry)
            except ValidationError as exc:
                raise NestedProblem(first_problem(exc, ParamSpec, key)) from None
        return checked

    @field_validator("metric")
    @classmethod
    def _metric_is_logged_per_epoch(cls, metric: str | None) -> str | None:
        if metric is not None and not metric.startswith(("valid_", "train_", "eval_")):
            raise ValueError(
                "must be a metric logged each epoch (valid_accuracy, valid_loss, train_loss, "
                "eval_return, ...)"
            )
        return metric
