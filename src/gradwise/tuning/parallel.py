"""Trials that train data-parallel: ``gradwise tune --nproc N``.

The worker that claimed a trial samples its parameters as for any trial, then trains the
trial's run in N processes started through the same launcher as ``gradwise train --nproc``
(:mod:`gradwise.training.launcher`): each runs ``python -m gradwise.tuning.parallel`` with the
plan, the trial and its overrides in the environment (``GRADWISE_TUNE_TRIAL``, one JSON
document), and trains as a rank of ``train --nproc`` does — its slice of every global batch,
gradients averaged, rank 0 alone writing the run directory.

Rank 0 alone opens the study: it reports the metric once per epoch (``trial.report``) and asks
the pruner; the engine makes the stop a decision of every rank (``any_across`` after the epoch's
callbacks), so no rank is left waiting, as with early stopping. When the run ends rank 0 writes
a small result document (run directory, best value, pruned epoch, or why it failed) into a
private folder of the study directory; the worker reads it back and tells the study, as for a
trial trained in the worker itself (:func:`gradwise.tuning.trial.run_trial`). A process that dies
without a word (killed, out of memory) fails the trial with its exit status; Ctrl-C stops the
processes and the trial goes back to the queue; a worker killed outright takes its trial's
processes with it (Linux's parent-death signal), and the trial is requeued as usual.

The worker's own process does no training: with ``--workers W --nproc N`` there are ``W × N``
training processes, each with ``cores // (W × N)`` threads.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gradwise._io import atomic_write_json
from gradwise.config.tune import TuneConfig
from gradwise.errors import ConfigError, GradwiseError
from gradwise.runs import RunPaths, read_summary
from gradwise.tuning.plan import TunePlan
from gradwise.tuning.trial import MetricNotLogged, PruningCallback, TrialRun
from gradwise.tuning.worker import exit_status

if TYPE_CHECKING:
    import optuna

    from gradwise.tuning.study import StudyQueue

MODULE = "gradwise.tuning.parallel"  # what each process runs
SPEC_ENV = "GRADWISE_TUNE_TRIAL"  # the trial's TrialSpec as JSON


class ParallelTrialFailed(GradwiseError):
    """A data-parallel trial's training failed; the message is the trial's one-line reason."""


@dataclass(frozen=True)
class TrialSpec:
    """Everything a process needs to train one trial."""

    plan: TunePlan
    trial_id: int  # in the storage (rank 0 reports to it)
    name: str  # the run's name: <experiment>-trial0007
    overrides: dict[str, Any]  # the trial's parameters, its name and report.enabled
    result: Path  # where rank 0 writes the result document
    worker_pid: int  # the worker that launched the processes: they end when it dies

    def to_json(self) -> str:
        plan = dataclasses.asdict(self.plan)  # TuneConfig stays a model: dumped below
        plan.update(tune=self.plan.tune.model_dump(mode="json"), study_dir=str(plan["study_dir"]))
        document = {**dataclasses.asdict(self), "plan": plan, "result": str(self.result)}
        return json.dumps(document)

    @classmethod
    def from_json(cls, text: str) -> TrialSpec:
        document = json.loads(text)
        plan = document["plan"]
        plan.update(tune=TuneConfig.model_validate(plan["tune"]), study_dir=Path(plan["study_dir"]))
        return cls(**{**document, "plan": TunePlan(**plan), "result": Path(document["result"])})


# ------------------------------------------------------------------ the worker's side
def train_in_processes(
    queue: StudyQueue, trial: optuna.Trial, name: str, overrides: dict[str, Any]
) -> TrialRun:
    """Train the trial's run in ``plan.nproc`` processes and read back how it went."""
    from gradwise.training.launcher import Launch, launch_module, thread_environment

    plan = queue.plan
    with tempfile.TemporaryDirectory(prefix=".trial-", dir=plan.study_dir) as folder:
        written = Path(folder) / "result.json"
        spec = TrialSpec(plan, queue.trial_id(trial.number), name, overrides, written, os.getpid())
        env = {SPEC_ENV: spec.to_json(), **thread_environment(plan.workers * plan.nproc)}
        failures = launch_module(MODULE, [], Launch(plan.nproc), env)
        result = json.loads(written.read_text()) if written.is_file() else None
    return read_back(result, failures)


def read_back(result: dict[str, Any] | None, failures: dict[int, int]) -> TrialRun:
    """The trial's :class:`TrialRun` from rank 0's result document; its failure (the reason
    rank 0 gave, else the exit status of the processes that failed) raised."""
    if result is None:
        said = "; ".join(f"process {rank} {exit_status(code)}" for rank, code in failures.items())
        raise ParallelTrialFailed(f"data-parallel training stopped: {said or 'no result'}")
    if result.get("metric_not_logged"):
        raise MetricNotLogged(result["error"])
    if result.get("error"):
        raise ParallelTrialFailed(result["error"])
    path = Path(result["run_dir"])
    return TrialRun(path, read_summary(RunPaths(path)), result["best"], result["pruned_at"])


def check_devices(plan: TunePlan, device_name: str) -> None:
    """On GPUs each process of a trial takes its own (``cuda:LOCAL_RANK``): ``--nproc`` may not
    exceed the GPUs this machine has."""
    import torch

    from gradwise.training.device import resolve_device

    if plan.nproc == 1 or resolve_device(device_name).type != "cuda":
        return
    if torch.cuda.device_count() < plan.nproc:
        raise ConfigError(
            f"--nproc {plan.nproc}: train.device {device_name} gives each process its own GPU, "
            f"and this machine has {torch.cuda.device_count()}; use --nproc "
            f"{torch.cuda.device_count()} or fewer (or train.device: cpu)"
        )


# ------------------------------------------------------------------ each process's side
def pruning_callback(spec: TrialSpec) -> PruningCallback:
    """The trial's pruning callback, reporting to the trial in the study's storage."""
    import optuna

    from gradwise.tuning.samplers import PRUNERS
    from gradwise.tuning.study import open_storage, quiet_optuna

    quiet_optuna()
    plan = spec.plan
    study = optuna.load_study(
        study_name=plan.study,
        storage=open_storage(plan.storage),
        sampler=optuna.samplers.RandomSampler(),  # nothing is sampled here: the worker did
        pruner=PRUNERS.get(plan.tune.pruner)(plan),
    )
    return PruningCallback(optuna.Trial(study, spec.trial_id), plan.metric, plan.direction)


def train_rank(spec: TrialSpec) -> int:
    """Train this process's rank of the trial; rank 0 writes the result document. Exit
    status 0 when the run trained (completed or pruned), 1 when it failed, 130 when
    interrupted (no result: the worker puts the trial back in the queue)."""
    from gradwise import api
    from gradwise.training.distributed import leave_process_group
    from gradwise.tuning.trial import _reason

    first = os.environ.get("RANK", "0") == "0"
    if not first:  # rank 0 speaks for the trial
        warnings.simplefilter("ignore")
    result: dict[str, Any] = {"run_dir": None, "best": None, "pruned_at": None}
    status = 0
    try:
        callback = pruning_callback(spec) if first else None
        run = api.train(
            spec.plan.experiment,
            out=spec.plan.trials_dir,
            overrides=spec.overrides,
            callbacks=[callback] if callback is not None else [],
            quiet=True,
        )
        leave_process_group()
        result["run_dir"] = str(run.path)
        if callback is not None:
            result.update(best=callback.monitor.best_value, pruned_at=callback.pruned_at)
    except KeyboardInterrupt:
        return 130
    except MetricNotLogged as exc:
        result.update(error=str(exc), metric_not_logged=True)
        status = 1
    except Exception as exc:  # the trial fails with the reason; the study goes on
        result["error"] = _reason(exc)
        status = 1
    if first:
        atomic_write_json(spec.result, result)
    return status


def end_with_worker(worker_pid: int) -> None:
    """Be sent SIGTERM when the worker that launched this process dies (Linux), as if it had
    been stopped: a worker killed outright leaves no trial training on (its trial goes back to
    the queue and will train again). The launcher starts each process in a session of its own,
    so nothing else would tell it."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1  # <linux/prctl.h>
    ctypes.CDLL(None).prctl(pr_set_pdeathsig, int(signal.SIGTERM))
    if os.getppid() != worker_pid:  # gone before the request was made
        os.kill(os.getpid(), signal.SIGTERM)


def exit_now(status: int) -> None:
    """Leave as multiprocessing's children do: exit handlers run, output flushed, and then no
    interpreter teardown (tearing torch down took seconds per trial, with nothing to save)."""
    import atexit

    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    trial_spec = TrialSpec.from_json(os.environ[SPEC_ENV])
    end_with_worker(trial_spec.worker_pid)
    exit_now(train_rank(trial_spec))
