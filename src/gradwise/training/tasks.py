"""Supervised tasks by name (``task``): what the model outputs, the default loss, the metrics.

Later task kinds (autoencoder, VAE, GAN, RL) register here too, with their own training step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from gradwise.errors import ConfigError
from gradwise.metric_names import MAIN_METRIC
from gradwise.registry import Registry
from gradwise.training.metrics import (
    class_probabilities,
    classification_metrics,
    regression_metrics,
)

IMBALANCE_RATIO = 3.0  # largest / smallest training class count from which imbalance metrics show


class Task:
    name: str
    default_loss: str
    main_metric: str  # shown in progress and `gradwise runs`
    losses: tuple[str, ...]

    def output_dim(self, loss_name: str) -> int:
        raise NotImplementedError

    def targets_tensor(self, y: np.ndarray, device: torch.device) -> torch.Tensor:
        raise NotImplementedError

    def metrics(self, outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
        raise NotImplementedError

    def check_loss(self, loss_name: str) -> None:
        if loss_name not in self.losses:
            raise ConfigError(
                f"train.loss: '{loss_name}' does not fit task '{self.name}'; "
                f"choose from: {', '.join(self.losses)}"
            )


@dataclass
class Classification(Task):
    n_classes: int
    imbalanced: bool = False  # also report balanced accuracy, per-class recall and PR-AUC
    name = "classification"
    default_loss = "cross_entropy"
    main_metric = MAIN_METRIC["classification"]
    losses = ("cross_entropy", "bce")

    def output_dim(self, loss_name: str) -> int:
        if loss_name == "bce":
            if self.n_classes != 2:
                raise ConfigError(
                    f"train.loss: bce needs a binary target, found "
                    f"{self.n_classes} classes; use cross_entropy"
                )
            return 1
        return self.n_classes

    def targets_tensor(self, y: np.ndarray, device: torch.device) -> torch.Tensor:
        return torch.as_tensor(y, dtype=torch.long, device=device)

    def metrics(self, outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
        return classification_metrics(outputs, targets, self.n_classes, self.imbalanced)

    @staticmethod
    def probabilities(outputs: torch.Tensor) -> torch.Tensor:
        return class_probabilities(outputs)


@dataclass
class Regression(Task):
    n_targets: int
    target_std: list[float]  # per target, to report errors in original units
    name = "regression"
    default_loss = "mse"
    main_metric = MAIN_METRIC["regression"]
    losses = ("mse", "mae", "huber")

    def output_dim(self, loss_name: str) -> int:
        return self.n_targets

    def targets_tensor(self, y: np.ndarray, device: torch.device) -> torch.Tensor:
        return torch.as_tensor(y, dtype=torch.float32, device=device)

    def metrics(self, outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
        std = torch.as_tensor(self.target_std, dtype=torch.float32, device=targets.device)
        return regression_metrics(outputs, targets, std if targets.dim() > 1 else std[0])


def is_imbalanced(train_targets: np.ndarray | None, n_classes: int) -> bool:
    if train_targets is None or np.ndim(train_targets) != 1 or len(train_targets) == 0:
        return False
    counts = np.bincount(np.asarray(train_targets, dtype=np.int64), minlength=n_classes)
    return bool(counts.max() >= IMBALANCE_RATIO * max(int(counts.min()), 1))


TASKS: Registry[type[Task]] = Registry("task", key="task")
TASKS.register("classification")(Classification)
TASKS.register("regression")(Regression)


def build_task(name: str, preprocessor: Any, train_targets: np.ndarray | None = None) -> Task:
    """The task object for a fitted preprocessor (classes or target scale come from it).

    With the training targets, a classification task whose classes are imbalanced (largest /
    smallest count ≥ ``IMBALANCE_RATIO``) reports the imbalance metrics too.
    """
    if name == "classification":
        n_classes = len(preprocessor.classes)
        return Classification(n_classes, is_imbalanced(train_targets, n_classes))
    std = [float(s) for s in np.atleast_1d(preprocessor.target.std)]
    return Regression(n_targets=len(std), target_std=std)
