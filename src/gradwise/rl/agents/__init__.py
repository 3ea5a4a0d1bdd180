"""Agents by name (``agent.name``): ``ppo`` and ``dqn``."""

from gradwise.rl.agents import dqn, ppo  # noqa: F401  (register the agents)
from gradwise.rl.agents.base import AGENTS, Agent

__all__ = ["AGENTS", "Agent"]
