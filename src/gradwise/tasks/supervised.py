"""Supervised paradigms: classification and regression of one table, signal or image batch.

One model maps inputs ``x`` to outputs; one loss (``train.loss``) compares them with the targets
``y``; one optimizer (``main``) steps it. The training split may be resampled
(``data.sampling``) and augmented per batch (``data.augment``); validation and test never are.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from gradwise._io import user_stacklevel
from gradwise.errors import ConfigError
from gradwise.tasks.base import Paradigm, Parts, TrainingData
from gradwise.tasks.registry import TASKS

if TYPE_CHECKING:
    import torch

    from gradwise.config.schema import ExperimentConfig
    from gradwise.data.tabular import TableLayout
    from gradwise.training.engine import Batch, TensorSplit, Trainer

IMBALANCE_RATIO = 3.0  # largest / smallest training class count from which imbalance metrics show


class Supervised(Paradigm):
    """Inputs to targets through one model and one loss."""

    streams = True  # tables and arrays larger than memory (gradwise.data.streaming)
    embeds_categories = True
    loss_fn: Any = None  # built by :meth:`build`

    def check_loss(self, loss_name: str) -> None:
        if loss_name not in self.losses:
            raise ConfigError(
                f"train.loss: '{loss_name}' does not fit task '{self.name}'; "
                f"choose from: {', '.join(self.losses)}"
            )

    def output_dim(self, loss_name: str) -> int:
        raise NotImplementedError

    def build_module(
        self,
        config: ExperimentConfig,
        feature_shape: tuple[int, ...],
        layout: TableLayout | None = None,
    ) -> Any:
        from gradwise.models import build_model

        loss_name = self.loss_name(config)
        self.check_loss(loss_name)
        return build_model(config.model, feature_shape, self.output_dim(loss_name), layout)

    def build_loss(self, config: ExperimentConfig, train_targets: Any, device: Any) -> Any:
        """``train.loss`` for this run; ``train_targets``: the training split's targets as
        trained on (after ``data.sampling``), from which class weights are computed."""
        from gradwise.training import LOSSES

        options = self.loss_options(config, train_targets, device)
        return LOSSES.get(self.loss_name(config))(config.train, **options)

    def loss_options(self, config: ExperimentConfig, train_targets: Any, device: Any) -> dict:
        return {}

    def training_arrays(self, config: ExperimentConfig, splits: Any) -> tuple[np.ndarray, Any]:
        """The training split after ``data.sampling`` (validation and test are never
        resampled); the class counts before → after are warned and recorded in
        ``splits.profile["sampling"]``."""
        from gradwise.augment.sampling import resample

        x, y, record = resample(
            config.data.sampling, splits.x_train, splits.y_train, config.seed, self.output_classes()
        )
        if record is not None:
            splits.profile["sampling"] = record
        return x, y

    def build(
        self, config: ExperimentConfig, data: TrainingData, device: Any, augment: Any
    ) -> Parts:
        from gradwise.training.optimizers import build_optimizer
        from gradwise.training.schedules import build_schedules

        module = self.model_for(config, data.splits.preprocessor).to(device)
        self.check_data(config, data.splits)
        self.loss_fn = self.build_loss(config, data.train["y"], device)
        optimizers = {"main": build_optimizer(module, config.train.optimizer, device)}
        schedules = build_schedules(
            config.train, optimizers, len(data.train), data.valid is not None
        )
        return Parts(module, optimizers, schedules, self.batch_transforms(config, data, augment))

    def check_data(self, config: ExperimentConfig, splits: Any) -> None:
        """Warn, before training, when the data does not suit what the config asks of it: here
        a model kind not made for the data's shape (a 1-D CNN on a table)."""
        from gradwise.tasks.checks import model_shape_note

        preprocessor = splits.preprocessor
        note = model_shape_note(
            config.model.kind, preprocessor.input_kind, preprocessor.feature_shape
        )
        if note:
            warnings.warn(note, stacklevel=user_stacklevel())

    def batch_transforms(
        self, config: ExperimentConfig, data: TrainingData, generator: Any
    ) -> list[Any]:
        """``data.augment`` for this run, as transforms of ``{"x", "y"}`` batches."""
        if not config.data.augment:
            return []
        from gradwise.augment.compose import AugmentContext, build_batch_transforms

        preprocessor = data.splits.preprocessor
        loss_name = self.loss_name(config)
        classes = self.output_classes()
        context = AugmentContext(
            generator=generator,
            n_classes=None if classes is None else len(classes),
            output_dim=self.output_dim(loss_name),
            input_kind=preprocessor.input_kind,
            feature_shape=tuple(preprocessor.feature_shape),
        )
        return [on_pairs(t) for t in build_batch_transforms(config.data.augment, context)]

    # ---------------------------------------------------------------------------- training
    def compute_loss(self, trainer: Trainer, outputs: torch.Tensor, batch: Batch) -> torch.Tensor:
        return self.loss_fn(outputs.float(), batch["y"])

    def train_step(self, trainer: Trainer, batch: Batch) -> dict[str, torch.Tensor]:
        outputs = self.forward(trainer, batch)
        loss = trainer.compute_loss(outputs, batch)
        return {"loss": trainer.optimizer_step("main", loss)}

    def evaluate(self, trainer: Trainer, split: TensorSplit) -> dict[str, float]:
        import torch

        outputs = trainer.predict_outputs(split["x"])
        with torch.inference_mode():
            loss = trainer.compute_loss(outputs, split.tensors).item()
        return {"loss": loss, **self.metrics(outputs, split["y"])}

    def metrics(self, outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
        raise NotImplementedError


def on_pairs(transform: Any) -> Any:
    """An ``(x, y) -> (x, y)`` augmentation as a transform of ``{"x", "y"}`` batches."""

    def apply(batch: Batch) -> Batch:
        x, y = transform(batch["x"], batch["y"])
        return {**batch, "x": x, "y": y}

    return apply


@TASKS.register("classification")
class Classification(Supervised):
    target_kind = "labels"
    main_metric = "accuracy"
    default_loss = "cross_entropy"
    losses: ClassVar[tuple[str, ...]] = ("cross_entropy", "bce")
    eval_metrics: ClassVar[tuple[str, ...]] = ("loss", "accuracy", "f1", "auc")

    def __init__(self, class_labels: list[Any], imbalanced: bool = False) -> None:
        self.class_labels = class_labels
        self.n_classes = len(class_labels)
        self.imbalanced = imbalanced  # also report balanced accuracy, per-class recall, PR-AUC
        self.class_keys = class_keys(class_labels)  # recall_<key> per class

    def evaluation_metrics(self) -> list[str]:
        """The headline metrics and, with imbalanced classes, balanced accuracy, each class's
        recall (``recall_<class key>``) and PR-AUC."""
        names = list(self.eval_metrics)
        if self.imbalanced:
            names += ["balanced_accuracy", *(f"recall_{k}" for k in self.class_keys), "pr_auc"]
        return names

    def check_data(self, config: ExperimentConfig, splits: Any) -> None:
        """Also warn when the class labels look like measured values (many distinct numbers)."""
        from gradwise.tasks.checks import continuous_labels_note

        super().check_data(config, splits)
        counts = np.bincount(np.asarray(splits.y_train, dtype=np.int64), minlength=self.n_classes)
        target = config.data.target if isinstance(config.data.target, str) else None
        note = continuous_labels_note(self.class_labels, counts.tolist(), target)
        if note:
            warnings.warn(note, stacklevel=user_stacklevel())

    @classmethod
    def create(cls, config: Any, preprocessor: Any, train_targets: Any = None) -> Classification:
        """With the training targets, imbalanced classes (largest / smallest count ≥
        ``IMBALANCE_RATIO``) make the task report the imbalance metrics too."""
        classes = list(preprocessor.classes)
        return cls(classes, is_imbalanced(train_targets, len(classes)))

    def output_dim(self, loss_name: str) -> int:
        if loss_name == "bce":
            if self.n_classes != 2:
                raise ConfigError(
                    f"train.loss: bce needs a binary target, found "
                    f"{self.n_classes} classes; use cross_entropy"
                )
            return 1
        return self.n_classes

    def loss_options(self, config: Any, train_targets: Any, device: Any) -> dict:
        labels = np.asarray(train_targets.cpu() if hasattr(train_targets, "cpu") else train_targets)
        return {"class_weights": class_weights(config, labels, self.n_classes, device)}

    def targets_tensor(self, y: np.ndarray, device: Any) -> torch.Tensor:
        import torch

        return torch.as_tensor(y, dtype=torch.long, device=device)

    def metrics(self, outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
        from gradwise.training.metrics import classification_metrics

        return classification_metrics(
            outputs, targets, self.n_classes, self.imbalanced, self.class_keys
        )

    @staticmethod
    def probabilities(outputs: torch.Tensor) -> torch.Tensor:
        from gradwise.training.metrics import class_probabilities

        return class_probabilities(outputs)

    def output_classes(self) -> list[Any]:
        return self.class_labels

    def output_probabilities(self, outputs: torch.Tensor) -> np.ndarray:
        return self.probabilities(outputs).numpy()


@TASKS.register("regression")
class Regression(Supervised):
    target_kind = "values"
    main_metric = "rmse"
    default_loss = "mse"
    losses: ClassVar[tuple[str, ...]] = ("mse", "mae", "huber")
    eval_metrics: ClassVar[tuple[str, ...]] = ("loss", "rmse", "mae", "r2")

    def __init__(self, target_std: list[float]) -> None:
        self.target_std = target_std  # per target, to report errors in original units
        self.n_targets = len(target_std)

    @classmethod
    def create(cls, config: Any, preprocessor: Any, train_targets: Any = None) -> Regression:
        return cls([float(s) for s in np.atleast_1d(preprocessor.target.std)])

    def output_dim(self, loss_name: str) -> int:
        return self.n_targets

    def metrics(self, outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
        import torch

        from gradwise.training.metrics import regression_metrics

        std = torch.as_tensor(self.target_std, dtype=torch.float32, device=targets.device)
        return regression_metrics(outputs, targets, std if targets.dim() > 1 else std[0])


def class_keys(labels: Sequence[Any]) -> list[str]:
    """Each class label as it appears in a metric name (``recall_<key>``): lowercase, every run
    of characters other than letters and digits made ``_`` (a negative number gets ``minus_``);
    a label with nothing left is named by its index, and a key already taken gets ``_<index>``.

    >>> class_keys(["Yes", "no", "Yes!", -1, "?"])
    ['yes', 'no', 'yes_2', 'minus_1', '4']
    """
    keys: list[str] = []
    for index, label in enumerate(labels):
        text = str(label).lower()
        if isinstance(label, (int, float)) and not isinstance(label, bool) and label < 0:
            text = f"minus_{text[1:]}"
        key = re.sub(r"[\W_]+", "_", text).strip("_") or str(index)
        while key in keys:
            key = f"{key}_{index}"
        keys.append(key)
    return keys


def is_imbalanced(train_targets: np.ndarray | None, n_classes: int) -> bool:
    if train_targets is None or np.ndim(train_targets) != 1 or len(train_targets) == 0:
        return False
    counts = np.bincount(np.asarray(train_targets, dtype=np.int64), minlength=n_classes)
    return bool(counts.max() >= IMBALANCE_RATIO * max(int(counts.min()), 1))


def class_weights(
    config: ExperimentConfig, y_train: np.ndarray, n_classes: int, device: Any
) -> torch.Tensor | None:
    """Per-class loss weights: ``balanced`` gives w_k = N / (K · N_k); a list is used as
    given; ``data.sampling: class_weight`` means ``balanced``."""
    import torch

    from gradwise.augment.options import parse_sampling

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
