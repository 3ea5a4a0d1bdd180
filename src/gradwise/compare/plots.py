"""``learning_curves.png``: test metric against training-set size, one line per model.

Deep models are solid lines with round markers, classical ones dashed with square markers; the
band around each line is ±1 standard deviation over seeds. The x axis is logarithmic (training
rows), colours are the Okabe–Ito palette (readable with colour-vision deficiencies).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from gradwise._io import atomic_write

OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow (last: faint on white)
)
METRIC_LABELS = {
    "accuracy": "test accuracy (fraction correct)",
    "f1": "test macro-F1",
    "auc": "test ROC-AUC",
    "rmse": "test RMSE (target units)",
    "mae": "test MAE (target units)",
    "r2": "test R² (fraction of variance explained)",
}


# the range a metric can take: the ±std bands are clipped to it
VALUE_RANGES = {
    "accuracy": (0.0, 1.0),
    "f1": (0.0, 1.0),
    "auc": (0.0, 1.0),
    "r2": (None, 1.0),
    "rmse": (0.0, None),
    "mae": (0.0, None),
}


def plot_learning_curves(document: dict[str, Any], path: Path) -> Path:
    """Draw the document's learning curves into ``path`` (written atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    metric = document["metric"]
    curves = document["learning_curves"]
    family = {c["model"]: c.get("family", "classical") for c in curves}
    names = [m["name"] for m in document["models"] if m["name"] in family]
    names += sorted(set(family) - set(names))
    names.sort(key=lambda name: family[name] != "deep")  # deep models get the first colours
    low_limit, high_limit = VALUE_RANGES.get(metric, (None, None))
    figure, axes = plt.subplots(figsize=(8.5, 5.0), dpi=120)
    for index, name in enumerate(names):
        points = sorted((c for c in curves if c["model"] == name), key=lambda c: c["n_train"])
        deep = family[name] == "deep"
        colour = OKABE_ITO[index % len(OKABE_ITO)]
        rows = np.array([c["n_train"] for c in points])
        mean = np.array([c["mean"] for c in points])
        spread = np.array([c["std"] for c in points])
        axes.fill_between(
            rows,
            np.clip(mean - spread, low_limit, high_limit),
            np.clip(mean + spread, low_limit, high_limit),
            color=colour,
            alpha=0.12,
            linewidth=0,
        )
        axes.plot(
            rows,
            mean,
            color=colour,
            linestyle="-" if deep else "--",
            marker="o" if deep else "s",
            linewidth=2.4 if deep else 1.4,
            markersize=6 if deep else 4,
            label=f"{name} ({'deep' if deep else 'classical'})",
            zorder=3 if deep else 2,
        )
    axes.set_xscale("log")
    sizes = sorted({c["n_train"] for c in curves})
    axes.set_xticks(sizes, [str(n) for n in sizes])
    axes.xaxis.set_minor_formatter(NullFormatter())
    axes.set_xlabel("training rows (log scale)")
    better = "higher" if document.get("higher_is_better", True) else "lower"
    axes.set_ylabel(f"{METRIC_LABELS.get(metric, f'test {metric}')}, {better} is better")
    seeds = len(document.get("seeds", [])) or 1
    dataset = document.get("dataset", {}).get("source") or document.get("name", "")
    axes.set_title(f"{dataset}: learning curves (mean ± 1 std over {seeds} seed(s))")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, fontsize=9)
    figure.tight_layout()
    atomic_write(path, lambda tmp: figure.savefig(tmp, format="png"))
    plt.close(figure)
    return path
