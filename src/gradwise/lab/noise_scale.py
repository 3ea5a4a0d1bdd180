"""The gradient noise scale: an estimate of the critical batch size (McCandlish et al. 2018).

*An Empirical Model of Large-Batch Training* (McCandlish, Kaplan, Amodei et al., 2018): with
per-example gradients of mean ``G`` (the true gradient) and covariance ``Σ``, the gradient of a
batch of ``B`` examples drawn with replacement has

    E[|G_B|²] = |G|² + tr(Σ) / B.

The *simple noise scale* ``B_simple = tr(Σ) / |G|²`` is the batch size at which the noise in a
batch gradient is as large as the gradient itself: well below it a bigger batch buys almost
proportionally fewer steps, well above it hardly any (the critical batch size is of its order).
Their Appendix A estimates both terms from the squared norms of batch gradients at two sizes
``B_small < B_big``, unbiasedly:

    |G|²   ≈ (B_big · |G_big|² − B_small · |G_small|²) / (B_big − B_small)
    tr(Σ)  ≈ (|G_small|² − |G_big|²) / (1/B_small − 1/B_big)

Each estimate is averaged over ``repeats`` pairs of batches *before* the ratio is taken (the
ratio of two noisy means is far less biased than the mean of noisy ratios); ``B_simple`` is
``mean tr(Σ) / mean |G|²``. Batches are drawn with replacement from the training split so the
formula holds exactly with ``G`` the training set's mean gradient. The model is in eval mode
(no dropout; batch norm with running statistics recomputed on the training split first), without
augmentation: the formula needs the examples' gradients to be independent, and batch statistics
would couple every example of a batch to the others (and bias ``|G|²`` low, even below zero, at
the end of training).

Measured, as in the paper, on a model during training: here at its initial weights and at the
end of the lab's reference run. The noise scale grows as the loss falls; near a minimum the
estimate of ``|G|²`` can drown in its own noise (even come out ≤ 0), and then only the lower
bound ``tr(Σ) / (|G|² + 2·SE)`` is reported (``b_simple_at_least``).
"""

from __future__ import annotations

import math
import statistics
from typing import Any

import torch

from gradwise.training.averaging import recompute_batch_norm

DEFAULT_SMALL = 16
DEFAULT_BIG = 1024
DEFAULT_REPEATS = 24


def squared_grad_norm(experiment: Any, rows: torch.Tensor) -> float:
    """``|∇L_B|²`` over the trainable parameters, for the batch of training ``rows``."""
    trainer = experiment.trainer
    batch = experiment.train_split.rows(rows)
    parameters = [p for p in experiment.module.parameters() if p.requires_grad]
    outputs = trainer.paradigm.forward(trainer, batch)
    loss = trainer.compute_loss(outputs, batch)
    grads = torch.autograd.grad(loss, parameters, allow_unused=True)
    return float(sum(g.detach().pow(2).sum() for g in grads if g is not None))


def refresh_batch_norm(experiment: Any, batch_size: int = 256) -> None:
    """Set every batch-norm layer's running statistics to the training split's own (one pass
    in training mode, a cumulative average), so that the model in eval mode computes what it
    computes in training — at initialization the running statistics are still (0, 1)."""
    train, trainer = experiment.train_split, experiment.trainer

    def one_pass() -> None:
        for start in range(0, len(train), batch_size):
            rows = torch.arange(
                start, min(start + batch_size, len(train)), device=experiment.device
            )
            trainer.paradigm.forward(trainer, train.rows(rows))

    recompute_batch_norm(experiment.module, one_pass)


def noise_scale(
    experiment: Any,
    small: int = DEFAULT_SMALL,
    big: int = DEFAULT_BIG,
    repeats: int = DEFAULT_REPEATS,
    seed: int = 0,
) -> dict[str, Any]:
    """``B_simple`` with its two estimated terms, for the experiment's current weights.

    ``big`` is capped at the training split's size; ``small`` at half of ``big``."""
    n_train = len(experiment.train_split)
    big = max(2, min(big, n_train))
    small = max(1, min(small, big // 2))
    generator = torch.Generator().manual_seed(seed)
    device = experiment.device
    module = experiment.module
    was_training = module.training
    refresh_batch_norm(experiment)
    module.eval()  # independent per-example gradients: see the module docstring
    g_square, trace = [], []
    try:
        for _ in range(repeats):
            rows_small = torch.randint(n_train, (small,), generator=generator).to(device)
            rows_big = torch.randint(n_train, (big,), generator=generator).to(device)
            norm_small = squared_grad_norm(experiment, rows_small)
            norm_big = squared_grad_norm(experiment, rows_big)
            g_square.append((big * norm_big - small * norm_small) / (big - small))
            trace.append((norm_small - norm_big) / (1 / small - 1 / big))
    finally:
        module.train(was_training)
    g_mean = sum(g_square) / len(g_square)
    trace_mean = sum(trace) / len(trace)
    simple = trace_mean / g_mean if g_mean > 0 and trace_mean > 0 else None
    # near a minimum |G|² drowns in its own estimate's noise (it can come out ≤ 0): then
    # |G|² < mean + 2 standard errors still bounds B_simple from below
    spread = statistics.stdev(g_square) / math.sqrt(len(g_square)) if len(g_square) > 1 else 0.0
    ceiling = g_mean + 2 * spread
    at_least = trace_mean / ceiling if ceiling > 0 and trace_mean > 0 else None
    return {
        "b_simple": simple if simple is not None and math.isfinite(simple) else None,
        "b_simple_at_least": at_least,
        "grad_norm_sq": g_mean,
        "grad_norm_sq_se": spread,
        "trace_sigma": trace_mean,
        "b_small": small,
        "b_big": big,
        "repeats": repeats,
    }


def measure(config: Any, run_dir: str | None, seed: int) -> dict[str, dict[str, Any]]:
    """``B_simple`` at the experiment's initial weights (``start``) and, given a finished
    run, at its last weights (``end``)."""
    from pathlib import Path

    from gradwise.experiment import build_experiment, load_data
    from gradwise.training.checkpoint import load_weights

    experiment = build_experiment(config, load_data(config))
    measured = {"start": noise_scale(experiment, seed=seed)}
    if run_dir is not None and (Path(run_dir) / "checkpoints" / "last.safetensors").is_file():
        load_weights(Path(run_dir) / "checkpoints", "last", experiment.module)
        measured["end"] = noise_scale(experiment, seed=seed + 1)
    return measured
