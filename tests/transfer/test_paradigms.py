"""Transfer settings reach any paradigm that builds a module: here the test-only toy GAN
(a container of two models, one optimizer each)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import gradwise
from gradwise.config import load_config
from gradwise.errors import ConfigError
from gradwise.experiment import build_experiment, load_data
from tests.tasks import toy_paradigm  # noqa: F401  (registers toy_gan)
from tests.tasks.test_paradigm_contract import toy_config


def test_freezing_part_of_a_gan_keeps_it_and_trains_the_rest(tmp_path: Path):
    config = toy_config(epochs=1)
    config["model"] = {"kind": "mlp", "freeze": ["discriminator.0"]}
    config["diagnose"] = {"enabled": False}
    resolved = load_config(config)
    before = build_experiment(resolved, load_data(resolved)).module.state_dict()  # seeded init
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = gradwise.train(config, out=tmp_path)
    after = load_file(run.path / "checkpoints/last.safetensors")
    assert torch.equal(after["discriminator.0.weight"], before["discriminator.0.weight"])
    assert not torch.equal(after["discriminator.2.weight"], before["discriminator.2.weight"])
    assert not torch.equal(after["generator.0.weight"], before["generator.0.weight"])
    counts = run.summary["transfer"]["parameters"]["first_epoch"]
    assert counts["frozen"] == before["discriminator.0.weight"].numel() + len(
        before["discriminator.0.bias"]
    )


@pytest.mark.parametrize(
    ("model", "optimizer", "message"),
    [
        ({"freeze": ["generator"]}, {}, "freezes every parameter of optimizer 'generator'"),
        ({}, {"lr_decay": 0.5}, "task 'toy_gan' builds its optimizers from plain parameter"),
    ],
)
def test_what_a_paradigm_cannot_do_is_one_line(model: dict, optimizer: dict, message: str):
    config = toy_config(optimizer=optimizer)
    config["model"] = {"kind": "mlp", **model}
    resolved = load_config(config)
    with pytest.raises(ConfigError) as caught:
        build_experiment(resolved, load_data(resolved))
    assert message in str(caught.value) and "\n" not in str(caught.value)
