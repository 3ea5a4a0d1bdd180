"""Building the generative tasks' modules and optimizers from a config (torch).

Used by :mod:`gradwise.tasks.generative`, which stays torch-free at import.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from gradwise.errors import ConfigError
from gradwise.generative.gan import GAN
from gradwise.generative.vae import VAE, Autoencoder
from gradwise.training.engine import stream_seed

NOISE_STREAM = 7  # the random stream of latent noise (stream_seed(seed, 7))
EVAL_STREAM = 8  # a fixed stream for validation samples, restarted at every evaluation
SAMPLE_STREAM = 9  # the stream of test-time samples
STATISTICS_STREAM = 10  # a fixed stream for the averaged generator's batch-norm statistics
LATENT_REG = 1e-3  # added to the diagonal of each latent mixture covariance (codes are ~N(0, 1))


def autoencoder(config: Any, settings: Any, shape: tuple[int, ...]) -> nn.Module:
    return Autoencoder(config.model, shape, settings.latent)


def vae(config: Any, settings: Any, shape: tuple[int, ...], n_classes: int = 0) -> nn.Module:
    """The VAE; ``prior: class_mixture`` keeps ``prior_components`` per class of the labels."""
    per_class = settings.prior_components if settings.prior == "class_mixture" else 0
    return VAE(
        config.model,
        shape,
        settings.latent,
        likelihood=settings.likelihood,
        learned_variance=settings.decoder_variance == "learned",
        components=settings.prior_components * (max(n_classes, 1) if per_class else 1),
        per_class=per_class,
    )


def gan(config: Any, settings: Any, shape: tuple[int, ...], n_classes: int) -> nn.Module:
    return GAN(
        config.model,
        shape,
        settings.latent,
        spectral_norm=settings.spectral_norm,
        minibatch_std=settings.minibatch_std,
        ema=settings.generator_ema,
        n_classes=n_classes if settings.conditional else 0,
        output_floor=settings.output_floor,
        discriminator_dropout=settings.discriminator_dropout,
    )


def named_optimizers(
    config: Any, parameters: dict[str, list[nn.Parameter]], device: torch.device, task: str
) -> dict[str, torch.optim.Optimizer]:
    """One optimizer per network: ``train.optimizers.<name>`` where given (already merged over
    ``train.optimizer`` by the schema), else ``train.optimizer``. A name in
    ``train.optimizers`` that the task has no network for is a ConfigError."""
    from gradwise.training.optimizers import build_optimizer

    unknown = sorted(set(config.train.optimizers) - set(parameters))
    if unknown:
        raise ConfigError(
            f"train.optimizers: task {task} has no optimizer {', '.join(map(repr, unknown))}; "
            f"its optimizers: {', '.join(parameters)}"
        )
    return {
        name: build_optimizer(
            params, config.train.optimizers.get(name, config.train.optimizer), device
        )
        for name, params in parameters.items()
    }


def stream(seed: int, which: int, device: torch.device) -> torch.Generator:
    return torch.Generator(device=device).manual_seed(stream_seed(seed, which))


def check_bernoulli(x: np.ndarray) -> None:
    low, high = float(np.min(x)), float(np.max(x))
    if low < 0.0 or high > 1.0:
        raise ConfigError(
            f"generative.likelihood: bernoulli needs inputs in [0, 1], the training split spans "
            f"[{low:.3g}, {high:.3g}]; set data.scale: minmax or use likelihood: gaussian"
        )


def fit_latent_mixture(codes: np.ndarray, components: int, seed: int) -> Any:
    """A full-covariance Gaussian mixture on the training codes (sklearn); at most one
    component per 10 codes, and a single Gaussian for fewer than 2 codes' worth."""
    from sklearn.mixture import GaussianMixture

    codes = np.asarray(codes, dtype=np.float64)
    components = max(1, min(components, len(codes) // 10))
    return GaussianMixture(
        components, covariance_type="full", reg_covar=LATENT_REG, random_state=seed
    ).fit(codes)


def latent_prior(
    codes: np.ndarray,
    labels: np.ndarray | None,
    components: int,
    n_classes: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sampling mixture of a VAE as buffers: weights (K,), means (K, D), covariances
    (K, D, D).

    With ``labels``, ``components`` per class are fitted to that class's codes and weighted by
    the class's share of the rows, class c in slots c·components … (c+1)·components − 1
    (K = components × n_classes); slots a small class leaves unused, and those of a class
    with fewer than two rows, keep weight 0 (no samples of it)."""
    codes = np.asarray(codes, dtype=np.float64)
    groups = [np.arange(len(codes))] if labels is None else [
        np.flatnonzero(labels == c) for c in range(n_classes)
    ]  # fmt: skip
    k, dim = components, codes.shape[1]
    weights = np.zeros(k * len(groups))
    means = np.zeros((k * len(groups), dim))
    covariances = np.repeat(np.eye(dim)[None], k * len(groups), axis=0)
    for g, rows in enumerate(groups):
        if len(rows) < 2:  # a Gaussian needs two codes
            continue
        mixture = fit_latent_mixture(codes[rows], components, seed)
        used = slice(g * k, g * k + len(mixture.weights_))
        weights[used] = mixture.weights_ * len(rows) / len(codes)
        means[used] = mixture.means_
        covariances[used] = mixture.covariances_
    if weights.sum() == 0:  # no class has two codes: no mixture to fit
        raise ConfigError(
            f"generative.prior: {len(codes)} training rows are too few to fit a mixture to"
        )
    return weights / weights.sum(), means, covariances
