"""``gradwise init``: a commented starting experiment for a dataset and model kind.

The recipes are the defaults we stand behind: e.g. the cnn1d recipe for mnist1d (batch-normed
conv blocks with pooling, AdamW, one-cycle) is the one `benchmarks/mnist1d_accuracy.py` measures.
"""

from __future__ import annotations

import json

from gradwise.config.models import MODEL_CONFIGS
from gradwise.errors import ConfigError, did_you_mean

# Hand-tuned model sections per kind (MODEL_CONFIGS lists the kinds); a kind without one starts
# from its defaults (model_block).
MODEL_BLOCKS = {
    "mlp": """\
model:
  kind: mlp
  hidden: [256, 256]          # units per hidden layer
  activation: relu            # relu | leaky_relu | gelu | tanh | sigmoid | ...
  norm: none                  # none | batch | layer
  dropout: 0.2                # dropout after each hidden layer
""",
    "cnn1d": """\
model:
  kind: cnn1d
  channels: [32, 32, 64, 64, 128, 128]   # conv layers and their channels
  kernel_size: 3
  pool_every: 2               # max-pool by 2 after every 2 conv layers
  residual: false             # skip connections around pairs of conv layers
  activation: relu
  norm: batch                 # batch norm after each conv
  dropout: 0.1                # before the classifier head
""",
    "cnn2d": """\
model:
  kind: cnn2d
  channels: [32, 32, 64, 64]
  kernel_size: 3
  pool_every: 2
  residual: false
  activation: relu
  norm: batch
  dropout: 0.1
""",
    "rnn": """\
model:
  kind: rnn
  cell: gru                   # rnn | lstm | gru
  hidden_size: 128
  layers: 1
  bidirectional: true
  pooling: mean               # last | mean: how the sequence is summarised
  dropout: 0.0
""",
}

# (epochs, batch size, optimizer line, schedule line) per model kind; DEFAULT_RECIPE otherwise
TRAIN_RECIPES = {
    "mlp": (100, 128, "{name: adam, lr: 0.001, weight_decay: 0.0001}", "{name: constant}"),
    "cnn1d": (
        20,
        128,
        "{name: adamw, lr: 0.01, weight_decay: 0.01}",
        "{name: one_cycle, pct_start: 0.25}",
    ),
    "cnn2d": (
        30,
        128,
        "{name: adamw, lr: 0.005, weight_decay: 0.01}",
        "{name: one_cycle, pct_start: 0.25}",
    ),
    "rnn": (40, 128, "{name: adam, lr: 0.003}", "{name: cosine, warmup_epochs: 2}"),
}
DEFAULT_RECIPE = (20, 128, "{name: adam, lr: 0.001}", "{name: constant}")

DEFAULT_MODEL = {"signal": "cnn1d", "image": "cnn2d", "tabular": "mlp"}


def starting_config(dataset: str, model: str | None = None, target: str | None = None) -> str:
    from gradwise.data.catalog import BUILTIN_DATASETS
    from gradwise.tasks import TASKS, task_for_targets

    info = next((d for d in BUILTIN_DATASETS if d["name"] == dataset), None)
    if info is None and ":" not in dataset and "." not in dataset:
        names = [d["name"] for d in BUILTIN_DATASETS]
        raise ConfigError(
            f"init: unknown dataset '{dataset}'{did_you_mean(dataset, names)}; "
            "give a built-in name (see `gradwise datasets`) or a file path"
        )
    info = info or {"kind": "tabular", "targets": "labels"}
    model = model or DEFAULT_MODEL.get(info.get("kind", "tabular"), "mlp")
    if model not in MODEL_CONFIGS:
        raise ConfigError(
            f"init --model: unknown model '{model}'"
            f"{did_you_mean(model, MODEL_CONFIGS)}; choose from: "
            f"{', '.join(MODEL_CONFIGS)}"
        )
    task = task_for_targets(info.get("targets", "labels"))
    epochs, batch, optimizer, schedule = TRAIN_RECIPES.get(model, DEFAULT_RECIPE)
    loss = TASKS.get(task).default_loss
    task_choices = " | ".join(TASKS.names())
    name = dataset.split(":")[-1].split("/")[-1].rsplit(".", 1)[0]
    target_line = (
        f"  target: {target or info.get('target') or 'label'}\n"
        if info.get("kind") == "tabular" or target
        else ""
    )
    return f"""\
# gradwise experiment: {dataset} with {model}. Train it with: gradwise train THIS_FILE
name: {name}-{model}
seed: 0
task: {task:<22}# {task_choices}
data:
  source: {dataset}
{target_line}  valid: 0.1                  # fractions of the whole data
  test: 0.2                   # (ignored when the dataset has its own test split)
  scale: standard             # standard | minmax | none, fitted on the training split
  augment: []                 # per-batch, training only, e.g. [{{shift: 4}}, {{mixup: 0.2}}]
  sampling: none              # none | oversample | undersample | smote | class_weight | random
{model_block(model)}train:
  epochs: {epochs}
  batch_size: {batch}             # an integer, or full (full-batch gradient descent)
  loss: {loss}
  optimizer: {optimizer}
  schedule: {schedule}
  grad_clip: null             # max global gradient norm, e.g. 1.0
  early_stopping: null        # e.g. {{patience: 10, monitor: valid_loss}}
  ema: null                   # e.g. 0.99: validate and keep a moving average of the weights
  device: auto                # auto | cpu | cuda
"""


def model_block(kind: str) -> str:
    """The ``model:`` section of a starting config: the hand-tuned one, else every default."""
    if kind in MODEL_BLOCKS:
        return MODEL_BLOCKS[kind]
    defaults = MODEL_CONFIGS[kind]().model_dump(mode="json", exclude={"kind"})
    keys = "".join(f"  {key}: {json.dumps(value)}\n" for key, value in defaults.items())
    return f"model:\n  kind: {kind}\n{keys}"
