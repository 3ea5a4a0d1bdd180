"""Kinds of learning (``task:``): the paradigm registry and the built-in paradigms.

Everything that depends on what is being learned lives in a paradigm class
(:class:`~gradwise.tasks.base.Paradigm`); the engine, the data layer, the report and the doctor
ask the paradigm instead of branching on the task's name. Importing this package is torch-free.

>>> from gradwise.tasks import TASKS
>>> TASKS.names()
['autoencoder', 'classification', 'gan', 'multitask', 'regression', 'rl', 'vae']
>>> TASKS.get("regression").target_kind
'values'
"""

from __future__ import annotations

from typing import Any

from gradwise.errors import ConfigError
from gradwise.tasks import (  # noqa: F401  (register the built-in paradigms)
    generative,
    multitask,
    rl,
    supervised,
)
from gradwise.tasks.base import InitRequest, Paradigm, Parts, TrainingData
from gradwise.tasks.registry import DEFAULT_TASK, TASKS


def load_data(config: Any) -> Any | None:
    """The experiment's data splits (:class:`gradwise.data.Splits`), read as its paradigm
    needs them (targets of its kind, or none); None for a paradigm without a dataset."""
    paradigm = TASKS.get(config.task)
    if not paradigm.needs_data:
        return None
    from gradwise.data import read_source
    from gradwise.data.load import splits_from_raw
    from gradwise.data.streaming import load_streamed_splits, stream_wanted

    if stream_wanted(config.data):
        if not paradigm.streams:
            raise ConfigError(
                f"data.stream: task {config.task} reads its data in memory; set data.stream: false"
            )
        return load_streamed_splits(
            config.data, paradigm.target_kind, config.seed, one_hot_limit(config, paradigm)
        )
    raw = read_source(config.data, config.seed)
    targets = paradigm.data_targets(config, raw)
    return splits_from_raw(raw, config.data, targets, config.seed, one_hot_limit(config, paradigm))


def one_hot_limit(config: Any, paradigm: Paradigm) -> int | None:
    """``data.one_hot_max`` where the run's model learns category embeddings (a paradigm
    that learns from targets, a model that reads the table's layout); None: one-hot only."""
    if paradigm.embeds_categories and config.model.reads_table_layout:
        return config.data.one_hot_max
    return None


def task_for_targets(target_kind: str | None) -> str:
    """The first registered paradigm that learns from targets of ``target_kind``."""
    found = next((name for name in TASKS if TASKS.get(name).target_kind == target_kind), None)
    if found is None:
        raise ConfigError(f"task: no registered task learns from targets of kind {target_kind!r}")
    return found


__all__ = [
    "DEFAULT_TASK",
    "TASKS",
    "InitRequest",
    "Paradigm",
    "Parts",
    "TrainingData",
    "load_data",
    "task_for_targets",
]
