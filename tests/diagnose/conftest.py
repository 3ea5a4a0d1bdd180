"""Shared fixtures of the diagnosis tests: one torch thread (two pytest workers share two cores,
and oversubscribed OpenMP threads make tiny models many times slower), and trained runs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import gradwise
from gradwise.errors import TrainingError


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def train_case(config: dict[str, Any], out: Path) -> Path:
    """Train ``config`` under ``out``; a run stopped by a non-finite loss is returned too."""
    before = set(out.iterdir()) if out.exists() else set()
    try:
        return gradwise.train(config, out=out).path
    except TrainingError:
        (created,) = [p for p in out.iterdir() if p not in before]
        return created


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Callable[[dict[str, Any]], Path]:
    """``trained(config)``: the run directory of ``config``, trained once per test module."""
    out = tmp_path_factory.mktemp("runs")
    cache: dict[str, Path] = {}

    def get(config: dict[str, Any]) -> Path:
        key = repr(config)
        if key not in cache:
            cache[key] = train_case(config, out)
        return cache[key]

    return get
