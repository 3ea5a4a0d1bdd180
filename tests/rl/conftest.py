"""Fast RL experiments for the tests: small networks, few environment steps, CPU."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import merged
from tests.rl import envs


@pytest.fixture(autouse=True, scope="session")
def _test_environments() -> None:
    envs.register()


def rl_config(agent_name: str = "ppo", env_id: str = "CartPole-v1", **sections: Any) -> dict:
    """A quick experiment: PPO 4 envs × 32 steps per epoch, or DQN 128 steps per epoch."""
    agents = {
        "ppo": {"name": "ppo", "n_steps": 32, "batch_size": 64, "n_epochs": 4},
        "dqn": {
            "name": "dqn",
            "learning_starts": 128,
            "train_freq": 64,
            "gradient_steps": 16,
            "iteration_steps": 128,
            "batch_size": 32,
            "buffer_size": 2000,
        },
    }
    config: dict[str, Any] = {
        "name": f"rl-{agent_name}",
        "seed": 0,
        "task": "rl",
        "env": {
            "id": env_id,
            "num_envs": 4 if agent_name == "ppo" else 1,
            "eval_every": 256,
            "eval_episodes": 4,
        },
        "agent": agents[agent_name],
        "model": {"kind": "mlp", "hidden": [32, 32]},
        "train": {"epochs": 6, "device": "cpu"},
        "report": {"enabled": False},
    }
    return merged(config, sections)
