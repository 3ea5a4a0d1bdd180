"""The diagnostics section: gradient flow (layers × time), dead and saturated units, and the
doctor's findings with their remedies.

Reads ``diagnostics.jsonl`` (one sample per line: ``step``, ``epoch``, ``layers`` with
``grad_norm``/``weight_norm``/``update_ratio``, ``activations`` with ``mean``/``std``/
``dead_fraction``/``saturated_fraction``) and ``diagnosis.json`` (``findings`` with ``code``,
``severity``, ``message``, ``evidence``, ``remedies``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradwise.diagnose.findings import SEVERITY_RANK
from gradwise.report.context import ReportContext
from gradwise.report.heatmaps import gradient_flow_png, unit_fractions_png
from gradwise.report.page import escape, format_value, image, table
from gradwise.report.sections import section

# A heatmap over training needs samples at two moments at least; a single sample (a short run
# sampled every ``diagnose.every`` steps) is shown by the tables alone.
MIN_HEATMAP_SAMPLES = 2


@dataclass(frozen=True)
class LayerSeries:
    """One statistic of every layer over the diagnostic samples."""

    labels: list[str]  # "name (kind)", in forward order
    values: np.ndarray  # (layers, samples); NaN where a sample lacks the layer or the value


def layer_series(records: Sequence[dict[str, Any]], group: str, field: str) -> LayerSeries:
    """``records[s][group][l][field]`` as a (layers, samples) array, layers in first-seen order."""
    kinds: dict[str, str] = {}
    for record in records:
        for entry in record.get(group, []):
            kinds.setdefault(entry["name"], entry.get("kind", ""))
    row_of = {name: row for row, name in enumerate(kinds)}
    values = np.full((len(kinds), len(records)), np.nan)
    for column, record in enumerate(records):
        for entry in record.get(group, []):
            value = entry.get(field)
            if isinstance(value, (int, float)):
                values[row_of[entry["name"]], column] = value
    labels = [f"{name} ({kind})" if kind else name for name, kind in kinds.items()]
    return LayerSeries(labels, values)


def _latest_table(records: Sequence[dict[str, Any]], group: str, fields: Sequence[str]) -> str:
    last = records[-1].get(group, [])
    rows = [[e.get("name"), e.get("kind"), *(e.get(f) for f in fields)] for e in last]
    return table(["layer", "type", *fields], rows, [False, False, *[True] * len(fields)])


def _gradient_part(records: Sequence[dict[str, Any]]) -> str:
    steps = [int(r.get("step", i)) for i, r in enumerate(records)]
    epochs = [int(r.get("epoch", 0)) for r in records]
    parts = []
    over_time = len(records) >= MIN_HEATMAP_SAMPLES
    if not over_time:
        parts.append(
            f'<p class="note">One diagnostic sample (step {steps[0]}, epoch {epochs[0]}): its '
            "per-layer statistics are in the tables below; the gradient-flow and unit heatmaps "
            "over training need two samples or more (a smaller <code>diagnose.every</code> or a "
            "longer run).</p>"
        )
    grads = layer_series(records, "layers", "grad_norm")
    if over_time and grads.labels:
        parts.append("<h3>Gradient flow</h3>")
        parts.append(
            image(
                gradient_flow_png(steps, epochs, grads.labels, grads.values),
                "gradient flow heatmap: layers by optimizer step",
            )
        )
        parts.append(
            '<p class="note">Each row is a layer (input at the top), each column a sample during '
            "training. Rows that stay much darker than the others learn slowly (vanishing "
            "gradients); bright rows that keep growing point to exploding gradients. Grey: "
            "zero or non-finite.</p>"
        )
    dead = layer_series(records, "activations", "dead_fraction")
    saturated = layer_series(records, "activations", "saturated_fraction")
    if (
        over_time
        and dead.labels
        and (np.isfinite(dead.values).any() or np.isfinite(saturated.values).any())
    ):
        parts.append("<h3>Dead and saturated units</h3>")
        parts.append(
            image(
                unit_fractions_png(steps, epochs, dead.labels, dead.values, saturated.values),
                "dead and saturated unit fractions per activation layer",
            )
        )
    step_text = f"step {steps[-1]}, epoch {epochs[-1]}"
    if records[-1].get("layers"):
        parts.append(f"<h3>Layers at the last sample ({step_text})</h3>")
        parts.append(_latest_table(records, "layers", ["grad_norm", "weight_norm", "update_ratio"]))
    if records[-1].get("activations"):
        parts.append(f"<h3>Activations at the last sample ({step_text})</h3>")
        parts.append(
            _latest_table(
                records, "activations", ["mean", "std", "dead_fraction", "saturated_fraction"]
            )
        )
    return "".join(parts)


def _evidence(evidence: dict[str, Any]) -> str:
    if not evidence:
        return ""
    items = "".join(
        f"<li><code>{escape(key)}</code>: {format_value(value)}</li>"
        for key, value in evidence.items()
    )
    return f'<ul class="note">{items}</ul>'


def _finding(finding: dict[str, Any]) -> str:
    severity = str(finding.get("severity", "info"))
    css = severity if severity in SEVERITY_RANK else "info"
    remedies = finding.get("remedies") or []
    remedy_table = ""
    if remedies:
        rows = [[r.get("key"), r.get("value"), r.get("why", "")] for r in remedies]
        remedy_table = "<strong>Remedies</strong>" + table(
            ["config key", "value", "why"], rows, [False, False, False]
        )
    return (
        f'<div class="finding {css}"><p><span class="badge {css}">{escape(severity)}</span>'
        f"<strong>{escape(finding.get('code', ''))}</strong> — {escape(finding.get('message', ''))}"
        f"</p>{_evidence(finding.get('evidence') or {})}{remedy_table}</div>"
    )


def _findings_part(context: ReportContext) -> str:
    diagnosis = context.diagnosis or {}
    findings = sorted(
        diagnosis.get("findings", []),
        key=lambda f: SEVERITY_RANK.get(str(f.get("severity")), len(SEVERITY_RANK)),
    )
    if not findings:
        return '<h3>Doctor\'s findings</h3><p class="note">The doctor found nothing to report.</p>'
    fixable = any(f.get("remedies") for f in findings)
    hint = (
        f'<p class="note">Apply the remedies and compare: '
        f"<code>gradwise doctor {escape(context.root)} --fix</code></p>"
        if fixable
        else ""
    )
    return "<h3>Doctor's findings</h3>" + "".join(_finding(f) for f in findings) + hint


@section("diagnostics", "Diagnostics", order=50)
def diagnostics(context: ReportContext) -> str | None:
    records = context.diagnostics
    if not records and context.diagnosis is None:
        return None
    parts = []
    if context.diagnosis is not None:
        parts.append(_findings_part(context))
    if records:
        parts.append(_gradient_part(records))
    elif context.is_run:
        parts.append(
            '<p class="note">No per-layer statistics were recorded for this run '
            "(diagnose.enabled: false).</p>"
        )
    return "".join(parts)
