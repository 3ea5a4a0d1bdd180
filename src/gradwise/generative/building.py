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


def autoencoder(config: Any, settings: Any, shape: tuple[int, ...]) -> nn.Module:
    return Autoencoder(config.model, shape, settings.latent)


def vae(config: Any, settings: Any, shape: tuple[int, ...]) -> nn.Module:
    return VAE(
        config.model,
        shape,
        settings.latent,
        likelihood=settings.likelihood,
        learned_variance=settings.decoder_variance == "learned",
        components=settings.prior_components,
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
    """A full-covariance Gaussian mixture on the training codes (sklearn)."""
    from sklearn.mixture import GaussianMixture

    codes = np.asarray(codes, dtype=np.float64)
    components = max(1, min(components, len(codes) // 10))
    return GaussianMixture(
        components, covariance_type="full", reg_covar=1e-4, random_state=seed
    ).fit(codes)
