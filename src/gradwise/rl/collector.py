"""The agent's side of the environments: normalized observations as tensors, steps taken with
tensors of actions, and the count of environment steps and finished episodes.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from gradwise.rl.envs import VectorEnv, make_env, reward_threshold, spaces_of
from gradwise.rl.normalize import (
    EPSILON,
    ObservationNormalizer,
    ReplayScaling,
    RewardNormalizer,
)

RECENT_EPISODES = 100  # episode_return / episode_length: means over this many latest episodes


@dataclass
class Step:
    """One vector step as tensors: the (normalized) rewards (N,), terminated and truncated
    (N,) as floats, the next observations (N, D) — a new episode's first where one ended — and
    the true next observations (N, D) (the finished episode's last); the rewards and true next
    observations also as the environments gave them (the same tensors without normalization)."""

    rewards: torch.Tensor
    terminated: torch.Tensor
    truncated: torch.Tensor
    next_obs: torch.Tensor
    final_obs: torch.Tensor
    raw_rewards: torch.Tensor
    raw_final_obs: torch.Tensor


class Collector:
    """``env.num_envs`` environments of ``env.id`` behind observation and reward normalization."""

    def __init__(self, env_config: Any, gamma: float, seed: int, device: torch.device) -> None:
        self.env_config = env_config
        self.device = device
        self.venv = VectorEnv(lambda: make_env(env_config), env_config.num_envs, seed)
        probe = self.venv.envs[0]
        self.obs_size, self.n_actions = spaces_of(probe, env_config.id)
        self.threshold = reward_threshold(probe, env_config.reward_threshold)
        self.obs_norm = ObservationNormalizer(
            self.obs_size, env_config.clip_obs, env_config.normalize_obs
        )
        self.reward_norm = RewardNormalizer(
            env_config.num_envs, gamma, env_config.clip_reward, env_config.normalize_reward
        )
        self.obs = self.tensor(self.obs_norm(self.venv.obs, update=True))
        self.raw_obs = self.raw(self.venv.obs, self.obs)  # as the environments gave them
        self.env_steps = 0
        self.episodes = 0
        self.recent_returns: deque[float] = deque(maxlen=RECENT_EPISODES)
        self.recent_lengths: deque[int] = deque(maxlen=RECENT_EPISODES)

    @property
    def num_envs(self) -> int:
        return self.venv.num_envs

    def tensor(self, array: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(array, dtype=torch.float32, device=self.device)

    def raw(self, obs: np.ndarray, normalized: torch.Tensor) -> torch.Tensor:
        """Raw observations as a tensor (their ``normalized`` tensor where nothing is
        normalized)."""
        return self.tensor(obs) if self.obs_norm.enabled else normalized

    def step(self, actions: torch.Tensor) -> Step:
        """Step every environment with ``actions`` (N,); ``self.obs`` becomes the next
        observations."""
        next_obs, rewards, terminated, truncated, final_obs = self.venv.step(actions.cpu().numpy())
        self.env_steps += self.num_envs
        dones = terminated | truncated
        for episode_return, length in self.venv.drain_finished():
            self.recent_returns.append(episode_return)
            self.recent_lengths.append(length)
            self.episodes += 1
        scaled = self.tensor(self.reward_norm(rewards, dones))
        self.obs = self.tensor(self.obs_norm(next_obs, update=True))
        self.raw_obs = self.raw(next_obs, self.obs)
        ended = dones.any()
        final = self.tensor(self.obs_norm(final_obs)) if ended else self.obs
        raw_final = self.raw(final_obs, final) if ended else self.raw_obs
        return Step(
            scaled,
            self.tensor(terminated),
            self.tensor(truncated),
            self.obs,
            final,
            self.tensor(rewards) if self.reward_norm.enabled else scaled,
            raw_final,
        )

    def replay_scaling(self) -> ReplayScaling:
        """The normalization of now, for experience a replay buffer stored raw."""
        obs_norm = self.obs_norm
        mean = std = None
        if obs_norm.enabled:
            mean = self.tensor(obs_norm.stats.mean)
            std = self.tensor(np.sqrt(obs_norm.stats.var + EPSILON))
        return ReplayScaling(mean, std, obs_norm.clip, self.reward_norm.scale())

    def normalize(self, obs: np.ndarray) -> torch.Tensor:
        """Observations as the agent sees them, with frozen statistics (evaluation, play)."""
        return self.tensor(self.obs_norm(obs))

    def episode_stats(self) -> dict[str, float]:
        """Mean return and length over the latest episodes (NaN before the first ends)."""
        if not self.recent_returns:
            return {"episode_return": math.nan, "episode_length": math.nan}
        return {
            "episode_return": float(np.mean(self.recent_returns)),
            "episode_length": float(np.mean(self.recent_lengths)),
        }

    def close(self) -> None:
        self.venv.close()

    # ------------------------------------------------------------------------- resuming
    def state_dict(self) -> dict[str, Any]:
        return {
            "venv": self.venv.state_dict(),
            "obs_norm": self.obs_norm.state_dict(),
            "reward_norm": self.reward_norm.state_dict(),
            "env_steps": self.env_steps,
            "episodes": self.episodes,
            "recent_returns": list(self.recent_returns),
            "recent_lengths": list(self.recent_lengths),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.venv.load_state_dict(state["venv"])
        self.obs_norm.load_state_dict(state["obs_norm"])
        self.reward_norm.load_state_dict(state["reward_norm"])
        self.env_steps, self.episodes = state["env_steps"], state["episodes"]
        self.recent_returns.clear()
        self.recent_returns.extend(state["recent_returns"])
        self.recent_lengths.clear()
        self.recent_lengths.extend(state["recent_lengths"])
        self.obs = self.tensor(self.obs_norm(self.venv.obs))
        self.raw_obs = self.raw(self.venv.obs, self.obs)


def make_eval_envs(env_config: Any, count: int) -> list[Any]:
    """``count`` environments for deterministic evaluation (one episode each)."""
    return [make_env(env_config) for _ in range(count)]
