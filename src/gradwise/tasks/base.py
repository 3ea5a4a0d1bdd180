"""The paradigm contract: one class per kind of learning, registered by name (``task:``).

A paradigm says what data it needs, builds its model, losses, optimizers and schedules, owns its
training step, its evaluation and its metrics, and says what its run directory holds. The engine
(:mod:`gradwise.training.engine`) knows nothing of any paradigm: it shuffles and slices the
training split into batches (mappings of tensors), calls :meth:`Paradigm.train_step`, which calls
``trainer.optimizer_step(name, loss)`` once per optimizer update, and calls
:meth:`Paradigm.evaluate` on the validation split.

This module is torch-free at import, so that the config schema, ``gradwise init`` and the run
listing can read a paradigm's class attributes without importing torch.

A minimal paradigm (two models, two optimizers, alternating updates)::

    @TASKS.register("teacher_student")
    class TeacherStudent(Paradigm):
        target_kind = None

        def build(self, config, data, device):
            module = nn.ModuleDict({"teacher": ..., "student": ...}).to(device)
            return Parts(module, {"teacher": adam(...), "student": adam(...)}, ...)

        def train_step(self, trainer, batch):
            teacher_loss = ...
            trainer.optimizer_step("teacher", teacher_loss)
            student_loss = ...
            trainer.optimizer_step("student", student_loss)
            return {"loss": student_loss.detach(), "teacher_loss": teacher_loss.detach()}
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import numpy as np
    import torch

    from gradwise.config.schema import ExperimentConfig
    from gradwise.training.engine import Batch, TensorSplit, Trainer
    from gradwise.training.schedules import LRSchedule

TargetKind = str | None  # "labels" | "values" | None (no targets)
BatchTransform = Callable[["Batch"], "Batch"]


@dataclass(frozen=True)
class InitRequest:
    """What ``gradwise init`` was asked for: the dataset (a built-in name, a file, or an
    environment id), and the model kind, target column and agent when given."""

    dataset: str
    model: str | None = None
    target: str | None = None
    agent: str | None = None


@dataclass
class TrainingData:
    """A paradigm's training material on the device: the training split, the validation and
    test splits (None when the run has none), and the data-side objects they were built from
    (``splits``: :class:`gradwise.data.Splits`)."""

    train: TensorSplit
    valid: TensorSplit | None
    test: TensorSplit | None
    splits: Any = None


@dataclass
class Parts:
    """What a paradigm builds for the engine: one module (a container when there are several
    models, so that one checkpoint holds them all), named optimizers and their schedules, the
    transforms of training batches, and any random streams of its own (checkpointed)."""

    module: torch.nn.Module
    optimizers: dict[str, torch.optim.Optimizer]
    schedules: dict[str, LRSchedule]
    batch_transforms: list[BatchTransform] = field(default_factory=list)
    generators: dict[str, torch.Generator] = field(default_factory=dict)


# The train keys that configure ``train.loss``: a paradigm with a loss of its own reads none.
LOSS_KEYS = ("loss", "label_smoothing", "class_weights", "huber_delta", "loss_weights")


class Paradigm:
    """Base class of every paradigm; a subclass sets the class attributes and implements
    :meth:`build`, :meth:`train_step` and :meth:`evaluate` (and :meth:`compute_loss` when it
    has one loss that validation shares)."""

    name: ClassVar[str] = ""  # the task name, set by TASKS.register
    target_kind: ClassVar[TargetKind] = None  # what the data must provide
    needs_data: ClassVar[bool] = True  # False: an environment instead of a dataset
    streams: ClassVar[bool] = False  # True: can train on a split read from disk in chunks
    # True: a table's many-valued categorical columns reach the model as codes it embeds
    # (data.one_hot_max); False: every category one-hot (models that reconstruct their inputs)
    embeds_categories: ClassVar[bool] = False
    main_metric: ClassVar[str] = "loss"  # headline metric: progress bar, `gradwise runs`
    default_loss: ClassVar[str | None] = None
    losses: ClassVar[tuple[str, ...]] = ()  # train.loss choices; () when it has its own
    # False: the training loss is no objective whose curve shows learning (a GAN's game value),
    # so the doctor's loss-curve detectors leave it alone
    loss_curves: ClassVar[bool] = True
    train_losses: ClassVar[tuple[str, ...]] = ("loss",)  # keys train_step returns
    eval_metrics: ClassVar[tuple[str, ...]] = ("loss",)  # keys evaluate returns
    config_sections: ClassVar[tuple[str, ...]] = ()  # its own config sections (env, agent)
    # False: the training loss chases moving targets (an agent's), so a rising or flat loss
    # says nothing about learning and the doctor's loss-curve findings do not apply
    loss_tracks_learning: ClassVar[bool] = True

    # ------------------------------------------------------------------------ construction
    @classmethod
    def create(
        cls,
        config: ExperimentConfig,
        preprocessor: Any | None,
        train_targets: np.ndarray | None = None,
    ) -> Paradigm:
        """The paradigm for a run: from its config and fitted preprocessing (None when the
        paradigm reads no dataset), and the training targets where they matter (imbalance)."""
        return cls()

    @classmethod
    def config_defaults(cls, config: ExperimentConfig) -> dict[str, Any]:
        """Values this paradigm gives keys the config leaves unset, by dotted key: a section
        (``{"agent": ...}``, when it is absent) or a key of ``train`` (``{"train.monitor":
        "eval_return"}``, when the file does not set it)."""
        return {}

    @classmethod
    def check_config(cls, config: ExperimentConfig) -> tuple[str, str] | None:
        """A problem of a validated config that only this paradigm knows of, as ``(key path,
        message)`` (e.g. ``("env", "missing required key ...")``); None when there is none."""
        return None

    @classmethod
    def unread_keys(cls) -> dict[str, tuple[str, ...]]:
        """Keys of the config's sections this paradigm does not read, by section (the report's
        settings tables leave them out): those that configure ``train.loss`` when it has a loss
        of its own, ``train.batch_size`` when it reads no dataset."""
        train = (() if cls.losses else LOSS_KEYS) + (() if cls.needs_data else ("batch_size",))
        return {"train": train}

    @classmethod
    def run_files(cls) -> tuple[str, ...]:
        """Files a run directory must hold beyond ``config.yaml`` (metrics, summary and
        checkpoints are every run's): the fitted preprocessing when there is a dataset."""
        return ("preprocess.json",) if cls.needs_data else ()

    @classmethod
    def starting_config(cls, request: InitRequest) -> str | None:
        """A commented starting experiment for ``gradwise init --task NAME``; None: the
        supervised template (:func:`gradwise.config.templates.starting_config`) with this task."""
        return None

    @classmethod
    def data_targets(cls, config: ExperimentConfig, raw: Any) -> TargetKind:
        """The targets to read from the source ``raw`` (:class:`gradwise.data.RawData`, read
        already): ``target_kind``. A paradigm that uses labels only when the data has them (the
        generative ones: conditioning, scoring) decides by what ``raw`` holds."""
        return cls.target_kind

    def loss_name(self, config: ExperimentConfig) -> str | None:
        return config.train.loss or self.default_loss

    def tensors(self, x: np.ndarray, y: np.ndarray | None, device: torch.device) -> TensorSplit:
        """A split as tensors on the device: inputs ``x`` and, when the paradigm has targets,
        ``y`` encoded as :meth:`targets_tensor` says."""
        import torch

        from gradwise.training.engine import TensorSplit

        tensors = {"x": torch.as_tensor(x, dtype=torch.float32, device=device)}
        if y is not None and self.target_kind is not None:
            tensors["y"] = self.targets_tensor(y, device)
        return TensorSplit(tensors)

    def targets_tensor(self, y: np.ndarray, device: torch.device) -> torch.Tensor:
        import torch

        return torch.as_tensor(y, dtype=torch.float32, device=device)

    def training_arrays(self, config: ExperimentConfig, splits: Any) -> tuple[Any, Any]:
        """The training split's inputs and targets as the paradigm trains on them."""
        return splits.x_train, splits.y_train

    def training_data(
        self, config: ExperimentConfig, splits: Any, device: torch.device
    ) -> TrainingData:
        """The splits on the device (the training split from :meth:`training_arrays`; an
        empty validation or test split is None)."""

        if getattr(splits, "profile", {}).get("streamed"):
            from gradwise.training.streamed import stream_training_data

            return stream_training_data(self, splits, device)

        def split(x: np.ndarray, y: np.ndarray | None) -> TensorSplit | None:
            return self.tensors(x, y, device) if len(x) else None

        return TrainingData(
            self.tensors(*self.training_arrays(config, splits), device),
            split(splits.x_valid, splits.y_valid),
            split(splits.x_test, splits.y_test),
            splits,
        )

    def build_module(
        self, config: ExperimentConfig, feature_shape: tuple[int, ...]
    ) -> torch.nn.Module:
        """The model(s) for inputs of ``feature_shape``, on the CPU (also used to reload a
        checkpoint for prediction)."""
        raise NotImplementedError

    def model_for(self, config: ExperimentConfig, preprocessor: Any) -> torch.nn.Module:
        """:meth:`build_module` for the run's fitted preprocessing (None: no dataset); a table
        with embedded categories passes its layout (:attr:`Preprocessor.table_layout`)."""
        shape = tuple(preprocessor.feature_shape) if preprocessor else ()
        layout = preprocessor.table_layout if preprocessor and self.embeds_categories else None
        if layout is not None:
            return self.build_module(config, shape, layout=layout)
        return self.build_module(config, shape)

    def build(
        self,
        config: ExperimentConfig,
        data: TrainingData,
        device: torch.device,
        augment: torch.Generator,
    ) -> Parts:
        """Model(s) on ``device``, optimizers, schedules and batch transforms; ``augment`` is
        the random stream that augmentations draw from."""
        raise NotImplementedError

    # ---------------------------------------------------------------------------- training
    def train_step(self, trainer: Trainer, batch: Batch) -> dict[str, torch.Tensor]:
        """One training step on ``batch``: its math, with one ``trainer.optimizer_step(name,
        loss)`` per update. Returns detached scalar losses to log (``loss`` required; each is
        averaged over the epoch as ``train_<name>``)."""
        raise NotImplementedError

    def compute_loss(self, trainer: Trainer, outputs: Any, batch: Batch) -> torch.Tensor:
        """The loss of ``outputs`` on ``batch`` (training and validation share it)."""
        raise NotImplementedError

    def forward(self, trainer: Trainer, batch: Batch) -> Any:
        """The model's outputs on ``batch`` (also run to find the first non-finite layer)."""
        return trainer.forward(batch["x"])

    def evaluate(self, trainer: Trainer, split: TensorSplit) -> dict[str, float]:
        """Loss and metrics on a whole split, in eval mode."""
        raise NotImplementedError

    def evaluation_metrics(self) -> list[str]:
        """The keys :meth:`evaluate` returns for this run (``eval_metrics``; a paradigm whose
        metrics depend on the data overrides this)."""
        return list(self.eval_metrics)

    def logged_metrics(self, has_valid: bool) -> list[str]:
        """The metric names each epoch of this run logs: ``train_<name>`` for each loss
        :meth:`train_step` returns and, with a validation split, ``valid_<name>`` for each key
        of :meth:`evaluate`. Monitored names (``train.monitor``, early stopping, ``tune.metric``)
        are checked against them before training starts, so a paradigm declares what it logs
        (a contract test compares them with a real run's logs)."""
        names = [f"train_{name}" for name in self.train_losses]
        if has_valid:
            names += [f"valid_{name}" for name in self.evaluation_metrics()]
        return names

    def prediction_frame(self, outputs: np.ndarray, preprocessor: Any) -> Any | None:
        """``gradwise predict``'s table (a DataFrame) for model ``outputs`` (N, out), when the
        paradigm lays it out itself (several targets: columns per target); None: the default
        ``prediction`` column(s) and ``proba_<class>`` columns."""
        return None

    def progress_metrics(self) -> list[str]:
        """The metrics each finished epoch's progress line shows as ``valid_<name>`` (or as
        ``<name>`` when the run logs it under that name, e.g. ``eval_return``)."""
        return [self.main_metric]

    def epoch_metrics(self, trainer: Trainer) -> dict[str, float]:
        """Metrics measured once per epoch beyond the step losses and the validation split,
        logged under the names given (e.g. an agent's episode returns and evaluations); the
        engine calls this after the epoch's last step. Declare them in :meth:`logged_metrics`."""
        return {}

    def summary_fields(self, trainer: Trainer) -> dict[str, Any]:
        """Entries this paradigm adds to ``summary.json`` when the run ends (any status)."""
        return {}

    def output_classes(self) -> list[Any] | dict[str, list[Any]] | None:
        """The class labels of :meth:`output_probabilities`' columns (several targets: a dict,
        target → labels, of the classification targets); None when the outputs give no class
        probabilities."""
        return None

    def output_probabilities(self, outputs: torch.Tensor) -> np.ndarray | dict[str, np.ndarray]:
        """Class probabilities from model ``outputs`` (N, out), laid out as
        :meth:`output_classes`; only for a paradigm that has classes."""
        raise NotImplementedError

    def after_epoch(self, trainer: Trainer) -> None:
        """Brings the module up to date with the epoch's weights after its last step, before
        its metrics, validation and checkpoints (a GAN's averaged generator recomputes its
        batch-norm statistics)."""

    def after_training(self, trainer: Trainer, data: TrainingData) -> bool:
        """Fit what depends on the final weights, once the best ones are loaded (a VAE's
        sampling mixture); True when the module's state changed, so that the best checkpoint
        is written again."""
        return False

    def test_metrics(self, trainer: Trainer, split: TensorSplit) -> dict[str, Any]:
        """The summary's ``test`` section: :meth:`evaluate` on the test split (a paradigm adds
        what is too costly to measure every epoch, e.g. sample quality)."""
        return self.evaluate(trainer, split)

    def state_dict(self) -> dict[str, Any]:
        """Paradigm state that a resume needs beyond weights and optimizers."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass
