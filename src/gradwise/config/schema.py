"""The typed experiment schema (DESIGN.md §3).

Every section is a strict pydantic model: unknown keys, wrong types and out-of-range values are
errors. Model sections are a union discriminated by ``model.kind`` so that each model family has
its own keys and defaults (``channels`` for CNNs, ``cell`` for RNNs, ...).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from gradwise.config.compare import CompareConfig
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
)
from gradwise.config.sections import Probability, Section
from gradwise.config.tune import TuneConfig
from gradwise.errors import did_you_mean
from gradwise.tasks.registry import DEFAULT_TASK

# The model sections live in .models and the base section in .sections (compare and tune use them
# too); they are importable from here as well.
__all__ = [
    "MODEL_CONFIGS",
    "Activation",
    "CNN1dConfig",
    "CNN2dConfig",
    "CompareConfig",
    "DataConfig",
    "DiagnoseConfig",
    "EarlyStoppingConfig",
    "ExperimentConfig",
    "Init",
    "MLPConfig",
    "ModelBase",
    "ModelConfig",
    "Norm",
    "OptimizerConfig",
    "Probability",
    "RNNConfig",
    "ReportConfig",
    "ScheduleConfig",
    "Section",
    "TrainConfig",
    "TuneConfig",
]


# --------------------------------------------------------------------------------------- data
class DataConfig(Section):
    source: str  # built-in name, sklearn:NAME, rdata:PACKAGE/NAME, synthetic:NAME, or a file path
    target: str | list[str] | None = None  # label column(s) for tables; None for array sources
    features: list[str] | None = None  # columns to use as inputs (default: all but the target)
    valid: Probability = 0.1  # fraction of the whole data held out for validation
    test: Probability = 0.2  # fraction held out for the final test (ignored if the source has one)
    scale: Literal["standard", "minmax", "none"] = "standard"  # fitted on the training split
    # per-batch augmentations of the training split, in order, e.g. [{shift: 4}, {mixup: 0.2}]
    augment: list[dict[str, Any] | str] = Field(default_factory=list)
    # training split only: none | random | undersample | oversample | smote | class_weight
    sampling: str | dict[str, Any] = "none"  # or {name: random, fraction: 0.5}
    # the source's own options (e.g. n_samples), checked against its model in gradwise.data.options
    options: dict[str, Any] = Field(default_factory=dict)

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


class ScheduleConfig(Section):
    name: Literal["constant", "step", "exponential", "cosine", "one_cycle", "plateau"] = "constant"
    warmup_epochs: Annotated[float, Field(ge=0.0)] = 0.0  # linear warm-up from lr/100
    step_epochs: Annotated[int, Field(ge=1)] = 30  # step: decay every N epochs
    gamma: Annotated[float, Field(gt=0.0, le=1.0)] = 0.1  # step: factor; exponential: per epoch
    min_lr_ratio: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0  # cosine/one_cycle floor (x lr)
    pct_start: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.3  # one_cycle: share of rising lr
    patience: Annotated[int, Field(ge=0)] = 5  # plateau: epochs without improvement
    factor: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.1  # plateau: lr multiplier


class EarlyStoppingConfig(Section):
    patience: Annotated[int, Field(ge=1)] = 10
    monitor: str = "valid_loss"  # any logged metric, e.g. valid_accuracy
    mode: Literal["auto", "min", "max"] = "auto"  # auto: max for accuracy-like, min otherwise
    min_delta: Annotated[float, Field(ge=0.0)] = 0.0


class TrainConfig(Section):
    epochs: Annotated[int, Field(ge=1, le=100_000)] = 20
    batch_size: Annotated[int, Field(ge=1)] | Literal["full"] = 128  # full: full-batch GD
    loss: str | None = None  # default by task: cross_entropy or mse
    label_smoothing: Probability = 0.0  # cross_entropy only
    class_weights: Literal["balanced"] | list[Annotated[float, Field(gt=0)]] | None = None
    huber_delta: Annotated[float, Field(gt=0.0)] = 1.0
    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    l1: Annotated[float, Field(ge=0.0)] = 0.0  # L1 penalty on weights (not biases/norms)
    grad_clip: Annotated[float, Field(gt=0.0)] | None = None  # max global gradient norm
    early_stopping: EarlyStoppingConfig | None = None
    ema: Annotated[float, Field(gt=0.0, lt=1.0)] | None = None  # weight moving-average decay
    monitor: str = "valid_loss"  # metric that picks the best checkpoint
    device: Literal["auto", "cpu", "cuda"] = "auto"
    mixed_precision: bool = False  # bf16/fp16 autocast on CUDA; ignored on CPU

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


# ------------------------------------------------------------------------------- experiment
class ExperimentConfig(Section):
    name: str = "experiment"
    seed: Annotated[int, Field(ge=0)] = 0
    task: str = DEFAULT_TASK  # a paradigm from the task registry (gradwise.tasks)
    data: DataConfig
    model: ModelConfig = Field(default_factory=MLPConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    diagnose: DiagnoseConfig = Field(default_factory=DiagnoseConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    compare: CompareConfig | None = None  # gradwise compare: baselines, curves, seeds
    tune: TuneConfig | None = None  # gradwise tune: search space, metric, trials

    @model_validator(mode="before")
    @classmethod
    def _model_kind_defaults_to_mlp(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and isinstance(raw.get("model"), dict):
            raw = {**raw, "model": {"kind": DEFAULT_MODEL_KIND, **raw["model"]}}
        return raw

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
