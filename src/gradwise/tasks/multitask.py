"""Multi-task learning: several target columns, one shared body, one head and loss per target.

``data.target`` names the columns as a list (each column's kind inferred: text, booleans and
few whole numbers are classes, other numbers values) or as a mapping column → ``classification``
| ``regression``; without a ``task`` such a config is this paradigm's (``task: multitask``).

The model is any registered model kind whose linear ``head`` is replaced by one head per target
(:mod:`gradwise.models.heads`): outputs (B, Σ_t w_t), one block per target. Each target keeps
the loss and the metrics of its single-target paradigm (:mod:`.supervised`): cross-entropy and
accuracy/F1/AUC for classes, ``train.loss`` (default MSE) and RMSE/MAE/R² for values. The
losses are combined by ``train.loss_weights`` (:mod:`.loss_weights`): fixed weights, or learned
homoscedastic-uncertainty weights (Kendall, Gal & Cipolla, 2018)::

    L = Σ_t c_t · exp(−s_t) · L_t + s_t / 2        s_t = log σ_t², c_t = 1/2 values, 1 classes

Every per-target number is named ``<target>_<metric>`` (``valid_price_rmse``,
``valid_cut_accuracy``, ``train_cut_loss``); learned weights are logged each epoch as
``weight_<target>`` and the final ones are in ``summary.json`` (``loss_weights``). The run's
headline metric (``gradwise runs``, the report's first figures) is the first target's.

Torch-free at import (as :mod:`.supervised`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from gradwise._io import user_stacklevel
from gradwise.data.kinds import MULTI
from gradwise.errors import ConfigError
from gradwise.tasks.base import Paradigm, Parts, TrainingData
from gradwise.tasks.registry import TASKS
from gradwise.tasks.supervised import Classification, Regression, class_keys, is_imbalanced

if TYPE_CHECKING:
    import pandas as pd
    import torch

    from gradwise.config.schema import ExperimentConfig
    from gradwise.data.tabular import TableLayout
    from gradwise.training.engine import Batch, TensorSplit, Trainer

UNCERTAINTY = "uncertainty"  # train.loss_weights: learned weights
SAMPLINGS = ("none", "class_weight")  # data.sampling that keeps the rows of every target
CLASS_LOSS = "cross_entropy"  # every classification target's loss


@dataclass
class Target:
    """One target column: its name, its key in metric names, its single-target paradigm (whose
    losses and metrics it uses), its loss name and its block of model outputs."""

    name: str
    key: str
    task: Classification | Regression
    loss_name: str
    width: int

    @property
    def kind(self) -> str:
        return self.task.target_kind  # "labels" | "values"


@TASKS.register("multitask")
class MultiTask(Paradigm):
    """Several targets learned at once by one body with a head per target."""

    target_kind = MULTI
    embeds_categories = True
    main_metric = "loss"  # before the targets are known (tune's default objective: valid_loss)
    losses: ClassVar[tuple[str, ...]] = Regression.losses  # train.loss: the value targets' loss

    def __init__(self, targets: list[Target], loss_weights: Any) -> None:
        self.targets = targets
        self.widths = [t.width for t in targets]
        self.learned = loss_weights == UNCERTAINTY
        if self.learned:  # c_t of the uncertainty weighting
            from gradwise.tasks.loss_weights import KIND_FACTOR

            self.factors = [KIND_FACTOR[t.kind] for t in targets]
        else:
            fixed = loss_weights or {}
            self.factors = [float(fixed.get(t.name, 1.0)) for t in targets]
        self.train_losses = ("loss", *(f"{t.key}_loss" for t in targets))  # type: ignore[misc]
        # the run's headline (summary, `gradwise runs`, the report): the first target's metric
        self.main_metric = f"{targets[0].key}_{targets[0].task.main_metric}"  # type: ignore[misc]
        self.loss_fns: list[Any] | None = None  # built by create (CPU) and build (device)
        self.last_losses: Any = None  # per-target losses (T,) of the last compute_loss

    # ------------------------------------------------------------------------ construction
    @classmethod
    def create(cls, config: Any, preprocessor: Any, train_targets: Any = None) -> MultiTask:
        """One single-target paradigm per target column of the fitted preprocessing; with the
        training targets (n, T), a labels target with imbalanced classes reports the imbalance
        metrics too, and class weights are computed."""
        encoder = preprocessor.target
        y = None if train_targets is None else np.asarray(train_targets)
        keys = class_keys(encoder.names)
        value_loss = config.train.loss or Regression.default_loss
        targets = []
        for j, (name, part) in enumerate(zip(encoder.names, encoder.parts, strict=True)):
            if part.kind == "labels":
                labels = None if y is None else y.reshape(len(y), -1)[:, j].astype(np.int64)
                task: Any = Classification(part.classes, is_imbalanced(labels, len(part.classes)))
                loss_name = CLASS_LOSS
            else:
                task, loss_name = Regression([float(part.std[0])]), value_loss
            targets.append(Target(name, keys[j], task, loss_name, task.output_dim(loss_name)))
        paradigm = cls(targets, config.train.loss_weights)
        import torch

        paradigm.loss_fns = paradigm.build_losses(config, y, torch.device("cpu"))
        return paradigm

    @classmethod
    def check_config(cls, config: ExperimentConfig) -> tuple[str, str] | None:
        """Targets named; loss weights only for targets, not all zero; no class-resampling
        (it balances one target's classes at the others' expense); no per-class weight list."""
        from gradwise.augment.options import parse_sampling

        data, train = config.data, config.train
        if data is None or data.target is None:
            return "data.target", "required for several targets: a list or a mapping of columns"
        names = [data.target] if isinstance(data.target, str) else list(data.target)
        weights = train.loss_weights
        if isinstance(weights, dict):
            for name in weights:
                if name not in names:
                    return (
                        f"train.loss_weights.{name}",
                        f"'{name}' is not a target; the targets are: {', '.join(names)}",
                    )
            if weights and not any(weights.get(n, 1.0) > 0 for n in names):
                return "train.loss_weights", "every weight is 0: at least one must be positive"
        if isinstance(train.class_weights, list):
            return (
                "train.class_weights",
                "a list of per-class weights is ambiguous with several targets; use balanced",
            )
        sampling = parse_sampling(data.sampling)[0]
        if sampling not in SAMPLINGS:
            return (
                "data.sampling",
                f"'{sampling}' resamples rows by one target's classes; with several targets "
                f"use one of: {', '.join(SAMPLINGS)}",
            )
        if train.loss is not None and train.loss not in cls.losses:
            return (
                "train.loss",
                f"'{train.loss}' cannot be the loss of the value targets (classification "
                f"targets use {CLASS_LOSS}); choose from: {', '.join(cls.losses)}",
            )
        return None

    def build_losses(self, config: ExperimentConfig, y_train: Any, device: Any) -> list[Any]:
        """Each target's loss function, as its single-target paradigm builds it (class weights
        from the training labels of that column; none when ``y_train`` is None)."""
        import torch

        from gradwise.training import LOSSES

        y = None if y_train is None else torch.as_tensor(y_train).reshape(len(y_train), -1)
        fns = []
        for j, target in enumerate(self.targets):
            options = {}
            if target.kind == "labels" and y is not None:
                labels = y[:, j].long().cpu().numpy()
                options = target.task.loss_options(config, labels, device)
            fns.append(LOSSES.get(target.loss_name)(config.train, **options))
        return fns

    def build_module(
        self,
        config: ExperimentConfig,
        feature_shape: tuple[int, ...],
        layout: TableLayout | None = None,
    ) -> Any:
        """The configured model with one head per target (and the learned log-variances)."""
        from gradwise.models import build_model
        from gradwise.models.heads import attach_heads
        from gradwise.models.layers import init_weights

        model = build_model(config.model, feature_shape, sum(self.widths), layout)
        widths = {t.key: t.width for t in self.targets}
        head = attach_heads(model, widths, learn_log_variance=self.learned)
        init_weights(head, config.model.init, config.model.activation)
        return model

    def build(
        self, config: ExperimentConfig, data: TrainingData, device: Any, augment: Any
    ) -> Parts:
        from gradwise.training.optimizers import build_optimizer
        from gradwise.training.schedules import build_schedules

        module = self.model_for(config, data.splits.preprocessor).to(device)
        self.check_data(config, data.splits)
        self.loss_fns = self.build_losses(config, data.train["y"], device)
        log_variance = module.head.log_variance
        params: Any = module.parameters()
        if log_variance is not None:  # no weight decay on s_t: it would pull every σ_t to 1
            shared = [p for p in module.parameters() if p is not log_variance]
            params = [{"params": shared}, {"params": [log_variance], "weight_decay": 0.0}]
        optimizers = {"main": build_optimizer(params, config.train.optimizer, device)}
        schedules = build_schedules(
            config.train, optimizers, len(data.train), data.valid is not None
        )
        return Parts(module, optimizers, schedules, self.batch_transforms(config, data, augment))

    def check_data(self, config: ExperimentConfig, splits: Any) -> None:
        """Warn when the model kind does not suit the data's shape, or when a classification
        target's labels look like measured values."""
        from gradwise.tasks.checks import continuous_labels_note, model_shape_note

        pre = splits.preprocessor
        notes = [model_shape_note(config.model.kind, pre.input_kind, pre.feature_shape)]
        y = np.asarray(splits.y_train)
        for j, target in enumerate(self.targets):
            if target.kind == "labels":
                counts = np.bincount(y[:, j].astype(np.int64), minlength=target.width)
                notes.append(
                    continuous_labels_note(target.task.class_labels, counts.tolist(), target.name)
                )
        for note in filter(None, notes):
            warnings.warn(note, stacklevel=user_stacklevel())

    def batch_transforms(
        self, config: ExperimentConfig, data: TrainingData, generator: Any
    ) -> list:
        """``data.augment`` of the inputs; an augmentation that mixes targets (mixup) cannot
        mix class indices and values of several targets: ConfigError."""
        if not config.data.augment:
            return []
        from gradwise.augment.compose import AugmentContext, build_batch_transforms
        from gradwise.augment.registry import BatchAugmentation
        from gradwise.tasks.supervised import on_pairs

        pre = data.splits.preprocessor
        context = AugmentContext(
            generator=generator,
            output_dim=sum(self.widths),
            input_kind=pre.input_kind,
            feature_shape=tuple(pre.feature_shape),
        )
        transforms = build_batch_transforms(config.data.augment, context)
        for index, transform in enumerate(transforms):
            if type(transform).__call__ is not BatchAugmentation.__call__:
                raise ConfigError(
                    f"data.augment[{index}]: {type(transform).__name__} changes the targets "
                    "too, which a run with several targets cannot mix; use input-only "
                    "augmentations"
                )
        return [on_pairs(t) for t in transforms]

    # ------------------------------------------------------------------------------ losses
    def targets_tensor(self, y: np.ndarray, device: Any) -> torch.Tensor:
        """(n, T) float32: class indices (exact in float32 below 2^24) and values."""
        import torch

        return torch.as_tensor(np.asarray(y, dtype=np.float32), device=device).reshape(len(y), -1)

    def target_losses(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Each target's loss on its block of outputs → (T,)."""
        import torch

        assert self.loss_fns is not None, "losses are built by create() or build()"
        blocks = outputs.float().split(self.widths, dim=-1)  # T × (B, w_t)
        losses = []
        for j, (target, block, fn) in enumerate(
            zip(self.targets, blocks, self.loss_fns, strict=True)
        ):
            y = targets[:, j]
            losses.append(fn(block, y.long() if target.kind == "labels" else y))
        return torch.stack(losses)

    def weighting(self, module: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The fixed weights w_t (or the factors c_t) and the learned s_t (None if fixed)."""
        import torch

        log_variance = module.head.log_variance
        device = next(module.parameters()).device
        return torch.tensor(self.factors, device=device), log_variance

    def compute_loss(self, trainer: Trainer, outputs: torch.Tensor, batch: Batch) -> torch.Tensor:
        """The weighted total of the per-target losses (these are kept for logging)."""
        from gradwise.tasks.loss_weights import weighted_total

        losses = self.target_losses(outputs, batch["y"])
        total, _ = weighted_total(losses, *self.weighting(trainer.module))
        self.last_losses = losses.detach()
        return total

    def train_step(self, trainer: Trainer, batch: Batch) -> dict[str, torch.Tensor]:
        outputs = self.forward(trainer, batch)
        loss = trainer.compute_loss(outputs, batch)
        parts = self.last_losses
        stepped = trainer.optimizer_step("main", loss)
        return {"loss": stepped, **{f"{t.key}_loss": parts[j] for j, t in enumerate(self.targets)}}

    # -------------------------------------------------------------------------- evaluation
    def evaluate(self, trainer: Trainer, split: TensorSplit) -> dict[str, float]:
        import torch

        outputs = trainer.predict_outputs(split["x"])
        with torch.inference_mode():
            loss = trainer.compute_loss(outputs, split.tensors).item()
            per_target = self.target_metrics(outputs, split["y"], self.last_losses)
        return {"loss": loss, **per_target}

    def metrics(self, outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
        """Each target's loss and metrics (``<key>_loss``, ``<key>_<metric>``); the weighted
        total needs the model's weights and is the trainer's (``loss``)."""
        import torch

        targets = targets.reshape(len(targets), -1)
        with torch.inference_mode():
            return self.target_metrics(outputs, targets, self.target_losses(outputs, targets))

    def target_metrics(
        self, outputs: torch.Tensor, targets: torch.Tensor, losses: torch.Tensor
    ) -> dict[str, float]:
        values: dict[str, float] = {}
        blocks = outputs.float().split(self.widths, dim=-1)
        per_loss = losses.tolist()
        for j, (target, block) in enumerate(zip(self.targets, blocks, strict=True)):
            y = targets[:, j]
            values[f"{target.key}_loss"] = per_loss[j]
            measured = target.task.metrics(block, y.long() if target.kind == "labels" else y)
            values.update({f"{target.key}_{name}": v for name, v in measured.items()})
        return values

    def evaluation_metrics(self) -> list[str]:
        names = ["loss"]
        for target in self.targets:
            names += [f"{target.key}_{m}" for m in target.task.evaluation_metrics()]
        return names

    def logged_metrics(self, has_valid: bool) -> list[str]:
        """The step losses and validation metrics, and the learned weights ``weight_<key>``."""
        weights = [f"weight_{t.key}" for t in self.targets] if self.learned else []
        return [*super().logged_metrics(has_valid), *weights]

    def progress_metrics(self) -> list[str]:
        """Each target's headline metric (``price_rmse``, ``cut_accuracy``)."""
        return [f"{t.key}_{t.task.main_metric}" for t in self.targets]

    def loss_weights(self, module: Any) -> dict[str, float]:
        """Target name → its effective weight: w_t, or c_t · exp(−s_t) when learned."""
        import torch

        factors, log_variance = self.weighting(module)
        if log_variance is not None:
            factors = factors * torch.exp(-log_variance.detach())
        return dict(zip((t.name for t in self.targets), factors.tolist(), strict=True))

    def epoch_metrics(self, trainer: Trainer) -> dict[str, float]:
        if not self.learned:
            return {}
        weights = self.loss_weights(trainer.module).values()
        return {f"weight_{t.key}": w for t, w in zip(self.targets, weights, strict=True)}

    def summary_fields(self, trainer: Trainer) -> dict[str, Any]:
        """``loss_weights``: how the losses were weighted and, when learned, the final weights
        and log-variances s_t = log σ_t² of the last epoch."""
        fields: dict[str, Any] = {
            "kind": UNCERTAINTY if self.learned else "fixed",
            "weights": self.loss_weights(trainer.module),
        }
        if self.learned:
            s = trainer.module.head.log_variance.detach().cpu().tolist()
            fields["log_variance"] = dict(zip((t.name for t in self.targets), s, strict=True))
        return {"loss_weights": fields, "targets": {t.name: t.kind for t in self.targets}}

    # -------------------------------------------------------------------------- prediction
    def prediction_frame(self, outputs: Any, preprocessor: Any) -> pd.DataFrame:
        """``prediction_<target>`` for every target and ``proba_<target>_<class>`` for every
        class of a classification target."""
        import pandas as pd
        import torch

        decoded = preprocessor.decode_predictions(np.asarray(outputs))
        frame = pd.DataFrame({f"prediction_{name}": decoded[name] for name in decoded.columns})
        labels = self.output_classes() or {}
        for name, probabilities in self.output_probabilities(torch.as_tensor(outputs)).items():
            for k, label in enumerate(labels[name]):
                frame[f"proba_{name}_{label}"] = probabilities[:, k].astype(np.float64)
        return frame

    def output_classes(self) -> dict[str, list[Any]] | None:
        """Each classification target's class labels; None without classification targets."""
        labels = {t.name: t.task.class_labels for t in self.targets if t.kind == "labels"}
        return labels or None

    def output_probabilities(self, outputs: torch.Tensor) -> dict[str, np.ndarray]:
        """Each classification target's class probabilities (N, K_t)."""
        blocks = outputs.float().split(self.widths, dim=-1)
        return {
            target.name: target.task.probabilities(block).numpy()
            for target, block in zip(self.targets, blocks, strict=True)
            if target.kind == "labels"
        }
