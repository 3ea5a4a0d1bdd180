"""Samplers and pruners by name (``tune.sampler``, ``tune.pruner``).

Samplers: TPE (Bergstra et al., "Algorithms for Hyper-Parameter Optimization", NeurIPS 2011),
random search (Bergstra & Bengio, JMLR 2012), grid, CMA-ES (Hansen, "The CMA Evolution
Strategy: A Tutorial", 2016) and quasi-Monte Carlo (scrambled Sobol). Pruners: the median
stopping rule (Golovin et al., "Google Vizier", KDD 2017) and Hyperband (Li et al., JMLR 2018).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import optuna

from gradwise.errors import ConfigError
from gradwise.registry import Registry
from gradwise.tuning import space
from gradwise.tuning.plan import TunePlan

SAMPLERS: Registry[Callable[[TunePlan, int], optuna.samplers.BaseSampler]] = Registry(
    "sampler", key="tune.sampler"
)
PRUNERS: Registry[Callable[[TunePlan], optuna.pruners.BasePruner]] = Registry(
    "pruner", key="tune.pruner"
)


# ------------------------------------------------------------------------------ samplers
@SAMPLERS.register("tpe")
def _tpe(plan: TunePlan, seed: int) -> optuna.samplers.BaseSampler:
    return optuna.samplers.TPESampler(seed=seed, constant_liar=True)


@SAMPLERS.register("random")
def _random(plan: TunePlan, seed: int) -> optuna.samplers.BaseSampler:
    return optuna.samplers.RandomSampler(seed=seed)


class QueueGridSampler(optuna.samplers.GridSampler):
    """The grid sampler without its own stopping rule: the queue decides when the study ends
    (the plan caps ``trials`` at the grid size)."""

    def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
        pass


@SAMPLERS.register("grid")
def _grid(plan: TunePlan, seed: int) -> optuna.samplers.BaseSampler:
    # the seed shuffles the grid's order, which every trial must share: grid ids index it
    return QueueGridSampler(space.grid(plan.tune.space), seed=plan.seed)


@SAMPLERS.register("cmaes")
def _cmaes(plan: TunePlan, seed: int) -> optuna.samplers.BaseSampler:
    try:
        import cmaes  # noqa: F401
    except ImportError:
        raise ConfigError(
            "tune.sampler: cmaes needs the 'cmaes' package (pip install cmaes); or use tpe"
        ) from None
    return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)


@SAMPLERS.register("qmc")
def _qmc(plan: TunePlan, seed: int) -> optuna.samplers.BaseSampler:
    # the scrambling seed must stay the same for every trial: the sequence is one sequence
    return optuna.samplers.QMCSampler(seed=plan.seed, warn_independent_sampling=False)


def trial_sampler(plan: TunePlan, trial_number: int) -> optuna.samplers.BaseSampler:
    """Each trial's sampler is seeded by the study's seed and the trial's number: the
    proposals do not depend on which worker (or machine) runs the trial, and no two workers
    draw the same numbers (the grid and QMC samplers keep the study's seed: their sequence is
    one for the study)."""
    return SAMPLERS.get(plan.tune.sampler)(plan, trial_seed(plan.seed, trial_number))


def trial_seed(study_seed: int, trial_number: int) -> int:
    """Independent streams per (study seed, trial number): ``seed + number`` would give
    studies with nearby seeds the same proposals, shifted by a trial."""
    import numpy as np

    return int(np.random.SeedSequence([study_seed, trial_number]).generate_state(1)[0])


# -------------------------------------------------------------------------------- pruners
@PRUNERS.register("median")
def _median(plan: TunePlan) -> optuna.pruners.BasePruner:
    return optuna.pruners.MedianPruner(
        n_startup_trials=plan.tune.startup_trials, n_warmup_steps=plan.tune.warmup_epochs
    )


@PRUNERS.register("hyperband")
def _hyperband(plan: TunePlan) -> optuna.pruners.BasePruner:
    return optuna.pruners.HyperbandPruner(
        min_resource=1, max_resource=plan.epochs or "auto", reduction_factor=3
    )


@PRUNERS.register("none")
def _no_pruning(plan: TunePlan) -> optuna.pruners.BasePruner:
    return optuna.pruners.NopPruner()
