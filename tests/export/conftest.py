"""These tests train and run tiny models: one torch thread each is fastest on shared cores
(two threads spin-wait on each other when the machine is busy)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread: None) -> None:
    """One torch thread for every test here (see tests/conftest.py)."""
