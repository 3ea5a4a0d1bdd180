"""The transfer-learning section: where the starting weights came from and what was loaded,
the parameters trainable and frozen, and each layer group's learning rate and first epoch.

Read from ``summary.json``'s ``transfer`` record (:meth:`gradwise.transfer.Transfer.record`);
a run without one has no such section. Torch-free.
"""

from __future__ import annotations

from typing import Any

from gradwise.report.context import ReportContext
from gradwise.report.page import cards, escape, table
from gradwise.report.sections import section

SHOWN_TENSORS = 40  # tensors not loaded (fresh, unused) listed by name; the rest counted


def _load_part(load: dict[str, Any]) -> str:
    head = (
        f"<p>Starting weights: <code>{escape(load['init_from'])}</code> "
        f"(<code>{escape(load['weights'])}</code>). Tensors are matched by name and shape; "
        "the others keep a fresh initialization.</p>"
    )
    if load.get("inputs"):
        head += f"<p>Inputs: {escape(load['inputs'])}.</p>"
    figures = cards(
        [("loaded", load["loaded"]), ("fresh", load["fresh"]), ("unused", load["unused"])]
    )
    others = [row for row in load["tensors"] if row["status"] != "loaded"]
    rows = [
        [row["name"], row["status"], " × ".join(map(str, row["shape"])) or "scalar", row["reason"]]
        for row in others[:SHOWN_TENSORS]
    ]
    if len(others) > SHOWN_TENSORS:
        rows.append([f"… {len(others) - SHOWN_TENSORS} more", "", "", ""])
    listing = table(["tensor", "status", "shape", "why"], rows) if rows else ""
    return head + figures + listing


def _groups_part(record: dict[str, Any]) -> str:
    rows = []
    for group in reversed(record["layer_groups"]):  # head first, as the learning rates decay
        starts = group["trains_from_epoch"]
        rows.append(
            [
                group["name"],
                group["parameters"],
                group["lr"],
                "never (frozen)" if starts is None else starts,
            ]
        )
    notes = []
    if record.get("freeze"):
        notes.append(f"frozen patterns: {', '.join(map(str, record['freeze']))}")
    if record.get("unfreeze"):
        schedule = {k: v for k, v in record["unfreeze"].items() if v is not None}
        notes.append(f"gradual unfreezing: {schedule}")
    if record.get("lr_decay") is not None:
        notes.append(f"learning rate × {record['lr_decay']} per group below the head")
    note = f"<p>{escape('; '.join(notes))}.</p>" if notes else ""
    return note + table(
        ["layer group (head first)", "parameters", "learning rate", "trains from epoch"],
        rows,
        [False, True, True, True],
    )


@section("transfer", "Transfer learning", order=25)
def transfer(context: ReportContext) -> str | None:
    record = context.summary.get("transfer")
    if not isinstance(record, dict):
        return None
    first = record["parameters"]["first_epoch"]
    last = record["parameters"]["last_epoch"]
    body = cards(
        [
            ("parameters", first["total"]),
            ("trainable (epoch 1)", first["trainable"]),
            ("frozen (epoch 1)", first["frozen"]),
            ("trainable (last epoch)", last["trainable"]),
            ("frozen (last epoch)", last["frozen"]),
        ]
    )
    if record.get("load"):
        body += _load_part(record["load"])
    return body + _groups_part(record)
