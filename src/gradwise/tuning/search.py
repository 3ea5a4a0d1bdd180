"""``tune(config) -> TuneResult``: plan and check the study, run its workers, write results.

>>> import gradwise
>>> result = gradwise.tune("exp.yaml", trials=40, workers=2)
>>> result.best_value, result.best_params, result.best_config   # best.yaml
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gradwise.config import load_config
from gradwise.config.load import ConfigSource
from gradwise.errors import ConfigError
from gradwise.tuning.plan import TunePlan, plan_study

if TYPE_CHECKING:
    from gradwise.tuning.results import TuneResult
    from gradwise.tuning.study import StudyQueue


def tune(
    config: ConfigSource,
    *,
    trials: int | None = None,
    workers: int = 1,
    storage: str | None = None,
    study: str | None = None,
    out: str | Path | None = None,
    overrides: Iterable[str] | Mapping[str, Any] | None = None,
    timeout: float | None = None,
    quiet: bool = True,
    nproc: int | None = None,
) -> TuneResult:
    """Search the experiment's ``tune.space`` and return the study's result.

    ``trials`` (default ``tune.trials``) counts the trials of the whole study, shared by the
    ``workers`` processes started here and by any other ``gradwise tune`` on the same
    ``storage`` (an SQLAlchemy URL; default an SQLite file ``study.db`` in the study directory
    ``out``, default ``runs/<study>-tune``). Running it again resumes the study. Nothing is
    written before the experiment, its search space and its data have been checked. ``nproc``
    trains each trial in that many data-parallel processes (:mod:`gradwise.tuning.parallel`).
    """
    plan = plan_study(
        config,
        overrides=overrides,
        trials=trials,
        workers=workers,
        storage=storage,
        study=study,
        out=out,
        timeout=timeout,
        nproc=nproc,
    )
    # torch and Optuna only once the plan is sound: a mistake above is reported at once
    from gradwise.tuning.progress import StudyProgress
    from gradwise.tuning.results import write_results
    from gradwise.tuning.study import open_storage, open_study, quiet_optuna

    quiet_optuna()
    _check_data(plan)
    fresh = not plan.study_dir.exists()
    plan.study_dir.mkdir(parents=True, exist_ok=True)  # the default storage lives in it
    try:
        queue = open_study(plan, open_storage(plan.storage))
    except ConfigError:
        if fresh:
            shutil.rmtree(plan.study_dir, ignore_errors=True)
        raise
    queue.requeue_orphans()
    progress = StudyProgress(queue.study, plan.metric, plan.trials, quiet)
    progress.update()
    try:
        _run_workers(plan, queue, progress.update)
    finally:  # also when stopped: what finished so far (the rest resumes later)
        progress.close()
        queue.requeue_orphans()  # e.g. a trial whose worker on another machine is gone
        result = write_results(queue.study, plan)
    return result


def _run_workers(plan: TunePlan, queue: StudyQueue, poll: Callable[[], None]) -> None:
    from gradwise.tuning.worker import check_workers, start_workers, wait_for_workers, work

    if plan.workers == 1:
        work(plan, 0, on_trial_end=poll, queue=queue)
        return
    processes, results = start_workers(plan)
    reports = wait_for_workers(processes, results, poll)
    check_workers(processes, reports)


def _check_data(plan: TunePlan) -> None:
    """Load the data once: a missing file is one error now, not a failure in every trial (and
    the workers then find the dataset cache warm); and the study's metric is one the runs log
    (``tune.metric``, checked against the paradigm's metrics for this data)."""
    from gradwise.experiment import create_paradigm
    from gradwise.tasks import load_data
    from gradwise.tasks.checks import check_metric
    from gradwise.tuning.parallel import check_devices

    config = load_config(plan.experiment)
    check_devices(plan, config.train.device)
    splits = load_data(config)
    has_valid = splits is None or len(splits.x_valid) > 0  # no dataset: the paradigm's own
    check_metric("tune.metric", plan.metric, create_paradigm(config, splits), has_valid)
