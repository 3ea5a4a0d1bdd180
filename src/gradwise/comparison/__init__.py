"""Is deep learning worth it on this data? Classical baselines against the deep model(s), on
the same splits, over training-set fractions and seeds, with a noise-aware verdict.

``gradwise.compare(config)`` runs it: :func:`gradwise.comparison.runner.compare`.
"""

from __future__ import annotations

from typing import Any

from gradwise.comparison.baselines import BASELINES, Baseline, FitContext, resolve_baselines

__all__ = ["BASELINES", "Baseline", "Comparison", "FitContext", "compare", "resolve_baselines"]


def __getattr__(name: str) -> Any:
    if name in ("compare", "Comparison"):
        from gradwise.comparison import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'gradwise.comparison' has no attribute {name!r}")
