"""Findings about the data rather than the training: ``target_leakage``.

The screen itself runs when the data is split (:mod:`gradwise.data.leakage`) and its result is
kept in the run's ``profile.json``; the detector turns it into a finding with the evidence: each
suspect column, its score alone on the validation rows, and the whole model's test score.
"""

from __future__ import annotations

from gradwise.diagnose.evidence import RunEvidence
from gradwise.diagnose.findings import Finding, Remedy, detector


@detector("target_leakage")
def target_leakage(evidence: RunEvidence) -> Finding | None:
    suspects = evidence.profile.get("leakage") or []
    if not suspects:
        return None
    first = suspects[0]
    metric = first["metric"]
    model_score = evidence.summary.get("test", {}).get(metric)
    columns = [s["column"] for s in suspects]
    shown = ", ".join(f"'{c}'" for c in columns)
    whole = f"; the whole model scores {model_score:.4f} on test" if model_score else ""
    message = (
        f"column(s) {shown} alone predict the target almost perfectly ({metric} "
        f"{first['score']:.4f} from '{first['column']}' on the validation rows{whole}): a copy "
        "of the target, something known only after it, or an order that tracks it"
    )
    return Finding(
        "target_leakage",
        "error",
        message,
        evidence={"suspects": suspects, f"test_{metric}": model_score},
        remedies=[
            Remedy(
                "data.drop",
                columns,
                "leave the column(s) out: a model that leans on what it will not know at "
                "prediction time fails in use, however good its test score",
            )
        ],
    )
