"""The report section of a reinforcement-learning run (``task: rl``): the return curve (recent
episode returns and the deterministic evaluations, against environment steps, with the reward
threshold), the evaluations and when the run solved its environment, and the agent's losses,
entropy, explained variance and value scale per update. Torch-free: it reads the run's files.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from gradwise._plotting import OKABE_ITO, render_png
from gradwise.report.context import ReportContext
from gradwise.report.page import cards, image, table
from gradwise.report.plots import FULL_WIDTH
from gradwise.report.sections import section

# per-update panels: (metric key, title), drawn when the run logged them
PANELS = (
    ("train_loss", "Loss"),
    ("train_policy_loss", "Policy loss"),
    ("train_value_loss", "Value loss"),
    ("train_entropy", "Policy entropy"),
    ("train_explained_variance", "Explained variance"),
    ("train_approx_kl", "Approximate KL"),
    ("train_value_abs_max", "Largest |value|"),
    ("train_q_mean", "Mean Q-value"),
    ("train_q_abs_max", "Largest |Q|"),
    ("train_epsilon", "Exploration ε"),
)
MAX_EVAL_ROWS = 40


def points(metrics: Sequence[dict[str, Any]], key: str) -> tuple[np.ndarray, np.ndarray]:
    """(environment steps, values) where ``key`` was logged with a finite value."""
    pairs = [
        (row["env_steps"], row[key])
        for row in metrics
        if isinstance(row.get(key), (int, float))
        and math.isfinite(row[key])
        and isinstance(row.get("env_steps"), (int, float))
    ]
    if not pairs:
        return np.zeros(0), np.zeros(0)
    steps, values = zip(*pairs, strict=True)
    return np.asarray(steps, dtype=float), np.asarray(values, dtype=float)


def return_curve_png(metrics: Sequence[dict[str, Any]], threshold: float | None) -> bytes:
    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        steps, returns = points(metrics, "episode_return")
        axes.plot(steps, returns, color=OKABE_ITO[0], linewidth=1.6, label="training episodes")
        eval_steps, eval_returns = points(metrics, "eval_return")
        _, eval_std = points(metrics, "eval_return_std")
        if len(eval_steps):
            yerr = eval_std if len(eval_std) == len(eval_steps) else None
            axes.errorbar(
                eval_steps,
                eval_returns,
                yerr=yerr,
                color=OKABE_ITO[1],
                marker="o",
                linewidth=1.4,
                capsize=3,
                label="evaluation (deterministic, mean ± std)",
            )
        if threshold is not None:
            axes.axhline(threshold, color=OKABE_ITO[3], linestyle="--", linewidth=1.2)
            axes.annotate(
                f"reward threshold {threshold:g}",
                (0.01, threshold),
                xycoords=("axes fraction", "data"),
                textcoords="offset points",
                xytext=(0, 4),
                color=OKABE_ITO[3],
            )
        axes.set_xlabel("environment steps")
        axes.set_ylabel("episode return")
        axes.set_title("Return")
        axes.legend(loc="lower right")

    return render_png(draw, FULL_WIDTH, 4.0)


def agent_panels_png(metrics: Sequence[dict[str, Any]]) -> bytes | None:
    shown = [(key, title) for key, title in PANELS if len(points(metrics, key)[0])]
    if not shown:
        return None
    columns = min(4, len(shown))
    rows = math.ceil(len(shown) / columns)

    def draw(figure: Figure) -> None:
        grid = np.atleast_1d(figure.subplots(rows, columns)).ravel()
        for axes, (key, title) in zip(grid, shown, strict=False):
            steps, values = points(metrics, key)
            axes.plot(steps, values, color=OKABE_ITO[2], linewidth=1.4)
            axes.set_title(title)
            axes.set_xlabel("environment steps")
        for axes in grid[len(shown) :]:
            axes.set_visible(False)

    return render_png(draw, FULL_WIDTH, 2.8 * rows)


@section("reinforcement_learning", "Agent and returns", order=35)
def reinforcement_learning(context: ReportContext) -> str | None:
    metrics = context.metrics
    if not metrics or "env_steps" not in metrics[-1]:
        return None
    evaluation = context.summary.get("eval") or {}
    threshold = evaluation.get("reward_threshold")
    sustained = evaluation.get("sustained_from")
    figures = [
        ("environment steps", context.summary.get("env_steps") or metrics[-1]["env_steps"]),
        ("episodes", metrics[-1].get("episodes")),
        ("final evaluation", evaluation.get("return_mean")),
        ("reward threshold", threshold),
        ("sustained from step", sustained if sustained is not None else "never"),
    ]
    parts = [cards(figures), image(return_curve_png(metrics, threshold), "return curve")]
    history = evaluation.get("history") or []
    if history:
        shown = history[-MAX_EVAL_ROWS:]
        rows = [[int(step), mean, std] for step, mean, std in shown]
        parts.append(
            f"<h3>Evaluations ({evaluation.get('episodes')} deterministic episodes each)</h3>"
            + table(["environment step", "mean return", "std"], rows, [True, True, True])
        )
    panels = agent_panels_png(metrics)
    if panels is not None:
        parts.append("<h3>Per update</h3>" + image(panels, "agent losses and statistics"))
    return "".join(parts)
