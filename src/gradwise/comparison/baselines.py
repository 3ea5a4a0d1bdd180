"""Classical baselines by name (``compare.baselines``): scikit-learn models, and LightGBM/XGBoost
when those packages are installed.

Each entry knows how to build an unfitted estimator for a kind of target (class ``labels`` or
real ``values``, a paradigm's ``target_kind``), how many numbers the fitted model learned or stores
(its "parameters"), which target kinds it serves and when it does not apply::

    entry = BASELINES.get("random_forest")
    estimator = entry.build(FitContext("labels", seed=0, n_train=3500))
    estimator.fit(x_train, y_train)
    entry.count_parameters(estimator)  # tree nodes over all trees

What counts as a parameter differs by family, so the table says it in one word per entry:
coefficients (linear), stored values (k-NN keeps its training rows), tree nodes (forests and
boosting), support-vector values (SVM). Hyperparameters are the libraries' defaults (a baseline is
a fair first try, not a tuned model); importing this module does not import scikit-learn.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradwise.errors import ConfigError
from gradwise.registry import Registry
from gradwise.tasks import TASKS

ANY_TARGETS = ("labels", "values")  # what a baseline serves unless it says otherwise
SVM_MAX_TRAIN_ROWS = 10_000  # kernel SVMs cost O(n²)–O(n³) in training rows


@dataclass(frozen=True)
class FitContext:
    """What a builder may depend on."""

    targets: str  # "labels" (class indices) | "values" (real numbers): the task's target_kind
    seed: int
    n_train: int  # training rows of this fit
    n_targets: int = 1  # value outputs; >1 wraps single-output models
    threads: int = 1  # CPU threads the estimator may use (n_jobs)


@dataclass(frozen=True)
class Baseline:
    name: str
    build: Callable[[FitContext], Any]  # an unfitted scikit-learn-style estimator
    count_parameters: Callable[[Any], int]  # learned/stored numbers of a fitted estimator
    counts: str  # what the parameter count counts, for the table's readers
    targets: tuple[str, ...] = ANY_TARGETS  # target kinds it serves
    requires: str | None = None  # a package that must be importable
    max_train_rows: int | None = None  # not applied by default beyond this size

    def installed(self) -> bool:
        return self.requires is None or importlib.util.find_spec(self.requires) is not None

    def applies(self, targets: str | None, n_train: int) -> bool:
        """Part of the default selection for this target kind and training size?"""
        fits_size = self.max_train_rows is None or n_train <= self.max_train_rows
        return targets in self.targets and self.installed() and fits_size


BASELINES: Registry[Baseline] = Registry("baseline", key="compare.baselines")


def baseline(
    name: str,
    *,
    count: Callable[[Any], int],
    counts: str,
    targets: tuple[str, ...] = ANY_TARGETS,
    requires: str | None = None,
    max_train_rows: int | None = None,
) -> Callable[[Callable[[FitContext], Any]], Callable[[FitContext], Any]]:
    """Decorator registering a builder ``(FitContext) -> estimator`` under ``name``."""

    def add(build: Callable[[FitContext], Any]) -> Callable[[FitContext], Any]:
        entry = Baseline(name, build, _per_output(count), counts, targets, requires, max_train_rows)
        BASELINES.register(name)(entry)
        return build

    return add


def resolve_baselines(names: list[str] | None, task: str, n_train: int) -> list[str]:
    """The baselines to run for ``task`` (a paradigm name; baselines serve its target kind):
    the named ones (checked), or every one that applies by default."""
    targets = TASKS.get(task).target_kind
    if names is None:
        return [name for name in BASELINES if BASELINES.get(name).applies(targets, n_train)]
    for name in names:
        entry = BASELINES.get(name)  # unknown name: ConfigError with did-you-mean
        if targets not in entry.targets:
            alternatives = [n for n in BASELINES if targets in BASELINES.get(n).targets]
            raise ConfigError(
                f"compare.baselines: '{name}' is for {' and '.join(tasks_for(entry.targets))}, "
                f"not {task}; choose from: {', '.join(alternatives) or '(none)'}"
            )
        if not entry.installed():
            raise ConfigError(
                f"compare.baselines: '{name}' needs the '{entry.requires}' package, which is not "
                f"installed (pip install {entry.requires})"
            )
        if entry.max_train_rows is not None and n_train > entry.max_train_rows:
            warnings.warn(
                f"compare.baselines: '{name}' on {n_train} training rows (above "
                f"{entry.max_train_rows}) may take very long",
                stacklevel=2,
            )
    return list(names)


def tasks_for(targets: tuple[str, ...]) -> list[str]:
    """The registered tasks whose targets are of one of the kinds ``targets``."""
    return [name for name in TASKS if TASKS.get(name).target_kind in targets]


# ----------------------------------------------------------------------- parameter counts
def _per_output(count: Callable[[Any], int]) -> Callable[[Any], int]:
    """Sum over the per-target models of a multi-output wrapper."""

    def counted(estimator: Any) -> int:
        inner = getattr(estimator, "estimators_", None)
        if type(estimator).__name__ == "MultiOutputRegressor" and inner is not None:
            return sum(count(e) for e in inner)
        return int(count(estimator))

    return counted


def linear_coefficients(model: Any) -> int:
    return int(np.size(model.coef_) + np.size(model.intercept_))


def stored_training_values(model: Any) -> int:
    return int(model.n_samples_fit_ * model.n_features_in_)


def forest_nodes(model: Any) -> int:
    return sum(int(tree.tree_.node_count) for tree in model.estimators_)


def hist_boosting_nodes(model: Any) -> int:
    return sum(len(predictor.nodes) for stage in model._predictors for predictor in stage)


def support_vector_values(model: Any) -> int:
    return int(
        np.size(model.support_vectors_) + np.size(model.dual_coef_) + np.size(model.intercept_)
    )


def lightgbm_nodes(model: Any) -> int:
    trees = model.booster_.dump_model()["tree_info"]
    return sum(2 * int(tree["num_leaves"]) - 1 for tree in trees)


def xgboost_nodes(model: Any) -> int:
    dump = model.get_booster().get_dump()
    return sum(sum(1 for line in tree.splitlines() if line.strip()) for tree in dump)


def _multi_output(estimator: Any, context: FitContext) -> Any:
    if context.targets == "values" and context.n_targets > 1:
        from sklearn.multioutput import MultiOutputRegressor

        return MultiOutputRegressor(estimator)
    return estimator


# ---------------------------------------------------------------------------- the models
@baseline(
    "logistic_regression",
    count=linear_coefficients,
    counts="coefficients",
    targets=("labels",),
)
def logistic_regression(context: FitContext) -> Any:
    """Multinomial logistic regression, L2 (C=1), lbfgs."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=2000)


@baseline("ridge", count=linear_coefficients, counts="coefficients", targets=("values",))
def ridge(context: FitContext) -> Any:
    """Least squares with an L2 penalty (alpha=1)."""
    from sklearn.linear_model import Ridge

    return Ridge(alpha=1.0)


@baseline("knn", count=stored_training_values, counts="stored values")
def knn(context: FitContext) -> Any:
    """k-nearest neighbours (k=5, Euclidean); the model is its training rows."""
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    kind = KNeighborsClassifier if context.targets == "labels" else KNeighborsRegressor
    return kind(n_neighbors=min(5, context.n_train), n_jobs=context.threads)


@baseline("random_forest", count=forest_nodes, counts="tree nodes")
def random_forest(context: FitContext) -> Any:
    """100 fully grown trees on bootstrap samples (Breiman, 2001)."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    kind = RandomForestClassifier if context.targets == "labels" else RandomForestRegressor
    return kind(n_estimators=100, random_state=context.seed, n_jobs=context.threads)


@baseline("hist_gradient_boosting", count=hist_boosting_nodes, counts="tree nodes")
def hist_gradient_boosting(context: FitContext) -> Any:
    """Histogram gradient boosting (LightGBM-style; Ke et al., 2017), scikit-learn defaults."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    if context.targets == "labels":
        return HistGradientBoostingClassifier(random_state=context.seed)
    return _multi_output(HistGradientBoostingRegressor(random_state=context.seed), context)


@baseline(
    "svm",
    count=support_vector_values,
    counts="support-vector values",
    max_train_rows=SVM_MAX_TRAIN_ROWS,
)
def svm(context: FitContext) -> Any:
    """Support-vector machine with an RBF kernel (C=1, gamma='scale')."""
    from sklearn.svm import SVC, SVR

    if context.targets == "labels":
        return SVC(kernel="rbf", C=1.0, gamma="scale")
    return _multi_output(SVR(kernel="rbf", C=1.0, gamma="scale"), context)


@baseline("lightgbm", count=lightgbm_nodes, counts="tree nodes", requires="lightgbm")
def lightgbm(context: FitContext) -> Any:
    """LightGBM gradient-boosted trees (Ke et al., 2017), library defaults."""
    import lightgbm as lgb

    kind = lgb.LGBMClassifier if context.targets == "labels" else lgb.LGBMRegressor
    model = kind(random_state=context.seed, n_jobs=context.threads, verbose=-1)
    return _multi_output(model, context)


@baseline("xgboost", count=xgboost_nodes, counts="tree nodes", requires="xgboost")
def xgboost(context: FitContext) -> Any:
    """XGBoost gradient-boosted trees (Chen & Guestrin, 2016), hist method, library defaults."""
    import xgboost as xgb

    kind = xgb.XGBClassifier if context.targets == "labels" else xgb.XGBRegressor
    model = kind(random_state=context.seed, n_jobs=context.threads, tree_method="hist")
    return _multi_output(model, context)
