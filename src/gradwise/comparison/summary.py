"""From measured fits to the ``compare.json`` document: the per-model table (on the whole
training split), the learning curves, the dataset's dimensions and the verdict.

Spread is the sample standard deviation across seeds, ``std = sqrt(Σ (v_s − v̄)² / (S − 1))``
(0 with one seed). The train–test gap is oriented so that a positive gap means the model does
better on its training rows than on the test split: ``gap = train − test`` for accuracy-like
metrics, ``gap = test − train`` for errors (RMSE, MAE).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import fmean
from typing import Any

from gradwise.comparison.records import FitRecord
from gradwise.comparison.verdict import Outcome, paired_outcome, verdict

FULL = 1.0  # the fraction the table and the verdict are measured at


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    mean = fmean(values)
    if len(values) < 2:
        return mean, 0.0
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def _by_model(records: list[FitRecord], fraction: float) -> dict[str, list[FitRecord]]:
    """Records at ``fraction`` per model (in first-seen order), each list ordered by seed."""
    grouped: dict[str, list[FitRecord]] = {}
    for record in records:
        if record.fraction == fraction:
            grouped.setdefault(record.model, []).append(record)
    return {name: sorted(fits, key=lambda r: r.seed) for name, fits in grouped.items()}


def model_table(
    records: list[FitRecord], metric: str, higher_is_better: bool, counts: dict[str, str]
) -> list[dict[str, Any]]:
    """One entry per model, measured on the whole training split, averaged over seeds."""
    sign = 1.0 if higher_is_better else -1.0
    table = []
    for name, fits in _by_model(records, FULL).items():
        test = [f.test[metric] for f in fits]
        train = [f.train[metric] for f in fits]
        mean, std = mean_std(test)
        table.append(
            {
                "name": name,
                "family": fits[0].family,
                "test": {"mean": mean, "std": std, "values": test},
                "train_score": fmean(train),
                "gap": fmean([sign * (a - b) for a, b in zip(train, test, strict=True)]),
                "fit_time": fmean([f.fit_time for f in fits]),
                "predict_ms_per_1000": fmean([f.predict_ms_per_1000 for f in fits]),
                "parameters": round(fmean([f.parameters for f in fits])),
                "size_bytes": round(fmean([f.size_bytes for f in fits])),
                "parameters_count": counts.get(name, "weights"),
                "n_train": fits[0].n_train,
                "metrics": {k: fmean([f.test[k] for f in fits]) for k in fits[0].test},
            }
        )
    return table


def learning_curves(records: list[FitRecord], metric: str) -> list[dict[str, Any]]:
    """Test metric (mean ± std over seeds) per model and training fraction."""
    fractions = sorted({r.fraction for r in records})
    curves = []
    for fraction in fractions:
        for name, fits in _by_model(records, fraction).items():
            mean, std = mean_std([f.test[metric] for f in fits])
            curves.append(
                {
                    "model": name,
                    "family": fits[0].family,
                    "fraction": fraction,
                    "n_train": fits[0].n_train,
                    "mean": mean,
                    "std": std,
                }
            )
    return sorted(curves, key=lambda c: (c["model"], c["fraction"]))


def dataset_summary(profile: dict[str, Any]) -> dict[str, Any]:
    """Data dimensionality: rows, features, and training samples per feature."""
    splits = profile.get("splits", {})
    n_train = int(splits.get("train", 0))
    features = int(profile["features"])
    summary = {
        "source": profile.get("source"),
        "rows": int(profile["rows"]),
        "features": features,
        "samples_per_feature": n_train / max(features, 1),
        "feature_shape": profile.get("feature_shape"),
        "input_kind": profile.get("input_kind"),
        "train_rows": n_train,
        "valid_rows": int(splits.get("valid", 0)),
        "test_rows": int(splits.get("test", 0)),
    }
    if profile.get("classes") is not None:
        summary["classes"] = len(profile["classes"])
        summary["imbalance_ratio"] = profile.get("imbalance_ratio")
    return summary


def _best(
    records: list[FitRecord], fraction: float, family: str, metric: str, higher: bool
) -> list[FitRecord] | None:
    """The fits of the family's model with the best mean metric at ``fraction``."""
    candidates = [f for f in _by_model(records, fraction).values() if f[0].family == family]
    if not candidates:
        return None
    sign = 1.0 if higher else -1.0
    return max(candidates, key=lambda fits: sign * fmean([f.test[metric] for f in fits]))


def outcome_at(
    records: list[FitRecord], fraction: float, metric: str, higher: bool
) -> Outcome | None:
    """Best deep model against best classical model at ``fraction`` (None if a family is
    missing)."""
    deep = _best(records, fraction, "deep", metric, higher)
    classical = _best(records, fraction, "classical", metric, higher)
    if deep is None or classical is None:
        return None
    deep_time = fmean([f.fit_time for f in deep])
    classical_time = fmean([f.fit_time for f in classical])
    return paired_outcome(
        deep[0].model,
        classical[0].model,
        metric,
        [f.test[metric] for f in deep],
        [f.test[metric] for f in classical],
        higher,
        deep_time / classical_time if classical_time > 0 else math.inf,
    )


def decide(records: list[FitRecord], metric: str, higher: bool) -> tuple[str, Outcome | None]:
    """The verdict text and the outcome on the whole training split."""
    full = outcome_at(records, FULL, metric, higher)
    if full is None:
        families = sorted({r.family for r in records})
        return f"only {' and '.join(families)} models were compared; no verdict.", None
    smallest = min(r.fraction for r in records)
    small = None
    if smallest < FULL:
        small_outcome = outcome_at(records, smallest, metric, higher)
        n_small = next(r.n_train for r in records if r.fraction == smallest)
        if small_outcome is not None:
            small = (small_outcome, smallest, n_small)
    return verdict(full, small), full


def evidence(
    table: list[dict[str, Any]],
    curves: list[dict[str, Any]],
    dataset: dict[str, Any],
    outcome: Outcome | None,
) -> dict[str, Any] | None:
    """The measured figures behind the classic DL-vs-ML dimensions, best deep model against
    best classical model: data dimensionality, model complexity (parameters), optimization cost
    (fit time), generalization (train–test gap) and small-sample behaviour (learning curves)."""
    if outcome is None:
        return None
    deep = next(m for m in table if m["name"] == outcome.deep)
    classical = next(m for m in table if m["name"] == outcome.classical)
    names = (deep["name"], classical["name"])
    by_point = {(c["model"], c["fraction"]): c for c in curves}
    fractions = sorted({c["fraction"] for c in curves})
    return {
        "deep": deep["name"],
        "classical": classical["name"],
        "data_dimensionality": {
            k: dataset[k] for k in ("rows", "features", "train_rows", "samples_per_feature")
        },
        "model_complexity": {m["name"]: m["parameters"] for m in (deep, classical)},
        "parameters_count": {m["name"]: m["parameters_count"] for m in (deep, classical)},
        "optimization_cost": {
            **{m["name"]: m["fit_time"] for m in (deep, classical)},
            "ratio": outcome.time_ratio,
        },
        "generalization": {m["name"]: m["gap"] for m in (deep, classical)},
        "small_sample": [
            {
                "fraction": fraction,
                "n_train": by_point[(names[0], fraction)]["n_train"],
                **{name: by_point[(name, fraction)]["mean"] for name in names},
            }
            for fraction in fractions
            if all((name, fraction) in by_point for name in names)
        ],
    }
