"""Training the config's deep model(s) on a split's training rows and measuring them.

The model trains through the same ``build_experiment`` as ``gradwise train`` (same model, loss,
optimizer, schedule, early stopping), on exactly the rows and preprocessing the classical
baselines get. The validation split only picks the checkpoint (the weights at the best
``train.monitor`` value, kept in memory) and drives early stopping; the test split is scored once.
Nothing is written to disk.
"""

from __future__ import annotations

import io
import time
from typing import Any

import torch

from gradwise.comparison.records import FitRecord, predict_ms_per_1000
from gradwise.config.schema import ExperimentConfig
from gradwise.experiment import build_experiment
from gradwise.models import count_parameters
from gradwise.training.callbacks import BestWeights, config_callbacks


def deep_variants(config: ExperimentConfig) -> list[tuple[str, Any]]:
    """(name, model section) of the main ``model`` and each ``compare.models`` entry; names are
    the model kinds, numbered when a kind repeats (``mlp``, ``mlp-2``)."""
    sections = [config.model, *(config.compare.models if config.compare else [])]
    named: list[tuple[str, Any]] = []
    seen: dict[str, int] = {}
    for section in sections:
        seen[section.kind] = seen.get(section.kind, 0) + 1
        count = seen[section.kind]
        named.append((section.kind if count == 1 else f"{section.kind}-{count}", section))
    return named


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def weights_size_bytes(model: torch.nn.Module) -> int:
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getbuffer().nbytes


def fit_deep(
    name: str,
    model_config: Any,
    config: ExperimentConfig,
    subset: Any,
    seed: int,
    fraction: float,
) -> FitRecord:
    """Train ``model_config`` (seeded by ``seed``) on the training rows of ``subset`` (a split
    whose training part is the learning-curve subset); measure it on those rows and on test."""
    run_config = config.model_copy(update={"seed": seed, "model": model_config})
    experiment = build_experiment(run_config, subset)
    trainer = experiment.trainer
    train = config.train
    best = BestWeights(train.monitor if experiment.valid_split is not None else "train_loss")
    trainer.set_callbacks([*experiment.callbacks, *config_callbacks(train), best])

    started = time.perf_counter()
    trainer.fit(experiment.train_split, experiment.valid_split)
    _sync(experiment.device)
    fit_time = time.perf_counter() - started
    if best.state is not None:
        experiment.module.load_state_dict(best.state)

    def metrics(split: Any) -> dict[str, float]:
        return {k: v for k, v in trainer.evaluate(split).items() if k != "loss"}

    return FitRecord(
        model=name,
        family="deep",
        seed=seed,
        fraction=fraction,
        n_train=len(subset.x_train),
        test=metrics(experiment.test_split),
        train=metrics(experiment.train_split),
        fit_time=fit_time,
        predict_ms_per_1000=predict_ms_per_1000(
            trainer.predict_outputs, experiment.test_split["x"], lambda: _sync(experiment.device)
        ),
        parameters=count_parameters(experiment.module),
        size_bytes=weights_size_bytes(experiment.module),
    )
