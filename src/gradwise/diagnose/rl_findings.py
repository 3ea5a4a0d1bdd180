"""Detectors of reinforcement-learning runs (``task: rl``), from ``metrics.jsonl``:

- ``entropy_collapse``: PPO's policy entropy falls to near zero early in training while the
  returns are still low — the policy stopped exploring before it found what earns reward (and
  a near-deterministic policy gives PPO almost no gradient to get out).
- ``value_divergence``: the value estimates (PPO) or Q-values (DQN) grow far beyond any return
  the agent has seen. A state's value is a discounted sum of rewards, so
  |V| ≤ max over episodes of |Σ r| (undiscounted, for non-negative-sum rewards) — estimates ten
  times larger than every return observed have lost touch with the rewards (the "deadly triad"
  of bootstrapping, function approximation and off-policy learning; Sutton & Barto, 2018, §11.3).

Thresholds leave a wide margin (healthy CartPole/Acrobot runs keep ≥ 60% of their initial entropy
through the first half, and value scales below the largest return).
"""

from __future__ import annotations

import math

from gradwise.diagnose import remedies as fix
from gradwise.diagnose.evidence import RunEvidence, finite
from gradwise.diagnose.findings import Finding, detector

COLLAPSED = 0.1  # entropy at ≤ 10% of its first-epoch value counts as collapsed
EARLY = 0.5  # ... within the first half of the epochs
LOW_RETURN = 0.5  # returns below half of the way from the worst to the threshold are "low"
DIVERGED = 10.0  # value scale ≥ 10× the largest |return| seen (and ≥ 10 in absolute terms)
VALUE_SERIES = ("train_q_abs_max", "train_value_abs_max")


def is_rl(evidence: RunEvidence) -> bool:
    return evidence.config.env is not None and evidence.config.agent is not None


def reward_threshold(evidence: RunEvidence) -> float | None:
    value = (evidence.summary.get("eval") or {}).get("reward_threshold")
    return float(value) if isinstance(value, (int, float)) else evidence.config.env.reward_threshold


def returns_low(evidence: RunEvidence, at: int) -> tuple[bool, float | None, float | None]:
    """Whether the returns from epoch index ``at`` on stayed low: their best (training episodes
    and evaluations) below the middle between the worst return and the reward threshold (or
    below half of the run's best return when the environment has no threshold)."""
    later = finite(evidence.series("episode_return")[at:]) + finite(
        evidence.series("eval_return")[at:]
    )
    everything = finite(evidence.series("episode_return")) + finite(evidence.series("eval_return"))
    if not later or not everything:
        return False, None, None
    best_later = max(later)
    threshold = reward_threshold(evidence)
    worst = min(everything)
    if threshold is not None and threshold > worst:
        cutoff = worst + LOW_RETURN * (threshold - worst)
    else:
        cutoff = LOW_RETURN * max(everything) if max(everything) > 0 else -math.inf
    return best_later < cutoff, best_later, cutoff


@detector("entropy_collapse")
def entropy_collapse(evidence: RunEvidence) -> Finding | None:
    if not is_rl(evidence) or evidence.config.agent.name != "ppo":
        return None
    entropy = evidence.series("train_entropy")
    first = next((v for v in entropy if math.isfinite(v)), None)
    if first is None or first <= 0 or len(entropy) < 4:
        return None
    early = max(2, int(EARLY * len(entropy)))
    collapsed = next(
        (e for e in range(early) if math.isfinite(entropy[e]) and entropy[e] <= COLLAPSED * first),
        None,
    )
    if collapsed is None:
        return None
    low, best_later, cutoff = returns_low(evidence, collapsed)
    if not low:
        return None
    config = evidence.config
    return Finding(
        "entropy_collapse",
        "error",
        f"Entropy collapse: the policy's entropy fell from {first:.3g} to {entropy[collapsed]:.2g} "
        f"by epoch {collapsed + 1} of {len(entropy)}, while the returns stayed low (best "
        f"{best_latest_text(best_later)} after that, below {cutoff:.4g}); the policy became "
        "near-deterministic before it found what earns reward, and stopped exploring.",
        {
            "entropy_first": first,
            "entropy_at_collapse": entropy[collapsed],
            "collapse_epoch": collapsed + 1,
            "entropy_final": entropy[-1],
            "best_return_after": best_later,
            "low_return_cutoff": cutoff,
            "ent_coef": config.agent.ent_coef,
            "lr": config.train.optimizer.lr,
        },
        fix.present(
            fix.entropy_bonus(config),
            fix.lower_lr(
                config, "Smaller updates let the policy change gradually instead of locking in."
            ),
            fix.smaller_policy_steps(config),
        ),
    )


def best_latest_text(value: float | None) -> str:
    return "none" if value is None else f"{value:.4g}"


def value_bound(evidence: RunEvidence) -> float:
    """The largest value magnitude the rewards can explain: the largest |return| seen (training
    episodes, evaluations, the reward threshold), or the largest reward per step over 1 − γ
    when that is larger (a time limit cuts episodes short of a value's full horizon); ≥ 1.
    Undiscounted (γ = 1), a value is at most the largest return an episode has."""
    returns = finite(evidence.series("episode_return")) + finite(evidence.series("eval_return"))
    threshold = reward_threshold(evidence)
    seen = max([abs(r) for r in returns] + [abs(threshold) if threshold is not None else 0.0])
    pairs = zip(evidence.series("episode_return"), evidence.series("episode_length"), strict=True)
    per_step = [abs(r) / n for r, n in pairs if math.isfinite(r) and math.isfinite(n) and n > 0]
    gamma = evidence.config.agent.gamma
    horizon = max(per_step, default=0.0) / (1.0 - gamma) if gamma < 1.0 else 0.0
    return max(1.0, seen, horizon)


@detector("value_divergence")
def value_divergence(evidence: RunEvidence) -> Finding | None:
    if not is_rl(evidence):
        return None
    key = next((k for k in VALUE_SERIES if finite(evidence.series(k))), None)
    if key is None:
        return None
    values = evidence.series(key)
    bound = value_bound(evidence)
    scale = finite(values)
    final = scale[-1]
    if not (final >= DIVERGED * bound and final >= 10.0):
        return None
    peak_epoch = 1 + max(
        range(len(values)), key=lambda e: values[e] if math.isfinite(values[e]) else -1
    )
    config = evidence.config
    what = "Q-values" if key == "train_q_abs_max" else "value estimates"
    return Finding(
        "value_divergence",
        "error",
        f"Value divergence: the {what} reached {final:.3g} in magnitude by the last epoch, "
        f"{final / bound:.0f}× the largest return the agent has seen ({bound:.4g}); a value is "
        "a discounted sum of rewards, so these estimates have lost touch with the rewards and "
        "feed the agent meaningless targets.",
        {
            "series": key,
            "value_scale_final": final,
            "value_scale_first": scale[0],
            "peak_epoch": peak_epoch,
            "largest_return_seen": bound,
            "ratio": final / bound,
            "lr": config.train.optimizer.lr,
        },
        fix.present(
            fix.lower_lr(config, "Smaller steps keep the bootstrapped targets from running away."),
            fix.layer_norm_values(config),
            fix.huber_td_loss(config),
            fix.double_q(config),
            fix.slower_target(config),
            fix.clip_gradients(config),
            fix.value_clipping(config),
            fix.normalize_rewards(config),
        ),
    )
