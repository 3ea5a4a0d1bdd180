"""Unsupervised and generative paradigms: ``autoencoder``, ``vae`` and ``gan``.

They learn from the inputs alone (``target_kind = None``) but read the class labels when the
data has them (:meth:`Generative.data_targets`): a GAN can be class-conditional, embeddings are
scored against the labels (ARI/NMI), and sample quality is measured in the feature space of a
classifier trained on the training split (:mod:`gradwise.generative.quality`).

- ``autoencoder``: x → code → x̂, mean squared error; ``gradwise embed`` clusters the codes
  (k-means, k by silhouette) next to PCA + k-means on the raw inputs.
- ``vae``: β-VAE with Gaussian or Bernoulli likelihood, KL warm-up and free bits; per epoch the
  ELBO, reconstruction and KL in nats (per latent unit in ``latent_kl.jsonl``); samples from a
  Gaussian mixture fitted to the training codes after training, one per class with
  ``prior: class_mixture`` (:mod:`gradwise.generative.vae`).
- ``gan``: non-saturating GAN, spectral norm, R1, two optimizers (``generator``,
  ``discriminator``), an averaged generator; its validation loss is the Fréchet distance of its
  samples, so the best checkpoint is the one whose samples are closest to the data
  (:mod:`gradwise.generative.gan`).

Every test summary of ``vae`` and ``gan`` holds ``fd``, ``fd_baseline`` (a Gaussian mixture fitted
to the training split; both means over several draws, with ``fd_sd`` and ``fd_baseline_sd``)
and ``fd_floor`` (real training data). Torch-free at import.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from gradwise._io import user_stacklevel
from gradwise.config.generative import TASK_KEYS as GENERATIVE_TASK_KEYS
from gradwise.config.generative import GenerativeConfig
from gradwise.errors import CheckpointError, ConfigError
from gradwise.hooks import RUN_CALLBACKS
from gradwise.tasks.base import InitRequest, Paradigm, Parts, TrainingData
from gradwise.tasks.registry import TASKS

if TYPE_CHECKING:
    from gradwise.config.schema import ExperimentConfig
    from gradwise.training.engine import Batch, TensorSplit, Trainer

LATENT_KL_FILE = "latent_kl.jsonl"  # per epoch: the validation KL of each latent unit (vae)


def settings_of(config: ExperimentConfig) -> GenerativeConfig:
    """The ``generative`` section (its defaults when absent)."""
    return config.generative or GenerativeConfig()


class Generative(Paradigm):
    """What the three share: labels read when present, one module, samples measured."""

    target_kind = None
    main_metric = "loss"
    config_sections: ClassVar[tuple[str, ...]] = ("generative",)

    @classmethod
    def unread_keys(cls) -> dict[str, tuple[str, ...]]:
        """Beyond the base's: the ``generative`` keys of the other two tasks."""
        read = GENERATIVE_TASK_KEYS[cls.name]
        unread = tuple(key for key in GenerativeConfig.model_fields if key not in read)
        return {**super().unread_keys(), "generative": unread}

    def __init__(
        self, classes: list[Any] | None = None, settings: GenerativeConfig | None = None
    ) -> None:
        self.class_labels = classes  # None: the data has no labels
        self.settings = settings or GenerativeConfig()
        self.data: TrainingData | None = None
        self.seed = 0

    @classmethod
    def create(cls, config: Any, preprocessor: Any, train_targets: Any = None) -> Generative:
        classes = None if preprocessor is None else preprocessor.classes
        return cls(classes, settings_of(config))

    @classmethod
    def data_targets(cls, config: Any, raw: Any) -> str | None:
        """``"labels"`` when the data holds class-like labels (an array source's ``y``, a
        table's ``data.target`` or known label column), else None: they are read for
        conditioning, scoring embeddings and the sample-quality classifier, never trained on."""
        import pandas as pd

        from gradwise.tasks.checks import infer_target_kind

        values = raw.y
        if raw.table is not None:
            target = config.data.target if config.data.target is not None else raw.default_target
            if not isinstance(target, str) or target not in raw.table.columns:
                return None
            values = raw.table[target].to_numpy()
        if values is None or np.ndim(values) != 1 or len(values) == 0:
            return None
        kind, _ = infer_target_kind(pd.Series(values))
        return "labels" if kind == "labels" else None

    @classmethod
    def starting_config(cls, request: InitRequest) -> str | None:
        from gradwise.generative.recipes import recipe

        return recipe(cls.name, request)

    @property
    def n_classes(self) -> int:
        return 0 if self.class_labels is None else len(self.class_labels)

    def tensors(self, x: np.ndarray, y: np.ndarray | None, device: Any) -> TensorSplit:
        import torch

        from gradwise.training.engine import TensorSplit

        tensors = {"x": torch.as_tensor(x, dtype=torch.float32, device=device)}
        if y is not None:
            tensors["y"] = torch.as_tensor(y, dtype=torch.long, device=device)
        return TensorSplit(tensors)

    def build_module(self, config: ExperimentConfig, feature_shape: tuple[int, ...]) -> Any:
        raise NotImplementedError

    def targets_tensor(self, y: Any, device: Any) -> Any:
        """A generative run has no predictions to score against targets (``evaluate``)."""
        raise CheckpointError(
            f"evaluate: a {self.name} run predicts no targets; its test figures (sample quality, "
            "clustering) are in summary.json, and gradwise report RUN shows them"
        )

    def check_data(self, config: ExperimentConfig, splits: Any) -> None:
        from gradwise.tasks.checks import model_shape_note

        pre = splits.preprocessor
        note = model_shape_note(config.model.kind, pre.input_kind, pre.feature_shape)
        if note:
            warnings.warn(note, stacklevel=user_stacklevel())

    def remember(self, config: ExperimentConfig, data: TrainingData) -> None:
        self.data, self.seed = data, config.seed
        self.check_data(config, data.splits)

    def forward(self, trainer: Trainer, batch: Batch) -> Any:
        return trainer.forward(batch["x"])

    def one_optimizer(self, config: ExperimentConfig, module: Any, data: TrainingData, device):
        from gradwise.generative.building import named_optimizers
        from gradwise.training.schedules import build_schedules

        optimizers = named_optimizers(
            config, {"main": list(module.parameters())}, device, self.name
        )
        schedules = build_schedules(
            config.train, optimizers, len(data.train), data.valid is not None
        )
        return optimizers, schedules

    # ----------------------------------------------------------------- after training
    def labels_of(self, split: TensorSplit | None) -> np.ndarray | None:
        if split is None or "y" not in split:
            return None
        return split["y"].cpu().numpy()

    def train_arrays(self) -> tuple[np.ndarray, np.ndarray | None]:
        assert self.data is not None, "build() keeps the training data"
        return self.data.train["x"].cpu().numpy(), self.labels_of(self.data.train)

    def feature_space(self) -> Any:
        """The classifier (or PCA) whose features the Fréchet distances are measured in;
        trained once per paradigm object, deterministically from the run's seed."""
        if getattr(self, "_space", None) is None:
            from gradwise.generative.quality import fit_feature_space

            x, y = self.train_arrays()
            valid = self.data.valid if self.data else None
            x_valid = None if valid is None else valid["x"].cpu().numpy()
            self._space = fit_feature_space(
                x, y, self.seed, self.data.train["x"].device, x_valid, self.labels_of(valid)
            )
        return self._space

    def quality(self, module: Any, test: TensorSplit) -> dict[str, float]:
        """The FD trio of ``FD_DRAWS`` sample sets of ``module`` (each as large as the training
        split) against the test split, and how varied the first set is."""
        from gradwise.generative.building import SAMPLE_STREAM, stream
        from gradwise.generative.quality import FD_DRAWS, class_spread, distance_trio

        space = self.feature_space()
        x_train, _ = self.train_arrays()
        x_test = test["x"].cpu().numpy()
        generator = stream(self.seed, SAMPLE_STREAM, test["x"].device)
        sample_sets = [
            self.sample(module, len(x_train), generator)[0].detach().cpu().numpy()
            for _ in range(FD_DRAWS)
        ]
        metrics = distance_trio(space, sample_sets, x_train, x_test, self.seed)
        metrics.update(class_spread(space, sample_sets[0], x_test))
        metrics["feature_space"] = space.kind
        if space.accuracy is not None:
            metrics["feature_classifier_accuracy"] = space.accuracy
        return metrics

    def sample(self, module: Any, n: int, generator: Any) -> tuple[Any, Any]:
        """``n`` samples (preprocessed space) and their labels (None when unconditional)."""
        raise NotImplementedError


# ----------------------------------------------------------------------------- autoencoder
@TASKS.register("autoencoder")
class AutoencoderTask(Generative):
    """x → code (``generative.latent``) → x̂ with the mean squared error per feature."""

    eval_metrics: ClassVar[tuple[str, ...]] = ("loss",)

    def build_module(self, config: ExperimentConfig, feature_shape: tuple[int, ...]) -> Any:
        from gradwise.generative.building import autoencoder

        return autoencoder(config, settings_of(config), tuple(feature_shape))

    def build(self, config: ExperimentConfig, data: TrainingData, device: Any, augment: Any):
        self.remember(config, data)
        module = self.model_for(config, data.splits.preprocessor).to(device)
        self.settings = settings_of(config)
        return Parts(module, *self.one_optimizer(config, module, data, device))

    def compute_loss(self, trainer: Trainer, outputs: Any, batch: Batch) -> Any:
        import torch.nn.functional as F

        return F.mse_loss(outputs.float(), batch["x"])

    def train_step(self, trainer: Trainer, batch: Batch) -> dict[str, Any]:
        loss = trainer.compute_loss(self.forward(trainer, batch), batch)
        return {"loss": trainer.optimizer_step("main", loss)}

    def evaluate(self, trainer: Trainer, split: TensorSplit) -> dict[str, float]:
        import torch

        outputs = trainer.predict_outputs(split["x"])
        with torch.inference_mode():
            return {"loss": trainer.compute_loss(outputs, split.tensors).item()}

    def test_metrics(self, trainer: Trainer, split: TensorSplit) -> dict[str, Any]:
        """The test loss, and k-means on the test codes next to PCA + k-means on the test
        inputs (ARI/NMI against the labels when the data has them)."""
        from gradwise.generative.embedding import compare_clusterings, embed

        metrics: dict[str, Any] = self.evaluate(trainer, split)
        x_train, _ = self.train_arrays()
        codes = embed(trainer.module, split["x"])
        metrics.update(
            compare_clusterings(
                codes,
                x_train,
                split["x"].cpu().numpy(),
                self.labels_of(split),
                self.settings,
                self.seed,
            )
        )
        return metrics


# ------------------------------------------------------------------------------------- vae
@TASKS.register("vae")
class VAETask(Generative):
    """β-VAE (:mod:`gradwise.generative.vae`): its training loss is the β-weighted objective,
    its validation ``loss`` the negative ELBO (β = 1), all in nats per sample."""

    main_metric = "elbo"
    train_losses: ClassVar[tuple[str, ...]] = ("loss", "reconstruction", "kl", "beta")
    eval_metrics: ClassVar[tuple[str, ...]] = (
        "loss", "elbo", "reconstruction", "kl", "active_units",
    )  # fmt: skip

    def build_module(self, config: ExperimentConfig, feature_shape: tuple[int, ...]) -> Any:
        from gradwise.generative.building import vae

        settings = settings_of(config)
        if settings.prior == "class_mixture" and not self.n_classes:
            raise ConfigError(
                "generative.prior: class_mixture fits one mixture per class of the labels, and "
                "the data has none (name the label column with data.target, or set "
                "prior: mixture)"
            )
        return vae(config, settings, tuple(feature_shape), self.n_classes)

    def build(self, config: ExperimentConfig, data: TrainingData, device: Any, augment: Any):
        from gradwise.generative.building import NOISE_STREAM, check_bernoulli, stream
        from gradwise.training.batching import batch_size_of, steps_per_epoch

        self.remember(config, data)
        self.settings = settings_of(config)
        if self.settings.likelihood == "bernoulli":
            check_bernoulli(data.splits.x_train)
        module = self.model_for(config, data.splits.preprocessor).to(device)
        self.steps_per_epoch = steps_per_epoch(len(data.train), batch_size_of(config.train))
        self.noise = stream(config.seed, NOISE_STREAM, device)
        optimizers, schedules = self.one_optimizer(config, module, data, device)
        return Parts(module, optimizers, schedules, generators={"noise": self.noise})

    def forward(self, trainer: Trainer, batch: Batch) -> Any:
        return trainer.module(batch["x"])

    def beta_now(self, trainer: Trainer) -> float:
        from gradwise.generative.vae import warmup_beta

        done = trainer.global_step / max(self.steps_per_epoch, 1)
        return warmup_beta(self.settings.beta, self.settings.kl_warmup_epochs, done)

    def train_step(self, trainer: Trainer, batch: Batch) -> dict[str, Any]:
        import torch

        from gradwise.generative.vae import vae_objective

        with trainer.autocast():
            log_likelihood, kl = trainer.module.terms(batch["x"], self.noise)
        beta = self.beta_now(trainer)
        loss = vae_objective(log_likelihood, kl, beta, self.settings.free_bits)
        stepped = trainer.optimizer_step("main", loss)
        return {
            "loss": stepped,
            "reconstruction": -log_likelihood.detach().mean(),
            "kl": kl.detach().sum(1).mean(),
            "beta": torch.tensor(beta, device=stepped.device),
        }

    def evaluate(self, trainer: Trainer, split: TensorSplit) -> dict[str, float]:
        """The one-sample ELBO on a split (a fixed noise stream, so epochs compare), in
        nats per sample, and the KL of each latent unit (kept for ``latent_kl.jsonl``)."""
        import torch

        from gradwise.generative.building import EVAL_STREAM, stream
        from gradwise.generative.vae import ACTIVE_UNIT_KL

        module = trainer.module
        was_training = module.training
        module.eval()
        generator = stream(self.seed, EVAL_STREAM, split["x"].device)
        log_likelihood, kl = [], []
        with torch.inference_mode():
            for chunk in split["x"].split(trainer.eval_batch_size):
                ll, k = module.terms(chunk, generator)
                log_likelihood.append(ll)
                kl.append(k)
        module.train(was_training)
        ll, kl_all = torch.cat(log_likelihood), torch.cat(kl)  # (N,), (N, latent)
        per_unit = kl_all.mean(0)
        self.unit_kl = per_unit.tolist()
        reconstruction = -ll.mean().item()
        kl_total = per_unit.sum().item()
        return {
            "loss": reconstruction + kl_total,
            "elbo": -(reconstruction + kl_total),
            "reconstruction": reconstruction,
            "kl": kl_total,
            "active_units": float((per_unit > ACTIVE_UNIT_KL).sum().item()),
        }

    def epoch_record(self) -> dict[str, Any] | None:
        unit_kl = getattr(self, "unit_kl", None)
        return None if unit_kl is None else {"kl_per_unit": unit_kl}

    def after_training(self, trainer: Trainer, data: TrainingData) -> bool:
        """Fit the sampling mixture (one, or one per class) to the training codes of the
        final (best) weights."""
        from gradwise.generative.vae import MIXTURE_PRIORS

        if self.settings.prior not in MIXTURE_PRIORS:
            return False
        from gradwise.generative.building import latent_prior
        from gradwise.generative.embedding import embed

        codes = embed(trainer.module, data.train["x"])
        labels = self.labels_of(data.train) if self.settings.prior == "class_mixture" else None
        trainer.module.prior.load(
            *latent_prior(codes, labels, self.settings.prior_components, self.n_classes, self.seed)
        )
        return True

    def sample(self, module: Any, n: int, generator: Any) -> tuple[Any, Any]:
        """Samples and, from a class mixture, the classes they were drawn for."""
        import torch

        with torch.inference_mode():
            return module.draw(n, generator, self.settings.prior, self.settings.sample_noise)

    def test_metrics(self, trainer: Trainer, split: TensorSplit) -> dict[str, Any]:
        metrics: dict[str, Any] = self.evaluate(trainer, split)
        metrics["latent"] = self.settings.latent
        metrics.update(self.quality(trainer.module.eval(), split))
        return metrics


# ------------------------------------------------------------------------------------- gan
@TASKS.register("gan")
class GANTask(Generative):
    """Non-saturating GAN (:mod:`gradwise.generative.gan`). Its validation ``loss`` is the
    Fréchet distance of as many samples as the training split has rows to the validation
    split (a GAN has no likelihood; the best checkpoint is the one with the closest samples)."""

    main_metric = "fd"
    loss_curves = False  # D's and G's losses are a game's value, not a curve of learning
    optimizer_names = ("discriminator", "generator")  # updated in this order
    train_losses: ClassVar[tuple[str, ...]] = (
        "loss", "discriminator_loss", "generator_loss", "discriminator_accuracy",
    )  # fmt: skip
    eval_metrics: ClassVar[tuple[str, ...]] = (
        "loss", "fd", "discriminator_accuracy", "discriminator_loss", "generator_loss",
        "feature_variance_ratio",
    )  # fmt: skip

    @classmethod
    def check_config(cls, config: ExperimentConfig) -> tuple[str, str] | None:
        if config.train.ema is not None:  # it would average G, D and G's average, statistics too
            return (
                "train.ema",
                "a GAN already samples from a moving average of its generator "
                "(generative.generator_ema); remove train.ema",
            )
        return None

    def build_module(self, config: ExperimentConfig, feature_shape: tuple[int, ...]) -> Any:
        from gradwise.generative.building import gan

        settings = settings_of(config)
        if settings.conditional and not self.n_classes:
            raise ConfigError(
                "generative.conditional: a class-conditional GAN needs labels, and the data has "
                "none (name the label column with data.target, or set conditional: false)"
            )
        return gan(config, settings, tuple(feature_shape), self.n_classes)

    def build(self, config: ExperimentConfig, data: TrainingData, device: Any, augment: Any):
        import torch

        from gradwise.generative.building import NOISE_STREAM, named_optimizers, stream
        from gradwise.training.schedules import build_schedules

        self.remember(config, data)
        self.settings = settings_of(config)
        module = self.model_for(config, data.splits.preprocessor).to(device)
        if module.n_classes and "y" in data.train:
            counts = torch.bincount(data.train["y"], minlength=module.n_classes).float()
            module.class_prior.copy_(counts / counts.sum())
        if self.settings.output_floor:
            module.set_floor(data.train["x"].amin(dim=0))
        parameters = {
            "discriminator": list(module.discriminator.parameters()),
            "generator": list(module.generator.parameters()),
        }
        optimizers = named_optimizers(config, parameters, device, self.name)
        schedules = build_schedules(
            config.train, optimizers, len(data.train), data.valid is not None
        )
        self.noise = stream(config.seed, NOISE_STREAM, device)
        self.feature_space()  # the validation FD needs it from the first epoch on
        return Parts(module, optimizers, schedules, generators={"noise": self.noise})

    def forward(self, trainer: Trainer, batch: Batch) -> Any:
        """What a step and the validation compute, for the non-finite guard's probe (the first
        layer whose output is non-finite): samples of G and of its average, then D's logits
        on the real rows and on G's samples. The noise comes from a fixed stream of its own:
        the training noise stays untouched."""
        import torch

        module, real = trainer.module, batch["x"]
        noise = torch.Generator(device=real.device).manual_seed(0)
        labels = module.draw_labels(len(real), noise)
        z = module.noise(len(real), noise)
        fake = module.generator(z, labels)
        module.sampler(z, labels)
        return module(real, batch.get("y")), module.discriminator(fake, labels)

    def train_step(self, trainer: Trainer, batch: Batch) -> dict[str, Any]:
        from gradwise.generative.gan import (
            discriminator_accuracy,
            discriminator_loss,
            generator_loss,
            r1_penalty,
        )

        module = trainer.module
        real, labels = batch["x"], batch.get("y") if module.n_classes else None
        n, gamma = len(real), self.settings.gradient_penalty
        for _ in range(self.settings.discriminator_steps):
            fake_labels = module.draw_labels(n, self.noise)
            fake = module.generator(module.noise(n, self.noise), fake_labels).detach()
            if gamma > 0:
                real = real.detach().requires_grad_(True)
            real_logits = module.discriminator(real, labels)
            fake_logits = module.discriminator(fake, fake_labels)
            d_loss = discriminator_loss(real_logits, fake_logits)
            if gamma > 0:
                d_loss = d_loss + gamma * r1_penalty(real_logits, real)
            d_loss = trainer.optimizer_step("discriminator", d_loss)
        accuracy = discriminator_accuracy(real_logits.detach(), fake_logits.detach())
        fake_labels = module.draw_labels(n, self.noise)
        fake = module.generator(module.noise(n, self.noise), fake_labels)
        g_loss = trainer.optimizer_step(
            "generator", generator_loss(module.discriminator(fake, fake_labels))
        )
        module.update_average()
        return {
            "loss": d_loss + g_loss,
            "discriminator_loss": d_loss,
            "generator_loss": g_loss,
            "discriminator_accuracy": accuracy,
        }

    def after_epoch(self, trainer: Trainer) -> None:
        """The averaged generator's batch-norm statistics, recomputed for its weights from a
        stream restarted every epoch (:meth:`~gradwise.generative.gan.GAN.standing_statistics`)."""
        from gradwise.generative.building import STATISTICS_STREAM, stream

        module = trainer.module
        module.standing_statistics(stream(self.seed, STATISTICS_STREAM, module.class_prior.device))

    def sample(self, module: Any, n: int, generator: Any) -> tuple[Any, Any]:
        import torch

        with torch.inference_mode():
            return module.sample(n, generator)

    def evaluate(self, trainer: Trainer, split: TensorSplit) -> dict[str, float]:
        """The samples' FD to ``split`` (= ``loss``), how varied they are, and how well D
        tells ``split`` from as many samples."""
        from gradwise.generative.building import EVAL_STREAM, stream
        from gradwise.generative.quality import feature_variance_ratio, frechet_distance

        module = trainer.module
        was_training = module.training
        module.eval()
        generator = stream(self.seed, EVAL_STREAM, split["x"].device)
        samples, _ = self.sample(module, len(self.data.train), generator)
        scores = self.discriminator_scores(module, split, generator)
        module.train(was_training)
        space = self.feature_space()
        features, real = space.features(samples), space.features(split["x"].cpu().numpy())
        fd = frechet_distance(features, real)
        spread = feature_variance_ratio(features, real)
        return {"loss": fd, "fd": fd, **scores, "feature_variance_ratio": spread}

    @staticmethod
    def discriminator_scores(module: Any, split: TensorSplit, generator: Any) -> dict[str, float]:
        """D's accuracy at telling ``split`` from as many samples (drawn with ``generator``),
        and both players' losses on them."""
        import torch

        from gradwise.generative.gan import (
            discriminator_accuracy,
            discriminator_loss,
            generator_loss,
        )

        with torch.inference_mode():
            real = split["x"]
            labels = split["y"] if module.n_classes else None
            fake, fake_labels = module.sample(len(real), generator)
            real_logits = module.discriminator(real, labels)
            fake_logits = module.discriminator(fake, fake_labels)
        return {
            "discriminator_accuracy": discriminator_accuracy(real_logits, fake_logits).item(),
            "discriminator_loss": discriminator_loss(real_logits, fake_logits).item(),
            "generator_loss": generator_loss(fake_logits).item(),
        }

    def test_metrics(self, trainer: Trainer, split: TensorSplit) -> dict[str, Any]:
        """The FD trio of :meth:`quality` (``loss`` = ``fd``) and D's scores on the test split."""
        from gradwise.generative.building import EVAL_STREAM, stream

        module = trainer.module.eval()
        generator = stream(self.seed, EVAL_STREAM, split["x"].device)
        metrics: dict[str, Any] = self.discriminator_scores(module, split, generator)
        metrics.update(self.quality(module, split))
        metrics["loss"] = metrics["fd"]
        return metrics


# ---------------------------------------------------------------- per-unit KL, per epoch
@RUN_CALLBACKS.register("latent_kl")
def latent_kl_log(config: Any, paths: Any, experiment: Any) -> Any:
    """A callback writing ``latent_kl.jsonl`` for paradigms with an ``epoch_record``."""
    if not hasattr(experiment.paradigm, "epoch_record"):
        return None
    from gradwise.generative.records import EpochRecords

    return EpochRecords(paths.root / LATENT_KL_FILE, experiment.paradigm)


def is_generative(task: str) -> bool:
    """Whether ``task`` is one of this module's paradigms (samples, embeddings)."""
    return task in TASKS and issubclass(TASKS.get(task), Generative)
