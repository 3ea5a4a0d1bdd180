"""What the doctor reads from a run directory, and the reference numbers it judges a run by.

Everything here is plain Python over the run's files (``config.yaml``, ``metrics.jsonl``,
``diagnostics.jsonl``, ``summary.json``, ``profile.json``): no torch, no data loading.

The central reference is the **trivial loss**: the loss of the best constant predictor, which
ignores the inputs. A model that does not get clearly below it has learned nothing.

Formula (classification, cross-entropy, class prior π on the training split as the model saw it,
i.e. after ``data.sampling``; class weights w, label smoothing ε over K classes). PyTorch
weights the smoothing term by w_k too and divides by Σ_i w_{y_i}, so a prediction q costs
−Σ_k t_k log q_k with::

    t_k      = ((1 − ε) π_k w_k + ε w_k / K) / Σ_j π_j w_j
    trivial  = −Σ_k t_k log(t_k / Σt)                 (the constant prediction q = t / Σt)
    floor    = Σ_y π_y · (−Σ_k u_k log(u_k / Σu)) / Σ_j π_j w_j,
               u_k = (1 − ε) w_y [k = y] + ε w_k / K  (a perfect model, per class y)

Without weights, t is the smoothed prior and the floor is the entropy of one smoothed one-hot.

Binary cross-entropy with ``pos_weight`` a = π_1·w_1/w_0, b = π_0 and q = a / (a + b)::

    trivial  = −a log q − b log(1 − q)

Regression with standardized targets (the default) and MSE: the training mean predicts with
MSE = 1 per target; for MAE/Huber no exact constant is known without the data, so ``None``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from gradwise._io import read_json, read_jsonl
from gradwise.augment.options import parse_sampling
from gradwise.config import ExperimentConfig, load_config
from gradwise.runs import RunPaths, open_run, read_summary
from gradwise.tasks import TASKS

Series = list[float]  # one value per epoch; NaN where a value is missing or was non-finite


@dataclass
class RunEvidence:
    """A run directory's files, parsed, with the derived series the detectors share."""

    paths: RunPaths
    config: ExperimentConfig
    metrics: list[dict[str, Any]]
    diagnostics: list[dict[str, Any]]
    summary: dict[str, Any]
    profile: dict[str, Any]
    preprocess: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, run_dir: str | Path) -> RunEvidence:
        paths = open_run(run_dir)
        return cls(
            paths=paths,
            config=load_config(paths.config),
            metrics=read_jsonl(paths.metrics),
            diagnostics=read_jsonl(paths.diagnostics),
            summary=read_summary(paths),
            profile=read_json(paths.root / "profile.json", {}, lenient=True),
            preprocess=read_json(paths.preprocess, {}, lenient=True),
        )

    # ---------------------------------------------------------------------- loss curves
    def series(self, key: str) -> Series:
        return [_finite_or_nan(row.get(key)) for row in self.metrics]

    @cached_property
    def train_loss(self) -> Series:
        """The training loss per epoch; all NaN for a paradigm whose loss is no objective
        (``Paradigm.loss_curves`` false: a GAN's), which the loss-curve detectors then skip."""
        if not self.paradigm.loss_curves:
            return [math.nan] * len(self.metrics)
        return self.series("train_loss")

    @cached_property
    def valid_loss(self) -> Series:
        return self.series("valid_loss")

    @property
    def epochs(self) -> int:
        return len(self.metrics)

    @property
    def paradigm(self) -> Any:
        """The run's paradigm class (:mod:`gradwise.tasks`): what it learns from, its losses."""
        return TASKS.get(self.config.task)

    @property
    def target_kind(self) -> str | None:
        """What the run learns from: "labels", "values", or None (a paradigm without targets)."""
        return self.paradigm.target_kind

    @property
    def main_metric(self) -> str:
        return self.summary.get("main_metric") or self.paradigm.main_metric

    @property
    def loss_name(self) -> str:
        return self.config.train.loss or self.paradigm.default_loss or ""

    # ------------------------------------------------------------------- trivial model
    @cached_property
    def class_prior(self) -> list[float] | None:
        """The class prior of the training batches: after ``data.sampling`` when it resampled
        (``profile["sampling"]["after"]``), else the training split's class counts."""
        after = (self.profile.get("sampling") or {}).get("after")
        if isinstance(after, dict) and after and "rows" not in after:
            classes = self.profile.get("classes")
            if classes and all(str(c) in after for c in classes):
                return prior_of([after[str(c)] for c in classes])
            return prior_of(list(after.values()))
        return prior_of((self.profile.get("class_counts") or {}).get("train"))

    @cached_property
    def valid_prior(self) -> list[float] | None:
        """The validation split's class prior (never resampled); the training prior if unknown."""
        valid = prior_of((self.profile.get("class_counts") or {}).get("valid"))
        prior = self.class_prior
        return (
            valid if valid is not None and prior is not None and len(valid) == len(prior) else prior
        )

    def class_weight_vector(self) -> list[float] | None:
        spec = self.config.train.class_weights
        prior = self.class_prior
        if spec is None and parse_sampling(self.config.data.sampling)[0] == "class_weight":
            spec = "balanced"
        if spec is None or prior is None:
            return None
        if spec == "balanced":
            return [1.0 / (len(prior) * max(p, 1e-12)) for p in prior]
        return list(spec)

    def trivial_loss_for(self, prior: list[float] | None) -> float | None:
        """Loss of the best constant predictor on labels with class prior ``prior`` (module
        docstring); the class weights are the training run's."""
        if self.target_kind == "values":
            standardized = self.preprocess.get("target", {}).get("std") is not None
            scaled = self.config.data.options.get("scale_target", True)
            return 1.0 if self.loss_name == "mse" and standardized and scaled else None
        if self.target_kind != "labels" or prior is None:
            return None
        weights = self.class_weight_vector() or [1.0] * len(prior)
        if self.loss_name == "bce" and len(prior) == 2:
            a, b = prior[1] * weights[1] / weights[0], prior[0]
            q = a / (a + b)
            return -a * _log(q) - b * _log(1 - q)
        targets = smoothed_targets(prior, weights, self.config.train.label_smoothing)
        return cross_entropy_of(targets)

    def loss_floor_for(self, prior: list[float] | None) -> float:
        """The lowest loss a perfect model reaches on labels with class prior ``prior``
        (non-zero only with label smoothing)."""
        eps = self.config.train.label_smoothing
        if self.target_kind != "labels" or self.loss_name == "bce" or eps == 0:
            return 0.0
        if prior is None or len(prior) < 2:
            return 0.0
        k = len(prior)
        weights = self.class_weight_vector() or [1.0] * k
        norm = sum(p * w for p, w in zip(prior, weights, strict=True))
        per_class = [
            cross_entropy_of(
                [(1 - eps) * w * (j == y) + eps * w / k for j, w in enumerate(weights)]
            )
            for y in range(k)
        ]
        return sum(p * c for p, c in zip(prior, per_class, strict=True)) / norm

    @cached_property
    def trivial_loss(self) -> float | None:
        """Loss of the best constant predictor on the training batches (module docstring)."""
        return self.trivial_loss_for(self.class_prior)

    @cached_property
    def loss_floor(self) -> float:
        """The lowest loss a perfect model reaches on the training batches."""
        return self.loss_floor_for(self.class_prior)

    @cached_property
    def loss_scale(self) -> float | None:
        """The span between "learned nothing" and "perfect": trivial − floor, or, where the
        trivial loss is unknown, the first epoch's training loss. None when the paradigm's loss
        does not track learning (an agent's): the loss-curve findings then stay silent."""
        if not self.paradigm.loss_tracks_learning:
            return None
        if self.trivial_loss is not None and self.trivial_loss > self.loss_floor:
            return self.trivial_loss - self.loss_floor
        first = finite(self.train_loss)
        return first[0] if first and first[0] > 0 else None

    @property
    def reference_loss(self) -> float | None:
        """The loss an untrained model is expected to have (trivial, else the first epoch's)."""
        if not self.paradigm.loss_tracks_learning:
            return None
        if self.trivial_loss is not None:
            return self.trivial_loss
        first = finite(self.train_loss)
        return first[0] if first else None

    def progress(self, loss: float, split: str = "train") -> float | None:
        """How much of the way from the trivial loss to the floor ``loss`` got:
        1 − (loss − floor) / (trivial − floor); 0 = learned nothing, 1 = perfect. ``split``
        "valid" measures a validation loss against the validation split's own class prior."""
        prior = self.valid_prior if split == "valid" else self.class_prior
        trivial, floor = self.trivial_loss_for(prior), self.loss_floor_for(prior)
        if trivial is None or not math.isfinite(loss) or trivial <= floor:
            return None
        return 1.0 - (loss - floor) / (trivial - floor)

    # ------------------------------------------------------------------- diagnostics
    def layer_values(self, key: str) -> dict[str, Series]:
        """Per layer (forward order), ``key`` over the diagnostics samples."""
        values: dict[str, Series] = {}
        for sample in self.diagnostics:
            for layer in sample.get("layers", []):
                values.setdefault(layer["name"], []).append(_finite_or_nan(layer.get(key)))
        return values

    @cached_property
    def top_update_ratio(self) -> float | None:
        """The median update/weight ratio of the layer that moves fastest (None without data)."""
        per_layer = finite([median(v) for v in self.layer_values("update_ratio").values()])
        return max(per_layer) if per_layer else None

    def activation_values(self, key: str) -> tuple[dict[str, Series], dict[str, str]]:
        """Per activation module, ``key`` over the diagnostics samples (nulls skipped), and each
        module's kind (``"ReLU"``, ``"Tanh"``…)."""
        values: dict[str, Series] = {}
        kinds: dict[str, str] = {}
        for sample in self.diagnostics:
            for act in sample.get("activations", []):
                value = act.get(key)
                if value is not None:
                    values.setdefault(act["name"], []).append(float(value))
                    kinds[act["name"]] = act.get("kind", "")
        return values, kinds


BALANCING = ("undersample", "oversample", "smote", "class_weight")  # data.sampling methods


def finite(values: list[float]) -> list[float]:
    return [v for v in values if math.isfinite(v)]


def median(values: list[float]) -> float:
    """Median of the finite values (NaN when there are none)."""
    kept = sorted(finite(values))
    if not kept:
        return math.nan
    middle = len(kept) // 2
    return kept[middle] if len(kept) % 2 else 0.5 * (kept[middle - 1] + kept[middle])


def prior_of(counts: Any) -> list[float] | None:
    """Class counts as proportions (None when there are none)."""
    if not counts or not all(isinstance(c, (int, float)) for c in counts) or sum(counts) <= 0:
        return None
    return [c / sum(counts) for c in counts]


def smoothed_targets(prior: list[float], weights: list[float], eps: float) -> list[float]:
    """t_k = ((1 − ε) π_k w_k + ε w_k / K) / Σ_j π_j w_j: what a constant prediction q pays,
    −Σ_k t_k log q_k, under PyTorch's weighted, label-smoothed cross-entropy."""
    k = len(prior)
    norm = sum(p * w for p, w in zip(prior, weights, strict=True))
    return [((1 - eps) * p * w + eps * w / k) / norm for p, w in zip(prior, weights, strict=True)]


def cross_entropy_of(targets: list[float]) -> float:
    """min over distributions q of −Σ_k t_k log q_k (reached at q = t / Σt)."""
    total = sum(targets)
    return -sum(t * _log(t / total) for t in targets if t > 0)


def _log(value: float) -> float:
    return math.log(max(value, 1e-300))


def _finite_or_nan(value: Any) -> float:
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return math.nan
