"""Is deep learning worth it on this data? Classical baselines against the deep model(s), on
the same splits, over training-set fractions and seeds, with a noise-aware verdict.

``gradwise.compare(config)`` runs it (see :func:`gradwise.compare.runner.compare`). This
package shares its name with that function, so the package itself is callable: whichever of the
two ``gradwise.compare`` names, ``gradwise.compare("exp.yaml")`` runs a comparison.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from gradwise.compare.baselines import BASELINES, Baseline, FitContext, resolve_baselines

__all__ = ["BASELINES", "Baseline", "Comparison", "FitContext", "compare", "resolve_baselines"]


def compare(*args: Any, **kwargs: Any) -> Any:
    """Run a comparison; see :func:`gradwise.compare.runner.compare`."""
    from gradwise.compare.runner import compare as run_comparison

    return run_comparison(*args, **kwargs)


def __getattr__(name: str) -> Any:
    if name == "Comparison":
        from gradwise.compare.runner import Comparison

        return Comparison
    raise AttributeError(f"module 'gradwise.compare' has no attribute {name!r}")


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return compare(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
