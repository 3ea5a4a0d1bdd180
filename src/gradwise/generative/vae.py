"""Autoencoder and variational autoencoder: the modules and the math of their objectives.

The VAE (Kingma & Welling, 2014) encodes x into q(z|x) = N(μ(x), diag σ²(x)), draws
z = μ + σ·ε with ε ~ N(0, I) (the reparameterization trick) and decodes p(x|z). Per sample,
in nats::

    ELBO(x) = E_q[log p(x|z)] − KL(q(z|x) ‖ N(0, I)) ≤ log p(x)
    KL_j    = ½ (μ_j² + σ_j² − log σ_j² − 1)                       (one latent unit j)
    loss    = −E_q[log p(x|z)] + β_t · Σ_j max(λ, mean_batch KL_j)

β (``generative.beta``; β-VAE, Higgins et al., 2017) weights the KL term, β_t grows linearly
from 0 to β over ``kl_warmup_epochs`` (KL annealing, Bowman et al., 2016), and λ
(``free_bits``; Kingma et al., 2016) leaves each unit's first λ nats free, so the optimizer
gains nothing by shutting a unit off entirely. Both counter *posterior collapse*: units whose
q(z_j|x) equals the prior carry no information. Validation and test report the plain ELBO
(β = 1, no free bits): the bound itself, comparable between runs.

Likelihoods::

    gaussian:  log p(x|z) = Σ_i −½ (log 2π + log σ_i² + (x_i − x̂_i)² / σ_i²)
    bernoulli: log p(x|z) = Σ_i x_i log p_i + (1 − x_i) log(1 − p_i),  p = sigmoid(logits)

With ``decoder_variance: learned`` the Gaussian has one log σ_i² per feature, learned with the
weights (the decoder then weighs each feature by how well it can be predicted; a fixed σ = 1
over-smooths standardized data). For standardized inputs the Gaussian ELBO is in the standardized
units: the original data's differs by the constant −Σ_i log(scale_i).

Samples are decoder means x̂(z), or with ``sample_noise`` (Gaussian likelihood) draws from the
model's own p(x|z) = N(x̂(z), diag σ²): the means are smoother than data, and in the sample-quality
feature space the missing per-feature noise costs more than it adds. With ``prior: mixture``, z is
drawn from a Gaussian mixture fitted to the training set's posterior means after training
(ex-post density estimation, Ghosh et al., 2020, "From Variational to Deterministic
Autoencoders"): the aggregate posterior q(z) = 1/N Σ_n q(z|x_n) of a trained VAE is not
N(0, I), and decoding prior draws from its holes gives blurred, mixed digits. With
``prior: class_mixture`` (labelled data) one mixture is fitted per class on that class's codes
and the class is drawn with its training frequency, z ~ Σ_c π_c Σ_k w_ck N(m_ck, S_ck): a
mixture fitted to all codes at once puts components between classes, whose samples are
ambiguous digits. The mixture lives in the module's buffers (with each component's class), so a
checkpoint samples without the data.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gradwise.generative.draws import systematic_draw
from gradwise.generative.networks import Encoder, decoder

LOG_2PI = math.log(2 * math.pi)
MIN_LOG_VARIANCE = -6.0  # σ ≥ 0.05 (standardized units): a variance → 0 would make log p → ∞
ACTIVE_UNIT_KL = 0.01  # nats: a latent unit with less mean KL carries (almost) no information
MIXTURE_PRIORS = ("mixture", "class_mixture")  # priors fitted to the training codes


class Autoencoder(nn.Module):
    """x (B, *shape) -> code (B, latent) -> reconstruction (B, *shape)."""

    def __init__(self, model_config, shape: tuple[int, ...], latent: int) -> None:
        super().__init__()
        self.encoder = Encoder(model_config, shape, latent)
        self.decoder = decoder(model_config, latent, shape)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


class MixturePrior(nn.Module):
    """A full-covariance Gaussian mixture over the latent space, held in buffers (weights
    (K,), means (K, D), Cholesky factors (K, D, D)); ``fitted`` is 0 until :meth:`load` runs.

    With ``per_class`` > 0 the components come in blocks of that many per class, class-major
    (component k belongs to class k // per_class), so a draw also says its class."""

    def __init__(self, latent: int, components: int, per_class: int = 0) -> None:
        super().__init__()
        self.per_class = per_class
        self.register_buffer("weights", torch.full((components,), 1.0 / components))
        self.register_buffer("means", torch.zeros(components, latent))
        self.register_buffer("cholesky", torch.eye(latent).repeat(components, 1, 1))
        self.register_buffer("fitted", torch.zeros(()))

    def load(self, weights, means, covariances) -> None:
        """Take a fitted mixture (numpy arrays, as sklearn's ``GaussianMixture`` has them)."""
        dtype, device = self.means.dtype, self.means.device
        self.weights.copy_(torch.as_tensor(weights, dtype=dtype, device=device))
        self.means.copy_(torch.as_tensor(means, dtype=dtype, device=device))
        covariance = torch.as_tensor(covariances, dtype=torch.float64)
        self.cholesky.copy_(torch.linalg.cholesky(covariance).to(dtype=dtype, device=device))
        self.fitted.fill_(1.0)

    def draw(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None]:
        """z (n, D): a component k ~ weights, then z = mean_k + L_k ε; and the drawn
        components' classes (n,) (None without classes)."""
        device = self.means.device
        k = systematic_draw(self.weights, n, generator)  # (n,)
        eps = torch.randn(n, self.means.shape[1], generator=generator, device=device)
        z = self.means[k] + (self.cholesky[k] @ eps.unsqueeze(2)).squeeze(2)  # (n, D)
        return z, (torch.div(k, self.per_class, rounding_mode="floor") if self.per_class else None)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """z (n, D) (:meth:`draw` without the classes)."""
        return self.draw(n, generator)[0]


class VAE(nn.Module):
    """x (B, *shape) -> q(z|x) parameters -> decoder mean (B, *shape); see the module text."""

    def __init__(
        self,
        model_config,
        shape: tuple[int, ...],
        latent: int,
        likelihood: str = "gaussian",
        learned_variance: bool = True,
        components: int = 10,
        per_class: int = 0,
    ) -> None:
        super().__init__()
        self.latent = latent
        self.likelihood = likelihood
        self.encoder = Encoder(model_config, shape, 2 * latent)
        self.decoder = decoder(model_config, latent, shape)
        # log σ² per feature (gaussian); a buffer of zeros (σ = 1) when not learned
        log_variance = torch.zeros(shape)
        if likelihood == "gaussian" and learned_variance:
            self.log_variance = nn.Parameter(log_variance)
        else:
            self.register_buffer("log_variance", log_variance)
        self.prior = MixturePrior(latent, components, per_class)

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """μ, log σ² of q(z|x), each (B, latent)."""
        mu, log_var = self.encoder(x).chunk(2, dim=1)
        return mu, log_var.clamp(-30.0, 20.0)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.posterior(x)[0]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder output (B, *shape): the mean (gaussian) or the logits (bernoulli)."""
        return self.decoder(z)

    def mean(self, z: torch.Tensor) -> torch.Tensor:
        """The decoder's mean in data space: x̂ (gaussian) or sigmoid(logits) (bernoulli)."""
        out = self.decode(z)
        return torch.sigmoid(out) if self.likelihood == "bernoulli" else out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mean(self.posterior(x)[0])

    def log_likelihood(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """log p(x|z) per sample (B,), summed over features (module text)."""
        if self.likelihood == "bernoulli":
            return -F.binary_cross_entropy_with_logits(out, x, reduction="none").flatten(1).sum(1)
        log_var = self.log_variance.clamp(min=MIN_LOG_VARIANCE)
        per_feature = -0.5 * (LOG_2PI + log_var + (x - out) ** 2 * torch.exp(-log_var))
        return per_feature.flatten(1).sum(1)

    def terms(
        self, x: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One-sample ELBO terms: log p(x|z) (B,) and the KL per unit (B, latent)."""
        mu, log_var = self.posterior(x)
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        z = mu + torch.exp(0.5 * log_var) * eps  # reparameterization
        kl = 0.5 * (mu**2 + log_var.exp() - log_var - 1.0)  # (B, latent)
        return self.log_likelihood(x, self.decode(z)), kl

    def draw(
        self, n: int, generator: torch.Generator, prior: str = "mixture", noise: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """n samples (n, *shape) for z from the fitted mixture (``prior: mixture`` or
        ``class_mixture``, once fitted) or from N(0, I): the decoder means, or with ``noise``
        (Gaussian likelihood) x = x̂(z) + σ ε; and their classes (None without classes)."""
        device = self.prior.means.device
        labels = None
        if prior in MIXTURE_PRIORS and bool(self.prior.fitted):
            z, labels = self.prior.draw(n, generator)
        else:
            z = torch.randn(n, self.latent, generator=generator, device=device)
        x = self.mean(z)  # (n, *shape)
        if noise and self.likelihood == "gaussian":
            sigma = torch.exp(0.5 * self.log_variance.clamp(min=MIN_LOG_VARIANCE))  # (*shape)
            x = x + sigma * torch.randn(x.shape, generator=generator, device=device)
        return x, labels

    def sample(
        self, n: int, generator: torch.Generator, prior: str = "mixture", noise: bool = False
    ) -> torch.Tensor:
        """n samples (n, *shape) (:meth:`draw` without the classes)."""
        return self.draw(n, generator, prior, noise)[0]


def vae_objective(
    log_likelihood: torch.Tensor, kl: torch.Tensor, beta: float, free_bits: float
) -> torch.Tensor:
    """The minimized loss per sample: −mean log p(x|z) + β · Σ_j max(λ, mean KL_j)."""
    per_unit = kl.mean(dim=0)  # (latent,)
    if free_bits > 0:
        per_unit = per_unit.clamp(min=free_bits)
    return -log_likelihood.mean() + beta * per_unit.sum()


def warmup_beta(beta: float, warmup_epochs: float, epochs_done: float) -> float:
    """β_t = β · min(1, t / warm-up) with t in (fractional) epochs; β when there is none."""
    if warmup_epochs <= 0:
        return beta
    return beta * min(1.0, epochs_done / warmup_epochs)
