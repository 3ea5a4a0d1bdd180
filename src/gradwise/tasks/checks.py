"""What a config asks of its paradigm and data, checked before anything trains or is written.

- Monitored metric names (``train.monitor``, ``train.early_stopping.monitor``, ``tune.metric``)
  against the names the paradigm logs (:meth:`Paradigm.logged_metrics`), with a did-you-mean.
- The model kind against the data's shape: a 1-D CNN on a table reads its columns as a signal,
  a 2-D CNN reads a signal as a one-channel picture; said in one line (models that cannot take
  the shape at all refuse it when they are built).
- Class labels that look like measured values (a "62-class classifier" of ages).

Torch-free: ``gradwise init`` uses the shape note and the target inference.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from gradwise.data.targets import FEW_CLASSES
from gradwise.data.targets import infer_target_kind as infer_target_kind  # gradwise init
from gradwise.errors import ConfigError, did_you_mean

if TYPE_CHECKING:
    from gradwise.config.schema import ExperimentConfig
    from gradwise.tasks.base import Paradigm

# ------------------------------------------------------------------------------- metric names


def closest_metric(name: str, available: Sequence[str]) -> str:
    """`` (did you mean 'x'?)``: a logged name that ``name`` begins (``valid_acc`` →
    ``valid_accuracy``, not the closer-spelled ``valid_auc``), else the closest spelling."""
    extending = [n for n in available if n.startswith(name)]
    if extending:
        return f" (did you mean '{min(extending, key=len)}'?)"
    return did_you_mean(name, available)


def check_metric(key: str, name: str, paradigm: Paradigm, has_valid: bool) -> None:
    """ConfigError unless the run logs ``name`` each epoch: the key, a did-you-mean and the
    names it does log (or that ``name`` needs a validation split the run has not got)."""
    logged = paradigm.logged_metrics(has_valid)
    if name in logged:
        return
    if not has_valid and name in paradigm.logged_metrics(True):
        raise ConfigError(
            f"{key}: '{name}' needs a validation split and this run has none (data.valid is 0 "
            f"or too small); set data.valid > 0 or monitor one of: {', '.join(logged)}"
        )
    raise ConfigError(
        f"{key}: the run logs no metric '{name}'{closest_metric(name, logged)}; "
        f"choose from: {', '.join(logged)}"
    )


def check_monitors(config: ExperimentConfig, paradigm: Paradigm, has_valid: bool) -> None:
    """``train.monitor`` and ``train.early_stopping.monitor`` name metrics the run logs.

    Without a validation split the checkpoint monitor falls back to ``train_loss`` (so a
    ``valid_*`` name is accepted there, a misspelt one is not); early stopping has no such
    fallback: a ``valid_*`` monitor without validation data is an error."""
    train = config.train
    check_metric("train.monitor", train.monitor, paradigm, has_valid=True)
    if train.early_stopping is not None:
        check_metric(
            "train.early_stopping.monitor", train.early_stopping.monitor, paradigm, has_valid
        )


# ------------------------------------------------------------------------ model vs data shape

# The input kinds each model kind is made for (kinds not listed take any input).
MODEL_INPUTS: dict[str, tuple[str, ...]] = {
    "cnn1d": ("signal",),
    "rnn": ("signal",),
    "cnn2d": ("image",),
}
MODEL_FOR_INPUTS = {"tabular": "mlp", "signal": "cnn1d", "image": "cnn2d"}  # the usual model
INPUT_WORDS = {"tabular": "a table", "signal": "signal data", "image": "image data"}
# How a model kind reads an input kind it is not made for (the shape permitting)
READS = {
    ("cnn1d", "tabular"): "each row as a signal, so its convolutions mix neighbouring columns "
    "(whose order in a table means nothing)",
    ("rnn", "tabular"): "each row as a sequence, one column per step in column order",
    ("cnn2d", "signal"): "each signal as a one-channel picture of height = channels, so its "
    "2-D kernels see mostly padding and it cannot pool along that axis",
}


def model_shape_note(
    kind: str, input_kind: str, shape: Sequence[int] | None = None, data: str = "the data"
) -> str | None:
    """One line saying what the data's shape means for model ``kind``, or None when the model
    is made for this kind of input."""
    made_for = MODEL_INPUTS.get(kind)
    if made_for is None or input_kind in made_for:
        return None
    shaped = f" shaped {tuple(shape)}" if shape is not None else ""
    words = INPUT_WORDS.get(input_kind, input_kind)
    reads = READS.get((kind, input_kind))
    meaning = f"{kind} reads {reads}" if reads else f"{kind} cannot take {words}"
    usual = MODEL_FOR_INPUTS.get(input_kind)
    advice = f"; {usual} is the model for {words}" if usual else ""
    made = " and ".join(INPUT_WORDS[k] for k in made_for)
    return (
        f"model.kind: {kind} is made for {made}, but {data} is {words}{shaped}: {meaning}{advice}"
    )


# --------------------------------------------------------------------------- targets and tasks

SMALL_CLASS = 5  # training samples in the median class below which classes look like values


def continuous_labels_note(
    labels: Sequence[Any], train_counts: Sequence[int] | None, target: str | None
) -> str | None:
    """Why numeric class labels look like measured values (many distinct numbers that are
    fractional, have gaps, or leave the median class a handful of samples), or None."""
    numbers = [v for v in labels if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(numbers) != len(labels) or len(numbers) <= FEW_CLASSES:
        return None
    values = np.asarray(numbers, dtype=np.float64)
    if not np.all(values == np.round(values)):
        why = "some of them fractional"
    elif values.max() - values.min() + 1 != len(values):
        why = f"whole numbers from {values.min():g} to {values.max():g} with gaps"
    elif train_counts is not None and np.median(train_counts) < SMALL_CLASS:
        why = f"a median of {np.median(train_counts):g} training samples per class"
    else:
        return None
    name = f"'{target}'" if target else "the target"
    return (
        f"data.target: {name} has {len(numbers)} distinct numbers ({why}): it looks like a "
        f"measured value, not a set of classes, and trains a {len(numbers)}-class classifier; "
        "use task: regression to predict the value"
    )
