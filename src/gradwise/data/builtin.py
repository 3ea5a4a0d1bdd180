"""Built-in offline datasets: MNIST-1D (generated, cached) and scikit-learn's bundled sets
(cached as plain arrays, so that reading them again does not import scikit-learn).

MNIST-1D is *generated* with ``mnist1d.data.make_dataset`` (never ``get_dataset``, which
downloads). Generation takes seconds, so the arrays are cached in-process and on disk as an
``.npz`` whose name holds a hash of the generation arguments.

Reference: Greydanus & Kobak, "Scaling down deep learning with MNIST-1D", ICML 2024.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from gradwise._io import atomic_write
from gradwise.data.options import BUILTIN_OPTIONS, SKLEARN_OPTIONS, DigitsOptions, parse_options
from gradwise.data.raw import BUILTINS, SOURCE_KINDS, RawData, lookup
from gradwise.errors import DataError
from gradwise.registry import Registry

MNIST1D_ARRAYS = ("x", "y", "x_test", "y_test")


def cache_dir() -> Path:
    """``$GRADWISE_CACHE_DIR``, else ``$XDG_CACHE_HOME/gradwise``, else ``~/.cache/gradwise``."""
    if os.environ.get("GRADWISE_CACHE_DIR"):
        return Path(os.environ["GRADWISE_CACHE_DIR"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "gradwise"
    return Path.home() / ".cache" / "gradwise"


def mnist1d_args(options: Mapping[str, Any]) -> dict[str, Any]:
    """The ``make_dataset`` arguments: the defaults with ``data.options`` applied."""
    return parse_options(BUILTIN_OPTIONS["mnist1d"], options).reader_args()


def mnist1d_cache_path(options: Mapping[str, Any]) -> Path:
    """The cache file of MNIST-1D generated with ``data.options`` by this ``mnist1d`` version.

    Keyed by the options rather than the full argument set, so a cached dataset is found
    without importing ``mnist1d`` (whose import alone takes about a second)."""
    from importlib.metadata import version

    key = json.dumps(
        {"mnist1d": version("mnist1d"), "options": options}, sort_keys=True, default=str
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cache_dir() / f"mnist1d-{digest}.npz"


def _generate_mnist1d(args: dict[str, Any]) -> dict[str, np.ndarray]:
    """Run ``make_dataset``; it reseeds the global RNGs, so their state is put back after."""
    from mnist1d.data import make_dataset
    from mnist1d.utils import ObjectView

    numpy_state, python_state = np.random.get_state(), random.getstate()
    try:
        dataset = make_dataset(ObjectView(dict(args)))
    except (TypeError, ValueError, ZeroDivisionError) as err:
        raise DataError(f"data.options: mnist1d could not be generated with {args}: {err}") from err
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)
    return {
        "x": np.asarray(dataset["x"], dtype=np.float32),
        "y": np.asarray(dataset["y"], dtype=np.int64),
        "x_test": np.asarray(dataset["x_test"], dtype=np.float32),
        "y_test": np.asarray(dataset["y_test"], dtype=np.int64),
    }


@functools.cache
def _mnist1d_arrays(options_json: str) -> dict[str, np.ndarray]:
    options = json.loads(options_json)
    path = mnist1d_cache_path(options)
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as stored:
                return {name: stored[name] for name in MNIST1D_ARRAYS}
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache file is regenerated and replaced
    arrays = _generate_mnist1d(mnist1d_args(options))

    def write(tmp: Path) -> None:
        with tmp.open("wb") as handle:
            np.savez(handle, **arrays)

    with contextlib.suppress(OSError):  # an unwritable cache only costs time
        atomic_write(path, write)
    return arrays


def load_mnist1d(options: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """MNIST-1D arrays (copies): x (n, 40) float32, y (n,) int64 and the fixed test split.

    ``options`` are the ``make_dataset`` arguments given; the others keep their defaults."""
    arrays = _mnist1d_arrays(json.dumps(dict(options), sort_keys=True, default=str))
    return {name: array.copy() for name, array in arrays.items()}


@BUILTINS.register("mnist1d")
def read_mnist1d(name: str, options: Mapping[str, Any], seed: int) -> RawData:
    given = parse_options(BUILTIN_OPTIONS[name], options)
    # the cache is keyed by the options given, not by every argument (see mnist1d_cache_path)
    arrays = load_mnist1d(given.given_args())
    # (n, 40) -> (n, 1, 40): one channel, so 1-D convolutions apply directly
    return RawData(
        source="mnist1d",
        x=arrays["x"][:, None, :],
        y=arrays["y"],
        x_test=arrays["x_test"][:, None, :],
        y_test=arrays["y_test"],
        input_kind="signal",
    )


# ------------------------------------------------------------------------------ scikit-learn
SKLEARN_SETS: Registry[str] = Registry("scikit-learn dataset", key="data.source")
for _name in SKLEARN_OPTIONS:
    SKLEARN_SETS.register(_name)(f"load_{_name}")


@SOURCE_KINDS.register("sklearn")
def read_sklearn(name: str, options: Mapping[str, Any], seed: int) -> RawData:
    """``sklearn:NAME``: a bundled set as a table with a ``target`` column (class names as labels).

    ``sklearn:digits`` with ``data.options.as_image: true`` gives (n, 1, 8, 8) images in [0, 1].
    """
    loader_name = lookup(SKLEARN_SETS, name, "scikit-learn dataset")  # before the slow import
    opts = parse_options(SKLEARN_OPTIONS[name], options)
    table, target_names = _sklearn_table(name, loader_name)
    source = f"sklearn:{name}"
    if isinstance(opts, DigitsOptions) and opts.as_image:
        pixels = table.drop(columns="target").to_numpy(dtype=np.float32)  # (n, 64), row-major
        images = pixels.reshape(-1, 1, 8, 8) / 16.0  # (n, 1, 8, 8)
        return RawData(source=source, x=images, y=table["target"].to_numpy(), input_kind="image")
    if target_names is not None and name != "digits":  # readable labels: 'setosa', not 0
        table["target"] = np.asarray(target_names, dtype=object)[table["target"].to_numpy()]
    return RawData(source=source, table=table, default_target="target")


def sklearn_cache_path(name: str) -> Path:
    """The cache file of ``sklearn:NAME`` for the installed scikit-learn (found without
    importing it: the import alone takes most of a second)."""
    from importlib.metadata import version

    return cache_dir() / f"sklearn-{name}-{version('scikit-learn')}.npz"


def _sklearn_table(name: str, loader_name: str) -> tuple[Any, list[str] | None]:
    """The bundled set's numeric frame (a fresh copy) and its class names, from the cache when
    it has them, else from scikit-learn (then cached)."""
    import pandas as pd

    path = sklearn_cache_path(name)
    # an absent or damaged cache file is (re)written
    with (
        contextlib.suppress(OSError, ValueError, KeyError),
        np.load(path, allow_pickle=False) as stored,
    ):
        columns = [str(c) for c in stored["columns"]]
        table = pd.DataFrame({c: stored[f"column_{i}"] for i, c in enumerate(columns)})
        names = stored["target_names"].tolist() if "target_names" in stored else None
        return table, names
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, loader_name)(as_frame=True)
    names = bunch.get("target_names")
    names = None if names is None else [str(n) for n in names]
    arrays = {f"column_{i}": bunch.frame[c].to_numpy() for i, c in enumerate(bunch.frame.columns)}
    arrays["columns"] = np.asarray([str(c) for c in bunch.frame.columns])
    if names is not None:
        arrays["target_names"] = np.asarray(names)

    def write(tmp: Path) -> None:
        with tmp.open("wb") as handle:
            np.savez(handle, **arrays)

    with contextlib.suppress(OSError):  # an unwritable cache only costs time
        atomic_write(path, write)
    return bunch.frame.copy(), names
