"""The shared body of gradwise's scikit-learn estimators.

The constructor only stores its arguments (scikit-learn's rule, so that ``clone``,
``get_params``/``set_params``, ``GridSearchCV`` and pipelines work); ``fit`` validates them —
types and ranges declaratively (``_parameter_constraints``), names and combinations through
gradwise's own config schema — builds the experiment and trains it through gradwise's engine
(:mod:`._fitting`). Learned state ends in ``_``: ``module_`` (the torch model, CPU, eval mode),
``preprocessor_``, ``config_`` (the resolved experiment), ``history_`` (one dict per epoch),
``best_epoch_``, ``n_features_in_`` and, for DataFrames, ``feature_names_in_``; with
``out=``, ``run_dir_`` (the run directory ``fit`` wrote: ``gradwise report``, ``doctor`` and
``export`` read it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from numbers import Integral, Real
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from gradwise.errors import ConfigError, DataError
from gradwise.sklearn._params import InputError, ParameterError, build_config

# partial_fit: one epoch per call at a constant learning rate, every row trains
PARTIAL_FIT_KEYS: dict[str, Any] = {
    "train.epochs": 1,
    "train.schedule.name": "constant",
    "train.early_stopping": None,
    "data.valid": 0.0,
}


@contextlib.contextmanager
def value_errors() -> Iterator[None]:
    """gradwise's config and data errors as ``ValueError`` subclasses (what scikit-learn
    expects of a bad parameter or bad data), with their one-line message."""
    try:
        yield
    except (ParameterError, InputError):
        raise
    except ConfigError as exc:
        raise ParameterError(str(exc)) from None
    except DataError as exc:
        raise InputError(str(exc)) from None


def _named_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with its column names as text, as gradwise's preprocessing names them."""
    if all(isinstance(name, str) for name in frame.columns):
        return frame
    return frame.rename(columns=str)


class NeuralEstimator(BaseEstimator):
    """Base of :class:`~gradwise.sklearn.NeuralClassifier` and
    :class:`~gradwise.sklearn.NeuralRegressor`; subclasses say how targets are read."""

    task: ClassVar[str] = ""  # the gradwise paradigm trained (task: in an experiment)

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "model": [str, None],
        "hidden": [list, tuple, None],
        "activation": [str, None],
        "norm": [str, None],
        "dropout": [Interval(Real, 0, 1, closed="left"), None],
        "epochs": [Interval(Integral, 1, None, closed="left"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"full"}), None],
        "lr": [Interval(Real, 0, None, closed="neither"), None],
        "optimizer": [str, None],
        "weight_decay": [Interval(Real, 0, None, closed="left"), None],
        "schedule": [str, None],
        "loss": [str, None],
        "early_stopping": ["boolean", Interval(Integral, 1, None, closed="left"), None],
        "valid_fraction": [Interval(Real, 0, 1, closed="left"), None],
        "scale": [StrOptions({"standard", "robust", "minmax", "none"}), None],
        "input_shape": [list, tuple, None],
        "options": [dict, None],
        "config": [str, Path, Mapping, None],
        "device": [StrOptions({"auto", "cpu", "cuda"}), None],
        "random_state": ["random_state"],
        "out": [str, Path, None],
    }

    def __init__(
        self,
        model: str | None = None,
        *,
        hidden: tuple[int, ...] | None = None,
        activation: str | None = None,
        norm: str | None = None,
        dropout: float | None = None,
        epochs: int | None = None,
        batch_size: int | str | None = None,
        lr: float | None = None,
        optimizer: str | None = None,
        weight_decay: float | None = None,
        schedule: str | None = None,
        loss: str | None = None,
        early_stopping: bool | int | None = None,
        valid_fraction: float | None = None,
        scale: str | None = None,
        input_shape: tuple[int, ...] | None = None,
        options: dict[str, Any] | None = None,
        config: str | Path | Mapping[str, Any] | None = None,
        device: str | None = None,
        random_state: int | np.random.RandomState | None = None,
        out: str | Path | None = None,
    ) -> None:
        self.model = model
        self.hidden = hidden
        self.activation = activation
        self.norm = norm
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.schedule = schedule
        self.loss = loss
        self.early_stopping = early_stopping
        self.valid_fraction = valid_fraction
        self.scale = scale
        self.input_shape = input_shape
        self.options = options
        self.config = config
        self.device = device
        self.random_state = random_state
        self.out = out

    # --------------------------------------------------------------------------- the API
    def fit(self, X: Any, y: Any) -> NeuralEstimator:
        """Train a new model on ``X`` (an array ``(n, features)``, ``(n, *input_shape)`` or a
        DataFrame, whose categorical columns are one-hot encoded) and targets ``y``."""
        self._validate_params()
        x, targets = self._training_data(X, y, reset=True)
        with value_errors():
            config = build_config(self._config_params(), self.task)
            self._train(config, x, targets, warm=False)
        return self

    def _partial_fit(self, X: Any, y: Any, **target_options: Any) -> NeuralEstimator:
        """One more epoch on ``X, y`` at a constant learning rate, the optimizer's state
        carried over; the first call fits the preprocessing (``partial_fit`` of the
        subclasses: ``target_options`` are how they read the targets)."""
        first = not hasattr(self, "module_")
        if first:
            self._validate_params()
        x, targets = self._training_data(X, y, reset=first, **target_options)
        with value_errors():
            extra = dict(PARTIAL_FIT_KEYS)
            if not first:
                extra["seed"] = self.config_.seed + len(self.history_)  # a new order each epoch
            config = build_config(self._config_params(), self.task, extra)
            self._train(config, x, targets, warm=not first)
        return self

    # ------------------------------------------------------------------------- internals
    def _config_params(self) -> dict[str, Any]:
        """The parameters as :func:`build_config` reads them (``random_state`` as a seed)."""
        params = self.get_params()
        state = self.random_state
        if state is not None and not isinstance(state, Integral):
            state = int(check_random_state(state).randint(np.iinfo(np.int32).max))
        params["random_state"] = state
        return params

    def _train(self, config: Any, x: Any, targets: np.ndarray, warm: bool) -> None:
        from gradwise.sklearn import _fitting

        if warm:  # the model, preprocessing and optimizer state of the calls before
            previous = _fitting.Fitted(
                self.module_, self.preprocessor_, optimizer_state=self._optimizer_state
            )
            splits = _fitting.make_splits(
                config, x, targets, self.preprocessor_.target, self.preprocessor_
            )
            fitted = _fitting.train(config, splits, previous, keep_best=False)
        else:
            target = self._target_encoder(targets, config)
            splits = _fitting.make_splits(config, x, targets, target)
            fitted = _fitting.train(config, splits, out=self.out)
        if fitted.run_dir is not None:
            self.run_dir_ = fitted.run_dir
        self.module_ = fitted.module
        self.preprocessor_ = fitted.preprocessor
        self.config_ = config
        self.history_ = (self.history_ if warm else []) + fitted.history
        self.best_epoch_ = fitted.best_epoch
        self._optimizer_state = fitted.optimizer_state

    def _training_data(
        self, X: Any, y: Any, reset: bool, **target_options: Any
    ) -> tuple[np.ndarray | pd.DataFrame, np.ndarray]:
        """Checked inputs (reshaped to ``input_shape``) and targets as the subclass reads
        them; ``reset``: this call decides ``n_features_in_`` / ``feature_names_in_``."""
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, reset=reset, skip_check_array=True)
            if len(X) == 0 or X.shape[1] == 0:
                raise InputError(
                    f"X: found a DataFrame of shape {X.shape}; expected at least one row "
                    "and one column"
                )
            if self.input_shape is not None:
                raise ParameterError(
                    "input_shape: reshapes array rows; a DataFrame's columns are read as "
                    "a table (give X as an array to reshape it)"
                )
            targets = self._check_targets(y, len(X), reset, **target_options)
            return _named_columns(X), targets
        x, y = validate_data(self, X, y, reset=reset, allow_nd=True, **self._target_validation())
        targets = self._check_targets(y, len(x), reset, **target_options)
        return self._shaped(x), targets

    def _features(self, X: Any) -> np.ndarray:
        """``X`` checked against the fitted inputs and preprocessed as in training."""
        check_is_fitted(self, "module_")
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, reset=False, skip_check_array=True)
            X = _named_columns(X)
        else:
            X = self._shaped(validate_data(self, X, reset=False, allow_nd=True))
        with value_errors():
            return self.preprocessor_.transform_features(X)

    def _outputs(self, X: Any) -> np.ndarray:
        from gradwise.sklearn._fitting import model_outputs

        features = self._features(X)
        return model_outputs(self.module_, features)

    def _shaped(self, x: np.ndarray) -> np.ndarray:
        """Rows of ``x`` as ``input_shape`` (e.g. ``(1, 8, 8)`` images from 64 columns)."""
        if self.input_shape is None:
            return x
        shape = tuple(int(s) for s in self.input_shape)
        if int(np.prod(x.shape[1:])) != int(np.prod(shape)):
            raise InputError(
                f"input_shape={shape}: holds {int(np.prod(shape))} values per row, but X "
                f"has {int(np.prod(x.shape[1:]))} per row (shape {x.shape})"
            )
        return x.reshape(len(x), *shape)

    # ------------------------------------------------------------------ for the subclasses
    def _target_validation(self) -> dict[str, Any]:
        """``validate_data`` options for ``y``."""
        raise NotImplementedError

    def _check_targets(self, y: Any, n_rows: int, reset: bool, **target_options: Any) -> np.ndarray:
        """``y`` as gradwise trains on it: class indices or float values."""
        raise NotImplementedError

    def _target_encoder(self, targets: np.ndarray, config: Any) -> Any:
        """The fitted target encoding of a new model."""
        raise NotImplementedError

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False  # a fixed random_state gives the same model
        return tags
