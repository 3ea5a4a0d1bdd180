"""A report over several runs: their learning curves overlaid, metrics and configs side by side.

Torch-free: it reads each run's ``summary.json``, ``metrics.jsonl`` and ``config.yaml``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from gradwise.errors import CheckpointError
from gradwise.metric_names import higher_is_better
from gradwise.report.context import ReportContext
from gradwise.report.page import Raw, RenderedSection, escape, format_value, image, table
from gradwise.report.plots import overlay_curves_png
from gradwise.report.run_sections import flatten_config

Renderer = Callable[[Sequence[ReportContext], list[str]], "str | None"]


def run_labels(contexts: Sequence[ReportContext]) -> list[str]:
    """Directory names, numbered when two runs share one."""
    names = [c.name for c in contexts]
    if len(set(names)) == len(names):
        return names
    return [f"#{i + 1} {name}" for i, name in enumerate(names)]


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
    return body + f"<details><summary>Run directories</summary><ul>{paths}</ul></details>"


def _metric_rows(contexts: Sequence[ReportContext], split: str) -> list[tuple[str, list[Any]]]:
    names = list(dict.fromkeys(m for c in contexts for m in (c.summary.get(split) or {})))
    return [
        (f"{split} {name}", [(c.summary.get(split) or {}).get(name) for c in contexts])
        for name in names
    ]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _metrics(contexts: Sequence[ReportContext], labels: list[str]) -> str | None:
    rows = _metric_rows(contexts, "test") + _metric_rows(contexts, "valid")
    if not rows:
        return None
    cells = []
    for name, values in rows:
        numbers = [v for v in values if _is_number(v)]
        best = (max if higher_is_better(name) else min)(numbers) if len(numbers) > 1 else None
        cells.append(
            [
                name,
                *(
                    Raw(f'<span class="best">{format_value(v)}</span>')
                    if best is not None and _is_number(v) and v == best
                    else v
                    for v in values
                ),
            ]
        )
    return (
        table(["metric", *labels], cells, [False] + [True] * len(labels))
        + '<p class="note">Best value in each row in bold; valid metrics are at each run\'s best '
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
    if not any(c.metrics for c in contexts):
        return None
    metrics = [c.main_metric for c in contexts]
    shared = metrics[0] if len(set(metrics)) == 1 else None
    png = overlay_curves_png(
        [(label, c.metrics, c.best_epoch) for label, c in zip(labels, contexts, strict=True)],
        shared,
    )
    return image(png, "learning curves of the runs overlaid")


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
