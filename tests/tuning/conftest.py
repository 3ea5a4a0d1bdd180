"""Trials in these tests train tiny models: one thread each is fastest, and keeps two test
processes from fighting over the cores."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread: None) -> None:
    """One torch thread for every test here (see tests/conftest.py)."""
