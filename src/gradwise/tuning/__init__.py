"""Hyperparameter search with Optuna, behind ``gradwise.tune(config, ...) -> TuneResult``.

Each trial is a normal gradwise run in its own run directory; studies live in an SQLAlchemy
storage (SQLite by default, PostgreSQL for many machines) that any number of workers share.
The function lives in :mod:`gradwise.tuning.search`; this package imports nothing eagerly so
that ``import gradwise.tuning.space`` stays torch-free.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TuneResult", "tune"]


def __getattr__(name: str) -> Any:
    if name == "tune":
        from gradwise.tuning.search import tune

        return tune
    if name == "TuneResult":
        from gradwise.tuning.results import TuneResult

        return TuneResult
    raise AttributeError(f"module 'gradwise.tuning' has no attribute {name!r}")
