"""One trial: a normal gradwise run with the trial's parameters, judged by the study's metric.

The run gets its own run directory under ``<study>/trials/``. Each epoch the pruning callback
reports the metric to the study and, when the pruner says so, stops the run; the run is then
marked ``pruned`` in its summary and the trial is told PRUNED. A trial whose run fails (a
non-finite loss, running out of memory, any exception) is told FAIL with the reason in its
``error`` attribute, and the study goes on. An interrupted trial goes back to the queue.
With ``plan.nproc > 1`` the run trains in that many data-parallel processes
(:mod:`gradwise.tuning.parallel`); everything else here stays the same.
"""

from __future__ import annotations

import gc
import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna

from gradwise._io import atomic_write_json
from gradwise.errors import ConfigError, GradwiseError
from gradwise.runs import RunPaths, read_summary
from gradwise.training.callbacks import Callback, Monitor
from gradwise.tuning import space

if TYPE_CHECKING:
    from gradwise.training.engine import Trainer
    from gradwise.tuning.study import StudyQueue


class MetricNotLogged(ConfigError):
    """The study's metric is not among the metrics a run logs: every trial would fail."""


class PruningCallback(Callback):
    """Reports ``metric`` each epoch (``trial.report(value, epoch)``), keeps its best finite
    value (``monitor``) and stops the run when ``trial.should_prune()``. In a data-parallel
    trial rank 0 alone reports (once per epoch) and decides; the engine makes every rank stop
    with it."""

    main_process_only = True

    def __init__(self, trial: optuna.Trial, metric: str, direction: str) -> None:
        self.trial = trial
        self.metric = metric
        self.monitor = Monitor(metric, "max" if direction == "maximize" else "min")
        self.pruned_at: int | None = None

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        if self.metric not in logs:
            raise MetricNotLogged(
                f"tune.metric: runs do not log '{self.metric}'; logged each epoch: "
                f"{', '.join(sorted(k for k in logs if k.startswith(('valid_', 'train_'))))}"
            )
        value = float(logs[self.metric])
        if math.isfinite(value):
            self.trial.report(value, epoch)
            self.monitor.improved(value, epoch)
        if self.trial.should_prune():
            self.pruned_at = epoch
            trainer.stop_training = True


@dataclass(frozen=True)
class TrialRun:
    """What a trial's training left: its run, the best finite value of the study's metric
    (None: never finite) and the epoch the pruner stopped it at (None: not pruned)."""

    path: Path
    summary: dict[str, Any]
    best: float | None
    pruned_at: int | None


def train_here(
    queue: StudyQueue, trial: optuna.Trial, name: str, overrides: dict[str, Any]
) -> TrialRun:
    """Train the trial's run in this process."""
    from gradwise import api

    plan = queue.plan
    callback = PruningCallback(trial, plan.metric, plan.direction)
    run = api.train(
        plan.experiment, out=plan.trials_dir, overrides=overrides, callbacks=[callback], quiet=True
    )
    return TrialRun(run.path, run.summary, callback.monitor.best_value, callback.pruned_at)


def run_trial(queue: StudyQueue, trial: optuna.Trial) -> optuna.trial.TrialState:
    """Train the trial's run (here, or in ``plan.nproc`` data-parallel processes) and tell the
    study how it went; returns the trial's state."""
    plan = queue.plan
    study = queue.study
    name = f"{plan.experiment.get('name', 'experiment')}-trial{trial.number:04d}"
    try:
        values = space.suggest(trial, plan.tune.space)
        overrides = {**values, "name": name, "report.enabled": plan.tune.reports}
        if plan.nproc > 1:
            from gradwise.tuning.parallel import train_in_processes as train
        else:
            train = train_here
        run = train(queue, trial, name, overrides)
    except MetricNotLogged:
        _discard_runs(plan.trials_dir, name)
        queue.requeue(trial.number)
        raise
    except KeyboardInterrupt:
        trial.set_user_attr("interrupted", trial.user_attrs.get("interrupted", 0) + 1)
        queue.requeue(trial.number)
        raise
    except Exception as exc:
        _forget_memory()
        return _fail(study, trial, _reason(exc), _run_dir(plan.trials_dir, name))
    best = run.best
    summary = run.summary
    trial.set_user_attr("run_dir", str(run.path))
    trial.set_user_attr("epochs", int(summary.get("epochs_run") or 0))
    trial.set_user_attr("test", summary.get("test", {}))
    if best is None:
        return _fail(study, trial, f"{plan.metric} was never finite", run.path)
    trial.set_user_attr("value", best)
    if run.pruned_at is not None:
        summary.update(status="pruned", pruned_at=run.pruned_at)
        atomic_write_json(RunPaths(run.path).summary, summary)
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        return optuna.trial.TrialState.PRUNED
    study.tell(trial, best)
    return optuna.trial.TrialState.COMPLETE


def _fail(
    study: optuna.Study, trial: optuna.Trial, reason: str, run_dir: Path | None
) -> optuna.trial.TrialState:
    trial.set_user_attr("error", reason)
    if run_dir is not None:
        trial.set_user_attr("run_dir", str(run_dir))
        trial.set_user_attr("epochs", int(read_summary(RunPaths(run_dir)).get("epochs_run") or 0))
    study.tell(trial, state=optuna.trial.TrialState.FAIL)
    return optuna.trial.TrialState.FAIL


def _reason(exc: BaseException) -> str:
    """A one-line reason: the message of a gradwise error, else the exception's type too."""
    import torch

    if isinstance(exc, (torch.cuda.OutOfMemoryError, MemoryError)):
        kind = "out of memory"
    elif isinstance(exc, GradwiseError):
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    else:
        kind = type(exc).__name__
    text = str(exc).strip().splitlines()
    return f"{kind}: {text[0]}" if text else kind


def _forget_memory() -> None:
    """Release what a failed run held (out-of-memory failures leave tensors behind)."""
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _run_dir(trials_dir: Path, name: str) -> Path | None:
    found = sorted(trials_dir.glob(f"{name}-*"))
    return found[-1] if found else None


def _discard_runs(trials_dir: Path, name: str) -> None:
    for folder in trials_dir.glob(f"{name}-*"):
        shutil.rmtree(folder, ignore_errors=True)
