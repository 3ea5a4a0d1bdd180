"""gradwise: a deep-learning workbench on PyTorch.

The public API is imported lazily so that ``import gradwise`` (and commands that do not train)
stay fast and do not import torch.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "load_config": "gradwise.config",
    "ExperimentConfig": "gradwise.config",
    "train": "gradwise.api",
    "resume": "gradwise.api",
    "Run": "gradwise.api",
    "tune": "gradwise.tuning.search",
    "compare": "gradwise.comparison.runner",
}
# Packages are named after what they hold (``training``, ``tuning``, ``comparison``) and the
# verbs are functions over them: a subpackage named ``train`` or ``tune`` would shadow the
# function of the same name as soon as it was imported.

__all__ = [*_LAZY, "__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'gradwise' has no attribute {name!r}")
