"""Diagnostic heatmaps: a statistic of every layer (rows, forward order) over the samples taken
during training (columns, placed at their optimizer step, with the epochs marked on top)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from gradwise._plotting import render_png
from gradwise.report.plots import FULL_WIDTH


def step_edges(steps: Sequence[int]) -> np.ndarray:
    """Cell edges for samples at ``steps``: halfway between neighbours, half a gap at the ends.

    Samples need not be evenly spaced (the first one is often at step 1, then every N).
    """
    centres = np.asarray(steps, dtype=np.float64)
    if len(centres) == 1:
        return np.array([centres[0] - 0.5, centres[0] + 0.5])
    middles = (centres[1:] + centres[:-1]) / 2
    first = max(centres[0] - (middles[0] - centres[0]), min(centres[0] - 0.5, 0.0))  # no step < 0
    return np.concatenate([[first], middles, [centres[-1] + (centres[-1] - middles[-1])]])


def _layer_heatmap(
    figure: Figure,
    axes: Any,
    values: np.ndarray,
    steps: Sequence[int],
    layer_labels: Sequence[str],
    title: str,
    bar_label: str,
    limits: tuple[float | None, float | None] = (None, None),
    epochs: Sequence[int] | None = None,
) -> Any:
    """Layers (rows, forward order) × diagnostic samples (columns, by optimizer step); returns
    the mesh, for a colour bar labelled ``bar_label`` (none drawn when it is empty)."""
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="#bbbbbb")  # grey: missing, NaN
    masked = np.ma.masked_invalid(values)
    rows = np.arange(len(layer_labels) + 1) - 0.5
    image = axes.pcolormesh(
        step_edges(steps),
        rows,
        masked,
        cmap=cmap,
        vmin=limits[0],
        vmax=limits[1],
        shading="flat",
        rasterized=True,
    )
    axes.set_ylim(rows[-1], rows[0])  # first layer at the top
    axes.grid(False)
    axes.set_yticks(np.arange(len(layer_labels)), layer_labels)
    axes.set_xlabel("optimizer step")
    axes.set_title(title)
    if epochs is not None:
        _epoch_ticks(axes, steps, epochs)
    if bar_label:
        figure.colorbar(image, ax=axes, pad=0.01).set_label(bar_label)
    return image


def _epoch_ticks(axes: Any, steps: Sequence[int], epochs: Sequence[int]) -> None:
    """A top axis marking the first sampled step of each epoch (at most ~8 labels)."""
    starts = [
        (s, e)
        for i, (s, e) in enumerate(zip(steps, epochs, strict=True))
        if i == 0 or epochs[i - 1] != e
    ]
    stride = max(1, math.ceil(len(starts) / 8))
    shown = starts[::stride]
    top = axes.secondary_xaxis("top")
    top.set_xticks([s for s, _ in shown], [str(e) for _, e in shown])
    top.set_xlabel("epoch")


def gradient_flow_png(
    steps: Sequence[int],
    epochs: Sequence[int],
    layer_labels: Sequence[str],
    grad_norms: np.ndarray,
) -> bytes:
    """log10 of each layer's gradient norm over training: vanishing layers dark, exploding bright.

    ``grad_norms`` is (layers, samples); zeros and non-finite values show as grey.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        log_norms = np.where(grad_norms > 0, np.log10(grad_norms), np.nan)  # (L, S)
    height = min(max(1.6 + 0.28 * len(layer_labels), 2.6), 9.0)

    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        _layer_heatmap(
            figure,
            axes,
            log_norms,
            steps,
            layer_labels,
            "Gradient flow: per-layer gradient norm",
            "log10 ‖gradient‖ (L2)",
            epochs=epochs,
        )
        axes.set_ylabel("layer (input at top)")

    return render_png(draw, FULL_WIDTH, height)


def unit_fractions_png(
    steps: Sequence[int],
    epochs: Sequence[int],
    layer_labels: Sequence[str],
    dead: np.ndarray,
    saturated: np.ndarray,
) -> bytes:
    """Share of dead and of saturated units per activation layer over training, 0 to 1."""
    height = min(max(1.6 + 0.28 * len(layer_labels), 2.1), 9.0)
    panels = [
        (m, t)
        for m, t in ((dead, "Dead units"), (saturated, "Saturated units"))
        if np.isfinite(m).any()
    ]

    def draw(figure: Figure) -> None:
        # one row of panels over the same layers and one 0..1 scale: one y axis, one colour bar
        axes_list = np.atleast_1d(figure.subplots(1, len(panels), sharey=True))
        for axes, (values, title) in zip(axes_list, panels, strict=True):
            image = _layer_heatmap(
                figure, axes, values, steps, layer_labels, title, "", (0.0, 1.0), epochs
            )
        figure.colorbar(image, ax=list(axes_list), pad=0.01).set_label("fraction of units")
        axes_list[0].set_ylabel("activation layer")

    return render_png(draw, FULL_WIDTH, height)
