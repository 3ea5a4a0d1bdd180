"""The model registry: every model is built by name from its config section.

A builder takes the model config, the per-sample input shape and the output width and returns a
plain ``torch.nn.Module`` mapping ``(B, *input_shape)`` to ``(B, output_dim)``::

    @MODELS.register("mlp")
    def build_mlp(config: MLPConfig, input_shape: tuple[int, ...], output_dim: int) -> nn.Module:
        ...

A model section with ``reads_table_layout`` (:mod:`gradwise.config.models`) has a builder
that also takes ``layout=``, a table's layout (which positions hold numbers, which hold codes of
embedded categories: :mod:`gradwise.models.tabular`); tables reach the others one-hot encoded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from torch import nn

from gradwise.registry import Registry

if TYPE_CHECKING:
    from gradwise.data.tabular import TableLayout

ModelBuilder = Callable[..., nn.Module]
MODELS: Registry[ModelBuilder] = Registry("model", key="model.kind")


def build_model(
    config: Any,
    input_shape: tuple[int, ...],
    output_dim: int,
    layout: TableLayout | None = None,
) -> nn.Module:
    """Build the model named by ``config.kind`` and initialize it as configured; ``layout``:
    a table's layout, for builders that read it."""
    from gradwise.models.layers import init_weights

    builder = MODELS.get(config.kind)
    extra = {"layout": layout} if layout is not None and config.reads_table_layout else {}
    model = builder(config, tuple(input_shape), output_dim, **extra)
    init_weights(model, config.init, config.activation)
    return model


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
