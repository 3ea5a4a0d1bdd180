"""The trial queue: exactly ``trials`` trials, each claimed once, however many workers ask;
an interrupted trial goes back with its parameters; a study grows when asked for more."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from gradwise.errors import ConfigError
from gradwise.tune.plan import plan_study
from gradwise.tune.study import StudyQueue, open_storage, open_study, quiet_optuna
from tests.conftest import tiny_config

SPACE = {"train.optimizer.lr": {"type": "float", "low": 1e-4, "high": 0.1, "log": True}}


def plan_for(tmp_path: Path, trials: int, **tune):
    config = tiny_config("sklearn:iris", tune={"space": SPACE, **tune})
    return plan_study(config, trials=trials, out=tmp_path)


def queue_for(plan) -> StudyQueue:
    quiet_optuna()
    plan.study_dir.mkdir(parents=True, exist_ok=True)
    return open_study(plan, open_storage(plan.storage))


def test_the_creator_fills_the_queue_and_claims_run_out_exactly(tmp_path: Path):
    queue = queue_for(plan_for(tmp_path, 5))
    states = [t.state for t in queue.study.get_trials(deepcopy=False)]
    assert states == [TrialState.WAITING] * 5
    claimed = []
    while (trial := queue.claim()) is not None:
        trial.suggest_float("train.optimizer.lr", 1e-4, 0.1, log=True)
        claimed.append(trial.number)
        queue.study.tell(trial, 0.5)
    assert claimed == [0, 1, 2, 3, 4]
    assert len(queue.study.trials) == 5  # claiming never creates a trial


def test_concurrent_workers_claim_each_trial_once(tmp_path: Path):
    plan = plan_for(tmp_path, 12)
    queue_for(plan)
    claimed: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:  # its own storage connection, as a separate process would have
        try:
            queue = open_study(plan, open_storage(plan.storage))  # joins: the study exists
            while (trial := queue.claim()) is not None:
                with lock:
                    claimed.append(trial.number)
                queue.study.tell(trial, float(trial.number))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(claimed) == list(range(12))  # none twice, none lost
    study = optuna.load_study(study_name=plan.study, storage=plan.storage)
    assert len(study.trials) == 12
    assert all(t.state == TrialState.COMPLETE for t in study.trials)


def test_a_requeued_trial_keeps_its_parameters(tmp_path: Path):
    queue = queue_for(plan_for(tmp_path, 2))
    trial = queue.claim()
    lr = trial.suggest_float("train.optimizer.lr", 1e-4, 0.1, log=True)
    queue.requeue(trial.number)
    again = queue.claim()
    assert again.number == trial.number
    assert again.suggest_float("train.optimizer.lr", 1e-4, 0.1, log=True) == lr


def test_orphans_of_dead_local_processes_are_requeued(tmp_path: Path):
    queue = queue_for(plan_for(tmp_path, 2))
    trial = queue.claim()
    trial.set_user_attr("pid", 2**22 + 12345)  # no such process
    alive = queue.claim()  # claimed by this (living) process
    assert queue.requeue_orphans() == 1
    states = {t.number: t.state for t in queue.study.get_trials(deepcopy=False)}
    assert states == {trial.number: TrialState.WAITING, alive.number: TrialState.RUNNING}
    assert alive.user_attrs["pid"] == os.getpid()


def test_asking_for_more_trials_grows_the_queue_once(tmp_path: Path):
    plan = plan_for(tmp_path, 3)
    queue_for(plan)
    bigger = plan_for(tmp_path, 5)
    for _ in range(3):  # several processes joining with the same request add 2, not 6
        queue_for(bigger)
    study = optuna.load_study(study_name=plan.study, storage=plan.storage)
    assert len(study.trials) == 5
    assert study.user_attrs["gradwise.trials"] == 5
    assert [s.study_name for s in optuna.get_all_study_summaries(plan.storage)] == [plan.study]
    # asking for fewer runs fewer, leaving the rest queued
    smaller = queue_for(plan_for(tmp_path, 2))
    assert [smaller.claim() is not None for _ in range(3)] == [True, True, False]


def test_joining_with_another_objective_is_an_error(tmp_path: Path):
    queue_for(plan_for(tmp_path, 2))
    with pytest.raises(ConfigError, match=r"optimizes valid_accuracy \(maximize\), not valid_loss"):
        queue_for(plan_for(tmp_path, 2, metric="valid_loss"))


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("nosuchdb://x", "no database driver"),
        ("sqlite:////nonexistent/dir/study.db", "cannot open the database"),
        ("::not a url::", "not a database URL"),
    ],
)
def test_a_bad_storage_url_is_one_clear_error(url: str, fragment: str):
    with pytest.raises(ConfigError, match=fragment):
        open_storage(url)


def test_storage_errors_hide_the_password():
    with pytest.raises(ConfigError) as caught:
        open_storage("postgresql+psycopg2://user:secret@127.0.0.1:1/db")
    assert "secret" not in str(caught.value) and "***" in str(caught.value)


@pytest.mark.parametrize(
    ("sampler", "pruner"),
    [(name, "median") for name in ("tpe", "random", "grid", "cmaes", "qmc")]
    + [("tpe", "hyperband"), ("tpe", "none")],
)
def test_every_sampler_and_pruner_runs_trials(tmp_path: Path, sampler: str, pruner: str):
    import importlib.util

    space = {
        "model.dropout": {"low": 0.0, "high": 0.4, "step": 0.1},
        "model.norm": ["none", "batch"],
    }
    plan = plan_study(
        tiny_config("sklearn:iris", tune={"space": space, "sampler": sampler, "pruner": pruner}),
        trials=4,
        out=tmp_path,
    )
    if sampler == "cmaes" and importlib.util.find_spec("cmaes") is None:
        with pytest.raises(ConfigError, match=r"cmaes needs the 'cmaes' package"):
            queue_for(plan)
        return
    queue = queue_for(plan)
    expected = {
        "grid": optuna.samplers.GridSampler,
        "qmc": optuna.samplers.QMCSampler,
        "tpe": optuna.samplers.TPESampler,
        "random": optuna.samplers.RandomSampler,
    }
    assert isinstance(queue.study.sampler, expected.get(sampler, optuna.samplers.BaseSampler))
    seen = set()
    while (trial := queue.claim()) is not None:
        values = (
            trial.suggest_float("model.dropout", 0.0, 0.4, step=0.1),
            trial.suggest_categorical("model.norm", ["none", "batch"]),
        )
        seen.add(values)
        for epoch in (1, 2):
            trial.report(values[0], epoch)
            trial.should_prune()
        queue.study.tell(trial, values[0])
    assert len(queue.study.trials) == 4
    if sampler == "grid":
        assert len(seen) == 4  # no grid point twice


def test_studies_with_other_seeds_draw_other_values(tmp_path: Path):
    def proposals(seed: int) -> set[float]:
        folder = tmp_path / str(len(list(tmp_path.iterdir())))  # a new study each time
        queue = queue_for(plan_for(folder, 6, seed=seed, sampler="random"))
        drawn = set()
        while (trial := queue.claim()) is not None:
            drawn.add(trial.suggest_float("train.optimizer.lr", 1e-4, 0.1, log=True))
            queue.study.tell(trial, 0.0)
        return drawn

    first = proposals(0)
    assert len(first) == 6 and proposals(0) == first  # reproducible
    assert not first & proposals(1)  # a nearby seed shares no proposal
