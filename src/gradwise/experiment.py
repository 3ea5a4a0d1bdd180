"""From a validated config and its data splits to a ready ``Trainer`` (used by train, resume,
and every feature that trains: doctor --fix, tune, compare)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from gradwise.augment.options import parse_sampling
from gradwise.config.schema import ExperimentConfig
from gradwise.errors import ConfigError
from gradwise.models import build_model
from gradwise.training import LOSSES, LRSchedule, TensorSplit, Trainer, build_optimizer, build_task
from gradwise.training.averaging import WeightAveraging
from gradwise.training.callbacks import Callback, EarlyStopping, monitor_mode
from gradwise.training.tasks import Task


def resolve_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("train.device: cuda was asked for but no CUDA device is available")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def class_weights(
    config: ExperimentConfig, y_train: np.ndarray, n_classes: int, device: torch.device
) -> torch.Tensor | None:
    """``balanced``: w_k = N / (K · N_k); a list is used as given."""
    spec = config.train.class_weights
    if parse_sampling(config.data.sampling)[0] == "class_weight" and spec is None:
        spec = "balanced"
    if spec is None:
        return None
    if spec == "balanced":
        counts = np.bincount(y_train, minlength=n_classes).astype(np.float64)
        weights = len(y_train) / (n_classes * np.maximum(counts, 1))
    else:
        if len(spec) != n_classes:
            raise ConfigError(
                f"train.class_weights: expected {n_classes} weights (one per "
                f"class), got {len(spec)}"
            )
        weights = np.asarray(spec, dtype=np.float64)
    return torch.as_tensor(weights, dtype=torch.float32, device=device)


@dataclass
class Experiment:
    """Everything one training run needs, built from config and splits."""

    config: ExperimentConfig
    splits: Any  # gradwise.data.Splits
    task: Task
    device: torch.device
    model: torch.nn.Module
    trainer: Trainer
    train_split: TensorSplit
    valid_split: TensorSplit | None
    test_split: TensorSplit


def to_split(x: np.ndarray, y: np.ndarray, task: Task, device: torch.device) -> TensorSplit:
    return TensorSplit(
        torch.as_tensor(x, dtype=torch.float32, device=device), task.targets_tensor(y, device)
    )


def steps_per_epoch(n_train: int, batch_size: int | None) -> int:
    if batch_size is None or batch_size >= n_train:
        return 1
    steps = math.ceil(n_train / batch_size)
    return steps - 1 if n_train % batch_size == 1 else steps


def training_arrays(config: ExperimentConfig, splits: Any) -> tuple[np.ndarray, np.ndarray]:
    """The training split after ``data.sampling`` (validation and test are never resampled);
    the class counts before → after are warned and recorded in ``splits.profile["sampling"]``."""
    from gradwise.augment.sampling import resample

    classes = splits.preprocessor.classes if config.task == "classification" else None
    x, y, record = resample(
        config.data.sampling, config.task, splits.x_train, splits.y_train, config.seed, classes
    )
    if record is not None:
        splits.profile["sampling"] = record
    return x, y


def batch_transforms(
    config: ExperimentConfig, splits: Any, task: Task, output_dim: int, generator: torch.Generator
) -> list[Any]:
    """``data.augment`` built for this run: applied by the trainer to training batches only."""
    if not config.data.augment:
        return []
    from gradwise.augment.compose import AugmentContext, build_batch_transforms

    context = AugmentContext(
        generator=generator,
        task=config.task,
        n_classes=getattr(task, "n_classes", None),
        output_dim=output_dim,
        input_kind=splits.preprocessor.input_kind,
        feature_shape=tuple(splits.preprocessor.feature_shape),
    )
    return build_batch_transforms(config.data.augment, context)


def config_callbacks(train: Any) -> list[Callback]:
    """The callbacks a ``train`` section asks for: early stopping, weight averaging."""
    callbacks: list[Callback] = []
    if train.early_stopping is not None:
        callbacks.append(EarlyStopping.from_config(train.early_stopping))
    if train.ema is not None:
        callbacks.append(WeightAveraging(train.ema))
    return callbacks


def build_experiment(
    config: ExperimentConfig, splits: Any, callbacks: list[Callback] | None = None
) -> Experiment:
    """Seed, build task/model/loss/optimizer/schedule and the trainer (nothing is written)."""
    torch.manual_seed(config.seed)
    device = resolve_device(config.train.device)
    task = build_task(config.task, splits.preprocessor, splits.y_train)
    loss_name = config.train.loss or task.default_loss
    task.check_loss(loss_name)
    output_dim = task.output_dim(loss_name)
    model = build_model(config.model, tuple(splits.preprocessor.feature_shape), output_dim)
    model.to(device)
    x_train, y_train = training_arrays(config, splits)
    weights = None
    if config.task == "classification":
        weights = class_weights(config, y_train, output_dim if output_dim > 1 else 2, device)
    loss_fn = LOSSES.get(loss_name)(config.train, class_weights=weights)

    train_split = to_split(x_train, y_train, task, device)
    valid_split = (
        to_split(splits.x_valid, splits.y_valid, task, device) if len(splits.x_valid) else None
    )
    test_split = to_split(splits.x_test, splits.y_test, task, device)

    batch_size = None if config.train.batch_size == "full" else int(config.train.batch_size)
    if batch_size == 1 and config.model.norm == "batch":
        raise ConfigError(
            "train.batch_size: 1 (pure SGD) cannot be combined with "
            "model.norm: batch (batch statistics need ≥ 2 samples); use layer"
        )
    per_epoch = steps_per_epoch(len(train_split), batch_size)
    optimizer = build_optimizer(model.parameters(), config.train.optimizer, device)
    schedule = LRSchedule(
        optimizer,
        config.train.schedule,
        per_epoch,
        per_epoch * config.train.epochs,
        monitor_mode("valid_loss" if valid_split else "train_loss"),
    )
    generator = torch.Generator(device=device).manual_seed(config.seed)
    autocast = None
    if config.train.mixed_precision and device.type == "cuda" and torch.cuda.is_bf16_supported():
        autocast = torch.bfloat16  # bf16 keeps fp32's range: no loss scaling needed
    trainer = Trainer(
        model,
        task,
        loss_fn,
        optimizer,
        schedule,
        batch_size=batch_size,
        epochs=config.train.epochs,
        device=device,
        generator=generator,
        callbacks=callbacks,
        batch_transforms=batch_transforms(config, splits, task, output_dim, generator),
        grad_clip=config.train.grad_clip,
        l1=config.train.l1,
        autocast_dtype=autocast,
    )
    return Experiment(
        config, splits, task, device, model, trainer, train_split, valid_split, test_split
    )
