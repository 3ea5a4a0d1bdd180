"""Tiny data and tiny runs of the generative paradigms (one thread: these machines are shared)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from tests.conftest import merged, tiny_config


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread: None) -> None:
    """One torch thread for every test here (see tests/conftest.py)."""


def digit_arrays(n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images[:n] / 16.0).astype(np.float32)[:, None]  # (n, 1, 8, 8) in [0, 1]
    return x, digits.target[:n].astype(np.int64)


@pytest.fixture(scope="session")
def digits_npz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 labelled 8×8 digit images in [0, 1] as an NPZ (x, y)."""
    x, y = digit_arrays()
    path = tmp_path_factory.mktemp("data") / "digits.npz"
    np.savez(path, x=x, y=y)
    return path


@pytest.fixture(scope="session")
def unlabelled_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 digits as a table of 64 pixel columns in [0, 1], without a label column."""
    import pandas as pd

    x, _ = digit_arrays(200)
    path = tmp_path_factory.mktemp("data") / "unlabelled.csv"
    pd.DataFrame(x.reshape(len(x), -1), columns=[f"p{i}" for i in range(64)]).to_csv(
        path, index=False
    )
    return path


def config(source: Path | str, task: str, **sections: Any) -> dict[str, Any]:
    """A tiny generative experiment: MLP [32], latent 4, 3 epochs, no report."""
    base = tiny_config(
        str(source),
        task=task,
        model={"kind": "mlp", "hidden": [32]},
        generative={"latent": 4},
        report={"enabled": False},
        diagnose={"enabled": False},
    )
    return merged(base, sections)


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory, digits_npz: Path) -> dict[str, Path]:
    """One tiny run of each generative task on the digit images, and a VAE on a table."""
    import gradwise

    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("runs")
    runs = {
        task: gradwise.train(config(digits_npz, task), out=out / task).path
        for task in ("vae", "gan", "autoencoder")
    }
    return runs


@pytest.fixture(scope="session")
def table_vae(tmp_path_factory: pytest.TempPathFactory, unlabelled_csv: Path) -> Path:
    import gradwise

    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("table-runs")
    return gradwise.train(config(unlabelled_csv, "vae"), out=out).path
