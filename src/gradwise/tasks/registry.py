"""The paradigm registry: ``task:`` names → paradigm classes (torch-free)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gradwise.registry import Registry

if TYPE_CHECKING:
    from gradwise.tasks.base import Paradigm

TASKS: Registry[type[Paradigm]] = Registry("task", key="task")
DEFAULT_TASK = "classification"  # the schema's default ``task``
