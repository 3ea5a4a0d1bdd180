"""Findings: what the doctor can say about a run, and the registry of detectors that say it.

Each finding code of DESIGN.md §4 has one small detector ``(evidence) -> Finding | None``,
registered under its code::

    @detector("overfitting")
    def overfitting(evidence: RunEvidence) -> Finding | None: ...

A detector looks only at the run's files (see :mod:`gradwise.diagnose.evidence`) and returns
``None`` when its problem is absent. Thresholds sit next to the detector that uses them, chosen
with a wide margin between healthy and broken runs: a false alarm is a defect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from gradwise.registry import Registry

if TYPE_CHECKING:
    from gradwise.diagnose.evidence import RunEvidence

Severity = Literal["info", "warning", "error"]
SEVERITY_RANK: dict[str, int] = {"error": 0, "warning": 1, "info": 2}

# The fixed vocabulary (DESIGN.md §4), in the order findings are listed and remedies are
# applied: causes before the symptoms they produce.
CODES: tuple[str, ...] = (
    "target_leakage",
    "non_finite_loss",
    "exploding_gradients",
    "lr_too_high",
    "vanishing_gradients",
    "saturated_units",
    "dead_units",
    "lr_too_low",
    "value_divergence",
    "entropy_collapse",
    "discriminator_overpowering",
    "posterior_collapse",
    "mode_collapse",
    "class_imbalance",
    "underfitting",
    "overfitting",
    "healthy",
)

# Symptoms that a cause explains: when the cause is found, these are kept as `info`, pointing at
# the cause, and their remedies are not applied by `--fix` (fix the cause first).
CONSEQUENCES: dict[str, tuple[str, ...]] = {
    "non_finite_loss": ("exploding_gradients", "lr_too_high", "underfitting"),
    "lr_too_high": ("dead_units", "saturated_units", "vanishing_gradients", "underfitting"),
    "exploding_gradients": ("saturated_units", "vanishing_gradients", "underfitting"),
    "saturated_units": ("vanishing_gradients", "underfitting"),
    "vanishing_gradients": ("underfitting",),
    "dead_units": ("underfitting",),
    "lr_too_low": ("underfitting",),
    # diverging value estimates give the policy garbage advantages: its entropy collapses
    "value_divergence": ("entropy_collapse",),
    # a saturated discriminator stops guiding the generator onto the modes it misses
    "discriminator_overpowering": ("mode_collapse",),
    # collapsed latent units leave the decoder's samples without the data's variety
    "posterior_collapse": ("mode_collapse",),
}


@dataclass(frozen=True)
class Remedy:
    """A config change (``--set key=value``) and why it helps, in one sentence."""

    key: str
    value: Any
    why: str


@dataclass
class Finding:
    code: str
    severity: Severity
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    remedies: list[Remedy] = field(default_factory=list)

    @property
    def caused_by(self) -> str | None:
        """The finding that explains this one, if any (kept in its evidence)."""
        return self.evidence.get("caused_by")

    def to_dict(self) -> dict[str, Any]:
        """The ``diagnosis.json`` form: code, severity, message, evidence, remedies."""
        return asdict(self)


Detector = Callable[["RunEvidence"], Finding | None]
FINDINGS: Registry[Detector] = Registry("finding")


def detector(code: str) -> Callable[[Detector], Detector]:
    """Register ``function`` as the detector of ``code`` (one of :data:`CODES`)."""
    if code not in CODES:
        raise ValueError(f"'{code}' is not a finding code; codes: {', '.join(CODES)}")
    return FINDINGS.register(code)


def explain_consequences(findings: list[Finding]) -> list[Finding]:
    """Mark symptoms of a cause that was also found: severity ``info``, ``caused_by`` set."""
    present = {f.code for f in findings}
    for finding in findings:
        cause = next(
            (c for c in CODES if c in present and finding.code in CONSEQUENCES.get(c, ())), None
        )
        if cause is not None:
            finding.evidence["caused_by"] = cause
            finding.severity = "info"
            finding.message += f" (most likely a consequence of {cause})"
    return findings


def ordered(findings: list[Finding]) -> list[Finding]:
    """Causes first, then by severity, then in vocabulary order."""
    return sorted(
        findings,
        key=lambda f: (f.caused_by is not None, SEVERITY_RANK[f.severity], CODES.index(f.code)),
    )
