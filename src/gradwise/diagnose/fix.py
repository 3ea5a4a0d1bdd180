"""``gradwise doctor RUN --fix``: train the run again with the remedies applied (same seed, a new
run directory next to the original), diagnose the new run, and compare.

The comparison is judged on one metric: the run's main metric on the test split, or balanced
accuracy (macro-F1 where it was not recorded) when class imbalance was a finding: accuracy
rewards ignoring a minority class. When several
remedies together made that metric worse, each is tried alone, so the report can name the
remedies that hurt instead of hiding them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gradwise.config import load_config
from gradwise.diagnose.doctor import Diagnosis, diagnose
from gradwise.diagnose.evidence import RunEvidence, finite
from gradwise.diagnose.findings import Remedy
from gradwise.errors import TrainingError
from gradwise.metric_names import higher_is_better

# A change smaller than this is "the same": 0.5 points of a bounded score, 1% of an error.
SAME_BOUNDED, SAME_RELATIVE = 0.005, 0.01


@dataclass
class Outcome:
    """The numbers of one run that the before/after table shows."""

    run: str
    status: str
    metric: str
    test: float | None  # the judged metric on the test split
    valid: float | None  # ... on the validation split at the best epoch
    train_loss: float | None  # final epoch
    valid_loss: float | None  # final epoch
    findings: list[str]
    epochs: int = 0  # epochs run
    n_test: int = 0  # samples in the test split

    @classmethod
    def of(cls, diagnosis: Diagnosis, metric: str) -> Outcome:
        evidence = diagnosis.evidence
        summary = evidence.summary
        train, valid = finite(evidence.train_loss), finite(evidence.valid_loss)
        return cls(
            run=diagnosis.run,
            status=summary.get("status", "unknown"),
            metric=metric,
            test=(summary.get("test") or {}).get(metric),
            valid=(summary.get("valid") or {}).get(metric),
            train_loss=train[-1] if train else None,
            valid_loss=valid[-1] if valid else None,
            findings=diagnosis.codes,
            epochs=evidence.epochs,
            n_test=int((evidence.profile.get("splits") or {}).get("test", 0)),
        )


@dataclass
class FixReport:
    run: str
    metric: str
    remedies: list[Remedy]
    before: Outcome
    after: Outcome | None = None  # None when there was nothing to fix
    verdict: str = "nothing to fix"  # better | worse | same | nothing to fix | no remedies
    resolved: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    worse_remedies: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def judged_metric(diagnosis: Diagnosis, evidence: RunEvidence) -> str:
    """The run's main metric; with class imbalance, balanced accuracy (the mean recall over
    classes, which accuracy hides) where the run recorded it, else macro-F1."""
    if "class_imbalance" in diagnosis.codes:
        test = evidence.summary.get("test") or {}
        return "balanced_accuracy" if "balanced_accuracy" in test else "f1"
    return evidence.main_metric


def compare(metric: str, before: float | None, after: float | None, n_test: int = 0) -> str:
    """better / worse / same for ``after`` vs ``before`` (a run that failed has no score).

    A change within the noise of the test split is "same": for a score in [0, 1] measured on n
    samples that is one standard error, sqrt(p(1 − p) / n) (at least half a point); for an
    error such as RMSE, 1% of it.
    """
    if after is None or not math.isfinite(after):
        return "same" if before is None else "worse"
    if before is None or not math.isfinite(before):
        return "better"
    higher = higher_is_better(metric)
    change = after - before if higher else before - after
    if higher:
        p = min(max(before, 0.0), 1.0)
        tolerance = max(SAME_BOUNDED, math.sqrt(p * (1 - p) / n_test) if n_test else 0.0)
    else:
        tolerance = SAME_RELATIVE * abs(before)
    if abs(change) <= tolerance + 1e-12:  # half a point is still "same" in floats
        return "same"
    return "better" if change > 0 else "worse"


def fix_run(run_dir: str | Path, quiet: bool = True) -> FixReport:
    """Diagnose ``run_dir``, re-train with the remedies, diagnose again and compare."""
    diagnosis = diagnose(run_dir)
    evidence = diagnosis.evidence
    metric = judged_metric(diagnosis, evidence)
    remedies = diagnosis.remedies()
    report = FixReport(diagnosis.run, metric, remedies, Outcome.of(diagnosis, metric))
    if not remedies:
        report.verdict = "nothing to fix" if diagnosis.healthy else "no remedies"
        return report
    after = Outcome.of(retrain(evidence, remedies, "fixed", quiet), metric)
    report.after = after
    report.verdict = compare(metric, report.before.test, after.test, report.before.n_test)
    report.resolved = [c for c in report.before.findings if c not in after.findings]
    report.new = [c for c in after.findings if c not in report.before.findings and c != "healthy"]
    if report.verdict == "worse":
        report.worse_remedies = blame(evidence, remedies, report.before, quiet)
    return report


def blame(
    evidence: RunEvidence, remedies: list[Remedy], before: Outcome, quiet: bool
) -> list[dict[str, Any]]:
    """The remedies that make the judged metric worse on their own (each tried alone; with a
    single remedy, that one). When none does alone, all are named: they hurt together."""
    if len(remedies) == 1:
        return [_remedy_row(remedies[0], None)]
    rows = []
    for i, remedy in enumerate(remedies, start=1):
        alone = Outcome.of(retrain(evidence, [remedy], f"only-{i}", quiet), before.metric)
        verdict = compare(before.metric, before.test, alone.test, before.n_test)
        rows.append((verdict, _remedy_row(remedy, alone)))
    worse = [row for verdict, row in rows if verdict == "worse"]
    return worse or [{**row, "together_only": True} for _, row in rows]


def _remedy_row(remedy: Remedy, alone: Outcome | None) -> dict[str, Any]:
    row: dict[str, Any] = {"key": remedy.key, "value": remedy.value}
    if alone is not None:
        row.update(test=alone.test, run=alone.run)
    return row


def retrain(evidence: RunEvidence, remedies: list[Remedy], suffix: str, quiet: bool) -> Diagnosis:
    """Train the run's config with ``remedies`` (same seed) next to the original; diagnose it.
    A run that stops on a non-finite loss is still diagnosed (its summary says why)."""
    from gradwise.api import train  # torch is needed from here on

    overrides: dict[str, Any] = {r.key: r.value for r in remedies}
    overrides["name"] = f"{evidence.config.name}-{suffix}"
    config = load_config(evidence.paths.config, overrides)
    try:
        run_dir = train(config, out=evidence.paths.root.parent, quiet=quiet).path
    except TrainingError as exc:
        if exc.run_dir is None:
            raise
        run_dir = exc.run_dir
    return diagnose(run_dir)
