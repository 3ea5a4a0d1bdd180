"""One small registry mechanism for everything built by name.

Models, losses, optimizers, schedules, tasks, data sources, augmentations and baselines are all
registered with a decorator and looked up by name; an unknown name lists the closest ones::

    LOSSES = Registry("loss")

    @LOSSES.register("mse")
    def mse(**options): ...

    LOSSES.get("mes")  # ConfigError: unknown loss 'mes' (did you mean 'mse'?); choose from: ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from gradwise.errors import ConfigError, did_you_mean

T = TypeVar("T")


class Registry(Generic[T]):
    """A name → object table with a did-you-mean error for unknown names."""

    def __init__(self, kind: str, key: str | None = None) -> None:
        self.kind = kind  # what the entries are, for messages ("model", "loss", ...)
        self.key = key  # config key the name comes from, for messages ("model.kind", ...)
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator registering ``obj`` under ``name``; a second registration is a bug."""

        def add(obj: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} '{name}' is already registered")
            self._entries[name] = obj
            return obj

        return add

    def get(self, name: str) -> T:
        if name not in self._entries:
            where = f"{self.key}: " if self.key else ""
            raise ConfigError(
                f"{where}unknown {self.kind} '{name}'{did_you_mean(name, self._entries)}; "
                f"choose from: {', '.join(sorted(self._entries))}"
            )
        return self._entries[name]

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._entries))

    def __len__(self) -> int:
        return len(self._entries)
