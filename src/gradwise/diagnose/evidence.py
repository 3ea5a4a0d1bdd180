"""What the doctor reads from a run directory, and the reference numbers it judges a run by.

Everything here is plain Python over the run's files (``config.yaml``, ``metrics.jsonl``,
``diagnostics.jsonl``, ``summary.json``, ``profile.json``): no torch, no data loading.

The central reference is the **trivial loss**: the loss of the best constant predictor, which
ignores the inputs. A model that does not get clearly below it has learned nothing.

Formula (classification, cross-entropy, class prior π on the training split, class weights w,
label smoothing ε over K classes; PyTorch's weighted mean Σ w_y ℓ / Σ w_y)::

    ρ_k      = π_k w_k / Σ_j π_j w_j                 (the prior as the weighted loss sees it)
    ρ'_k     = (1 − ε) ρ_k + ε / K                   (smoothed targets)
    trivial  = H(ρ') = −Σ_k ρ'_k log ρ'_k            (the constant prediction q = ρ')
    floor    = −(1 − ε + ε/K) log(1 − ε + ε/K) − (K − 1)(ε/K) log(ε/K)    (a perfect model)

Binary cross-entropy with ``pos_weight`` a = π_1·w_1/w_0, b = π_0 and q = a / (a + b)::

    trivial  = −a log q − b log(1 − q)

Regression with standardized targets (the default) and MSE: the training mean predicts with
MSE = 1 per target; for MAE/Huber no exact constant is known without the data, so ``None``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from gradwise.config import ExperimentConfig, load_config
from gradwise.runs import RunPaths, open_run, read_metrics, read_summary

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
            metrics=read_metrics(paths),
            diagnostics=read_jsonl(paths.diagnostics),
            summary=read_summary(paths),
            profile=read_json_or_empty(paths.root / "profile.json"),
            preprocess=read_json_or_empty(paths.preprocess),
        )

    # ---------------------------------------------------------------------- loss curves
    def series(self, key: str) -> Series:
        return [_finite_or_nan(row.get(key)) for row in self.metrics]

    @cached_property
    def train_loss(self) -> Series:
        return self.series("train_loss")

    @cached_property
    def valid_loss(self) -> Series:
        return self.series("valid_loss")

    @property
    def epochs(self) -> int:
        return len(self.metrics)

    @property
    def main_metric(self) -> str:
        return self.summary.get("main_metric") or (
            "accuracy" if self.config.task == "classification" else "rmse"
        )

    @property
    def loss_name(self) -> str:
        return self.config.train.loss or (
            "cross_entropy" if self.config.task == "classification" else "mse"
        )

    # ------------------------------------------------------------------- trivial model
    @cached_property
    def class_prior(self) -> list[float] | None:
        counts = (self.profile.get("class_counts") or {}).get("train")
        if not counts or sum(counts) == 0:
            return None
        return [c / sum(counts) for c in counts]

    def class_weight_vector(self) -> list[float] | None:
        spec = self.config.train.class_weights
        prior = self.class_prior
        if spec is None and sampling_method(self.config.data.sampling) == "class_weight":
            spec = "balanced"
        if spec is None or prior is None:
            return None
        if spec == "balanced":
            return [1.0 / (len(prior) * max(p, 1e-12)) for p in prior]
        return list(spec)

    @cached_property
    def trivial_loss(self) -> float | None:
        """Loss of the best constant predictor on the training split (module docstring)."""
        if self.config.task == "regression":
            standardized = self.preprocess.get("target", {}).get("std") is not None
            scaled = self.config.data.options.get("scale_target", True)
            return 1.0 if self.loss_name == "mse" and standardized and scaled else None
        prior = self.class_prior
        if prior is None:
            return None
        weights = self.class_weight_vector() or [1.0] * len(prior)
        if self.loss_name == "bce" and len(prior) == 2:
            a, b = prior[1] * weights[1] / weights[0], prior[0]
            q = a / (a + b)
            return -a * _log(q) - b * _log(1 - q)
        weighted = [p * w for p, w in zip(prior, weights, strict=True)]
        rho = [v / sum(weighted) for v in weighted]
        eps, k = self.config.train.label_smoothing, len(prior)
        return entropy([(1 - eps) * r + eps / k for r in rho])

    @cached_property
    def loss_floor(self) -> float:
        """The lowest loss a perfect model reaches (non-zero only with label smoothing)."""
        eps = self.config.train.label_smoothing
        k = len(self.class_prior or [])
        if self.config.task != "classification" or eps == 0 or k < 2:
            return 0.0
        return entropy([1 - eps + eps / k] + [eps / k] * (k - 1))

    @cached_property
    def loss_scale(self) -> float | None:
        """The span between "learned nothing" and "perfect": trivial − floor, or, where the
        trivial loss is unknown, the first epoch's training loss."""
        if self.trivial_loss is not None and self.trivial_loss > self.loss_floor:
            return self.trivial_loss - self.loss_floor
        first = finite(self.train_loss)
        return first[0] if first and first[0] > 0 else None

    @property
    def reference_loss(self) -> float | None:
        """The loss an untrained model is expected to have (trivial, else the first epoch's)."""
        if self.trivial_loss is not None:
            return self.trivial_loss
        first = finite(self.train_loss)
        return first[0] if first else None

    def progress(self, loss: float) -> float | None:
        """How much of the way from the trivial loss to the floor ``loss`` got:
        1 − (loss − floor) / (trivial − floor); 0 = learned nothing, 1 = perfect."""
        trivial = self.trivial_loss
        if trivial is None or not math.isfinite(loss) or trivial <= self.loss_floor:
            return None
        return 1.0 - (loss - self.loss_floor) / (trivial - self.loss_floor)

    # ------------------------------------------------------------------- diagnostics
    def layer_values(self, key: str, kinds: tuple[str, ...] | None = None) -> dict[str, Series]:
        """Per layer (forward order), ``key`` over the diagnostics samples."""
        values: dict[str, Series] = {}
        for sample in self.diagnostics:
            for layer in sample.get("layers", []):
                if kinds is None or layer.get("kind") in kinds:
                    values.setdefault(layer["name"], []).append(_finite_or_nan(layer.get(key)))
        return values

    def activation_values(self, key: str) -> dict[str, Series]:
        """Per activation module, ``key`` over the diagnostics samples (nulls skipped)."""
        values: dict[str, Series] = {}
        kinds: dict[str, str] = {}
        for sample in self.diagnostics:
            for act in sample.get("activations", []):
                value = act.get(key)
                if value is not None:
                    values.setdefault(act["name"], []).append(float(value))
                    kinds[act["name"]] = act.get("kind", "")
        self._activation_kinds = kinds
        return values

    def activation_kind(self, name: str) -> str:
        return getattr(self, "_activation_kinds", {}).get(name, "")


BALANCING = ("undersample", "oversample", "smote", "class_weight")  # data.sampling methods


def sampling_method(spec: Any) -> str:
    """The method name of ``data.sampling`` (``"oversample"`` or ``{name: ..., ...}``)."""
    return str(spec.get("name", "none")) if isinstance(spec, dict) else str(spec)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Lines of a JSON-lines file; a torn last line (a run killed mid-write) is skipped."""
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows


def read_json_or_empty(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def finite(values: list[float]) -> list[float]:
    return [v for v in values if math.isfinite(v)]


def median(values: list[float]) -> float:
    """Median of the finite values (NaN when there are none)."""
    kept = sorted(finite(values))
    if not kept:
        return math.nan
    middle = len(kept) // 2
    return kept[middle] if len(kept) % 2 else 0.5 * (kept[middle - 1] + kept[middle])


def entropy(distribution: list[float]) -> float:
    return -sum(p * _log(p) for p in distribution if p > 0)


def _log(value: float) -> float:
    return math.log(max(value, 1e-300))


def _finite_or_nan(value: Any) -> float:
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return math.nan
