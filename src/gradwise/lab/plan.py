"""From the command's arguments to a checked lab plan (nothing is trained or written here).

Everything a user can get wrong — an unknown lab, a missing experiment file, a bad budget, seed
or worker count, an experiment without a validation split — is found here, before any run.
The plan is a plain picklable value: worker processes receive it as it is.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gradwise.config import validate_config
from gradwise.config.load import ConfigSource, read_raw_config
from gradwise.errors import ConfigError
from gradwise.lab.base import LABS
from gradwise.metric_names import higher_is_better

DEFAULT_OUT = Path("labs")
DEFAULT_SEEDS = 3


@dataclass(frozen=True)
class LabPlan:
    lab: str  # a name in LABS
    experiment: dict[str, Any]  # the experiment as written, overrides applied
    origin: str  # where the experiment came from, for messages
    name: str  # the experiment's name
    seeds: tuple[int, ...]  # the experiment's seed, then the next ones
    budget: float | None  # seconds of training for the whole lab, split over the arms
    workers: int  # worker processes on this machine
    out: Path  # the folder the lab's folder is made in
    metric: str  # e.g. valid_accuracy: what the arms are judged by
    higher_is_better: bool
    arm_names: tuple[str, ...] | None  # --arms: a subset of the lab's arms
    lr_points: int  # learning rates per lr sweep (optimizers lab)
    lr_scaling: str  # how the batch lab scales the learning rate with the batch size
    epochs: int  # train.epochs of the experiment
    profile: dict[str, Any] = field(default_factory=dict)  # the data's profile, once loaded

    @property
    def direction(self) -> str:
        return "maximize" if self.higher_is_better else "minimize"


def plan_lab(
    lab: str,
    config: ConfigSource,
    *,
    overrides: Iterable[str] | Mapping[str, Any] | None = None,
    seeds: int = DEFAULT_SEEDS,
    budget: float | None = None,
    workers: int = 1,
    out: str | Path | None = None,
    arms: Sequence[str] | None = None,
    lr_points: int = 4,
    lr_scaling: str = "sqrt",
) -> LabPlan:
    """Check the lab's name, the experiment and the options; nothing is written."""
    from gradwise.lab import load_labs

    load_labs()
    LABS.get(lab)  # ConfigError naming the closest lab
    for flag, value, least in (("--seeds", seeds, 1), ("--workers", workers, 1)):
        if value < least:
            raise ConfigError(f"{flag}: must be ≥ {least}, got {value}")
    if not 2 <= lr_points <= 9:
        raise ConfigError(f"--lr-points: must be between 2 and 9, got {lr_points}")
    if budget is not None and not (math.isfinite(budget) and budget > 0):
        raise ConfigError(f"--budget: must be a positive number of seconds, got {budget:g}")
    from gradwise.lab.batch import LR_SCALING  # torch-free table of rules

    LR_SCALING.get(lr_scaling)
    raw, origin = read_raw_config(config, overrides)
    validated = validate_config(raw, origin)
    if validated.data.valid == 0:
        raise ConfigError(
            f"{origin}: data.valid: a lab judges its arms on the validation split; set "
            "data.valid > 0 (e.g. 0.1)"
        )
    from gradwise.tasks import TASKS

    metric = f"valid_{TASKS.get(validated.task).main_metric}"
    return LabPlan(
        lab=lab,
        experiment=raw,
        origin=origin,
        name=validated.name,
        seeds=tuple(validated.seed + i for i in range(seeds)),
        budget=budget,
        workers=workers,
        out=Path(out) if out is not None else DEFAULT_OUT,
        metric=metric,
        higher_is_better=higher_is_better(metric),
        arm_names=tuple(arms) if arms else None,
        lr_points=lr_points,
        lr_scaling=lr_scaling,
        epochs=validated.train.epochs,
    )
