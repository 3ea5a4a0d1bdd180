"""scikit-learn's own estimator checks (``parametrize_with_checks``) on both estimators, with
an MLP and, for a second model kind, an LSTM regressor.

The check instances train small models for a few epochs so that the whole suite stays fast; a
check that cannot apply is declared in :data:`EXPECTED_FAILURES` with its reason and runs as a
strict expected failure (the suite fails if it starts passing)."""

from __future__ import annotations

from typing import Any

from sklearn.utils.estimator_checks import parametrize_with_checks

from gradwise.sklearn import NeuralClassifier, NeuralRegressor

FAST = {"hidden": (16,), "epochs": 15, "lr": 1e-2, "batch_size": 32, "device": "cpu"}
LSTM = {**FAST, "hidden": None, "options": {"model.hidden_size": 8}}
CHECKED = [NeuralClassifier(**FAST), NeuralRegressor(**FAST), NeuralRegressor("rnn", **LSTM)]

# (estimator class, model kind) -> {check name: why it cannot pass}
EXPECTED_FAILURES: dict[tuple[str, str | None], dict[str, str]] = {
    ("NeuralRegressor", "rnn"): {
        "check_regressors_train": "an LSTM reads the 10 unordered columns of the check's "
        "table as a 10-step sequence: R² 0.28 after 15 epochs, below the check's 0.5 (a "
        "model kind for sequences; the mlp instance reaches 0.85)",
    },
}


def expected_failures(estimator: Any) -> dict[str, str]:
    return EXPECTED_FAILURES.get((type(estimator).__name__, estimator.model), {})


@parametrize_with_checks(CHECKED, expected_failed_checks=expected_failures, xfail_strict=True)
def test_sklearn_estimator_checks(estimator: Any, check: Any) -> None:
    check(estimator)
