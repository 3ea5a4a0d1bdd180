"""``learning_curves.png`` as small multiples, read through its matplotlib objects (not pixels)."""

from __future__ import annotations

import struct
from typing import Any

import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from gradwise.report.size_curves import draw_size_curves, size_curves_png

SIZES = (10, 26, 52, 105)
FINAL = {  # the score on the most rows; the verdict compared mlp with knn
    "mlp": ("deep", 0.933),
    "cnn1d": ("deep", 0.90),
    "knn": ("classical", 0.983),
    "random_forest": ("classical", 0.967),
    "logistic_regression": ("classical", 0.95),
    "svm": ("classical", 0.94),
}


def document(models: dict[str, tuple[str, float]] = FINAL, **extra: Any) -> dict[str, Any]:
    curves = [
        {
            "model": name,
            "family": family,
            "n_train": size,
            "mean": final - 0.05 * (len(SIZES) - 1 - i),
            "std": 0.02,
        }
        for name, (family, final) in models.items()
        for i, size in enumerate(SIZES)
    ]
    return {
        "name": "iris-mlp",
        "metric": "accuracy",
        "higher_is_better": True,
        "seeds": [0, 1],
        "dataset": {"source": "sklearn:iris"},
        "models": [{"name": name, "family": family} for name, (family, _) in models.items()],
        "learning_curves": curves,
        "comparison": {"deep": "mlp", "classical": "knn"},
        **extra,
    }


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG")
    return struct.unpack(">II", data[16:24])  # the IHDR chunk: width, height


def drawn(comparison: dict[str, Any]) -> Figure:
    figure = Figure()
    draw_size_curves(figure, comparison)
    return figure


def lines(axes: Any, gid: str) -> list[Any]:
    return [line for line in axes.get_lines() if line.get_gid() == gid]


def test_six_models_get_six_panels_with_one_band_each() -> None:
    """Before: six bands and six lines on one axis."""
    figure = drawn(document())
    panels = figure.axes
    titles = [axes.get_title().split(" (")[0] for axes in panels]
    # deep first, then classical, each best first
    assert titles == ["mlp", "cnn1d", "knn", "random_forest", "logistic_regression", "svm"]
    assert panels[0].get_title().startswith("mlp (deep — best deep)\n0.933 ± 0.020 at 105 rows")
    assert panels[2].get_title().startswith("knn (classical — best classical)")
    for axes in panels:
        assert len(lines(axes, "model")) == 1  # one model per panel
        assert len([c for c in axes.collections if isinstance(c, PolyCollection)]) == 1  # its band
    # the best of each family is a reference line in every panel but its own
    assert [len(lines(a, "best deep")) for a in panels] == [0, 1, 1, 1, 1, 1]
    assert [len(lines(a, "best classical")) for a in panels] == [1, 1, 0, 1, 1, 1]
    assert list(lines(panels[3], "best classical")[0].get_ydata()) == pytest.approx(
        [0.833, 0.883, 0.933, 0.983]
    )
    (legend,) = figure.legends
    assert [text.get_text() for text in legend.get_texts()] == [
        "deep model (mean ± 1 std)",
        "classical model (mean ± 1 std)",
        "best deep: mlp (in the other panels)",
        "best classical: knn (in the other panels)",
    ]
    assert panels[0].get_shared_y_axes().joined(panels[0], panels[5])  # one scale for all


def test_every_column_keeps_an_x_axis_when_the_grid_is_not_full() -> None:
    four = {name: FINAL[name] for name in ("mlp", "knn", "svm", "random_forest")}
    figure = drawn(document(four))
    assert len(figure.axes) == 4  # the two empty cells of the 2 × 3 grid are removed
    labelled = [axes for axes in figure.axes if axes.get_xlabel()]
    titles = [axes.get_title().split(" (")[0] for axes in labelled]
    assert titles == ["knn", "random_forest", "svm"]  # mlp's column continues below it
    for axes in figure.axes:
        shown = [t.get_text() for t in axes.get_xticklabels() if t.get_visible()]
        assert shown == (["10", "26", "52", "105"] if axes in labelled else []), axes.get_title()


def test_lower_is_better_ranks_and_picks_the_smallest_error() -> None:
    errors = {"mlp": ("deep", 3.0), "ridge": ("classical", 2.0), "knn": ("classical", 4.0)}
    figure = drawn(
        document(errors, metric="rmse", higher_is_better=False, comparison=None)  # no verdict
    )
    assert [a.get_title().split(" (")[0] for a in figure.axes] == ["mlp", "ridge", "knn"]
    (legend,) = figure.legends
    assert "best classical: ridge (in the other panels)" in [t.get_text() for t in legend.texts]
    assert "lower is better" in figure.get_suptitle()


def test_older_and_partial_documents() -> None:
    # no family, seeds, verdict or higher_is_better; a point without a mean is left out
    older = {
        "metric": "rmse",
        "learning_curves": [
            {"model": "ridge", "n_train": 10, "mean": 3.0, "std": None},
            {"model": "ridge", "n_train": 40, "mean": 2.0, "std": 0.5},
            {"model": "mlp", "n_train": 40, "mean": None},
        ],
    }
    figure = drawn(older)
    assert [a.get_title().split("\n")[0] for a in figure.axes] == [
        "ridge (classical — best classical)"
    ]
    assert png_size(size_curves_png(older)) == (1100, 380)
    empty = drawn({"metric": "accuracy", "learning_curves": []})
    assert [t.get_text() for t in empty.axes[0].texts] == ["no learning-curve points"]
