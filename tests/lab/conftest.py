"""Labs in these tests train tiny models on iris for an epoch or two: one thread each is
fastest, and keeps two test processes from fighting over the cores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

TINY: dict[str, Any] = {
    "name": "tiny",
    "seed": 0,
    "data": {"source": "sklearn:iris", "target": "target", "valid": 0.2, "test": 0.2},
    "model": {"kind": "mlp", "hidden": [8], "dropout": 0.1},
    "train": {"epochs": 2, "batch_size": 32, "optimizer": {"name": "adam", "lr": 0.01}},
}


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread: None) -> None:
    """One torch thread for every test here (see tests/conftest.py)."""


@pytest.fixture
def tiny_yaml(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    return path
