"""The experiment schema: defaults, overrides and one clear line per mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradwise.config import dump_config, load_config, parse_override
from gradwise.errors import ConfigError

BASE = {"data": {"source": "mnist1d"}}


def load(**sections):
    return load_config({**BASE, **sections})


def test_defaults_fill_every_key():
    config = load()
    assert config.task == "classification"
    assert config.model.kind == "mlp"
    assert config.train.optimizer.name == "adam"
    assert config.train.schedule.name == "constant"


def test_model_kind_selects_its_own_keys_and_defaults():
    config = load(model={"kind": "cnn1d"})
    assert config.model.channels and config.model.norm == "batch"
    config = load(model={"kind": "rnn", "cell": "gru"})
    assert config.model.cell == "gru"


@pytest.mark.parametrize(
    ("override", "key_path", "value"),
    [
        ("train.optimizer.lr=3e-3", ("train", "optimizer", "lr"), 0.003),
        ("train.batch_size=full", ("train", "batch_size"), "full"),
        ("train.batch_size=1", ("train", "batch_size"), 1),
        ("model.hidden=[64, 32]", ("model", "hidden"), [64, 32]),
        ("train.optimizer.nesterov=true", ("train", "optimizer", "nesterov"), True),
        ("train.grad_clip=null", ("train", "grad_clip"), None),
        ("train.early_stopping=5", ("train", "early_stopping", "patience"), 5),
    ],
)
def test_set_overrides_parse_numbers_bools_lists(override, key_path, value):
    node = load_config(BASE, [override])
    for part in key_path:
        node = getattr(node, part)
    assert node == value


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({**BASE, "trian": {}}, "config: trian: unknown key (did you mean 'train'?)"),
        (
            {**BASE, "train": {"optimizer": {"lr": -0.1}}},
            "train.optimizer.lr: must be greater than 0, got -0.1",
        ),
        ({**BASE, "model": {"dropout": 1.0}}, "model.dropout: must be less than 1, got 1.0"),
        (
            {**BASE, "model": {"kind": "cnn1d", "chanels": [8]}},
            "model.chanels: unknown key (did you mean 'channels'?); valid keys here: activation",
        ),
        (
            {**BASE, "model": {"kind": "transformr"}},
            "model.kind: must be 'mlp', 'cnn1d', 'cnn2d', 'rnn' or 'transformer', got 'transformr'",
        ),
        ({**BASE, "train": {"epochs": "ten"}}, "train.epochs: must be a valid integer"),
        ({**BASE, "train": {"batch_size": 0}}, "train.batch_size: must be greater than or equal"),
        ({**BASE, "train": {"ema": 1.0}}, "train.ema: must be less than 1"),
        ({**BASE, "task": "clasification"}, "(did you mean 'classification'?)"),
        ({**BASE, "train": {"optimizer": {"name": "adamm"}}}, "(did you mean 'adam'?)"),
        (
            {**BASE, "train": {"optimizer": {"name": "sgd", "eps": 1e-3}}},
            "train.optimizer.eps: sgd has no ε; it is an option of adam",
        ),
        ({"data": {"source": "x", "valid": 0.5, "test": 0.5}}, "valid + test must leave"),
        ({}, "config: data: missing required key"),
        ({**BASE, "name": "a/b"}, "name: must be a plain folder name"),
    ],
)
def test_mistakes_name_the_key(raw, expected):
    with pytest.raises(ConfigError) as info:
        load_config(raw)
    message = str(info.value)
    assert expected in message
    assert "\n" not in message


def test_file_errors(tmp_path: Path):
    with pytest.raises(ConfigError, match="no such experiment file"):
        load_config(tmp_path / "missing.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(ConfigError, match="the file is empty"):
        load_config(empty)
    broken = tmp_path / "broken.yaml"
    broken.write_text("data: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML at line"):
        load_config(broken)
    a_list = tmp_path / "list.yaml"
    a_list.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(a_list)


def test_bad_override_syntax():
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        parse_override("train.epochs")


def test_name_defaults_to_file_stem_and_round_trips(tmp_path: Path):
    path = tmp_path / "my-exp.yaml"
    path.write_text("data:\n  source: mnist1d\ntrain:\n  epochs: 7\n")
    config = load_config(path)
    assert config.name == "my-exp"
    again = tmp_path / "again.yaml"
    again.write_text(dump_config(config))
    assert load_config(again) == config
