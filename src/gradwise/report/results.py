"""The results section: test metrics, and the model's test predictions recomputed from the run.

Classification shows the confusion matrix and per-class precision, recall and F1; regression
shows predicted against actual values and the residuals, in the target's original units.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from gradwise.report.context import ReportContext
from gradwise.report.page import escape, image, table
from gradwise.report.plots import confusion_png, regression_png
from gradwise.report.sections import section


def split_outputs(context: ReportContext) -> tuple[np.ndarray, np.ndarray]:
    """Raw model outputs ``(N, out)`` and encoded targets on the run's own test split."""
    with warnings.catch_warnings():  # the data's warnings were shown when the run trained
        warnings.simplefilter("ignore")
        outputs, targets = context.run.test_outputs()
    return outputs.reshape(len(targets), -1).numpy(), targets


def predicted_classes(outputs: np.ndarray) -> np.ndarray:
    """Class index per row: the arg-max of the logits, or ``logit > 0`` for one binary logit."""
    if outputs.shape[1] == 1:
        return (outputs[:, 0] > 0).astype(np.int64)
    return outputs.argmax(axis=1)


def confusion_counts(true: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """``C[i, j]``: test samples of true class i predicted as class j."""
    flat = true.astype(np.int64) * n_classes + predicted.astype(np.int64)
    return np.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def per_class_scores(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Per-class precision, recall, F1 and support from a confusion matrix.

    Formula:
        precision_k = C[k, k] / Σ_i C[i, k]        (0 when class k is never predicted)
        recall_k    = C[k, k] / Σ_j C[k, j]        (0 when class k is absent)
        F1_k        = 2 · precision_k · recall_k / (precision_k + recall_k)
    """
    true_positive = np.diag(counts).astype(np.float64)
    predicted_total, support = counts.sum(axis=0), counts.sum(axis=1)
    precision = np.divide(
        true_positive, predicted_total, out=np.zeros_like(true_positive), where=predicted_total > 0
    )
    recall = np.divide(true_positive, support, out=np.zeros_like(true_positive), where=support > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(both), where=both > 0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support}


def _metrics_table(summary: dict[str, Any]) -> str:
    valid, test = summary.get("valid") or {}, summary.get("test") or {}
    names = list(dict.fromkeys([*test, *valid]))
    if not names:
        return (
            f'<p class="note">No test metrics (run status: '
            f"{escape(summary.get('status', 'unknown'))}).</p>"
        )
    rows = [[name, valid.get(name), test.get(name)] for name in names]
    best = summary.get("best_epoch")
    headers = ["metric", f"valid (best epoch {best})" if best else "valid", "test"]
    return table(headers, rows, [False, True, True])


def _classification(context: ReportContext, outputs: np.ndarray, targets: np.ndarray) -> str:
    classes: Sequence[Any] = context.run.preprocessor.classes
    names = [str(c) for c in classes]
    counts = confusion_counts(targets, predicted_classes(outputs), len(names))
    scores = per_class_scores(counts)
    rows: list[list[Any]] = [
        [
            name,
            *(float(scores[k][i]) for k in ("precision", "recall", "f1")),
            int(scores["support"][i]),
        ]
        for i, name in enumerate(names)
    ]
    present = scores["support"] > 0
    rows.append(
        [
            "macro average",
            *(float(scores[k][present].mean()) for k in ("precision", "recall", "f1")),
            int(scores["support"].sum()),
        ]
    )
    row_classes = [""] * len(names) + ["total"]
    per_class = table(
        ["class", "precision", "recall", "F1", "support"],
        rows,
        [False, True, True, True, True],
        row_classes,
    )
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    return (
        '<div class="row"><div>'
        + image(confusion_png(counts, names), "confusion matrix of the test split")
        + "</div><div><h3>Per-class metrics (test)</h3>"
        + per_class
        + f'<p class="note">Accuracy {accuracy:.4f} on {int(counts.sum())} test samples.</p>'
        + "</div></div>"
    )


def _regression(context: ReportContext, outputs: np.ndarray, targets: np.ndarray) -> str:
    preprocessor = context.run.preprocessor
    actual = np.asarray(preprocessor.target.decode(targets)).reshape(len(targets), -1)  # (N, T)
    predicted = np.asarray(preprocessor.decode_predictions(outputs)).reshape(actual.shape)
    names = list(preprocessor.target.names or [f"target {t}" for t in range(actual.shape[1])])
    residual = actual - predicted  # (N, T), original units
    rows = [
        [
            names[t] if t < len(names) else f"target {t}",
            float(residual[:, t].mean()),
            float(residual[:, t].std()),
            float(np.sqrt((residual[:, t] ** 2).mean())),
            float(np.abs(residual[:, t]).max()),
        ]
        for t in range(actual.shape[1])
    ]
    stats = table(
        ["target", "mean residual (bias)", "residual std", "RMSE", "largest |residual|"],
        rows,
        [False, True, True, True, True],
    )
    return (
        image(regression_png(actual, predicted, names), "predicted vs actual and residuals")
        + "<h3>Residuals (test, target units)</h3>"
        + stats
    )


RESULT_VIEWS = {"labels": _classification, "values": _regression}  # by the task's target_kind


@section("results", "Results", order=40)
def results(context: ReportContext) -> str | None:
    if not context.is_run or context.target_kind not in RESULT_VIEWS:
        return None
    parts = ["<h3>Metrics</h3>", _metrics_table(context.summary)]
    if not context.summary.get("test"):  # data.test: 0, or a run that did not complete
        why = (
            "No test split: the figures above are validation's."
            if context.summary.get("status") == "completed"
            else "No test results: the run did not complete."
        )
        return "".join([*parts, f"<p>{why}</p>"])
    outputs, targets = split_outputs(context)
    parts.append(RESULT_VIEWS[context.target_kind](context, outputs, targets))
    return "".join(parts)
