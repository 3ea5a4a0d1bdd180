"""The layer table, as a contract over every registered model: the rows account for every
parameter exactly once, and the last layer called gives the model's output width."""

from __future__ import annotations

import pytest
import torch

from gradwise.config import load_config
from gradwise.models import MODELS, build_model, count_parameters
from gradwise.report.model_summary import layer_table

SHAPES = {
    "mlp": (2, 10),
    "cnn1d": (3, 24),
    "cnn2d": (3, 16, 16),
    "rnn": (4, 12),
    "transformer": (3, 24),
}
OPTIONS = [
    ("mlp", {"norm": "batch", "dropout": 0.2}),
    ("cnn1d", {"residual": True, "hidden": [8]}),
    ("cnn2d", {"norm": "layer"}),
    ("rnn", {"cell": "lstm", "bidirectional": True, "layers": 2, "norm": "layer"}),
    ("rnn", {"cell": "gru", "pooling": "mean"}),
]


def model_for(kind: str, **options):
    config = load_config({"data": {"source": "x"}, "model": {"kind": kind, **options}}).model
    torch.manual_seed(0)
    return build_model(config, SHAPES[kind], 5)


@pytest.mark.parametrize(("kind", "options"), [(kind, {}) for kind in MODELS.names()] + OPTIONS)
def test_layer_table_accounts_for_every_parameter(kind, options):
    assert kind in SHAPES, f"add an input shape for the new model '{kind}' to this test"
    model = model_for(kind, **options).train()
    rows = layer_table(model, SHAPES[kind])
    assert sum(r.parameters for r in rows) == count_parameters(model)
    assert sum(r.trainable for r in rows) == count_parameters(model, trainable_only=True)
    called = [r for r in rows if r.output_shape is not None]
    assert called[-1].output_shape == (5,)
    assert len({r.name for r in rows}) == len(rows)
    assert "Identity" not in {r.kind for r in rows}
    assert model.training, "the summary leaves the model in the mode it found it"


def test_frozen_parameters_are_not_trainable():
    model = model_for("mlp")
    for parameter in model.head.parameters():
        parameter.requires_grad_(False)
    head = next(r for r in layer_table(model, SHAPES["mlp"]) if r.name == "head")
    assert head.parameters == 5 * 256 + 5 and head.trainable == 0


def test_rnn_rows_show_the_sequence_output_not_the_state():
    rows = layer_table(model_for("rnn", cell="lstm", hidden_size=7), SHAPES["rnn"])
    rnn = next(r for r in rows if r.kind == "LSTM")
    assert rnn.output_shape == (12, 7)  # (length, hidden) per example
