"""Encoders, decoders, generators and discriminators shaped from the data and ``model.kind``.

- ``mlp`` (any shape): the encoder is ``Flatten → [Linear → Norm → Act] × hidden → Linear``, the
  decoder mirrors it (``hidden`` reversed) and reshapes to the data's shape.
- ``cnn1d`` (signals ``(C, L)``) and ``cnn2d`` (images ``(C, H, W)``): the encoder is a stack of
  ``Conv → Norm → Act`` blocks over ``model.channels``, halving the length (stride 2) after every
  ``pool_every`` blocks while it is at least 4, then a linear head. The decoder is the mirror
  image: a linear layer to the smallest feature map, then per block an upsampling to the size the
  encoder had there (nearest neighbour, exact sizes: a length 40 → 20 → 10 → 5 comes back
  5 → 10 → 20 → 40, odd sizes included) and a convolution; a last convolution gives the data's
  channels (DCGAN-style, with upsampling + convolution instead of transposed convolutions, which
  avoids checkerboard artefacts — Odena et al., 2016, "Deconvolution and Checkerboard Artifacts").

A discriminator is an encoder with one output, every layer spectrally normalized when asked
(Miyato et al., 2018), without normalization layers (batch statistics would let it tell batches
apart rather than samples), with a minibatch standard-deviation feature before its head
(Karras et al., 2018: a collapsed generator's batch has almost no spread, which D then sees),
and, for class conditioning, a projection term ⟨embed(y), h⟩ (Miyato & Koyama, 2018).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from gradwise.errors import DataError
from gradwise.models.layers import activation, norm_layer
from gradwise.registry import Registry

_CONV = {1: nn.Conv1d, 2: nn.Conv2d}
Wrap = Callable[[nn.Module], nn.Module]  # applied to every Linear/Conv (spectral norm or not)
FLOOR_SLOPE = 0.05  # a floored generator's slope below the floor (Generator)


def _plain(layer: nn.Module) -> nn.Module:
    return layer


def _dims_of(kind: str, shape: tuple[int, ...]) -> int:
    """Spatial dimensions a convolutional ``kind`` sees in ``shape`` (one channel added when
    the data has none); a DataError when the shape does not fit the kind."""
    dims = {"cnn1d": 1, "cnn2d": 2}[kind]
    if len(shape) not in (dims, dims + 1):
        expected = "(length,) or (channels, length)" if dims == 1 else "(channels, height, width)"
        raise DataError(
            f"model.kind: {kind} expects inputs shaped {expected}, got {shape}; "
            "choose a model that fits the data (mlp takes any shape)"
        )
    return dims


def _channels_first(shape: tuple[int, ...], dims: int) -> tuple[int, ...]:
    return shape if len(shape) == dims + 1 else (1, *shape)


def conv_plan(config: Any, shape: tuple[int, ...], dims: int) -> list[tuple[int, bool]]:
    """Per conv block: its output channels and whether it halves the spatial size (stride 2)."""
    size = min(shape[-dims:])
    plan, since = [], 0
    for channels in config.channels:
        since += 1
        halve = bool(config.pool_every) and since >= config.pool_every and size >= 4
        if halve:
            size, since = math.ceil(size / 2), 0
        plan.append((channels, halve))
    return plan


# ------------------------------------------------------------------------------- encoders
class MLPEncoder(nn.Module):
    """(B, *shape) -> (B, hidden[-1]) features; ``head`` maps them to the outputs."""

    def __init__(
        self, config: Any, shape: tuple[int, ...], wrap: Wrap, norm: str, dropout: float = 0.0
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = math.prod(shape)
        for units in config.hidden:
            layers += [wrap(nn.Linear(width, units)), norm_layer(norm, units, 0)]
            layers += [activation(config.activation), *_dropout(dropout)]
            width = units
        self.body = nn.Sequential(*layers)
        self.width = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class ConvEncoder(nn.Module):
    """(B, C, *S) -> (B, C_last · prod(S_last)) features."""

    def __init__(
        self,
        config: Any,
        shape: tuple[int, ...],
        dims: int,
        wrap: Wrap,
        norm: str,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.dims = dims
        shape = _channels_first(shape, dims)
        self.raw_dims = len(shape)
        channels_in, sizes = shape[0], list(shape[1:])
        layers: list[nn.Module] = []
        kernel = config.kernel_size
        for channels, halve in conv_plan(config, shape, dims):
            conv = _CONV[dims](channels_in, channels, kernel, stride=2 if halve else 1,
                               padding=kernel // 2)  # fmt: skip
            layers += [wrap(conv), norm_layer(norm, channels, dims)]
            layers += [activation(config.activation), *_dropout(dropout)]
            if halve:
                sizes = [math.floor((s + 2 * (kernel // 2) - kernel) / 2) + 1 for s in sizes]
            channels_in = channels
        self.body = nn.Sequential(*layers, nn.Flatten())
        self.width = channels_in * math.prod(sizes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == self.dims + 1:  # (B, *S) -> (B, 1, *S)
            x = x.unsqueeze(1)
        return self.body(x)


def _dropout(rate: float) -> list[nn.Module]:
    """A dropout layer after an activation, or none."""
    return [nn.Dropout(rate)] if rate else []


def encoder_body(
    config: Any,
    shape: tuple[int, ...],
    wrap: Wrap = _plain,
    norm: str | None = None,
    dropout: float = 0.0,
) -> nn.Module:
    """The feature extractor of ``model.kind`` for inputs of ``shape`` (``.width`` features),
    with dropout at rate ``dropout`` after each hidden activation."""
    norm = config.norm if norm is None else norm
    return ENCODERS.get(config.kind)(config, shape, wrap, norm, dropout)


ENCODERS: Registry[Callable[..., nn.Module]] = Registry("generative model", key="model.kind")
ENCODERS.register("mlp")(MLPEncoder)
ENCODERS.register("cnn1d")(
    lambda config, shape, wrap, norm, dropout: ConvEncoder(
        config, shape, _dims_of("cnn1d", shape), wrap, norm, dropout
    )
)
ENCODERS.register("cnn2d")(
    lambda config, shape, wrap, norm, dropout: ConvEncoder(
        config, shape, _dims_of("cnn2d", shape), wrap, norm, dropout
    )
)


class Encoder(nn.Module):
    """x (B, *shape) -> (B, outputs): features, then a linear head."""

    def __init__(self, config: Any, shape: tuple[int, ...], outputs: int) -> None:
        super().__init__()
        self.features = encoder_body(config, shape)
        self.head = nn.Linear(self.features.width, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


# ------------------------------------------------------------------------------- decoders
class MLPDecoder(nn.Module):
    """z (B, inputs) -> (B, *shape)."""

    def __init__(self, config: Any, inputs: int, shape: tuple[int, ...]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = inputs
        for units in reversed(config.hidden):
            layers += [nn.Linear(width, units), norm_layer(config.norm, units, 0)]
            layers.append(activation(config.activation))
            width = units
        layers.append(nn.Linear(width, math.prod(shape)))
        self.body = nn.Sequential(*layers)
        self.shape = tuple(shape)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(z).view(len(z), *self.shape)  # (B, F) -> (B, *shape)


class ConvDecoder(nn.Module):
    """z (B, inputs) -> (B, *shape): the mirror image of :class:`ConvEncoder`."""

    def __init__(self, config: Any, inputs: int, shape: tuple[int, ...], dims: int) -> None:
        super().__init__()
        self.shape = tuple(shape)
        full = _channels_first(tuple(shape), dims)
        plan = conv_plan(config, full, dims)
        sizes = [list(full[1:])]  # the encoder's spatial size after each block
        for _, halve in plan:
            sizes.append([math.ceil(s / 2) for s in sizes[-1]] if halve else sizes[-1])
        channels = [c for c, _ in plan]
        self.start = (channels[-1], *sizes[-1])
        self.project = nn.Sequential(
            nn.Linear(inputs, math.prod(self.start)), activation(config.activation)
        )
        layers: list[nn.Module] = []
        kernel = config.kernel_size
        for i in reversed(range(len(plan))):
            c_in = channels[i]
            c_out = channels[i - 1] if i > 0 else channels[0]
            if plan[i][1]:  # the encoder halved here: grow back to its size before the block
                layers.append(nn.Upsample(size=tuple(sizes[i]), mode="nearest"))
            conv = _CONV[dims](c_in, c_out, kernel, padding=kernel // 2)
            layers += [conv, norm_layer(config.norm, c_out, dims), activation(config.activation)]
        layers.append(_CONV[dims](channels[0], full[0], kernel, padding=kernel // 2))
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.project(z).view(len(z), *self.start)  # (B, C_last, *S_last)
        return self.body(x).reshape(len(z), *self.shape)  # (B, C, *S) -> (B, *shape)


DECODERS: Registry[Callable[..., nn.Module]] = Registry("generative model", key="model.kind")
DECODERS.register("mlp")(MLPDecoder)
DECODERS.register("cnn1d")(
    lambda config, inputs, shape: ConvDecoder(config, inputs, shape, _dims_of("cnn1d", shape))
)
DECODERS.register("cnn2d")(
    lambda config, inputs, shape: ConvDecoder(config, inputs, shape, _dims_of("cnn2d", shape))
)


def decoder(config: Any, inputs: int, shape: tuple[int, ...]) -> nn.Module:
    """A decoder (or generator) of ``model.kind`` from ``inputs`` numbers to ``shape``."""
    return DECODERS.get(config.kind)(config, inputs, tuple(shape))


# --------------------------------------------------------------------------------- GAN parts
class MinibatchStd(nn.Module):
    """Appends one feature: the mean over features of the standard deviation over the batch
    (Karras et al., 2018). (B, F) -> (B, F + 1); 1e-4 for a constant (or one-sample) batch."""

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        # √(var + ε): the plain std has an infinite gradient where a feature is constant
        spread = (h.var(dim=0, unbiased=False) + 1e-8).sqrt().mean()
        return torch.cat([h, spread.expand(len(h), 1)], dim=1)


class Discriminator(nn.Module):
    """x (B, *shape), optional labels y (B,) -> logits (B,).

    ``dropout`` (after each hidden activation, in training only) keeps a discriminator that
    sees a small training split from memorizing its rows, which would teach the generator the
    split's particulars rather than its distribution."""

    def __init__(
        self,
        config: Any,
        shape: tuple[int, ...],
        spectral: bool,
        minibatch_std: bool,
        n_classes: int = 0,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        wrap: Wrap = _spectral_norm if spectral else _plain
        self.features = encoder_body(config, shape, wrap, norm="none", dropout=dropout)
        self.spread = MinibatchStd() if minibatch_std else nn.Identity()
        width = self.features.width + int(minibatch_std)
        self.head = wrap(nn.Linear(width, 1))
        # projection discriminator: logit += <embed(y), h>
        self.embed = wrap(nn.Embedding(n_classes, width)) if n_classes else None

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.spread(self.features(x))  # (B, F)
        logits = self.head(h).squeeze(1)  # (B,)
        if self.embed is not None and y is not None:
            logits = logits + (self.embed(y) * h).sum(dim=1)
        return logits


class Generator(nn.Module):
    """z (B, latent), optional labels y (B,) -> x (B, *shape); with classes, z is
    concatenated with a learned class embedding.

    With ``floor`` the outputs h are compressed below a floor, feature by feature::

        x = m + (h − m)            where h ≥ m
        x = m + s · (h − m)        where h < m,   s = FLOOR_SLOPE = 0.05

    m the ``floor`` buffer (*shape), which the task sets to the training split's minimum:
    everything the generator puts below the data's smallest value (a blank pixel, a zero count)
    lands within a twentieth of it, close to the point mass the data has there. A hard stop
    (s = 0) measured worse on digits; under it, outputs stuck below get no gradient."""

    def __init__(
        self,
        config: Any,
        latent: int,
        shape: tuple[int, ...],
        n_classes: int = 0,
        floor: bool = False,
    ) -> None:
        super().__init__()
        self.latent = latent
        self.embed = nn.Embedding(n_classes, latent) if n_classes else None
        self.body = decoder(config, latent * (2 if n_classes else 1), shape)
        self.register_buffer("floor", torch.zeros(shape) if floor else None)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.embed is not None:
            assert y is not None, "a conditional generator needs labels"
            z = torch.cat([z, self.embed(y)], dim=1)  # (B, 2·latent)
        x = self.body(z)
        if self.floor is not None:
            x = self.floor + F.leaky_relu(x - self.floor, FLOOR_SLOPE)
        return x
