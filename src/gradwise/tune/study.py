"""The Optuna study: storage, samplers and pruners by name, and the trial queue.

The queue is what makes ``trials`` exact across any number of workers and machines. The
process that creates the study adds ``trials`` waiting trials; a worker claims one by moving it
from WAITING to RUNNING, which the storage does under a row lock, so two workers never claim the
same trial and no worker ever creates one. A worker that is interrupted puts its trial back
(WAITING, its parameters kept), so a later ``gradwise tune`` runs it again: the study resumes
where it stopped and still ends with exactly ``trials`` trials.

Samplers: TPE (Bergstra et al., "Algorithms for Hyper-Parameter Optimization", NeurIPS 2011),
random search (Bergstra & Bengio, JMLR 2012), grid, CMA-ES (Hansen, "The CMA Evolution
Strategy: A Tutorial", 2016) and quasi-Monte Carlo (scrambled Sobol). Pruners: the median
stopping rule (Golovin et al., "Google Vizier", KDD 2017) and Hyperband (Li et al., JMLR 2018).
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import warnings
from collections.abc import Callable
from typing import Any

import optuna
from optuna.trial import TrialState

from gradwise.errors import ConfigError
from gradwise.registry import Registry
from gradwise.tune import space
from gradwise.tune.plan import TunePlan

BUDGET_ATTR = "gradwise.trials"  # study user attribute: the trials the queue was filled to
METRIC_ATTR = "gradwise.metric"
BUDGET_WAIT_SECONDS = 60.0  # how long a joining worker waits for the creator to fill the queue

SAMPLERS: Registry[Callable[[TunePlan, int], optuna.samplers.BaseSampler]] = Registry(
    "sampler", key="tune.sampler"
)
PRUNERS: Registry[Callable[[TunePlan], optuna.pruners.BasePruner]] = Registry(
    "pruner", key="tune.pruner"
)


def quiet_optuna() -> None:
    """Optuna's own log lines and experimental-feature warnings would drown the progress."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", module="optuna")


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


# -------------------------------------------------------------------------------- storage
def open_storage(url: str) -> optuna.storages.BaseStorage:
    """An SQLAlchemy URL as an Optuna storage; a wrong URL or an unreachable server is a
    :class:`ConfigError` naming the URL (with its password hidden)."""
    import sqlalchemy

    try:
        shown = sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)
    except sqlalchemy.exc.ArgumentError:
        raise ConfigError(
            f"--storage {url!r}: not a database URL (expected e.g. sqlite:///study.db or "
            "postgresql://user:password@host:5432/db)"
        ) from None
    sqlite = url.startswith("sqlite")
    engine = SQLITE_ENGINE if sqlite else {"pool_pre_ping": True}
    try:
        rdb = optuna.storages.RDBStorage(url, engine_kwargs=engine)
    except (ImportError, sqlalchemy.exc.NoSuchModuleError) as exc:
        raise ConfigError(f"--storage {shown}: no database driver for it ({exc})") from None
    except sqlalchemy.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise ConfigError(f"--storage {shown}: cannot open the database ({reason})") from None
    if sqlite:
        sqlalchemy.event.listen(rdb.engine, "begin", _begin_immediate)
    return optuna.storages.get_storage(rdb)


# SQLite: several processes share one file. The driver's own transactions start only at the
# first write, so "read WAITING, then set RUNNING" would not be atomic and two workers could
# claim one trial; every transaction therefore takes the write lock when it begins (BEGIN
# IMMEDIATE; the driver's implicit BEGIN is turned off), and waits for it instead of failing.
SQLITE_ENGINE: dict[str, Any] = {"connect_args": {"timeout": 300, "isolation_level": None}}


def _begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def open_study(plan: TunePlan, storage: optuna.storages.BaseStorage) -> StudyQueue:
    """Create the study and fill its queue, or join the existing one (resuming it, and
    topping its queue up when ``plan.trials`` asks for more trials than it had)."""
    pruner = PRUNERS.get(plan.tune.pruner)(plan)
    sampler = trial_sampler(plan, 0)
    try:
        study = optuna.create_study(
            storage=storage,
            study_name=plan.study,
            direction=plan.direction,
            sampler=sampler,
            pruner=pruner,
        )
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(
            study_name=plan.study, storage=storage, sampler=sampler, pruner=pruner
        )
        queue = StudyQueue(study, storage, plan)
        queue.check_same_objective()
        queue.top_up()
        return queue
    study.set_user_attr(METRIC_ATTR, plan.metric)
    study.set_user_attr(BUDGET_ATTR, plan.trials)  # before the queue: joiners wait for it
    queue = StudyQueue(study, storage, plan)
    queue.enqueue(plan.trials)
    return queue


class StudyQueue:
    """A study seen as a queue of waiting trials that workers claim one at a time."""

    def __init__(
        self, study: optuna.Study, storage: optuna.storages.BaseStorage, plan: TunePlan
    ) -> None:
        self.study = study
        self.storage = storage
        self.plan = plan
        self.study_id = storage.get_study_id_from_name(study.study_name)

    def trial_id(self, number: int) -> int:
        return self.storage.get_trial_id_from_study_id_trial_number(self.study_id, number)

    def check_same_objective(self) -> None:
        plan = self.plan
        direction = self.study.direction.name.lower()
        metric = self.study.user_attrs.get(METRIC_ATTR, plan.metric)
        if direction != plan.direction or metric != plan.metric:
            raise ConfigError(
                f"study '{plan.study}' in {plan.storage} optimizes {metric} ({direction}), not "
                f"{plan.metric} ({plan.direction}); choose another --study name or --out folder"
            )

    def enqueue(self, count: int) -> None:
        for _ in range(count):
            self.study.add_trial(optuna.trial.create_trial(state=TrialState.WAITING))

    def budget(self) -> int:
        """The trials the queue was filled to (a study made without gradwise: its trials)."""
        deadline = time.monotonic() + BUDGET_WAIT_SECONDS
        while True:
            attrs = self.study.user_attrs
            if BUDGET_ATTR in attrs:
                return int(attrs[BUDGET_ATTR])
            trials = len(self.study.get_trials(deepcopy=False))
            if trials or time.monotonic() > deadline:
                return trials
            time.sleep(0.2)  # just created by another process, which sets the budget next

    def top_up(self) -> None:
        """Grow the queue to ``plan.trials``. Several processes may ask at once; only the one
        that creates the claim marker (study names are unique in a storage) adds trials."""
        trials = self.plan.trials
        if trials <= self.budget():
            return
        marker = f"{self.study.study_name}:gradwise-trials-{trials}"
        try:
            marker_id = self.storage.create_new_study(
                [optuna.study.StudyDirection.MINIMIZE], marker
            )
        except optuna.exceptions.DuplicatedStudyError:
            return  # another process is adding them
        try:
            self.study.set_user_attr(BUDGET_ATTR, trials)
            self.enqueue(trials - len(self.study.get_trials(deepcopy=False)))
        finally:
            self.storage.delete_study(marker_id)

    def claim(self) -> optuna.Trial | None:
        """Move one waiting trial to RUNNING and return it; None when every trial of the
        study has started (or ``plan.trials`` of them, when this process asked for fewer)."""
        deadline = time.monotonic() + BUDGET_WAIT_SECONDS
        while True:
            trials = self.storage.get_all_trials(self.study_id, deepcopy=False)
            started = [t for t in trials if t.state != TrialState.WAITING]
            if len(started) >= self.plan.trials:
                return None
            for waiting in (t for t in trials if t.state == TrialState.WAITING):
                trial_id = self.trial_id(waiting.number)
                try:
                    if not self.storage.set_trial_state_values(trial_id, TrialState.RUNNING):
                        continue  # another worker claimed it first
                except optuna.exceptions.UpdateFinishedTrialError:
                    continue
                self.study.sampler = trial_sampler(self.plan, waiting.number)
                trial = optuna.Trial(self.study, trial_id)
                trial.set_user_attr("host", socket.gethostname())
                trial.set_user_attr("pid", os.getpid())
                return trial
            if len(trials) >= self.budget() or time.monotonic() > deadline:
                return None
            time.sleep(0.5)  # another process is still filling the queue

    def requeue(self, number: int) -> None:
        """Put a started trial back in the queue, its parameters kept."""
        with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):
            self.storage.set_trial_state_values(self.trial_id(number), TrialState.WAITING)

    def requeue_orphans(self) -> int:
        """Put back the RUNNING trials of processes on this machine that no longer exist
        (killed without a chance to requeue them); returns how many."""
        host = socket.gethostname()
        orphans = 0
        for trial in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            pid = trial.user_attrs.get("pid")
            if trial.user_attrs.get("host") == host and pid is not None and not _alive(int(pid)):
                self.requeue(trial.number)
                orphans += 1
        return orphans


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
