"""The training engine: loop, losses, optimizers, schedules, callbacks, checkpoints."""

from gradwise.training.averaging import WeightAveraging
from gradwise.training.callbacks import Callback, CallbackList, EarlyStopping, MetricsLogger
from gradwise.training.engine import TensorSplit, Trainer
from gradwise.training.losses import LOSSES
from gradwise.training.optimizers import OPTIMIZERS, build_optimizer
from gradwise.training.schedules import SCHEDULES, LRSchedule
from gradwise.training.tasks import TASKS, Task, build_task

__all__ = [
    "LOSSES",
    "OPTIMIZERS",
    "SCHEDULES",
    "TASKS",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "LRSchedule",
    "MetricsLogger",
    "Task",
    "TensorSplit",
    "Trainer",
    "WeightAveraging",
    "build_optimizer",
    "build_task",
]
