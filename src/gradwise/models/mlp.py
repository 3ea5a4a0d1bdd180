"""Multi-layer perceptron: Flatten → inputs → [Linear → Norm → Act → Dropout] × depth → Linear.

``inputs`` (:class:`gradwise.models.tabular.TabularInputs`) embeds a table's many-valued
categories and, as configured, clips (``model.clip``) and embeds (``model.numeric_embedding``)
its numbers; an array's features all count as numbers. Without any of these there is none.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from torch import nn

from gradwise.config.schema import MLPConfig
from gradwise.models.layers import activation, norm_layer
from gradwise.models.registry import MODELS
from gradwise.models.tabular import TabularInputs

if TYPE_CHECKING:
    from gradwise.data.tabular import TableLayout


def dense_stack(in_features: int, hidden: list[int], config) -> tuple[nn.Sequential, int]:
    """Hidden dense blocks; returns the stack and its output width."""
    layers: list[nn.Module] = []
    width = in_features
    for units in hidden:
        layers += [
            nn.Linear(width, units),
            norm_layer(config.norm, units, 0),
            activation(config.activation),
        ]
        if config.dropout > 0:
            layers.append(nn.Dropout(config.dropout))
        width = units
    return nn.Sequential(*layers), width


class MLP(nn.Module):
    def __init__(
        self,
        config: MLPConfig,
        input_shape: tuple[int, ...],
        output_dim: int,
        layout: TableLayout | None = None,
    ) -> None:
        super().__init__()
        features = math.prod(input_shape)
        layout = layout or {"numeric": list(range(features)), "embedded": []}
        self.flatten = nn.Flatten()
        inputs = TabularInputs(features, layout, config.numeric_embedding, config.clip)
        self.inputs = inputs if inputs.active else None  # None: the rows as they are
        self.body, width = dense_stack(inputs.width, config.hidden, config)
        self.head = nn.Linear(width, output_dim)

    def forward(self, x):  # (B, *input_shape) -> (B, output_dim)
        x = self.flatten(x)
        if self.inputs is not None:
            x = self.inputs(x)
        return self.head(self.body(x))


@MODELS.register("mlp")
def build_mlp(
    config: MLPConfig,
    input_shape: tuple[int, ...],
    output_dim: int,
    layout: TableLayout | None = None,
) -> nn.Module:
    return MLP(config, input_shape, output_dim, layout)
