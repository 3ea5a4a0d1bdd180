"""The agents' networks: MLPs from the ``model`` section, orthogonally initialized.

Orthogonal weights with gain √2 in the hidden layers, 0.01 in the policy head (a near-uniform
first policy) and 1 in the value head, zero biases: the initialization of the PPO
implementations studied by Engstrom et al. (2020) and Huang et al. (2022, "The 37
implementation details of PPO"), and of Stable-Baselines3.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import torch
from torch import nn

from gradwise.models.layers import ACTIVATIONS


def mlp(sizes: list[int], activation: str, head_gain: float, norm: str = "none") -> nn.Sequential:
    """``sizes[0] → … → sizes[-1]``, the activation (after a LayerNorm with ``norm: layer``)
    between layers, orthogonal weights."""
    layers: list[nn.Module] = []
    for index, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
        linear = nn.Linear(fan_in, fan_out)
        last = index == len(sizes) - 2
        nn.init.orthogonal_(linear.weight, head_gain if last else math.sqrt(2))
        nn.init.zeros_(linear.bias)
        layers.append(linear)
        if not last:
            if norm == "layer":
                layers.append(nn.LayerNorm(fan_out))
            layers.append(ACTIVATIONS.get(activation)())
    return nn.Sequential(*layers)


class ActorCritic(nn.Module):
    """Policy logits and state values, from two networks (or one shared body)."""

    def __init__(self, obs_size: int, n_actions: int, model: Any, shared: bool = False) -> None:
        super().__init__()
        hidden = list(model.hidden)
        self.shared = shared
        if shared and hidden:
            self.body = mlp([obs_size, *hidden], model.activation, math.sqrt(2), model.norm)
            if model.norm == "layer":
                self.body.append(nn.LayerNorm(hidden[-1]))
            self.body.append(ACTIVATIONS.get(model.activation)())
            self.policy = mlp([hidden[-1], n_actions], model.activation, 0.01)
            self.value = mlp([hidden[-1], 1], model.activation, 1.0)
        else:
            self.body = nn.Identity()
            self.policy = mlp([obs_size, *hidden, n_actions], model.activation, 0.01, model.norm)
            self.value = mlp([obs_size, *hidden, 1], model.activation, 1.0, model.norm)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, D) observations → (B, A) logits and (B,) values."""
        features = self.body(obs)
        return self.policy(features), self.value(features).squeeze(-1)

    def values(self, obs: torch.Tensor) -> torch.Tensor:
        return self.value(self.body(obs)).squeeze(-1)

    def act(self, obs: torch.Tensor) -> torch.Tensor:
        """The most probable action per observation (deterministic policy)."""
        return self.policy(self.body(obs)).argmax(-1)


class QNetworks(nn.Module):
    """The online Q-network and its target copy (checkpointed together)."""

    def __init__(self, obs_size: int, n_actions: int, model: Any) -> None:
        super().__init__()
        sizes = [obs_size, *model.hidden, n_actions]
        self.online = mlp(sizes, model.activation, 1.0, model.norm)
        self.target = mlp(sizes, model.activation, 1.0, model.norm)
        self.target.load_state_dict(self.online.state_dict())
        self.target.requires_grad_(False)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """(B, D) observations → (B, A) action values of the online network."""
        return self.online(obs)

    def act(self, obs: torch.Tensor) -> torch.Tensor:
        return self.online(obs).argmax(-1)
