"""``synthetic:NAME`` generators, seeded by the experiment seed; options come from ``data.options``.

Tabular generators (scikit-learn's ``make_*``) give a table with columns ``x0..`` and
``target``; ``signals`` gives (n, 1, length) waveforms and ``images`` (n, 1, size, size) bars.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from gradwise.data.options import SYNTHETIC_OPTIONS, SourceOptions, parse_options
from gradwise.data.raw import SOURCE_KINDS, RawData, lookup
from gradwise.errors import DataError
from gradwise.registry import Registry

Generator = Callable[[dict[str, Any], int], RawData]
GENERATORS: Registry[tuple[type[SourceOptions], Generator]] = Registry("synthetic dataset")


def generator(make: Generator) -> Generator:
    """Register ``make_NAME(options, seed) -> RawData`` under ``NAME``; its options (and their
    defaults) are ``SYNTHETIC_OPTIONS[NAME]`` in :mod:`.options`."""
    name = make.__name__.removeprefix("make_")
    GENERATORS.register(name)((SYNTHETIC_OPTIONS[name], make))
    return make


@SOURCE_KINDS.register("synthetic")
def read_synthetic(name: str, options: Mapping[str, Any], seed: int) -> RawData:
    model, make = lookup(GENERATORS, name, "synthetic dataset")
    opts = parse_options(model, options).reader_args()
    try:
        return make(opts, seed)
    except (TypeError, ValueError) as err:  # bad option values, reported by the generator
        raise DataError(f"data.options: synthetic:{name} rejected {opts}: {err}") from err


def _table(x: np.ndarray, y: np.ndarray, source: str) -> RawData:
    columns = {f"x{i}": x[:, i] for i in range(x.shape[1])}
    if y.ndim == 2 and y.shape[1] > 1:
        targets = [f"target{j}" for j in range(y.shape[1])]
        columns.update({t: y[:, j] for j, t in enumerate(targets)})
        return RawData(source=source, table=pd.DataFrame(columns), default_target=targets)
    columns["target"] = y.reshape(len(y))
    return RawData(source=source, table=pd.DataFrame(columns), default_target="target")


@generator
def make_classification(opts: dict[str, Any], seed: int) -> RawData:
    from sklearn.datasets import make_classification

    x, y = make_classification(**opts, random_state=seed)
    return _table(x, y, "synthetic:classification")


@generator
def make_regression(opts: dict[str, Any], seed: int) -> RawData:
    from sklearn.datasets import make_regression

    x, y = make_regression(**opts, random_state=seed)
    return _table(x, y, "synthetic:regression")


@generator
def make_moons(opts: dict[str, Any], seed: int) -> RawData:
    from sklearn.datasets import make_moons

    x, y = make_moons(**opts, random_state=seed)
    return _table(x, y, "synthetic:moons")


@generator
def make_blobs(opts: dict[str, Any], seed: int) -> RawData:
    from sklearn.datasets import make_blobs

    x, y = make_blobs(**opts, random_state=seed)
    return _table(x, y, "synthetic:blobs")


def _labels(rng: np.random.Generator, n: int, names: list[str], weights: Any) -> np.ndarray:
    """Class indices for n samples, balanced or drawn with ``weights`` (for imbalance)."""
    if weights is None:
        return rng.permutation(np.arange(n) % len(names))
    p = np.asarray(weights, dtype=float)
    if p.shape != (len(names),) or (p < 0).any() or p.sum() <= 0:
        raise ValueError(f"weights must be {len(names)} non-negative numbers")
    return rng.choice(len(names), size=n, p=p / p.sum())


WAVES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sine": np.sin,
    "square": lambda phase: np.sign(np.sin(phase)),
    "sawtooth": lambda phase: 2.0 * ((phase / (2 * np.pi)) % 1.0) - 1.0,
    "triangle": lambda phase: 2.0 * np.abs(2.0 * ((phase / (2 * np.pi)) % 1.0) - 1.0) - 1.0,
}


@generator
def make_signals(opts: dict[str, Any], seed: int) -> RawData:
    """Waveform classification: sine/square/sawtooth/triangle with random frequency and phase."""
    if not 2 <= opts["n_classes"] <= len(WAVES):
        raise ValueError(f"n_classes must be between 2 and {len(WAVES)}")
    rng = np.random.default_rng(seed)
    n, length = int(opts["n_samples"]), int(opts["length"])
    names = list(WAVES)[: opts["n_classes"]]
    labels = _labels(rng, n, names, opts["weights"])
    cycles = rng.uniform(1.5, 4.0, size=(n, 1))  # periods per window
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1)) + 2 * np.pi * cycles * np.linspace(0, 1, length)
    x = np.empty((n, length))
    for index, wave in enumerate(WAVES.values()):
        rows = labels == index
        x[rows] = wave(phase[rows])
    x = rng.uniform(0.5, 1.5, size=(n, 1)) * x + opts["noise"] * rng.standard_normal((n, length))
    y = np.asarray(names, dtype=object)[labels]
    return RawData(
        source="synthetic:signals", x=x[:, None].astype(np.float32), y=y, input_kind="signal"
    )  # x: (n, 1, length)


BARS = ("horizontal", "vertical", "diagonal", "antidiagonal")


@generator
def make_images(opts: dict[str, Any], seed: int) -> RawData:
    """Oriented-bar images: which way does the bright bar run? Random position and width."""
    if not 2 <= opts["n_classes"] <= len(BARS):
        raise ValueError(f"n_classes must be between 2 and {len(BARS)}")
    rng = np.random.default_rng(seed)
    n, size = int(opts["n_samples"]), int(opts["size"])
    names = list(BARS)[: opts["n_classes"]]
    labels = _labels(rng, n, names, opts["weights"])
    rows, cols = np.mgrid[0:size, 0:size]  # (size, size) each
    offset = rng.integers(-size // 3, size // 3 + 1, size=n)[:, None, None]
    half_width = rng.uniform(0.8, 2.0, size=n)[:, None, None]
    distance = np.stack(
        [  # (4, size, size) coordinate whose constant lines are the bars
            rows - (size - 1) / 2,
            cols - (size - 1) / 2,
            (rows - cols) / np.sqrt(2),
            (rows + cols - (size - 1)) / np.sqrt(2),
        ]
    )[labels]  # (n, size, size)
    x = (np.abs(distance - offset) <= half_width).astype(float)
    x = np.clip(x + opts["noise"] * rng.standard_normal(x.shape), 0.0, 1.0)
    y = np.asarray(names, dtype=object)[labels]
    return RawData(
        source="synthetic:images", x=x[:, None].astype(np.float32), y=y, input_kind="image"
    )  # x: (n, 1, size, size)
