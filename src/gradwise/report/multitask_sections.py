"""The report of a run with several targets: results per target, and the loss weights.

- *Results* (the results section's view for ``multi`` targets, below its table of the
  ``<target>_<metric>`` test and validation metrics): per target its confusion matrix and
  per-class scores (classes) or its predicted-against-actual plot and residuals (values), in the
  target's own labels and units.
- *Loss weights*: how the targets' losses were combined (``summary.json``'s ``loss_weights``)
  and, for learned weights, σ_t and each target's weight over the epochs (``weight_<key>`` in
  ``metrics.jsonl``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradwise.report.context import ReportContext
from gradwise.report.page import escape, image, table
from gradwise.report.plots import confusion_png, regression_png
from gradwise.report.results import (
    RESULT_VIEWS,
    confusion_counts,
    per_class_scores,
    predicted_classes,
)
from gradwise.report.sections import section


def target_keys(names: list[str]) -> list[str]:
    """Each target's key in metric names (as the multi-target paradigm names them)."""
    from gradwise.tasks.supervised import class_keys

    return class_keys(names)


def _classes_view(name: str, part: Any, block: np.ndarray, encoded: np.ndarray) -> str:
    labels = [str(c) for c in part.classes]
    counts = confusion_counts(encoded.astype(np.int64), predicted_classes(block), len(labels))
    scores = per_class_scores(counts)
    rows = [
        [
            label,
            *(float(scores[k][i]) for k in ("precision", "recall", "f1")),
            int(scores["support"][i]),
        ]
        for i, label in enumerate(labels)
    ]
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    return (
        '<div class="row"><div>'
        + image(confusion_png(counts, labels), f"confusion matrix of {name} (test)")
        + f"</div><div><h4>{escape(name)}: per-class metrics (test)</h4>"
        + table(["class", "precision", "recall", "F1", "support"], rows, [False, *[True] * 4])
        + f'<p class="note">Accuracy {accuracy:.4f} on {int(counts.sum())} test samples.</p>'
        + "</div></div>"
    )


def _values_view(name: str, part: Any, block: np.ndarray, encoded: np.ndarray) -> str:
    actual = np.asarray(part.decode(encoded)).reshape(-1, 1)  # (N, 1), original units
    predicted = np.asarray(part.decode(block)).reshape(-1, 1)
    residual = (actual - predicted)[:, 0]
    stats = table(
        ["target", "mean residual (bias)", "residual std", "RMSE", "largest |residual|"],
        [
            [
                name,
                float(residual.mean()),
                float(residual.std()),
                float(np.sqrt((residual**2).mean())),
                float(np.abs(residual).max()),
            ]
        ],
        [False, True, True, True, True],
    )
    return (
        image(regression_png(actual, predicted, [name]), f"{name}: predicted vs actual")
        + f"<h4>{escape(name)}: residuals (test, target units)</h4>"
        + stats
    )


TARGET_VIEWS = {"labels": _classes_view, "values": _values_view}  # by the target's kind


def several_targets(context: ReportContext, outputs: np.ndarray, targets: np.ndarray) -> str:
    """The results view of a run with several targets: each target's own view on its block of
    the outputs."""
    encoder = context.run.preprocessor.target
    blocks = encoder.split_outputs(outputs)
    encoded = np.asarray(targets).reshape(len(targets), -1)  # (N, T)
    parts = []
    for j, (name, part) in enumerate(zip(encoder.names, encoder.parts, strict=True)):
        parts.append(f"<h3>{escape(name)} ({escape(part.kind)})</h3>")
        parts.append(TARGET_VIEWS[part.kind](name, part, blocks[j], encoded[:, j]))
    return "".join(parts)


RESULT_VIEWS["multi"] = several_targets


def weights_png(metrics: list[dict[str, Any]], names: list[str], best_epoch: int | None) -> bytes:
    """Each target's learned weight c_t·exp(−s_t) per epoch."""
    from gradwise._plotting import colour, render_png

    keys = target_keys(names)

    def draw(figure: Any) -> None:
        axes = figure.subplots()
        for index, (name, key) in enumerate(zip(names, keys, strict=True)):
            points = [
                (row["epoch"], row[f"weight_{key}"])
                for row in metrics
                if isinstance(row.get(f"weight_{key}"), (int, float))
            ]
            if points:
                epochs, values = zip(*points, strict=True)
                axes.plot(epochs, values, marker="o", markersize=3, color=colour(index), label=name)
        if best_epoch is not None:
            axes.axvline(best_epoch, color="#999999", linestyle="--", linewidth=1.0)
        axes.set_xlabel("epoch")
        axes.xaxis.get_major_locator().set_params(integer=True)
        axes.set_ylabel("loss weight  c·exp(−s)")
        axes.set_title("Learned loss weights")
        axes.legend()

    return render_png(draw, 7.0, 3.2)


@section("loss_weights", "Loss weights", order=45)
def loss_weights(context: ReportContext) -> str | None:
    weighting = context.summary.get("loss_weights")
    if not context.is_run or not isinstance(weighting, dict):
        return None
    weights: dict[str, float] = weighting.get("weights") or {}
    log_variance: dict[str, float] = weighting.get("log_variance") or {}
    learned = weighting.get("kind") == "uncertainty"
    kinds = context.summary.get("targets") or {}
    rows = [
        [
            name,
            kinds.get(name, ""),
            weight,
            log_variance.get(name),
            math.exp(0.5 * log_variance[name]) if name in log_variance else None,
        ]
        for name, weight in weights.items()
    ]
    headers = ["target", "kind", "weight", "s = log σ²", "σ"]
    if learned:
        intro = (
            "Learned homoscedastic-uncertainty weights (Kendall, Gal &amp; Cipolla, 2018): "
            "L = Σ<sub>t</sub> c<sub>t</sub>·exp(−s<sub>t</sub>)·L<sub>t</sub> + s<sub>t</sub>/2, "
            "c = ½ for values, 1 for classes; weights after the last epoch."
        )
    else:
        intro = "Fixed weights: L = Σ<sub>t</sub> w<sub>t</sub>·L<sub>t</sub>."
        rows = [row[:3] for row in rows]
        headers = headers[:3]
    parts = [
        f'<p class="note">{intro}</p>',
        table(headers, rows, [False, False, *[True] * 3][: len(headers)]),
    ]
    if learned and context.metrics:
        parts.append(
            image(
                weights_png(context.metrics, list(weights), context.best_epoch),
                "learned loss weights per epoch",
            )
        )
    return "".join(parts)
