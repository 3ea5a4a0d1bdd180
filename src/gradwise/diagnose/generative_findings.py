"""Findings of the generative paradigms: ``posterior_collapse`` (vae), ``mode_collapse`` (vae,
gan) and ``discriminator_overpowering`` (gan). Each reads only the run's files.

- Posterior collapse: the KL of a latent unit is the information its code carries about x
  (in nats); a unit with mean KL below ``ACTIVE_UNIT_KL`` = 0.01 nats is inactive (its q(z_j|x)
  is the prior). Found when at least half of the units are inactive at the end of training
  (``latent_kl.jsonl``'s last line, else the summary's ``active_units``). A VAE naturally leaves
  a few surplus units unused; half of them is far beyond that in the healthy runs measured.
- Mode collapse: the samples show far less variety than the data: the variance of their
  features below ``NARROW_SPREAD`` = 0.3 of the held-out data's, or the entropy of their
  predicted classes below ``FEW_CLASSES`` = 0.6 of the data's (from the test summary, else the
  last epoch's validation ``feature_variance_ratio``).
- Discriminator overpowering: over the last quarter of the epochs D classifies (almost) every
  real and generated sample correctly (mean accuracy ≥ 0.95) while the generator's loss has
  climbed to at least 1.5× its level over the first quarter: D's gradients no longer guide G.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from gradwise._io import read_jsonl
from gradwise.diagnose.evidence import finite
from gradwise.diagnose.findings import Finding, Remedy, detector
from gradwise.diagnose.remedies import present

if TYPE_CHECKING:
    from gradwise.diagnose.evidence import RunEvidence

ACTIVE_UNIT_KL = 0.01  # nats (as gradwise.generative.vae.ACTIVE_UNIT_KL; this module is torch-free)
COLLAPSED_SHARE = 0.5  # inactive units / latent units from which the posterior has collapsed
NARROW_SPREAD = 0.3  # sample / data feature variance below which the samples have collapsed
FEW_CLASSES = 0.6  # sample / data class entropy below which classes are missing
OVERPOWERED_ACCURACY = 0.95
GENERATOR_CLIMB = 1.5  # last-quarter / first-quarter mean generator loss
MIN_EPOCHS = 4


def settings(evidence: RunEvidence) -> Any:
    from gradwise.config.generative import GenerativeConfig

    return evidence.config.generative or GenerativeConfig()


def _task(evidence: RunEvidence) -> str:
    return evidence.config.task


# -------------------------------------------------------------------------------- remedies
def kl_warmup(evidence: RunEvidence) -> Remedy | None:
    if settings(evidence).kl_warmup_epochs > 0:
        return None
    epochs = max(1, evidence.config.train.epochs // 5)
    return Remedy(
        "generative.kl_warmup_epochs",
        float(epochs),
        "Growing β from 0 over the first epochs lets the decoder learn to use the codes before "
        "the KL term pulls them to the prior (Bowman et al., 2016).",
    )


def free_bits(evidence: RunEvidence) -> Remedy | None:
    if settings(evidence).free_bits > 0:
        return None
    return Remedy(
        "generative.free_bits",
        0.25,
        "Leaving each unit's first 0.25 nats free of charge removes the optimizer's gain from "
        "shutting a unit off entirely (Kingma et al., 2016).",
    )


def unit_beta(evidence: RunEvidence) -> Remedy | None:
    beta = settings(evidence).beta
    if beta <= 1.0:
        return None
    return Remedy(
        "generative.beta",
        1.0,
        f"β = {beta:g} charges every nat of information {beta:g} times; β = 1 is the ELBO, at "
        "which a unit is used whenever it pays for itself.",
    )


def smaller_decoder(evidence: RunEvidence) -> Remedy | None:
    model = evidence.config.model
    hidden = getattr(model, "hidden", None)
    if model.kind != "mlp" or not hidden or max(hidden) <= 32:
        return None
    return Remedy(
        "model.hidden",
        [max(16, h // 2) for h in hidden],
        "A decoder powerful enough to model x without z leaves the codes unused; halving its "
        "width makes it depend on them.",
    )


def gan_setting(key: str, value: Any, why: str) -> Any:
    def remedy(evidence: RunEvidence) -> Remedy | None:
        current = getattr(settings(evidence), key)
        return None if current == value else Remedy(f"generative.{key}", value, why)

    return remedy


minibatch_std = gan_setting(
    "minibatch_std",
    True,
    "Showing D the spread of each batch lets it reject a batch of near-identical samples, so "
    "G is pushed to cover more of the data (Karras et al., 2018).",
)
spectral_norm = gan_setting(
    "spectral_norm",
    True,
    "Spectral normalization bounds D's Lipschitz constant, which keeps its gradients to G "
    "informative instead of saturated (Miyato et al., 2018).",
)
generator_ema = gan_setting(
    "generator_ema",
    0.999,
    "Samples from a moving average of G's weights average out the cycling between modes.",
)
r1 = gan_setting(
    "gradient_penalty",
    1.0,
    "An R1 penalty on D's gradient at real data keeps D smooth, so G still gets a useful "
    "signal where D is confident (Mescheder et al., 2018).",
)


def adam_half_momentum(evidence: RunEvidence) -> Remedy | None:
    optimizer = evidence.config.train.optimizer
    if optimizer.name not in ("adam", "adamw") or optimizer.betas[0] <= 0.5:
        return None
    return Remedy(
        "train.optimizer.betas",
        [0.5, optimizer.betas[1]],
        "Adam with β₁ = 0.5 follows the moving target of the other network more closely than "
        "with β₁ = 0.9 (Radford et al., 2016).",
    )


def slower_discriminator(evidence: RunEvidence) -> Remedy | None:
    train = evidence.config.train
    d = train.optimizers.get("discriminator", train.optimizer)
    g = train.optimizers.get("generator", train.optimizer)
    if d.lr <= g.lr:
        return None
    return Remedy(
        "train.optimizers.discriminator.lr",
        g.lr,
        "D learns faster than G; at the same learning rate G can keep up.",
    )


# ------------------------------------------------------------------------------- detectors
def latent_kl(evidence: RunEvidence) -> list[float] | None:
    """The KL per latent unit at the last epoch (``latent_kl.jsonl``), or None."""
    rows = read_jsonl(evidence.paths.root / "latent_kl.jsonl")
    if not rows or not isinstance(rows[-1].get("kl_per_unit"), list):
        return None
    return [float(v) for v in rows[-1]["kl_per_unit"]]


@detector("posterior_collapse")
def posterior_collapse(evidence: RunEvidence) -> Finding | None:
    if _task(evidence) != "vae" or evidence.epochs < 1:
        return None
    per_unit = latent_kl(evidence)
    test = evidence.summary.get("test") or {}
    if per_unit is not None:
        latent = len(per_unit)
        inactive = sum(1 for v in per_unit if not v > ACTIVE_UNIT_KL)
        total = sum(v for v in per_unit if math.isfinite(v))
    elif isinstance(test.get("active_units"), (int, float)) and test.get("latent"):
        latent = int(test["latent"])
        inactive = latent - int(test["active_units"])
        total = float(test.get("kl", math.nan))
    else:
        return None
    if latent == 0 or inactive / latent < COLLAPSED_SHARE:
        return None
    remedies = present(
        unit_beta(evidence), kl_warmup(evidence), free_bits(evidence), smaller_decoder(evidence)
    )
    return Finding(
        "posterior_collapse",
        "error" if inactive == latent else "warning",
        f"Posterior collapse: {inactive} of {latent} latent units carry less than "
        f"{ACTIVE_UNIT_KL} nats about their input (total KL {total:.3g} nats): their posterior "
        "is the prior, so the decoder ignores them and samples lose the data's variety.",
        {
            "inactive_units": inactive,
            "latent_units": latent,
            "kl_total": total,
            "kl_per_unit": per_unit,
            "beta": settings(evidence).beta,
        },
        remedies,
    )


def sample_spread(evidence: RunEvidence) -> dict[str, float]:
    test = evidence.summary.get("test") or {}
    spread = {k: test[k] for k in ("feature_variance_ratio", "class_entropy_ratio") if k in test}
    if "feature_variance_ratio" not in spread:
        values = finite(evidence.series("valid_feature_variance_ratio"))
        if values:
            spread["feature_variance_ratio"] = values[-1]
    return {k: float(v) for k, v in spread.items() if isinstance(v, (int, float))}


@detector("mode_collapse")
def mode_collapse(evidence: RunEvidence) -> Finding | None:
    if _task(evidence) not in ("gan", "vae"):
        return None
    spread = sample_spread(evidence)
    variance = spread.get("feature_variance_ratio")
    classes = spread.get("class_entropy_ratio")
    narrow = variance is not None and variance < NARROW_SPREAD
    few = classes is not None and classes < FEW_CLASSES
    if not (narrow or few):
        return None
    parts = []
    if variance is not None:
        parts.append(f"their features vary {variance:.2g}× as much as the data's")
    if classes is not None:
        parts.append(f"their predicted classes have {classes:.2g}× the data's entropy")
    test = evidence.summary.get("test") or {}
    numbers: dict[str, Any] = dict(spread)
    for key in ("fd", "fd_baseline", "fd_floor"):
        if key in test:
            numbers[key] = test[key]
    remedies = (
        present(
            minibatch_std(evidence),
            spectral_norm(evidence),
            adam_half_momentum(evidence),
            generator_ema(evidence),
        )
        if _task(evidence) == "gan"
        else present(kl_warmup(evidence), free_bits(evidence))
    )
    return Finding(
        "mode_collapse",
        "error",
        "Mode collapse: the samples cover a small part of the data: " + "; ".join(parts) + ".",
        numbers,
        remedies,
    )


@detector("discriminator_overpowering")
def discriminator_overpowering(evidence: RunEvidence) -> Finding | None:
    if _task(evidence) != "gan" or evidence.epochs < MIN_EPOCHS:
        return None
    accuracy = evidence.series("valid_discriminator_accuracy")
    if not finite(accuracy):
        accuracy = evidence.series("train_discriminator_accuracy")
    g_loss = evidence.series("train_generator_loss")
    quarter = max(1, evidence.epochs // 4)
    late_accuracy = finite(accuracy[-quarter:])
    early_g, late_g = finite(g_loss[:quarter]), finite(g_loss[-quarter:])
    if not (late_accuracy and early_g and late_g):
        return None
    mean_accuracy = sum(late_accuracy) / len(late_accuracy)
    climb = (sum(late_g) / len(late_g)) / max(sum(early_g) / len(early_g), 1e-12)
    if mean_accuracy < OVERPOWERED_ACCURACY or climb < GENERATOR_CLIMB:
        return None
    return Finding(
        "discriminator_overpowering",
        "warning",
        f"Discriminator overpowering: over the last {quarter} epochs D told real from generated "
        f"{mean_accuracy:.1%} of the time while G's loss climbed {climb:.1f}× above its early "
        "level; a saturated D no longer tells G where to go.",
        {
            "discriminator_accuracy_late": mean_accuracy,
            "generator_loss_early": sum(early_g) / len(early_g),
            "generator_loss_late": sum(late_g) / len(late_g),
            "epochs": evidence.epochs,
        },
        present(r1(evidence), spectral_norm(evidence), slower_discriminator(evidence)),
    )
