"""The verdict: does the best deep model beat the best classical one by more than the noise?

Both models were measured on the same S seeds (same split, same training rows per seed), so
the comparison is paired. With the metric oriented so that larger is better (sign = +1 for
accuracy/F1/AUC/R², −1 for RMSE/MAE)::

    d_s = sign · (deep_s − classical_s)            per seed s = 1..S
    d̄  = (1/S) Σ_s d_s                            (= the difference of the two means)
    SE  = sqrt( Σ_s (d_s − d̄)² / (S − 1) ) / √S   (standard error of the paired mean)

    t*  = t_{0.975, S−1}                          (Student's t quantile: 12.71 at S = 2,
                                                    4.30 at S = 3, 2.78 at S = 5)

    tie   when |d̄| ≤ t* · SE                       (the 95% interval of the mean contains 0)
    win   when  d̄ > t* · SE  (deep learning is worth it)
    loss  when  d̄ < −t* · SE (stay with the classical model)

This is the two-sided paired t-test at the 5% level (Student, 1908): with equal models a win or
a loss is called on 5% of comparisons whatever S is. A fixed 2 · SE would call 18% of equal pairs
a win or loss at S = 3 and 30% at S = 2, because SE estimated from a few seeds is itself noisy.
With one seed SE cannot be estimated and no winner is claimed ("undecided"). Pairing removes the
split-to-split variation both models share, so SE is usually smaller than the spread of either
model alone; the rule never calls a difference inside that noise a win.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from statistics import fmean
from typing import Any

CONFIDENCE = 0.95  # two-sided: the tie band is the 95% interval of the mean paired difference
POINT_METRICS = ("accuracy", "f1", "auc", "r2")  # shares: differences read in points (×100)


@dataclass
class Outcome:
    deep: str
    classical: str
    metric: str
    difference: float  # d̄, positive when the deep model is better
    standard_error: float  # SE of d̄ (NaN with one seed)
    differences: list[float]  # d_s per seed
    result: str  # win | tie | loss | undecided (for the deep model)
    time_ratio: float  # deep fit time / classical fit time
    classical_value: float  # mean of the classical model's metric (relative sizes for errors)
    critical_value: float = math.nan  # t*: Student's t quantile for S − 1 degrees of freedom

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rule": rule(len(self.differences))}


def critical_value(seeds: int) -> float:
    """t* = t_{0.975, S−1}, the half-width of the 95% interval in standard errors (NaN if S < 2)."""
    if seeds < 2:
        return math.nan
    from scipy import stats

    return float(stats.t.ppf(0.5 + CONFIDENCE / 2, seeds - 1))


def rule(seeds: int) -> str:
    """The tie rule as applied to ``seeds`` paired values, in words (stored in compare.json)."""
    if seeds < 2:
        return "one seed: the noise cannot be estimated, no win or loss is claimed"
    return (
        f"tie when |mean d| <= t(0.975, {seeds - 1}) SE = {critical_value(seeds):.3g} SE "
        "(paired t-test, 5% level)"
    )


def paired_outcome(
    deep: str,
    classical: str,
    metric: str,
    deep_values: list[float],
    classical_values: list[float],
    higher_is_better: bool,
    time_ratio: float,
) -> Outcome:
    """Apply the tie rule (module docstring) to per-seed values of two models."""
    if len(deep_values) != len(classical_values) or not deep_values:
        raise ValueError("paired comparison needs the same non-empty list of seeds for both")
    sign = 1.0 if higher_is_better else -1.0
    differences = [sign * (a - b) for a, b in zip(deep_values, classical_values, strict=True)]
    seeds = len(differences)
    mean = fmean(differences)
    threshold = critical_value(seeds)
    if seeds < 2:
        standard_error, result = math.nan, "undecided"
    else:
        variance = sum((d - mean) ** 2 for d in differences) / (seeds - 1)
        standard_error = math.sqrt(variance / seeds)
        if abs(mean) <= threshold * standard_error:
            result = "tie"
        else:
            result = "win" if mean > 0 else "loss"
    return Outcome(
        deep,
        classical,
        metric,
        mean,
        standard_error,
        differences,
        result,
        time_ratio,
        fmean(classical_values),
        threshold,
    )


def amount(outcome: Outcome) -> str:
    """The size of the difference: ``22.4 ± 1.1 points of accuracy`` (shares, ×100) or
    ``123.4 ± 5.6 of rmse (8.1%)`` (errors in target units, to the standard error's second
    significant digit, with the share of the classical model's value)."""
    size, se = abs(outcome.difference), outcome.standard_error
    if outcome.metric in POINT_METRICS:
        spread = "" if math.isnan(se) else f" ± {100 * se:.1f}"
        return f"{100 * size:.1f}{spread} points of {outcome.metric}"
    reference = abs(outcome.classical_value)
    relative = f" ({size / reference:.1%})" if reference > 0 else ""
    if math.isnan(se):
        return f"{size:.4g} of {outcome.metric}{relative}"
    # both to the decimals of the standard error's second significant digit
    decimals = max(0, 1 - math.floor(math.log10(se))) if se > 0 else 2
    return f"{size:.{decimals}f} ± {se:.{decimals}f} of {outcome.metric}{relative}"


def direction(outcome: Outcome) -> str:
    """``better``/``worse`` for the deep model, with the difference's size."""
    return f"{amount(outcome)} {'better' if outcome.difference > 0 else 'worse'}"


def times(ratio: float) -> str:
    if not math.isfinite(ratio):
        return "?×"
    if ratio >= 10:
        return f"{ratio:.0f}×"
    return f"{ratio:.1f}×" if ratio >= 1 else f"{ratio:.2g}×"


def _win(o: Outcome) -> str:
    return (
        f"{o.deep} beats the best classical model ({o.classical}) by {amount(o)} at "
        f"{times(o.time_ratio)} its training time; deep learning is worth it here."
    )


def _loss(o: Outcome) -> str:
    inverse = 1 / o.time_ratio if o.time_ratio > 0 else math.inf
    return (
        f"The best classical model ({o.classical}) beats {o.deep} by {amount(o)} at "
        f"{times(inverse)} its training time; deep learning is not worth it here: stay with "
        f"{o.classical}."
    )


def _tie(o: Outcome) -> str:
    return (
        f"{o.deep} is within noise of the best classical model ({o.classical}): "
        f"{direction(o)}, at {times(o.time_ratio)} its training time; stay with {o.classical}."
    )


def _undecided(o: Outcome) -> str:
    return (
        f"{o.deep} against the best classical model ({o.classical}): {direction(o)}, at "
        f"{times(o.time_ratio)} its training time, measured on one seed, which cannot tell a "
        "difference from noise; run with --seeds 3 or more before choosing."
    )


SENTENCES = {"win": _win, "loss": _loss, "tie": _tie, "undecided": _undecided}


def sentence(outcome: Outcome) -> str:
    """The verdict for the whole training split, in one sentence."""
    return SENTENCES[outcome.result](outcome)


def small_sample_sentence(full: Outcome, small: Outcome, fraction: float, n_train: int) -> str:
    """A second sentence when the smallest training share tells a different story."""
    if small.result == full.result or small.result == "undecided":
        return ""
    where = f"With {fraction:.0%} of the training rows ({n_train})"
    if small.result == "win":
        return f"{where} {small.deep} leads {small.classical} by {amount(small)}."
    if small.result == "loss":
        return f"{where} {small.classical} leads {small.deep} by {amount(small)}."
    return (
        f"{where} {small.deep} and {small.classical} are within noise "
        f"({small.deep} {direction(small)})."
    )


def verdict(full: Outcome, small: tuple[Outcome, float, int] | None = None) -> str:
    text = sentence(full)
    if small is not None:
        extra = small_sample_sentence(full, *small)
        if extra:
            text = f"{text} {extra}"
    return text
