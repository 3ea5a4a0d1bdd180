"""Shared fixtures for the data-layer tests: an isolated cache, small example tables, and the
one-line check every data error must pass."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gradwise.config.schema import DataConfig
from gradwise.errors import DataError


def one_line(message: str) -> str:
    """``message``, after asserting it is one line (the CLI prints user errors as one line)."""
    assert message and "\n" not in message, f"not one line: {message!r}"
    return message


@contextmanager
def raises_one_line(
    match: str, error: type[Exception] = DataError
) -> Iterator[pytest.ExceptionInfo]:
    """``pytest.raises(error, match=match)`` that also requires a one-line message."""
    with pytest.raises(error, match=match) as caught:
        yield caught
    one_line(str(caught.value))


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Nothing a test does may write to the user's cache (~/.cache/gradwise)."""
    import sklearn.datasets  # noqa: F401  (imported once here, so per-test times are the tests')

    cache = tmp_path_factory.mktemp("gradwise-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADWISE_CACHE_DIR", str(cache))
        yield cache


def make_people(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """Mixed-type table: numeric, categorical, boolean and a constant column; label 'bought'."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 80, n).astype(float),
            "income": rng.normal(50_000, 15_000, n),
            "city": rng.choice(["Lyon", "Paris", "Nice"], n),
            "member": rng.choice([True, False], n),
            "country": ["FR"] * n,
            "bought": rng.choice(["no", "yes"], n, p=[0.6, 0.4]),
        }
    )


@pytest.fixture
def people() -> pd.DataFrame:
    return make_people()


@pytest.fixture
def people_csv(tmp_path: Path, people: pd.DataFrame) -> Path:
    path = tmp_path / "people.csv"
    people.to_csv(path, index=False)
    return path


@pytest.fixture
def config() -> Callable[..., DataConfig]:
    """``config(source, **keys)`` → a DataConfig (paths accepted)."""

    def make(source: str | Path, **keys: Any) -> DataConfig:
        return DataConfig(source=str(source), **keys)

    return make
