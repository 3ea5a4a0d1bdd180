"""A paradigm that lives only in the test suite: a tiny GAN on a table's feature rows.

Two models (generator, discriminator) and two optimizers with alternating updates, its own
random stream for the latent noise, no targets. Registering it needs no edit to ``src/``.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gradwise.tasks import TASKS, Paradigm, Parts
from gradwise.training.optimizers import build_optimizer
from gradwise.training.schedules import build_schedules

LATENT = 4
NOISE_STREAM_SEED = 1234


class ToyGAN(Paradigm):
    target_kind = None
    main_metric = "discriminator_accuracy"
    train_losses = ("loss", "discriminator_loss", "generator_loss")
    eval_metrics = ("loss", "discriminator_accuracy")
    optimizer_names = ("discriminator", "generator")  # updated in this order

    def build_module(self, config: Any, feature_shape: tuple[int, ...]) -> nn.Module:
        width = feature_shape[0]
        return nn.ModuleDict(
            {
                "generator": nn.Sequential(nn.Linear(LATENT, 16), nn.ReLU(), nn.Linear(16, width)),
                "discriminator": nn.Sequential(nn.Linear(width, 16), nn.ReLU(), nn.Linear(16, 1)),
            }
        )

    def build(self, config: Any, data: Any, device: torch.device, augment: Any) -> Parts:
        module = self.build_module(config, tuple(data.splits.preprocessor.feature_shape))
        module.to(device)
        optimizers = {
            name: build_optimizer(module[name].parameters(), config.train.optimizer, device)
            for name in self.optimizer_names
        }
        self.noise = torch.Generator(device=device).manual_seed(NOISE_STREAM_SEED)
        schedules = build_schedules(
            config.train, optimizers, len(data.train), data.valid is not None
        )
        return Parts(module, optimizers, schedules, generators={"noise": self.noise})

    updates = 0  # optimizer updates so far: paradigm state a resume must restore

    def state_dict(self) -> dict[str, Any]:
        return {"updates": self.updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.updates = state["updates"]

    def fake(self, trainer: Any, n: int) -> torch.Tensor:
        z = torch.randn(n, LATENT, generator=self.noise, device=trainer.device)
        return trainer.module["generator"](z)

    def forward(self, trainer: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return trainer.module["discriminator"](batch["x"])

    def train_step(self, trainer: Any, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        real = batch["x"]
        discriminator = trainer.module["discriminator"]
        fake = self.fake(trainer, len(real))
        d_loss = bce(discriminator(real), 1.0) + bce(discriminator(fake.detach()), 0.0)
        d_loss = trainer.optimizer_step("discriminator", d_loss)
        g_loss = bce(discriminator(self.fake(trainer, len(real))), 1.0)  # non-saturating
        g_loss = trainer.optimizer_step("generator", g_loss)
        self.updates += 2
        return {"loss": d_loss + g_loss, "discriminator_loss": d_loss, "generator_loss": g_loss}

    @torch.no_grad()
    def evaluate(self, trainer: Any, split: Any) -> dict[str, float]:
        real = split["x"]
        discriminator = trainer.module["discriminator"]
        real_logits, fake_logits = discriminator(real), discriminator(self.fake(trainer, len(real)))
        loss = bce(real_logits, 1.0) + bce(fake_logits, 0.0)
        correct = (real_logits > 0).float().sum() + (fake_logits <= 0).float().sum()
        return {"loss": loss.item(), "discriminator_accuracy": (correct / (2 * len(real))).item()}


def bce(logits: torch.Tensor, label: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, label))


if "toy_gan" not in TASKS:
    TASKS.register("toy_gan")(ToyGAN)
