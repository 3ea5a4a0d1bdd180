"""Every paradigm in ``gradwise.tasks.TASKS`` has a tiny experiment in the suite's registry, so
the suite covers it; a paradigm still listed as pending fails once it is registered."""

from __future__ import annotations

from pathlib import Path

import pytest

import gradwise
from gradwise.tasks import TASKS
from tests.reliability.conftest import PARADIGMS, PENDING


def test_every_registered_task_has_a_reliability_case():
    shipped = {name for name in TASKS.names() if TASKS.get(name).__module__.startswith("gradwise.")}
    missing = sorted(shipped - set(PARADIGMS.names()) - PENDING)  # not paradigms of the tests
    assert not missing, (
        f"paradigms without a reliability case: {missing}; register a tiny experiment for "
        "each in tests/reliability/conftest.py (PARADIGMS)"
    )


def test_no_case_for_a_task_that_does_not_exist():
    assert set(PARADIGMS.names()) <= set(TASKS.names())


@pytest.mark.parametrize("name", sorted(PENDING))
def test_a_pending_paradigm_leaves_the_pending_list_once_registered(name: str):
    assert name not in PARADIGMS, f"{name} has a case now: remove it from PENDING"


def test_each_case_trains_with_shuffling_and_augmentation(tmp_path: Path, paradigm: str):
    config = gradwise.load_config(PARADIGMS.get(paradigm).config(tmp_path))
    assert config.task == paradigm and config.data.augment and config.train.epochs >= 3
    assert config.train.batch_size != "full"  # several batches: the order is shuffled
