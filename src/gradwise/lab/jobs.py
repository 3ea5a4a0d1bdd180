"""One job: one arm trained once (one seed, one learning rate) as a normal gradwise run.

The run goes into ``<lab folder>/runs/`` with its report and diagnostics turned off (they would
add their own time to every arm's wall clock). A job whose run fails (a non-finite loss, an
arm that does not fit the model, e.g. batch norm with ``batch_size: 1``) is recorded as failed
with its reason, and the lab goes on. Each job's result is also written as JSON next to the
runs, so a worker process hands it back through the disk.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gradwise._io import atomic_write_json, read_json
from gradwise.errors import GradwiseError
from gradwise.training.callbacks import Callback

if TYPE_CHECKING:
    from gradwise.training.engine import Trainer

QUIET_OVERRIDES = {"report.enabled": False, "diagnose.enabled": False}


@dataclass(frozen=True)
class Job:
    key: str  # unique in the lab: names the run and the result file
    arm: str
    seed: int
    overrides: Mapping[str, Any]  # the arm's overrides (and the seed, the learning rate)
    seconds: float | None = None  # training time cap (the arm's share of --budget)
    evaluate: str | None = None  # also evaluate these weights (last | best) on every split
    lr: float | None = None  # the learning rate of this job, where the lab sets one


@dataclass
class JobResult:
    key: str
    arm: str
    seed: int
    lr: float | None
    status: str  # completed | failed
    run_dir: str | None = None
    error: str | None = None
    epochs: int = 0
    train_rows: int = 0
    batch_size: int | str | None = None
    # per epoch: epoch, time (cumulative training seconds), value (the lab's metric),
    # train_loss, valid_loss
    curve: list[dict[str, float]] = field(default_factory=list)
    test: dict[str, float] = field(default_factory=dict)  # best checkpoint, from the summary
    evaluated: dict[str, dict[str, float]] = field(default_factory=dict)  # split → metrics

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> JobResult:
        return cls(**document)


class TimeCap(Callback):
    """Stop training at the end of the first epoch ending ``seconds`` or more after training
    started (validation included). Only whole epochs are trained, so a run may pass its cap by
    up to one epoch."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = 0.0

    def on_fit_start(self, trainer: Trainer) -> None:
        self.started = time.perf_counter()

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        if time.perf_counter() - self.started >= self.seconds:
            trainer.stop_training = True


def interleaved(jobs: Sequence[Job]) -> list[Job]:
    """The jobs round-robin over their arms (each arm's own order kept): a slow spell of a
    shared machine then slows every arm a little rather than one arm a lot."""
    by_arm: dict[str, list[Job]] = {}
    for job in jobs:
        by_arm.setdefault(job.arm, []).append(job)
    queues = list(by_arm.values())
    order = []
    for index in range(max((len(q) for q in queues), default=0)):
        order += [q[index] for q in queues if index < len(q)]
    return order


def result_path(runs_dir: Path, key: str) -> Path:
    return runs_dir / f"{key}.result.json"


def run_job(experiment: Mapping[str, Any], job: Job, runs_dir: Path, metric: str) -> JobResult:
    """Train ``job`` on ``experiment`` (as written) and write its result next to its run."""
    from gradwise import api

    result = JobResult(job.key, job.arm, job.seed, job.lr, "failed")
    callbacks = [TimeCap(job.seconds)] if job.seconds is not None else []
    overrides = {**job.overrides, **QUIET_OVERRIDES, "seed": job.seed, "name": job.key}
    try:
        run = api.train(
            dict(experiment), out=runs_dir, overrides=overrides, callbacks=callbacks, quiet=True
        )
    except GradwiseError as exc:
        result.error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        result.run_dir = _run_dir(runs_dir, job.key)
    except (RuntimeError, ValueError, MemoryError) as exc:  # e.g. batch norm on one sample
        text = str(exc).strip().splitlines()
        result.error = f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
        result.run_dir = _run_dir(runs_dir, job.key)
    else:
        _read_run(result, run.path, metric)
        if job.evaluate is not None:
            result.evaluated = evaluate_weights(run.path, job.evaluate)
    if result.run_dir is not None and result.status == "failed":
        _read_curve(result, Path(result.run_dir), metric)
    atomic_write_json(result_path(runs_dir, job.key), result.to_dict())
    return result


def read_result(runs_dir: Path, key: str) -> JobResult | None:
    path = result_path(runs_dir, key)
    return JobResult.from_dict(read_json(path)) if path.is_file() else None


def _run_dir(runs_dir: Path, key: str) -> str | None:
    found = sorted(runs_dir.glob(f"{key}-*/"))
    return str(found[-1]) if found else None


def _read_run(result: JobResult, run_dir: Path, metric: str) -> None:
    from gradwise.runs import RunPaths, read_summary

    summary = read_summary(RunPaths(run_dir))
    result.status = "completed" if summary.get("status") == "completed" else "failed"
    result.error = summary.get("error")
    result.run_dir = str(run_dir)
    result.test = {k: v for k, v in (summary.get("test") or {}).items() if _finite(v)}
    _read_curve(result, run_dir, metric)


def _read_curve(result: JobResult, run_dir: Path, metric: str) -> None:
    from gradwise.config import load_config
    from gradwise.runs import RunPaths, read_metrics

    paths = RunPaths(run_dir)
    if not paths.metrics.is_file():
        return
    elapsed = 0.0
    curve = []
    for row in read_metrics(paths):
        elapsed += float(row.get("train_time", row.get("time", 0.0)))
        point = {"epoch": int(row["epoch"]), "time": elapsed}
        for key, name in ((metric, "value"), ("train_loss", "train_loss")):
            if _finite(row.get(key)):
                point[name] = float(row[key])
        if _finite(row.get("valid_loss")):
            point["valid_loss"] = float(row["valid_loss"])
        curve.append(point)
    result.curve = curve
    result.epochs = len(curve)
    profile = read_json(run_dir / "profile.json", {}, lenient=True)
    result.train_rows = int((profile.get("splits") or {}).get("train", 0))
    if paths.config.is_file():
        result.batch_size = load_config(paths.config).train.batch_size


def evaluate_weights(run_dir: Path, tag: str) -> dict[str, dict[str, float]]:
    """The run's ``tag`` weights evaluated on each split in eval mode (no dropout, no
    augmentation): the clean train metrics that a train–valid gap needs."""
    from gradwise.config import load_config
    from gradwise.experiment import build_experiment, load_data
    from gradwise.runs import RunPaths
    from gradwise.training.checkpoint import load_weights

    paths = RunPaths(run_dir)
    config = load_config(paths.config)
    experiment = build_experiment(config, load_data(config))
    load_weights(paths.checkpoints, tag, experiment.module)
    splits = {
        "train": experiment.train_split,
        "valid": experiment.valid_split,
        "test": experiment.test_split,
    }
    return {
        name: {k: float(v) for k, v in experiment.trainer.evaluate(split).items() if _finite(v)}
        for name, split in splits.items()
        if split is not None and len(split)
    }


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
