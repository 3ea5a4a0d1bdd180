"""The small-data recipes are valid overrides of the starting configs they are meant for."""

from __future__ import annotations

import pytest
import yaml

from gradwise.augment.presets import SMALL_DATA, as_overrides
from gradwise.config import load_config
from gradwise.config.templates import starting_config
from tests.conftest import run_python


@pytest.mark.parametrize("kind", sorted(SMALL_DATA))
def test_each_recipe_applies_to_its_starting_config(kind: str):
    config = load_config(
        yaml.safe_load(starting_config("mnist1d", kind)), as_overrides(SMALL_DATA[kind])
    )
    assert config.model.kind == kind
    assert config.train.epochs == SMALL_DATA[kind]["train.epochs"]
    assert config.data.augment == SMALL_DATA[kind]["data.augment"]


def test_the_module_prints_set_arguments_for_a_shell():
    printed = run_python("-m", "gradwise.augment.presets", "cnn1d", check=True).stdout.split()
    assert printed[::2] == ["--set"] * len(SMALL_DATA["cnn1d"])
    assert printed[1::2] == as_overrides(SMALL_DATA["cnn1d"])
