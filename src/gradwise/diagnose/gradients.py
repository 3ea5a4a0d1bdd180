"""Detectors that read the per-layer statistics of ``diagnostics.jsonl`` (and the run's failure
record): vanishing and exploding gradients, dead and saturated units, non-finite losses.

Gradients are compared across layers as *relative* gradients ‖∂L/∂W‖ / ‖W‖, which do not depend
on a layer's size: in a healthy network the first and last weight layers stay within one or two
orders of magnitude of each other (Glorot & Bengio, 2010; He et al., 2015).
"""

from __future__ import annotations

import itertools
import math
import re

from gradwise.diagnose import remedies as fix
from gradwise.diagnose.curves import blow_ups
from gradwise.diagnose.evidence import RunEvidence, finite, median
from gradwise.diagnose.findings import Finding, detector

WEIGHT_LAYERS = ("Linear", "Conv1d", "Conv2d", "RNN", "LSTM", "GRU")
# Healthy runs measured: first/last relative gradient ≥ 10^-1.5, gradient-norm growth ≤ 3×,
# dead fraction ≤ 0.25, saturated fraction ≤ 0.13.
VANISHING_ORDERS = 3.0  # first layer's relative gradient ≥ 1000× below the last layer's
SEVERE_ORDERS = 6.0
GROWTH = 10.0  # gradient norm settled ≥ 10× its starting level, with a loss blow-up
EXTREME_GROWTH = 1000.0  # ... or peaked ≥ 1000× above it
DEAD = 0.5  # half of a ReLU layer's units output 0 for every sample of the batch
SATURATED = 0.5  # half of a sigmoid/tanh layer's outputs sit at the flat ends


def later_half(values: list[float]) -> list[float]:
    """The second half of a run's samples (≥ 1): what the network settled into."""
    return values[len(values) // 2 :] or values


def total_grad_norms(evidence: RunEvidence) -> list[tuple[int, int, float]]:
    """(step, epoch, ‖g‖ over all layers) per sample; a null (non-finite) norm is +inf."""
    totals = []
    for sample in evidence.diagnostics:
        squares = 0.0
        for layer in sample.get("layers", []):
            norm = layer.get("grad_norm")
            squares += math.inf if norm is None else norm * norm
        totals.append((sample.get("step", 0), sample.get("epoch", 0), math.sqrt(squares)))
    return totals


ZERO_ORDERS = -30.0  # log10 of the ratio stands in for −∞ when the first layer's gradient is 0


def orders_between(first: float, last: float) -> float:
    """log10(first / last), floored at ``ZERO_ORDERS`` for an exactly zero gradient."""
    if last <= 0 or not math.isfinite(first) or not math.isfinite(last):
        return math.nan
    return math.log10(max(first / last, 10.0**ZERO_ORDERS))


def relative_gradients(evidence: RunEvidence) -> dict[str, list[float]]:
    """Per weight layer (forward order), ‖∂L/∂W‖ / ‖W‖ per diagnostics sample, aligned by
    sample: NaN where a sample lacks the layer or its numbers."""
    per_sample = [
        [layer["name"] for layer in sample.get("layers", []) if layer.get("kind") in WEIGHT_LAYERS]
        for sample in evidence.diagnostics
    ]
    names = max(per_sample, key=len, default=[])  # the fullest sample's order is forward order
    names = names + [n for n in dict.fromkeys(itertools.chain(*per_sample)) if n not in names]
    relative: dict[str, list[float]] = {name: [] for name in names}
    for sample in evidence.diagnostics:
        by_name = {layer.get("name"): layer for layer in sample.get("layers", [])}
        for name in names:
            layer = by_name.get(name, {})
            grad, weight = layer.get("grad_norm"), layer.get("weight_norm")
            ok = isinstance(grad, (int, float)) and isinstance(weight, (int, float)) and weight > 0
            relative[name].append(grad / weight if ok else math.nan)
    return relative


# ------------------------------------------------------------------------------ detectors
@detector("vanishing_gradients")
def vanishing_gradients(evidence: RunEvidence) -> Finding | None:
    relative = relative_gradients(evidence)
    if len(relative) < 2:
        return None
    names = list(relative)
    first, last = names[0], names[-1]
    orders = [orders_between(a, b) for a, b in zip(relative[first], relative[last], strict=True)]
    typical = median(orders)
    low = sum(o <= -VANISHING_ORDERS + 1 for o in finite(orders))  # ≥ 100× below
    if not (typical <= -VANISHING_ORDERS and low >= 0.75 * len(finite(orders))):
        return None
    config = evidence.config
    by_layer = {name: median(v) for name, v in relative.items()}
    zero = by_layer[first] == 0  # the first layer's gradient is exactly 0 in most samples
    zeros = sum(o <= ZERO_ORDERS for o in finite(orders))
    return Finding(
        "vanishing_gradients",
        "error" if typical <= -SEVERE_ORDERS else "warning",
        zero_gradient_message(first, last, by_layer, zeros, len(orders))
        if zero
        else f"Vanishing gradients: the first layer ({first}) gets a relative gradient "
        f"{-typical:.1f} orders of magnitude smaller than the last ({last}) (typically; ≥ 2 "
        f"orders in {low} of {len(orders)} samples); the early layers barely learn.",
        {
            "first_layer": first,
            "last_layer": last,
            "orders_of_magnitude": None if zero else round(-typical, 2),  # None: infinitely many
            "zero_gradient_samples": zeros,
            "zero_gradient_layers": [name for name, value in by_layer.items() if value == 0],
            "samples": len(orders),
            "relative_grad_by_layer": by_layer,
        },
        fix.present(fix.non_saturating_activation(config), fix.normalization(config)),
    )


def zero_gradient_message(
    first: str, last: str, by_layer: dict[str, float], zeros: int, samples: int
) -> str:
    """The first layer's gradient is exactly 0 (it underflowed on the way back): a ratio of
    orders of magnitude would be infinite, so the message says zero and names the layers."""
    dead = [name for name, value in by_layer.items() if value == 0]
    named = ", ".join(dead) if len(dead) <= 3 else f"{dead[0]} … {dead[-1]}"
    layers = (
        f"{len(dead)} of {len(by_layer)} weight layers ({named}) get no gradient and do not learn"
        if len(dead) > 1
        else "a layer with a zero gradient does not learn"
    )
    return (
        f"Vanishing gradients: the first layer ({first}) gets a zero gradient (exactly 0 in "
        f"{zeros} of {samples} samples) while the last ({last}) gets a relative gradient "
        f"‖∂L/∂W‖/‖W‖ of {by_layer[last]:.2g}; {layers} at all."
    )


@detector("exploding_gradients")
def exploding_gradients(evidence: RunEvidence) -> Finding | None:
    totals = total_grad_norms(evidence)
    error = str(evidence.summary.get("error", ""))
    non_finite_grad = "non-finite gradient" in error
    if len(totals) < 2 and not non_finite_grad:
        return None
    start = totals[0][2] if totals else 0.0
    peak = max(totals, key=lambda t: t[2]) if totals else (0, 0, 0.0)
    growth = peak[2] / start if start > 0 else 1.0
    settled = median([t[2] for t in later_half(totals[1:])]) / start if start > 0 else 1.0
    blown = bool(blow_ups(evidence)) or "non-finite" in error
    sustained = settled >= GROWTH and blown  # a one-off jump is the learning rate's doing
    if not (non_finite_grad or sustained or growth >= EXTREME_GROWTH):
        return None
    config = evidence.config
    remedies = fix.present(
        fix.clip_gradients(config),
        fix.lower_lr(
            config,
            "A smaller learning rate keeps the weights out of the region "
            "where gradients grow without bound.",
        ),
    )
    return Finding(
        "exploding_gradients",
        "error",
        exploding_message(start, peak, settled, blown, error if non_finite_grad else ""),
        {
            "grad_norm_start": totals[0][2] if totals else None,
            "grad_norm_peak": peak[2] if math.isfinite(peak[2]) else None,
            "peak_step": peak[0],
            "peak_epoch": peak[1],
            "growth": growth if math.isfinite(growth) else None,
            "settled_growth": settled if math.isfinite(settled) else None,
            "grad_clip": config.train.grad_clip,
        },
        remedies,
    )


def exploding_message(
    start: float, peak: tuple[int, int, float], settled: float, blown: bool, error: str
) -> str:
    parts = []
    if start > 0 and peak[2] > start:
        parts.append(
            f"the gradient norm grew from {start:.3g} to {peak[2]:.3g} (step {peak[0]}, epoch "
            f"{peak[1]}) and stayed ~{settled:.0f}× above its start"
            + (" while the loss blew up" if blown else "")
        )
    if error:
        parts.append(error_cause(error))
    return "Exploding gradients: " + "; ".join(parts) + "."


def error_cause(error: str) -> str:
    """A training error's cause, without the advice that follows it ("; the last good…")."""
    return error.split("; the last good")[0]


def late_fractions(
    evidence: RunEvidence, statistic: str, threshold: float
) -> tuple[dict[str, float], dict[str, float], dict[str, str]]:
    """Per activation layer, the median of ``statistic`` over the later half of training; the
    layers at or above ``threshold`` (rounded); and each layer's activation kind."""
    values, kinds = evidence.activation_values(statistic)
    fractions = {name: median(later_half(v)) for name, v in values.items()}
    affected = {name: round(f, 4) for name, f in fractions.items() if f >= threshold}
    return fractions, affected, kinds


@detector("dead_units")
def dead_units(evidence: RunEvidence) -> Finding | None:
    dead, affected, kinds = late_fractions(evidence, "dead_fraction", DEAD)
    if not affected:
        return None
    config = evidence.config
    worst = max(affected, key=lambda n: affected[n])
    high_lr = config.train.optimizer.lr > 3 * fix.SAFE_LR.get(config.train.optimizer.name, 1e-3)
    return Finding(
        "dead_units",
        "warning",
        f"Dead units: {affected[worst]:.0%} of the units of {worst} "
        f"({kinds.get(worst, '')}) output zero for every sample of a batch "
        f"({len(affected)} of {len(dead)} ReLU layers affected); they get no gradient and no "
        "longer learn.",
        {"dead_fraction_by_layer": dead, "affected_layers": list(affected)},
        fix.present(
            fix.scale_inputs(config),
            fix.leaky_activation(config),
            fix.lower_lr(
                config, "Large steps knock ReLU units into the region where they never fire again."
            )
            if high_lr
            else None,
        ),
    )


@detector("saturated_units")
def saturated_units(evidence: RunEvidence) -> Finding | None:
    saturated, affected, kinds = late_fractions(evidence, "saturated_fraction", SATURATED)
    if not affected:
        return None
    config = evidence.config
    worst = max(affected, key=lambda n: affected[n])
    return Finding(
        "saturated_units",
        "warning",
        f"Saturated units: {affected[worst]:.0%} of the outputs of {worst} "
        f"({kinds.get(worst, '')}) sit at the flat ends of the curve, where the "
        "derivative is almost zero and learning stalls.",
        {"saturated_fraction_by_layer": saturated, "affected_layers": list(affected)},
        fix.present(
            fix.scale_inputs(config),
            fix.non_saturating_activation(config),
            fix.normalization(config),
        ),
    )


STEP_PATTERN = re.compile(r"epoch (\d+), step (\d+)")
LAYER_PATTERN = re.compile(r"first non-finite layer: ([^;]+)")


@detector("non_finite_loss")
def non_finite_loss(evidence: RunEvidence) -> Finding | None:
    error = str(evidence.summary.get("error", ""))
    failed = evidence.summary.get("status") == "failed" and "non-finite" in error
    nan_epochs = [
        row.get("epoch")
        for row in evidence.metrics
        if any(_missing(v) for k, v in row.items() if k.endswith("loss"))
    ]
    if not failed and not nan_epochs:
        return None
    where = STEP_PATTERN.search(error)
    layer = LAYER_PATTERN.search(error)
    config = evidence.config
    top_update = evidence.top_update_ratio
    big_steps = top_update is not None and top_update > 0.1
    safe = fix.SAFE_LR.get(config.train.optimizer.name, 1e-3)
    return Finding(
        "non_finite_loss",
        "error",
        "Non-finite loss: "
        + (error_cause(error) if failed else f"NaN/inf losses in epochs {nan_epochs}")
        + ". Training stopped; the last good checkpoint was kept.",
        {
            "epoch": int(where.group(1)) if where else (nan_epochs[0] if nan_epochs else None),
            "step": int(where.group(2)) if where else None,
            "layer": layer.group(1).strip() if layer else None,
            "error": error or None,
            "lr": config.train.optimizer.lr,
            "max_update_ratio": top_update,
        },
        fix.present(
            fix.lower_lr(
                config,
                "The loss overflowed after steps that were too large; smaller "
                "steps keep the numbers finite.",
            )
            if big_steps or config.train.optimizer.lr > safe
            else None,
            fix.clip_gradients(config),
            fix.scale_inputs(config),
        ),
    )


def _missing(value: object) -> bool:
    """A loss written as null (NaN/inf become null in JSON) or as a non-finite number."""
    return value is None or (isinstance(value, float) and not math.isfinite(value))
