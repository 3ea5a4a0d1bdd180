"""The input layer of a table model: embedded categories, clipped and embedded numbers.

A table reaches the model as one float row per example (:mod:`gradwise.data.tabular`); its
layout (:attr:`gradwise.data.Preprocessor.table_layout`) says which positions hold scaled
numbers and which hold the code of an ``embedded`` categorical column. :class:`TabularInputs`
maps a row ``x`` (B, F) to the vector the network reads, position group by group:

- **embedded category** ``j`` with ``k`` training categories: ``E_j[c + 1]``, a learned row of
  ``E_j`` ∈ R^{(k+1)×d}; code ``c = -1`` (a category unseen in training) selects row 0, the
  "unknown" slot. Width rule (fastai's entity embeddings): ``d = min(32, round(1.6 · k^0.56))``,
  e.g. 12 categories → 6, 100 → 21, 10,000 → 32.
- **numbers** (``clip``): smooth clipping ``x / sqrt(1 + (x / clip)²)`` — the identity near 0,
  bounded by ±clip — so outliers of robust-scaled columns do not dominate (RealMLP's
  ``smooth_clip``, Holzmüller et al. 2024).
- **numbers** (``numeric_embedding: periodic``): each number ``x`` becomes ``[x, W_j ·
  cos(2π (w_j x + b_j)) + c_j]`` ∈ R^4 with ``w_j ∈ R^16 ~ N(0, 0.1²)``, phases ``b_j ~
  U(-π, π)`` and a per-column linear map ``W_j ∈ R^{3×16}`` (RealMLP's PBLD embedding:
  periodic, biased, linear, densenet — the raw number kept beside its features).
- one-hot blocks pass through unchanged.

With none of these to do the layer has no parameters and is the identity.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from gradwise.data.tabular import TableLayout


MAX_EMBEDDING_WIDTH = 32
FREQUENCIES = 16  # periodic features per number
PERIODIC_WIDTH = 4  # the number itself and 3 learned combinations of its periodic features
FREQUENCY_SCALE = 0.1  # σ of the initial frequencies


def embedding_width(categories: int) -> int:
    """fastai's rule: ``min(32, round(1.6 · k^0.56))`` for ``k`` categories."""
    return min(MAX_EMBEDDING_WIDTH, round(1.6 * categories**0.56))


class PeriodicEmbedding(nn.Module):
    """(B, n) numbers → (B, n · 4): per column ``[x, W cos(2π(w x + b)) + c]`` (module doc)."""

    def __init__(self, columns: int) -> None:
        super().__init__()
        self.frequency = nn.Parameter(FREQUENCY_SCALE * torch.randn(columns, FREQUENCIES))
        self.phase = nn.Parameter(math.pi * (2 * torch.rand(columns, FREQUENCIES) - 1))
        bound = 1 / math.sqrt(FREQUENCIES)
        width = PERIODIC_WIDTH - 1
        self.weight = nn.Parameter(bound * (2 * torch.rand(columns, FREQUENCIES, width) - 1))
        self.bias = nn.Parameter(bound * (2 * torch.rand(columns, width) - 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, n) -> (B, n * 4)
        waves = torch.cos(2 * math.pi * (x[:, :, None] * self.frequency + self.phase))  # (B,n,16)
        mixed = torch.einsum("bnf,nfw->bnw", waves, self.weight) + self.bias  # (B, n, 3)
        return torch.cat([x[:, :, None], mixed], dim=2).flatten(1)


class TabularInputs(nn.Module):
    """(B, F) encoded table rows → (B, :attr:`width`) network inputs (module doc)."""

    def __init__(
        self,
        features: int,
        layout: TableLayout,
        numeric_embedding: str = "none",
        clip: float | None = None,
    ) -> None:
        super().__init__()
        embedded = [(int(p), int(k)) for p, k in layout["embedded"]]
        numeric = [int(p) for p in layout["numeric"]]
        taken = {p for p, _ in embedded} | set(numeric)
        self.clip = clip if numeric else None
        self.embed_numbers = numeric_embedding == "periodic" and bool(numeric)
        self.active = bool(embedded) or self.clip is not None or self.embed_numbers
        rest = [p for p in range(features) if p not in taken]
        self.register_buffer("numeric", torch.tensor(numeric, dtype=torch.long), persistent=False)
        self.register_buffer("rest", torch.tensor(rest, dtype=torch.long), persistent=False)
        self.register_buffer(
            "codes", torch.tensor([p for p, _ in embedded], dtype=torch.long), persistent=False
        )
        self.embeddings = (  # None without embedded columns: no empty layer in model tables
            nn.ModuleList(nn.Embedding(k + 1, embedding_width(k)) for _, k in embedded)
            if embedded
            else None
        )
        self.periodic = PeriodicEmbedding(len(numeric)) if self.embed_numbers else None
        numbers = len(numeric) * (PERIODIC_WIDTH if self.embed_numbers else 1)
        widths = [table.embedding_dim for table in self.embeddings or []]
        self.width = numbers + len(rest) + sum(widths)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, F) -> (B, width)
        if not self.active:
            return x
        numbers = x[:, self.numeric]
        if self.clip is not None:
            numbers = numbers / torch.sqrt(1 + (numbers / self.clip) ** 2)
        if self.periodic is not None:
            numbers = self.periodic(numbers)
        parts = [numbers, x[:, self.rest]]
        if self.embeddings is not None:
            codes = x[:, self.codes].round().long() + 1  # (B, E); 0: unknown
            for j, table in enumerate(self.embeddings):  # out of range: the last category
                parts.append(table(codes[:, j].clamp(0, table.num_embeddings - 1)))
        return torch.cat(parts, dim=1)
