"""``NeuralClassifier`` and ``NeuralRegressor``: gradwise models as scikit-learn estimators."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d

from gradwise.data.targets import TargetEncoder
from gradwise.sklearn._base import NeuralEstimator
from gradwise.sklearn._params import InputError


def _check_length(y: np.ndarray, n_rows: int) -> None:
    if len(y) != n_rows:
        raise InputError(f"y: has {len(y)} values but X has {n_rows} rows; one target per row")


class NeuralClassifier(ClassifierMixin, NeuralEstimator):
    """A gradwise model (any ``model.kind``: mlp, cnn1d, cnn2d, rnn, ...) trained for
    classification by gradwise's engine, as a scikit-learn classifier.

    Every parameter left at None keeps the value of ``config=`` (an experiment YAML path or
    dict) or gradwise's default; ``options`` sets any other experiment key by its dotted name.

    >>> from gradwise.sklearn import NeuralClassifier
    >>> clf = NeuralClassifier("mlp", hidden=(64,), epochs=30, lr=3e-3, random_state=0)
    >>> clf.fit(X_train, y_train).predict_proba(X_test)  # (n, len(clf.classes_))

    Probabilities are the softmax of the model's logits, ``p_k = exp(z_k) / Σ_j exp(z_j)``
    (the sigmoid of the one logit with ``loss="bce"``), columns in the order of ``classes_``.
    """

    task: ClassVar[str] = "classification"

    def _target_validation(self) -> dict[str, Any]:
        return {"multi_output": False}

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> NeuralClassifier:
        """One more epoch on ``X, y`` (constant learning rate, the optimizer's state carried
        over). The first call fixes the preprocessing and the classes: those of ``y``, or
        ``classes`` when ``y`` does not hold them all yet."""
        return self._partial_fit(X, y, classes=classes)

    def _check_targets(self, y: Any, n_rows: int, reset: bool, classes: Any = None) -> np.ndarray:
        """Class indices into ``classes_`` (set from ``y``, or ``classes`` of a first
        ``partial_fit``)."""
        y = column_or_1d(check_array(y, ensure_2d=False, dtype=None, input_name="y"), warn=True)
        _check_length(y, n_rows)
        check_classification_targets(y)
        if reset:
            labels = np.unique(y if classes is None else np.asarray(classes))
            if len(labels) < 2:
                found = f"1 class ({labels[0]!r})" if len(labels) else "no class"
                raise InputError(
                    f"y: {type(self).__name__} needs samples of at least 2 classes, found {found}"
                )
            self.classes_ = labels
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise InputError(
                f"classes: {list(np.unique(classes))} differ from the classes of the first "
                f"partial_fit, {list(self.classes_)}"
            )
        codes = np.searchsorted(self.classes_, y).clip(0, len(self.classes_) - 1)
        unknown = self.classes_[codes] != y
        if unknown.any():
            raise InputError(
                f"y: labels {sorted(set(np.asarray(y)[unknown].tolist()))[:5]} are not among "
                f"the classes {list(self.classes_)} (give every class in classes= to the first "
                "partial_fit)"
            )
        return codes.astype(np.int64)

    def _target_encoder(self, targets: np.ndarray, config: Any) -> TargetEncoder:
        return TargetEncoder("labels", None, classes=list(range(len(self.classes_))))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, n_classes)``, columns in the order of ``classes_``."""
        import torch

        from gradwise.training.metrics import class_probabilities

        outputs = torch.as_tensor(self._outputs(X))
        return class_probabilities(outputs).numpy().astype(np.float64)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row."""
        check_is_fitted(self, "module_")
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


class NeuralRegressor(RegressorMixin, NeuralEstimator):
    """A gradwise model trained for regression by gradwise's engine, as a scikit-learn
    regressor; ``y`` may hold several targets ``(n, k)`` (one output each). Targets are
    standardized on the training rows, ``(y - mean) / std``, and predictions mapped back.

    >>> from gradwise.sklearn import NeuralRegressor
    >>> reg = NeuralRegressor(hidden=(64, 64), epochs=50, random_state=0).fit(X, y)
    >>> reg.score(X_test, y_test)  # R²
    """

    task: ClassVar[str] = "regression"

    def _target_validation(self) -> dict[str, Any]:
        return {"multi_output": True, "y_numeric": True}

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # y of shape (n, k): one output per target
        return tags

    def partial_fit(self, X: Any, y: Any) -> NeuralRegressor:
        """One more epoch on ``X, y`` (constant learning rate, the optimizer's state carried
        over); the first call fixes the preprocessing and the target scaling."""
        return self._partial_fit(X, y)

    def _check_targets(self, y: Any, n_rows: int, reset: bool) -> np.ndarray:
        """Float targets ``(n,)`` or ``(n, k)``; later ``partial_fit`` calls keep ``k``."""
        y = check_array(y, ensure_2d=False, dtype="numeric", input_name="y")
        if y.ndim > 2:
            raise InputError(f"y: expected shape (n,) or (n, targets), found {y.shape}")
        _check_length(y, n_rows)
        width = 1 if y.ndim == 1 else y.shape[1]
        if reset:
            self._target_shape = y.shape[1:]  # predictions come back as y came in
        elif width != int(np.prod(self._target_shape)):
            fitted = int(np.prod(self._target_shape))
            raise InputError(f"y: {width} target(s), but the first partial_fit had {fitted}")
        return y.astype(np.float64)

    def _target_encoder(self, targets: np.ndarray, config: Any) -> TargetEncoder:
        scale = bool(config.data.options.get("scale_target", True))
        return TargetEncoder.fit(targets, "values", scale=scale)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values, ``(n,)`` or ``(n, k)`` as ``y`` was in ``fit``."""
        check_is_fitted(self, "module_")
        values = self.preprocessor_.decode_predictions(self._outputs(X))
        return values.reshape(len(values), *self._target_shape)
