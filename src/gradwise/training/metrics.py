"""Evaluation metrics computed on the device from whole-split outputs.

Classification (``outputs`` are logits ``(N, K)``, or ``(N, 1)`` for a single-logit binary model):
accuracy, macro-F1 and ROC-AUC (binary: the positive class; multiclass: macro one-vs-rest); for
imbalanced classes also balanced accuracy, the recall of each class (``recall_<key>``: its
label made fit for a name by :func:`gradwise.tasks.supervised.class_keys`, else its index) and
PR-AUC (average precision, same averaging as ROC-AUC).
Regression (``outputs`` and ``targets`` standardized ``(N,)`` or ``(N, T)``): RMSE and MAE in the
target's original units, and R² = 1 − SS_res / SS_tot.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

# re-exported for the engine's callers; the one rule lives in the torch-free module
from gradwise.metric_names import higher_is_better as higher_is_better


def class_probabilities(outputs: torch.Tensor) -> torch.Tensor:
    """(N, K) logits → softmax; (N, 1) logit → [1 − p, p]."""
    if outputs.shape[-1] == 1:
        positive = torch.sigmoid(outputs.float())
        return torch.cat([1 - positive, positive], dim=-1)
    return torch.softmax(outputs.float(), dim=-1)


def confusion_matrix(
    predicted: torch.Tensor, targets: torch.Tensor, n_classes: int
) -> torch.Tensor:
    """Counts ``C[i, j]`` of samples of true class i predicted as j."""
    flat = targets.long() * n_classes + predicted.long()
    return torch.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def classification_metrics(
    outputs: torch.Tensor,
    targets: torch.Tensor,
    n_classes: int,
    imbalanced: bool = False,
    class_keys: Sequence[str] | None = None,
) -> dict[str, float]:
    """Headline metrics, and the imbalance metrics when ``imbalanced``; each class's recall is
    ``recall_<class_keys[k]>`` (default: its index k)."""
    probabilities = class_probabilities(outputs)  # (N, K)
    predicted = probabilities.argmax(dim=-1)
    counts = confusion_matrix(predicted, targets, n_classes).double()
    true_positive = counts.diagonal()
    precision = true_positive / counts.sum(0).clamp(min=1)
    recall = true_positive / counts.sum(1).clamp(min=1)
    f1 = 2 * precision * recall / (precision + recall).clamp(min=1e-12)
    present = counts.sum(1) > 0  # macro average over classes present in the targets
    headline = {"accuracy": true_positive.sum() / counts.sum(), "f1": f1[present].mean()}
    auc = roc_auc(probabilities, targets, n_classes)
    if auc is not None:
        headline["auc"] = auc
    values = torch.stack([v.double() for v in headline.values()]).tolist()  # one host read
    metrics = dict(zip(headline, values, strict=True))
    if imbalanced:
        # balanced accuracy = mean over present classes of recall_k = C[k, k] / Σ_j C[k, j]
        metrics["balanced_accuracy"] = recall[present].mean().item()
        keys = class_keys if class_keys is not None else [str(k) for k in range(n_classes)]
        metrics.update(
            {f"recall_{keys[k]}": recall[k].item() for k in range(n_classes) if present[k]}
        )
        pr_auc = average_precision(probabilities, targets, n_classes)
        if pr_auc is not None:
            metrics["pr_auc"] = pr_auc
    return metrics


def average_precision(
    probabilities: torch.Tensor, targets: torch.Tensor, n_classes: int
) -> float | None:
    """Area under the precision–recall curve as a step sum (scikit-learn's definition):
    ``AP = Σ_n (R_n − R_{n−1}) · P_n`` over the distinct score thresholds in decreasing order.
    Binary: the positive class; multiclass: the macro mean over one-vs-rest classes."""
    scores = probabilities.detach().cpu().double().numpy()
    labels = targets.detach().cpu().numpy()
    columns = [1] if n_classes == 2 else range(n_classes)
    values = []
    for k in columns:
        positive = labels == k
        if not positive.any():
            continue
        order = np.argsort(-scores[:, k], kind="mergesort")
        ranked_scores, ranked_positive = scores[order, k], positive[order]
        # the last index of each run of equal scores: one threshold per distinct score
        last = np.r_[np.flatnonzero(np.diff(ranked_scores)), len(ranked_scores) - 1]
        true_pos = np.cumsum(ranked_positive)[last]
        precision = true_pos / (last + 1)
        recall = true_pos / true_pos[-1]
        values.append(float(np.sum(np.diff(np.r_[0.0, recall]) * precision)))
    return float(np.mean(values)) if values else None


def roc_auc(
    probabilities: torch.Tensor, targets: torch.Tensor, n_classes: int
) -> torch.Tensor | None:
    """Area under the ROC curve in the Mann–Whitney form, for all classes at once on the device:

    ``AUC_k = (Σ ranks of class k's samples − P_k(P_k+1)/2) / (P_k · N_k)``

    with ranks of the class-k scores (ties get their run's average rank). Binary: the positive
    class; multiclass: the macro mean over one-vs-rest classes present in the targets. Ranks are
    kept doubled as integers (first + last position of each run of ties), so the sums are exact.
    """
    columns = torch.arange(n_classes, device=targets.device)
    if n_classes == 2:
        columns = columns[1:]
    scores = probabilities.detach()[:, columns]  # (N, K)
    n = len(targets)
    sorted_scores, order = scores.sort(dim=0)
    positive = targets.detach().long()[order] == columns  # (N, K), in each column's sorted order
    position = torch.arange(1, n + 1, device=scores.device).unsqueeze(1).expand_as(scores)
    starts_run = torch.ones_like(sorted_scores, dtype=torch.bool)
    starts_run[1:] = sorted_scores[1:] != sorted_scores[:-1]
    ends_run = torch.ones_like(starts_run)
    ends_run[:-1] = starts_run[1:]
    first = torch.where(starts_run, position, 0).cummax(0).values  # run's first position
    last = torch.where(ends_run, position, n + 1).flip(0).cummin(0).values.flip(0)  # its last
    twice_rank_sum = ((first + last) * positive).sum(0).double()  # 2 · Σ average ranks
    n_pos = positive.sum(0).double()
    n_neg = n - n_pos
    present = (n_pos > 0) & (n_neg > 0)
    auc = (twice_rank_sum / 2 - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg).clamp(min=1)
    return auc[present].mean() if bool(present.any()) else None


def regression_metrics(
    outputs: torch.Tensor, targets: torch.Tensor, target_std: torch.Tensor
) -> dict[str, float]:
    outputs = outputs.float().reshape(targets.shape)
    error = (outputs - targets) * target_std  # back to original units
    ss_res = ((outputs - targets) ** 2).sum(0)
    ss_tot = ((targets - targets.mean(0)) ** 2).sum(0).clamp(min=1e-12)
    return {
        "rmse": error.pow(2).mean().sqrt().item(),
        "mae": error.abs().mean().item(),
        "r2": (1 - ss_res / ss_tot).mean().item(),
    }
