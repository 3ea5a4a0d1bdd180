"""Shared fixtures (a session-wide dataset cache, tiny data files) and helpers (a tiny config,
Python and the CLI in a fresh interpreter)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(autouse=True, scope="session")
def _shared_dataset_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """One dataset cache for the whole session (mnist1d is generated once, not per test)."""
    if "GRADWISE_CACHE_DIR" not in os.environ:
        cache = Path(os.environ.get("PYTEST_CACHE_ROOT", tmp_path_factory.getbasetemp().parent))
        os.environ["GRADWISE_CACHE_DIR"] = str(cache / "gradwise-cache")


@pytest.fixture
def table_csv(tmp_path: Path) -> Path:
    """A small classification table with a categorical column and missing values."""
    rng = np.random.default_rng(0)
    n = 240
    x1 = rng.normal(size=n)
    x2 = rng.normal(size=n)
    color = rng.choice(["red", "green", "blue"], size=n)
    label = np.where(x1 + 0.5 * x2 + (color == "red") > 0.3, "yes", "no")
    frame = pd.DataFrame({"x1": x1, "x2": x2, "color": color, "label": label})
    frame.loc[::17, "x2"] = np.nan
    path = tmp_path / "table.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def regression_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(1)
    n = 300
    x = rng.normal(size=(n, 3))
    y = 3.0 * x[:, 0] - 2.0 * x[:, 1] + 0.5 * x[:, 2] + 10 + rng.normal(scale=0.1, size=n)
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "price": y})
    path = tmp_path / "houses.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """One torch thread for the test: tiny models train fastest so on shared cores (two
    threads spin-wait on each other when the machine is busy)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def merged(config: dict, sections: dict) -> dict:
    """``config`` with ``sections`` laid over it: a mapping updates the section's mapping key
    by key, anything else replaces it."""
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    return config


def tiny_config(source: str, **sections) -> dict:
    """A fast experiment dict: a small MLP for a few epochs on CPU."""
    config = {
        "name": "tiny",
        "seed": 0,
        "data": {"source": source},
        "model": {"kind": "mlp", "hidden": [16]},
        "train": {"epochs": 3, "batch_size": 32, "device": "cpu"},
    }
    return merged(config, sections)


def run_python(*args: str, **options: Any) -> subprocess.CompletedProcess:
    """``python ARGS`` in a fresh interpreter (this one), output captured as text; ``options``
    go to :func:`subprocess.run` (``cwd``, ``check``, ...)."""
    options = {"capture_output": True, "text": True, "timeout": 600, **options}
    return subprocess.run([sys.executable, *args], **options)


def run_torch_free(code: str) -> subprocess.CompletedProcess:
    """Python ``code`` in a fresh interpreter, which then fails with "torch imported" if the
    code imported torch."""
    check = "\nimport sys\nassert 'torch' not in sys.modules, 'torch imported'\n"
    return run_python("-c", code + check)


def run_cli_torch_free(argv: list[str]) -> subprocess.CompletedProcess:
    """``main(argv)`` of the CLI (an argparse exit included) through :func:`run_torch_free`."""
    call = f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass"
    return run_torch_free(f"from gradwise.cli.main import main\n{call}")


def run_cli(*args: str, **options: Any) -> subprocess.CompletedProcess:
    """``gradwise ARGS`` as a shell runs it."""
    return run_python("-m", "gradwise.cli.main", *args, **options)
