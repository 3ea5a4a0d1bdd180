"""Named augmentation + regularization recipes, as config overrides (dotted key → value).

``SMALL_DATA[kind]`` is the recipe that ``benchmarks/augmentation.py`` measures on MNIST-1D with
500 training samples. Use it from Python or the command line::

    gradwise.train("exp.yaml", overrides=SMALL_DATA["cnn1d"])
    gradwise train exp.yaml $(python -m gradwise.augment.presets cnn1d)  # --set KEY=VALUE ...
"""

from __future__ import annotations

import json
import sys
from typing import Any

SMALL_DATA: dict[str, dict[str, Any]] = {
    # the cnn1d recipe of `gradwise init mnist1d --model cnn1d` (batch norm, AdamW) plus small
    # circular shifts, light Gaussian noise and mixup, with dropout 0.5 (from 0.1) and weight
    # decay 0.05 (from 0.01), trained 5× longer. Chosen by validation accuracy on seeds the
    # benchmark does not use (100–107).
    "cnn1d": {
        "data.augment": [
            {"shift": {"max": 4, "mode": "circular"}},
            {"gaussian_noise": 0.1},
            {"mixup": 0.2},
        ],
        "model.dropout": 0.5,
        "train.optimizer.weight_decay": 0.05,
        "train.epochs": 100,
    },
    # an MLP has no translation invariance of its own: shifts of any size teach it
    "mlp": {
        "data.augment": [{"shift": {"max": 20, "mode": "circular"}}],
        "model.dropout": 0.2,
        "train.epochs": 100,
    },
}


def as_overrides(recipe: dict[str, Any]) -> list[str]:
    """``{"model.dropout": 0.2}`` → ``["model.dropout=0.2"]`` (values as JSON, which is YAML)."""
    return [f"{key}={json.dumps(value, separators=(',', ':'))}" for key, value in recipe.items()]


if __name__ == "__main__":  # print `--set KEY=VALUE` arguments for a shell
    kind = sys.argv[1] if len(sys.argv) > 1 else "cnn1d"
    print(" ".join(f"--set {override}" for override in as_overrides(SMALL_DATA[kind])))
