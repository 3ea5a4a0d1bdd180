"""``gradwise play RUN``: a trained agent's deterministic episodes, and their frames as a GIF.

The run's best weights (its last when no evaluation was recorded) play ``episodes`` episodes
with the greedy policy, observations normalized with the statistics saved in the checkpoint.
Frames come from the environment's ``rgb_array`` rendering, one GIF of the episodes in turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gradwise.errors import CheckpointError, ConfigError
from gradwise.rl.envs import gymnasium, make_env
from gradwise.rl.evaluation import greedy_policy, run_episodes

PLAY_SEED = 1_000_003  # episodes played by `gradwise play` start from seeds PLAY_SEED + i
GIF_FPS = 30


def play(
    run: Any, episodes: int = 5, gif: str | Path | None = None, seed: int = PLAY_SEED
) -> dict[str, Any]:
    """Play ``episodes`` deterministic episodes of a finished ``task: rl`` run; with ``gif``,
    write their frames there. Returns the returns, lengths and their mean."""
    import torch

    if episodes < 1:
        raise ConfigError(f"play --episodes: must be ≥ 1, got {episodes}")
    if run.config.task != "rl":
        raise CheckpointError(f"{run.path}: play needs a task: rl run, not {run.config.task}")
    if gif is not None and Path(gif).suffix.lower() != ".gif":
        raise ConfigError(f"play --gif: '{gif}' must end in .gif")
    model = run.model  # best weights, eval mode
    normalize = observation_normalizer(run)
    render_mode = "rgb_array" if gif is not None else None
    envs = [make_env(run.config.env, render_mode) for _ in range(episodes)]
    frames: list[list[np.ndarray]] = [[] for _ in range(episodes)]

    def record(index: int, env: Any) -> None:
        frames[index].append(render(env, run.config.env.id))

    policy = greedy_policy(model.act, lambda obs: torch.as_tensor(normalize(obs)))
    seeds = [seed + i for i in range(episodes)]
    returns, lengths = run_episodes(envs, policy, seeds, record if gif is not None else None)
    for env in envs:
        env.close()
    result: dict[str, Any] = {
        "run": str(run.path),
        "env": run.config.env.id,
        "episodes": episodes,
        "returns": returns.tolist(),
        "lengths": lengths.tolist(),
        "return_mean": float(returns.mean()),
        "return_std": float(returns.std()),
    }
    if gif is not None:
        result["gif"] = str(write_gif(gif, [f for episode in frames for f in episode]))
        result["frames"] = sum(len(episode) for episode in frames)
    return result


def observation_normalizer(run: Any) -> Any:
    """The observation normalization of the run's last checkpoint (identity when off)."""
    from gradwise.rl.normalize import ObservationNormalizer
    from gradwise.training.checkpoint import load_state

    env = run.config.env
    if not env.normalize_obs:
        return lambda obs: np.asarray(obs, dtype=np.float32)
    state = load_state(run.paths.checkpoints, "last")
    saved = state.get("paradigm", {}).get("collector", {}).get("obs_norm")
    if saved is None:
        raise CheckpointError(f"{run.path}: the checkpoint holds no observation statistics")
    normalizer = ObservationNormalizer(len(saved["mean"]), env.clip_obs, True)
    normalizer.load_state_dict(saved)
    return normalizer


def render(env: Any, env_id: str) -> np.ndarray:
    """One ``rgb_array`` frame (H, W, 3) of ``env``; a one-line error when it cannot draw."""
    gym = gymnasium()
    try:
        frame = env.render()
    except gym.error.DependencyNotInstalled as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError(f"play --gif: '{env_id}' cannot draw frames here ({first})") from None
    if not isinstance(frame, np.ndarray) or frame.ndim != 3:
        raise ConfigError(f"play --gif: '{env_id}' has no rgb_array rendering")
    return frame


def write_gif(path: str | Path, frames: Sequence[np.ndarray], fps: int = GIF_FPS) -> Path:
    """The frames as an animated GIF, written atomically."""
    from PIL import Image

    from gradwise._io import atomic_write

    if not frames:
        raise ConfigError("play --gif: no frames were drawn")
    images = [Image.fromarray(np.asarray(frame, dtype=np.uint8)) for frame in frames]
    path = Path(path)

    def save(tmp: Path) -> None:
        images[0].save(
            tmp,
            format="GIF",
            save_all=True,
            append_images=images[1:],
            duration=round(1000 / fps),
            loop=0,
        )

    atomic_write(path, save)
    return path
