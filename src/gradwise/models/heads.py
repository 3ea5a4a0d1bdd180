"""Several heads on one shared body: a model's own linear ``head`` replaced by one per target.

Every model of the registry ends in ``self.head = nn.Linear(width, output_dim)`` fed by the
body's features (an MLP's hidden stack, a CNN's pooled channels, an RNN's summary). For
multi-task learning that one layer is swapped for a :class:`MultiHead`: one linear head per
target on the same features, their outputs concatenated, so the model still maps
``(B, *input_shape)`` to one ``(B, Σ_t w_t)`` tensor (the engine, prediction and export see a
plain model). The body's parameter names stay those of the single-task model, so weights
transfer between the two by name.
"""

from __future__ import annotations

import torch
from torch import nn

from gradwise.errors import ConfigError


class MultiHead(nn.Module):
    """One linear head per target on shared features; optionally the learned log-variances
    ``s_t = log σ_t²`` of homoscedastic loss weighting (:mod:`gradwise.tasks.loss_weights`),
    kept here so that they are trained, checkpointed and reloaded with the model."""

    def __init__(
        self, in_features: int, widths: dict[str, int], learn_log_variance: bool = False
    ) -> None:
        super().__init__()
        self.heads = nn.ModuleDict({key: nn.Linear(in_features, w) for key, w in widths.items()})
        self.log_variance = (
            nn.Parameter(torch.zeros(len(widths))) if learn_log_variance else None
        )  # (T,): s_t = 0 starts every weight at its fixed-weight value

    def forward(self, features: torch.Tensor) -> torch.Tensor:  # (B, F) -> (B, Σ_t w_t)
        return torch.cat([head(features) for head in self.heads.values()], dim=-1)


def attach_heads(
    model: nn.Module, widths: dict[str, int], learn_log_variance: bool = False
) -> MultiHead:
    """Replace ``model.head`` (a linear layer) with a :class:`MultiHead` of ``widths`` (target
    key → outputs) and return it; ConfigError for a model without a separable linear head."""
    head = getattr(model, "head", None)
    if not isinstance(head, nn.Linear):
        raise ConfigError(
            f"model.kind: {type(model).__name__} has no separate linear head (model.head), so "
            "it cannot share its body between several targets; use a registered model kind"
        )
    multi = MultiHead(head.in_features, widths, learn_log_variance).to(head.weight.device)
    model.head = multi
    return multi
