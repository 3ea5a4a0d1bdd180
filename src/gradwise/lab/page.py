"""``lab.html``: the lab's tables and figures on one self-contained page in the report's style
(:mod:`gradwise.report.page`: inline CSS, images as data URIs, no script, no network).

The result tables are built once here, as headers and rows, for both the page and the command
line's printout.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gradwise.lab.summary import plus_minus
from gradwise.report.page import (
    RenderedSection,
    cards,
    escape,
    format_value,
    image,
    key_values,
    render_page,
    table,
)

Table = tuple[list[str], list[list[Any]]]


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _reached(row: Mapping[str, Any]) -> str:
    return f"{row.get('reached', 0)}/{row['runs'] - row['failed'] if row['runs'] else 0}"


def _lr_cell(row: Mapping[str, Any]) -> str:
    """The chosen rate, marked ``(edge)`` when it is the sweep's smallest or largest."""
    if row.get("lr") is None:
        return "–"
    return f"{row['lr']:.3g}" + (" (edge)" if row.get("lr_at_edge") else "")


def optimizer_table(document: Mapping[str, Any]) -> Table:
    metric = document["metric"]
    headers = [
        "arm",
        "lr",
        f"best {metric} (mean ± std)",
        "time to target (s)",
        "epochs to target",
        "reached",
        "train s",
        "failed",
    ]
    rows = [
        [
            arm["label"],
            _lr_cell(row),
            plus_minus(row["best_mean"], row["best_std"]),
            _seconds(row.get("time_to_target")),
            row.get("epochs_to_target"),
            _reached(row),
            _seconds(row["train_seconds"]),
            row["failed"],
        ]
        for arm in document["arms"]
        if (row := document["rows"][arm["name"]])
    ]
    return headers, rows


def batch_table(document: Mapping[str, Any]) -> Table:
    metric = document["metric"]
    headers = [
        "arm",
        "B",
        "lr",
        f"best {metric} (mean ± std)",
        "time to target (s)",
        "epochs to target",
        "steps to target",
        "samples to target",
        "train s",
        "failed",
    ]
    rows = [
        [
            arm["label"],
            row["batch_size"],
            row["lr"],
            plus_minus(row["best_mean"], row["best_std"]),
            _seconds(row.get("time_to_target")),
            row.get("epochs_to_target"),
            row.get("steps_to_target"),
            row.get("samples_to_target"),
            _seconds(row["train_seconds"]),
            row["failed"],
        ]
        for arm in document["arms"]
        if (row := document["rows"][arm["name"]])
    ]
    return headers, rows


def regularization_table(document: Mapping[str, Any]) -> Table:
    metric = document["main_metric"]
    headers = [
        "arm",
        f"train {metric}",
        f"valid {metric}",
        "train − valid gap",
        f"test {metric} (mean ± std)",
        "test vs none",
        "epochs",
        "kept",
        "failed",
    ]
    rows = [
        [
            arm["label"],
            row.get("train_mean"),
            row.get("valid_mean"),
            plus_minus(row.get("gap_mean"), row.get("gap_std")),
            plus_minus(row.get("test_mean"), row.get("test_std")),
            None if row.get("test_change") is None else f"{row['test_change']:+.4f}",
            row["epochs"],
            row["kept"],
            row["failed"],
        ]
        for arm in document["arms"]
        if (row := document["rows"][arm["name"]])
    ]
    return headers, rows


def _html_table(data: Table, best: int | None = None) -> str:
    headers, rows = data
    numeric = [h not in ("arm", "kept") for h in headers]
    classes = ["best" if i == best else "" for i in range(len(rows))]
    return table(headers, rows, numeric, classes)


def _best_index(document: Mapping[str, Any], key: str) -> int | None:
    values = [(document["rows"][a["name"]].get(key), i) for i, a in enumerate(document["arms"])]
    kept = [(v, i) for v, i in values if v is not None]
    if not kept:
        return None
    pick = max if document.get("higher_is_better", True) else min
    return pick(kept)[1]


def _figure(figures: Mapping[str, bytes], name: str, alt: str) -> str:
    return image(figures[name], alt) if name in figures else ""


def _notes(document: Mapping[str, Any]) -> str:
    """The arms' own notes (e.g. pure SGD's shorter run and layer norm), one line each."""
    lines = [
        f"<li><b>{escape(arm['label'])}</b>: {escape(arm['note'])}</li>"
        for arm in document["arms"]
        if arm.get("note")
    ]
    return f'<ul class="note">{"".join(lines)}</ul>' if lines else ""


def _failures(document: Mapping[str, Any]) -> str:
    lines = [
        f"<li><b>{escape(arm['label'])}</b>: {escape(error)}</li>"
        for arm in document["arms"]
        for error in document["rows"][arm["name"]].get("errors", [])
    ]
    return f"<h3>Failed runs</h3><ul>{''.join(lines)}</ul>" if lines else ""


def optimizer_sections(
    document: Mapping[str, Any], figures: Mapping[str, bytes]
) -> list[RenderedSection]:
    body = (
        _html_table(optimizer_table(document), _best_index(document, "best_mean"))
        + f'<p class="note">{escape(document["target_definition"])}; target '
        f"{format_value(document['target'])}. Learning rate: {escape(document['lr_rule'])}; "
        "(edge): the chosen rate is the smallest or largest of the sweep, so a wider sweep "
        "might find a better one.</p>" + _notes(document) + _failures(document)
    )
    return [
        RenderedSection("results", "Results", body),
        RenderedSection(
            "curves",
            "Curves",
            _figure(figures, "curves.png", "validation metric against epochs and time")
            + '<p class="note">Mean over seeds at the chosen learning rate; band: min–max.</p>',
        ),
        RenderedSection(
            "sweep", "Learning-rate sweep", _figure(figures, "lr_sweep.png", "learning-rate sweep")
        ),
    ]


def _simple(measured: Mapping[str, Any]) -> Any:
    """``B_simple``, or its lower bound ``≥ …`` when ``|G|²`` was below its noise."""
    if measured.get("b_simple") is not None:
        return measured["b_simple"]
    bound = measured.get("b_simple_at_least")
    return f"≥ {bound:.4g}" if bound is not None else "not resolved"


def batch_sections(
    document: Mapping[str, Any], figures: Mapping[str, bytes]
) -> list[RenderedSection]:
    fit = document.get("critical_batch") or {}
    noise = document.get("noise_scale") or {}
    estimates = [("B_crit from the curves (S = S_min + E_min/B)", fit.get("b_crit"))]
    estimates += [(f"B_simple, {when} of training", _simple(m)) for when, m in noise.items()]
    details = key_values(
        [
            *estimates,
            ("fitted S_min (steps)", fit.get("s_min")),
            ("fitted E_min (samples)", fit.get("e_min")),
            *(
                (f"|G|², tr(Σ) ({when})", f"{m['grad_norm_sq']:.4g}, {m['trace_sigma']:.4g}")
                for when, m in noise.items()
            ),
            *(
                (f"batches ({when})", f"{m['repeats']} pairs of B={m['b_small']} and {m['b_big']}")
                for when, m in noise.items()
            ),
        ]
    )
    body = (
        _html_table(batch_table(document), _best_index(document, "best_mean"))
        + f'<p class="note">{escape(document["target_definition"])}; target '
        f"{format_value(document['target'])}. Learning rate: {escape(document['lr_rule'])}. "
        "Samples processed = epochs × training rows (one gradient evaluation per sample).</p>"
        + _notes(document)
        + _failures(document)
    )
    return [
        RenderedSection("results", "Results", body),
        RenderedSection(
            "curves",
            "Curves",
            _figure(figures, "curves.png", "validation metric against epochs, time and samples"),
        ),
        RenderedSection(
            "critical",
            "Critical batch size",
            cards(
                [("B_crit (curves)", fit.get("b_crit"))]
                + [(f"B_simple ({when})", _simple(m)) for when, m in noise.items()]
            )
            + _figure(figures, "critical_batch.png", "steps and samples to target")
            + details
            + '<p class="note">B_simple = tr(Σ)/|G|² from squared gradient norms at two batch '
            "sizes (McCandlish et al. 2018, Appendix A), model in eval mode, at the initial "
            "weights and at the last weights of the run at the experiment's own batch size. "
            "B_crit = E_min/S_min from a "
            "least-squares fit of the measured steps to target against 1/B.</p>",
        ),
    ]


def regularization_sections(
    document: Mapping[str, Any], figures: Mapping[str, bytes]
) -> list[RenderedSection]:
    settings = table(
        ["arm", "overrides"],
        [[a["label"], a["overrides"]] for a in document["arms"]],
    )
    body = (
        _html_table(regularization_table(document), _best_index(document, "test_mean"))
        + f'<p class="note">{escape(document["rule"])}.</p>'
        + _failures(document)
        + f"<details><summary>Arm settings</summary>{settings}</details>"
    )
    return [
        RenderedSection("results", "Results", body),
        RenderedSection(
            "ablation", "Ablation", _figure(figures, "ablation.png", "test metric and gap per arm")
        ),
        RenderedSection(
            "curves", "Curves", _figure(figures, "curves.png", "validation metric per epoch")
        ),
    ]


def render_lab_page(lab: Any, document: Mapping[str, Any], figures: Mapping[str, bytes]) -> str:
    """The whole page: the question, the setup, then the lab's own sections."""
    setup = key_values(
        [
            ("question", document["question"]),
            ("experiment", document["config"]),
            ("data", document.get("data")),
            ("judged by", document["metric"]),
            ("seeds", document["seeds"]),
            ("budget (s)", document.get("budget")),
            ("workers", document["workers"]),
            ("lab wall time (s)", round(document["seconds"], 1)),
        ]
    )
    sections = [RenderedSection("setup", "Setup", setup), *lab.sections(document, figures)]
    title = f"Lab: {document['title']} — {document['experiment']}"
    return render_page(title, document["question"], sections)
