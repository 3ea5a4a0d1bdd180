"""The baseline registry: every entry builds, fits, scores and counts; selection and errors."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.metrics import accuracy_score
from threadpoolctl import threadpool_limits

from gradwise.comparison.baselines import (
    BASELINES,
    SVM_MAX_TRAIN_ROWS,
    FitContext,
    resolve_baselines,
)
from gradwise.comparison.classical import class_scores
from gradwise.errors import ConfigError

INSTALLED = [name for name in BASELINES if BASELINES.get(name).installed()]


def _data(targets: str, n: int = 120, n_targets: int = 1):
    if targets == "labels":
        x, y = make_classification(n, 6, n_informative=4, n_classes=3, random_state=0)
        return x.astype(np.float32), y.astype(np.int64)
    x, y = make_regression(n, 6, n_targets=n_targets, noise=0.1, random_state=0)
    return x.astype(np.float32), ((y - y.mean(0)) / y.std(0)).astype(np.float32)


@pytest.fixture(autouse=True)
def _one_thread():
    """Native thread pools spin on a busy machine; one thread keeps these fits quick."""
    with threadpool_limits(limits=1):
        yield


@pytest.mark.parametrize("name", INSTALLED)
def test_every_baseline_fits_scores_and_counts(name: str):
    entry = BASELINES.get(name)
    for targets in entry.targets:
        for n_targets in (1, 2) if targets == "values" else (1,):
            x, y = _data(targets, n_targets=n_targets)
            context = FitContext(targets, seed=0, n_train=len(x), n_targets=n_targets)
            estimator = entry.build(context)
            estimator.fit(x, y)
            assert entry.count_parameters(estimator) > 0
            if targets == "labels":
                scores = class_scores(estimator, x, np.arange(3), 3)
                assert scores.shape == (len(x), 3)
                # the scores' argmax is the estimator's own prediction
                np.testing.assert_array_equal(scores.argmax(1), estimator.predict(x))
            else:
                assert np.asarray(estimator.predict(x)).shape == y.shape


def test_parameter_counts_match_the_fitted_models():
    x, y = _data("labels")
    context = FitContext("labels", seed=0, n_train=len(x))
    counts = {}
    for name in ("logistic_regression", "knn", "random_forest", "svm"):
        estimator = BASELINES.get(name).build(context).fit(x, y)
        counts[name] = (BASELINES.get(name).count_parameters(estimator), estimator)
    assert counts["logistic_regression"][0] == 3 * 6 + 3  # K·F weights + K intercepts
    assert counts["knn"][0] == len(x) * 6  # the stored training rows
    forest = counts["random_forest"][1]
    assert counts["random_forest"][0] == sum(t.tree_.node_count for t in forest.estimators_)
    svm = counts["svm"][1]
    n_support = int(svm.n_support_.sum())
    assert counts["svm"][0] == n_support * 6 + n_support * 2 + 3  # SVs, dual coefs (K−1), b


def test_class_scores_cover_classes_missing_from_a_small_subset():
    x, y = _data("labels")
    keep = y != 1  # class 1 absent from the training rows
    present = np.unique(y[keep])  # [0, 2]
    local = np.searchsorted(present, y[keep])
    for name in ("logistic_regression", "svm"):  # probabilities and margins
        estimator = BASELINES.get(name).build(FitContext("labels", 0, keep.sum()))
        estimator.fit(x[keep], local)
        scores = class_scores(estimator, x, present, 3)
        assert scores.shape == (len(x), 3)
        assert (scores[:, 1] < scores[:, [0, 2]].min(1)).all()  # never predicted
        predicted = present[estimator.predict(x)]
        assert accuracy_score(predicted, scores.argmax(1)) == 1.0


def test_default_selection_follows_task_and_size():
    small = resolve_baselines(None, "classification", 500)
    assert {"logistic_regression", "knn", "random_forest", "hist_gradient_boosting", "svm"} <= set(
        small
    )
    assert "ridge" not in small
    regression = resolve_baselines(None, "regression", 500)
    assert "ridge" in regression and "logistic_regression" not in regression
    large = resolve_baselines(None, "classification", SVM_MAX_TRAIN_ROWS + 1)
    assert "svm" not in large and "hist_gradient_boosting" in large
    for optional in ("lightgbm", "xgboost"):
        assert (optional in small) == (importlib.util.find_spec(optional) is not None)


def test_unknown_baseline_suggests_the_closest_name():
    with pytest.raises(
        ConfigError,
        match=r"compare\.baselines: unknown baseline 'random_forrest'"
        r" \(did you mean 'random_forest'\?\)",
    ):
        resolve_baselines(["random_forrest"], "classification", 100)


def test_baseline_of_the_other_task_is_refused():
    with pytest.raises(ConfigError, match="'ridge' is for regression, not classification"):
        resolve_baselines(["ridge"], "classification", 100)


def test_missing_optional_package_is_named(monkeypatch: pytest.MonkeyPatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "lightgbm" else real(name)
    )
    with pytest.raises(
        ConfigError, match="'lightgbm' needs the 'lightgbm' package, which is not installed"
    ):
        resolve_baselines(["lightgbm"], "classification", 100)
    assert "lightgbm" not in resolve_baselines(None, "classification", 100)


def test_named_svm_on_large_data_runs_with_a_warning():
    with pytest.warns(UserWarning, match="'svm' on 20000 training rows"):
        assert resolve_baselines(["svm"], "classification", 20_000) == ["svm"]


def test_a_task_without_targets_has_no_comparison(monkeypatch: pytest.MonkeyPatch):
    from gradwise.comparison.runner import resolve_metric
    from gradwise.tasks import TASKS, Paradigm

    monkeypatch.setitem(TASKS._entries, "no_targets", type("NoTargets", (Paradigm,), {}))
    assert resolve_metric(None, "regression") == "rmse"
    with pytest.raises(ConfigError, match="task 'no_targets' has no labels or values to predict"):
        resolve_metric(None, "no_targets")
    assert resolve_baselines(None, "no_targets", 100) == []
