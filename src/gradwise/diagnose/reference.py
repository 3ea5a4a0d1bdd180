"""What is achievable on a run's data: a quick classical model on the run's own split.

A share of a constant predictor's loss cannot tell a weak model from noisy data (on a noisy
target the best model leaves most of the loss in place). So before the doctor calls a table run
``underfitting`` it fits a reference — scikit-learn's histogram gradient boosting with its
defaults, seconds on tables — on the same training split, scores it on the same validation
split (accuracy for labels, R² for values: R² does not change with the target's scaling), and
reports underfitting only when the reference is clearly better (:data:`CLEARLY_BETTER`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

CLEARLY_BETTER = 0.02  # accuracy or R² points the reference must be ahead by
METRICS = {"labels": "accuracy", "values": "r2"}
MAX_ROWS = 50_000  # training rows the reference fits on (a random subset beyond)


@dataclass(frozen=True)
class Reference:
    model: str
    metric: str
    score: float


def reference_score(evidence: Any) -> Reference | None:
    """The reference's validation score on the run's table (None for other inputs, several
    targets, or a run whose data cannot be read again)."""
    import numpy as np

    profile = evidence.profile
    kind = profile.get("targets")
    if profile.get("input_kind") != "tabular" or kind not in METRICS or profile.get("streamed"):
        return None
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    from gradwise.errors import GradwiseError
    from gradwise.tasks import load_data

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # said when the run was trained
            splits = load_data(evidence.config)
    except (GradwiseError, OSError):
        return None
    if splits is None or splits.y_valid is None or len(splits.y_valid) == 0:
        return None
    x, y = splits.x_train, splits.y_train
    if y.ndim > 1 and y.shape[1] != 1:
        return None
    if len(y) > MAX_ROWS:
        keep = np.random.default_rng(0).choice(len(y), MAX_ROWS, replace=False)
        x, y = x[keep], y[keep]
    if kind == "labels":
        model = HistGradientBoostingClassifier(random_state=0)
    else:
        model = HistGradientBoostingRegressor(random_state=0)
    model.fit(x, y.reshape(len(y)))
    score = float(model.score(splits.x_valid, splits.y_valid.reshape(len(splits.y_valid))))
    return Reference("hist_gradient_boosting", METRICS[kind], score)
