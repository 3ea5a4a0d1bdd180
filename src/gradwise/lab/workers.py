"""Run a batch of jobs in parallel worker processes, like ``gradwise tune --workers N``.

The jobs go into a queue that ``workers`` spawned processes (a fresh interpreter each) take
from; each process uses ``cores // workers`` threads so that they do not fight over the cores.
Waiting, Ctrl-C and a dead worker are handled by the tuning workers' own machinery
(:func:`gradwise.tuning.worker.wait_for_workers`, :func:`~gradwise.tuning.worker.check_workers`).
Results come back through the disk (each job writes its own result file), in the jobs' order.
With one worker the jobs run in the calling process.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from gradwise.errors import GradwiseError
from gradwise.lab.jobs import Job, JobResult, read_result, run_job


def run_jobs(
    experiment: Mapping[str, Any],
    jobs: Sequence[Job],
    runs_dir: Path,
    metric: str,
    workers: int,
    on_done: Callable[[int], None] | None = None,
) -> list[JobResult]:
    """Train every job; returns their results in the order of ``jobs``.

    ``on_done(count)`` is called as jobs finish (the progress display)."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    if workers == 1 or len(jobs) <= 1:
        results = []
        for job in jobs:
            results.append(run_job(experiment, job, runs_dir, metric))
            if on_done is not None:
                on_done(len(results))
        return results
    from gradwise.tuning.worker import check_workers, wait_for_workers

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    for job in jobs:
        queue.put(job)
    count = min(workers, len(jobs))
    for _ in range(count):
        queue.put(None)  # one stop sign per worker
    reports = context.Queue()
    processes = [
        context.Process(
            target=_worker_process,
            args=(dict(experiment), queue, runs_dir, metric, count, index, reports),
        )
        for index in range(count)
    ]
    for process in processes:
        process.start()

    def poll() -> None:
        if on_done is not None:
            on_done(sum(read_result(runs_dir, job.key) is not None for job in jobs))

    check_workers(processes, wait_for_workers(processes, reports, poll))
    results = []
    for job in jobs:
        result = read_result(runs_dir, job.key)
        if result is None:  # a worker that ended without it was reported above
            raise GradwiseError(f"lab job {job.key} left no result in {runs_dir}")
        results.append(result)
    return results


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _worker_process(
    experiment: dict[str, Any],
    queue: Any,
    runs_dir: Path,
    metric: str,
    workers: int,
    index: int,
    reports: Any,
) -> None:
    """A spawned worker: take jobs until the stop sign; report like a tune worker."""
    import torch

    from gradwise.tuning.worker import WorkerReport

    signal.signal(signal.SIGTERM, _raise_interrupt)
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))
    report = WorkerReport(index)
    try:
        while (job := queue.get()) is not None:
            result = run_job(experiment, job, runs_dir, metric)
            report.states[result.status] = report.states.get(result.status, 0) + 1
    except KeyboardInterrupt:
        pass
    except Exception as exc:
        report.record_failure(exc)
    reports.put(report)
