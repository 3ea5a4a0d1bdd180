"""Experience storage: PPO's rollout buffer (with GAE) and DQN's replay buffer.

Both are preallocated tensors written one vector step at a time and read in whole minibatches
(one ``index_select`` per tensor), never per sample.
"""

from __future__ import annotations

from typing import Any

import torch

from gradwise.errors import CheckpointError


class RolloutBuffer:
    """``T`` steps of ``N`` environments: observations (T, N, D), actions, log-probabilities,
    values, rewards and episode ends (T, N)."""

    def __init__(self, steps: int, num_envs: int, obs_size: int, device: torch.device) -> None:
        self.steps, self.num_envs = steps, num_envs
        self.obs = torch.zeros(steps, num_envs, obs_size, device=device)
        self.actions = torch.zeros(steps, num_envs, dtype=torch.long, device=device)
        self.log_probs = torch.zeros(steps, num_envs, device=device)
        self.values = torch.zeros(steps, num_envs, device=device)
        self.rewards = torch.zeros(steps, num_envs, device=device)
        self.dones = torch.zeros(steps, num_envs, device=device)  # 1: episode ended at t

    def advantages(
        self, last_values: torch.Tensor, gamma: float, lam: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Generalized advantage estimation (Schulman et al., 2016), backwards over t::

            δ_t = r_t + γ·V(s_{t+1})·(1 − d_t) − V(s_t)
            A_t = δ_t + γ·λ·(1 − d_t)·A_{t+1}
            R_t = A_t + V(s_t)            (the value targets)

        with ``d_t`` the episode end after step t (a truncated episode's bootstrap is already
        in its reward) and V(s_T) = ``last_values``. Returns advantages and targets (T, N).
        """
        advantages = torch.zeros_like(self.rewards)
        next_advantage = torch.zeros_like(last_values)
        next_values = last_values
        for t in reversed(range(self.steps)):
            not_done = 1.0 - self.dones[t]
            delta = self.rewards[t] + gamma * next_values * not_done - self.values[t]
            next_advantage = delta + gamma * lam * not_done * next_advantage
            advantages[t] = next_advantage
            next_values = self.values[t]
        return advantages, advantages + self.values


class ReplayBuffer:
    """A ring of the last ``capacity`` transitions ``(s, a, r, s', terminated, done)``, written
    one vector step of ``N`` environments at a time (environment ``e``'s next transition is
    ``N`` slots further on), so :meth:`sample` can read n-step returns from it.

    ``done`` marks an episode's last transition (terminated or truncated by a time limit);
    ``s'`` is then the episode's true last observation.
    """

    FIELDS = ("obs", "next_obs", "actions", "rewards", "terminated", "dones")

    def __init__(self, capacity: int, obs_size: int, device: torch.device) -> None:
        self.capacity = capacity
        self.device = device
        self.obs = torch.zeros(capacity, obs_size, device=device)
        self.next_obs = torch.zeros(capacity, obs_size, device=device)
        self.actions = torch.zeros(capacity, dtype=torch.long, device=device)
        self.rewards = torch.zeros(capacity, device=device)
        self.terminated = torch.zeros(capacity, device=device)
        self.dones = torch.zeros(capacity, device=device)
        self.position = 0  # next slot to write
        self.size = 0
        self.width = 1  # transitions per vector step (the number of environments)
        self._constants_key: tuple[int, float, int] | None = None
        self._constants: tuple[torch.Tensor, torch.Tensor] = (torch.zeros(0), torch.zeros(0))

    def add(
        self,
        obs: torch.Tensor,
        actions: torch.Tensor,
        rewards: torch.Tensor,
        next_obs: torch.Tensor,
        terminated: torch.Tensor,
        dones: torch.Tensor | None = None,
    ) -> None:
        """Store a batch of ``N`` transitions (one vector step), wrapping around the ring;
        ``dones`` defaults to ``terminated``."""
        count = self.width = len(obs)
        if self.position + count <= self.capacity:  # one contiguous run of slots
            index: slice | torch.Tensor = slice(self.position, self.position + count)
        else:
            index = (torch.arange(count, device=self.device) + self.position) % self.capacity
        dones = terminated if dones is None else dones
        values = (obs, next_obs, actions, rewards, terminated, dones)
        for name, value in zip(self.FIELDS, values, strict=True):
            getattr(self, name)[index] = value
        self.position = (self.position + count) % self.capacity
        self.size = min(self.capacity, self.size + count)

    def sample(
        self,
        count: int,
        generator: torch.Generator,
        n_step: int = 1,
        gamma: float = 1.0,
        terminal_share: float = 0.0,
        terminal_window: int = 1,
    ) -> dict[str, torch.Tensor]:
        """``count`` transitions drawn uniformly with replacement, as n-step transitions.

        With ``terminal_share`` = q > 0 each draw is, with probability q, redrawn uniformly
        from :meth:`near_terminations` (``terminal_window`` steps): a slot k is drawn with
        probability (1 − q)/M + q·[k near a termination]/|near| of M drawable slots, without
        importance weights.

        From a drawn step t of environment e, the next ``m = min(n, steps to the episode's
        end)`` transitions of e give (Sutton & Barto, 2018, §7.1)::

            R = Σ_{k<m} γ^k·r_{t+k},   s' = s'_{t+m−1},   terminated = terminated_{t+m−1},
            discount = γ^m             (the target is R + discount·(1 − terminated)·max Q(s'))

        With ``n_step`` > 1 the draws leave out the latest ``n − 1`` vector steps (their
        windows are not complete yet). ``slots`` and ``next_slots`` say which rows of
        :attr:`obs` and :attr:`next_obs` hold the transitions' s and s' (draws repeat slots: a
        function of the rows needs computing once per distinct slot).
        """
        span = (n_step - 1) * self.width
        start = self.position if self.size == self.capacity else 0
        draws = max(1, self.size - span)
        index = torch.randint(draws, (count,), generator=generator, device=self.device)
        if start:
            index = (index + start) % self.capacity
        if terminal_share > 0:
            near = self.near_terminations(draws, start, terminal_window)
            if len(near):
                draw = torch.rand(count, generator=generator, device=self.device)
                redrawn = draw < terminal_share
                picks = torch.randint(
                    len(near), (int(redrawn.sum()),), generator=generator, device=self.device
                )
                index[redrawn] = near[picks]
        offsets, powers = self.window_constants(n_step, gamma)
        if n_step == 1:
            last, returns, discounts = index, self.rewards[index], powers[1].expand(count)
        else:
            window = (index[:, None] + offsets) % self.capacity  # (B, n)
            ends = self.dones[window]
            alive = (ends.cumsum(1) - ends) == 0  # no episode end before step k of the window
            returns = (self.rewards[window] * alive) @ powers[:n_step]
            length = alive.sum(1)  # m ∈ [1, n]
            last = window.gather(1, (length - 1)[:, None]).squeeze(1)
            discounts = powers[length]
        return {
            "obs": self.obs[index],
            "actions": self.actions[index],
            "rewards": returns,
            "next_obs": self.next_obs[last],
            "terminated": self.terminated[last],
            "discounts": discounts,
            "slots": index,  # where obs lies in the ring
            "next_slots": last,  # where next_obs lies
        }

    def near_terminations(self, draws: int, start: int, window: int) -> torch.Tensor:
        """The drawable slots (the ``draws`` oldest, from slot ``start`` on) that lie at most
        ``window − 1`` steps of their environment before a drawable terminated transition, the
        terminated one included, each once."""
        terminal = torch.nonzero(self.terminated > 0).squeeze(1)
        order = (terminal - start) % self.capacity  # the age rank of each terminal slot
        order = order[order < draws]
        steps = torch.arange(window, device=self.device) * self.width
        near = (order[:, None] - steps).flatten()
        near = near[near >= 0].unique()
        return (near + start) % self.capacity

    def window_constants(self, n_step: int, gamma: float) -> tuple[torch.Tensor, torch.Tensor]:
        """The slot offsets of a window, ``k·N`` for k < n, and γ^k for k ≤ n (cached)."""
        key = (n_step, gamma, self.width)
        if self._constants_key != key:
            steps = torch.arange(n_step + 1, device=self.device)
            self._constants = (steps[:n_step] * self.width, gamma ** steps.to(self.rewards.dtype))
            self._constants_key = key
        return self._constants

    def state_dict(self) -> dict[str, Any]:
        """The filled part of the ring (a checkpoint holds no empty slots)."""
        filled = slice(0, self.size)
        return {
            "position": self.position,
            "size": self.size,
            "width": self.width,
            **{name: getattr(self, name)[filled].cpu() for name in self.FIELDS},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        missing = [key for key in ("position", "size", "width", *self.FIELDS) if key not in state]
        if missing:  # a replay buffer saved before n-step returns
            raise CheckpointError(
                f"the checkpoint's replay buffer lacks {', '.join(missing)} (saved by an older "
                "gradwise); start a new run instead of resuming this one"
            )
        self.position, self.size = state["position"], state["size"]
        self.width = state["width"]
        for name in self.FIELDS:
            getattr(self, name)[: self.size] = state[name].to(self.device)
