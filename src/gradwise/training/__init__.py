"""The training engine: loop, losses, optimizers, schedules, callbacks, checkpoints. It knows
nothing of any paradigm (those live in :mod:`gradwise.tasks`)."""

from gradwise.training.averaging import WeightAveraging
from gradwise.training.callbacks import Callback, CallbackList, EarlyStopping, MetricsLogger
from gradwise.training.engine import Batch, TensorSplit, Trainer
from gradwise.training.losses import LOSSES
from gradwise.training.optimizers import OPTIMIZERS, build_optimizer
from gradwise.training.schedules import SCHEDULES, LRSchedule

__all__ = [
    "LOSSES",
    "OPTIMIZERS",
    "SCHEDULES",
    "Batch",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "LRSchedule",
    "MetricsLogger",
    "TensorSplit",
    "Trainer",
    "WeightAveraging",
    "build_optimizer",
]
