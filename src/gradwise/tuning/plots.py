"""The study's figures: optimization history, parallel coordinates, parameter importances.

Drawn through :func:`gradwise._plotting.save_png` (a plain matplotlib figure, no pyplot, written
atomically) in the Okabe–Ito palette (Okabe & Ito, *Color Universal Design*, 2002) and the viridis
map (van der Walt & Smith, matplotlib 2.0, 2015), both readable with the common colour-vision
deficiencies. Viridis rather than cividis: cividis passes through a neutral grey in its middle
(chroma < 0.001 at 0.47), which is the colour pruned trials are drawn in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from gradwise._plotting import GREY, OKABE_ITO, save_png
from gradwise.config.tune import ParamSpec
from gradwise.tuning import space

BLUE, ORANGE, VERMILLION = OKABE_ITO[0], OKABE_ITO[1], OKABE_ITO[3]


def _note(axes: Any, text: str) -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes, color=GREY)
    axes.set_xticks([])
    axes.set_yticks([])


# ------------------------------------------------------------------------------- history
def history_png(
    board: Sequence[Mapping[str, Any]], metric: str, direction: str, path: Path
) -> Path:
    """Each trial's value by trial number (complete: filled, pruned: hollow, failed: a tick on
    the axis) and the best complete value so far as a step line."""

    def draw(figure: Any) -> None:
        from matplotlib.ticker import MaxNLocator

        axes = figure.add_subplot()
        by_number = sorted(board, key=lambda e: e["trial"])
        complete = [e for e in by_number if e["state"] == "complete"]
        pruned = [e for e in by_number if e["state"] == "pruned" and e["value"] is not None]
        failed = [e for e in by_number if e["state"] == "failed"]
        if not complete and not pruned:
            _note(axes, "no trial has a value yet")
            return
        if pruned:
            axes.scatter(
                [e["trial"] for e in pruned],
                [e["value"] for e in pruned],
                facecolors="none",
                edgecolors=ORANGE,
                label="pruned (best before pruning)",
            )
        axes.scatter(
            [e["trial"] for e in complete],
            [e["value"] for e in complete],
            color=BLUE,
            label="complete",
            zorder=3,
        )
        if complete:
            pick = max if direction == "maximize" else min
            steps, best = [], None
            for entry in complete:
                best = entry["value"] if best is None else pick(best, entry["value"])
                steps.append(best)
            last = by_number[-1]["trial"]
            axes.step(
                [e["trial"] for e in complete] + [last],
                steps + steps[-1:],
                where="post",
                color=VERMILLION,
                label="best so far",
            )
        if failed:
            axes.plot(
                [e["trial"] for e in failed],
                [0.0] * len(failed),
                "|",
                color="black",
                markersize=14,
                transform=axes.get_xaxis_transform(),
                clip_on=False,
                label="failed",
            )
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel("trial number")
        axes.set_ylabel(f"{metric} (best epoch)")
        axes.set_title(f"Optimization history ({direction})")
        axes.grid(alpha=0.3)
        axes.legend(loc="best", fontsize=8)

    return save_png(path, draw, 7.0, 4.2)


# ---------------------------------------------------------------------- parallel coords
def _axis_position(spec: ParamSpec, value: Any) -> float:
    """A parameter value on its axis, 0 (low / first choice) to 1 (high / last choice)."""
    if spec.type == "categorical":
        choices = space.optuna_choices(spec)
        return choices.index(value) / max(1, len(choices) - 1) if value in choices else 0.5
    low, high, value = float(spec.low), float(spec.high), float(value)
    if spec.log:
        low, high, value = math.log(low), math.log(high), math.log(value)
    return 0.5 if high == low else (value - low) / (high - low)


def _axis_labels(spec: ParamSpec) -> list[tuple[float, str]]:
    if spec.type == "categorical":
        choices = space.optuna_choices(spec)
        return [(_axis_position(spec, c), str(c)[:14]) for c in choices]
    return [(0.0, f"{spec.low:g}"), (1.0, f"{spec.high:g}")]


PRUNED_STYLE: dict[str, Any] = {"color": GREY, "linestyle": ":", "linewidth": 1.0, "alpha": 0.6}
METRIC_MAP = "viridis"  # no grey anywhere along it (chroma ≥ 0.27): a coloured line is never pruned


def parallel_png(
    board: Sequence[Mapping[str, Any]],
    searched: Mapping[str, ParamSpec],
    metric: str,
    path: Path,
) -> Path:
    """One vertical axis per parameter, one line per trial through its values: complete trials
    solid and coloured by the trial's metric, pruned ones dotted grey; the best trial thickest."""
    width = max(6.0, 1.5 * len(space.parameters(searched)) + 2.5)
    return save_png(
        path, partial(draw_parallel, board=board, searched=searched, metric=metric), width, 4.8
    )


def draw_parallel(
    figure: Any, board: Sequence[Mapping[str, Any]], searched: Mapping[str, ParamSpec], metric: str
) -> None:
    """:func:`parallel_png`'s drawing on ``figure`` (a test reads its lines and legend)."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.lines import Line2D

    axes = figure.add_subplot()
    specs = space.parameters(searched)
    names = [n for n in specs if any(n in e["params"] for e in board)]
    complete = [e for e in board if e["state"] == "complete" and e["value"] is not None]
    if not names or not complete:
        _note(axes, "no complete trial yet")
        return
    values = [e["value"] for e in complete]
    norm = Normalize(min(values), max(values) if max(values) > min(values) else min(values) + 1)
    cmap = colormaps[METRIC_MAP]
    xs = list(range(len(names)))
    pruned = [e for e in board if e["state"] == "pruned" and all(n in e["params"] for n in names)]
    for entry in pruned:
        ys = [_axis_position(specs[n], entry["params"][n]) for n in names]
        axes.plot(xs, ys, gid="pruned", **PRUNED_STYLE)
    for rank, entry in reversed(list(enumerate(complete))):  # best (rank 0) drawn last
        ys = [_axis_position(specs[n], entry["params"][n]) for n in names]
        axes.plot(
            xs,
            ys,
            color=cmap(norm(entry["value"])),
            linestyle="-",
            alpha=0.9,
            linewidth=3.0 if rank == 0 else 1.2,
            zorder=3 if rank == 0 else 2,
            gid="best" if rank == 0 else "complete",
        )
    for x, name in zip(xs, names, strict=True):
        axes.axvline(x, color="black", linewidth=0.8)
        for y, label in _axis_labels(specs[name]):
            axes.text(x + 0.03, y, label, fontsize=7, va="center")
    axes.set_xticks(xs, [n.replace(".", ".\n", 1) for n in names], fontsize=8)
    axes.set_yticks([0, 1], ["low", "high"])
    axes.set_ylim(-0.05, 1.05)
    axes.set_xlim(-0.2, len(names) - 0.5)
    axes.set_ylabel("position on the parameter's range")
    axes.set_title("Parallel coordinates")
    best = complete[0]
    handles = [
        Line2D([], [], color=cmap(0.5), linestyle="-", linewidth=1.2),
        Line2D([], [], color=cmap(norm(best["value"])), linestyle="-", linewidth=3.0),
    ]
    labels = [
        f"complete ({len(complete)}; colour: {metric})",
        f"best: trial {best['trial']} ({best['value']:.4g})",
    ]
    if pruned:
        handles.append(Line2D([], [], **PRUNED_STYLE))
        labels.append(f"pruned ({len(pruned)}; dotted grey)")
    figure.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=8)
    figure.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=axes, label=metric)


# --------------------------------------------------------------------------- importances
def importances_png(weights: Mapping[str, float], metric: str, path: Path) -> Path:
    """Horizontal bars: each parameter's fANOVA share of the metric's variance."""

    def draw(figure: Any) -> None:
        axes = figure.add_subplot()
        if not weights:
            _note(axes, "importances need at least 2 complete trials")
            return
        ordered = sorted(weights.items(), key=lambda item: item[1])
        axes.barh([name for name, _ in ordered], [value for _, value in ordered], color=BLUE)
        for y, (_, value) in enumerate(ordered):
            axes.text(value, y, f" {value:.2f}", va="center", fontsize=8)
        axes.set_xlim(0, max(1.0, max(weights.values()) * 1.15))
        axes.set_xlabel(f"importance (share of the variance of {metric}, fANOVA)")
        axes.set_title("Parameter importances")

    return save_png(path, draw, 7.0, max(2.5, 0.45 * len(weights) + 1.5))
