"""Fitting one classical baseline on a split's training rows and measuring it.

The baseline sees the flattened features of exactly the rows the deep models train on
(``x.reshape(n, -1)``, already preprocessed by the split's own preprocessor), never the
validation split; it is scored on the test split with the same metric code as the deep models.
The training score is measured on the rows it was fitted on (after ``data.sampling``).
"""

from __future__ import annotations

import pickle
import time
import warnings
from typing import Any

import numpy as np

from gradwise.comparison.baselines import BASELINES, FitContext
from gradwise.comparison.records import FitRecord, flat_features, predict_ms_per_1000, task_metrics


def class_scores(estimator: Any, x: np.ndarray, present: np.ndarray, n_classes: int) -> np.ndarray:
    """Scores ``(N, K)`` over all K classes, read as logits by the metrics.

    ``present`` maps the estimator's class positions to class indices (a small training subset
    may lack a rare class: its column gets a score far below every other). Probabilistic models
    give log-probabilities; margin models (SVC) their one-vs-rest decision values, and a binary
    margin ``s`` becomes the logits ``[0, s]`` (softmax → sigmoid(s) for the positive class).
    """
    if hasattr(estimator, "predict_proba"):
        raw = np.log(np.clip(estimator.predict_proba(x), 1e-12, None))  # (N, k_present)
    else:
        raw = np.asarray(estimator.decision_function(x), dtype=np.float64)
        if raw.ndim == 1:  # binary margin (N,) → logits (N, 2)
            raw = np.stack([np.zeros_like(raw), raw], axis=1)
    columns = present[np.asarray(estimator.classes_, dtype=np.int64)]
    scores = np.full((len(x), n_classes), raw.min() - 30.0)
    scores[:, columns] = raw
    return scores


def fit_classical(
    name: str, config: Any, subset: Any, task: Any, seed: int, fraction: float, threads: int = 1
) -> FitRecord:
    """Fit baseline ``name`` on the training rows of ``subset`` (a split whose training part is
    the learning-curve subset); measure it on those rows and on the test split.

    ``data.sampling`` is applied exactly as for the deep models (same function, same seed).
    """
    entry = BASELINES.get(name)
    x_sampled, y_train = task.training_arrays(config.model_copy(update={"seed": seed}), subset)
    layout = subset.preprocessor.table_layout
    x_train, x_test = flat_features(x_sampled, layout), flat_features(subset.x_test, layout)
    classification = task.target_kind == "labels"
    n_targets = 1 if classification or y_train.ndim == 1 else y_train.shape[1]
    estimator = entry.build(FitContext(task.target_kind, seed, len(y_train), n_targets, threads))

    present = np.unique(y_train) if classification else np.empty(0, dtype=np.int64)
    y_fit = np.searchsorted(present, y_train) if classification else y_train

    def outputs(x: np.ndarray) -> np.ndarray:
        if classification:
            return class_scores(estimator, x, present, task.n_classes)
        return np.asarray(estimator.predict(x)).reshape((len(x), *y_train.shape[1:]))

    with warnings.catch_warnings():
        # defaults are part of the baseline: a capped solver is reported by its score
        warnings.filterwarnings("ignore", message=".*(converge|max_iter|iterations).*")
        started = time.perf_counter()
        estimator.fit(x_train, y_fit)
        fit_time = time.perf_counter() - started
    test = task_metrics(task, outputs(x_test), subset.y_test)
    train = task_metrics(task, outputs(x_train), y_train)
    return FitRecord(
        model=name,
        family="classical",
        seed=seed,
        fraction=fraction,
        n_train=len(subset.x_train),
        test=test,
        train=train,
        fit_time=fit_time,
        predict_ms_per_1000=predict_ms_per_1000(outputs, x_test),
        parameters=entry.count_parameters(estimator),
        size_bytes=len(pickle.dumps(estimator, protocol=pickle.HIGHEST_PROTOCOL)),
    )
