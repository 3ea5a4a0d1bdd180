"""The typed experiment schema (DESIGN.md §3).

Every section is a strict pydantic model: unknown keys, wrong types and out-of-range values are
errors. Model sections are a union discriminated by ``model.kind`` so that each model family has
its own keys and defaults (``channels`` for CNNs, ``cell`` for RNNs, ...).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from gradwise.config.compare import CompareConfig
from gradwise.config.errors import NestedProblem, Problem
from gradwise.config.generative import GenerativeConfig
from gradwise.config.models import (
    DEFAULT_MODEL_KIND,
    MODEL_CONFIGS,
    Activation,
    CNN1dConfig,
    CNN2dConfig,
    Init,
    MLPConfig,
    ModelBase,
    ModelConfig,
    Norm,
    RNNConfig,
    TransformerConfig,
)
from gradwise.config.rl import AgentConfig, DQNConfig, EnvConfig, PPOConfig
from gradwise.config.sections import Probability, Section
from gradwise.config.tune import TuneConfig
from gradwise.errors import did_you_mean
from gradwise.tasks.registry import DEFAULT_TASK

# The model sections live in .models and the base section in .sections (compare and tune use them
# too); they are importable from here as well.
__all__ = [
    "MODEL_CONFIGS",
    "Activation",
    "AgentConfig",
    "CNN1dConfig",
    "CNN2dConfig",
    "CompareConfig",
    "DQNConfig",
    "DataConfig",
    "DiagnoseConfig",
    "EarlyStoppingConfig",
    "EnvConfig",
    "ExperimentConfig",
    "GenerativeConfig",
    "Init",
    "MLPConfig",
    "ModelBase",
    "ModelConfig",
    "Norm",
    "OptimizerConfig",
    "PPOConfig",
    "Probability",
    "RNNConfig",
    "ReportConfig",
    "ScheduleConfig",
    "Section",
    "TrackConfig",
    "TrainConfig",
    "TransformerConfig",
    "TuneConfig",
    "UnfreezeConfig",
]


# --------------------------------------------------------------------------------------- data
TargetTask = Literal["classification", "regression"]  # a target column's kind in a mapping


class DataConfig(Section):
    source: str  # built-in name, sklearn:NAME, rdata:PACKAGE/NAME, synthetic:NAME, or a file path
    # label column(s) for tables (None for array sources); several columns, or a mapping
    # column -> classification | regression, make a multi-task run (one head per target)
    target: str | list[str] | dict[str, TargetTask] | None = None
    # columns to use as inputs (default: all but the target, row-index and identifier columns)
    features: list[str] | None = None
    drop: list[str] = Field(default_factory=list)  # columns to leave out
    valid: Probability = 0.1  # fraction of the whole data held out for validation
    test: Probability = 0.2  # fraction held out for the final test (ignored if the source has one)
    # fitted on the training split; robust: (x - median) / (IQR / 1.349)
    scale: Literal["standard", "robust", "minmax", "none"] = "standard"
    # a table's categorical column with more categories is embedded (learned vectors) by models
    # that read the table's layout (mlp) in tasks with targets; the others are one-hot encoded
    one_hot_max: Annotated[int, Field(ge=1)] = 9
    # per-batch augmentations of the training split, in order, e.g. [{shift: 4}, {mixup: 0.2}]
    augment: list[dict[str, Any] | str] = Field(default_factory=list)
    # training split only: none | random | undersample | oversample | smote | class_weight
    sampling: str | dict[str, Any] = "none"  # or {name: random, fraction: 0.5}
    # the source's own options (e.g. n_samples), checked against its model in gradwise.data.options
    options: dict[str, Any] = Field(default_factory=dict)
    # read Parquet / .npy sources from disk in chunks: auto (when they would not fit the memory
    # budget), true or false (gradwise.data.streaming)
    stream: Literal["auto"] | bool = "auto"

    @field_validator("target", mode="before")
    @classmethod
    def _target_kinds_known(cls, target: Any) -> Any:
        if isinstance(target, dict):
            kinds = TargetTask.__args__
            for column, kind in target.items():
                if kind not in kinds:
                    raise NestedProblem(
                        Problem(
                            str(column),
                            f"unknown kind {kind!r}{did_you_mean(str(kind), kinds)}; "
                            f"choose from: {', '.join(kinds)}",
                        )
                    )
        return target

    @field_validator("augment")
    @classmethod
    def _known_augmentations(cls, entries: list[Any]) -> list[Any]:
        from gradwise.augment.options import parse_augment  # torch-free option tables

        parse_augment(entries)  # ConfigError naming data.augment[i].<name>
        return entries

    @field_validator("sampling")
    @classmethod
    def _known_sampling(cls, spec: Any) -> Any:
        from gradwise.augment.options import parse_sampling

        parse_sampling(spec)  # ConfigError naming data.sampling
        return spec

    @field_validator("options")
    @classmethod
    def _options_of_the_source(
        cls, options: dict[str, Any], info: ValidationInfo
    ) -> dict[str, Any]:
        from gradwise.data.options import check_options  # torch-free option models

        if "source" in info.data:  # else the source itself is the error
            check_options(info.data["source"], options)  # names data.options.<key>
        return options

    @model_validator(mode="after")
    def _fractions_leave_training_data(self) -> DataConfig:
        if self.valid + self.test > 0.95 + 1e-9:  # exactly 5% left is allowed
            raise ValueError(
                f"valid + test must leave at least 5% for training, got {self.valid + self.test:g}"
            )
        return self


# -------------------------------------------------------------------------------------- train
class OptimizerConfig(Section):
    name: Literal["sgd", "adam", "adamw", "adagrad", "rmsprop"] = "adam"
    lr: Annotated[float, Field(gt=0.0, le=10.0)] = 1e-3
    weight_decay: Annotated[float, Field(ge=0.0)] = 0.0  # L2 (decoupled for adamw)
    momentum: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.9  # sgd and rmsprop
    nesterov: bool = False  # sgd only
    betas: tuple[Probability, Probability] = (0.9, 0.999)  # adam and adamw
    # adam, adamw, rmsprop, adagrad: the ε in the step's denominator √v + ε; steps shrink where
    # |gradient| ≲ ε instead of keeping size ≈ lr. None: PyTorch's default
    eps: Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    # discriminative learning rates: layer group k from the head down gets lr · lr_decay^k
    # (layer groups: gradwise.transfer.groups); None: one lr for all
    lr_decay: Annotated[float, Field(gt=0.0, le=1.0)] | None = None

    @field_validator("eps")
    @classmethod
    def _eps_belongs_to_an_adaptive_optimizer(
        cls, eps: float | None, info: ValidationInfo
    ) -> float | None:
        if eps is not None and info.data.get("name") == "sgd":
            raise ValueError("sgd has no ε; it is an option of adam, adamw, rmsprop, adagrad")
        return eps


class ScheduleConfig(Section):
    name: Literal["constant", "step", "exponential", "linear", "cosine", "one_cycle", "plateau"] = (
        "constant"
    )
    warmup_epochs: Annotated[float, Field(ge=0.0)] = 0.0  # linear warm-up from lr/100
    step_epochs: Annotated[int, Field(ge=1)] = 30  # step: decay every N epochs
    gamma: Annotated[float, Field(gt=0.0, le=1.0)] = 0.1  # step: factor; exponential: per epoch
    min_lr_ratio: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0  # linear/cosine/one_cycle floor
    pct_start: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.3  # one_cycle: share of rising lr
    patience: Annotated[int, Field(ge=0)] = 5  # plateau: epochs without improvement
    factor: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.1  # plateau: lr multiplier


class EarlyStoppingConfig(Section):
    patience: Annotated[int, Field(ge=1)] = 10
    monitor: str = "valid_loss"  # any logged metric, e.g. valid_accuracy
    mode: Literal["auto", "min", "max"] = "auto"  # auto: max for accuracy-like, min otherwise
    min_delta: Annotated[float, Field(ge=0.0)] = 0.0


class UnfreezeConfig(Section):
    """Gradual unfreezing (ULMFiT): the frozen layer groups (``model.freeze``) are released
    one at a time from the head down, at the start of the epochs given here."""

    every: Annotated[int, Field(ge=1)] | None = None  # one more group every N epochs
    epochs: list[Annotated[int, Field(ge=2)]] | None = None  # or: the epochs that release one

    @model_validator(mode="before")
    @classmethod
    def _shorthands(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return {"every": value}
        return {"epochs": value} if isinstance(value, list) else value

    @model_validator(mode="after")
    def _one_schedule(self) -> UnfreezeConfig:
        if (self.every is None) == (self.epochs is None):
            raise ValueError("give exactly one of every (epochs between releases) or epochs")
        if self.epochs is not None and self.epochs != sorted(set(self.epochs)):
            raise ValueError(f"epochs must increase, got {self.epochs}")
        return self


class TrainConfig(Section):
    epochs: Annotated[int, Field(ge=1, le=100_000)] = 20
    batch_size: Annotated[int, Field(ge=1)] | Literal["full"] = 128  # full: full-batch GD
    loss: str | None = None  # default by task: cross_entropy or mse
    label_smoothing: Probability = 0.0  # cross_entropy only
    class_weights: Literal["balanced"] | list[Annotated[float, Field(gt=0)]] | None = None
    huber_delta: Annotated[float, Field(gt=0.0)] = 1.0
    # several targets: each target's loss weight, or learned (homoscedastic uncertainty)
    loss_weights: Literal["uncertainty"] | dict[str, Annotated[float, Field(ge=0.0)]] | None = None
    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig)
    # named optimizers of multi-network tasks (gan: generator, discriminator), each overriding
    # train.optimizer key by key (two time scales: different learning rates)
    optimizers: dict[str, OptimizerConfig] = Field(default_factory=dict)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    l1: Annotated[float, Field(ge=0.0)] = 0.0  # L1 penalty on weights (not biases/norms)
    grad_clip: Annotated[float, Field(gt=0.0)] | None = None  # max global gradient norm
    early_stopping: EarlyStoppingConfig | None = None
    unfreeze: UnfreezeConfig | None = None  # gradual unfreezing of model.freeze, e.g. {every: 2}
    ema: Annotated[float, Field(gt=0.0, lt=1.0)] | None = None  # weight moving-average decay
    monitor: str = "valid_loss"  # metric that picks the best checkpoint
    device: Literal["auto", "cpu", "cuda"] = "auto"
    mixed_precision: bool = False  # shorthand: bf16 autocast on a CUDA device; ignored on CPU
    # autocast precision of forward passes: 32 (none) | bf16 | fp16 (with loss scaling)
    precision: Literal["32", "bf16", "fp16"] = "32"
    compile: bool = False  # torch.compile the model (falls back to eager with a warning)

    @field_validator("precision", mode="before")
    @classmethod
    def _precision_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @model_validator(mode="before")
    @classmethod
    def _named_optimizers_inherit(cls, raw: Any) -> Any:
        """Each ``optimizers.<name>`` entry is ``optimizer`` with the entry's keys replaced."""
        if not isinstance(raw, dict) or not isinstance(raw.get("optimizers"), dict):
            return raw
        base = raw.get("optimizer") or {}
        if isinstance(base, OptimizerConfig):
            base = base.model_dump()
        if not isinstance(base, dict):
            return raw  # reported by the optimizer field itself
        merged = {
            name: {**base, **entry} if isinstance(entry, dict) else entry
            for name, entry in raw["optimizers"].items()
        }
        return {**raw, "optimizers": merged}

    @field_validator("loss_weights", mode="before")
    @classmethod
    def _weights_are_not_negative(cls, weights: Any) -> Any:
        if isinstance(weights, dict):
            for column, weight in weights.items():
                number = isinstance(weight, (int, float)) and not isinstance(weight, bool)
                if not number or weight < 0:
                    raise NestedProblem(
                        Problem(str(column), f"a loss weight must be a number ≥ 0, got {weight!r}")
                    )
        return weights

    @field_validator("early_stopping", mode="before")
    @classmethod
    def _patience_shorthand(cls, value: Any) -> Any:
        return (
            {"patience": value} if isinstance(value, int) and not isinstance(value, bool) else value
        )


# ------------------------------------------------------------------------ feature sections
class DiagnoseConfig(Section):
    enabled: bool = True  # collect per-layer statistics during training
    every: Annotated[int, Field(ge=1)] = 50  # sample every N optimizer steps


class ReportConfig(Section):
    enabled: bool = True  # write report.html into the run directory after training


class TrackConfig(Section):
    """Experiment tracking (the ``track`` extra); relative paths are made absolute on loading."""

    tensorboard: bool | str = False  # true: <run dir>/tensorboard; a folder: <folder>/<run name>
    mlflow: str | None = None  # tracking URI: file:PATH, sqlite:///PATH.db, http(s)://HOST
    experiment: str | None = None  # MLflow experiment name (default: the config's name)

    @field_validator("tensorboard")
    @classmethod
    def _folder_made_absolute(cls, value: bool | str) -> bool | str:
        from pathlib import Path

        if isinstance(value, str):
            if not value.strip():
                raise ValueError("expected true, false or a folder path")
            return str(Path(value).expanduser().resolve())
        return value

    @field_validator("mlflow")
    @classmethod
    def _store_made_absolute(cls, uri: str | None) -> str | None:
        from gradwise.tracking.uris import absolute_store_uri  # torch-free

        return None if uri is None else absolute_store_uri(uri)


# ------------------------------------------------------------------------------- experiment
class ExperimentConfig(Section):
    name: str = "experiment"
    seed: Annotated[int, Field(ge=0)] = 0
    task: str = DEFAULT_TASK  # a paradigm from the task registry (gradwise.tasks)
    data: DataConfig | None = None  # required by every paradigm that reads a dataset
    env: EnvConfig | None = None  # reinforcement learning: the environment (task: rl)
    agent: AgentConfig | None = None  # reinforcement learning: dqn | ppo (default ppo)
    model: ModelConfig = Field(default_factory=MLPConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    diagnose: DiagnoseConfig = Field(default_factory=DiagnoseConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    track: TrackConfig | None = None  # TensorBoard and/or MLflow: metrics, config, report
    compare: CompareConfig | None = None  # gradwise compare: baselines, curves, seeds
    tune: TuneConfig | None = None  # gradwise tune: search space, metric, trials
    generative: GenerativeConfig | None = None  # task: autoencoder | vae | gan (their defaults)

    @model_validator(mode="before")
    @classmethod
    def _model_kind_defaults_to_mlp(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and isinstance(raw.get("model"), dict):
            raw = {**raw, "model": {"kind": DEFAULT_MODEL_KIND, **raw["model"]}}
        return raw

    @model_validator(mode="before")
    @classmethod
    def _several_targets_mean_multitask(cls, raw: Any) -> Any:
        """Without a ``task``, a ``data.target`` naming several columns (a list of two or more,
        or a mapping column -> kind) is learned by the multi-target paradigm."""
        if not isinstance(raw, dict) or "task" in raw or not isinstance(raw.get("data"), dict):
            return raw
        target = raw["data"].get("target")
        if isinstance(target, dict) or (isinstance(target, list) and len(target) > 1):
            from gradwise.data.kinds import MULTI
            from gradwise.tasks import task_for_targets

            raw = {**raw, "task": task_for_targets(MULTI)}
        return raw

    @model_validator(mode="after")
    def _several_targets_need_their_task(self) -> ExperimentConfig:
        """``train.loss_weights`` and a ``data.target`` mapping belong to a multi-target task."""
        from gradwise.data.kinds import MULTI
        from gradwise.tasks import TASKS

        if self.task not in TASKS or TASKS.get(self.task).target_kind == MULTI:
            return self
        where = f"task '{self.task}' learns one target"
        if self.train.loss_weights is not None:
            raise NestedProblem(
                Problem("train.loss_weights", f"{where}; loss weights need several targets")
            )
        if self.data is not None and isinstance(self.data.target, dict):
            raise NestedProblem(
                Problem(
                    "data.target",
                    f"{where}; a mapping column -> kind is for several targets (leave out "
                    "task, or set the multi-target task)",
                )
            )
        return self

    @model_validator(mode="after")
    def _sections_of_the_paradigm(self) -> ExperimentConfig:
        """``data`` for a paradigm that reads a dataset; the paradigm's own checks (e.g. an
        ``env`` for ``task: rl``, and no ``env``/``agent`` for a task that does not read them)."""
        from gradwise.tasks import TASKS

        if self.task not in TASKS:  # reported by the task field itself
            return self
        paradigm = TASKS.get(self.task)
        if paradigm.needs_data and self.data is None:
            raise NestedProblem(
                Problem("data", f"missing required key (task '{self.task}' learns from a dataset)")
            )
        for key in ("env", "agent", "generative"):
            if getattr(self, key) is not None and key not in paradigm.config_sections:
                article = "an" if key[0] in "aeiou" else "a"
                raise NestedProblem(
                    Problem(
                        key, f"task '{self.task}' does not read {article} {key} section; remove it"
                    )
                )
        for key, value in paradigm.config_defaults(self).items():
            section, _, name = key.partition(".")
            if not name and getattr(self, section) is None:
                setattr(self, section, value)
            elif name and name not in getattr(self, section).model_fields_set:
                setattr(getattr(self, section), name, value)
        problem = paradigm.check_config(self)
        if problem is not None:
            raise NestedProblem(Problem(*problem))
        return self

    @field_validator("task")
    @classmethod
    def _registered_task(cls, value: str) -> str:
        from gradwise.tasks import TASKS

        if value not in TASKS:
            raise ValueError(
                f"unknown task '{value}'{did_you_mean(value, TASKS.names())}; "
                f"choose from: {', '.join(TASKS.names())}"
            )
        return value

    @field_validator("name")
    @classmethod
    def _name_is_a_folder_name(cls, value: str) -> str:
        if not value or any(c in value for c in "/\\\0") or value.startswith("."):
            raise ValueError("must be a plain folder name (no slashes, not starting with '.')")
        return value
