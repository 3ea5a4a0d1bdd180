"""``learning_curves.png``: a comparison's test metric against training rows, as small multiples.

One panel per model (deep models first, then classical ones, each best first), all on the same
axes: the model's mean over seeds with a ±1 std band clipped to the metric's range, and in every
other panel the best deep and the best classical model as thin reference lines. Six bands on one
axis overlap into a muddle; one band per panel with two fixed references stays readable, and any
panel answers "how does this model compare with the best of each family?" at every size.

Drawn through :func:`gradwise._plotting.render_png` (a plain matplotlib figure, no pyplot) in the
Okabe–Ito palette (Okabe & Ito, *Color Universal Design*, 2002): deep in blue, classical in
vermillion, distinguishable under the common colour-vision deficiencies.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from gradwise._plotting import OKABE_ITO, render_png
from gradwise.report.plots import FULL_WIDTH, comparison_higher_is_better

__all__ = ["draw_size_curves", "size_curves_png"]

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


FAMILY_COLOUR = {"deep": OKABE_ITO[0], "classical": OKABE_ITO[3]}  # blue, vermillion
FAMILY_MARKER = {"deep": "o", "classical": "s"}
REFERENCE_STYLE = {"deep": "--", "classical": "-."}
COLUMNS = 3
PANEL_HEIGHT = 2.5  # inches per row of panels


@dataclass
class Curve:
    """One model's learning curve: training rows, mean and std of the test metric over seeds."""

    name: str
    family: str  # deep | classical
    rows: np.ndarray  # (P,) sorted
    mean: np.ndarray  # (P,)
    std: np.ndarray  # (P,)

    @property
    def final(self) -> float:
        return float(self.mean[-1])  # at the most training rows


def model_curves(comparison: Mapping[str, Any]) -> list[Curve]:
    """The document's curves per model, deep models first, each family best first (by the
    score on the most rows). Points missing ``n_train`` or ``mean`` are left out."""
    points = [
        point
        for point in comparison.get("learning_curves") or []
        if isinstance(point.get("n_train"), (int, float))
        and point["n_train"] > 0
        and isinstance(point.get("mean"), (int, float))
        and math.isfinite(point["mean"])
    ]
    table = {m.get("name"): m for m in comparison.get("models") or [] if isinstance(m, dict)}
    curves = []
    for name in dict.fromkeys(p["model"] for p in points):
        mine = sorted((p for p in points if p["model"] == name), key=lambda p: p["n_train"])
        family = mine[0].get("family") or (table.get(name) or {}).get("family")
        curves.append(
            Curve(
                name,
                "deep" if family == "deep" else "classical",
                np.array([p["n_train"] for p in mine], dtype=float),
                np.array([p["mean"] for p in mine], dtype=float),
                np.array([p.get("std") or 0.0 for p in mine], dtype=float),
            )
        )
    sign = -1.0 if comparison_higher_is_better(comparison) else 1.0
    return sorted(curves, key=lambda c: (c.family != "deep", sign * c.final))


def best_of_each_family(comparison: Mapping[str, Any], curves: Sequence[Curve]) -> dict[str, Curve]:
    """The best deep and classical model: the ones the verdict compared, else the family's
    best on the most rows (``curves`` is ordered best first within each family)."""
    named = comparison.get("comparison") or {}
    best: dict[str, Curve] = {}
    for family in ("deep", "classical"):
        members = [c for c in curves if c.family == family]
        chosen = [c for c in members if c.name == named.get(family)]
        if chosen or members:
            best[family] = (chosen or members)[0]
    return best


def size_curves_png(comparison: Mapping[str, Any]) -> bytes:
    """A ``compare.json`` document's learning curves as PNG bytes (see the module docs)."""
    panels = max(1, len(model_curves(comparison)))
    rows = math.ceil(panels / min(COLUMNS, panels))
    draw = partial(draw_size_curves, comparison=comparison)
    return render_png(draw, FULL_WIDTH, 1.3 + PANEL_HEIGHT * rows)


def draw_size_curves(figure: Any, comparison: Mapping[str, Any]) -> None:
    """:func:`size_curves_png`'s drawing on ``figure`` (a test reads its panels and legend)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import NullFormatter

    metric = str(comparison.get("metric", "score"))
    better = "higher" if comparison_higher_is_better(comparison) else "lower"
    seeds = len(comparison.get("seeds") or []) or 1
    dataset = (comparison.get("dataset") or {}).get("source") or comparison.get("name")
    where = f"{dataset}: learning curves" if dataset else "Learning curves"
    figure.suptitle(f"{where} (mean ± 1 std over {seeds} seed(s); {better} is better)")
    curves = model_curves(comparison)
    if not curves:
        axes = figure.subplots()
        axes.text(0.5, 0.5, "no learning-curve points", ha="center", transform=axes.transAxes)
        return
    best = best_of_each_family(comparison, curves)
    low, high = VALUE_RANGES.get(metric, (None, None))
    columns = min(COLUMNS, len(curves))
    grid = figure.subplots(
        math.ceil(len(curves) / columns), columns, sharex=True, sharey=True, squeeze=False
    )
    panels = list(grid.flat)
    for extra in panels[len(curves) :]:
        figure.delaxes(extra)
    sizes = sorted({int(size) for curve in curves for size in curve.rows})
    for index, (axes, curve) in enumerate(zip(panels, curves, strict=False)):
        for family, reference in best.items():
            if reference is not curve:
                axes.plot(
                    reference.rows,
                    reference.mean,
                    color=FAMILY_COLOUR[family],
                    linestyle=REFERENCE_STYLE[family],
                    linewidth=1.1,
                    alpha=0.8,
                    gid=f"best {family}",
                )
        tint = FAMILY_COLOUR[curve.family]
        axes.fill_between(
            curve.rows,
            np.clip(curve.mean - curve.std, low, high),
            np.clip(curve.mean + curve.std, low, high),
            color=tint,
            alpha=0.18,
            linewidth=0,
        )
        axes.plot(
            curve.rows,
            curve.mean,
            color=tint,
            marker=FAMILY_MARKER[curve.family],
            markersize=5,
            linewidth=2.2,
            zorder=3,
            gid="model",
        )
        crown = " — best " + curve.family if best.get(curve.family) is curve else ""
        axes.set_title(
            f"{curve.name} ({curve.family}{crown})\n{curve.final:.3f} ± {curve.std[-1]:.3f} "
            f"at {int(curve.rows[-1]):,} rows",
            fontsize=9,
        )
        axes.set_xscale("log")
        axes.set_xticks(sizes, [f"{size:,}" for size in sizes])  # the measured sizes themselves
        axes.xaxis.set_minor_formatter(NullFormatter())
        axes.grid(True, which="major", alpha=0.5)
        last_in_column = index + columns >= len(curves)
        if last_in_column:  # the bottom panel of its column: it carries the x axis
            axes.xaxis.set_tick_params(labelbottom=True)
            axes.set_xlabel("training rows (log scale)")
        if index % columns == 0:
            axes.set_ylabel(SIZE_CURVE_LABELS.get(metric, f"test {metric}"), fontsize=9)
    handles: list[Any] = []
    labels: list[str] = []
    for family in ("deep", "classical"):
        if any(c.family == family for c in curves):
            handles.append(
                (
                    Patch(color=FAMILY_COLOUR[family], alpha=0.18, linewidth=0),
                    Line2D(
                        [], [], color=FAMILY_COLOUR[family], marker=FAMILY_MARKER[family], lw=2.2
                    ),
                )
            )
            labels.append(f"{family} model (mean ± 1 std)")
    for family, reference in best.items():
        handles.append(Line2D([], [], color=FAMILY_COLOUR[family], ls=REFERENCE_STYLE[family]))
        labels.append(f"best {family}: {reference.name} (in the other panels)")
    figure.legend(handles, labels, loc="outside lower center", ncols=len(labels))
