"""The transfer keys of the experiment file: shorthands, and each bad value as one line."""

from __future__ import annotations

import pytest

from gradwise.config import load_config
from gradwise.errors import ConfigError


def config(model: dict | None = None, **train) -> dict:
    return {
        "data": {"source": "mnist1d"},
        "model": {"kind": "mlp", **(model or {})},
        "train": train,
    }


def test_unfreeze_shorthands():
    assert load_config(config(unfreeze=2)).train.unfreeze.every == 2
    assert load_config(config(unfreeze=[3, 5])).train.unfreeze.epochs == [3, 5]
    assert load_config(config()).train.unfreeze is None
    assert load_config(config()).train.optimizer.lr_decay is None


@pytest.mark.parametrize(
    ("model", "train", "message"),
    [
        ({}, {"unfreeze": {"every": 2, "epochs": [3]}}, "train.unfreeze: give exactly one"),
        ({}, {"unfreeze": [4, 3]}, "train.unfreeze: epochs must increase, got [4, 3]"),
        ({}, {"unfreeze": {"every": 0}}, "train.unfreeze.every"),
        ({}, {"unfreeze": [1]}, "train.unfreeze.epochs.0"),  # epoch 1 trains the head anyway
        ({}, {"optimizer": {"lr_decay": 0}}, "train.optimizer.lr_decay"),
        ({}, {"optimizer": {"lr_decay": 1.5}}, "train.optimizer.lr_decay"),
        ({"freeze": [""]}, {}, "model.freeze.0"),
        ({"freeze": "body"}, {}, "model.freeze"),
    ],
)
def test_a_bad_transfer_value_is_one_line_naming_the_key(model: dict, train: dict, message: str):
    with pytest.raises(ConfigError) as caught:
        load_config(config(model, **train))
    assert message in str(caught.value) and "\n" not in str(caught.value)
