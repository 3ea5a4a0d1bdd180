"""Experience storage: PPO's rollout buffer (with GAE) and DQN's replay buffer.

Both are preallocated tensors written one vector step at a time and read in whole minibatches
(one ``index_select`` per tensor), never per sample.
"""

from __future__ import annotations

from typing import Any

import torch


class RolloutBuffer:
    """``T`` steps of ``N`` environments: observations (T, N, D), actions, log-probabilities,
    values, rewards and episode ends (T, N)."""

    def __init__(self, steps: int, num_envs: int, obs_size: int, device: torch.device) -> None:
        self.steps, self.num_envs = steps, num_envs
        self.obs = torch.zeros(steps, num_envs, obs_size, device=device)
        self.actions = torch.zeros(steps, num_envs, dtype=torch.long, device=device)
        self.log_probs = torch.zeros(steps, num_envs, device=device)
        self.values = torch.zeros(steps, num_envs, device=device)
        self.rewards = torch.zeros(steps, num_envs, device=device)
        self.dones = torch.zeros(steps, num_envs, device=device)  # 1: episode ended at t

    def advantages(
        self, last_values: torch.Tensor, gamma: float, lam: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Generalized advantage estimation (Schulman et al., 2016), backwards over t::

            δ_t = r_t + γ·V(s_{t+1})·(1 − d_t) − V(s_t)
            A_t = δ_t + γ·λ·(1 − d_t)·A_{t+1}
            R_t = A_t + V(s_t)            (the value targets)

        with ``d_t`` the episode end after step t (a truncated episode's bootstrap is already
        in its reward) and V(s_T) = ``last_values``. Returns advantages and targets (T, N).
        """
        advantages = torch.zeros_like(self.rewards)
        next_advantage = torch.zeros_like(last_values)
        next_values = last_values
        for t in reversed(range(self.steps)):
            not_done = 1.0 - self.dones[t]
            delta = self.rewards[t] + gamma * next_values * not_done - self.values[t]
            next_advantage = delta + gamma * lam * not_done * next_advantage
            advantages[t] = next_advantage
            next_values = self.values[t]
        return advantages, advantages + self.values


class ReplayBuffer:
    """A ring of the last ``capacity`` transitions ``(s, a, r, s', terminated)``."""

    def __init__(self, capacity: int, obs_size: int, device: torch.device) -> None:
        self.capacity = capacity
        self.device = device
        self.obs = torch.zeros(capacity, obs_size, device=device)
        self.next_obs = torch.zeros(capacity, obs_size, device=device)
        self.actions = torch.zeros(capacity, dtype=torch.long, device=device)
        self.rewards = torch.zeros(capacity, device=device)
        self.terminated = torch.zeros(capacity, device=device)
        self.position = 0  # next slot to write
        self.size = 0

    def add(
        self,
        obs: torch.Tensor,
        actions: torch.Tensor,
        rewards: torch.Tensor,
        next_obs: torch.Tensor,
        terminated: torch.Tensor,
    ) -> None:
        """Store a batch of ``N`` transitions (one vector step), wrapping around the ring."""
        index = (torch.arange(len(obs), device=self.device) + self.position) % self.capacity
        self.obs[index] = obs
        self.actions[index] = actions
        self.rewards[index] = rewards
        self.next_obs[index] = next_obs
        self.terminated[index] = terminated
        self.position = (self.position + len(obs)) % self.capacity
        self.size = min(self.capacity, self.size + len(obs))

    def sample(self, count: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """``count`` transitions drawn uniformly with replacement."""
        index = torch.randint(self.size, (count,), generator=generator, device=self.device)
        return {
            "obs": self.obs[index],
            "actions": self.actions[index],
            "rewards": self.rewards[index],
            "next_obs": self.next_obs[index],
            "terminated": self.terminated[index],
        }

    def state_dict(self) -> dict[str, Any]:
        """The filled part of the ring (a checkpoint holds no empty slots)."""
        filled = slice(0, self.size)
        return {
            "position": self.position,
            "size": self.size,
            **{
                name: getattr(self, name)[filled].cpu()
                for name in ("obs", "next_obs", "actions", "rewards", "terminated")
            },
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.position, self.size = state["position"], state["size"]
        for name in ("obs", "next_obs", "actions", "rewards", "terminated"):
            getattr(self, name)[: self.size] = state[name].to(self.device)
