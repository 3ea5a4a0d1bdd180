"""``gradwise init``: a commented starting experiment for a dataset and model kind.

The recipes are the defaults we stand behind: e.g. the cnn1d recipe for mnist1d (batch-normed
conv blocks with pooling, AdamW, one-cycle) is the one `benchmarks/mnist1d_accuracy.py` measures.

A data file is opened (a table's header and its target column only): the target must be one of
its columns, and the task is inferred from that column (said in a comment). A model kind not made
for the data's shape is said in a comment and a warning.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gradwise.config.models import MODEL_CONFIGS
from gradwise.data.kinds import MULTI
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
    "transformer": """\
model:
  kind: transformer
  embedding: patch            # patch: signals/sequences | feature: one token per table column
  patch_size: 4               # steps per token (40 steps -> 10 tokens)
  d_model: 64                 # token width
  heads: 4                    # attention heads (d_model must divide by it)
  layers: 2                   # pre-norm encoder blocks
  feedforward: 128            # hidden units of each block's MLP
  positional: learned         # learned | sinusoidal | none
  pooling: cls                # cls token | mean of the tokens
  activation: gelu
  dropout: 0.1
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
    "transformer": (
        40,
        128,
        "{name: adamw, lr: 0.003, weight_decay: 0.05}",
        "{name: one_cycle, pct_start: 0.25}",
    ),
}
DEFAULT_RECIPE = (20, 128, "{name: adam, lr: 0.001}", "{name: constant}")

# Tables: the MLP in the spirit of RealMLP (Holzmüller et al. 2024) — each number embedded with
# periodic features beside its value, many-valued categories embedded (data.one_hot_max) —
# with the training that `benchmarks/tabular.py` measures against gradient boosting and RealMLP.
TABLE_MODEL_BLOCKS = {
    "mlp": """\
model:
  kind: mlp
  hidden: [256, 256]          # units per hidden layer
  numeric_embedding: periodic # none | periodic: each number beside 3 learned periodic features
  clip: null                  # smooth clipping of the scaled numbers at ±clip (e.g. 3.0)
  activation: relu            # relu | leaky_relu | gelu | silu | tanh | ...
  norm: none                  # none | batch | layer
  dropout: 0.2                # dropout after each hidden layer
""",
}
# keys of the printed config that the recipes set (YAML text); the table recipe stops once the
# validation loss has not improved for 20 epochs (small and noisy tables peak early)
PLAIN_SETTINGS = {"scale": "standard", "ema": "null", "early_stopping": "null"}
TABLE_SETTINGS = {"mlp": {"scale": "standard", "ema": "0.995", "early_stopping": "{patience: 20}"}}
TABLE_DATA_LINES = (
    "  one_hot_max: 9              # categorical columns with more values: learned embeddings\n"
)
TABLE_TRAIN_RECIPES = {
    "mlp": (100, 128, "{name: adam, lr: 0.001, weight_decay: 0.0001}", "{name: constant}"),
}
TABLE_STEPS = 5000  # optimizer steps the table recipe trains for: epochs follow the table's size
LARGE_TABLE = 16_000  # training rows from which batches double (and the learning rate with them)


def table_training(rows: int, valid: float = 0.1, test: float = 0.2) -> tuple[int, int, str, int]:
    """(epochs, batch size, optimizer, steps) of the table MLP recipe for a table of ``rows``:
    batches of 128 (256 from :data:`LARGE_TABLE` training rows, with twice the learning rate)
    and about :data:`TABLE_STEPS` steps in all, within 10–200 epochs."""
    train_rows = max(1, round(rows * (1 - valid - test)))
    batch = 256 if train_rows >= LARGE_TABLE else 128
    epochs = min(200, max(10, round(TABLE_STEPS * batch / train_rows)))
    lr = 0.001 * batch / 128
    steps = epochs * -(-train_rows // batch)
    return epochs, batch, f"{{name: adam, lr: {lr:g}, weight_decay: 0.0001}}", steps


@dataclass
class DataFacts:
    """What ``init`` knows of a dataset: its input kind, target kind and target column, and
    comment lines saying how it knows (an inferred task)."""

    kind: str = "tabular"  # tabular | signal | image
    targets: str | None = "labels"  # labels | values (the paradigm's target kind)
    target: str | None = None  # the target column of a table
    notes: list[str] = field(default_factory=list)
    rows: int | None = None  # a table's rows, when init read its target column


def check_dataset_name(dataset: str) -> None:
    """A built-in name, a ``prefix:name`` source or a file path; else ConfigError with the
    name meant (``digits`` → ``sklearn:digits``)."""
    from gradwise.data.catalog import BUILTIN_DATASETS
    from gradwise.data.sources import suggest_source

    known = any(d["name"] == dataset for d in BUILTIN_DATASETS)
    if not (known or ":" in dataset or "." in dataset or Path(dataset).exists()):
        raise ConfigError(
            f"init: unknown dataset '{dataset}'{suggest_source(dataset)}; "
            "give a built-in name (see `gradwise datasets`) or a file path"
        )


def starting_config(
    dataset: str,
    model: str | None = None,
    target: str | None = None,
    task: str | None = None,
    agent: str | None = None,
) -> str:
    """The starting experiment for ``dataset``: the recipe of ``task``'s paradigm when it has
    one (:meth:`gradwise.tasks.Paradigm.starting_config`), else the supervised template with
    ``task`` or the task inferred from the data."""
    from gradwise.data.catalog import BUILTIN_DATASETS
    from gradwise.tasks import TASKS, InitRequest, task_for_targets
    from gradwise.tasks.checks import MODEL_FOR_INPUTS, model_shape_note

    if task is not None and task not in TASKS:
        raise ConfigError(
            f"init --task: unknown task '{task}'{did_you_mean(task, TASKS.names())}; "
            f"choose from: {', '.join(TASKS.names())}"
        )
    paradigm = None if task is None else TASKS.get(task)
    if paradigm is None or paradigm.needs_data:  # else an environment id: its recipe checks it
        check_dataset_name(dataset)
    if paradigm is not None:
        recipe = paradigm.starting_config(InitRequest(dataset, model, target, agent))
        if recipe is not None:
            return recipe
    if agent is not None:
        raise ConfigError("init --agent: only for a task with agents (e.g. --task rl)")

    info = next((d for d in BUILTIN_DATASETS if d["name"] == dataset), None)
    if model is not None and model not in MODEL_CONFIGS:
        raise ConfigError(
            f"init --model: unknown model '{model}'"
            f"{did_you_mean(model, MODEL_CONFIGS)}; choose from: "
            f"{', '.join(MODEL_CONFIGS)}"
        )
    facts = data_facts(dataset, info, target)
    model = model or MODEL_FOR_INPUTS.get(facts.kind, "mlp")
    shape_note = model_shape_note(model, facts.kind, data=dataset)
    if shape_note:
        warnings.warn(shape_note, stacklevel=2)
        facts.notes.append(f"note: {shape_note}")
    task = task or task_for_targets(facts.targets)
    blocks, recipes = (
        (TABLE_MODEL_BLOCKS, TABLE_TRAIN_RECIPES) if facts.kind == "tabular" else ({}, {})
    )
    block = blocks.get(model) or model_block(model)
    epochs, batch, optimizer, schedule = recipes.get(model) or TRAIN_RECIPES.get(
        model, DEFAULT_RECIPE
    )
    if model in recipes and facts.rows is not None:
        epochs, batch, optimizer, steps = table_training(facts.rows)
        facts.notes.append(f"{facts.rows} rows: {epochs} epochs of {batch} (at most {steps} steps)")
    loss = TASKS.get(task).default_loss or "null"  # null: each target's own loss
    task_choices = " | ".join(TASKS.names())
    name = dataset.split(":")[-1].split("/")[-1].rsplit(".", 1)[0]
    target_line = f"  target: {facts.target}\n" if facts.target else ""
    table_lines = TABLE_DATA_LINES if facts.kind == "tabular" else ""
    settings = {**PLAIN_SETTINGS, **(TABLE_SETTINGS.get(model, {}) if blocks else {})}
    notes = "".join(f"# {line}\n" for line in facts.notes)
    return f"""\
# gradwise experiment: {dataset} with {model}. Train it with: gradwise train THIS_FILE
{notes}name: {name}-{model}
seed: 0
task: {task:<22}# {task_choices}
data:
  source: {dataset}
{target_line}  valid: 0.1                  # fractions of the whole data
  test: 0.2                   # (ignored when the dataset has its own test split)
  scale: {settings["scale"]:<21}# standard | robust | minmax | none, fitted on the training split
{table_lines}\
  augment: []                 # per-batch, training only, e.g. [{{shift: 4}}, {{mixup: 0.2}}]
  sampling: none              # none | oversample | undersample | smote | class_weight | random
{block}train:
  epochs: {epochs}
  batch_size: {batch}             # an integer, or full (full-batch gradient descent)
  loss: {loss}
  optimizer: {optimizer}
  schedule: {schedule}
  grad_clip: null             # max global gradient norm, e.g. 1.0
  early_stopping: {settings["early_stopping"]:<11} # e.g. {{patience: 10, monitor: valid_loss}}
  ema: {settings["ema"]:<23}# e.g. 0.99: validate and keep a moving average of the weights
  device: auto                # auto | cpu | cuda
"""


def data_facts(dataset: str, info: dict[str, Any] | None, target: str | None) -> DataFacts:
    """The facts of a built-in dataset (its catalog entry), an ``rdata:`` table or a data file;
    a table's ``target`` must be one of its columns, and the task is inferred from it."""
    from gradwise.data.columns import csv_columns, parquet_columns, rdata_columns

    if dataset.startswith("rdata:") and (target is not None or info is None):
        return _table_facts(dataset, target, rdata_columns(dataset))
    if info is not None:
        facts = DataFacts(info.get("kind", "tabular"), info.get("targets"), info.get("target"))
        facts.target = target or facts.target
        return facts
    if ":" in dataset:  # a source kind without a catalog entry (sklearn:NAME, synthetic:NAME)
        return DataFacts(target=target)
    path = Path(dataset)
    if not path.exists():
        raise ConfigError(f"init: file not found: '{path}'")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _table_facts(str(path), target, csv_columns(path))
    if suffix in (".parquet", ".pq"):
        return _table_facts(str(path), target, parquet_columns(path))
    if target is not None:
        raise ConfigError(
            f"init --target: '{path}' has no columns (arrays x and y, or one sub-folder per "
            "class hold the labels); leave --target out"
        )
    if path.is_dir():
        return DataFacts("image", "labels")
    if suffix == ".npz":
        import pandas as pd

        from gradwise.data.files import read_npz
        from gradwise.tasks.checks import infer_target_kind

        raw = read_npz(str(path), {}, 0)
        if raw.y is None or raw.y.ndim != 1:
            return DataFacts(raw.input_kind, "values")
        targets, why = infer_target_kind(pd.Series(raw.y))
        return DataFacts(raw.input_kind, targets, None, [_inferred("array y", targets, why)])
    from gradwise.data.files import unknown_extension

    raise unknown_extension(path)


def _table_facts(source: str, target: str | None, table: Any) -> DataFacts:
    from gradwise.tasks.checks import infer_target_kind

    columns, read_column = table
    listed = ", ".join(columns)
    if target is None:
        raise ConfigError(
            f"init: pass --target COLUMN to say what to predict from '{source}'; columns: {listed}"
        )
    names = [name.strip() for name in target.split(",") if name.strip()]
    for name in names:
        if name not in columns:
            raise ConfigError(
                f"init --target: no column '{name}' in '{source}'"
                f"{did_you_mean(name, columns)}; columns: {listed}"
            )
    if len(names) > 1:  # several targets: one head each, each kind inferred from its column
        kinds = {name: infer_target_kind(read_column(name)) for name in names}
        notes = [
            f"target '{n}': {k}, inferred from the column ({why})" for n, (k, why) in kinds.items()
        ]
        notes.append("several targets, one head each; train.loss_weights: {col: w} | uncertainty")
        return DataFacts("tabular", MULTI, f"[{', '.join(names)}]", notes)
    values = read_column(target)
    targets, why = infer_target_kind(values)
    notes = [_inferred(f"column '{target}'", targets, why)]
    return DataFacts("tabular", targets, target, notes, rows=len(values))


def _inferred(what: str, targets: str, why: str) -> str:
    from gradwise.tasks import task_for_targets

    return f"task: {task_for_targets(targets)}, inferred from {what} ({why}); change it if wrong"


def model_block(kind: str) -> str:
    """The ``model:`` section of a starting config: the hand-tuned one, else every default."""
    if kind in MODEL_BLOCKS:
        return MODEL_BLOCKS[kind]
    defaults = MODEL_CONFIGS[kind]().model_dump(mode="json", exclude={"kind"})
    keys = "".join(f"  {key}: {json.dumps(value)}\n" for key, value in defaults.items())
    return f"model:\n  kind: {kind}\n{keys}"
