"""Deterministic evaluation: one episode per environment, all stepped together, the greedy
action of the policy at every step; and when a run counts as having solved its environment.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

Policy = Callable[[np.ndarray], np.ndarray]  # (B, D) raw observations → (B,) actions


def run_episodes(
    envs: Sequence[Any],
    policy: Policy,
    seeds: Sequence[int],
    on_frame: Callable[[int, Any], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Play one episode in each of ``envs`` (reset with ``seeds``), the live ones batched into
    one policy call per step; returns each episode's return and length. ``on_frame(i, env)``
    is called after the reset and after every step of episode ``i`` (to record frames)."""
    count = len(seeds)
    obs = [envs[i].reset(seed=int(seeds[i]))[0] for i in range(count)]
    returns = np.zeros(count)
    lengths = np.zeros(count, dtype=np.int64)
    live = list(range(count))
    if on_frame is not None:
        for i in live:
            on_frame(i, envs[i])
    while live:
        actions = policy(np.stack([obs[i] for i in live]))
        still = []
        for action, i in zip(actions, live, strict=True):
            obs[i], reward, terminated, truncated, _ = envs[i].step(int(action))
            returns[i] += reward
            lengths[i] += 1
            if on_frame is not None:
                on_frame(i, envs[i])
            if not (terminated or truncated):
                still.append(i)
        live = still
    return returns, lengths


def greedy_policy(
    act: Callable[[torch.Tensor], torch.Tensor], normalize: Callable[[np.ndarray], torch.Tensor]
) -> Policy:
    """The deterministic policy of a network's ``act`` on normalized observations."""

    @torch.inference_mode()
    def policy(obs: np.ndarray) -> np.ndarray:
        return act(normalize(obs)).cpu().numpy()

    return policy


def sustained_from(evaluations: Sequence[tuple[int, float]], threshold: float | None) -> int | None:
    """The first evaluation step from which every later evaluation stayed ≥ ``threshold``
    (None when the last one is below it, or there is no threshold).

    >>> sustained_from([(5000, 480.0), (10000, 300.0), (15000, 500.0), (20000, 476.0)], 475)
    15000
    """
    if threshold is None or not evaluations:
        return None
    start = None
    for step, value in evaluations:
        if not (math.isfinite(value) and value >= threshold):
            start = None
        elif start is None:
            start = step
    return start
