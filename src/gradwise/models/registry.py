"""The model registry: every model is built by name from its config section.

A builder takes the model config, the per-sample input shape and the output width and returns a
plain ``torch.nn.Module`` mapping ``(B, *input_shape)`` to ``(B, output_dim)``::

    @MODELS.register("mlp")
    def build_mlp(config: MLPConfig, input_shape: tuple[int, ...], output_dim: int) -> nn.Module:
        ...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from gradwise.registry import Registry

ModelBuilder = Callable[[Any, tuple[int, ...], int], nn.Module]
MODELS: Registry[ModelBuilder] = Registry("model", key="model.kind")


def build_model(config: Any, input_shape: tuple[int, ...], output_dim: int) -> nn.Module:
    """Build the model named by ``config.kind`` and initialize it as configured."""
    from gradwise.models.layers import init_weights

    model = MODELS.get(config.kind)(config, tuple(input_shape), output_dim)
    init_weights(model, config.init, config.activation)
    return model


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
