"""Workers: claim a waiting trial, run it, repeat until the queue is empty.

``--workers N`` starts N worker processes (spawned: a fresh interpreter each, no state shared
with the parent but the plan) against the same storage; each uses ``cores // N`` threads so that
the workers do not fight over the cores. With one worker the loop runs in the calling process.
A worker on another machine is simply another ``gradwise tune`` against the same storage.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gradwise.errors import GradwiseError
from gradwise.tune.plan import TunePlan

if TYPE_CHECKING:
    from gradwise.tune.study import StudyQueue


STOP_GRACE_SECONDS = 10.0  # how long an interrupted worker gets to requeue its trial


@dataclass
class WorkerReport:
    index: int
    states: dict[str, int] = field(default_factory=dict)  # trial state name → count
    error: str | None = None  # what stopped the worker: a user error's message, or a bug's
    user_error: bool = False  # the error was a GradwiseError (shown as one line)
    interrupted: bool = False


def work(
    plan: TunePlan,
    index: int = 0,
    on_trial_end: Callable[[], None] | None = None,
    queue: StudyQueue | None = None,
) -> WorkerReport:
    """Run trials from the study's queue until it is empty (or the plan's timeout passed)."""
    from gradwise.tune.study import open_storage, open_study, quiet_optuna
    from gradwise.tune.trial import run_trial

    quiet_optuna()
    report = WorkerReport(index)
    if queue is None:
        queue = open_study(plan, open_storage(plan.storage))
    started = time.monotonic()
    while plan.timeout is None or time.monotonic() - started < plan.timeout:
        trial = queue.claim()
        if trial is None:
            break
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
        report.interrupted = True
    except GradwiseError as exc:
        report.error, report.user_error = str(exc), True
    except Exception as exc:
        import traceback

        report.error = "".join(traceback.format_exception(exc))
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
