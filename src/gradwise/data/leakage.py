"""A cheap screen for target leakage: does one input column alone predict the target almost
perfectly?

Each table column (its encoded features together) is fitted alone with a shallow decision tree
(depth :data:`TREE_DEPTH`) on the training rows and scored on the validation rows: accuracy for
labels, R² for values. A column is suspect when its score reaches :data:`NEAR_PERFECT` and, for
labels, its error is at most a tenth of always guessing the majority class (so that a table with
one class in 99.9% of its rows does not count). A model is not expected to be that good from one
column of honest data; a copy of the target, a later measurement of it, or a row order that
tracks it is.

Small validation splits decide nothing (a handful of rows is easily all right): the screen needs
:data:`MIN_ROWS` validation rows, and fits on at most :data:`MAX_ROWS` training rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradwise.data.tabular import feature_names

NEAR_PERFECT = 0.995
TREE_DEPTH = 4
MIN_ROWS = 100
MAX_ROWS = 20_000


def feature_groups(columns: list[dict[str, Any]]) -> dict[str, list[int]]:
    """The encoded feature indices of each table column, from the column specs in order."""
    groups: dict[str, list[int]] = {}
    position = 0
    for spec in columns:
        width = len(feature_names([spec]))
        groups[spec["name"]] = list(range(position, position + width))
        position += width
    return groups


def screen(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_valid: np.ndarray,
    y_valid: np.ndarray,
    groups: dict[str, list[int]],
    labels: bool,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """The columns that alone score :data:`NEAR_PERFECT` or more, best first, each as
    ``{"column", "metric", "score"}``; ``[]`` when the validation split is too small."""
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    if len(y_valid) < MIN_ROWS or len(y_train) == 0:
        return []  # too few rows to tell
    y_train, y_valid = y_train.reshape(len(y_train), -1), y_valid.reshape(len(y_valid), -1)
    if y_train.shape[1] != 1:
        return []  # several targets
    y_train, y_valid = y_train[:, 0], y_valid[:, 0]
    if len(y_train) > MAX_ROWS:
        keep = np.random.default_rng(seed).choice(len(y_train), MAX_ROWS, replace=False)
        x_train, y_train = x_train[keep], y_train[keep]
    model = DecisionTreeClassifier if labels else DecisionTreeRegressor
    metric = "accuracy" if labels else "r2"
    guessing_error = 1.0 - np.bincount(y_valid).max() / len(y_valid) if labels else None
    suspects = []
    for column, index in groups.items():
        tree = model(max_depth=TREE_DEPTH, random_state=seed).fit(x_train[:, index], y_train)
        score = float(tree.score(x_valid[:, index], y_valid))
        if score < NEAR_PERFECT:
            continue
        if labels and (1.0 - score) > 0.1 * guessing_error:
            continue
        suspects.append({"column": column, "metric": metric, "score": round(score, 6)})
    return sorted(suspects, key=lambda s: -s["score"])
