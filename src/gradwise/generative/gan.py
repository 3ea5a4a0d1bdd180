"""The GAN module and the math of its losses (Goodfellow et al., 2014).

With D's logit d(x) and σ the logistic function, the discriminator minimizes the cross-entropy
of telling real from generated, and the generator the *non-saturating* loss (its gradient does
not vanish when D rejects the samples confidently, which the minimax form's does)::

    L_D = E_x softplus(−d(x)) + E_z softplus(d(G(z)))          = −log σ(d(x)) − log(1 − σ(d(G(z))))
    L_G = E_z softplus(−d(G(z)))                                = −log σ(d(G(z)))
    R1  = γ/2 · E_x ‖∇ₓ d(x)‖²                                  (Mescheder et al., 2018)

R1 (``gradient_penalty``) penalizes D's gradient on real data, which keeps it from growing
infinitely sharp around the data. The samples come from an exponential moving average of the
generator's weights (``generator_ema``; Karras et al., 2018; Yazıcı et al., 2019)::

    θ_ema ← d_t · θ_ema + (1 − d_t) · θ,   d_t = min(d, (1 + t) / (10 + t))

after the t-th generator update (the warm-up of d_t keeps the untrained initial weights from
lingering in the average for thousands of steps), which averages out the oscillation of
simultaneous gradient play. Its batch-norm statistics are neither copied nor averaged: the
running means and variances of the live generator describe the live weights' activations, not
the average's, so at the end of every epoch they are recomputed from the averaged generator's
own outputs, ``STANDING_DRAWS`` draws in batches of ``STANDING_BATCH`` (cumulative means of the
batches' means and variances: the "standing statistics" of Brock et al., 2019, and SWA's
batch-norm update, Izmailov et al., 2018). The recipe around
it — spectral norm in D, Adam with β₁ = 0.5, two time scales (D's learning rate above G's;
Heusel et al., 2017), a large batch and the minibatch standard deviation — lives in
:mod:`gradwise.generative.networks` and the task's config.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from gradwise.generative.draws import systematic_draw
from gradwise.generative.networks import Discriminator, Generator
from gradwise.training.averaging import recompute_batch_norm, warmed_decay

STANDING_DRAWS = 4096  # samples the averaged generator's batch-norm statistics are taken from
STANDING_BATCH = 512  # ... drawn this many at a time


class GAN(nn.Module):
    """Generator, discriminator and (optionally) the averaged generator the samples come from.

    ``forward(x)`` is the discriminator's logit, so that a first non-finite layer can be found
    from a batch; sampling goes through :meth:`sample`."""

    def __init__(
        self,
        model_config,
        shape: tuple[int, ...],
        latent: int,
        *,
        spectral_norm: bool = True,
        minibatch_std: bool = True,
        ema: float | None = 0.999,
        n_classes: int = 0,
        output_floor: bool = False,
        discriminator_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.latent = latent
        self.n_classes = n_classes
        self.ema_decay = ema
        self.generator = Generator(model_config, latent, shape, n_classes, output_floor)
        self.discriminator = Discriminator(
            model_config, shape, spectral_norm, minibatch_std, n_classes, discriminator_dropout
        )
        self.generator_ema = copy.deepcopy(self.generator) if ema is not None else None
        if self.generator_ema is not None:
            self.generator_ema.requires_grad_(False)
        # training class frequencies (conditional sampling draws labels from them)
        self.register_buffer("class_prior", torch.full((max(n_classes, 1),), 1.0))
        self.register_buffer("ema_updates", torch.zeros((), dtype=torch.long))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.discriminator(x, y)

    @property
    def sampler(self) -> nn.Module:
        """The generator samples are drawn from: the averaged one when kept."""
        return self.generator_ema if self.generator_ema is not None else self.generator

    @torch.no_grad()
    def update_average(self) -> None:
        """θ_ema ← d_t θ_ema + (1 − d_t) θ (module text); the batch-norm statistics wait for
        :meth:`standing_statistics`."""
        if self.generator_ema is None:
            return
        self.ema_updates += 1
        decay = warmed_decay(float(self.ema_decay), int(self.ema_updates))
        ema_params = list(self.generator_ema.parameters())
        torch._foreach_lerp_(ema_params, list(self.generator.parameters()), 1.0 - decay)

    @torch.no_grad()
    def standing_statistics(self, generator: torch.Generator) -> None:
        """Recomputes the averaged generator's batch-norm running means and variances from
        ``STANDING_DRAWS`` of its own samples (labels drawn as :meth:`sample` draws them),
        with noise from ``generator`` (module text)."""
        averaged = self.generator_ema
        if averaged is None:
            return

        def samples() -> None:
            for _ in range(STANDING_DRAWS // STANDING_BATCH):
                noise = self.noise(STANDING_BATCH, generator)
                averaged(noise, self.draw_labels(STANDING_BATCH, generator))

        recompute_batch_norm(averaged, samples)

    @torch.no_grad()
    def set_floor(self, data_min: torch.Tensor) -> None:
        """Sets the floor of both generators to ``data_min`` (*shape), the training split's
        minimum (``output_floor``; :class:`~gradwise.generative.networks.Generator`)."""
        for generator in (self.generator, self.generator_ema):
            if generator is not None and generator.floor is not None:
                generator.floor.copy_(data_min)

    def draw_labels(self, n: int, generator: torch.Generator) -> torch.Tensor | None:
        if not self.n_classes:
            return None
        return systematic_draw(self.class_prior, n, generator)

    def noise(self, n: int, generator: torch.Generator) -> torch.Tensor:
        device = self.class_prior.device
        return torch.randn(n, self.latent, generator=generator, device=device)

    def sample(
        self, n: int, generator: torch.Generator, labels: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """n samples (n, *shape) from the sampling generator and the labels they were drawn
        for (None when unconditional)."""
        z = self.noise(n, generator)
        if labels is None:
            labels = self.draw_labels(n, generator)
        return self.sampler(z, labels), labels


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """L_D = mean softplus(−d(x)) + mean softplus(d(G(z)))."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating L_G = mean softplus(−d(G(z)))."""
    return F.softplus(-fake_logits).mean()


def r1_penalty(real_logits: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """½ E‖∇ₓ d(x)‖² on real data (``real`` must require grad); times γ by the caller."""
    (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
    return 0.5 * grad.pow(2).flatten(1).sum(1).mean()


def discriminator_accuracy(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Share of real samples with d > 0 and generated ones with d ≤ 0."""
    correct = (real_logits > 0).float().sum() + (fake_logits <= 0).float().sum()
    return correct / (len(real_logits) + len(fake_logits))
