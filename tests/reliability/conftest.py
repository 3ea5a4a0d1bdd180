"""The reliability suite's paradigm registry, :data:`PARADIGMS`: each ``task:`` name → a tiny,
fast experiment.

Every case of the suite that applies to a paradigm runs over this registry, so a new paradigm
is covered by registering its factory here (``test_registry.py`` fails until it is). A factory
takes a folder it may write data files into and returns an experiment dict that trains in well
under a second on one CPU thread, with shuffling and augmentation on (the kill/resume checks
need both).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from gradwise.registry import Registry
from tests.conftest import merged

ConfigFactory = Callable[[Path], dict[str, Any]]
QUIET = {"report": {"enabled": False}, "diagnose": {"enabled": False}}


@dataclass(frozen=True)
class ParadigmCase:
    """A paradigm's tiny experiment, and what the suite needs to know about it."""

    config: ConfigFactory
    # a CSV of new input rows for predict (None: the paradigm takes no input rows)
    predict_rows: Callable[[Path], Path] | None = None
    # the model layer the non-finite injections poison (a leaf module name)
    first_layer: str = "body.0"
    tags: frozenset[str] = field(default_factory=frozenset)


PARADIGMS: Registry[ParadigmCase] = Registry("reliability paradigm")

# Registered in TASKS by other work in progress; each moves from here to PARADIGMS when its
# tiny experiment is registered (a name left here once registered fails the suite).
PENDING = frozenset({"rl", "autoencoder", "vae", "gan"})


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


PARADIGMS.register("classification")(
    ParadigmCase(classification_config, new_rows, tags=frozenset({"classes"}))
)
PARADIGMS.register("regression")(ParadigmCase(regression_config, new_rows))


def multitask_config(folder: Path) -> dict[str, Any]:
    x = _features(120, 2)
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "color": _colors(len(x))})
    frame["kind"] = np.where(x[:, 0] > 0, "yes", "no")
    frame["size"] = 2.0 * x[:, 1] + 1.0
    path = folder / "two_targets.csv"
    frame.to_csv(path, index=False)
    return experiment(str(path), data={"target": ["kind", "size"]})


PARADIGMS.register("multitask")(ParadigmCase(multitask_config, new_rows))


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
