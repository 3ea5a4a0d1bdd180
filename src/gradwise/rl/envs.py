"""Gymnasium environments: creation with one-line errors, and a synchronous vector of them.

:class:`VectorEnv` steps ``N`` environments in lockstep and resets each one in the same step
its episode ends (as Stable-Baselines3's ``DummyVecEnv``): the observation returned for a
finished environment is the first of its next episode, and the last observation of the finished
episode comes back separately (``final_obs``) so that a truncated episode can be bootstrapped
from it. Returns and lengths of finished episodes are counted on the raw rewards.

Its state (every environment's internal plain-valued state, its random generator, the current
observations and the running episode counters) is a mapping of tensors and numbers, so a
checkpoint restores the environments exactly where they were.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from gradwise.errors import ConfigError, did_you_mean

INSTALL_HINT = "install the rl extra: pip install 'gradwise[rl]'"


def gymnasium() -> Any:
    """The ``gymnasium`` module, or one clear line when it is not installed."""
    try:
        import gymnasium as gym
    except ImportError:
        raise ConfigError(
            f"task: rl needs Gymnasium, which is not installed; {INSTALL_HINT}"
        ) from None
    return gym


def make_env(env_config: Any, render_mode: str | None = None) -> Any:
    """One environment of ``env.id`` with ``env.options`` (and ``env.max_episode_steps``)."""
    gym = gymnasium()
    ids = list(gym.envs.registry)
    if env_config.id not in ids:
        raise ConfigError(
            f"env.id: unknown Gymnasium environment '{env_config.id}'"
            f"{did_you_mean(env_config.id, ids)}; e.g. CartPole-v1, Acrobot-v1, MountainCar-v0"
        )
    kwargs = dict(env_config.options)
    if env_config.max_episode_steps is not None:
        kwargs["max_episode_steps"] = env_config.max_episode_steps
    if render_mode is not None:
        kwargs["render_mode"] = render_mode
    try:
        env = gym.make(env_config.id, **kwargs)
    except (TypeError, gym.error.Error) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"env: cannot make '{env_config.id}' ({first})") from None
    except ImportError as exc:  # an environment family whose extra dependencies are missing
        raise ConfigError(f"env.id: '{env_config.id}' needs a package: {exc}") from None
    return env


def spaces_of(env: Any, env_id: str) -> tuple[int, int]:
    """``(observation size, number of actions)``: a flat Box of observations and a Discrete
    action space are what the agents take."""
    gym = gymnasium()
    obs_space, action_space = env.observation_space, env.action_space
    if not isinstance(obs_space, gym.spaces.Box) or len(obs_space.shape) != 1:
        raise ConfigError(
            f"env.id: '{env_id}' observes {obs_space}; the agents take a flat Box of numbers"
        )
    if not isinstance(action_space, gym.spaces.Discrete):
        raise ConfigError(
            f"env.id: '{env_id}' has actions {action_space}; the agents (dqn, ppo) take a "
            "Discrete action space"
        )
    return int(obs_space.shape[0]), int(action_space.n)


def reward_threshold(env: Any, configured: float | None) -> float | None:
    """The "solved" return: ``env.reward_threshold`` when set, else the environment's own."""
    if configured is not None:
        return configured
    spec = getattr(env, "spec", None)
    return None if spec is None else spec.reward_threshold


class VectorEnv:
    """``N`` environments stepped together, reset in the step their episodes end."""

    def __init__(self, make: Callable[[], Any], num_envs: int, seed: int) -> None:
        self.envs = [make() for _ in range(num_envs)]
        self.num_envs = num_envs
        first = [env.reset(seed=seed + i)[0] for i, env in enumerate(self.envs)]
        self.obs = np.stack(first).astype(np.float32)  # (N, D)
        self.episode_returns = np.zeros(num_envs)  # running, raw rewards
        self.episode_lengths = np.zeros(num_envs, dtype=np.int64)
        self.finished: list[tuple[float, int]] = []  # (return, length) since last drained

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Step every environment with ``actions`` (N,): the next observations (N, D) (a new
        episode's first where one ended), rewards (N,), terminated (N,), truncated (N,), and
        the true next observations (N, D) (the finished episode's last where one ended)."""
        n = self.num_envs
        rewards = np.empty(n)
        terminated = np.zeros(n, dtype=bool)
        truncated = np.zeros(n, dtype=bool)
        next_obs = np.empty_like(self.obs)
        last_obs: dict[int, np.ndarray] = {}  # env → the last observation of its ended episode
        for i, env in enumerate(self.envs):
            obs, reward, term, trunc, _ = env.step(int(actions[i]))
            rewards[i] = reward
            if term or trunc:
                last_obs[i] = obs
                terminated[i], truncated[i] = term, trunc and not term
                self.finished.append(
                    (float(self.episode_returns[i] + reward), int(self.episode_lengths[i] + 1))
                )
                self.episode_returns[i] = -reward  # cancelled by the update below
                self.episode_lengths[i] = -1
                obs, _ = env.reset()
            next_obs[i] = obs
        final_obs = next_obs.copy()
        for i, obs in last_obs.items():
            final_obs[i] = obs
        self.episode_returns += rewards
        self.episode_lengths += 1
        self.obs = next_obs
        return next_obs, rewards, terminated, truncated, final_obs

    def drain_finished(self) -> list[tuple[float, int]]:
        """The episodes finished since the last call, as ``(return, length)``."""
        finished, self.finished = self.finished, []
        return finished

    def close(self) -> None:
        for env in self.envs:
            env.close()

    # ------------------------------------------------------------------------- resuming
    def state_dict(self) -> dict[str, Any]:
        return {
            "envs": [env_state(env) for env in self.envs],
            "obs": torch.from_numpy(self.obs.copy()),
            "episode_returns": torch.from_numpy(self.episode_returns.copy()),
            "episode_lengths": torch.from_numpy(self.episode_lengths.copy()),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for env, saved in zip(self.envs, state["envs"], strict=True):
            load_env_state(env, saved)
        self.obs = state["obs"].numpy().copy()
        self.episode_returns = state["episode_returns"].numpy().copy()
        self.episode_lengths = state["episode_lengths"].numpy().copy()
        self.finished = []


# ----------------------------------------------------------------------- environment state
PLAIN = (bool, int, float, str, type(None))


def _plain(value: Any) -> Any:
    """A checkpointable form of ``value`` (tensors, numbers, strings, lists), else a marker
    that it is not plain state (an object, a space, a renderer)."""
    if isinstance(value, PLAIN):
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return {"array": torch.from_numpy(value.copy())}
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return {"scalar": value.item()}
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, float)) for v in value):
        return {"tuple" if isinstance(value, tuple) else "list": list(value)}
    return _NOT_PLAIN


_NOT_PLAIN = object()


def _unplain(value: Any) -> Any:
    if isinstance(value, dict):
        if "array" in value:
            return value["array"].numpy().copy()
        if "scalar" in value:
            return value["scalar"]
        if "tuple" in value:
            return tuple(value["tuple"])
        return list(value["list"])
    return value


def _layers(env: Any) -> list[Any]:
    """The wrapper chain from the outermost wrapper to the unwrapped environment."""
    layers = [env]
    while hasattr(layers[-1], "env") and layers[-1].env is not layers[-1]:
        layers.append(layers[-1].env)
    return layers


def env_state(env: Any) -> dict[str, Any]:
    """The environment's plain attributes (its physics state: arrays, numbers, None), the
    wrappers' numbers (a time limit's step count; their flags and blanks are checker
    bookkeeping, left as they are) and the random generator's state (integers kept as strings:
    they exceed 64 bits). Environments whose state lives in objects (a physics engine's world)
    are not captured: those resume from the restored random state but not mid-episode."""
    layers = []
    for layer in _layers(env):
        fields = {}
        for key, value in vars(layer).items():
            if layer is not env.unwrapped and (value is None or isinstance(value, bool)):
                continue  # a wrapper's flags and blanks (an env checker's) are no episode state
            plain = _plain(value)
            if plain is not _NOT_PLAIN:
                fields[key] = plain
        layers.append(fields)
    generator = env.unwrapped.np_random.bit_generator.state
    return {"layers": layers, "rng": _stringify(generator)}


def load_env_state(env: Any, state: dict[str, Any]) -> None:
    for layer, fields in zip(_layers(env), state["layers"], strict=True):
        for key, value in fields.items():
            setattr(layer, key, _unplain(value))
    env.unwrapped.np_random.bit_generator.state = _destringify(state["rng"])


def _stringify(value: Any) -> Any:
    """Integers as strings: generator states hold 128-bit integers."""
    if isinstance(value, dict):
        return {k: _stringify(v) for k, v in value.items()}
    if isinstance(value, int) and not isinstance(value, bool):
        return f"int:{value}"
    return value


def _destringify(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _destringify(v) for k, v in value.items()}
    if isinstance(value, str) and value.startswith("int:"):
        return int(value[4:])
    return value
