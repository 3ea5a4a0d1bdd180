"""A report over several runs: their learning curves overlaid, metrics and configs side by side.

Only like is compared with like: runs of different tasks or losses (a classifier's cross-entropy
and a regressor's standardized MSE) get separate axes, no "best" mark between them, and a note
saying so. Torch-free: it reads each run's ``summary.json``, ``metrics.jsonl`` and
``config.yaml``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from gradwise._plotting import colour
from gradwise.config.load import flatten_config
from gradwise.errors import CheckpointError
from gradwise.metric_names import higher_is_better
from gradwise.report.context import ReportContext
from gradwise.report.page import Raw, RenderedSection, escape, format_value, image, table
from gradwise.report.plots import overlay_curves_png

Renderer = Callable[[Sequence[ReportContext], list[str]], "str | None"]


def run_labels(contexts: Sequence[ReportContext]) -> list[str]:
    """Directory names, numbered when two runs share one."""
    names = [c.name for c in contexts]
    if len(set(names)) == len(names):
        return names
    return [f"#{i + 1} {name}" for i, name in enumerate(names)]


# ---------------------------------------------------------------------------- comparability
def curve_key(context: ReportContext) -> tuple[str | None, str | None, str | None]:
    """What two runs must share for their curves to go on one axis: task, loss, main metric."""
    return context.task, context.loss_name, context.main_metric


def metric_key(context: ReportContext, metric: str) -> tuple[str | None, ...]:
    """What two runs must share for their values of ``metric`` (a summary name such as
    ``loss`` or ``accuracy``) to be compared: the task, and for the loss which loss it is."""
    return (context.task, context.loss_name) if metric == "loss" else (context.task,)


def groups_by(keys: Sequence[Any]) -> list[list[int]]:
    """Indices with equal keys, groups in first-seen order."""
    groups: dict[Any, list[int]] = {}
    for index, key in enumerate(keys):
        groups.setdefault(key, []).append(index)
    return list(groups.values())


def _describe(key: tuple[str | None, str | None, str | None]) -> str:
    task, loss, metric = key
    return f"{task or 'unknown task'}, loss {loss or '–'}, main metric {metric or '–'}"


def comparability_note(contexts: Sequence[ReportContext], labels: list[str]) -> str:
    """A note naming the groups when the runs differ in task, loss or main metric; "" when all
    are comparable."""
    keys = [curve_key(c) for c in contexts]
    groups = groups_by(keys)
    if len(groups) == 1:
        return ""
    items = "".join(
        f"<li>{escape(_describe(keys[group[0]]))}: {escape(', '.join(labels[i] for i in group))}"
        "</li>"
        for group in groups
    )
    return (
        '<p class="note"><strong>Not all comparable.</strong> These runs differ in task, loss '
        "or main metric, so their numbers are not on one scale: each group below gets its own "
        "curves, and a best value is marked only between runs of the same group.</p>"
        f'<ul class="note">{items}</ul>'
    )


def _overview(contexts: Sequence[ReportContext], labels: list[str]) -> str:
    rows = []
    for label, context in zip(labels, contexts, strict=True):
        summary, metric = context.summary, context.main_metric
        rows.append(
            [
                label,
                context.task,
                summary.get("model"),
                summary.get("status"),
                summary.get("epochs_run"),
                summary.get("best_epoch"),
                summary.get("parameters"),
                summary.get("train_time"),
                Raw(f"{escape(metric)} {format_value((summary.get('test') or {}).get(metric))}")
                if metric
                else None,
            ]
        )
    headers = [
        "run",
        "task",
        "model",
        "status",
        "epochs",
        "best epoch",
        "parameters",
        "training time (s)",
        "test (main metric)",
    ]
    body = table(headers, rows, [False] * 4 + [True] * 4 + [False])
    paths = "".join(f"<li><code>{escape(c.root)}</code></li>" for c in contexts)
    return (
        comparability_note(contexts, labels)
        + body
        + f"<details><summary>Run directories</summary><ul>{paths}</ul></details>"
    )


def _metric_rows(contexts: Sequence[ReportContext], split: str) -> list[tuple[str, str, list[Any]]]:
    """``(row name, metric, value per run)`` for every metric any run has on ``split``."""
    names = list(dict.fromkeys(m for c in contexts for m in (c.summary.get(split) or {})))
    return [
        (f"{split} {name}", name, [(c.summary.get(split) or {}).get(name) for c in contexts])
        for name in names
    ]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def best_in_row(contexts: Sequence[ReportContext], metric: str, values: list[Any]) -> set[int]:
    """The runs holding the best value of ``metric``, compared only within comparable runs
    (:func:`metric_key`) and only where two of them or more have a number."""
    best: set[int] = set()
    choose = max if higher_is_better(metric) else min
    for group in groups_by([metric_key(c, metric) for c in contexts]):
        numbered = [i for i in group if _is_number(values[i])]
        if len(numbered) > 1:
            top = choose(values[i] for i in numbered)
            best.update(i for i in numbered if values[i] == top)
    return best


def _metrics(contexts: Sequence[ReportContext], labels: list[str]) -> str | None:
    rows = _metric_rows(contexts, "test") + _metric_rows(contexts, "valid")
    if not rows:
        return None
    cells = []
    for name, metric, values in rows:
        best = best_in_row(contexts, metric, values)
        cells.append(
            [
                name,
                *(
                    Raw(f'<span class="best">{format_value(v)}</span>') if i in best else v
                    for i, v in enumerate(values)
                ),
            ]
        )
    mixed = len(groups_by([curve_key(c) for c in contexts])) > 1
    scope = (
        "among runs of the same task and loss (runs of different tasks or losses are not compared)"
        if mixed
        else "in each row"
    )
    return (
        table(["metric", *labels], cells, [False] + [True] * len(labels))
        + f'<p class="note">Best value {scope} in bold; valid metrics are at each run\'s best '
        "epoch.</p>"
    )


def _config_differences(contexts: Sequence[ReportContext], labels: list[str]) -> str:
    flat = [dict(flatten_config(c.config or {})) for c in contexts]
    keys = list(dict.fromkeys(k for config in flat for k in config))
    differing = [k for k in keys if len({repr(config.get(k)) for config in flat}) > 1]
    if not differing:
        return '<p class="note">The runs share one configuration.</p>'
    rows = [[key, *(config.get(key) for config in flat)] for key in differing]
    return table(["config key", *labels], rows, [False] * (1 + len(labels)))


def _curves(contexts: Sequence[ReportContext], labels: list[str]) -> str | None:
    """One figure per group of comparable runs (:func:`curve_key`); a run keeps its colour."""
    if not any(c.metrics for c in contexts):
        return None
    keys = [curve_key(c) for c in contexts]
    groups = [g for g in groups_by(keys) if any(contexts[i].metrics for i in g)]
    parts = []
    for group in groups:
        _, loss, metric = keys[group[0]]
        png = overlay_curves_png(
            [(labels[i], contexts[i].metrics, contexts[i].best_epoch) for i in group],
            metric,
            loss,
            [colour(i) for i in group],
        )
        names = ", ".join(labels[i] for i in group)
        if len(groups) > 1:
            parts.append(f"<h3>{escape(_describe(keys[group[0]]))}</h3>")
        parts.append(image(png, f"learning curves overlaid: {names}"))
    return "".join(parts)


COMPARISON_SECTIONS: tuple[tuple[str, str, Renderer], ...] = (
    ("runs", "Runs", _overview),
    ("curves", "Learning curves", _curves),
    ("metrics", "Metrics side by side", _metrics),
    ("config", "Configuration differences", _config_differences),
)


def comparison_sections(contexts: Sequence[ReportContext]) -> list[RenderedSection]:
    """The multi-run sections that have something to show, in page order."""
    for context in contexts:
        if not context.is_run:
            raise CheckpointError(
                f"{context.root}: not a gradwise run (missing config.yaml or preprocess.json); "
                "a report over several directories needs runs"
            )
    labels = run_labels(contexts)
    rendered = []
    for key, title, render in COMPARISON_SECTIONS:
        body = render(contexts, labels)
        if body is not None:
            rendered.append(RenderedSection(key, title, body))
    return rendered
