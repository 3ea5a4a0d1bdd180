"""Every paradigm in ``gradwise.tasks.TASKS`` has a tiny experiment in the suite's registry, so
the suite covers it; a paradigm still listed as pending fails once it is registered."""

from __future__ import annotations

from pathlib import Path

import torch

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


def test_a_pending_paradigm_leaves_the_pending_list_once_registered():
    registered = sorted(PENDING & set(PARADIGMS.names()))
    assert not registered, f"{registered} have cases now: remove them from PENDING"


def test_each_case_trains_with_shuffling_and_augmentation(tmp_path: Path, paradigm: str):
    case = PARADIGMS.get(paradigm)
    config = gradwise.load_config(case.config(tmp_path))
    assert config.task == paradigm and config.train.epochs >= 3
    if TASKS.get(paradigm).needs_data:  # an agent's experience is its own (no rows to shuffle)
        assert config.data.augment and config.train.batch_size != "full"
        assert case.steps_per_epoch > 1  # several batches: the order is shuffled


def test_each_case_says_how_many_steps_an_epoch_takes(paradigm: str, trained_runs):
    """The non-finite cases poison a step by number; the case's count must be the run's."""
    case = PARADIGMS.get(paradigm)
    state = torch.load(trained_runs(paradigm) / "checkpoints/last.state.pt", weights_only=True)
    assert state["global_step"] == state["epoch"] * case.steps_per_epoch
