"""Running normalization of observations and rewards (as Stable-Baselines3's ``VecNormalize``).

Running moments over batches (Chan et al., 1979), for a batch of ``m`` values with mean ``μ_b``
and variance ``σ²_b`` joining ``n`` values with mean ``μ`` and variance ``σ²``::

    δ   = μ_b − μ
    μ'  = μ + δ·m / (n + m)
    σ'² = (σ²·n + σ²_b·m + δ²·n·m / (n + m)) / (n + m)

Observations become ``clip((o − μ) / √(σ² + ε), ±c)``. Rewards are divided by the standard
deviation of the discounted return ``R_t = γ·R_{t−1} + r_t`` (reset at episode ends), not
centred, so their sign — what the agent optimizes — is kept.

A replay buffer keeps experience for the whole of training, so it stores it raw and
:class:`ReplayScaling` normalizes every draw with the statistics of the moment it is drawn (as
Stable-Baselines3's replay buffer does): transitions stored early, normalized with the first
thousand steps' statistics, would otherwise mean something else to the network than the same
observations seen now.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

EPSILON = 1e-8


class RunningMeanStd:
    """Mean and variance of everything seen so far, per feature (float64)."""

    def __init__(self, shape: tuple[int, ...] = ()) -> None:
        self.mean = np.zeros(shape)
        self.var = np.ones(shape)
        self.count = 1e-4  # as SB3: the first batch dominates without a division by zero

    def update(self, batch: np.ndarray) -> None:
        batch_mean, batch_var, m = batch.mean(axis=0), batch.var(axis=0), batch.shape[0]
        delta = batch_mean - self.mean
        total = self.count + m
        self.mean = self.mean + delta * m / total
        self.var = (self.var * self.count + batch_var * m + delta**2 * self.count * m / total) / (
            total
        )
        self.count = total

    def state_dict(self) -> dict[str, Any]:
        return {
            "mean": torch.from_numpy(np.array(self.mean)),
            "var": torch.from_numpy(np.array(self.var)),
            "count": float(self.count),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.mean = state["mean"].numpy().copy()
        self.var = state["var"].numpy().copy()
        self.count = state["count"]


@dataclass(frozen=True)
class ReplayScaling:
    """The current normalization as tensor operations on raw replayed experience: observations
    ``clip((o − μ) / σ, ±clip)`` (as they are when ``mean`` is None), rewards — n-step sums
    among them, scaled as a whole and not clipped — times ``reward_scale``."""

    mean: torch.Tensor | None = None
    std: torch.Tensor | None = None
    clip: float = 10.0
    reward_scale: float = 1.0

    def observations(self, obs: torch.Tensor) -> torch.Tensor:
        if self.mean is None or self.std is None:
            return obs
        return ((obs - self.mean) / self.std).clamp(-self.clip, self.clip)


AS_STORED = ReplayScaling()  # no normalization


class ObservationNormalizer:
    """``clip((o − μ) / √(σ² + ε), ±clip)``; statistics update only while training."""

    def __init__(self, size: int, clip: float, enabled: bool) -> None:
        self.enabled = enabled
        self.clip = clip
        self.stats = RunningMeanStd((size,))

    def __call__(self, obs: np.ndarray, update: bool = False) -> np.ndarray:
        if not self.enabled:
            return obs
        if update:
            self.stats.update(obs)
        scaled = (obs - self.stats.mean) / np.sqrt(self.stats.var + EPSILON)
        return np.clip(scaled, -self.clip, self.clip).astype(np.float32)

    def state_dict(self) -> dict[str, Any]:
        return self.stats.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.stats.load_state_dict(state)


class RewardNormalizer:
    """``clip(r / √(Var[R] + ε), ±clip)`` with ``R`` the running discounted return."""

    def __init__(self, num_envs: int, gamma: float, clip: float, enabled: bool) -> None:
        self.enabled = enabled
        self.gamma = gamma
        self.clip = clip
        self.returns = np.zeros(num_envs)
        self.stats = RunningMeanStd()

    def __call__(self, rewards: np.ndarray, dones: np.ndarray) -> np.ndarray:
        if not self.enabled:
            return rewards
        self.returns = self.returns * self.gamma + rewards
        self.stats.update(self.returns)
        self.returns[dones] = 0.0
        return np.clip(rewards * self.scale(), -self.clip, self.clip)

    def scale(self) -> float:
        """1 / √(Var[R] + ε), the current factor on rewards (1 when disabled)."""
        return float(1.0 / np.sqrt(self.stats.var + EPSILON)) if self.enabled else 1.0

    def state_dict(self) -> dict[str, Any]:
        return {"stats": self.stats.state_dict(), "returns": torch.from_numpy(self.returns.copy())}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.stats.load_state_dict(state["stats"])
        self.returns = state["returns"].numpy().copy()
