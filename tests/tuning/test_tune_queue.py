"""The trial queue: exactly ``trials`` trials, each claimed once, however many workers ask;
an interrupted trial goes back with its parameters; a study grows when asked for more."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from gradwise.errors import ConfigError
from gradwise.tuning import study as study_module
from gradwise.tuning.plan import plan_study
from gradwise.tuning.study import StudyQueue, open_storage, open_study, quiet_optuna
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
    samplers = {  # a KeyError when a sampler is added to the parametrization without its class
        "grid": optuna.samplers.GridSampler,
        "qmc": optuna.samplers.QMCSampler,
        "tpe": optuna.samplers.TPESampler,
        "random": optuna.samplers.RandomSampler,
        "cmaes": optuna.samplers.CmaEsSampler,
    }
    pruners = {
        "median": optuna.pruners.MedianPruner,
        "hyperband": optuna.pruners.HyperbandPruner,
        "none": optuna.pruners.NopPruner,
    }
    assert isinstance(queue.study.sampler, samplers[sampler])
    assert isinstance(queue.study.pruner, pruners[pruner])
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


def test_resuming_with_another_space_is_one_error_before_any_trial(tmp_path: Path):
    plan = plan_for(tmp_path, 2)
    queue_for(plan)
    same = {"train.optimizer.lr": {"log": True, "high": 0.1, "low": 1e-4}}  # written otherwise
    queue_for(plan_study(tiny_config("sklearn:iris", tune={"space": same}), trials=2, out=tmp_path))
    grown = {**SPACE, "model.dropout": {"low": 0.0, "high": 0.5}}
    config = tiny_config("sklearn:iris", tune={"space": grown})
    with pytest.raises(ConfigError) as caught:
        queue_for(plan_study(config, trials=3, out=tmp_path))
    message = str(caught.value)
    assert "\n" not in message and message.startswith("tune.space differs")
    assert "added model.dropout" in message and "new --study name" in message
    study = optuna.load_study(study_name=plan.study, storage=plan.storage)
    assert len(study.trials) == 2  # not topped up to 3


def test_a_running_trial_that_never_named_its_worker_is_requeued_once_stale(
    tmp_path: Path, monkeypatch
):
    monkeypatch.setattr(study_module, "STALE_SECONDS", 1)
    queue = queue_for(plan_for(tmp_path, 2))
    # a worker killed between claiming the trial and recording its host, pid and heartbeat
    queue.storage.set_trial_state_values(queue.trial_id(0), TrialState.RUNNING)
    assert queue.requeue_orphans() == 0  # it may still be about to name itself
    time.sleep(1.2)
    assert queue.requeue_orphans() == 1
    assert queue.study.get_trials(deepcopy=False)[0].state == TrialState.WAITING


def test_a_trial_whose_heartbeat_stopped_on_another_machine_is_requeued(
    tmp_path: Path, monkeypatch
):
    monkeypatch.setattr(study_module, "HEARTBEAT_SECONDS", 1)
    monkeypatch.setattr(study_module, "STALE_SECONDS", 1)
    queue = queue_for(plan_for(tmp_path, 2))
    trial = queue.claim()  # records its first heartbeat
    trial.set_user_attr("host", "another-machine")  # whose worker then died: no more beats
    assert queue.requeue_orphans() == 0
    time.sleep(2.5)  # the storage's clock counts whole seconds
    assert queue.requeue_orphans() == 1
    again = queue.claim()
    assert again.number == trial.number
    again.set_user_attr("host", "another-machine")
    assert queue.requeue_orphans() == 0  # claimed anew: its old heartbeat does not count


def test_a_worker_that_finds_the_queue_empty_requeues_stale_trials_first(tmp_path: Path):
    queue = queue_for(plan_for(tmp_path, 1))
    trial = queue.claim()
    trial.set_user_attr("pid", 2**22 + 12345)  # died on this machine
    assert queue.claim().number == trial.number


def test_top_ups_to_different_counts_at_once_end_at_the_largest(tmp_path: Path):
    plan = plan_for(tmp_path, 3)
    queue_for(plan)
    errors: list[BaseException] = []

    def join(trials: int) -> None:
        try:
            bigger = plan_for(tmp_path, trials)
            open_study(bigger, open_storage(bigger.storage))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=join, args=(n,)) for n in (5, 7, 6, 7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    study = optuna.load_study(study_name=plan.study, storage=plan.storage)
    assert len(study.trials) == 7 and study.user_attrs["gradwise.trials"] == 7
    assert [s.study_name for s in optuna.get_all_study_summaries(plan.storage)] == [plan.study]


@pytest.mark.parametrize("locked_hours_ago", [1, None], ids=["old-lock", "lock-without-time"])
def test_a_top_up_lock_left_by_a_crash_goes_stale(tmp_path: Path, monkeypatch, locked_hours_ago):
    monkeypatch.setattr(study_module, "LOCK_STALE_SECONDS", 0.5)
    plan = plan_for(tmp_path, 3)
    queue_for(plan)
    marker = optuna.create_study(storage=plan.storage, study_name=plan.study + ":gradwise-top-up")
    if locked_hours_ago is not None:
        marker.set_user_attr("gradwise.locked_at", time.time() - 3600 * locked_hours_ago)
    queue_for(plan_for(tmp_path, 5))
    study = optuna.load_study(study_name=plan.study, storage=plan.storage)
    assert len(study.trials) == 5
    assert [s.study_name for s in optuna.get_all_study_summaries(plan.storage)] == [plan.study]


def test_a_trial_whose_worker_dies_twice_is_failed_not_requeued(tmp_path: Path):
    queue = queue_for(plan_for(tmp_path, 1))
    for _ in range(2):
        trial = queue.claim()
        trial.set_user_attr("pid", 2**22 + 12345)  # killed, e.g. for memory, each time
        assert queue.requeue_orphans() == 1
    (trial,) = queue.study.get_trials(deepcopy=False)
    assert trial.state == TrialState.FAIL and trial.user_attrs["orphaned"] == 2
    assert trial.user_attrs["error"] == "its worker died 2 times while running it"
    assert queue.claim() is None
