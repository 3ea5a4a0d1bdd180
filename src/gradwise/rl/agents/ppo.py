"""Proximal Policy Optimization (Schulman et al., 2017, arXiv:1707.06347), discrete actions.

One iteration collects ``n_steps`` steps of every environment with the current policy, computes
advantages with GAE, then takes ``n_epochs`` passes of shuffled minibatches over the rollout.
Per minibatch, with the probability ratio ρ = π(a|s) / π_old(a|s) and advantages Â
(normalized per minibatch when ``normalize_advantage``)::

    L_clip  = −mean(min(ρ·Â, clip(ρ, 1 − ε, 1 + ε)·Â))
    L_value = mean((V(s) − R)²)        (or the max with the clipped value, with clip_range_vf)
    H       = mean(−Σ_a π(a|s) log π(a|s))
    loss    = L_clip + c_v·L_value − c_H·H

A truncated episode (a time limit, not a terminal state) is bootstrapped: its last reward
gets γ·V(s_final) added. ε falls linearly to 0 with ``anneal_clip`` (the RL-Zoo ``lin_0.2``).
Implementation details follow Huang et al. (2022), "The 37 implementation details of PPO".
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar

import torch
import torch.nn.functional as F

from gradwise.rl.agents.base import AGENTS, Agent
from gradwise.rl.buffers import RolloutBuffer
from gradwise.rl.networks import ActorCritic
from gradwise.training.engine import first_non_finite_layer, non_finite_error

if TYPE_CHECKING:
    from gradwise.rl.collector import Collector
    from gradwise.training.engine import Trainer


@AGENTS.register("ppo")
class PPO(Agent):
    losses: ClassVar[tuple[str, ...]] = (
        "loss",
        "policy_loss",
        "value_loss",
        "entropy",
        "approx_kl",
        "clip_fraction",
        "explained_variance",
        "value_mean",
        "value_abs_max",
    )
    adam_eps: ClassVar[float | None] = 1e-5

    def __init__(
        self, config: Any, obs_size: int, n_actions: int, num_envs: int, device: torch.device
    ) -> None:
        super().__init__(config, obs_size, n_actions, num_envs, device)
        self.net = ActorCritic(obs_size, n_actions, config.model, self.settings.shared_network)
        self.net.to(device)
        self.buffer = RolloutBuffer(self.settings.n_steps, num_envs, obs_size, device)

    @property
    def module(self) -> torch.nn.Module:
        return self.net

    def rollout_size(self) -> int:
        return self.settings.n_steps * self.num_envs

    def env_steps_per_iteration(self) -> int:
        return self.rollout_size()

    def updates_per_iteration(self) -> int:
        return self.settings.n_epochs * math.ceil(self.rollout_size() / self.settings.batch_size)

    # ------------------------------------------------------------------------- collection
    @torch.no_grad()
    def collect(self, collector: Collector, trainer: Trainer) -> torch.Tensor:
        """Fill the rollout buffer; returns V of the observations after its last step (N,)."""
        buffer, gamma = self.buffer, self.settings.gamma
        for t in range(self.settings.n_steps):
            obs = collector.obs
            logits, values = self.net(obs)  # (N, A), (N,)
            if not bool(torch.isfinite(logits).all()):  # no policy to sample actions from
                raise non_finite_logits(trainer, self.net, obs)
            log_probs_all = F.log_softmax(logits, dim=-1)
            actions = torch.multinomial(log_probs_all.exp(), 1, generator=self.generator)
            actions = actions.squeeze(-1)  # (N,)
            step = collector.step(actions)
            rewards = step.rewards
            if bool(step.truncated.any()):  # bootstrap the time limit: r + γ·V(s_final)
                rewards = rewards + gamma * step.truncated * self.net.values(step.final_obs)
            buffer.obs[t] = obs
            buffer.actions[t] = actions
            buffer.log_probs[t] = log_probs_all.gather(-1, actions[:, None]).squeeze(-1)
            buffer.values[t] = values
            buffer.rewards[t] = rewards
            buffer.dones[t] = torch.maximum(step.terminated, step.truncated)
        return self.net.values(collector.obs)

    # ---------------------------------------------------------------------------- update
    def iterate(
        self, trainer: Trainer, collector: Collector, progress: float
    ) -> dict[str, torch.Tensor]:
        settings = self.settings
        self.net.train()
        last_values = self.collect(collector, trainer)
        advantages, returns = self.buffer.advantages(
            last_values, settings.gamma, settings.gae_lambda
        )
        size = self.rollout_size()
        obs = self.buffer.obs.reshape(size, -1)  # (T·N, D)
        actions = self.buffer.actions.reshape(size)
        old_log_probs = self.buffer.log_probs.reshape(size)
        old_values = self.buffer.values.reshape(size)
        advantages, returns = advantages.reshape(size), returns.reshape(size)
        clip = settings.clip_range * ((1.0 - progress) if settings.anneal_clip else 1.0)
        sums: dict[str, torch.Tensor] = {}
        count = 0
        for _ in range(settings.n_epochs):
            order = torch.randperm(size, generator=self.generator, device=obs.device)
            kls = []
            for index in order.split(settings.batch_size):
                terms = self.minibatch_loss(
                    obs[index],
                    actions[index],
                    old_log_probs[index],
                    old_values[index],
                    advantages[index],
                    returns[index],
                    clip,
                )
                terms["loss"] = trainer.optimizer_step("main", terms["loss"])
                for name, value in terms.items():
                    sums[name] = sums[name] + value if name in sums else value
                count += 1
                kls.append(terms["approx_kl"])
            if settings.target_kl is not None and float(torch.stack(kls).mean()) > (
                1.5 * settings.target_kl
            ):
                break
        stats = {name: value / count for name, value in sums.items()}
        stats["explained_variance"] = explained_variance(old_values, returns)
        stats["value_mean"] = old_values.mean()
        stats["value_abs_max"] = old_values.abs().max()
        return stats

    def minibatch_loss(
        self,
        obs: torch.Tensor,
        actions: torch.Tensor,
        old_log_probs: torch.Tensor,
        old_values: torch.Tensor,
        advantages: torch.Tensor,
        returns: torch.Tensor,
        clip: float,
    ) -> dict[str, torch.Tensor]:
        """The clipped-surrogate loss of one minibatch (module docstring) and its terms."""
        settings = self.settings
        logits, values = self.net(obs)  # (B, A), (B,)
        log_probs_all = F.log_softmax(logits, dim=-1)
        log_probs = log_probs_all.gather(-1, actions[:, None]).squeeze(-1)
        entropy = -(log_probs_all.exp() * log_probs_all).sum(-1).mean()
        if settings.normalize_advantage and len(advantages) > 1:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        log_ratio = log_probs - old_log_probs
        ratio = log_ratio.exp()
        policy_loss = -torch.min(
            advantages * ratio, advantages * ratio.clamp(1.0 - clip, 1.0 + clip)
        ).mean()
        if settings.clip_range_vf is None:
            value_loss = F.mse_loss(values, returns)
        else:
            clipped = old_values + (values - old_values).clamp(
                -settings.clip_range_vf, settings.clip_range_vf
            )
            value_loss = torch.max((values - returns) ** 2, (clipped - returns) ** 2).mean()
        loss = policy_loss + settings.vf_coef * value_loss - settings.ent_coef * entropy
        with torch.no_grad():
            approx_kl = ((ratio - 1) - log_ratio).mean()  # Schulman's k3 estimator
            clip_fraction = ((ratio - 1).abs() > clip).float().mean()
        return {
            "loss": loss,
            "policy_loss": policy_loss.detach(),
            "value_loss": value_loss.detach(),
            "entropy": entropy.detach(),
            "approx_kl": approx_kl,
            "clip_fraction": clip_fraction,
        }


def explained_variance(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """1 − Var[target − predicted] / Var[target]: 1 is perfect, 0 no better than the mean,
    negative worse (NaN when the targets do not vary)."""
    variance = target.var()
    if float(variance) == 0.0:
        return torch.tensor(math.nan, device=target.device)
    return 1.0 - (target - predicted).var() / variance


def non_finite_logits(trainer: Trainer, net: torch.nn.Module, obs: torch.Tensor) -> Exception:
    """The error that stops a rollout whose policy went non-finite, as the engine's guard
    words it: the step, the first layer whose output is non-finite, and the observations
    when they came in non-finite."""
    layer = first_non_finite_layer(net, lambda: net(obs))
    if not bool(torch.isfinite(obs).all()):
        layer = f"{layer}; non-finite input: observations"
    return non_finite_error(
        "non-finite policy logits", trainer.epoch + 1, trainer.global_step + 1, layer
    )
