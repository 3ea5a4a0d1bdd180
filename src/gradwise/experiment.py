"""From a validated config to a ready ``Trainer``: the one assembly used by train, resume and
every feature that trains (lr-find, doctor --fix, tune, compare).

The paradigm named by ``task`` decides what data is read, which model(s), losses, optimizers and
schedules are built and how a step trains; this module only wires them to the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from gradwise.config.schema import ExperimentConfig
from gradwise.errors import ConfigError
from gradwise.tasks import TASKS, Paradigm, TrainingData, load_data
from gradwise.tasks.checks import check_monitors
from gradwise.training import distributed
from gradwise.training.batching import batch_size_of
from gradwise.training.callbacks import Callback
from gradwise.training.device import CompiledOrEager, autocast_dtype, resolve_device
from gradwise.training.engine import TensorSplit, Trainer, stream_seed
from gradwise.transfer import Transfer

AUGMENT_STREAM = 1  # the random stream of data.augment (stream_seed(seed, 1))
DROPOUT_STREAM = 1000  # rank r of a data-parallel run: stream_seed(seed, 1000 + r)

__all__ = ["Experiment", "build_experiment", "create_paradigm", "load_data"]


@dataclass
class Experiment:
    """Everything one training run needs, built from config and data."""

    config: ExperimentConfig
    paradigm: Paradigm
    device: torch.device
    trainer: Trainer
    data: TrainingData
    # transfer learning (model.init_from, model.freeze, train.unfreeze, lr_decay); None: none
    transfer: Transfer | None = None
    callbacks: list[Callback] = field(default_factory=list)  # what the config itself needs

    @property
    def splits(self) -> Any:
        return self.data.splits

    @property
    def module(self) -> torch.nn.Module:
        return self.trainer.module

    @property
    def train_split(self) -> TensorSplit:
        return self.data.train

    @property
    def valid_split(self) -> TensorSplit | None:
        return self.data.valid

    @property
    def test_split(self) -> TensorSplit | None:
        return self.data.test


def create_paradigm(config: ExperimentConfig, splits: Any | None) -> Paradigm:
    """The paradigm object of ``config.task`` for these splits (classes, target scale)."""
    cls = TASKS.get(config.task)
    if splits is None:
        return cls.create(config, None)
    return cls.create(config, splits.preprocessor, splits.y_train)


def build_experiment(
    config: ExperimentConfig,
    splits: Any | None,
    callbacks: list[Callback] | None = None,
    trainer_class: type[Trainer] = Trainer,
) -> Experiment:
    """Seed, then build the paradigm's parts and the trainer (nothing is written). The
    monitored metric names are checked against those the paradigm logs before the model is
    built.

    ``trainer_class`` may be a subclass of :class:`Trainer` that overrides one step.
    """
    torch.manual_seed(config.seed)
    device = distributed.local_device(resolve_device(config.train.device))
    distributed.join_process_group(device)
    paradigm = create_paradigm(config, splits)
    batch_size = batch_size_of(config.train)
    if batch_size == 1 and getattr(config.model, "norm", None) == "batch":
        raise ConfigError(
            "train.batch_size: 1 (pure SGD) cannot be combined with "
            "model.norm: batch (batch statistics need ≥ 2 samples); use layer"
        )
    transfer = Transfer.from_config(config)
    if transfer is not None:
        transfer.prepare_inputs(splits)  # the source run's inputs: checked, scaling reused
    data = paradigm.training_data(config, splits, device)
    check_monitors(config, paradigm, has_valid=data.valid is not None)
    augment = torch.Generator(device=device).manual_seed(stream_seed(config.seed, AUGMENT_STREAM))
    parts = paradigm.build(config, data, device, augment)
    if transfer is not None:
        transfer.prepare_module(parts)  # starting weights, epoch 1's frozen layers
    own_callbacks = transfer.callbacks() if transfer is not None else []
    trainer = trainer_class(
        parts.module,
        paradigm,
        parts.optimizers,
        parts.schedules,
        batch_size=batch_size,
        epochs=config.train.epochs,
        device=device,
        seed=config.seed,
        generators={"augment": augment, **parts.generators},
        callbacks=[*own_callbacks, *(callbacks or [])],
        batch_transforms=parts.batch_transforms,
        grad_clip=config.train.grad_clip,
        l1=config.train.l1,
        autocast_dtype=autocast_dtype(config.train, device),
    )
    if config.train.compile:
        trainer.model = CompiledOrEager(parts.module)
    if trainer.world_size > 1:
        distributed.broadcast_module(parts.module)  # every rank starts from rank 0's weights
        # each rank its own dropout masks (the order and augment streams stay shared)
        torch.manual_seed(stream_seed(config.seed, DROPOUT_STREAM + trainer.rank))
    if transfer is not None:
        transfer.attach(trainer)
    return Experiment(config, paradigm, device, trainer, data, transfer, own_callbacks)
