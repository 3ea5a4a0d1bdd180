"""The paradigm registry: ``task:`` names → paradigm classes (torch-free)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from gradwise.registry import Registry

if TYPE_CHECKING:
    from gradwise.tasks.base import Paradigm


class ParadigmRegistry(Registry["type[Paradigm]"]):
    """A registry that also tells each paradigm class the name it is registered under."""

    def register(self, name: str) -> Callable[[type[Paradigm]], type[Paradigm]]:
        add = super().register(name)

        def named(cls: type[Paradigm]) -> type[Paradigm]:
            cls.name = name
            return add(cls)

        return named


TASKS = ParadigmRegistry("task", key="task")
DEFAULT_TASK = "classification"  # the schema's default ``task``
