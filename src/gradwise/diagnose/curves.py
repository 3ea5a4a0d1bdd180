"""Detectors that read the loss curves and the final metrics: underfitting, overfitting,
learning rates that are too high or too low, and class imbalance that hurts.

Losses are compared on one scale, ``S = trivial − floor`` (see :mod:`.evidence`): "the training
loss fell by 0.1·S" means it removed a tenth of what a constant predictor leaves to learn. That
makes one threshold work for 2 classes and for 10, for cross-entropy and for MSE.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from gradwise.diagnose import remedies as fix
from gradwise.diagnose.evidence import RunEvidence, finite
from gradwise.diagnose.findings import Finding, detector
from gradwise.diagnose.reference import CLEARLY_BETTER, reference_score

# Healthy runs measured: progress ≥ 0.84, a final-quarter rise of the valid loss ≤ 0.45×, epoch
# to epoch training-loss rises ≤ 0.02·S, top per-layer update ratio ≥ 4e-4.
LEARNS_LITTLE = 0.4  # progress below this: the model learned little of what there is
LEARNS_NOTHING = 0.1
CAPACITY_LIMITED = 0.7  # progress below this with no train/valid gap
NEAR_PERFECT = 0.025  # validation error (1 − accuracy, or 1 − R²) that leaves nothing to gain
PLATEAU = 0.01  # improvement (·S) over the last quarter of epochs that counts as flat
VALID_RISE = 1.0  # valid loss ended ≥ 2× its minimum: overfitting
BLOW_UP = 3.0  # an epoch's training loss ≥ 3× the untrained model's loss
SMALL_GAP, LARGE_GAP = 0.1, 0.25  # valid − train loss (·S): no gap / a gap that is not bias
DIVERGED = 0.25  # the training loss ended ≥ 0.25·S above its minimum (and ≥ 2× it)
# epoch-to-epoch rises of the training loss (·S) in the second half: ≥ 3 rises of 0.15, or one of
# 0.3, is oscillation (healthy runs: ≤ 0.02; runs on unscaled inputs: ≤ 0.12)
OSCILLATION, JUMP, OSCILLATIONS = 0.15, 0.3, 3
TINY_UPDATES = 1e-4  # ‖Δw‖/‖w‖ per step of the fastest-moving layer; ~1e-3 is healthy
IMBALANCE_RATIO = 4.0  # majority/minority ≥ 4 (a minority of 20% or less)
MINORITY_GAP = 0.1  # accuracy − (balanced accuracy or macro-F1) ≥ 0.1: minorities are missed
MINORITY_SCORES = ("balanced_accuracy", "f1")  # scores that weigh every class equally


def final_train_loss(evidence: RunEvidence) -> float:
    """The training loss at the end, as the best of the last three epochs (noise-robust)."""
    train = finite(evidence.train_loss)
    return min(train[-3:]) if train else math.nan


def best_fit(evidence: RunEvidence) -> tuple[float | None, str, float]:
    """(progress, which loss, its value): the better of the final training loss and the best
    validation loss, each measured from its own split's trivial loss. Mixup, noise and dropout
    inflate the training loss; a validation loss clearly below it shows what was learned."""
    train = final_train_loss(evidence)
    found: tuple[float | None, str, float] = (evidence.progress(train), "training", train)
    valid = finite(evidence.valid_loss)
    if valid:
        progress = evidence.progress(min(valid), split="valid")
        if progress is not None and (found[0] is None or progress > found[0]):
            found = (progress, "validation", min(valid))
    return found


def learning_progress(evidence: RunEvidence) -> float | None:
    """Share of the trivial loss the model removed (:func:`best_fit`); regression without a
    known trivial loss falls back on the validation R² (the same quantity on held-out data)."""
    progress = best_fit(evidence)[0]
    if progress is None and evidence.target_kind == "values":
        return valid_score(evidence, "r2")
    return progress


def still_improving(evidence: RunEvidence) -> bool:
    """The training loss was still falling at the end, and no early stop said otherwise."""
    if evidence.summary.get("stopped_early"):
        return False
    return late_improvement(evidence) >= PLATEAU


def validation_plateaued(evidence: RunEvidence) -> bool:
    """The best validation epoch lies well before the last (≥ max(3, a fifth of the epochs)):
    more training stopped helping, so the model is not short of capacity or epochs."""
    best = evidence.summary.get("best_epoch")
    if not isinstance(best, int):
        valid = evidence.valid_loss
        if not finite(valid):
            return False
        best = 1 + min(
            range(len(valid)), key=lambda e: valid[e] if math.isfinite(valid[e]) else math.inf
        )
    epochs = evidence.epochs
    return epochs - best >= max(3, epochs // 5)


def metric_headroom(evidence: RunEvidence) -> float:
    """What the validation score leaves to gain at the best epoch: 1 − accuracy for
    classification, 1 − R² for regression (1.0 when unknown)."""
    score = valid_score(evidence, "accuracy" if evidence.target_kind == "labels" else "r2")
    return 1.0 - score if score is not None else 1.0


def late_improvement(evidence: RunEvidence) -> float:
    """Fall of the training loss over the last quarter of the epochs (≥ 3), in units of S."""
    train, scale = finite(evidence.train_loss), evidence.loss_scale
    span = max(3, len(train) // 4)
    if scale is None or len(train) <= span:
        return math.inf  # too short to call flat
    return (train[-span - 1] - train[-1]) / scale


def blow_ups(evidence: RunEvidence) -> list[int]:
    """Epochs whose training loss jumped to ≥ BLOW_UP × the untrained loss (a rise, not the
    slow descent from a bad start), plus epoch 1 when the run never recovered."""
    reference = evidence.reference_loss
    train = evidence.train_loss
    if reference is None or not train:
        return []
    epochs = [
        e + 1
        for e in range(1, len(train))
        if train[e] >= BLOW_UP * reference and not train[e] <= train[e - 1]
    ]
    progress = learning_progress(evidence)
    if train[0] >= BLOW_UP * reference and (progress is None or progress < LEARNS_NOTHING):
        epochs.insert(0, 1)
    return epochs


def training_rises(evidence: RunEvidence) -> list[tuple[int, float]]:
    """(epoch, rise / S) for each epoch of the second half whose training loss rose."""
    train, scale = evidence.train_loss, evidence.loss_scale
    if scale is None:
        return []
    start = max(1, len(train) // 2)
    return [
        (e + 1, (train[e] - train[e - 1]) / scale)
        for e in range(start, len(train))
        if math.isfinite(train[e] - train[e - 1]) and train[e] > train[e - 1]
    ]


# ------------------------------------------------------------------------------ detectors
@detector("underfitting")
def underfitting(evidence: RunEvidence) -> Finding | None:
    progress = learning_progress(evidence)
    train = finite(evidence.train_loss)
    if progress is None or len(train) < 2:
        return None
    scale = evidence.loss_scale or 1.0
    valid = finite(evidence.valid_loss)
    gap = (min(valid) - final_train_loss(evidence)) / scale if valid else 0.0
    still_falling = still_improving(evidence)
    headroom = metric_headroom(evidence)
    learns_little = progress < LEARNS_LITTLE and gap < LARGE_GAP and headroom > NEAR_PERFECT
    capacity_bound = (
        progress < CAPACITY_LIMITED
        and gap < SMALL_GAP
        and headroom > 2 * NEAR_PERFECT
        and not validation_plateaued(evidence)
    )
    if not (learns_little or capacity_bound):
        return None
    achievable = reference_comparison(evidence)
    if achievable is not None and not achievable["reference_clearly_better"]:
        return None  # the data, not the model, sets the limit
    _, which, loss = best_fit(evidence)
    score = valid_score(evidence, evidence.main_metric)
    evidence_numbers = {
        "train_loss": round(final_train_loss(evidence), 6),
        "trivial_loss": evidence.trivial_loss,
        "progress": round(progress, 4),
        "progress_measured_on": which,
        "valid_minus_train": round(gap * scale, 6),
        "still_improving": still_falling,
        "stopped_early": bool(evidence.summary.get("stopped_early")),
        f"valid_{evidence.main_metric}": score,
        "epochs": evidence.epochs,
        **(achievable or {}),
    }
    remedies = fix.present(
        fix.more_epochs(evidence.config) if still_falling else None,
        fix.bigger_model(evidence.config),
    )
    if evidence.trivial_loss is None:
        what = f"the model explains only {max(progress, 0):.0%} of the target's variance"
    elif progress <= 0:
        what = f"the {which} loss {loss:.4g} is no better than a constant predictor's "
        what += f"({evidence.trivial_loss:.4g})"
    else:
        what = f"the {which} loss {loss:.4g} removed only {progress:.0%} of a constant "
        what += f"predictor's loss ({evidence.trivial_loss:.4g})"
    trend = "and was still falling" if still_falling else "and had flattened out"
    if isinstance(score, (int, float)):
        trend += f" (best validation {evidence.main_metric} {score:.3g})"
    return Finding(
        "underfitting",
        "error" if progress < LEARNS_NOTHING else "warning",
        f"Underfitting: {what}, {trend}; validation is no better, so the model is not "
        "capturing what the data holds.",
        evidence_numbers,
        remedies,
    )


def reference_comparison(evidence: RunEvidence) -> dict[str, Any] | None:
    """The run's validation score beside a quick classical reference's on the same split
    (:mod:`gradwise.diagnose.reference`); None when there is no reference for this data."""
    found = reference_score(evidence)
    if found is None:
        return None
    score = valid_score(evidence, found.metric)
    if score is None:
        return None
    return {
        "reference": found.model,
        f"reference_valid_{found.metric}": round(found.score, 4),
        f"model_valid_{found.metric}": round(score, 4),
        "reference_clearly_better": found.score - score >= CLEARLY_BETTER,
    }


def valid_score(evidence: RunEvidence, metric: str) -> float | None:
    """The best epoch's validation ``metric`` from the summary (None when missing or null)."""
    value = (evidence.summary.get("valid") or {}).get(metric)
    return float(value) if isinstance(value, (int, float)) else None


@detector("overfitting")
def overfitting(evidence: RunEvidence) -> Finding | None:
    valid, train = evidence.valid_loss, evidence.train_loss
    if len(finite(valid)) < 5 or evidence.loss_scale is None:
        return None
    best = min(range(len(valid)), key=lambda e: valid[e] if math.isfinite(valid[e]) else math.inf)
    after = len(valid) - 1 - best
    final_valid, best_valid = valid[-1], valid[best]
    if not (math.isfinite(final_valid) and after >= max(3, len(valid) // 5) and best_valid > 0):
        return None
    rise = (final_valid - best_valid) / best_valid
    train_fell = train[-1] <= 0.7 * train[best]
    meaningful = final_valid - best_valid >= 0.05 * evidence.loss_scale
    if not (rise >= VALID_RISE and train_fell and meaningful):
        return None
    config = evidence.config
    return Finding(
        "overfitting",
        "warning",
        f"Overfitting: the validation loss was lowest at epoch {best + 1} ({best_valid:.4g}) "
        f"and ended {rise + 1:.1f}× higher ({final_valid:.4g}) while the training loss kept "
        f"falling ({train[best]:.4g} → {train[-1]:.4g}); the model is memorizing the training "
        "set."
        + fix.lab_hint("regularization", "which regularizer helps here", evidence.paths.config),
        {
            "best_epoch": best + 1,
            "epochs": len(valid),
            "valid_loss_best": best_valid,
            "valid_loss_final": final_valid,
            "train_loss_at_best": train[best],
            "train_loss_final": train[-1],
            "gap_at_best": valid[best] - train[best],
            "gap_final": final_valid - train[-1],
        },
        fix.present(fix.early_stopping(config), fix.dropout(config), fix.weight_decay(config)),
    )


@detector("lr_too_high")
def lr_too_high(evidence: RunEvidence) -> Finding | None:
    train, scale = evidence.train_loss, evidence.loss_scale
    if scale is None or not finite(train):
        return None
    spikes = blow_ups(evidence)
    low = min(finite(train))
    diverged = train[-1] >= low + DIVERGED * scale and train[-1] >= 2 * low
    rises = training_rises(evidence)
    oscillates = sum(r > OSCILLATION for _, r in rises) >= OSCILLATIONS or any(
        r >= JUMP for _, r in rises
    )
    if not (spikes or diverged or oscillates):
        return None
    lr = evidence.config.train.optimizer.lr
    signs = []
    if spikes:
        signs.append(f"the training loss blew up in epoch(s) {', '.join(map(str, spikes[:5]))}")
    if diverged:
        signs.append(f"it ended at {train[-1]:.4g}, far above its minimum {low:.4g}")
    if oscillates and not diverged:
        signs.append("it jumps up and down from epoch to epoch")
    return Finding(
        "lr_too_high",
        "error",
        f"Learning rate too high (lr {lr:g}): {'; '.join(signs)}."
        + fix.lab_hint("optimizers", "which optimizer suits this model", evidence.paths.config),
        {
            "lr": lr,
            "blow_up_epochs": spikes,
            "train_loss_min": low,
            "train_loss_final": train[-1],
            "rises": [
                {"epoch": e, "rise": round(r * scale, 6)} for e, r in rises if r > OSCILLATION
            ],
            "update_ratio": evidence.top_update_ratio,
        },
        [
            fix.lower_lr(
                evidence.config,
                "Smaller steps stay inside the region where the loss surface is smooth enough "
                "for gradient descent to go downhill.",
            )
        ],
    )


@detector("lr_too_low")
def lr_too_low(evidence: RunEvidence) -> Finding | None:
    progress = learning_progress(evidence)
    if progress is None or progress >= LEARNS_LITTLE or blow_ups(evidence):
        return None
    ratio = evidence.top_update_ratio
    lr = evidence.config.train.optimizer.lr
    if ratio is not None:
        if ratio >= TINY_UPDATES:
            return None
        why = f"each step moves the weights by only {ratio:.1e} of their size (~1e-3 is healthy)"
    else:  # no diagnostics: a steady, tiny descent at a small learning rate
        train = finite(evidence.train_loss)
        steady = sum(b < a for a, b in itertools.pairwise(train)) >= 0.9 * (len(train) - 1)
        safe = fix.SAFE_LR.get(evidence.config.train.optimizer.name, 1e-3)
        if not (steady and len(train) >= 3 and lr <= safe / 10):
            return None
        why = "the training loss falls every epoch, but by very little"
    return Finding(
        "lr_too_low",
        "warning",
        f"Learning rate too low (lr {lr:g}): {why}; after {evidence.epochs} epochs the model "
        f"has removed only {max(progress, 0):.0%} of a constant predictor's loss."
        + fix.lab_hint("optimizers", "which optimizer suits this model", evidence.paths.config),
        {"lr": lr, "update_ratio": ratio, "progress": round(progress, 4)},
        [
            fix.raise_lr(
                evidence.config,
                "Bigger steps cover the distance to a good solution within the epoch budget.",
            )
        ],
    )


@detector("class_imbalance")
def class_imbalance(evidence: RunEvidence) -> Finding | None:
    ratio = evidence.profile.get("imbalance_ratio")
    config = evidence.config
    if evidence.target_kind != "labels" or not ratio or ratio < IMBALANCE_RATIO:
        return None
    if config.train.class_weights is not None or fix.balanced_by_sampling(config):
        return None  # already countered
    worst: dict[str, float] = {}
    for split in ("valid", "test"):
        metrics = {
            k: float(v)
            for k, v in (evidence.summary.get(split) or {}).items()
            if isinstance(v, (int, float)) and math.isfinite(v)
        }
        scores = [metrics[k] for k in MINORITY_SCORES if k in metrics]
        if "accuracy" in metrics and scores:
            gap = metrics["accuracy"] - min(scores)
            if gap > worst.get("gap", -1):
                worst = {"split": split, "gap": gap, **metrics}
    if not worst or worst["gap"] < MINORITY_GAP:
        return None
    classes = list(evidence.profile.get("classes") or [])
    counts = (evidence.profile.get("class_counts") or {}).get("train")
    recall_by_class = class_recalls(worst, classes)
    scored = {k: worst[k] for k in MINORITY_SCORES if k in worst}
    found = {
        "imbalance_ratio": ratio,
        "classes": evidence.profile.get("classes"),
        "train_class_counts": counts,
        "split": worst["split"],
        "accuracy": worst["accuracy"],
        **scored,
        **{k: v for k, v in worst.items() if k.startswith("recall_")},
    }
    sides = minority_and_majority(counts, recall_by_class)
    if sides is not None:
        minority, majority = sides
        found["minority_recall"] = {str(classes[k]): recall_by_class[k] for k in minority}
        found["majority_recall"] = {str(classes[majority]): recall_by_class[majority]}
    return Finding(
        "class_imbalance",
        "warning",
        imbalance_message(ratio, worst, scored, classes, recall_by_class, sides),
        found,
        fix.present(fix.balanced_class_weights(config)),
    )


def class_recalls(metrics: dict[str, float], classes: list[object]) -> dict[int, float]:
    """Recall per class index, from ``recall_<class key>`` (the label as a metric name, see
    :func:`gradwise.tasks.supervised.class_keys`) or, in runs written before metric keys named
    classes, ``recall_<class index>``; {} when neither fits ``classes``."""
    from gradwise.tasks.supervised import class_keys

    found = {k.removeprefix("recall_"): v for k, v in metrics.items() if k.startswith("recall_")}
    if not found or not classes:
        return {}
    for keys in (class_keys(classes), [str(k) for k in range(len(classes))]):
        if set(found) <= set(keys):  # for labels 0..K-1 both forms agree
            return {keys.index(key): value for key, value in found.items()}
    return {}


def minority_and_majority(
    counts: object, recall_by_class: dict[int, float]
) -> tuple[list[int], int] | None:
    """(the minority classes, lowest recall first; the majority class) by training count: a
    minority class has ≤ 1/``IMBALANCE_RATIO`` of the largest class's samples. None when the
    counts or the recalls needed are missing."""
    if not isinstance(counts, list) or not counts or not recall_by_class:
        return None
    majority = max(range(len(counts)), key=lambda k: counts[k])
    minority = [
        k
        for k in range(len(counts))
        if counts[k] * IMBALANCE_RATIO <= counts[majority] and k in recall_by_class
    ]
    if majority not in recall_by_class or not minority:
        return None
    return sorted(minority, key=lambda k: recall_by_class[k]), majority


def imbalance_message(
    ratio: float,
    worst: dict[str, float],
    scored: dict[str, float],
    classes: list[object],
    recall_by_class: dict[int, float],
    sides: tuple[list[int], int] | None,
) -> str:
    """Says what the numbers say: the minority classes' recall against the majority's (or,
    without per-class recalls, how far the class-balanced scores fall below accuracy)."""
    scores = ", ".join(f"{name} {value:.3f}" for name, value in scored.items())
    head = (
        f"Class imbalance: the largest class has {ratio:.1f}× as many training samples as the "
        f"smallest, and it shows on the {worst['split']} split: "
    )
    rule = (
        f" (Flagged at a class ratio ≥ {IMBALANCE_RATIO:g}× with accuracy ≥ {MINORITY_GAP:.2f} "
        "above a score that weighs every class equally.)"
    )
    if sides is None:
        lower = worst["accuracy"] - min(scored.values())
        return (
            f"{head}accuracy {worst['accuracy']:.3f} but {scores}, {lower:.2f} lower once every "
            "class counts equally: the smaller classes are predicted worse than the large ones."
            + rule
        )
    minority, majority = sides
    shown = ", ".join(f"{recall_by_class[k]:.2f} (class {classes[k]})" for k in minority[:3])
    more = f" and {len(minority) - 3} more" if len(minority) > 3 else ""
    lowest, top = recall_by_class[minority[0]], recall_by_class[majority]
    return (
        f"{head}minority-class recall {shown}{more} vs majority {top:.2f} (class "
        f"{classes[majority]}): the model misses {1 - lowest:.0%} of class {classes[minority[0]]} "
        f"against {1 - top:.0%} of class {classes[majority]} (accuracy {worst['accuracy']:.3f}, "
        f"{scores})." + rule
    )
