"""The study's parallel-coordinates figure, read through its matplotlib objects (not pixels)."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from gradwise.config.tune import ParamSpec
from gradwise.tuning import plots

SEARCHED = {
    "train.optimizer.lr": ParamSpec(type="float", low=1e-4, high=1e-1, log=True),
    "model.activation": ParamSpec(type="categorical", choices=["relu", "gelu", "tanh"]),
}


def board(complete: int, pruned: int) -> list[dict[str, Any]]:
    """Complete trials whose values cover the colour map evenly (best first), then pruned ones."""
    rows = [
        {
            "trial": t,
            "state": "complete",
            "value": 0.5 + 0.4 * (complete - 1 - t) / (complete - 1),  # 0.9 … 0.5
            "params": {
                "train.optimizer.lr": 10 ** (-4 + 3 * t / complete),
                "model.activation": "relu",
            },
        }
        for t in range(complete)
    ]
    rows += [
        {
            "trial": complete + t,
            "state": "pruned",
            "value": 0.3,
            "params": {"train.optimizer.lr": 1e-3, "model.activation": "tanh"},
        }
        for t in range(pruned)
    ]
    return rows


def drawn(entries: list[dict[str, Any]]) -> Figure:
    figure = Figure()
    plots.draw_parallel(figure, entries, SEARCHED, "valid_accuracy")
    return figure


def chroma(rgb: tuple[float, float, float]) -> float:
    return max(rgb) - min(rgb)


def test_no_complete_trial_gets_the_pruned_look() -> None:
    """Before: complete trials took cividis colours, whose middle is the grey of "pruned"."""
    figure = drawn(board(complete=101, pruned=5))
    (axes,) = [a for a in figure.axes if a.get_label() != "<colorbar>"]
    lines = [line for line in axes.get_lines() if line.get_gid() is not None]
    pruned = [line for line in lines if line.get_gid() == "pruned"]
    complete = [line for line in lines if line.get_gid() in ("complete", "best")]
    assert len(pruned) == 5 and len(complete) == 101
    assert [line.get_gid() for line in complete].count("best") == 1
    # what the legend calls pruned is what the pruned lines look like
    (legend,) = figure.legends
    labels = [text.get_text() for text in legend.get_texts()]
    assert labels == [
        "complete (101; colour: valid_accuracy)",
        "best: trial 0 (0.9)",
        "pruned (5; dotted grey)",
    ]
    key = legend.legend_handles[2]
    for line in pruned:
        assert to_rgb(line.get_color()) == to_rgb(key.get_color())
        assert line.get_linestyle() == key.get_linestyle() == ":"
    grey = np.array(to_rgb(key.get_color()))
    assert chroma(tuple(grey)) == 0.0
    for line in complete:  # every complete colour is clearly not grey, and solid
        rgb = to_rgb(line.get_color())
        assert chroma(rgb) >= 0.2, rgb
        assert np.abs(np.array(rgb) - grey).max() >= 0.2, rgb
        assert line.get_linestyle() == "-"


def test_no_pruned_entry_in_the_legend_without_pruned_trials() -> None:
    (legend,) = drawn(board(complete=3, pruned=0)).legends
    assert not any("pruned" in text.get_text() for text in legend.get_texts())
