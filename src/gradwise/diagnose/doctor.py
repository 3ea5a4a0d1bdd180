"""The doctor: run every registered detector over a run directory, explain symptoms by their
causes, and write ``diagnosis.json``.

>>> diagnosis = diagnose("runs/exp-20261123-101500")
>>> [f.code for f in diagnosis.findings]
['lr_too_high']
>>> diagnosis.remedies()          # the config changes `gradwise doctor --fix` applies
[Remedy(key='train.optimizer.lr', value=0.001, why='...')]

Torch-free: the doctor reads files, it does not load the model or the data.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gradwise._io import atomic_write_json
from gradwise.diagnose import (  # noqa: F401  (register the detectors)
    curves,
    data_findings,
    generative_findings,
    gradients,
    rl_findings,
)
from gradwise.diagnose.evidence import RunEvidence, finite
from gradwise.diagnose.findings import (
    FINDINGS,
    Finding,
    Remedy,
    explain_consequences,
    ordered,
)
from gradwise.diagnose.remedies import present

DIAGNOSIS_FILE = "diagnosis.json"


@dataclass
class Diagnosis:
    run: str
    findings: list[Finding]
    evidence: RunEvidence | None = field(default=None, repr=False, compare=False)  # what it read

    @property
    def healthy(self) -> bool:
        """No problem found in a run that completed (an incomplete run is never healthy)."""
        return [f.code for f in self.findings] == ["healthy"] and self.findings[0].evidence.get(
            "status"
        ) == "completed"

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    def remedies(self) -> list[Remedy]:
        """The remedies of the causes (not of the symptoms they explain), first per key."""
        return present(*(r for f in self.findings if f.caused_by is None for r in f.remedies))

    def to_dict(self) -> dict[str, Any]:
        from gradwise.runs import FORMAT_VERSION

        return {
            "format_version": FORMAT_VERSION,
            "run": self.run,
            "findings": [f.to_dict() for f in self.findings],
        }


def diagnose(run_dir: str | Path, write: bool = True) -> Diagnosis:
    """Diagnose a run directory; with ``write``, also save ``diagnosis.json`` into it."""
    evidence = RunEvidence.load(run_dir)
    found = [f for f in (FINDINGS.get(code)(evidence) for code in FINDINGS) if f is not None]
    findings = ordered(explain_consequences(found)) or [healthy(evidence)]
    diagnosis = Diagnosis(str(evidence.paths.root), findings, evidence)
    if write:
        atomic_write_json(evidence.paths.root / DIAGNOSIS_FILE, diagnosis.to_dict())
    return diagnosis


def healthy(evidence: RunEvidence) -> Finding:
    """The one finding of a run in which no detector found a problem: ``healthy`` when the run
    completed; for one that did not (running, interrupted, failed, no summary), the same code
    at severity ``info`` with a message that starts "Incomplete run" — the vocabulary of
    DESIGN.md §4 has no other code for "nothing wrong seen, but the run did not finish"."""
    summary = evidence.summary
    status = str(summary.get("status") or "unknown")
    metric = evidence.main_metric
    best = (summary.get("valid") or {}).get(metric)
    train = finite(evidence.train_loss)
    numbers: dict[str, Any] = {
        "status": status,
        "epochs": evidence.epochs,
        "best_epoch": summary.get("best_epoch"),
        f"valid_{metric}": best,
        "train_loss_final": train[-1] if train else None,
        "trivial_loss": evidence.trivial_loss,
        "diagnostics_samples": len(evidence.diagnostics),
    }
    parts = [f"trained {evidence.epochs} epochs"]
    if train and evidence.trivial_loss:
        parts.append(
            f"the training loss fell to {train[-1] / evidence.trivial_loss:.0%} of a constant "
            "predictor's"
        )
    if isinstance(best, (int, float)):
        parts.append(f"best validation {metric} {best:.4g} at epoch {summary.get('best_epoch')}")
    if not evidence.diagnostics:
        off = not evidence.config.diagnose.enabled
        parts.append(
            "no per-layer statistics were collected" + (" (diagnose.enabled is off)" if off else "")
        )
    if status == "completed":
        return Finding("healthy", "info", "No problems found: " + "; ".join(parts) + ".", numbers)
    error = summary.get("error")
    if error:
        parts.append(f"error: {error}")
    return Finding(
        "healthy",
        "info",
        f"Incomplete run (status {status}): the run did not complete, so there is too little to "
        "judge it by; no detector fired on what there is: " + "; ".join(parts) + ".",
        numbers,
    )


def format_diagnosis(diagnosis: Diagnosis) -> str:
    """The diagnosis as text for a terminal: one block per finding, remedies as --set lines."""
    lines = [f"run: {diagnosis.run}"]
    for finding in diagnosis.findings:
        lines.append("")
        lines.append(f"[{finding.severity}] {finding.code}")
        lines.append(f"  {finding.message}")
        if finding.caused_by is None:
            for remedy in finding.remedies:
                lines.append(f"  fix: --set {remedy.key}={format_value(remedy.value)}")
                lines.append(f"       {remedy.why}")
    remedies = diagnosis.remedies()
    if remedies:
        lines.append("")
        lines.append(f"apply them all with: gradwise doctor {shlex.quote(diagnosis.run)} --fix")
    return "\n".join(lines)


def format_value(value: Any) -> str:
    """A value as it would be typed after ``--set key=`` (YAML flow style)."""
    import yaml

    text = yaml.safe_dump(value, default_flow_style=True, width=1000).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()
