"""The agent contract and registry (``agent.name``).

An agent owns its networks (one module, what checkpoints hold), says how many environment
steps and optimizer updates one iteration takes (one training epoch of the engine), and runs an
iteration: collect experience through the :class:`~gradwise.rl.collector.Collector`, then update
through ``trainer.optimizer_step`` (the non-finite guard, clipping and the schedule).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import torch

from gradwise.registry import Registry

if TYPE_CHECKING:
    from gradwise.rl.collector import Collector
    from gradwise.training.engine import Trainer


class Agent:
    """Base of the agents; ``losses`` are the keys :meth:`iterate` returns."""

    losses: ClassVar[tuple[str, ...]] = ("loss",)
    adam_eps: ClassVar[float | None] = None  # Adam's ε when the agent's authors changed it

    def __init__(
        self, config: Any, obs_size: int, n_actions: int, num_envs: int, device: torch.device
    ) -> None:
        self.config = config
        self.settings = config.agent
        self.device = device
        self.num_envs = num_envs
        self.generator = torch.Generator(device=device)  # seeded by the paradigm

    @property
    def module(self) -> torch.nn.Module:
        raise NotImplementedError

    def trained_parameters(self) -> list[torch.nn.Parameter]:
        return [p for p in self.module.parameters() if p.requires_grad]

    def env_steps_per_iteration(self) -> int:
        raise NotImplementedError

    def updates_per_iteration(self) -> int:
        raise NotImplementedError

    def act(self, obs: torch.Tensor) -> torch.Tensor:
        """The deterministic (greedy) action per observation (B, D) → (B,)."""
        return self.module.act(obs)

    def iterate(
        self, trainer: Trainer, collector: Collector, progress: float
    ) -> dict[str, torch.Tensor]:
        """One iteration at ``progress`` ∈ [0, 1) of training; its losses and statistics."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


AGENTS: Registry[type[Agent]] = Registry("agent", key="agent.name")
