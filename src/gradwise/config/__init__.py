"""The experiment schema and how it is loaded (torch-free)."""

from gradwise.config.load import dump_config, load_config, parse_override, validate_config
from gradwise.config.schema import (
    MODEL_CONFIGS,
    DataConfig,
    EarlyStoppingConfig,
    ExperimentConfig,
    OptimizerConfig,
    ScheduleConfig,
    TrainConfig,
)

__all__ = [
    "MODEL_CONFIGS",
    "DataConfig",
    "EarlyStoppingConfig",
    "ExperimentConfig",
    "OptimizerConfig",
    "ScheduleConfig",
    "TrainConfig",
    "dump_config",
    "load_config",
    "parse_override",
    "validate_config",
]
