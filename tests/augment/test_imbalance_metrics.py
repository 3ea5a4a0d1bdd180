"""Imbalance metrics (balanced accuracy, per-class recall, PR-AUC) against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score, balanced_accuracy_score, recall_score

from gradwise.tasks.supervised import IMBALANCE_RATIO, Classification
from gradwise.training.metrics import average_precision, classification_metrics


def logits_and_labels(n: int, k: int, seed: int, ties: bool = False):
    rng = np.random.default_rng(seed)
    labels = rng.choice(k, size=n, p=[0.7, *([0.3 / (k - 1)] * (k - 1))])
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[labels]
    if ties:  # coarse logits: many equal scores, the case where AP definitions differ
        logits = np.round(logits)
    return torch.tensor(logits, dtype=torch.float32), torch.tensor(labels)


@pytest.mark.parametrize(("k", "ties"), [(2, False), (2, True), (4, False), (4, True)])
def test_metrics_match_sklearn(k: int, ties: bool):
    logits, labels = logits_and_labels(400, k, seed=k, ties=ties)
    metrics = classification_metrics(logits, labels, k, imbalanced=True)
    y_true, y_pred = labels.numpy(), logits.argmax(1).numpy()
    probabilities = torch.softmax(logits, -1).double().numpy()
    assert metrics["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y_true, y_pred))
    recalls = recall_score(y_true, y_pred, average=None)
    for c in range(k):
        assert metrics[f"recall_{c}"] == pytest.approx(recalls[c])
    if k == 2:
        expected = average_precision_score(y_true, probabilities[:, 1])
    else:
        expected = average_precision_score(np.eye(k)[y_true], probabilities, average="macro")
    assert metrics["pr_auc"] == pytest.approx(expected, abs=1e-9)


def test_single_logit_binary_pr_auc_uses_the_positive_class():
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 2, size=300)
    logit = rng.normal(size=300) + labels
    value = average_precision(
        torch.sigmoid(torch.tensor(logit))[:, None].repeat(1, 2), torch.tensor(labels), 2
    )
    assert value == pytest.approx(average_precision_score(labels, logit))


def test_balanced_accuracy_skips_classes_absent_from_the_targets():
    logits = torch.tensor([[3.0, 0, 0], [0, 3.0, 0], [0, 0, 3.0], [3.0, 0, 0]])
    labels = torch.tensor([0, 1, 0, 0])  # class 2 absent, but predicted once
    metrics = classification_metrics(logits, labels, 3, imbalanced=True)
    assert metrics["balanced_accuracy"] == pytest.approx((2 / 3 + 1) / 2)
    assert "recall_2" not in metrics


def test_imbalance_metrics_only_when_the_training_classes_are_imbalanced():
    class Pre:
        classes = ("a", "b")

    logits, labels = logits_and_labels(100, 2, seed=0)
    ratio_below = np.r_[np.zeros(29), np.ones(10)].astype(np.int64)  # 2.9 : 1
    ratio_at = np.r_[np.zeros(30), np.ones(10)].astype(np.int64)  # 3 : 1
    balanced_task = Classification.create(None, Pre, ratio_below)
    imbalanced_task = Classification.create(None, Pre, ratio_at)
    assert IMBALANCE_RATIO == 3.0
    assert imbalanced_task.imbalanced
    assert not balanced_task.imbalanced
    assert "balanced_accuracy" not in balanced_task.metrics(logits, labels)
    assert {"balanced_accuracy", "recall_a", "recall_b", "pr_auc", "f1"} <= set(
        imbalanced_task.metrics(logits, labels)
    )  # each class's recall named by its label
    assert not Classification.create(None, Pre).imbalanced  # no targets given: plain metrics
