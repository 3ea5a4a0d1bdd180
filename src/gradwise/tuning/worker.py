"""Workers: claim a waiting trial, run it, repeat until the queue is empty.

``--workers N`` starts N worker processes (spawned: a fresh interpreter each, no state shared
with the parent but the plan) against the same storage; each uses ``cores // N`` threads so that
the workers do not fight over the cores. With one worker the loop runs in the calling process.
A worker on another machine is simply another ``gradwise tune`` against the same storage.
"""

from __future__ import annotations

import importlib
import multiprocessing
import multiprocessing.connection
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gradwise.errors import GradwiseError
from gradwise.tuning.plan import TunePlan

if TYPE_CHECKING:
    from gradwise.tuning.study import StudyQueue


STOP_GRACE_SECONDS = 10.0  # how long an interrupted worker gets to requeue its trial


class WorkerDied(GradwiseError):
    """A worker process ended without reporting (killed, e.g. by the out-of-memory killer)."""


@dataclass
class WorkerReport:
    index: int
    states: dict[str, int] = field(default_factory=dict)  # trial state name → count
    error: str | None = None  # what stopped the worker: a user error's message, or a bug's
    error_type: str | None = None  # a user error's class, "module:qualname"; None for a bug

    def record_failure(self, exc: Exception) -> None:
        """What stopped the worker: a user error's message and class, or a bug's traceback."""
        if isinstance(exc, GradwiseError):
            self.error = str(exc)
            self.error_type = f"{type(exc).__module__}:{type(exc).__qualname__}"
            return
        import traceback

        self.error = "".join(traceback.format_exception(exc))

    def user_error(self) -> GradwiseError | None:
        """The worker's user error, as its own class (a GradwiseError if that cannot be
        imported here); None when the worker stopped without one."""
        if self.error is None or self.error_type is None:
            return None
        module, _, name = self.error_type.partition(":")
        try:
            found: Any = importlib.import_module(module)
            for part in name.split("."):
                found = getattr(found, part)
            if isinstance(found, type) and issubclass(found, GradwiseError):
                return found(self.error)
        except Exception:  # renamed, or a constructor that takes other arguments
            pass
        return GradwiseError(self.error)


def work(
    plan: TunePlan,
    index: int = 0,
    on_trial_end: Callable[[], None] | None = None,
    queue: StudyQueue | None = None,
) -> WorkerReport:
    """Run trials from the study's queue until it is empty (or the plan's timeout passed)."""
    from gradwise.tuning.study import open_storage, open_study, quiet_optuna
    from gradwise.tuning.trial import run_trial

    quiet_optuna()
    report = WorkerReport(index)
    if queue is None:
        queue = open_study(plan, open_storage(plan.storage))
    started = time.monotonic()
    while plan.timeout is None or time.monotonic() - started < plan.timeout:
        trial = queue.claim()
        if trial is None:
            break
        with queue.heartbeat(trial):
            state = run_trial(queue, trial)
        report.states[state.name] = report.states.get(state.name, 0) + 1
        if on_trial_end is not None:
            on_trial_end()
    return report


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def worker_process(plan: TunePlan, index: int, results: Any) -> None:
    """Entry point of a spawned worker: sets its share of the cores, runs ``work`` and sends
    a :class:`WorkerReport` back (errors as text: the parent re-raises user errors)."""
    import torch

    signal.signal(signal.SIGTERM, _raise_interrupt)  # terminate → requeue the trial, exit
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // plan.workers))
    report = WorkerReport(index)
    try:
        report = work(plan, index)
    except KeyboardInterrupt:
        pass  # its trial went back to the queue; the parent was interrupted too, or it goes on
    except Exception as exc:
        report.record_failure(exc)
    results.put(report)


def start_workers(plan: TunePlan) -> tuple[list[Any], Any]:
    """Spawn ``plan.workers`` worker processes; returns them and the queue of their reports."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    processes = [
        context.Process(target=worker_process, args=(plan, index, results), daemon=False)
        for index in range(plan.workers)
    ]
    for process in processes:
        process.start()
    return processes, results


def wait_for_workers(
    processes: list[Any], results: Any, poll: Callable[[], None], every: float = 1.0
) -> list[WorkerReport]:
    """Wait for every worker, calling ``poll`` (the progress display) every ``every`` seconds.
    On Ctrl-C or SIGTERM the workers are asked to stop (they requeue their trials) and the
    interrupt is raised once they have."""
    reports: list[WorkerReport] = []
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        while any(p.is_alive() for p in processes) or not results.empty():
            reports += _drain(results)
            poll()
            # back at once when a running worker exits, else after `every` seconds
            running = [p.sentinel for p in processes if p.is_alive()]
            if running:
                multiprocessing.connection.wait(running, timeout=every)
        reports += _drain(results)
    except KeyboardInterrupt:
        # Ctrl-C reached the workers too (one process group): let them requeue their trials;
        # a worker that did not get it (the parent alone was signalled) is sent SIGTERM.
        for process in processes:
            process.join(timeout=STOP_GRACE_SECONDS)
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=STOP_GRACE_SECONDS)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
    for process in processes:
        process.join()
    return reports


def _drain(results: Any) -> list[WorkerReport]:
    drained = []
    while not results.empty():
        drained.append(results.get())
    return drained


def check_workers(processes: list[Any], reports: list[WorkerReport]) -> None:
    """Raise what stopped a worker: a user error as its own class, a bug with its traceback, or
    :class:`WorkerDied` for a worker that ended without reporting (its trial goes back to the
    queue: ``StudyQueue.requeue_orphans``)."""
    failed = [r for r in reports if r.error]
    for report in failed:
        error = report.user_error()
        if error is not None:
            raise error
    if failed:
        raise RuntimeError(f"tune worker {failed[0].index} failed:\n{failed[0].error}")
    died = [
        f"tune worker {index} (pid {process.pid}) {exit_status(process.exitcode)}"
        for index, process in enumerate(processes)
        if process.exitcode
    ]
    if died:
        raise WorkerDied("; ".join(died) + "; its trial went back to the queue")


def exit_status(exitcode: int) -> str:
    """How a process ended, from its exit code (negative: the signal that killed it)."""
    if exitcode >= 0:
        return f"exited with status {exitcode}"
    try:
        name = signal.Signals(-exitcode).name
    except ValueError:
        name = "an unknown signal"
    hint = ", e.g. by the out-of-memory killer" if -exitcode == signal.SIGKILL else ""
    return f"was killed by signal {-exitcode} ({name}{hint})"
