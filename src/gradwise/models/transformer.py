"""A Transformer encoder for sequences, 1-D signals and tables (``model.kind: transformer``).

Inputs become a sequence of N tokens of width D, pass through pre-norm encoder blocks
(Vaswani et al., 2017; pre-norm as in Xiong et al., 2020) and are pooled for a linear head::

    x ─ tokens (embedding + [CLS] + position) ─ blocks × layers ─ LayerNorm ─ pool ─ head

Embeddings:

- ``patch`` (signals, sequences): ``(B, L)`` is one channel, ``(B, C, L)`` C channels; the
  length is cut into N = ⌈L / P⌉ patches of P steps (zero-padded at the end) and each patch of
  C·P numbers is projected to D: ``token_n = W · x[:, nP:(n+1)P] + b`` (ViT's patch embedding
  on one axis, Dosovitskiy et al., 2021). ``patch_size: 1`` gives one token per step.
- ``feature`` (tables): each of the F features is its own token, ``token_f = x_f · w_f + b_f``
  with a weight and a bias vector per feature (FT-Transformer's feature tokenizer, Gorishniy
  et al., 2021).

Positions: ``learned`` (a trained (N + cls, D) table), ``sinusoidal``
(``PE[n, 2i] = sin(n / 10000^{2i/D})``, ``PE[n, 2i+1] = cos(n / 10000^{2i/D})``) or ``none``.
Pooling: ``cls`` prepends a learned token and reads its final state; ``mean`` averages the
tokens. Each block is ``x + Attn(LN(x))`` then ``x + MLP(LN(x))`` with dropout
(``torch.nn.TransformerEncoderLayer(norm_first=True)``).

Top-level children in data-flow order (``tokens``, ``blocks``, ``norm``, ``head``) make the
layer groups of transfer learning one block each (:mod:`gradwise.transfer.groups`).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gradwise.config.models import TransformerConfig
from gradwise.models.layers import activation
from gradwise.models.registry import MODELS


def sinusoidal_table(positions: int, width: int) -> torch.Tensor:
    """The (positions, width) sinusoidal position table of Vaswani et al. (2017)."""
    position = torch.arange(positions, dtype=torch.float32)[:, None]  # (N, 1)
    frequency = torch.exp(torch.arange(0, width, 2, dtype=torch.float32) * (-math.log(1e4) / width))
    table = torch.zeros(positions, width)
    table[:, 0::2] = torch.sin(position * frequency)  # (N, ⌈D/2⌉)
    table[:, 1::2] = torch.cos(position * frequency[: width // 2])  # (N, ⌊D/2⌋)
    return table


class PatchEmbedding(nn.Module):
    """(B, L) or (B, C, L) → (B, ⌈L/P⌉, D): non-overlapping patches of P steps, projected."""

    def __init__(self, channels: int, length: int, patch_size: int, width: int) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.padding = -length % patch_size
        self.count = (length + self.padding) // patch_size
        self.project = nn.Linear(channels * patch_size, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:  # (B, L) -> (B, 1, L)
            x = x.unsqueeze(1)
        if self.padding:
            x = nn.functional.pad(x, (0, self.padding))  # (B, C, N·P)
        batch, channels, _ = x.shape
        patches = x.reshape(batch, channels, self.count, self.patch_size)  # (B, C, N, P)
        patches = patches.permute(0, 2, 1, 3).reshape(batch, self.count, -1)  # (B, N, C·P)
        return self.project(patches)  # (B, N, D)


class FeatureEmbedding(nn.Module):
    """(B, F) → (B, F, D): feature f becomes ``x_f · weight[f] + bias[f]``."""

    def __init__(self, features: int, width: int) -> None:
        super().__init__()
        self.count = features
        self.weight = nn.Parameter(torch.randn(features, width) / math.sqrt(width))
        self.bias = nn.Parameter(torch.zeros(features, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)[:, :, None] * self.weight + self.bias  # (B, F, 1)·(F, D) -> (B, F, D)


class Tokens(nn.Module):
    """The embedded inputs, with a [CLS] token in front (``cls`` pooling) and positions added."""

    def __init__(self, config: TransformerConfig, input_shape: tuple[int, ...]) -> None:
        super().__init__()
        width = config.d_model
        if config.embedding == "feature":
            self.embed: nn.Module = FeatureEmbedding(math.prod(input_shape), width)
        else:
            channels = input_shape[0] if len(input_shape) == 2 else 1
            self.embed = PatchEmbedding(channels, input_shape[-1], config.patch_size, width)
        count = self.embed.count + (config.pooling == "cls")
        self.cls = nn.Parameter(torch.zeros(1, 1, width)) if config.pooling == "cls" else None
        self.position: nn.Parameter | None = None
        if config.positional == "learned":
            self.position = nn.Parameter(torch.randn(1, count, width) * 0.02)
        elif config.positional == "sinusoidal":  # fixed: a buffer outside the state dict
            self.register_buffer("table", sinusoidal_table(count, width)[None], persistent=False)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.embed(x)  # (B, N, D)
        if self.cls is not None:
            # shape[0], not len(): a traced size, so an ONNX export keeps the batch dynamic
            tokens = torch.cat([self.cls.expand(tokens.shape[0], -1, -1), tokens], dim=1)
        if self.position is not None:
            tokens = tokens + self.position
        elif hasattr(self, "table"):
            tokens = tokens + self.table
        return self.dropout(tokens)


class TransformerEncoder(nn.Module):
    def __init__(
        self, config: TransformerConfig, input_shape: tuple[int, ...], output_dim: int
    ) -> None:
        super().__init__()
        self.pooling = config.pooling
        self.tokens = Tokens(config, input_shape)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(
                config.d_model,
                config.heads,
                config.feedforward,
                config.dropout,
                activation=activation(config.activation),
                batch_first=True,
                norm_first=True,
            )
            for _ in range(config.layers)
        )
        self.norm = nn.LayerNorm(config.d_model)  # pre-norm blocks leave the last sum unnormed
        self.head = nn.Linear(config.d_model, output_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.tokens(x)  # (B, T, D)
        for block in self.blocks:
            tokens = block(tokens)
        tokens = self.norm(tokens)
        pooled = tokens[:, 0] if self.pooling == "cls" else tokens.mean(dim=1)  # (B, D)
        return self.head(pooled)


@MODELS.register("transformer")
def build_transformer(
    config: TransformerConfig, input_shape: tuple[int, ...], output_dim: int
) -> nn.Module:
    if config.embedding == "patch" and len(input_shape) not in (1, 2):
        from gradwise.errors import DataError

        raise DataError(
            f"model.kind: transformer with patch embedding expects sequences shaped (length,) "
            f"or (channels, length), got {input_shape}; use model.embedding: feature for "
            "other shapes (one token per input value)"
        )
    return TransformerEncoder(config, input_shape, output_dim)
