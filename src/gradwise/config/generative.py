"""The ``generative`` section: what ``task: autoencoder | vae | gan`` read beyond ``model``.

The network family is ``model.kind`` (``mlp`` | ``cnn1d`` | ``cnn2d``): the encoder (and the
discriminator) is built like that model, the decoder (and the generator) mirrors it, both shaped
from the data. Keys a task does not use are ignored (``beta`` means nothing to a GAN;
``TASK_KEYS`` lists the keys each task reads). The two networks of a GAN have named
optimizers, ``generator`` and ``discriminator``; their learning rates (two time scales) are
``train.optimizers.<name>``, which override ``train.optimizer`` key by key. Torch-free.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from gradwise.config.sections import Probability, Section

PositiveInt = Annotated[int, Field(ge=1)]
NonNegative = Annotated[float, Field(ge=0.0)]


class GenerativeConfig(Section):
    # ------------------------------------------------------------------ every generative task
    latent: Annotated[int, Field(ge=1, le=4096)] = 16  # code size (ae, vae) or noise size (gan)
    # ---------------------------------------------------------------------------- vae
    beta: NonNegative = 1.0  # weight of the KL term (β-VAE; 1 is the ELBO)
    likelihood: Literal["gaussian", "bernoulli"] = "gaussian"  # p(x|z); bernoulli: x in [0, 1]
    decoder_variance: Literal["learned", "fixed"] = "learned"  # gaussian: log σ² per feature, or 1
    kl_warmup_epochs: NonNegative = 0.0  # β grows linearly from 0 over these epochs
    free_bits: NonNegative = 0.0  # nats per latent unit that the KL term does not charge
    # samples: z ~ N(0, I), or from a Gaussian mixture fitted to the training codes after
    # training; class_mixture: one mixture per class of the labels (drawn at the class frequency)
    prior: Literal["normal", "mixture", "class_mixture"] = "mixture"
    prior_components: Annotated[int, Field(ge=1, le=100)] = 10  # per mixture (so per class)
    sample_noise: bool = False  # gaussian: samples drawn from p(x|z), not the decoder means
    # ---------------------------------------------------------------------------- gan
    spectral_norm: bool = True  # spectral normalization of every discriminator layer
    gradient_penalty: NonNegative = 0.0  # R1 weight γ: γ/2 · E‖∇ₓD(x)‖² on real data
    generator_ema: Probability | None = 0.999  # decay of the sampled generator's weight average
    minibatch_std: bool = True  # the discriminator sees the batch's feature spread
    output_floor: bool = False  # G compresses its outputs below each feature's training min
    conditional: bool = False  # class-conditional generator and discriminator (needs labels)
    discriminator_steps: PositiveInt = 1  # discriminator updates per generator update
    # dropout after each hidden layer of the discriminator (training only): against a
    # discriminator that memorizes a small training split
    discriminator_dropout: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    # ---------------------------------------------------------- embeddings and clustering
    clusters: Annotated[int, Field(ge=2)] | None = None  # k-means k; None: best silhouette
    max_clusters: Annotated[int, Field(ge=2, le=50)] = 12  # k tried: 2..max_clusters


# The keys each task reads (the report's settings tables list only these).
_EMBEDDING_KEYS = ("latent", "clusters", "max_clusters")
TASK_KEYS: dict[str, tuple[str, ...]] = {
    "autoencoder": _EMBEDDING_KEYS,
    "vae": (
        *_EMBEDDING_KEYS,
        "beta",
        "likelihood",
        "decoder_variance",
        "kl_warmup_epochs",
        "free_bits",
        "prior",
        "prior_components",
        "sample_noise",
    ),
    "gan": (
        "latent",
        "spectral_norm",
        "gradient_penalty",
        "generator_ema",
        "minibatch_std",
        "output_floor",
        "conditional",
        "discriminator_steps",
        "discriminator_dropout",
    ),
}
