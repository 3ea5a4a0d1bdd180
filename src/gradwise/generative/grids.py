"""Samples as a person looks at them: a PNG grid for images and signals, a CSV for tables.

Images ``(n, C, H, W)`` (or ``(n, H, W)``) are tiled into a square grid, each tile scaled with
the data's own range (the preprocessing undone first, so a pixel means what it meant in the
data); signals ``(n, C, L)`` are drawn as small line plots; table rows are written with the
column names and in the original units where the preprocessing can be undone (numeric columns;
one-hot blocks of categorical columns become the category with the largest value). Torch-free.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from gradwise._io import atomic_write_bytes, atomic_write_text
from gradwise.errors import DataError

GRID_SUFFIXES = {"image": (".png",), "signal": (".png",), "tabular": (".csv",)}


def original_units(samples: np.ndarray, preprocessor: Any) -> np.ndarray:
    """Array samples with the per-feature/per-channel scaling undone: x·factor + offset."""
    if preprocessor.offset is None or preprocessor.factor is None:
        return samples
    offset = np.asarray(preprocessor.offset, dtype=np.float64)
    factor = np.asarray(preprocessor.factor, dtype=np.float64)
    if samples.ndim > 2:  # per channel: (C,) -> (C, 1, ...)
        offset = offset.reshape(-1, *([1] * (samples.ndim - 2)))
        factor = factor.reshape(-1, *([1] * (samples.ndim - 2)))
    return samples * factor + offset


def table_rows(samples: np.ndarray, preprocessor: Any) -> Any:
    """Table samples (n, features) as a DataFrame of the input columns in original units."""
    import pandas as pd

    flat = samples.reshape(len(samples), -1)
    if preprocessor.columns is None:
        names = preprocessor.feature_names
        return pd.DataFrame(original_units(flat, preprocessor), columns=names)
    columns, start = {}, 0
    for spec in preprocessor.columns:
        if spec["kind"] == "numeric":
            columns[spec["name"]] = flat[:, start] * spec["factor"] + spec["offset"]
            start += 1
            continue
        categories = list(spec.get("categories") or [])
        width = len(categories) or 1
        block = flat[:, start : start + width]
        columns[spec["name"]] = (
            [categories[i] for i in block.argmax(axis=1)] if categories else (block[:, 0])
        )
        start += width
    return pd.DataFrame(columns)


def check_output(path: Path, input_kind: str) -> None:
    """A DataError unless ``path``'s suffix fits the kind of data (.png or .csv)."""
    allowed = GRID_SUFFIXES.get(input_kind, (".png",))
    if path.suffix.lower() not in allowed:
        raise DataError(
            f"-o {path}: samples of {input_kind} data are written as "
            f"{' or '.join(allowed)}, not '{path.suffix or 'no suffix'}'"
        )


def grid_png(samples: np.ndarray, input_kind: str, labels: list[str] | None = None) -> bytes:
    """A square grid of ``samples`` as PNG bytes: image tiles or small line plots."""
    from gradwise._plotting import render_png

    n = len(samples)
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    if input_kind == "image":
        images = samples if samples.ndim == 3 else samples.transpose(0, 2, 3, 1)
        if images.ndim == 4 and images.shape[-1] == 1:
            images = images[..., 0]
        low, high = (float(v) for v in np.percentile(images, [2, 99.5]))  # robust range
        scaled = (images - low) / (high - low) if high > low else np.zeros_like(images)

        def draw(figure: Any) -> None:
            axes = np.atleast_1d(figure.subplots(rows, cols)).ravel()
            for i, ax in enumerate(axes):
                ax.set_axis_off()
                if i < n:
                    ax.imshow(np.clip(scaled[i], 0, 1), cmap="gray_r", vmin=0, vmax=1)
                    if labels:
                        ax.set_title(str(labels[i]), fontsize=7)

        return render_png(draw, 0.75 * cols, 0.75 * rows + 0.2)
    signals = samples.reshape(n, -1, samples.shape[-1]) if samples.ndim > 1 else samples

    def draw_signals(figure: Any) -> None:
        axes = np.atleast_1d(figure.subplots(rows, cols, sharey=True)).ravel()
        for i, ax in enumerate(axes):
            ax.set_xticks([])
            ax.set_yticks([])
            if i >= n:
                ax.set_axis_off()
                continue
            for channel in signals[i]:
                ax.plot(channel, linewidth=1.0)
            if labels:
                ax.set_title(str(labels[i]), fontsize=7)

    return render_png(draw_signals, 1.1 * cols, 0.8 * rows + 0.2)


def write_samples(
    path: Path, samples: np.ndarray, preprocessor: Any, labels: list[Any] | None = None
) -> Path:
    """Write ``samples`` (preprocessed space) to ``path`` as the data's kind asks (atomic)."""
    kind = preprocessor.input_kind
    check_output(path, kind)
    if kind == "tabular":
        frame = table_rows(samples, preprocessor)
        if labels is not None:
            frame.insert(0, "label", labels)
        return atomic_write_text(path, frame.to_csv(index=False))
    shown = [str(v) for v in labels] if labels is not None else None
    return atomic_write_bytes(path, grid_png(original_units(samples, preprocessor), kind, shown))
