"""Resampling the *training* split (``data.sampling``): sub-sampling and class rebalancing.

Methods (``SAMPLERS``), each ``(x, y, options, rng) -> (x, y)`` on numpy arrays:

- ``random``: keep a random ``fraction`` or ``size`` of the rows (stratified for classification).
- ``undersample``: drop random rows of larger classes until each has ≤ ⌈minority / ratio⌉.
- ``oversample``: repeat random rows of smaller classes until each has ≥ ⌈ratio · majority⌉.
- ``smote``: as oversample, with new rows interpolated between a row and one of its k nearest
  same-class neighbours: ``x_new = x_i + u · (x_nn − x_i)``, ``u ~ U(0, 1)`` (Chawla, Bowyer,
  Hall & Kegelmeyer, "SMOTE: Synthetic Minority Over-sampling Technique", JAIR 2002), via
  imbalanced-learn.
- ``class_weight`` and ``none``: no resampling (class weights go into the loss instead).

Validation and test splits are never resampled: they must keep the real class balance that
the model will meet.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gradwise._io import user_stacklevel
from gradwise.augment.options import (
    SAMPLING_OPTIONS,
    Oversample,
    RandomSubsample,
    SamplingOptions,
    Smote,
    Undersample,
    parse_sampling,
)
from gradwise.errors import ConfigError, DataError
from gradwise.registry import Registry

FEW_SAMPLES = 10  # a class with fewer training samples gets a warning
Sampler = Callable[
    [np.ndarray, np.ndarray, Any, np.random.Generator], tuple[np.ndarray, np.ndarray]
]
SAMPLERS: Registry[Sampler] = Registry("sampling", key="data.sampling")


@SAMPLERS.register("none")
@SAMPLERS.register("class_weight")
def keep_all(
    x: np.ndarray, y: np.ndarray, options: SamplingOptions, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    return x, y


@SAMPLERS.register("random")
def random_subsample(
    x: np.ndarray, y: np.ndarray, options: RandomSubsample, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    n = len(y)
    size = options.size if options.size is not None else round(options.fraction * n)
    size = min(max(size, 1), n)
    if options.stratify and y.dtype.kind != "f" and y.ndim == 1:
        classes, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
        quota = proportional_quota(counts, size)
        chosen = [
            rng.choice(np.flatnonzero(codes == c), quota[c], replace=False)
            for c in range(len(classes))
        ]
        index = np.sort(np.concatenate(chosen))
    else:
        index = np.sort(rng.choice(n, size, replace=False))
    return x[index], y[index]


def proportional_quota(counts: np.ndarray, size: int) -> np.ndarray:
    """Per-class sample sizes ∝ counts summing to ``size`` (largest remainders get the +1s)."""
    exact = counts * size / counts.sum()
    quota = np.floor(exact).astype(np.int64)
    remainder_order = np.argsort(-(exact - quota), kind="stable")
    quota[remainder_order[: size - int(quota.sum())]] += 1
    return np.minimum(quota, counts)


@SAMPLERS.register("undersample")
def undersample(
    x: np.ndarray, y: np.ndarray, options: Undersample, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    classes, counts = np.unique(y, return_counts=True)
    cap = math.ceil(counts.min() / options.ratio)
    kept = [
        rng.choice(np.flatnonzero(y == c), min(count, cap), replace=False)
        for c, count in zip(classes, counts, strict=True)
    ]
    index = np.sort(np.concatenate(kept))
    return x[index], y[index]


@SAMPLERS.register("oversample")
def oversample(
    x: np.ndarray, y: np.ndarray, options: Oversample, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    classes, counts = np.unique(y, return_counts=True)
    floor = math.ceil(options.ratio * counts.max())
    extra = [
        rng.choice(np.flatnonzero(y == c), floor - count, replace=True)
        for c, count in zip(classes, counts, strict=True)
        if count < floor
    ]
    index = np.concatenate([np.arange(len(y)), *extra]).astype(np.int64)
    return x[index], y[index]


@SAMPLERS.register("smote")
def smote(
    x: np.ndarray, y: np.ndarray, options: Smote, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    try:
        from imblearn.over_sampling import SMOTE
    except ImportError:
        raise ConfigError(
            "data.sampling: smote needs imbalanced-learn (pip install 'gradwise[imbalance]')"
        ) from None

    classes, counts = np.unique(y, return_counts=True)
    floor = math.ceil(options.ratio * counts.max())
    growing = counts[counts < floor]
    if len(growing) == 0:
        return x, y
    smallest = int(growing.min())
    if smallest < 2:
        raise DataError(
            "data.sampling: smote needs at least 2 training samples in every class it grows, "
            f"found {smallest}; use oversample instead"
        )
    neighbours = options.k_neighbors
    if neighbours >= smallest:
        warnings.warn(
            f"data.sampling: smote k_neighbors={neighbours} lowered to {smallest - 1} (the "
            f"smallest class has {smallest} training samples)",
            stacklevel=user_stacklevel(),
        )
        neighbours = smallest - 1
    method = SMOTE(
        sampling_strategy={
            c: int(max(n, floor)) for c, n in zip(classes.tolist(), counts, strict=True)
        },
        k_neighbors=neighbours,
        random_state=int(rng.integers(2**31 - 1)),
    )
    flat = x.reshape(len(x), -1).astype(np.float64)  # SMOTE works on (n, features)
    x_new, y_new = method.fit_resample(flat, y)
    return x_new.reshape(len(x_new), *x.shape[1:]).astype(x.dtype), y_new.astype(y.dtype)


def resample(
    spec: Any,
    x: np.ndarray,
    y: np.ndarray,
    seed: int,
    class_names: Sequence[Any] | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any] | None]:
    """Apply ``data.sampling`` to the training arrays.

    ``class_names`` are the labels of class-index targets (None: the targets are values, and
    only row counts are balanced). Returns the new ``(x, y)`` and a JSON-able record
    ``{method, before, after}`` (class counts, or row counts for values), or ``None`` when
    nothing was asked for. The counts are also reported with ``warnings.warn`` (the CLI prints
    them as one line each).
    """
    name, options = parse_sampling(spec)
    if name == "none":
        return x, y, None
    classification = class_names is not None
    if SAMPLING_OPTIONS[name].classification_only and not classification:
        raise ConfigError(f"data.sampling: {name} balances classes; it needs a classification task")
    rng = np.random.default_rng([seed, 1])  # its own stream: the split used default_rng(seed)
    before = class_counts(y, class_names) if classification else {"rows": len(y)}
    x_new, y_new = SAMPLERS.get(name)(x, y, options, rng)
    after = class_counts(y_new, class_names) if classification else {"rows": len(y_new)}
    warnings.warn(
        f"data.sampling: {name}: training {'class counts' if classification else 'rows'} "
        f"{describe(before)} → {describe(after)}",
        stacklevel=user_stacklevel(),
    )
    if classification:
        warn_few(before, after)
    return x_new, y_new, {"method": name, "before": before, "after": after}


def class_counts(y: np.ndarray, class_names: Sequence[Any]) -> dict[str, int]:
    counts = np.bincount(y, minlength=len(class_names))
    return {str(name): int(c) for name, c in zip(class_names, counts, strict=True)}


def describe(counts: dict[str, int]) -> str:
    if list(counts) == ["rows"]:
        return str(counts["rows"])
    return ", ".join(f"{name}: {count}" for name, count in counts.items())


def warn_few(before: dict[str, int], after: dict[str, int]) -> None:
    """Warn when a class has < FEW_SAMPLES real training samples (before or after sampling)."""
    for stage, counts in (("", before), (" after sampling", after)):
        name, smallest = min(counts.items(), key=lambda item: item[1])
        if smallest < FEW_SAMPLES:
            warnings.warn(
                f"data.sampling: class '{name}' has only {smallest} training samples{stage} "
                f"(< {FEW_SAMPLES}); resampling cannot add information it does not have",
                stacklevel=user_stacklevel(),
            )
            return
