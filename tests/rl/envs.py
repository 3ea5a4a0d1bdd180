"""Tiny Gymnasium environments registered for the tests: one whose rewards turn NaN (the
non-finite guard), and one that draws ``rgb_array`` frames without pygame (play --gif)."""

from __future__ import annotations

from typing import ClassVar

import gymnasium as gym
import numpy as np


class Corridor(gym.Env):
    """Walk right (action 1) along a corridor of ``length`` cells; +1 at the end, ``step_reward``
    per step. With ``nan_after`` the rewards become NaN from that step on."""

    metadata: ClassVar[dict] = {"render_modes": ["rgb_array"], "render_fps": 30}

    def __init__(
        self,
        length: int = 8,
        step_reward: float = -0.01,
        nan_after: int | None = None,
        render_mode: str | None = None,
    ) -> None:
        self.length = length
        self.step_reward = step_reward
        self.nan_after = nan_after
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Box(0.0, 1.0, shape=(2,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.position = 0
        self.steps = 0

    def obs(self) -> np.ndarray:
        return np.array([self.position / self.length, 1.0], dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.position = int(self.np_random.integers(0, 2))
        return self.obs(), {}

    def step(self, action: int):
        self.steps += 1
        self.position = max(0, self.position + (1 if action == 1 else -1))
        done = self.position >= self.length
        reward = 1.0 if done else self.step_reward
        if self.nan_after is not None and self.steps > self.nan_after:
            reward = float("nan")
        return self.obs(), reward, done, False, {}

    def render(self) -> np.ndarray:
        frame = np.zeros((8, 4 * self.length, 3), dtype=np.uint8)
        frame[
            :, 4 * min(self.position, self.length - 1) : 4 * min(self.position, self.length - 1) + 4
        ] = 255
        return frame


def register() -> None:
    if "GradwiseCorridor-v0" not in gym.envs.registry:
        gym.register("GradwiseCorridor-v0", entry_point=Corridor, max_episode_steps=50)
        gym.register(
            "GradwiseNanCorridor-v0",
            entry_point=Corridor,
            max_episode_steps=50,
            kwargs={"nan_after": 40},
        )
        # no end in reach: every episode is cut by the time limit, −1 per step
        gym.register(
            "GradwiseEndless-v0",
            entry_point=Corridor,
            max_episode_steps=20,
            kwargs={"length": 10**6, "step_reward": -1.0},
        )
