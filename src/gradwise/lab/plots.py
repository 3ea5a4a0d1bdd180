"""The labs' figures, drawn through :func:`gradwise._plotting.render_png` in the report's style
(Okabe–Ito palette, no pyplot), one colour per arm kept across a lab's figures."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from gradwise._plotting import GREY, OKABE_ITO, colour, render_png
from gradwise.lab.jobs import JobResult
from gradwise.lab.summary import mean_curve
from gradwise.report.plots import FULL_WIDTH

X_LABELS = {
    "epoch": "epoch",
    "time": "training time (s)",
    "samples": "samples processed (gradient evaluations)",
}

PALETTE = len(OKABE_ITO)
LOG_SPAN = 20.0  # x values spanning more than this ratio go on a log axis
SHORT = {"epoch": "epoch", "time": "training time", "samples": "samples processed"}


def _results(document: Mapping[str, Any], arm: str) -> list[JobResult]:
    return [JobResult.from_dict(r) for r in document["results"].get(arm, [])]


def _line(index: int) -> str:
    """Solid for the first palette's worth of arms, dashed after: colours cycle."""
    return "-" if index < PALETTE else "--"


def compact(value: float) -> str:
    """``35000`` → ``35k``, ``2e6`` → ``2M``: tick labels that do not run into each other."""
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def _log_if_wide(axes: Any) -> None:
    """A log x axis when the curves span more than ``LOG_SPAN`` (e.g. full batch against
    B=1), with plain numbers at the decades; else linear."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    low, high = axes.dataLim.x0, axes.dataLim.x1
    if low > 0 and high / low > LOG_SPAN:
        axes.set_xscale("log")
        axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axes.xaxis.set_minor_formatter(NullFormatter())


def _note(axes: Any, text: str) -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes, color=GREY)


def curves_png(document: Mapping[str, Any], xs: Sequence[str]) -> bytes:
    """The validation metric of every arm (mean over seeds, band: min–max) against each of
    ``xs``: ``epoch``, ``time`` (cumulative training seconds) or ``samples`` (epochs × n)."""
    metric = document["metric"]
    target = document.get("target")

    def draw(figure: Any) -> None:
        panels = figure.subplots(1, len(xs), squeeze=False)[0]
        for axes, x in zip(panels, xs, strict=True):
            drawn = 0
            for index, arm in enumerate(document["arms"]):
                results = _results(document, arm["name"])
                curve = mean_curve(results, "time" if x == "time" else "epoch")
                if not curve["x"]:
                    continue
                scale = results[0].train_rows if x == "samples" and results else 1
                xs_arm = [v * scale for v in curve["x"]]
                tint = colour(index)
                marker = "o" if len(xs_arm) <= 3 else None  # a short curve stays visible
                axes.plot(
                    xs_arm, curve["mean"], color=tint, linewidth=1.6, marker=marker,
                    linestyle=_line(index), label=arm["label"],
                )  # fmt: skip
                if len(results) > 1:
                    axes.fill_between(xs_arm, curve["low"], curve["high"], color=tint, alpha=0.15)
                drawn += 1
            if not drawn:
                _note(axes, "no arm has a validation curve")
                continue
            if target is not None:
                axes.axhline(target, color=GREY, linestyle=":", linewidth=1.0, label="target")
            if x in ("time", "samples"):
                _log_if_wide(axes)
            if x == "samples":
                from matplotlib.ticker import FuncFormatter

                axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: compact(value)))
            axes.set_xlabel(X_LABELS[x])
            axes.set_ylabel(metric)
            axes.set_title(f"{metric} by {SHORT[x]}")
        panels[0].legend(fontsize=8)

    return render_png(draw, FULL_WIDTH, 4.2)


def sweep_png(document: Mapping[str, Any]) -> bytes:
    """Each optimizer's best validation value (first seed) against its learning rate; the
    chosen rate circled."""
    metric = document["metric"]

    def draw(figure: Any) -> None:
        axes = figure.subplots()
        for index, arm in enumerate(document["arms"]):
            points = [
                (p["lr"], p["best"])
                for p in document["sweep"]
                if p["arm"] == arm["name"] and p["best"] is not None
            ]
            failed = [
                p["lr"] for p in document["sweep"] if p["arm"] == arm["name"] and p["best"] is None
            ]
            tint = colour(index)
            if points:
                lrs, values = zip(*sorted(points), strict=True)
                axes.plot(lrs, values, marker="o", color=tint, label=arm["label"])
            chosen = document["rows"][arm["name"]].get("lr")
            at = [v for lr, v in points if lr == chosen]
            if at:
                axes.plot([chosen], at[:1], "o", markersize=12, fillstyle="none", color=tint)
            if failed:
                axes.plot(
                    failed,
                    [0.0] * len(failed),
                    "x",
                    color=tint,
                    transform=axes.get_xaxis_transform(),
                )
        axes.set_xscale("log")
        axes.set_xlabel("learning rate")
        axes.set_ylabel(f"best {metric} (first seed)")
        axes.set_title("Learning-rate sweep per optimizer (circle: chosen; ×: failed)")
        axes.legend(fontsize=8, ncol=2)

    return render_png(draw, FULL_WIDTH, 4.2)


def critical_batch_png(document: Mapping[str, Any]) -> bytes:
    """Steps and samples to the target against the batch size (log–log), with the fitted
    ``S(B) = S_min + E_min / B``, the fitted ``B_crit`` and the noise scale ``B_simple``."""
    rows = [r for r in document["rows"].values() if r.get("steps_to_target") is not None]
    fit = document.get("critical_batch") or {}
    noise = document.get("noise_scale") or {}

    def marks(axes: Any) -> None:
        if fit.get("b_crit"):
            axes.axvline(
                fit["b_crit"],
                color=colour(3),
                linestyle="--",
                label=f"B_crit fit {fit['b_crit']:.3g}",
            )
        for (when, measured), style in zip(noise.items(), (":", "-."), strict=False):
            value = measured.get("b_simple") or measured.get("b_simple_at_least")
            if value:
                relation = "" if measured.get("b_simple") else "≥ "
                axes.axvline(
                    value,
                    color=colour(2),
                    linestyle=style,
                    label=f"B_simple ({when}) {relation}{value:.3g}",
                )

    def draw(figure: Any) -> None:
        steps_axes, samples_axes = figure.subplots(1, 2)
        if not rows:
            _note(steps_axes, "no arm reached the target")
            _note(samples_axes, "no arm reached the target")
            return
        sizes = [r["batch_size"] for r in rows]
        steps_axes.plot(
            sizes, [r["steps_to_target"] for r in rows], "o", color=colour(0), label="measured"
        )
        samples_axes.plot(
            sizes, [r["samples_to_target"] for r in rows], "o", color=colour(0), label="measured"
        )
        if fit.get("s_min") is not None and fit.get("e_min") is not None:
            low, high = min(sizes), max(sizes)
            grid = [low * (high / low) ** (i / 60) for i in range(61)] if high > low else [low]
            model = [fit["s_min"] + fit["e_min"] / b for b in grid]
            kept = [(b, s) for b, s in zip(grid, model, strict=True) if s > 0]
            if kept:
                steps_axes.plot(
                    *zip(*kept, strict=True), color=colour(1), label="S_min + E_min / B"
                )
                samples_axes.plot(
                    [b for b, _ in kept],
                    [b * s for b, s in kept],
                    color=colour(1),
                    label="B · S(B)",
                )
        for axes, what in ((steps_axes, "optimizer steps"), (samples_axes, "samples processed")):
            marks(axes)
            axes.set_xscale("log")
            axes.set_yscale("log")
            axes.set_xlabel("batch size B")
            axes.set_ylabel(f"{what} to target")
            axes.set_title(f"{what.capitalize()} to reach the target")
            axes.legend(fontsize=8)

    return render_png(draw, FULL_WIDTH, 4.2)


def ablation_png(document: Mapping[str, Any]) -> bytes:
    """Per arm: the test metric and the train–valid gap (mean, bars: ± std over seeds)."""
    metric = document.get("main_metric", "metric")
    arms = document["arms"]
    rows = document["rows"]

    def draw(figure: Any) -> None:
        test_axes, gap_axes = figure.subplots(1, 2, sharey=True)
        labels = [a["label"] for a in arms]
        positions = list(range(len(arms)))
        for axes, key, title in (
            (test_axes, "test", f"Test {metric} (kept model)"),
            (gap_axes, "gap", "Train − valid gap (eval mode)"),
        ):
            means = [rows[a["name"]].get(f"{key}_mean") for a in arms]
            errors = [rows[a["name"]].get(f"{key}_std") or 0.0 for a in arms]
            values = [m if m is not None and math.isfinite(m) else 0.0 for m in means]
            tints = [colour(i) for i in positions]
            hatches = ["" if i < PALETTE else "//" for i in positions]
            axes.barh(positions, values, xerr=errors, color=tints, alpha=0.85, hatch=hatches)
            if axes is test_axes:
                axes.set_yticks(positions, labels)
                axes.invert_yaxis()
            else:
                axes.tick_params(labelleft=False)
            axes.set_title(title)
            axes.set_xlabel(metric)
            if key == "test" and any(m is not None for m in means):
                shown = [m for m in means if m is not None]
                span = max(shown) - min(shown) or abs(max(shown)) * 0.05 or 1.0
                axes.set_xlim(min(shown) - 1.5 * span, max(shown) + 0.8 * span)
                baseline = rows.get("none", {}).get("test_mean")
                if baseline is not None:
                    axes.axvline(baseline, color=GREY, linestyle=":", label="none")
                    axes.legend(fontsize=8)

    return render_png(draw, FULL_WIDTH, 0.45 * len(arms) + 1.6)
