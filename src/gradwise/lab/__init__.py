"""The labs: the textbook questions (which optimizer, which batch size, which regularizer)
measured on the user's own experiment, behind ``lab(name, config, ...) -> LabResult``.

Each lab is a class registered in :data:`gradwise.lab.base.LABS` that lists its arms as config
overrides; the arms are trained as ordinary gradwise runs, in parallel worker processes like
``gradwise tune``. The function lives in :mod:`gradwise.lab.runner`; this package imports
nothing eagerly.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["LAB_MODULES", "LabResult", "lab", "load_labs"]

# modules that register labs when imported
LAB_MODULES = ("gradwise.lab.optimizers", "gradwise.lab.batch", "gradwise.lab.regularization")


def load_labs() -> None:
    """Import every module of :data:`LAB_MODULES` (registering its lab)."""
    for module in LAB_MODULES:
        importlib.import_module(module)


def __getattr__(name: str) -> Any:
    if name in ("lab", "LabResult"):
        from gradwise.lab import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'gradwise.lab' has no attribute {name!r}")
