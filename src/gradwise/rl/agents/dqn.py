"""Deep Q-Networks (Mnih et al., 2015, Nature 518) with double Q-learning (van Hasselt et al.,
2016, arXiv:1509.06461).

One iteration takes ``train_freq`` environment steps with an ε-greedy policy (ε falls linearly
from ``exploration_initial_eps`` to ``exploration_final_eps`` over ``exploration_fraction`` of
training), storing transitions in the replay buffer, then — once ``learning_starts`` steps have
been taken — ``gradient_steps`` updates on uniformly drawn minibatches::

    a*   = argmax_a Q_online(s', a)          (double Q; plain DQN: argmax of Q_target)
    y    = r + γ·(1 − terminated)·Q_target(s', a*)
    loss = mean(huber(Q_online(s, a) − y))   (or the squared error)

With ``n_step`` = n > 1, ``r`` is the discounted sum of the next n rewards (fewer where the
episode ends first), s' the state n steps on and γ becomes γ^n (the multi-step targets of
Rainbow, Hessel et al., 2018): values propagate n steps per update instead of one.

With ``munchausen`` = α > 0 (Munchausen-DQN, Vieillard et al., 2020, arXiv:2007.14430) the
target network defines a softmax policy π ∝ exp(Q_target/τ), and the target becomes::

    y = r + α·clip(τ·log π(a|s), −1, 0) + γ·(1 − terminated)·V(s')
    V(s') = Σ_a' π(a'|s')·(Q_target(s', a') − τ·log π(a'|s'))

an implicit KL penalty between successive policies that widens the gap between the best action
and the others (in place of double Q). With n-step returns the log-policy term is the first
step's only.

With ``terminal_share`` = q > 0 a share q of every minibatch is drawn from the
``terminal_window`` steps before a termination
(:meth:`~gradwise.rl.buffers.ReplayBuffer.sample`): once the policy is good, terminations come
only from exploration and fill a shrinking part of the buffer, and a Q-network that no longer
sees the states that lead to them can forget how to avoid them.

The target network follows the online one every ``target_update_interval`` environment steps,
θ_target ← τ·θ + (1 − τ)·θ_target (τ = 1: a copy), counted as Stable-Baselines3 counts them.
A time-limit truncation is not a terminal state: its target bootstraps from s'. With
``env.normalize_obs`` or ``normalize_reward`` the replay buffer holds raw observations and
rewards, normalized as they are drawn with the running statistics of that moment
(:class:`~gradwise.rl.normalize.ReplayScaling`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

import torch
import torch.nn.functional as F

from gradwise.rl.agents.base import AGENTS, Agent
from gradwise.rl.buffers import ReplayBuffer
from gradwise.rl.networks import QNetworks
from gradwise.rl.normalize import AS_STORED, ReplayScaling

if TYPE_CHECKING:
    from gradwise.rl.collector import Collector
    from gradwise.training.engine import Trainer

TD_LOSSES = {"huber": F.smooth_l1_loss, "mse": F.mse_loss}
LOG_POLICY_FLOOR = -1.0  # Munchausen-DQN's l₀: τ·log π(a|s) is clipped to [l₀, 0]
BLOCK_TRANSITIONS = 1 << 15  # replayed transitions drawn and bootstrapped together, at most
BLOCK_VALUES = 1 << 22  # ... and at most this many observation values (16 MB per tensor)
FORWARD_ROWS = 2048  # rows per target-network pass (larger passes run slower on a CPU)


@AGENTS.register("dqn")
class DQN(Agent):
    losses: ClassVar[tuple[str, ...]] = ("loss", "q_mean", "q_abs_max", "epsilon")

    def __init__(
        self, config: Any, obs_size: int, n_actions: int, num_envs: int, device: torch.device
    ) -> None:
        super().__init__(config, obs_size, n_actions, num_envs, device)
        self.n_actions = n_actions
        self.q = QNetworks(obs_size, n_actions, config.model).to(device)
        self.buffer = ReplayBuffer(self.settings.buffer_size, obs_size, device)
        self.vector_steps = math.ceil(self.settings.train_freq / num_envs)  # per update
        iteration = self.settings.iteration_steps or self.settings.train_freq
        self.phases = max(1, round(iteration / (self.vector_steps * num_envs)))  # per epoch
        self.total_env_steps = config.train.epochs * self.env_steps_per_iteration()

    @property
    def module(self) -> torch.nn.Module:
        return self.q

    def trained_parameters(self) -> list[torch.nn.Parameter]:
        return list(self.q.online.parameters())

    def env_steps_per_iteration(self) -> int:
        return self.phases * self.vector_steps * self.num_envs

    def updates_per_iteration(self) -> int:
        return self.phases * self.settings.gradient_steps

    def epsilon(self, env_steps: int) -> float:
        """ε after ``env_steps`` steps: linear over ``exploration_fraction`` of training."""
        settings = self.settings
        fraction = min(1.0, env_steps / (settings.exploration_fraction * self.total_env_steps))
        start, end = settings.exploration_initial_eps, settings.exploration_final_eps
        return start + fraction * (end - start)

    @torch.no_grad()
    def collect(self, collector: Collector) -> float:
        """``train_freq`` ε-greedy environment steps into the replay buffer; returns the last ε."""
        settings, n = self.settings, self.num_envs
        epsilon = self.epsilon(collector.env_steps)
        for _ in range(self.vector_steps):
            epsilon = self.epsilon(collector.env_steps)
            obs, raw_obs = collector.obs, collector.raw_obs
            explore = torch.rand(n, generator=self.generator, device=obs.device) < epsilon
            exploring = int(explore.sum())
            if exploring == n:  # no environment needs the greedy pass
                actions = self.random_actions(n, obs.device)
            else:
                actions = self.q.online(obs).argmax(-1)  # (N,)
                if exploring:
                    actions = torch.where(explore, self.random_actions(n, obs.device), actions)
            before = collector.env_steps
            step = collector.step(actions)
            dones = torch.maximum(step.terminated, step.truncated)
            self.buffer.add(  # raw: each draw is normalized with the statistics of its moment
                raw_obs, actions, step.raw_rewards, step.raw_final_obs, step.terminated, dones
            )
            interval = settings.target_update_interval
            if collector.env_steps // interval > before // interval:
                self.update_target()
        return epsilon

    def random_actions(self, n: int, device: torch.device) -> torch.Tensor:
        """``n`` uniformly drawn actions (N,) from the agent's random stream."""
        return torch.randint(self.n_actions, (n,), generator=self.generator, device=device)

    def ready(self, env_steps: int) -> bool:
        """Updates start after ``learning_starts`` steps, once one n-step window is complete."""
        window = (self.settings.n_step - 1) * self.num_envs
        return env_steps > self.settings.learning_starts and self.buffer.size > window

    def update_target(self) -> None:
        """θ_target ← τ·θ + (1 − τ)·θ_target."""
        online = list(self.q.online.parameters())
        target = list(self.q.target.parameters())
        if self.settings.tau == 1.0:
            torch._foreach_copy_(target, online)
        else:
            torch._foreach_lerp_(target, online, self.settings.tau)

    def iterate(
        self, trainer: Trainer, collector: Collector, progress: float
    ) -> dict[str, torch.Tensor]:
        """``phases`` rounds of (collect ``train_freq`` steps, ``gradient_steps`` updates)."""
        device = collector.obs.device
        totals = {name: torch.zeros((), device=device) for name in ("loss", "q_mean")}
        q_abs_max = torch.zeros((), device=device)
        updates = 0
        epsilon = 0.0
        for _ in range(self.phases):
            epsilon = self.collect(collector)
            if not self.ready(collector.env_steps):
                continue
            for loss, q_values in self.updates(trainer, collector.replay_scaling()):
                totals["loss"] = totals["loss"] + loss
                totals["q_mean"] = totals["q_mean"] + q_values.mean()
                q_abs_max = torch.maximum(q_abs_max, q_values.abs().max())
                updates += 1
        means = {name: total / max(1, updates) for name, total in totals.items()}
        return {**means, "q_abs_max": q_abs_max, "epsilon": torch.tensor(epsilon, device=device)}

    def updates(
        self, trainer: Trainer, scaling: ReplayScaling = AS_STORED
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """``gradient_steps`` gradient steps on replayed minibatches, normalized by ``scaling``;
        yields each step's loss and Q(s, a) values (B,).

        Neither the buffer nor the target network changes between these steps, so their
        minibatches are drawn together (at most ``BLOCK_TRANSITIONS`` transitions or
        ``BLOCK_VALUES`` observation values at a time) and the target network evaluated once per
        distinct state among them: early in training, when the buffer is small, most draws
        repeat a state.
        """
        settings = self.settings
        size = settings.batch_size
        rows = min(BLOCK_TRANSITIONS, BLOCK_VALUES // self.buffer.obs.shape[1])
        per_block = max(1, rows // size)
        for first in range(0, settings.gradient_steps, per_block):
            steps = min(per_block, settings.gradient_steps - first)
            block = self.buffer.sample(
                steps * size,
                self.generator,
                settings.n_step,
                settings.gamma,
                settings.terminal_share,
                settings.terminal_window,
            )
            with torch.no_grad():
                slots, next_slots = block.pop("slots"), block.pop("next_slots")
                wanted = slots if settings.munchausen else None  # Q(s): Munchausen's only
                q, next_q = self.target_values(wanted, next_slots, block["next_obs"], scaling)
                for key in ("obs", "next_obs"):
                    block[key] = scaling.observations(block[key])
                block["rewards"] = block["rewards"] * scaling.reward_scale
                block["rewards"], block["next_q"] = self.bootstrap(block, q, next_q)
            minibatches = zip(*(tensor.split(size) for tensor in block.values()), strict=True)
            for parts in minibatches:
                yield self.update(trainer, dict(zip(block, parts, strict=True)))

    def target_values(
        self,
        slots: torch.Tensor | None,
        next_slots: torch.Tensor,
        next_obs: torch.Tensor,
        scaling: ReplayScaling = AS_STORED,
    ) -> tuple[torch.Tensor | None, torch.Tensor]:
        """Q_target (B, A) of the replayed states at ``slots`` (None: not wanted) and of the
        next states ``next_obs`` (B, D, as stored), drawn from ``next_slots``, one pass per
        distinct state, normalized by ``scaling``.

        Within an episode a next state is also the state of its environment's following step,
        ``width`` slots on: where that slot holds the same observation it is read from there,
        so a state and its successor drawn in one block are evaluated once.
        """
        buffer = self.buffer
        capacity = buffer.capacity
        following = (next_slots + buffer.width) % capacity
        stored = (buffer.obs[following] == next_obs).all(-1)
        # keys: slot k of buffer.obs is k, slot k of buffer.next_obs is capacity + k
        keys = torch.where(stored, following, next_slots + capacity)
        if slots is not None:
            keys = torch.cat([slots, keys])
        distinct, position = torch.unique(keys, return_inverse=True)
        rows = distinct % capacity
        from_next = (distinct >= capacity)[:, None]
        states = torch.where(from_next, buffer.next_obs[rows], buffer.obs[rows])
        parts = scaling.observations(states).split(FORWARD_ROWS)
        values = torch.cat([self.q.target(part) for part in parts])[position]
        if slots is None:
            return None, values
        return values[: len(slots)], values[len(slots) :]

    def update(
        self, trainer: Trainer, batch: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One gradient step on a minibatch with its :meth:`bootstrap` parts; its loss and
        Q(s, a) values (B,)."""
        with torch.no_grad():
            targets = self.targets(batch)
        q_values = self.q.online(batch["obs"]).gather(-1, batch["actions"][:, None]).squeeze(-1)
        loss = TD_LOSSES[self.settings.loss](q_values, targets)
        return trainer.optimizer_step("main", loss), q_values.detach()

    def targets(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """y = r + discount·(1 − terminated)·V(s') (B,) of a minibatch with its
        :meth:`bootstrap` parts."""
        next_q = batch["next_q"]
        if self.online_picks_next:  # (B, A): the online network picks the next action now
            best = self.q.online(batch["next_obs"]).argmax(-1, keepdim=True)
            next_q = next_q.gather(-1, best).squeeze(-1)
        return batch["rewards"] + batch["discounts"] * (1.0 - batch["terminated"]) * next_q

    def bootstrap(
        self, batch: dict[str, torch.Tensor], q: torch.Tensor | None, next_q: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The target network's part of the targets, from its values of the states ``q`` (B, A;
        Munchausen only) and of the next states ``next_q`` (B, A): the targets' rewards (B,)
        and next-state values (B,) — for double Q ``next_q`` itself, of whose actions the
        online network picks one at the update."""
        settings = self.settings
        if settings.munchausen:
            assert q is not None
            temperature = settings.munchausen_temperature
            log_policy = F.log_softmax(q / temperature, dim=-1)
            next_log_policy = F.log_softmax(next_q / temperature, dim=-1)
            soft = next_q - temperature * next_log_policy
            next_values = (next_log_policy.exp() * soft).sum(-1)
            taken = log_policy.gather(-1, batch["actions"][:, None]).squeeze(-1)
            bonus = (temperature * taken).clamp(LOG_POLICY_FLOOR, 0.0)
            return batch["rewards"] + settings.munchausen * bonus, next_values
        if self.online_picks_next:
            return batch["rewards"], next_q
        return batch["rewards"], next_q.max(-1).values

    @property
    def online_picks_next(self) -> bool:
        """Double Q (without Munchausen targets, which replace it): the online network picks
        the next action at the update, so :meth:`bootstrap` leaves ``next_q`` (B, A) whole."""
        return self.settings.double_q and not self.settings.munchausen

    def state_dict(self) -> dict[str, Any]:
        return {"buffer": self.buffer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.buffer.load_state_dict(state["buffer"])
