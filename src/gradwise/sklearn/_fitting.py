"""An estimator's training, in memory, through gradwise's own engine.

The rows given to ``fit`` are split into training and validation rows (``data.valid``,
stratified for labels, fixed by the seed), the preprocessing is fitted on the training rows
(:class:`~gradwise.data.Preprocessor`: scaling, one-hot categories for tables), and the
experiment is built and trained exactly as ``gradwise train`` builds it
(:func:`~gradwise.experiment.build_experiment`): same model registry, loss, optimizer, schedule,
augmentation, sampling and early stopping. The weights of the best epoch (``train.monitor``;
``train_loss`` without validation rows) are kept; nothing is written to disk unless a run
directory is asked for (``out=``: then the run trains as ``gradwise.train`` trains it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from gradwise.config.schema import ExperimentConfig
from gradwise.data.load import Splits
from gradwise.data.preprocess import Preprocessor
from gradwise.data.split import plain_split, stratified_split
from gradwise.data.targets import TargetEncoder
from gradwise.experiment import Experiment, build_experiment
from gradwise.sklearn._params import IN_MEMORY_SOURCE
from gradwise.training.callbacks import BestWeights, config_callbacks
from gradwise.training.engine import EVAL_BATCH_SIZE, batched_outputs

Features = np.ndarray | pd.DataFrame


@dataclass
class Fitted:
    """What training leaves: the model (CPU, eval mode), the fitted preprocessing, the
    per-epoch logs, and the optimizer's state for ``partial_fit``."""

    module: torch.nn.Module
    preprocessor: Preprocessor
    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int | None = None
    optimizer_state: dict[str, Any] | None = None
    run_dir: Path | None = None  # the run directory written, when asked for one


def _rows(x: Features, index: np.ndarray) -> Features:
    return x.iloc[index].reset_index(drop=True) if isinstance(x, pd.DataFrame) else x[index]


def split_rows(
    n: int, valid: float, labels: np.ndarray | None, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(training, validation) row indices: ``round(valid · n)`` validation rows, stratified
    by ``labels`` when given; every row trains when that rounds to none (or to all)."""
    n_valid = round(valid * n)
    if n_valid < 1 or n - n_valid < 1:
        return np.arange(n), np.arange(0)
    if labels is not None:
        train, valid_rows, _ = stratified_split(labels, n_valid, 0, seed)
    else:
        train, valid_rows, _ = plain_split(n, n_valid, 0, seed)
    return train, valid_rows


def make_splits(
    config: ExperimentConfig,
    x: Features,
    y: np.ndarray,
    target: TargetEncoder,
    preprocessor: Preprocessor | None = None,
) -> Splits:
    """Training and validation splits of ``(x, y)`` with no test split; the feature
    preprocessing is fitted on the training rows unless one is given (``partial_fit`` keeps
    the first), the targets encoded by ``target``."""
    labels = y if target.kind == "labels" else None
    train, valid = split_rows(len(y), config.data.valid, labels, config.seed)
    if preprocessor is None:
        from gradwise.tasks import TASKS, one_hot_limit

        limit = one_hot_limit(config, TASKS.get(config.task))
        preprocessor = Preprocessor.fit(
            _rows(x, train), target_kind=None, scale=config.data.scale, one_hot_max=limit
        )
        preprocessor.target = target

    def encode(index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        features = preprocessor.transform_features(_rows(x, index), unseen="zeros")
        return features, preprocessor.encode_target(y[index])

    x_train, y_train = encode(train)
    x_valid, y_valid = encode(valid)
    x_test = np.zeros((0, *preprocessor.feature_shape), dtype=np.float32)
    return Splits(x_train, y_train, x_valid, y_valid, x_test, y_train[:0], preprocessor, profile={})


def train(
    config: ExperimentConfig,
    splits: Splits,
    warm: Fitted | None = None,
    keep_best: bool = True,
    out: str | Path | None = None,
) -> Fitted:
    """Train on ``splits`` as ``gradwise train`` would; ``warm`` continues from a previous
    model and optimizer state (``partial_fit``); ``keep_best``: end on the best epoch's
    weights rather than the last; ``out``: also write a run directory under this folder."""
    experiment = build_experiment(config, splits)
    trainer = experiment.trainer
    if warm is not None:
        experiment.module.load_state_dict(warm.module.state_dict())
        if warm.optimizer_state is not None:
            trainer.optimizers["main"].load_state_dict(warm.optimizer_state)
    if out is not None:
        return _train_into_run(experiment, splits, out)
    has_valid = experiment.valid_split is not None
    best = BestWeights(config.train.monitor if has_valid else "train_loss")
    trainer.set_callbacks([*config_callbacks(config.train), best])
    trainer.fit(experiment.train_split, experiment.valid_split)
    if keep_best and best.state is not None:
        experiment.module.load_state_dict(best.state)
    return Fitted(
        experiment.module.cpu().eval(),
        splits.preprocessor,
        trainer.history,
        best.monitor.best_epoch if keep_best else trainer.epoch,
        _on_cpu(trainer.optimizers["main"].state_dict()),
    )


def _train_into_run(experiment: Experiment, splits: Splits, out: str | Path) -> Fitted:
    """Train as ``gradwise.train`` does, into a new run directory under ``out`` (checkpoints,
    metrics, summary, report): the same run-directory training, fed from memory."""
    from gradwise.api import _create_run, _fit  # gradwise.train's own two steps
    from gradwise.hooks import run_checks

    splits.profile.update(_profile(splits))
    run_checks(experiment.config)
    run = _fit(experiment, _create_run(experiment, out), True, None, started=time.time())
    return Fitted(
        experiment.module.cpu().eval(),
        splits.preprocessor,
        experiment.trainer.history,
        run.summary.get("best_epoch"),
        _on_cpu(experiment.trainer.optimizers["main"].state_dict()),
        run_dir=run.path,
    )


def _profile(splits: Splits) -> dict[str, Any]:
    """The run's ``profile.json`` for data given in memory: rows per split and, for labels,
    the class counts that evaluation weighs its loss with."""
    profile: dict[str, Any] = {
        "source": IN_MEMORY_SOURCE,
        "splits": {"train": len(splits.x_train), "valid": len(splits.x_valid), "test": 0},
    }
    classes = splits.preprocessor.classes
    if classes is not None:
        profile["classes"] = classes
        profile["class_counts"] = {
            name: np.bincount(y, minlength=len(classes)).tolist()
            for name, y in (("train", splits.y_train), ("valid", splits.y_valid))
        }
    return profile


def _on_cpu(state: Any) -> Any:
    """A state dict with every tensor on the CPU (pickles anywhere; loading moves it back)."""
    if isinstance(state, torch.Tensor):
        return state.detach().cpu()
    if isinstance(state, dict):
        return {key: _on_cpu(value) for key, value in state.items()}
    if isinstance(state, list):
        return [_on_cpu(value) for value in state]
    return state


def model_outputs(module: torch.nn.Module, features: np.ndarray) -> np.ndarray:
    """Outputs ``(N, out)`` of the model for preprocessed features, on the CPU, float32."""
    inputs = torch.as_tensor(features, dtype=torch.float32)
    return batched_outputs(module, inputs, EVAL_BATCH_SIZE).numpy()
