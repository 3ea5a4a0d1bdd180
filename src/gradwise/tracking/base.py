"""The tracker contract and the table of tracking back-ends (``track.<key>`` → back-end).

A back-end's module is imported only when a run's ``track`` section asks for it, so a run that
does not track imports neither TensorBoard nor MLflow.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gradwise.errors import ConfigError
from gradwise.registry import Registry

TRACK_EXTRA = "pip install 'gradwise[track]'"


class Tracker:
    """One destination of a run's tracking. Calls, in order::

        start(first_epoch) → log_params? → log_metrics* → log_report? → finish(status)

    ``first_epoch`` is 1 for a new run, N + 1 when resuming after epoch N; ``status`` is the
    run's (``completed``, ``failed``, ``interrupted``). ``state_dict`` is saved in the run's
    checkpoints so that a resumed run continues the same tracked run.
    """

    def start(self, first_epoch: int) -> None: ...
    def log_params(self, params: dict[str, Any], metric_names: list[str]) -> None: ...
    def log_metrics(self, metrics: dict[str, float], step: int) -> None: ...
    def log_report(self, path: Path) -> None: ...
    def finish(self, status: str) -> None: ...

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


@dataclass(frozen=True)
class Backend:
    """A tracking back-end: the packages it needs and the module whose ``create(track, paths,
    config) -> Tracker`` builds it (imported on first use)."""

    packages: tuple[str, ...]
    module: str

    def missing(self) -> list[str]:
        return [name for name in self.packages if not _installed(name)]

    def create(self, track: Any, paths: Any, config: Any) -> Tracker:
        return importlib.import_module(self.module).create(track, paths, config)


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a broken or spec-less module counts as missing
        return False


# key under `track:` → back-end; a key is in use when its value is neither false nor null
BACKENDS: Registry[Backend] = Registry("tracking back-end", "track")
BACKENDS.register("tensorboard")(Backend(("tensorboard",), "gradwise.tracking.tensorboard"))
BACKENDS.register("mlflow")(Backend(("mlflow",), "gradwise.tracking.mlflow"))


def requested(track: Any) -> list[str]:
    """The back-ends a ``track`` section turns on, in registry order."""
    if track is None:
        return []
    return [name for name in BACKENDS if getattr(track, name, None) not in (None, False)]


def check_backends(track: Any) -> None:
    """ConfigError naming ``track.<key>`` and the missing packages when the ``track`` extra is
    not installed for a back-end the section asks for."""
    for name in requested(track):
        missing = BACKENDS.get(name).missing()
        if missing:
            raise ConfigError(
                f"track.{name}: needs {', '.join(missing)}, which is not installed; "
                f"{TRACK_EXTRA} (or remove track.{name})"
            )
