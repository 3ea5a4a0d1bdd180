"""Running normalization of observations and rewards (as Stable-Baselines3's ``VecNormalize``).

Running moments over batches (Chan et al., 1979), for a batch of ``m`` values with mean ``μ_b``
and variance ``σ²_b`` joining ``n`` values with mean ``μ`` and variance ``σ²``::

    δ   = μ_b − μ
    μ'  = μ + δ·m / (n + m)
    σ'² = (σ²·n + σ²_b·m + δ²·n·m / (n + m)) / (n + m)

Observations become ``clip((o − μ) / √(σ² + ε), ±c)``. Rewards are divided by the standard
deviation of the discounted return ``R_t = γ·R_{t−1} + r_t`` (reset at episode ends), not
centred, so their sign — what the agent optimizes — is kept.
"""

from __future__ import annotations

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
        return np.clip(rewards / np.sqrt(self.stats.var + EPSILON), -self.clip, self.clip)

    def state_dict(self) -> dict[str, Any]:
        return {"stats": self.stats.state_dict(), "returns": torch.from_numpy(self.returns.copy())}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.stats.load_state_dict(state["stats"])
        self.returns = state["returns"].numpy().copy()
