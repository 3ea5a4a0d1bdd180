"""From an experiment with a ``tune:`` section to a checked study plan.

Everything a user can get wrong (no tune section, a key that is not in the schema, a range the
schema refuses, a bad worker count) is found here, before any trial runs. The plan is a plain
picklable value: worker processes receive it as it is.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gradwise.config import ExperimentConfig, validate_config
from gradwise.config.load import ConfigSource, read_raw_config
from gradwise.config.tune import ParamSpec, TuneConfig
from gradwise.errors import ConfigError
from gradwise.metric_names import higher_is_better
from gradwise.tasks import TASKS
from gradwise.tuning import space

DEFAULT_OUT = Path("runs")


@dataclass(frozen=True)
class TunePlan:
    experiment: dict[str, Any]  # the experiment file without its tune section, overrides applied
    tune: TuneConfig
    study: str  # study name in the storage
    study_dir: Path  # tune.json, best.yaml, plots, trials/ (and study.db by default)
    storage: str  # SQLAlchemy URL shared by every worker
    metric: str  # logged metric the trials are judged by, e.g. valid_accuracy
    direction: str  # maximize | minimize
    trials: int  # trials in the whole study
    workers: int  # worker processes on this machine
    timeout: float | None  # seconds after which this process starts no new trial
    seed: int  # sampler seed (each trial's sampler is seeded with seed + trial number)
    epochs: int | None  # epochs per trial, or None when train.epochs is searched
    nproc: int = 1  # processes that train each trial data-parallel (1: in the worker itself)

    @property
    def trials_dir(self) -> Path:
        return self.study_dir / "trials"


def plan_study(
    config: ConfigSource,
    *,
    overrides: Iterable[str] | Mapping[str, Any] | None = None,
    trials: int | None = None,
    workers: int = 1,
    storage: str | None = None,
    study: str | None = None,
    out: str | Path | None = None,
    timeout: float | None = None,
    nproc: int | None = None,
) -> TunePlan:
    """Read and check the experiment and its search space; nothing is written."""
    # as written, not resolved: a trial that switches model.kind must not carry the other
    # kind's defaults
    raw, origin = read_raw_config(config, overrides)
    validated = validate_config(raw, origin)
    if validated.tune is None:
        raise ConfigError(
            f"{origin}: no tune section; add one, e.g. tune: {{space: {{train.optimizer.lr: "
            "{type: float, low: 1.0e-4, high: 0.1, log: true}}}"
        )
    tune = validated.tune
    experiment = {key: value for key, value in raw.items() if key != "tune"}
    space.check_space(experiment, tune.space, origin)
    for flag, value in (("--trials", trials), ("--workers", workers), ("--nproc", nproc)):
        if value is not None and value < 1:
            raise ConfigError(f"{flag}: must be ≥ 1, got {value}")
    nproc = nproc or 1
    check_processes(validated, tune.space, nproc, origin)
    trials = trials if trials is not None else tune.trials
    if tune.sampler == "grid":  # a float range without a step has no grid (ConfigError)
        trials = min(trials, math.prod(len(v) for v in space.grid(tune.space).values()))
    if timeout is not None and timeout <= 0:
        raise ConfigError(f"timeout: must be > 0 seconds, got {timeout}")
    metric = tune.metric or default_metric(validated)
    if metric.startswith("valid_") and validated.data is not None and validated.data.valid == 0:
        raise ConfigError(
            f"{origin}: tune.metric: {metric} needs a validation split (data.valid > 0)"
        )
    study_name = study or validated.name
    study_dir = Path(out) if out is not None else DEFAULT_OUT / f"{study_name}-tune"
    return TunePlan(
        experiment=experiment,
        tune=tune,
        study=study_name,
        study_dir=study_dir.resolve(),
        storage=storage or f"sqlite:///{(study_dir / 'study.db').resolve()}",
        metric=metric,
        direction=tune.direction or default_direction(metric),
        trials=trials,
        workers=workers,
        timeout=timeout if timeout is not None else tune.timeout,
        seed=tune.seed if tune.seed is not None else validated.seed,
        epochs=None if "train.epochs" in tune.space else validated.train.epochs,
        nproc=nproc,
    )


def check_processes(
    config: ExperimentConfig, searched: Mapping[str, ParamSpec], nproc: int, origin: str
) -> None:
    """Every trial can be shared by ``nproc`` data-parallel processes: ``train.batch_size`` is
    the global batch, and each process trains its slice of every batch, so no batch size the
    trials may get (the experiment's, or each one the space allows) is below ``nproc``."""
    if nproc == 1:
        return
    spec = searched.get("train.batch_size")
    if spec is None:
        sizes, key = [config.train.batch_size], "train.batch_size"
    elif spec.type == "categorical":
        sizes, key = list(spec.choices or []), "tune.space.train.batch_size"
    else:
        sizes, key = [spec.low], "tune.space.train.batch_size.low"
    small = [s for s in sizes if isinstance(s, (int, float)) and s < nproc]
    if small:
        raise ConfigError(
            f"{origin}: {key} {small[0]:g} is smaller than --nproc {nproc}: the batch is "
            f"global and each process trains its slice of it, so a batch needs at least "
            f"{nproc} rows; use larger batches or fewer processes"
        )


def default_metric(config: ExperimentConfig) -> str:
    """``valid_<main metric>`` of the task's paradigm: valid_accuracy, valid_rmse, ...; a
    paradigm that chooses the checkpoint's metric (an agent's eval_return) chooses this too."""
    paradigm = TASKS.get(config.task)
    if "train.monitor" in paradigm.config_defaults(config):
        return config.train.monitor
    return f"valid_{paradigm.main_metric}"


def default_direction(metric: str) -> str:
    return "maximize" if higher_is_better(metric) else "minimize"
