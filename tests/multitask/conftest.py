"""A small table with two related targets: ``price`` (a value) and ``cut`` (three classes),
both driven by the same inputs, so one shared body can learn both."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest


def two_target_table(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    carat = rng.uniform(0.2, 2.0, size=n)
    depth = rng.normal(size=n)
    colour = rng.choice(["D", "E", "F"], size=n)
    quality = depth + 0.5 * (colour == "D") + rng.normal(scale=0.3, size=n)
    cut = np.select([quality < -0.5, quality < 0.5], ["Fair", "Good"], "Ideal")
    price = 4000 * carat + 500 * quality + rng.normal(scale=100, size=n)
    return pd.DataFrame(
        {"carat": carat, "depth": depth, "colour": colour, "price": price, "cut": cut}
    )


@pytest.fixture(scope="session")
def diamonds_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("multitask") / "gems.csv"
    two_target_table().to_csv(path, index=False)
    return path


def multitask_config(source: Path | str, **train) -> dict:
    """Both targets, a tiny MLP, a few epochs on the CPU."""
    return {
        "name": "gems",
        "seed": 0,
        "data": {"source": str(source), "target": ["price", "cut"]},
        "model": {"kind": "mlp", "hidden": [16]},
        "train": {"epochs": 4, "batch_size": 32, "device": "cpu", **train},
        "diagnose": {"enabled": False},
        "report": {"enabled": False},
    }
