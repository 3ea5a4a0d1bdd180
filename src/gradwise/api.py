"""The Python API: ``train(config) -> Run``, and ``Run`` for a finished run on disk.

>>> import gradwise
>>> config = gradwise.load_config("exp.yaml", ["train.epochs=5"])
>>> run = gradwise.train(config)
>>> run.summary["test"]["accuracy"]
>>> run.predict(new_rows)
"""

from __future__ import annotations

import contextlib
import math
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

import gradwise
from gradwise._io import atomic_write_json, atomic_write_text, read_json, user_stacklevel
from gradwise.config import ExperimentConfig, dump_config, load_config
from gradwise.config.load import ConfigSource, flatten_config
from gradwise.data import Preprocessor
from gradwise.errors import CheckpointError, ConfigError, DataError, GradwiseError
from gradwise.experiment import Experiment, build_experiment, load_data
from gradwise.hooks import RUN_CALLBACKS, RUN_FINISHED, load_plugins, run_checks
from gradwise.models import count_parameters
from gradwise.runs import (
    FORMAT_VERSION,
    RunPaths,
    create_run_dir,
    heartbeat,
    open_run,
    process_identity,
    read_metrics,
    read_summary,
    remove_partial_writes,
    versioned,
)
from gradwise.signals import sigterm_interrupts
from gradwise.tasks import TASKS
from gradwise.training import distributed
from gradwise.training.batching import steps_per_epoch
from gradwise.training.callbacks import (
    BestWeights,
    Callback,
    MetricsLogger,
    config_callbacks,
    truncate_jsonl,
)
from gradwise.training.checkpoint import (
    load_checkpoint,
    load_weights,
    save_checkpoint,
    save_weights,
)
from gradwise.training.device import resolve_device
from gradwise.training.engine import EVAL_BATCH_SIZE, Trainer, batched_outputs
from gradwise.training.progress import ProgressBar
from gradwise.transfer import log_lines


class Checkpointer(BestWeights):
    """``last`` weights and training state, and ``best`` weights when the monitored metric
    improves; every file is written atomically.

    Writes are paced so that runs with sub-second epochs do not spend their time serialising:
    the first epoch is written at once, later ones when ``interval`` seconds have passed since
    the last write, and the final epoch always (``on_fit_end``). An improvement between writes
    is kept as an in-memory copy of the weights (:class:`BestWeights`), so ``best`` on disk
    always matches the best epoch once :meth:`flush_best` has run (at the end, and when training
    fails or is interrupted). The ``last`` checkpoint on disk is at most ``interval`` seconds old
    and always a completed, finite epoch; resuming from it truncates ``metrics.jsonl`` to match.
    An interruption between epochs (during the checkpoint write too) writes the completed epoch
    (:meth:`write_final`); one inside an epoch leaves the last checkpoint as it is.
    """

    main_process_only = True

    def __init__(
        self, folder: Path, monitor: str, mode: str = "auto", interval: float = 30.0
    ) -> None:
        super().__init__(monitor, mode)
        self.folder = folder
        self.interval = interval
        self.last_write, self.last_write_epoch = -math.inf, 0
        self.between_epochs = False  # the trainer's state is a completed epoch's

    def on_epoch_start(self, trainer, epoch: int) -> None:
        self.between_epochs = False

    def on_epoch_end(self, trainer, epoch: int, logs: dict[str, Any]) -> None:
        super().on_epoch_end(trainer, epoch, logs)
        self.between_epochs = True
        if time.perf_counter() - self.last_write >= self.interval:
            self.write(trainer)

    def write_final(self, trainer) -> None:
        """On an interruption: the completed epoch the trainer stands at, if not written."""
        if self.between_epochs and trainer.epoch > 0 and self.last_write_epoch != trainer.epoch:
            self.write(trainer)

    def on_fit_end(self, trainer, logs: dict[str, Any]) -> None:
        if trainer.epoch > 0 and self.last_write_epoch != trainer.epoch:
            self.write(trainer)

    def write(self, trainer) -> None:
        self.flush_best()
        save_checkpoint(self.folder, "last", trainer.module, trainer.state_dict(), trainer.epoch)
        self.last_write, self.last_write_epoch = time.perf_counter(), trainer.epoch

    def flush_best(self) -> None:
        """Write the best weights kept in memory, if not written yet."""
        if self.state is not None:
            save_weights(self.folder, "best", self.state, self.monitor.best_epoch)
            self.state = None


def _run_callbacks(
    config: ExperimentConfig,
    paths: RunPaths,
    experiment: Experiment,
    quiet: bool,
    extra: list[Callback] | None,
) -> tuple[list[Callback], Checkpointer]:
    """Every callback of a run, and its checkpointer (which also knows the best epoch)."""
    train = config.train
    # without a validation split a valid_* monitor falls back to the training loss; a metric
    # the run logs without one (an agent's eval_return) is monitored as configured
    unsplit = experiment.paradigm.logged_metrics(has_valid=False)
    has_monitor = experiment.valid_split is not None or train.monitor in unsplit
    monitor = train.monitor if has_monitor else "train_loss"
    checkpointer = Checkpointer(paths.checkpoints, monitor)
    callbacks = [*experiment.callbacks, *config_callbacks(train)]
    callbacks += [MetricsLogger(paths.metrics), checkpointer]
    load_plugins()
    for name in RUN_CALLBACKS:
        plugged = RUN_CALLBACKS.get(name)(config, paths, experiment)
        if plugged is not None:
            callbacks.append(plugged)
    callbacks += extra or []
    if not quiet:  # epoch lines (and a live line on a terminal) on stderr
        steps = steps_per_epoch(len(experiment.train_split), experiment.trainer.batch_size)
        callbacks.append(ProgressBar(steps, experiment.paradigm.progress_metrics()))
    return callbacks, checkpointer


def train(
    config: ConfigSource,
    *,
    out: str | Path = "runs",
    overrides: list[str] | dict[str, Any] | None = None,
    quiet: bool = True,
    callbacks: list[Callback] | None = None,
    trainer_class: type[Trainer] = Trainer,
) -> Run:
    """Train an experiment and return its :class:`Run` (the run directory is under ``out``).

    ``trainer_class`` may be a :class:`~gradwise.training.engine.Trainer` subclass that
    overrides one step. Nothing is written until the config, data and model have all been
    built successfully.
    """
    config = load_config(config, overrides)
    splits = load_data(config)
    experiment = build_experiment(config, splits, trainer_class=trainer_class)
    run_checks(config)  # e.g. an optional extra the config asks for: before anything is written
    return _fit(experiment, _create_run(experiment, out), quiet, callbacks, started=time.time())


def _create_run(experiment: Experiment, out: str | Path) -> RunPaths:
    """The new run directory, created and filled by rank 0 alone; the other ranks of a
    data-parallel run are told its path."""
    config, splits, trainer = experiment.config, experiment.splits, experiment.trainer
    root = None
    if trainer.rank == 0:
        paths = create_run_dir(out, config.name)
        atomic_write_text(paths.config, dump_config(config))
        if splits is not None:
            atomic_write_json(paths.preprocess, versioned(splits.preprocessor.to_dict()))
            atomic_write_json(paths.root / "profile.json", versioned(splits.profile))
        root = str(paths.root)
    if trainer.world_size > 1:
        root = distributed.broadcast_text(root, experiment.device)
    return RunPaths(Path(root))


def resume(
    run_dir: str | Path,
    *,
    overrides: list[str] | dict[str, Any] | None = None,
    quiet: bool = True,
    callbacks: list[Callback] | None = None,
    trainer_class: type[Trainer] = Trainer,
) -> Run:
    """Continue a run from its last valid checkpoint; the result equals an uninterrupted run.

    A checkpoint that does not verify (damaged, cut short) is skipped for the one before it,
    with a warning saying which and why. ``overrides`` may change ``train.epochs`` (train
    longer, with a schedule that does not depend on the total length) and the keys under
    :data:`SAFE_PREFIXES`, which do not touch training; each change is a warning line and is
    written into the run's ``config.yaml``. Any other changed key is refused: a resumed run is
    the same run.
    """
    paths = open_run(run_dir)
    config = load_config(paths.config)
    saved = config
    if overrides:
        config = resume_config(paths, config, overrides)
    elif read_summary(paths).get("status") == "completed":
        return Run(paths.root)  # nothing to resume: the run is left as it is
    experiment = build_experiment(config, load_data(config), trainer_class=trainer_class)
    remove_partial_writes(paths)  # what writes killed midway left behind
    restored = load_checkpoint(paths.checkpoints, experiment.module)
    epoch, state = restored.epoch, restored.state
    for skipped in restored.skipped:
        warnings.warn(
            f"resume: skipped checkpoint {skipped}; resuming from {restored.tag} (epoch {epoch})",
            stacklevel=user_stacklevel(),
        )
    if config.train.epochs != saved.train.epochs and config.train.epochs <= epoch:
        raise ConfigError(
            f"--set train.epochs={config.train.epochs}: {paths.root} has trained {epoch} "
            f"epochs already; give more than {epoch}"
        )
    if config != saved:
        for key, before, after in changed_keys(saved, config):
            warnings.warn(
                f"resume: {key} changed from {before!r} to {after!r}",
                stacklevel=user_stacklevel(),
            )
        atomic_write_text(paths.config, dump_config(config))
    summary = read_summary(paths)
    experiment.trainer.history = (
        truncate_jsonl(paths.metrics, epoch)
        if experiment.trainer.rank == 0
        else read_metrics(paths)[:epoch]
    )
    run_callbacks, checkpointer = _run_callbacks(config, paths, experiment, quiet, callbacks)
    experiment.trainer.set_callbacks(run_callbacks)
    experiment.trainer.load_state_dict(state)
    return _fit(
        experiment,
        paths,
        quiet,
        None,
        started=summary.get("started", time.time()),
        checkpointer=checkpointer,
    )


RESUMABLE_KEYS = ("train.epochs",)  # what a resume may change of training itself
# sections that do not touch the weights, optimizer state or data: a resume may change them
SAFE_PREFIXES = ("report.", "diagnose.", "compare.", "tune.")
LENGTH_SCHEDULES = ("linear", "cosine", "one_cycle")  # lr curves drawn over the total length


def resume_config(
    paths: RunPaths, config: ExperimentConfig, overrides: list[str] | dict[str, Any]
) -> ExperimentConfig:
    """The run's config with ``overrides`` applied, if they change nothing but
    ``train.epochs``, and that only with a schedule whose shape does not depend on it."""
    changed = load_config(paths.config, overrides)
    keys = [key for key, _, _ in changed_keys(config, changed)]
    refused = [k for k in keys if k not in RESUMABLE_KEYS and not k.startswith(SAFE_PREFIXES)]
    if refused:
        raise ConfigError(
            f"--set: a resumed run keeps its config; cannot change {', '.join(refused)} "
            f"(only {', '.join(RESUMABLE_KEYS)} can change, and keys under "
            f"{', '.join(p + '*' for p in SAFE_PREFIXES)}: the weights, optimizer state and "
            "data splits saved in the checkpoint belong to this config); start a new run instead"
        )
    schedule = config.train.schedule.name
    if "train.epochs" in keys and schedule in LENGTH_SCHEDULES:
        raise ConfigError(
            f"--set train.epochs: the {schedule} schedule of {paths.root} draws its learning "
            f"rate over the original {config.train.epochs} epochs; changing the length would "
            "make it jump mid-run (train.epochs can change with constant, step, exponential or "
            "plateau schedules); start a new run instead"
        )
    return changed


def changed_keys(before: ExperimentConfig, after: ExperimentConfig) -> list[tuple[str, Any, Any]]:
    """The dotted keys whose values differ, sorted, with both values."""
    old = dict(flatten_config(before.model_dump(mode="json")))
    new = dict(flatten_config(after.model_dump(mode="json")))
    keys = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    return [(k, old.get(k), new.get(k)) for k in keys]


def _fit(
    experiment: Experiment,
    paths: RunPaths,
    quiet: bool,
    callbacks: list[Callback] | None,
    started: float,
    checkpointer: Checkpointer | None = None,
) -> Run:
    """Train with the run's callbacks (already set when ``checkpointer`` is given)."""
    config, trainer = experiment.config, experiment.trainer
    if checkpointer is None:
        run_callbacks, checkpointer = _run_callbacks(config, paths, experiment, quiet, callbacks)
        trainer.set_callbacks(run_callbacks)
    summary: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "name": config.name,
        "task": config.task,
        "model": config.model.kind,
        "run_dir": str(paths.root),
        "status": "running",
        "started": started,
        "parameters": count_parameters(experiment.module),
        "device": str(experiment.device),
        "versions": versions(),
        **process_identity(),  # for `gradwise runs` to tell a dead run from a running one
    }
    if experiment.transfer is not None:  # what was loaded, frozen and at which rates
        summary["transfer"] = experiment.transfer.record()
        if not quiet and trainer.rank == 0:
            print("\n".join(log_lines(summary["transfer"])), file=sys.stderr, flush=True)
    if trainer.rank == 0:
        atomic_write_json(paths.summary, summary)
    fit_started = time.perf_counter()
    try:
        with sigterm_interrupts(), heartbeat(paths):
            trainer.fit(experiment.train_split, experiment.valid_split)
    except GradwiseError as exc:  # a non-finite loss, a full disk, ...
        with contextlib.suppress(OSError):  # the disk that failed may fail the summary too
            _finish(paths, summary, experiment, checkpointer, "failed", fit_started, str(exc))
        exc.run_dir = paths.root  # type: ignore[attr-defined]
        raise
    except KeyboardInterrupt as exc:
        if trainer.rank == 0:
            checkpointer.write_final(trainer)
        _finish(paths, summary, experiment, checkpointer, "interrupted", fit_started)
        exc.run_dir = paths.root  # type: ignore[attr-defined]  # the CLI prints the resume command
        raise
    _finish(paths, summary, experiment, checkpointer, "completed", fit_started)
    run = Run(paths.root, splits=experiment.splits)
    if trainer.rank == 0:
        with sigterm_interrupts():  # stopped while writing the report: the run stays completed
            for name in RUN_FINISHED:
                RUN_FINISHED.get(name)(run)
    return run


def _finish(
    paths: RunPaths,
    summary: dict[str, Any],
    experiment: Experiment,
    checkpointer: Checkpointer,
    status: str,
    fit_started: float,
    error: str | None = None,
) -> None:
    trainer = experiment.trainer
    history = trainer.history
    if trainer.rank == 0:
        checkpointer.flush_best()  # an improvement not yet written (failed or interrupted runs)
    monitor = checkpointer.monitor
    summary.update(
        status=status,
        epochs_run=trainer.epoch,
        stopped_early=status == "completed" and trainer.epoch < trainer.epochs,
        monitor=monitor.metric,
        best_epoch=monitor.best_epoch,
        best_value=monitor.best_value,
        train_time=sum(h.get("train_time", 0.0) for h in history),
        fit_time=time.perf_counter() - fit_started,
        finished=time.time(),
        main_metric=experiment.paradigm.main_metric,
    )
    if error:
        summary["error"] = error
    summary.update(experiment.paradigm.summary_fields(trainer))
    best_epoch = monitor.best_epoch
    if trainer.world_size > 1 and status == "completed":  # rank 0's checkpointer knows it
        best_epoch = distributed.broadcast_int(best_epoch, experiment.device)
    if status == "completed" and best_epoch is not None:
        if trainer.rank == 0:
            load_weights(paths.checkpoints, "best", experiment.module)
        if trainer.world_size > 1:
            distributed.broadcast_module(experiment.module)
        if experiment.paradigm.after_training(trainer, experiment.data) and trainer.rank == 0:
            save_weights(paths.checkpoints, "best", experiment.module, best_epoch)
        best = history[best_epoch - 1]
        summary["valid"] = {k[6:]: v for k, v in best.items() if k.startswith("valid_")}
        if experiment.test_split is not None:
            # every rank takes part
            summary["test"] = experiment.paradigm.test_metrics(trainer, experiment.test_split)
    if trainer.rank == 0:
        atomic_write_json(paths.summary, summary)
    if status == "completed":
        distributed.barrier()  # the summary is written before any rank reads the run


def streamed_test_inputs(config: ExperimentConfig, targets: str | None, preprocessor: Any):
    """The test split of a run trained on a streamed source: inputs read chunk by chunk on
    the CPU (:class:`gradwise.training.streamed.ChunkedInputs`) and the encoded targets."""
    from gradwise.data.streaming import streamed_test_split
    from gradwise.training.streamed import StreamSplit

    splits = streamed_test_split(config.data, targets, config.seed, preprocessor)
    split = StreamSplit(splits, "test", None, torch.device("cpu"))
    return split["x"], splits.targets["test"]


def versions() -> dict[str, str]:
    return {
        "gradwise": gradwise.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


class Run:
    """A finished (or interrupted) run directory: its config, metrics, summary and model.

    ``splits``: the run's data splits when the caller already has them (``train`` passes its
    own, so the report needs no second data load).
    """

    def __init__(self, path: str | Path, splits: Any | None = None) -> None:
        self.paths = open_run(path)
        self.path = self.paths.root
        self.config: ExperimentConfig = load_config(self.paths.config)
        paradigm = TASKS.get(self.config.task)
        self.preprocessor: Preprocessor | None = None
        if paradigm.needs_data:
            self.preprocessor = Preprocessor.from_dict(read_json(self.paths.preprocess))
        self.task = paradigm.create(self.config, self.preprocessor, self._train_labels())
        self._model: torch.nn.Module | None = None
        self._splits = splits
        # the test split's encoded inputs and targets, once read
        self._test: tuple[np.ndarray, Any] | None = None
        if splits is not None and not splits.profile.get("streamed"):
            self._test = (splits.x_test, splits.y_test)

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"

    def _train_labels(self) -> np.ndarray | None:
        """Training labels as the run's profile counts them (their order does not matter to
        the task), so evaluation reports the imbalance metrics exactly when training did."""
        profile = read_json(self.path / "profile.json", {})
        counts = profile.get("class_counts", {})
        if "train" not in counts:
            from gradwise.data.load import train_targets_of_columns

            return train_targets_of_columns(profile.get("target_columns"))  # several targets
        return np.repeat(np.arange(len(counts["train"])), counts["train"])

    @property
    def summary(self) -> dict[str, Any]:
        return read_summary(self.paths)

    @property
    def metrics(self) -> list[dict[str, Any]]:
        return read_metrics(self.paths)

    @property
    def model(self) -> torch.nn.Module:
        """The best checkpoint's model (the last one if no best was recorded), in eval mode."""
        if self._model is None:
            model = self.task.model_for(self.config, self.preprocessor)
            tag = "best" if (self.paths.checkpoints / "best.safetensors").is_file() else "last"
            load_weights(self.paths.checkpoints, tag, model)
            self._model = model.eval()
        return self._model

    def _need_preprocessor(self) -> Preprocessor:
        if self.preprocessor is None:
            raise CheckpointError(f"{self.path}: a {self.config.task} run takes no input rows")
        return self.preprocessor

    @property
    def classes(self) -> list[Any] | dict[str, list[Any]] | None:
        """The class labels, in the column order of :meth:`predict_proba` (a multi-target run:
        target → labels, for each classification target); None for runs that predict no
        classes (regression, autoencoders, ...)."""
        return self.task.output_classes()

    def outputs(self, x: Any) -> torch.Tensor:
        """Model outputs ``(N, out)`` on the CPU for raw inputs: a path (CSV/Parquet/NPZ, an
        image folder), a DataFrame, a mapping (one row, or column → values), a list of mappings
        (rows), or an array — a table run's columns in training order (``run.feature_columns``),
        else ``(N, *feature_shape)`` or flattened ``(N, features)``."""
        return self.model_outputs(self._need_preprocessor().transform_features(x))

    @property
    def feature_columns(self) -> list[str] | None:
        """A table run's input columns in training order (an array's columns); None for
        array runs."""
        return None if self.preprocessor is None else self.preprocessor.input_columns

    def model_outputs(self, features: np.ndarray) -> torch.Tensor:
        """Model outputs ``(N, out)`` on the CPU for preprocessed features, in batches."""
        device = resolve_device("cpu" if self.config.train.device == "cpu" else "auto")
        model = self.model.to(device)
        if hasattr(features, "chunks"):  # a split streamed from disk, in order
            return torch.cat(
                [batched_outputs(model, x, EVAL_BATCH_SIZE).cpu() for x in features.chunks()]
            )
        inputs = torch.as_tensor(features, dtype=torch.float32, device=device)
        return batched_outputs(model, inputs, EVAL_BATCH_SIZE).cpu()

    def test_outputs(self) -> tuple[torch.Tensor, np.ndarray]:
        """Model outputs ``(N, out)`` on the run's own test split, and its encoded targets. The
        split is read once per ``Run`` (a run returned by ``train`` has it already) and encoded
        with the run's stored preprocessing: nothing is refitted."""
        if self._test is None:
            from gradwise.data.load import load_test_split

            targets = TASKS.get(self.config.task).target_kind
            preprocessor = self._need_preprocessor()
            if read_json(self.path / "profile.json", {}).get("streamed"):
                self._test = streamed_test_inputs(self.config, targets, preprocessor)
            else:
                self._test = load_test_split(
                    self.config.data, targets, self.config.seed, preprocessor
                )
        x_test, y_test = self._test
        return self.model_outputs(x_test), y_test

    def predict(self, x: Any) -> Any:
        """Class labels (classification) or values in original units (regression) for inputs
        as :meth:`outputs` takes them, as an array; several targets: a DataFrame with one
        column per target."""
        return self._need_preprocessor().decode_predictions(self.outputs(x).numpy())

    def predict_proba(self, x: Any) -> np.ndarray | dict[str, np.ndarray]:
        """Class probabilities ``(N, K)``, columns in the order of :attr:`classes`; a
        multi-target run: target → ``(N, K_t)``, for each classification target."""
        if self.task.output_classes() is None:
            raise CheckpointError(f"{self.path}: predict_proba needs a classification target")
        return self.task.output_probabilities(self.outputs(x))

    def doctor(self, write: bool = True) -> list[Any]:
        """Diagnose this run (as ``gradwise doctor``): its findings, causes first, each with
        ``code``, ``severity``, ``message``, ``evidence`` and ``remedies``; with ``write``,
        ``diagnosis.json`` is saved into the run directory."""
        from gradwise.diagnose.doctor import diagnose

        return diagnose(self.path, write=write).findings

    def evaluate(self, data: Any = None, y: Any = None) -> dict[str, float]:
        """Metrics on the run's own test split, or on labelled inputs (a CSV/Parquet/NPZ path,
        a DataFrame or mappings holding the target column(s), or any input :meth:`outputs`
        takes with its labels as ``y``), with the ``loss`` and the number of ``rows`` they were
        measured on."""
        if data is None:
            if y is not None:
                raise DataError("evaluate: y was given without the inputs (data) it labels")
            outputs, y = self.test_outputs()
        else:
            preprocessor = self._need_preprocessor()
            raw = preprocessor.read_inputs(data)
            labels = preprocessor.targets_of(raw) if y is None else np.asarray(y)
            if labels is None:
                raise DataError(
                    f"{raw.source}: no target {self.config.data.target or 'y'!r} to evaluate "
                    "against (give the labels as y)"
                )
            if len(labels) != len(raw):
                raise DataError(f"evaluate: {len(raw)} input rows but {len(labels)} labels")
            outputs = self.model_outputs(preprocessor.transform_features(raw))
            y = preprocessor.encode_target(labels)
        targets = self.task.targets_tensor(y, torch.device("cpu"))
        loss = {"loss": self._loss(outputs, targets)} if hasattr(self.task, "build_loss") else {}
        return {"rows": len(y), **loss, **self.task.metrics(outputs, targets)}

    def _loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> float:
        """The run's training loss, with class weights from the class counts it trained on
        (after ``data.sampling``), as the summary's ``test.loss`` was measured."""
        profile = read_json(self.path / "profile.json", {})
        counts = profile.get("class_counts", {}).get("train", [])
        resampled = profile.get("sampling", {}).get("after", {})
        if resampled and "rows" not in resampled:  # class name -> count, in class order
            counts = list(resampled.values())
        labels = np.repeat(np.arange(len(counts)), counts).astype(np.int64)
        loss_fn = self.task.build_loss(self.config, labels, torch.device("cpu"))
        with torch.inference_mode():
            return float(loss_fn(outputs.float(), targets))


__all__ = ["Run", "resume", "train"]
