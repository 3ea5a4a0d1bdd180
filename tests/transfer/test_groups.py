"""Layer groups and discriminative learning rates (gradwise.transfer.groups)."""

from __future__ import annotations

import pytest
import torch

from gradwise.config import load_config
from gradwise.models import build_model
from gradwise.training.optimizers import build_optimizer
from gradwise.transfer.groups import group_lr_factors, layer_groups, optimizer_param_groups


def model_of(kind: str, shape: tuple[int, ...], **options) -> torch.nn.Module:
    config = load_config({"data": {"source": "x"}, "model": {"kind": kind, **options}})
    return build_model(config.model, shape, 3)


def test_a_linear_and_the_batch_norm_after_it_are_one_group():
    model = model_of("mlp", (6,), hidden=[5, 4], norm="batch")
    groups = layer_groups(model)
    assert [g.units for g in groups] == [("body.0", "body.1"), ("body.3", "body.4"), ("head",)]
    assert groups[0].parameters == ("body.0.weight", "body.0.bias", "body.1.weight", "body.1.bias")
    # every parameter in exactly one group
    names = [n for g in groups for n in g.parameters]
    assert sorted(names) == sorted(n for n, _ in model.named_parameters())


def test_transformer_groups_are_its_stages():
    model = model_of("transformer", (16,), layers=2, d_model=8, heads=2, feedforward=16)
    groups = [g.name for g in layer_groups(model)]
    # the final LayerNorm (vectors only) joins the last block
    assert groups == ["tokens", "blocks.0", "blocks.1..norm", "head"]


def test_cnn_groups_follow_the_conv_blocks():
    model = model_of("cnn1d", (16,), channels=[4, 4, 8], hidden=[6])
    assert [g.name for g in layer_groups(model)] == [
        "features.0",
        "features.1",
        "features.3",
        "dense.0..dense.1",  # a Linear and its batch norm
        "head",
    ]


def test_lr_decays_per_group_from_the_head_down():
    assert group_lr_factors([object()] * 3, 0.5) == [0.25, 0.5, 1.0]  # type: ignore[list-item]
    assert group_lr_factors([object()] * 2, None) == [1.0, 1.0]  # type: ignore[list-item]
    model = model_of("mlp", (6,), hidden=[5, 4])
    groups = optimizer_param_groups(model, 0.1, 0.5)
    assert [g["lr"] for g in groups] == pytest.approx([0.1, 0.05, 0.025])  # head first
    assert groups[0]["params"] == [model.head.weight, model.head.bias]


def test_build_optimizer_gives_a_module_its_rates_and_steps_by_them():
    model = model_of("mlp", (6,), hidden=[5])
    config = load_config(
        {
            "data": {"source": "x"},
            "train": {"optimizer": {"name": "sgd", "lr": 0.1, "lr_decay": 0.1, "momentum": 0.0}},
        }
    )
    optimizer = build_optimizer(model, config.train.optimizer, torch.device("cpu"))
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([0.1, 0.01])
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    model(torch.randn(4, 6)).sum().backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    optimizer.step()
    # plain SGD: w ← w − lr_g · ∇w, with the group's own rate (the oracle)
    for name, param in model.named_parameters():
        lr = 0.1 if name.startswith("head") else 0.01
        assert torch.allclose(param, before[name] - lr * grads[name], atol=1e-7), name
    # without lr_decay: one group, as before
    plain = load_config({"data": {"source": "x"}}).train.optimizer
    assert len(build_optimizer(model, plain, torch.device("cpu")).param_groups) == 1
