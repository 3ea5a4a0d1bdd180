"""Multi-layer perceptron: Flatten → [Linear → Norm → Act → Dropout] × len(hidden) → Linear."""

from __future__ import annotations

import math

from torch import nn

from gradwise.config.schema import MLPConfig
from gradwise.models.layers import activation, norm_layer
from gradwise.models.registry import MODELS


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
    def __init__(self, config: MLPConfig, input_shape: tuple[int, ...], output_dim: int) -> None:
        super().__init__()
        self.flatten = nn.Flatten()
        self.body, width = dense_stack(math.prod(input_shape), config.hidden, config)
        self.head = nn.Linear(width, output_dim)

    def forward(self, x):  # (B, *input_shape) -> (B, output_dim)
        return self.head(self.body(self.flatten(x)))


@MODELS.register("mlp")
def build_mlp(config: MLPConfig, input_shape: tuple[int, ...], output_dim: int) -> nn.Module:
    return MLP(config, input_shape, output_dim)
