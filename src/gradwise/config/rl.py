"""The reinforcement-learning sections of an experiment (``task: rl``): ``env`` and ``agent``.

``agent`` is a union discriminated by ``agent.name`` (``dqn`` | ``ppo``), so each agent has its
own keys and defaults; the defaults start from the RL-Zoo settings for CartPole-v1, with the
general γ = 0.99 and a ``target_kl`` for PPO and 3-step targets for DQN (the recipes of
``gradwise init ENV --task rl`` adjust them per environment; ``benchmarks/rl.py`` measures
them). The network is the ``model`` section (an MLP), the optimizer, its learning rate and
schedule and the gradient clipping are ``train``'s (the paradigm fills the agent's usual
``train.grad_clip``), and one training epoch is one collect-and-update iteration of the agent.
Torch-free.
"""

from __future__ import annotations

import functools
import operator
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from gradwise.config.sections import Section

PositiveInt = Annotated[int, Field(ge=1)]
Discount = Annotated[float, Field(gt=0.0, le=1.0)]


class EnvConfig(Section):
    id: str  # a Gymnasium environment id, e.g. CartPole-v1
    num_envs: PositiveInt = 8  # environments stepped together (one batched forward pass)
    normalize_obs: bool = False  # running mean/std of observations (frozen for evaluation)
    normalize_reward: bool = False  # scale rewards by the running std of discounted returns
    clip_obs: Annotated[float, Field(gt=0.0)] = 10.0  # normalized observations are clipped
    clip_reward: Annotated[float, Field(gt=0.0)] = 10.0  # normalized rewards are clipped
    max_episode_steps: PositiveInt | None = None  # default: the environment's own limit
    options: dict[str, Any] = Field(default_factory=dict)  # keyword arguments of gymnasium.make
    eval_every: PositiveInt = 5000  # environment steps between deterministic evaluations
    eval_episodes: PositiveInt = 20  # episodes per evaluation
    reward_threshold: float | None = None  # "solved" level; default: the environment's own


class PPOConfig(Section):
    """Proximal Policy Optimization (Schulman et al., 2017) with GAE (Schulman et al., 2016)."""

    grad_clip: ClassVar[float] = 0.5  # the train.grad_clip PPO is run with unless set
    name: Literal["ppo"] = "ppo"
    n_steps: PositiveInt = 32  # steps per environment in one rollout
    batch_size: PositiveInt = 256  # minibatch size of the updates
    n_epochs: PositiveInt = 20  # passes over each rollout
    gamma: Discount = 0.99  # discount factor
    gae_lambda: Annotated[float, Field(ge=0.0, le=1.0)] = 0.8  # GAE λ (1: Monte-Carlo)
    clip_range: Annotated[float, Field(gt=0.0, le=10.0)] = 0.2  # policy ratio clipping ε
    clip_range_vf: Annotated[float, Field(gt=0.0)] | None = None  # value clipping; None: off
    anneal_clip: bool = True  # ε falls linearly to 0 over training (RL-Zoo ``lin_0.2``)
    # entropy bonus weight; negative values punish exploration (a deliberately broken setup)
    ent_coef: Annotated[float, Field(ge=-10.0, le=10.0)] = 0.0
    vf_coef: Annotated[float, Field(ge=0.0)] = 0.5  # value-loss weight
    normalize_advantage: bool = True  # per minibatch: (A − mean) / (std + 1e-8)
    # an update stops its epochs once an epoch's mean KL(π_old‖π) passes 1.5 × target_kl
    target_kl: Annotated[float, Field(gt=0.0)] | None = 0.02
    shared_network: bool = False  # one body for policy and value (default: two networks)


class DQNConfig(Section):
    """Deep Q-learning (Mnih et al., 2015) with optional double Q (van Hasselt et al., 2016)."""

    grad_clip: ClassVar[float] = 10.0  # the train.grad_clip DQN is run with unless set
    name: Literal["dqn"] = "dqn"
    buffer_size: PositiveInt = 100_000  # replay capacity in transitions
    learning_starts: Annotated[int, Field(ge=0)] = 1000  # environment steps before updates
    batch_size: PositiveInt = 64  # transitions per gradient step
    train_freq: PositiveInt = 256  # environment steps between updates (over all environments)
    gradient_steps: PositiveInt = 128  # gradient steps per update
    iteration_steps: PositiveInt | None = None  # environment steps per epoch; None: train_freq
    gamma: Discount = 0.99
    target_update_interval: PositiveInt = 10  # environment steps between target-network updates
    tau: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0  # 1: copy; < 1: Polyak averaging
    exploration_fraction: Annotated[float, Field(gt=0.0, le=1.0)] = 0.16  # share of training
    exploration_initial_eps: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0
    exploration_final_eps: Annotated[float, Field(ge=0.0, le=1.0)] = 0.04
    double_q: bool = True  # the online network picks the next action (not with munchausen)
    n_step: PositiveInt = 3  # multi-step targets: rewards summed over n steps, then γ^n·Q
    loss: Literal["huber", "mse"] = "huber"  # TD error loss
    # Munchausen-DQN's α: the target adds α·τ·log π(a|s) of the softmax policy π ∝ exp(Q/τ)
    # and bootstraps from soft values (Vieillard et al., 2020; in place of double_q); 0: off
    munchausen: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    munchausen_temperature: Annotated[float, Field(gt=0.0)] = 0.03  # τ of that policy
    # share of each minibatch redrawn from the terminal_window steps before a termination
    # (not a time-limit truncation): rare once the policy is good, and not to be forgotten
    terminal_share: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    terminal_window: PositiveInt = 20


AGENT_CONFIGS: dict[str, type[Section]] = {"ppo": PPOConfig, "dqn": DQNConfig}
DEFAULT_AGENT = "ppo"

# ``agent:`` is one of the classes above, chosen by its ``name`` key.
AgentConfig = Annotated[
    functools.reduce(operator.or_, AGENT_CONFIGS.values()), Field(discriminator="name")
]
