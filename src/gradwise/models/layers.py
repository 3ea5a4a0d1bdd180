"""Building blocks shared by the model builders: activations, norms and weight init by name."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from gradwise.registry import Registry

ACTIVATIONS: Registry[Callable[[], nn.Module]] = Registry("activation", key="model.activation")
for _name, _factory in {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "elu": nn.ELU,
    "selu": nn.SELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "softplus": nn.Softplus,
    "identity": nn.Identity,
}.items():
    ACTIVATIONS.register(_name)(_factory)


def activation(name: str) -> nn.Module:
    return ACTIVATIONS.get(name)()


def norm_layer(kind: str, features: int, dims: int) -> nn.Module:
    """A normalization layer for ``features`` channels over ``dims`` spatial dims (0: dense).

    ``layer`` on conv features normalizes over channels and positions (GroupNorm with one group).
    """
    if kind == "none":
        return nn.Identity()
    if kind == "batch":
        return {0: nn.BatchNorm1d, 1: nn.BatchNorm1d, 2: nn.BatchNorm2d}[dims](features)
    if kind == "layer":
        return nn.LayerNorm(features) if dims == 0 else nn.GroupNorm(1, features)
    raise ValueError(f"unknown norm {kind!r}")


# Gain for each activation under Kaiming/Xavier init (torch.nn.init.calculate_gain names).
_GAIN_NAME = {
    "relu": "relu",
    "leaky_relu": "leaky_relu",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "selu": "selu",
}

INITS: Registry[Callable[[torch.Tensor, str], None]] = Registry("init", key="model.init")


@INITS.register("kaiming")
def _kaiming(weight: torch.Tensor, act: str) -> None:
    nonlinearity = "leaky_relu" if act == "leaky_relu" else "relu"
    nn.init.kaiming_normal_(weight, nonlinearity=nonlinearity)


@INITS.register("xavier")
def _xavier(weight: torch.Tensor, act: str) -> None:
    nn.init.xavier_uniform_(weight, gain=nn.init.calculate_gain(_GAIN_NAME.get(act, "linear")))


@INITS.register("orthogonal")
def _orthogonal(weight: torch.Tensor, act: str) -> None:
    nn.init.orthogonal_(weight, gain=nn.init.calculate_gain(_GAIN_NAME.get(act, "linear")))


@INITS.register("normal")
def _normal(weight: torch.Tensor, act: str) -> None:
    nn.init.normal_(weight, std=0.02)


def init_weights(model: nn.Module, scheme: str, act: str) -> None:
    """Re-initialize every Linear/Conv weight with ``scheme`` (biases to zero); ``default`` keeps
    PyTorch's own initialization."""
    if scheme == "default":
        return
    init = INITS.get(scheme)
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d)):
            init(module.weight, act)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
