"""The tie rule (checked against scipy's paired t statistic) and the verdict's wording."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from gradwise.comparison.verdict import (
    Outcome,
    paired_outcome,
    small_sample_sentence,
    verdict,
)


@pytest.mark.parametrize("trial", range(20))
def test_tie_rule_matches_the_paired_t_statistic(trial: int):
    rng = np.random.default_rng(trial)
    seeds = int(rng.integers(2, 8))
    classical = rng.uniform(0.6, 0.9, seeds)
    deep = classical + rng.normal(rng.uniform(-0.05, 0.05), rng.uniform(0.001, 0.05), seeds)
    outcome = paired_outcome("cnn", "rf", "accuracy", deep.tolist(), classical.tolist(), True, 2.0)
    differences = deep - classical
    # oracle: SE = sd(d, ddof=1)/√S
    assert outcome.difference == pytest.approx(differences.mean())
    assert outcome.standard_error == pytest.approx(differences.std(ddof=1) / math.sqrt(seeds))
    # oracle: |d̄| ≤ t*·SE ⟺ scipy's two-sided paired t-test does not reject at the 5% level
    test = stats.ttest_rel(deep, classical)
    expected = "tie" if test.pvalue >= 0.05 else ("win" if test.statistic > 0 else "loss")
    assert outcome.result == expected
    assert outcome.critical_value == pytest.approx(stats.t.ppf(0.975, seeds - 1))


def test_three_seeds_use_students_t_not_two_standard_errors():
    # d = 0.02, 0.03, 0.005: d̄ = 0.0183, SE = 0.00726, t = 2.52 > 2 but < t(0.975, 2) = 4.30
    outcome = paired_outcome("mlp", "rf", "accuracy", [0.92, 0.93, 0.905], [0.9] * 3, True, 1.0)
    assert outcome.difference / outcome.standard_error == pytest.approx(2.5236, abs=1e-4)
    assert outcome.critical_value == pytest.approx(4.3027, abs=1e-4)
    assert outcome.result == "tie"
    assert outcome.to_dict()["rule"] == (
        "tie when |mean d| <= t(0.975, 2) SE = 4.3 SE (paired t-test, 5% level)"
    )


def test_equal_models_are_called_different_about_5_percent_of_the_time():
    # 2000 comparisons of two equally good models at S = 3: the 2·SE rule said "win" or
    # "loss" on 18% of them; the t rule's false-alarm rate is the test's level, 5%
    rng = np.random.default_rng(0)
    calls = [
        paired_outcome(
            "mlp", "rf", "accuracy", list(rng.normal(0.8, 0.01, 3)), [0.8] * 3, True, 1
        ).result
        for _ in range(2000)
    ]
    false_alarms = sum(result != "tie" for result in calls) / len(calls)
    assert 0.035 < false_alarms < 0.065  # 5% ± 3 binomial standard errors


def test_lower_is_better_flips_the_sign_for_errors():
    # deep RMSE 10 below the classical one on every seed (± 1): a win
    outcome = paired_outcome("mlp", "ridge", "rmse", [90, 91, 89], [100, 100, 100], False, 3.0)
    assert outcome.difference == pytest.approx(10.0)
    assert outcome.result == "win"


def test_difference_inside_the_noise_is_a_tie():
    # per-seed differences +0.03, −0.02, +0.01: mean 0.0067, SE 0.0145 → tie
    outcome = paired_outcome("mlp", "rf", "accuracy", [0.83, 0.78, 0.81], [0.8] * 3, True, 1.0)
    assert outcome.result == "tie"


def test_one_seed_never_claims_a_winner():
    outcome = paired_outcome("mlp", "rf", "accuracy", [0.99], [0.5], True, 1.0)
    assert outcome.result == "undecided" and math.isnan(outcome.standard_error)
    assert "one seed" in verdict(outcome) and "beats" not in verdict(outcome)
    assert "no win or loss is claimed" in outcome.to_dict()["rule"]


def _outcome(
    difference: float,
    se: float,
    result: str,
    metric: str = "accuracy",
    ratio: float = 9.0,
    classical_value: float = 0.7,
) -> Outcome:
    return Outcome(
        "cnn1d",
        "hist_gradient_boosting",
        metric,
        difference,
        se,
        [],
        result,
        ratio,
        classical_value,
    )


def test_win_wording():
    assert verdict(_outcome(0.224, 0.011, "win")) == (
        "cnn1d beats the best classical model (hist_gradient_boosting) by 22.4 ± 1.1 points of "
        "accuracy at 9.0× its training time; deep learning is worth it here."
    )


def test_loss_wording():
    assert verdict(_outcome(-0.031, 0.004, "loss", ratio=20.0)) == (
        "The best classical model (hist_gradient_boosting) beats cnn1d by 3.1 ± 0.4 points of "
        "accuracy at 0.05× its training time; deep learning is not worth it here: stay with "
        "hist_gradient_boosting."
    )


def test_tie_wording():
    assert verdict(_outcome(-0.004, 0.005, "tie", ratio=31.0)) == (
        "cnn1d is within noise of the best classical model (hist_gradient_boosting): 0.4 ± 0.5 "
        "points of accuracy worse, at 31× its training time; stay with hist_gradient_boosting."
    )


def test_error_metric_wording_gives_units_and_share():
    text = verdict(_outcome(12.5, 1.25, "win", metric="rmse", classical_value=250.0))
    assert "by 12.5 ± 1.2 of rmse (5.0%) at 9.0× its training time" in text
    text = verdict(_outcome(13.9, 0.516, "win", metric="rmse", classical_value=229.1))
    assert "by 13.90 ± 0.52 of rmse (6.1%)" in text


def test_small_sample_sentence_only_when_the_story_changes():
    full = _outcome(0.1, 0.01, "win")
    small = _outcome(-0.05, 0.01, "loss")
    assert small_sample_sentence(full, small, 0.1, 350) == (
        "With 10% of the training rows (350) hist_gradient_boosting leads cnn1d by 5.0 ± 1.0 "
        "points of accuracy."
    )
    assert small_sample_sentence(full, _outcome(0.2, 0.01, "win"), 0.1, 350) == ""
    assert verdict(full, (small, 0.1, 350)).endswith("leads cnn1d by 5.0 ± 1.0 points of accuracy.")
