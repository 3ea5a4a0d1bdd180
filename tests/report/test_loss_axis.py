"""Loss panels that one exploding epoch cannot flatten: spikes are left above a clipped axis (and
the panel says so), values spanning orders of magnitude go on a log axis."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from gradwise.report import plots


def learning_metrics(epochs: int = 20, spike: int | None = None) -> list[dict[str, Any]]:
    """Smoothly falling losses (about 1.2 down to 0.1); ``spike``: train loss 380 there."""
    rows = []
    for epoch in range(1, epochs + 1):
        train = 1.1 * math.exp(-epoch / 6) + 0.08
        rows.append(
            {
                "epoch": epoch,
                "lr": 1e-3,
                "train_loss": 380.0 if epoch == spike else train,
                "valid_loss": 1.2 * math.exp(-epoch / 6) + 0.12,
                "valid_accuracy": 1 - math.exp(-epoch / 5),
            }
        )
    return rows


def drawn(monkeypatch: pytest.MonkeyPatch, render: Callable[[], bytes]) -> Any:
    """The matplotlib figure behind ``render()``'s PNG, after it was drawn."""
    figures = []
    real = plots.render_png

    def keep(draw, width, height):
        def draw_and_keep(figure):
            draw(figure)
            figures.append(figure)

        return real(draw_and_keep, width, height)

    monkeypatch.setattr(plots, "render_png", keep)
    assert render().startswith(b"\x89PNG")
    (figure,) = figures
    return figure


def texts(axes: Any) -> str:
    return " | ".join(text.get_text() for text in axes.texts)


def test_one_exploding_epoch_is_left_above_a_clipped_axis_that_says_so(monkeypatch):
    metrics = learning_metrics(spike=7)
    figure = drawn(
        monkeypatch, lambda: plots.learning_curves_png(metrics, "accuracy", 15, "cross_entropy")
    )
    loss = figure.axes[0]
    others = [r[k] for r in metrics for k in ("train_loss", "valid_loss") if r[k] != 380.0]
    bottom, top = loss.get_ylim()
    assert loss.get_yscale() == "linear"
    assert bottom <= min(others) and max(others) < top < 2 * max(others)  # the rest fill it
    note = texts(loss)
    assert f"axis clipped at {top:.3g}" in note and "1 value above (max 380)" in note
    # the spike is marked by a triangle at its epoch, in the train colour
    (marker,) = [line for line in loss.lines if line.get_marker() == "^"]
    assert list(marker.get_xdata()) == [7] and marker.get_color() == plots.TRAIN_COLOUR


def test_losses_spanning_orders_of_magnitude_use_a_log_axis(monkeypatch):
    metrics = [
        {"epoch": e, "train_loss": 3 * 0.7**e, "valid_loss": 3.2 * 0.72**e} for e in range(1, 41)
    ]
    figure = drawn(monkeypatch, lambda: plots.learning_curves_png(metrics, None, 40, "mse"))
    loss = figure.axes[0]
    assert loss.get_yscale() == "log"
    assert loss.get_ylabel() == "loss (mse), log scale"
    assert texts(loss) == ""  # nothing left out


def test_ordinary_losses_keep_a_plain_axis(monkeypatch):
    metrics = learning_metrics()
    figure = drawn(
        monkeypatch, lambda: plots.learning_curves_png(metrics, "accuracy", 15, "cross_entropy")
    )
    loss = figure.axes[0]
    assert loss.get_yscale() == "linear" and texts(loss) == ""
    assert loss.get_ylabel() == "loss (cross_entropy)"
    assert loss.get_ylim()[1] < 1.5


def test_the_comparison_loss_panel_clips_a_spike_of_one_run(monkeypatch):
    runs = [("calm", learning_metrics(), 15), ("wild", learning_metrics(spike=3), 12)]
    figure = drawn(monkeypatch, lambda: plots.overlay_curves_png(runs, "accuracy", "bce"))
    loss = figure.axes[0]
    assert loss.get_ylim()[1] < 2
    assert "1 value above (max 380)" in texts(loss)
    assert loss.get_ylabel() == "loss (bce)"


@pytest.mark.parametrize(
    ("values", "clipped", "log"),
    [
        ([1.0, 0.5, 0.3, 380.0, 0.2], 1, False),  # one spike
        ([2.3, 0.9, 0.6, 0.5, 0.45], 0, False),  # a high first epoch is no spike
        ([0.5] * 10 + [0.6], 0, False),  # flat with a small bump
        ([0.5] * 10 + [380.0], 1, False),  # flat with a spike
        ([380.0, 50.0, *np.linspace(2.0, 0.1, 18)], 2, False),  # two spikes of different size
        ([-3.0, -2.5, -2.0, 40.0, -2.2], 1, False),  # losses below zero (a GAN's, an ELBO)
        ([3 * 0.7**e for e in range(40)], 0, True),  # a long fall: log axis
        ([*(3 * 0.7**e for e in range(40)), 900.0], 1, True),  # a long fall and a spike
        ([5.0, 0.1], 0, False),  # too few values to call one a spike
        ([], 0, False),
    ],
)
def test_loss_axis(values, clipped, log):
    axis = plots.loss_axis(values)
    assert (axis.clipped, axis.log) == (clipped, log)
    finite = sorted(values, reverse=True)
    if clipped:
        assert axis.peak == max(values)
        assert finite[clipped] < axis.top < finite[clipped - 1]  # the kept values all inside
        assert f"{clipped} value" in axis.note()
    else:
        assert axis.limits is None and axis.note() == ""


def test_at_most_a_tenth_of_the_values_are_left_out():
    # three of twenty values far above the rest: too many to be spikes, so all are shown
    values = [100.0, 100.0, 100.0, *np.linspace(1.0, 2.0, 17)]
    axis = plots.loss_axis(values)
    assert axis.clipped == 0 and axis.log  # 1 .. 100: two orders of magnitude


def test_on_a_log_axis_the_headroom_stays_below_the_clipped_value():
    losses = [*np.logspace(0, -5, 30), 11.5]  # five decades, then one spike
    axis = plots.loss_axis(losses)
    assert axis.log and axis.clipped == 1
    assert axis.limits is not None and axis.limits[1] < 11.5  # the spike is above the axis
