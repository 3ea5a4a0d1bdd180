"""The report's figures (and the comparison's ``learning_curves.png``), as PNG bytes.

Drawn through :func:`gradwise._plotting.render_png`: a plain matplotlib figure (no pyplot), the
Okabe–Ito palette (Okabe & Ito, *Color Universal Design*, 2002) and sequential maps that are
monotone in lightness (viridis, Blues) for heatmaps. Axes are labelled with their units; figures
are sized for a ~1100 px wide page at 100 dpi so that text stays legible at natural size.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from gradwise._plotting import DPI, OKABE_ITO, colour, render_png
from gradwise.metric_names import higher_is_better

__all__ = [
    "DPI",
    "FULL_WIDTH",
    "LossAxis",
    "comparison_higher_is_better",
    "confusion_png",
    "learning_curves_png",
    "loss_axis",
    "overlay_curves_png",
    "regression_png",
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


# ------------------------------------------------------------------------------ loss axis
SPIKE_FACTOR = 10.0  # a value more than this many times the others' span above them is a spike
MAX_CLIPPED_SHARE = 0.1  # at most this share of the values (at least one) is left above the axis
LOG_RATIO = 100.0  # positive values whose largest / smallest reaches this go on a log axis
HEADROOM = 0.22  # space above the values kept when spikes are clipped, as a share of their span


@dataclass(frozen=True)
class LossAxis:
    """How a loss panel's y axis is drawn so that one exploding epoch does not flatten the rest.

    When spikes are left above the axis, ``limits`` holds the y-limits (with headroom above the
    values kept, where the note goes), ``clipped`` counts the values above the top and ``peak``
    is the largest.
    """

    log: bool = False  # the values kept inside the axis span orders of magnitude
    limits: tuple[float, float] | None = None
    clipped: int = 0
    peak: float | None = None

    @property
    def top(self) -> float | None:
        return self.limits[1] if self.limits else None

    def note(self) -> str:
        """What the panel says about the values it does not show ("" when it shows all)."""
        if not self.clipped:
            return ""
        values = "1 value" if self.clipped == 1 else f"{self.clipped} values"
        return f"▲ axis clipped at {self.top:.3g}:\n{values} above (max {self.peak:.3g})"


def loss_axis(values: Sequence[float] | np.ndarray) -> LossAxis:
    """The y axis for loss values (every series of one panel together).

    Spikes are the few largest values (at most ``MAX_CLIPPED_SHARE``) that stand more than
    ``SPIKE_FACTOR`` times the span of the other values above them; they are left above the
    axis. The values kept go on a log axis when all are positive and span ``LOG_RATIO`` or more.
    """
    finite = np.asarray(values, dtype=np.float64)
    finite = np.sort(finite[np.isfinite(finite)])[::-1]  # descending
    clipped = 0
    for k in range(1, max(1, int(len(finite) * MAX_CLIPPED_SHARE)) + 1):
        if len(finite) - k < 2:  # keep two values at least
            break
        kept_max, kept_min = finite[k], finite[-1]
        span = max(kept_max - kept_min, 0.1 * abs(kept_max))
        if finite[k - 1] - kept_max > SPIKE_FACTOR * span:
            clipped = k  # the fewest values that make the rest readable
            break
    kept = finite[clipped:]
    log = bool(len(kept) > 1 and kept[-1] > 0 and kept[0] / kept[-1] >= LOG_RATIO)
    if not clipped:
        return LossAxis(log=log)
    low, high = float(kept[-1]), float(kept[0])
    if log:  # margins in decades
        decades = math.log10(high / low)
        limits = (low / 10 ** (0.05 * decades), high * 10 ** (HEADROOM * decades))
    else:
        span = high - low or 0.1 * abs(high) or 1.0
        limits = (low - 0.05 * span, high + HEADROOM * span)
    # the headroom never reaches the smallest clipped value: every spike stays above the axis
    top = min(limits[1], (high + float(finite[clipped - 1])) / 2)
    return LossAxis(log, (limits[0], top), clipped, float(finite[0]))


def _apply_loss_axis(axes: Any, axis: LossAxis, series: Sequence[tuple[Any, Any, str]]) -> None:
    """Set the scale and limits; mark each value above the axis with a triangle at the top, in
    its series' colour, and write :meth:`LossAxis.note` in the headroom, away from them."""
    if axis.log:
        axes.set_yscale("log")
    if axis.limits is None:
        return
    axes.set_ylim(*axis.limits)
    top = axis.limits[1]
    spike_epochs = []
    for epochs, values, tint in series:
        above = values > top
        if not above.any():
            continue
        spike_epochs += list(epochs[above])
        axes.plot(  # x in epochs, y as a fraction of the axes: just under the top edge
            epochs[above],
            np.full(int(above.sum()), 0.97),
            "^",
            color=tint,
            markersize=7,
            transform=axes.get_xaxis_transform(),
            zorder=6,
        )
    if not spike_epochs:
        return
    low, high = axes.get_xlim()
    left_half = np.mean(spike_epochs) < (low + high) / 2
    axes.annotate(
        axis.note(),
        xy=(0.98, 0.985) if left_half else (0.02, 0.985),
        xycoords="axes fraction",
        ha="right" if left_half else "left",
        va="top",
        fontsize=8,
        color="#333333",
        bbox={"boxstyle": "square,pad=0.15", "facecolor": "white", "alpha": 0.85, "linewidth": 0},
    )


def _train_valid_panel(
    axes: Any,
    metrics: Sequence[dict[str, Any]],
    name: str,
    best_epoch: int | None,
    title: str,
    ylabel: str,
    fit_axis: bool = False,
) -> None:
    """``train_<name>`` and ``valid_<name>`` per epoch, the best epoch marked on the latter.

    ``fit_axis``: the y axis is chosen by :func:`loss_axis` (for losses, which can explode).
    """
    drawn = []
    for split, tint in (("train", TRAIN_COLOUR), ("valid", VALID_COLOUR)):
        epochs, values = _series(metrics, f"{split}_{name}")
        if len(epochs):
            _plot_series(axes, epochs, values, color=tint, label=split)
            drawn.append((epochs, values, tint))
        if split == "valid":
            _mark_best(axes, best_epoch, epochs, values)
    if fit_axis and drawn:
        axis = loss_axis(np.concatenate([values for _, values, _ in drawn]))
        _apply_loss_axis(axes, axis, drawn)
        ylabel += ", log scale" if axis.log else ""
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
        ylabel = f"loss ({loss_name})" if loss_name else "loss"
        _train_valid_panel(axes_list.pop(0), metrics, "loss", best_epoch, "Loss", ylabel, True)
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
    runs: Sequence[tuple[str, Sequence[dict[str, Any]], int | None]],
    main_metric: str | None,
    loss_name: str | None = None,
    colours: Sequence[str] | None = None,
) -> bytes:
    """Several runs' curves on shared axes: valid solid, train dashed, one colour per run.

    The runs must be comparable (one task, one loss, one main metric): the caller groups them.
    ``colours``: one per run (default: the palette in order), so that a run keeps its colour
    across several figures. The loss axis is chosen by :func:`loss_axis`.
    """
    metric_key = f"valid_{main_metric}"
    has_metric = main_metric is not None and any(
        metric_key in row for _, metrics, _ in runs for row in metrics
    )
    tints = list(colours) if colours is not None else [colour(i) for i in range(len(runs))]

    def draw(figure: Figure) -> None:
        axes_list = list(np.atleast_1d(figure.subplots(1, 1 + has_metric)))
        losses = []
        for tint, (label, metrics, best_epoch) in zip(tints, runs, strict=True):
            epochs, values = _series(metrics, "valid_loss")
            _plot_series(axes_list[0], epochs, values, color=tint, label=f"{label} (valid)")
            losses.append((epochs, values, tint))
            epochs, values = _series(metrics, "train_loss")
            _plot_series(axes_list[0], epochs, values, color=tint, linestyle="--", alpha=0.7)
            losses.append((epochs, values, tint))
            if has_metric:
                epochs, values = _series(metrics, metric_key)
                _plot_series(axes_list[1], epochs, values, color=tint, label=label)
                at_best = values[epochs == best_epoch] if best_epoch is not None else []
                if len(at_best):
                    axes_list[1].plot([best_epoch], at_best[:1], "o", color=tint, markersize=7)
        axis = loss_axis(np.concatenate([values for _, values, _ in losses]))
        _apply_loss_axis(axes_list[0], axis, losses)
        axes_list[0].set_title("Loss (valid solid, train dashed)")
        ylabel = f"loss ({loss_name})" if loss_name else "loss"
        axes_list[0].set_ylabel(ylabel + (", log scale" if axis.log else ""))
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
def comparison_higher_is_better(comparison: Mapping[str, Any]) -> bool:
    """The ``higher_is_better`` that ``compare.json`` stores; the metric's name for a document
    without it."""
    stored = comparison.get("higher_is_better")
    return stored if isinstance(stored, bool) else higher_is_better(str(comparison.get("metric")))
