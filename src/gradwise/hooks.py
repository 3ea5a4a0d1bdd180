"""Extension points that features plug into, so the API does not name every feature.

- ``RUN_CALLBACKS``: factories ``(config, paths, experiment) -> Callback | None`` whose callbacks
  join every ``gradwise train`` run (e.g. the diagnostics collector).
- ``RUN_FINISHED``: functions ``(run) -> None`` called after a run completes (e.g. writing
  ``report.html``).
- ``RUN_CHECKS``: functions ``(config) -> None`` called before a new run directory is created;
  they raise a GradwiseError for what would stop the run later (e.g. a missing optional extra).

Feature modules register themselves on import; ``load_plugins`` imports the modules listed in
``PLUGIN_MODULES`` once, the first time a run needs them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from gradwise.registry import Registry

RUN_CALLBACKS: Registry[Callable[[Any, Any, Any], Any]] = Registry("run callback")
RUN_FINISHED: Registry[Callable[[Any], None]] = Registry("run-finished hook")
RUN_CHECKS: Registry[Callable[[Any], None]] = Registry("run check")

PLUGIN_MODULES: tuple[str, ...] = (
    "gradwise.diagnose.collector",
    "gradwise.report.plugin",
    "gradwise.tracking",
)
_loaded = False


def load_plugins() -> None:
    global _loaded
    if not _loaded:
        for name in PLUGIN_MODULES:
            importlib.import_module(name)
        _loaded = True


def run_checks(config: Any) -> None:
    """Every ``RUN_CHECKS`` check of ``config`` (before a run directory is created)."""
    load_plugins()
    for name in RUN_CHECKS:
        RUN_CHECKS.get(name)(config)
