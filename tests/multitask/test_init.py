"""``gradwise init table.csv --target a --target b`` (or ``--target a,b``): a multi-task start."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gradwise.config import load_config
from gradwise.config.templates import starting_config
from gradwise.errors import ConfigError
from tests.conftest import run_cli_torch_free


def test_several_targets_give_a_multitask_experiment_that_loads(diamonds_csv: Path):
    text = starting_config(str(diamonds_csv), target="price,cut")
    assert "# target 'price': values" in text and "# target 'cut': labels" in text
    raw = yaml.safe_load(text)
    assert raw["task"] == "multitask"
    assert raw["data"]["target"] == ["price", "cut"]
    config = load_config(raw)
    assert config.train.loss is None  # each target's own loss


def test_the_cli_takes_the_flag_repeated_and_names_a_missing_column(diamonds_csv: Path):
    done = run_cli_torch_free(["init", str(diamonds_csv), "--target", "price", "--target", "cut"])
    assert done.returncode == 0, done.stderr
    assert "target: [price, cut]" in done.stdout
    with pytest.raises(ConfigError, match=r"no column 'kut' .*did you mean 'cut'"):
        starting_config(str(diamonds_csv), target="price,kut")
