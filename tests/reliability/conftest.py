"""The reliability suite's paradigm registry, :data:`PARADIGMS`: each ``task:`` name → a tiny,
fast experiment.

Every case of the suite that applies to a paradigm runs over this registry, so a new paradigm
is covered by registering its case here (``test_registry.py`` fails until it is). A case's
factory takes a folder it may write data files into and returns an experiment dict that trains
in well under a second on one CPU thread, with shuffling and augmentation on where the paradigm
reads data (the kill/resume checks need both; an agent's experience is shuffled by its own
random streams). The case's other fields say what differs between paradigms — the command that
loads a run, the layers to poison, steps per epoch, whether there is a validation split — so
that no case branches on a paradigm's name; a case that cannot apply skips, saying why.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from gradwise.registry import Registry
from tests.conftest import merged

ConfigFactory = Callable[[Path], dict[str, Any]]
# sets one input value of the coming training step (trainer, its batch, the value) in place
InputPoison = Callable[[Any, dict[str, torch.Tensor], float], None]
QUIET = {"report": {"enabled": False}, "diagnose": {"enabled": False}}


@dataclass(frozen=True)
class Loading:
    """A command that loads a run's best weights (``gradwise ARGV``) and the file it writes
    (None: it writes none)."""

    argv: list[str]
    output: Path | None


# given the run and a folder for inputs and outputs
LoadCommand = Callable[[Path, Path], Loading]


def poison_features(trainer: Any, batch: dict[str, torch.Tensor], value: float) -> None:
    """The first input feature of the batch's first row (the batch the guard probes)."""
    batch["x"].view(-1)[0] = value


@dataclass(frozen=True)
class ParadigmCase:
    """A paradigm's tiny experiment, and what the suite needs to know about it (every case
    reads these fields instead of branching on the paradigm's name)."""

    config: ConfigFactory
    # the command a user runs on the finished run that loads its weights (predict, sample, ...)
    loads: LoadCommand
    # a leaf module the non-finite injections poison in training
    first_layer: str = "body.0"
    # the leaf module whose output evaluation reads (poisoned for a NaN validation loss)
    eval_layer: str | None = None  # None: first_layer
    # what the guard reports when an input or a layer's output turns NaN in training
    failure: str = "non-finite loss (nan)"
    # how a NaN input is injected, the first layer it reaches, and how the guard names it
    poison_input: InputPoison = poison_features
    input_layer: str = "flatten"
    input_name: str = "batch['x']"
    steps_per_epoch: int = 6  # training steps (batches) per epoch: 84 training rows / 16
    validation: bool = True  # the run has a validation split (valid_loss each epoch)
    # the paradigm's method that evaluates during training (its first argument the trainer)
    evaluation: str = "evaluate"

    @property
    def epoch_2_step(self) -> int:
        """The step the injections and signals hit: epoch 2's third (or last) step."""
        return self.steps_per_epoch + min(3, self.steps_per_epoch)

    @property
    def evaluated_layer(self) -> str:
        return self.eval_layer or self.first_layer


PARADIGMS: Registry[ParadigmCase] = Registry("reliability paradigm")

# Registered in TASKS by other work in progress; each moves from here to PARADIGMS when its
# tiny experiment is registered (a name left here once registered fails the suite).
PENDING: frozenset[str] = frozenset()


def experiment(source: str, **sections: Any) -> dict[str, Any]:
    """A tiny experiment: an MLP with one hidden layer, 4 epochs, batches of 16, on CPU, with
    per-batch noise augmentation and no report or diagnostics."""
    config: dict[str, Any] = {
        "name": "tiny",
        "seed": 0,
        "data": {"source": source, "augment": [{"gaussian_noise": 0.05}]},
        "model": {"kind": "mlp", "hidden": [8]},
        "train": {"epochs": 4, "batch_size": 16, "device": "cpu"},
        **QUIET,
    }
    return merged(config, sections)


def _table(folder: Path, name: str, target: np.ndarray, x: np.ndarray) -> Path:
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "color": _colors(len(x)), "y": target})
    path = folder / name
    frame.to_csv(path, index=False)
    return path


def _colors(n: int) -> np.ndarray:
    return np.array(["red", "green", "blue"])[np.arange(n) % 3]


def _features(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 2))


def classification_config(folder: Path) -> dict[str, Any]:
    x = _features(120, 0)
    label = np.where(x[:, 0] + 0.5 * x[:, 1] > 0, "yes", "no")
    path = _table(folder, "classes.csv", label, x)
    return experiment(str(path), task="classification", data={"target": "y"})


def regression_config(folder: Path) -> dict[str, Any]:
    x = _features(120, 1)
    path = _table(folder, "values.csv", 3.0 * x[:, 0] - x[:, 1] + 10.0, x)
    return experiment(str(path), task="regression", data={"target": "y"})


def new_rows(folder: Path) -> Path:
    """Rows to predict for the table paradigms (no target column)."""
    x = _features(5, 7)
    path = folder / "new_rows.csv"
    pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "color": _colors(5)}).to_csv(path, index=False)
    return path


def predicts(run: Path, folder: Path) -> Loading:
    """``gradwise predict RUN new_rows.csv -o predictions.csv``."""
    output = folder / "predictions.csv"
    return Loading(["predict", str(run), str(new_rows(folder)), "-o", str(output)], output)


def samples(run: Path, folder: Path) -> Loading:
    """``gradwise sample RUN -n 4 -o samples.csv`` (a table run: samples as rows)."""
    output = folder / "samples.csv"
    return Loading(["sample", str(run), "-n", "4", "-o", str(output)], output)


def embeds(run: Path, folder: Path) -> Loading:
    """``gradwise embed RUN -o embeddings.npy`` (the run's own test split)."""
    output = folder / "embeddings.npy"
    return Loading(["embed", str(run), "-o", str(output), "--clusters", "2"], output)


def plays(run: Path, folder: Path) -> Loading:
    """``gradwise play RUN --episodes 1`` (prints returns, writes no file)."""
    return Loading(["play", str(run), "--episodes", "1", "--json"], None)


PARADIGMS.register("classification")(ParadigmCase(classification_config, predicts))
PARADIGMS.register("regression")(ParadigmCase(regression_config, predicts))


def multitask_config(folder: Path) -> dict[str, Any]:
    x = _features(120, 2)
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "color": _colors(len(x))})
    frame["kind"] = np.where(x[:, 0] > 0, "yes", "no")
    frame["size"] = 2.0 * x[:, 1] + 1.0
    path = folder / "two_targets.csv"
    frame.to_csv(path, index=False)
    return experiment(str(path), data={"target": ["kind", "size"]})


PARADIGMS.register("multitask")(ParadigmCase(multitask_config, predicts))


def generative_config(task: str) -> ConfigFactory:
    """The table's inputs without labels (so sample quality is measured in a PCA space, not a
    classifier's, which would take longer than the training): 2 latent units, 2 k-means
    clusters (no silhouette search), a VAE sampling mixture of 2 components."""

    def config(folder: Path) -> dict[str, Any]:
        x = _features(120, 3)
        path = folder / "unlabelled.csv"
        pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "color": _colors(len(x))}).to_csv(
            path, index=False
        )
        settings = {"latent": 2, "clusters": 2, "prior_components": 2}
        return experiment(str(path), task=task, generative=settings)

    return config


AUTOENCODING = {"first_layer": "encoder.features.body.1", "input_layer": "encoder.features.body.0"}
PARADIGMS.register("autoencoder")(
    ParadigmCase(generative_config("autoencoder"), embeds, **AUTOENCODING)
)
PARADIGMS.register("vae")(ParadigmCase(generative_config("vae"), samples, **AUTOENCODING))
# the generator's first layer in training; validation samples from its moving average; the
# discriminator reads the data
PARADIGMS.register("gan")(
    ParadigmCase(
        generative_config("gan"),
        samples,
        first_layer="generator.body.body.0",
        eval_layer="generator_ema.body.body.0",
        input_layer="discriminator.features.body.0",
    )
)


def rl_config(folder: Path) -> dict[str, Any]:
    """PPO on CartPole-v1: 2 environments × 16 steps per epoch (iteration), 3 passes over the
    rollout in batches of 16; an evaluation of 2 episodes every 64 environment steps."""
    return {
        "name": "tiny",
        "seed": 0,
        "task": "rl",
        "env": {"id": "CartPole-v1", "num_envs": 2, "eval_every": 64, "eval_episodes": 2},
        "agent": {"name": "ppo", "n_steps": 16, "batch_size": 16, "n_epochs": 3},
        "model": {"kind": "mlp", "hidden": [8]},
        "train": {"epochs": 4, "device": "cpu"},
        **QUIET,
    }


def poison_observation(trainer: Any, batch: dict[str, torch.Tensor], value: float) -> None:
    """An agent's inputs are the observations it acts on, not the batch (one placeholder row)."""
    trainer.paradigm.collector.obs.view(-1)[0] = value


# one engine step per epoch (an iteration of the agent); no validation split (evaluations are
# episodes); a NaN is met first while collecting experience, before any loss
PARADIGMS.register("rl")(
    ParadigmCase(
        rl_config,
        plays,
        first_layer="policy.0",
        failure="non-finite policy logits",
        poison_input=poison_observation,
        input_layer="body",
        input_name="observations",
        steps_per_epoch=1,
        validation=False,
        evaluation="play",  # deterministic episodes every env.eval_every steps
    )
)


# ------------------------------------------------------------------------------- fixtures
@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread: None) -> None:
    """One torch thread: the tiny models train ~10x faster than with threads contending for
    two shared cores, and the kill/resume subprocesses use one thread too."""


@pytest.fixture(params=PARADIGMS.names())
def paradigm(request: pytest.FixtureRequest) -> str:
    """Each registered paradigm's name, in turn."""
    return request.param


@pytest.fixture(scope="session")
def trained_runs(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``trained(name)``: the paradigm's tiny run, trained once per session with a checkpoint
    every epoch (so ``last``, ``previous`` and ``best`` all exist)."""
    from tests.reliability import harness

    runs: dict[str, Path] = {}

    def trained(name: str) -> Path:
        if name not in runs:
            folder = tmp_path_factory.mktemp(f"trained-{name}")
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                config = PARADIGMS.get(name).config(folder)
                harness.train_segment(config, folder / "runs", folder / "log.jsonl")
            finally:
                torch.set_num_threads(threads)
            runs[name] = harness.only_run(folder / "runs")
        return runs[name]

    return trained


@pytest.fixture
def trained_run(paradigm: str, trained_runs: Callable[[str], Path], tmp_path: Path) -> Path:
    """A fresh copy of the paradigm's trained run, free to damage."""
    copy = tmp_path / "run"
    shutil.copytree(trained_runs(paradigm), copy)
    return copy


def one_line_error(status: int, err: str, *fragments: str) -> str:
    """Assert a command failed the way a user mistake must: exit status 2, one line on stderr,
    no traceback, naming every fragment; returns the line."""
    assert status == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("gradwise: error:")]
    assert len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def file_contents(folder: Path) -> dict[Path, bytes]:
    """Every file under ``folder`` and its bytes (to show that nothing changed)."""
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
