"""The report's figures (and the comparison's ``learning_curves.png``), as PNG bytes.

Drawn through :func:`gradwise._plotting.render_png`: a plain matplotlib figure (no pyplot), the
Okabe–Ito palette (Okabe & Ito, *Color Universal Design*, 2002) and sequential maps that are
monotone in lightness (viridis, Blues) for heatmaps. Axes are labelled with their units; figures
are sized for a ~1100 px wide page at 100 dpi so that text stays legible at natural size.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from gradwise._plotting import DPI, OKABE_ITO, colour, render_png
from gradwise.metric_names import higher_is_better

__all__ = [
    "DPI",
    "FULL_WIDTH",
    "comparison_higher_is_better",
    "confusion_png",
    "learning_curves_png",
    "overlay_curves_png",
    "regression_png",
    "size_curves_png",
]

TRAIN_COLOUR, VALID_COLOUR, BEST_COLOUR = OKABE_ITO[0], OKABE_ITO[1], OKABE_ITO[3]
FULL_WIDTH = 11.0  # inches: 1100 px at DPI


# ------------------------------------------------------------------------- learning curves
def _series(metrics: Sequence[dict[str, Any]], key: str) -> tuple[np.ndarray, np.ndarray]:
    """Epochs and finite values of ``key`` (epochs where it is missing or non-finite dropped)."""
    pairs = [
        (row["epoch"], float(row[key]))
        for row in metrics
        if isinstance(row.get(key), (int, float)) and math.isfinite(row[key])
    ]
    if not pairs:
        return np.empty(0), np.empty(0)
    epochs, values = zip(*pairs, strict=True)
    return np.asarray(epochs), np.asarray(values)


def _plot_series(axes: Any, epochs: np.ndarray, values: np.ndarray, **style: Any) -> None:
    marker = "o" if len(epochs) <= 30 else None  # markers only where they do not blur
    axes.plot(epochs, values, marker=marker, markersize=3, linewidth=1.6, **style)


def _mark_best(axes: Any, best_epoch: int | None, epochs: np.ndarray, values: np.ndarray) -> None:
    if best_epoch is None:
        return
    axes.axvline(best_epoch, color=BEST_COLOUR, linestyle="--", linewidth=1.0, label="best epoch")
    at_best = values[epochs == best_epoch]
    if len(at_best):
        axes.plot([best_epoch], at_best[:1], "o", color=BEST_COLOUR, markersize=7, zorder=5)


def _epoch_axis(axes: Any) -> None:
    axes.set_xlabel("epoch")
    axes.xaxis.get_major_locator().set_params(integer=True)


def _train_valid_panel(
    axes: Any,
    metrics: Sequence[dict[str, Any]],
    name: str,
    best_epoch: int | None,
    title: str,
    ylabel: str,
) -> None:
    """``train_<name>`` and ``valid_<name>`` per epoch, the best epoch marked on the latter."""
    for split, tint in (("train", TRAIN_COLOUR), ("valid", VALID_COLOUR)):
        epochs, values = _series(metrics, f"{split}_{name}")
        if len(epochs):
            _plot_series(axes, epochs, values, color=tint, label=split)
        if split == "valid":
            _mark_best(axes, best_epoch, epochs, values)
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    _epoch_axis(axes)
    axes.legend()


def learning_curves_png(
    metrics: Sequence[dict[str, Any]],
    main_metric: str | None,
    best_epoch: int | None,
    loss_name: str,
    metric_unit: str = "",
) -> bytes:
    """Loss and main metric (train vs valid, best epoch marked) and the learning rate per epoch."""
    metric_key = f"valid_{main_metric}" if main_metric else ""
    has_metric = any(metric_key in row for row in metrics)
    has_lr = any("lr" in row for row in metrics)
    panels = 1 + has_metric + has_lr

    def draw(figure: Figure) -> None:
        axes_list = list(np.atleast_1d(figure.subplots(1, panels)))
        _train_valid_panel(
            axes_list.pop(0), metrics, "loss", best_epoch, "Loss", f"loss ({loss_name})"
        )
        if has_metric:
            name = str(main_metric)
            title = name.upper() if len(name) <= 4 else name.capitalize()
            _train_valid_panel(
                axes_list.pop(0), metrics, name, best_epoch, title, f"{name}{metric_unit}"
            )
        if has_lr:
            lr_axes = axes_list.pop(0)
            epochs, rates = _series(metrics, "lr")
            lr_axes.step(epochs, rates, where="post", color=OKABE_ITO[2], linewidth=1.6)
            positive = rates[rates > 0]
            if len(positive) and positive.max() / positive.min() > 20:
                lr_axes.set_yscale("log")
            elif len(rates) and rates.max() == rates.min():  # constant: show it against zero
                lr_axes.set_ylim(0.0, 1.5 * rates.max() if rates.max() > 0 else 1.0)
            lr_axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
            lr_axes.set_title("Learning rate")
            lr_axes.set_ylabel("learning rate (at epoch end)")
            _epoch_axis(lr_axes)

    return render_png(draw, FULL_WIDTH, 3.6)


def overlay_curves_png(
    runs: Sequence[tuple[str, Sequence[dict[str, Any]], int | None]], main_metric: str | None
) -> bytes:
    """Several runs' curves on shared axes: valid solid, train dashed, one colour per run."""
    metric_key = f"valid_{main_metric}"
    has_metric = main_metric is not None and any(
        metric_key in row for _, metrics, _ in runs for row in metrics
    )

    def draw(figure: Figure) -> None:
        axes_list = list(np.atleast_1d(figure.subplots(1, 1 + has_metric)))
        for index, (label, metrics, best_epoch) in enumerate(runs):
            tint = colour(index)
            epochs, values = _series(metrics, "valid_loss")
            _plot_series(axes_list[0], epochs, values, color=tint, label=f"{label} (valid)")
            epochs, values = _series(metrics, "train_loss")
            _plot_series(axes_list[0], epochs, values, color=tint, linestyle="--", alpha=0.7)
            if has_metric:
                epochs, values = _series(metrics, metric_key)
                _plot_series(axes_list[1], epochs, values, color=tint, label=label)
                at_best = values[epochs == best_epoch] if best_epoch is not None else []
                if len(at_best):
                    axes_list[1].plot([best_epoch], at_best[:1], "o", color=tint, markersize=7)
        axes_list[0].set_title("Loss (valid solid, train dashed)")
        axes_list[0].set_ylabel("loss")
        axes_list[0].legend(fontsize=8)
        if has_metric:
            axes_list[1].set_title(f"Valid {main_metric} (dot: best epoch)")
            axes_list[1].set_ylabel(str(main_metric))
            axes_list[1].legend(fontsize=8)
        for axes in axes_list:
            _epoch_axis(axes)

    return render_png(draw, FULL_WIDTH, 4.0)


# --------------------------------------------------------------------------------- results
def confusion_png(counts: np.ndarray, class_names: Sequence[str]) -> bytes:
    """Rows: true class, columns: predicted; colour is the row share (recall), text the count."""
    n = len(class_names)
    row_share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)  # (K, K)
    side = min(max(3.2 + 0.42 * n, 4.0), 9.0)

    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        image = axes.imshow(row_share, cmap="Blues", vmin=0.0, vmax=1.0)
        axes.grid(False)
        ticks = np.arange(n)
        labels = [str(name)[:14] for name in class_names]
        axes.set_xticks(
            ticks, labels, rotation=45 if n > 4 else 0, ha="right" if n > 4 else "center"
        )
        axes.set_yticks(ticks, labels)
        axes.set_xlabel("predicted class")
        axes.set_ylabel("true class")
        axes.set_title("Confusion matrix (test)")
        if n <= 20:
            size = 11 if n <= 6 else 9 if n <= 10 else 7
            for (i, j), count in np.ndenumerate(counts):
                tint = "white" if row_share[i, j] > 0.55 else "#222222"
                axes.text(
                    j, i, str(int(count)), ha="center", va="center", color=tint, fontsize=size
                )
        bar = figure.colorbar(image, ax=axes, shrink=0.8)
        bar.set_label("share of the true class (recall)")

    return render_png(draw, side + 1.2, side)


def regression_png(actual: np.ndarray, predicted: np.ndarray, target_names: Sequence[str]) -> bytes:
    """Per target: predicted vs actual (with the y = x line) and residuals vs predicted."""
    actual = actual.reshape(len(actual), -1)  # (N, T)
    predicted = predicted.reshape(len(predicted), -1)
    shown = min(actual.shape[1], 3)
    alpha = 0.7 if len(actual) <= 500 else 0.35

    def draw(figure: Figure) -> None:
        grid = np.atleast_2d(figure.subplots(shown, 2, squeeze=False))
        for t in range(shown):
            name = target_names[t] if t < len(target_names) else f"target {t}"
            truth, guess = actual[:, t], predicted[:, t]
            left, right = grid[t]
            left.scatter(truth, guess, s=12, alpha=alpha, color=OKABE_ITO[0], edgecolors="none")
            low, high = float(min(truth.min(), guess.min())), float(max(truth.max(), guess.max()))
            left.plot([low, high], [low, high], color=BEST_COLOUR, linestyle="--", label="y = x")
            left.set_xlabel(f"actual {name}")
            left.set_ylabel(f"predicted {name}")
            left.set_title(f"Predicted vs actual (test): {name}")
            left.legend(loc="upper left")
            residual = truth - guess
            right.scatter(guess, residual, s=12, alpha=alpha, color=OKABE_ITO[2], edgecolors="none")
            right.axhline(0.0, color=BEST_COLOUR, linestyle="--")
            right.set_xlabel(f"predicted {name}")
            right.set_ylabel(f"residual (actual − predicted) [{name} units]")
            right.set_title("Residuals (test)")

    return render_png(draw, FULL_WIDTH, 4.0 * shown)


# ------------------------------------------------------------------------------ comparison
SIZE_CURVE_LABELS = {
    "accuracy": "test accuracy (fraction correct)",
    "f1": "test macro-F1",
    "auc": "test ROC-AUC",
    "rmse": "test RMSE (target units)",
    "mae": "test MAE (target units)",
    "r2": "test R² (fraction of variance explained)",
}
# the range a metric can take: the ±std bands are clipped to it
VALUE_RANGES: dict[str, tuple[float | None, float | None]] = {
    "accuracy": (0.0, 1.0),
    "f1": (0.0, 1.0),
    "auc": (0.0, 1.0),
    "r2": (None, 1.0),
    "rmse": (0.0, None),
    "mae": (0.0, None),
}


def comparison_higher_is_better(comparison: Mapping[str, Any]) -> bool:
    """The ``higher_is_better`` that ``compare.json`` stores; the metric's name for a document
    without it."""
    stored = comparison.get("higher_is_better")
    return stored if isinstance(stored, bool) else higher_is_better(str(comparison.get("metric")))


def size_curves_png(comparison: Mapping[str, Any]) -> bytes:
    """A ``compare.json`` document's learning curves: test metric against training rows (log
    scale), one line per model with a ±1 std band over seeds clipped to the metric's range.

    Deep models are solid lines with round markers and take the first colours; classical ones are
    dashed with square markers. Points missing ``n_train`` or ``mean`` are left out.
    """
    metric = str(comparison.get("metric", "score"))
    curves = [
        point
        for point in comparison.get("learning_curves") or []
        if isinstance(point.get("n_train"), (int, float))
        and point["n_train"] > 0
        and isinstance(point.get("mean"), (int, float))
    ]
    table = {m.get("name"): m for m in comparison.get("models") or [] if isinstance(m, dict)}
    family = {
        p["model"]: p.get("family") or (table.get(p["model"]) or {}).get("family") or "classical"
        for p in curves
    }
    names = [name for name in table if name in family]
    names += [name for name in dict.fromkeys(p["model"] for p in curves) if name not in names]
    names.sort(key=lambda name: family[name] != "deep")  # stable: deep models first
    low, high = VALUE_RANGES.get(metric, (None, None))
    seeds = len(comparison.get("seeds") or []) or 1
    dataset = (comparison.get("dataset") or {}).get("source") or comparison.get("name")

    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        for index, name in enumerate(names):
            points = sorted((p for p in curves if p["model"] == name), key=lambda p: p["n_train"])
            deep = family[name] == "deep"
            rows = np.array([p["n_train"] for p in points], dtype=float)
            mean = np.array([p["mean"] for p in points], dtype=float)
            spread = np.array([p.get("std") or 0.0 for p in points], dtype=float)
            axes.fill_between(
                rows,
                np.clip(mean - spread, low, high),
                np.clip(mean + spread, low, high),
                color=colour(index),
                alpha=0.12,
                linewidth=0,
            )
            axes.plot(
                rows,
                mean,
                color=colour(index),
                linestyle="-" if deep else "--",
                marker="o" if deep else "s",
                linewidth=2.4 if deep else 1.4,
                markersize=6 if deep else 4,
                label=f"{name} ({'deep' if deep else 'classical'})",
                zorder=3 if deep else 2,
            )
        axes.set_xscale("log")
        sizes = sorted({int(p["n_train"]) for p in curves})
        axes.set_xticks(sizes, [f"{size:,}" for size in sizes])  # the measured sizes themselves
        axes.xaxis.set_minor_formatter(NullFormatter())
        axes.set_xlabel("training rows (log scale)")
        better = "higher" if comparison_higher_is_better(comparison) else "lower"
        axes.set_ylabel(f"{SIZE_CURVE_LABELS.get(metric, f'test {metric}')}, {better} is better")
        where = f"{dataset}: learning curves" if dataset else "Learning curves"
        axes.set_title(f"{where} (mean ± 1 std over {seeds} seed(s))")
        axes.grid(True, which="both", alpha=0.5)
        if names:
            axes.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))

    return render_png(draw, 9.0, 4.8)
