"""One head per target on any registered model's body (a contract over the model registry)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gradwise.errors import ConfigError
from gradwise.models import MODELS, build_model
from gradwise.models.heads import MultiHead, attach_heads
from tests.models.test_models import SHAPES, config_for


@pytest.mark.parametrize("kind", MODELS.names())
def test_every_model_kind_shares_its_body_between_heads(kind: str):
    shape = SHAPES[kind][0]
    model = build_model(config_for(kind), shape, 3)
    body = {n: p.shape for n, p in model.named_parameters() if not n.startswith("head.")}
    head = attach_heads(model, {"price": 1, "cut": 5}, learn_log_variance=True)
    model.eval()
    x = torch.randn(6, *shape)
    outputs = model(x)
    assert outputs.shape == (6, 6)  # (B, 1 + 5): one block per target, in order
    # the blocks are the heads applied to the same body features
    features = {}
    head.register_forward_hook(lambda module, inputs, out: features.update(x=inputs[0]))
    model(x)
    assert torch.allclose(outputs[:, :1], head.heads["price"](features["x"]), atol=1e-6)
    assert torch.allclose(outputs[:, 1:], head.heads["cut"](features["x"]), atol=1e-6)
    # the body keeps the single-target parameter names (weights transfer by name)
    after = {n: p.shape for n, p in model.named_parameters() if not n.startswith("head.")}
    assert after == body
    assert head.log_variance is not None and head.log_variance.shape == (2,)


def test_without_learned_weights_there_is_no_variance_parameter():
    head = MultiHead(4, {"a": 1, "b": 2})
    assert head.log_variance is None
    assert [n for n, _ in head.named_parameters()] == [
        "heads.a.weight",
        "heads.a.bias",
        "heads.b.weight",
        "heads.b.bias",
    ]


def test_a_model_without_a_linear_head_is_refused():
    with pytest.raises(ConfigError, match="Sequential has no separate linear head"):
        attach_heads(nn.Sequential(nn.Linear(3, 2)), {"a": 1, "b": 1})
