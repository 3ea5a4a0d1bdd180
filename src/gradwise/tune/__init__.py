"""Hyperparameter search with Optuna: ``gradwise.tune(config, ...) -> TuneResult``.

Each trial is a normal gradwise run in its own run directory; studies live in an SQLAlchemy
storage (SQLite by default, PostgreSQL for many machines) that any number of workers share.

The package is itself callable, so that ``gradwise.tune(...)`` is the function even after a
submodule (``gradwise.tune.results``, ...) has been imported and Python has bound the package to
the ``gradwise.tune`` attribute.
"""

from __future__ import annotations

import sys
import types
from typing import Any

__all__ = ["TuneResult", "tune"]


def tune(*args: Any, **kwargs: Any) -> Any:
    from gradwise.tune.search import tune as run_study

    return run_study(*args, **kwargs)


tune.__doc__ = "Search ``tune.space`` of an experiment; see :func:`gradwise.tune.search.tune`."


def __getattr__(name: str) -> Any:
    if name == "TuneResult":
        from gradwise.tune.results import TuneResult

        return TuneResult
    raise AttributeError(f"module 'gradwise.tune' has no attribute {name!r}")


class _CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return tune(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
