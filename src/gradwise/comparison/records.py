"""One measured fit (a model on one seed's split at one training fraction), and the timing and
scoring helpers both families share, so classical and deep models are measured the same way."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from gradwise.data.tabular import TableLayout


PREDICT_TIMING_ROWS = 1000  # prediction time is measured on at least this many rows


@dataclass
class FitRecord:
    model: str  # baseline name, or the deep variant's name
    family: str  # classical | deep
    seed: int
    fraction: float  # share of the training split used
    n_train: int  # training rows used
    test: dict[str, float]  # every test metric of the task
    train: dict[str, float]  # the same metrics on the training rows used
    fit_time: float  # wall seconds to fit (deep: the training loop incl. validation)
    predict_ms_per_1000: float  # wall milliseconds to predict 1000 rows
    parameters: int  # learned or stored numbers (see the baseline's `counts`)
    size_bytes: int  # serialized model size

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


ONE_HOT_FOR_CLASSICAL = 256  # embedded columns with at most this many categories


def flat_features(x: np.ndarray, layout: TableLayout | None = None) -> np.ndarray:
    """(N, *feature_shape) → (N, F): what a classical model sees. A table column the deep
    model embeds (a category code, -1 unknown) is one-hot encoded again when it has at most
    :data:`ONE_HOT_FOR_CLASSICAL` categories (an arbitrary order of codes would handicap
    linear models); a code with more stays a number."""
    flat = x.reshape(len(x), -1)
    expand = [(p, k) for p, k in (layout or {}).get("embedded", []) if k <= ONE_HOT_FOR_CLASSICAL]
    if not expand:
        return flat
    blocks = [np.delete(flat, [p for p, _ in expand], axis=1)]
    for position, categories in expand:
        codes = flat[:, position].astype(np.int64)  # (N,), -1: unknown → all zeros
        one_hot = np.zeros((len(flat), categories), dtype=flat.dtype)
        known = np.flatnonzero(codes >= 0)
        one_hot[known, codes[known]] = 1.0
        blocks.append(one_hot)
    return np.concatenate(blocks, axis=1)


def rows_for_timing(x: Any) -> Any:
    """``x`` repeated up to at least :data:`PREDICT_TIMING_ROWS` rows (numpy or torch)."""
    repeats = -(-PREDICT_TIMING_ROWS // max(len(x), 1))
    if repeats <= 1:
        return x
    if isinstance(x, np.ndarray):
        return np.concatenate([x] * repeats)
    import torch

    return torch.cat([x] * repeats)


def predict_ms_per_1000(
    predict: Callable[[Any], Any], x: Any, sync: Callable[[], None] | None = None
) -> float:
    """Milliseconds to predict 1000 rows, from one timed call on ≥ 1000 rows."""
    batch = rows_for_timing(x)
    if sync:
        sync()
    started = time.perf_counter()
    predict(batch)
    if sync:
        sync()
    return (time.perf_counter() - started) / len(batch) * 1e6


def task_metrics(task: Any, outputs: Any, targets: np.ndarray) -> dict[str, float]:
    """The task's metrics (the engine's own code) for model outputs on a split.

    Classification outputs are class scores ``(N, K)`` read as logits (log-probabilities work:
    softmax(log p) = p); regression outputs are standardized values like the targets.
    """
    import torch

    outputs = torch.as_tensor(np.asarray(outputs, dtype=np.float32))
    return task.metrics(outputs, task.targets_tensor(targets, torch.device("cpu")))
