"""Contract tests over every registered model, and their options."""

from __future__ import annotations

import pytest
import torch

from gradwise.config import load_config
from gradwise.models import MODELS, build_model, count_parameters

SHAPES = {
    "mlp": [(12,), (2, 10), (1, 8, 8)],
    "cnn1d": [(40,), (3, 24)],
    "cnn2d": [(8, 8), (3, 16, 16)],
    "rnn": [(20,), (4, 12)],
    "transformer": [(40,), (3, 24), (7,)],
}


def config_for(kind: str, **model):
    return load_config({"data": {"source": "x"}, "model": {"kind": kind, **model}}).model


@pytest.mark.parametrize("kind", MODELS.names())
def test_every_model_maps_batches_to_outputs_and_learns(kind):
    assert kind in SHAPES, f"add input shapes for the new model '{kind}' to this test"
    for shape in SHAPES[kind]:
        torch.manual_seed(0)
        model = build_model(config_for(kind), shape, 3)
        assert isinstance(model, torch.nn.Module)
        x = torch.randn(8, *shape)
        assert model(x).shape == (8, 3)
        # every parameter receives a gradient
        model(x).sum().backward()
        assert all(p.grad is not None for p in model.parameters())
        # one optimizer step lowers the loss on a fixed batch
        y = torch.randint(0, 3, (8,))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
        before = torch.nn.functional.cross_entropy(model(x), y)
        for _ in range(5):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        assert torch.nn.functional.cross_entropy(model(x), y) < before


def test_mlp_layout_matches_config():
    model = build_model(config_for("mlp", hidden=[5, 7], norm="batch", dropout=0.2), (4,), 2)
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(4, 5), (5, 7), (7, 2)]
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in model.modules()) == 2
    assert sum(isinstance(m, torch.nn.Dropout) for m in model.modules()) == 2
    assert count_parameters(model) == sum(p.numel() for p in model.parameters())


def test_cnn_residual_adds_skip_units_and_pools():
    from gradwise.models.cnn import ResidualUnit

    plain = build_model(config_for("cnn1d", channels=[8, 8, 16, 16]), (32,), 2)
    residual = build_model(config_for("cnn1d", channels=[8, 8, 16, 16], residual=True), (32,), 2)
    assert not any(isinstance(m, ResidualUnit) for m in plain.modules())
    assert sum(isinstance(m, ResidualUnit) for m in residual.modules()) == 2
    assert sum(isinstance(m, torch.nn.MaxPool1d) for m in plain.modules()) == 2


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_rnn_cells_and_bidirectional(cell):
    model = build_model(
        config_for("rnn", cell=cell, bidirectional=True, layers=2, hidden_size=6), (10,), 2
    )
    assert type(model.rnn).__name__ == cell.upper()
    assert model.head.in_features == 12


@pytest.mark.parametrize("init", ["kaiming", "xavier", "orthogonal", "normal"])
def test_init_schemes_change_weights_and_zero_biases(init):
    torch.manual_seed(0)
    default = build_model(config_for("mlp", hidden=[32]), (16,), 2)
    torch.manual_seed(0)
    custom = build_model(config_for("mlp", hidden=[32], init=init), (16,), 2)
    assert not torch.equal(default.body[0].weight, custom.body[0].weight)
    assert torch.count_nonzero(custom.body[0].bias) == 0


def test_shape_mismatch_is_a_user_error():
    from gradwise.errors import DataError

    with pytest.raises(DataError, match="cnn2d expects inputs shaped"):
        build_model(config_for("cnn2d"), (40,), 2)
