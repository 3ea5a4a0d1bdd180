"""Real tiny runs shared by the report tests (trained once per test process)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import tiny_config


def _train(root: Path, config: dict) -> Path:
    import gradwise

    return gradwise.train(config, out=root).path


@pytest.fixture(scope="session")
def classification_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Iris, 3 classes, 6 epochs, diagnostics sampled every 2 steps."""
    config = tiny_config(
        "sklearn:iris",
        name="iris",
        model={"hidden": [16, 8]},
        train={"epochs": 6, "optimizer": {"lr": 0.01}, "schedule": {"name": "cosine"}},
        diagnose={"every": 2},
    )
    return _train(tmp_path_factory.mktemp("report-classification"), config)


@pytest.fixture(scope="session")
def regression_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Diabetes regression, 5 epochs, report writing turned off (it is written by the test)."""
    config = tiny_config(
        "sklearn:diabetes",
        name="diabetes",
        task="regression",
        train={"epochs": 5, "optimizer": {"lr": 0.01}},
        report={"enabled": False},
    )
    return _train(tmp_path_factory.mktemp("report-regression"), config)
