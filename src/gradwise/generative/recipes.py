"""``gradwise init DATA --task autoencoder | vae | gan``: the starting recipes we stand behind.

They are what ``benchmarks/generative.py`` measures against the Gaussian-mixture baseline:

- **vae** — an MLP VAE (512-256) with a 16-unit latent, a Gaussian likelihood whose variance is
  learned per feature, β = 0.3 (sharper reconstructions than β = 1, whose decoder means are
  blurred; measured on digits: FD 3.7 at β = 0.3, 6.4 at β = 1, 5.5 at β = 0.1), and samples
  decoded from a 20-component mixture fitted to the training codes after training (ex-post
  density estimation, Ghosh et al., 2020): decoding N(0, I) draws lands in the holes of the
  aggregate posterior (blurred, mixed classes). The best epoch is picked by validation ELBO.
- **gan** — an MLP GAN on min-max scaled data: spectral norm and the minibatch standard
  deviation in D, batch norm in G (without it the same GAN was still at a validation FD of 65
  after 75 epochs, with it at 6 after 60), Adam with β₁ = 0.5, two time scales (D at twice G's
  learning rate), batch 64, and samples from an exponential moving average of G's weights, with
  the best epoch picked by the validation FD.
- **autoencoder** — an MLP autoencoder with an 8-unit code, for embeddings and clustering.

Torch-free: ``init`` prints text.
"""

from __future__ import annotations

from gradwise.errors import ConfigError
from gradwise.tasks.base import InitRequest

GENERATIVE_MODELS = ("mlp", "cnn1d", "cnn2d")

MODEL = {
    "mlp": """\
model:
  kind: mlp                   # mlp | cnn1d | cnn2d: the encoder/discriminator family
  hidden: {hidden:<20}# encoder layers; the decoder/generator mirrors them
  activation: {activation}
  norm: {norm}                 # the discriminator never has normalization layers
""",
    "cnn1d": """\
model:
  kind: cnn1d                 # mlp | cnn1d | cnn2d
  channels: [32, 64, 64]      # encoder conv blocks; the decoder mirrors them
  kernel_size: 5
  pool_every: 1               # halve the length after every block (while it is >= 4)
  activation: {activation}
  norm: {norm}
""",
    "cnn2d": """\
model:
  kind: cnn2d                 # mlp | cnn1d | cnn2d
  channels: [32, 64]
  kernel_size: 3
  pool_every: 1
  activation: {activation}
  norm: {norm}
""",
}

SECTIONS = {
    "vae": """\
generative:
  latent: 16                  # latent units
  beta: 0.3                   # KL weight (1: the ELBO); below 1 the codes keep more detail
  likelihood: gaussian        # gaussian | bernoulli (bernoulli needs data.scale: minmax)
  decoder_variance: learned   # one log-variance per feature, learned
  kl_warmup_epochs: 0         # β grows from 0 over these epochs (against posterior collapse)
  free_bits: 0.0              # nats per latent unit the KL term leaves free
  prior: mixture              # samples from a Gaussian mixture fitted to the training codes
  prior_components: 20
""",
    "gan": """\
generative:
  latent: 32                  # noise size
  spectral_norm: true         # in every discriminator layer
  gradient_penalty: 0.0       # R1 weight, e.g. 1.0 when D overpowers G
  generator_ema: 0.999        # samples come from a moving average of G's weights
  minibatch_std: true         # D sees the batch's spread (against mode collapse)
  conditional: false          # true: class-conditional G and D (the data's labels)
  discriminator_steps: 1
""",
    "autoencoder": """\
generative:
  latent: 8                   # code size
  clusters: null              # k-means k for `gradwise embed`; null: best silhouette
  max_clusters: 12
""",
}

TRAIN = {
    "vae": """\
train:
  epochs: {epochs}
  batch_size: 64
  optimizer: {{name: adam, lr: 0.001}}
  schedule: {{name: constant}}
  monitor: valid_loss         # the negative ELBO (nats per sample)
  device: auto
""",
    "gan": """\
train:
  epochs: {epochs}
  batch_size: 64
  optimizer: {{name: adam, lr: 0.0005, betas: [0.5, 0.999]}}
  optimizers:                 # two time scales: each overrides train.optimizer
    generator: {{lr: 0.0005}}
    discriminator: {{lr: 0.001}}
  schedule: {{name: constant}}
  monitor: valid_loss         # a GAN's validation loss is the FD of its samples
  device: auto
""",
    "autoencoder": """\
train:
  epochs: {epochs}
  batch_size: 64
  optimizer: {{name: adam, lr: 0.001}}
  schedule: {{name: constant}}
  device: auto
""",
}

EPOCHS = {"vae": 80, "gan": 100, "autoencoder": 60}
HIDDEN = {"vae": "[512, 256]", "gan": "[256, 256]", "autoencoder": "[256, 128]"}


def recipe(task: str, request: InitRequest) -> str:
    """The commented starting experiment of ``task`` for ``request.dataset``."""
    from gradwise.config.templates import data_facts
    from gradwise.data.catalog import BUILTIN_DATASETS

    if request.agent is not None:
        raise ConfigError("init --agent: only for a task with agents (e.g. --task rl)")
    model = request.model or "mlp"
    if model not in GENERATIVE_MODELS:
        raise ConfigError(
            f"init --model: task {task} builds its networks from {', '.join(GENERATIVE_MODELS)}; "
            f"got '{model}'"
        )
    info = next((d for d in BUILTIN_DATASETS if d["name"] == request.dataset), None)
    facts = data_facts(request.dataset, info, request.target) if info or request.target else None
    target = facts.target if facts and facts.target else request.target
    target_line = (
        f"  target: {target:<20}# labels: conditioning and scoring only\n" if target else ""
    )
    scale = "minmax" if task == "gan" else "standard"
    activation = "leaky_relu" if task == "gan" else "relu"
    norm = (
        {"gan": "batch", "vae": "none", "autoencoder": "none"}[task]
        if model == "mlp"
        else ("batch")
    )
    name = request.dataset.split(":")[-1].split("/")[-1].rsplit(".", 1)[0]
    return f"""\
# gradwise experiment: a {task} of {request.dataset}. Train it with: gradwise train THIS_FILE
# Samples: gradwise sample RUN -n 64 -o samples.png; quality in summary.json (fd vs fd_baseline)
name: {name}-{task}
seed: 0
task: {task}
data:
  source: {request.dataset}
{target_line}  valid: 0.1
  test: 0.2
  scale: {scale:<21}# standard | minmax | none
{MODEL[model].format(hidden=HIDDEN[task], activation=activation, norm=norm)}\
{SECTIONS[task]}{TRAIN[task].format(epochs=EPOCHS[task])}"""
