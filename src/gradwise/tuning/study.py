"""The Optuna study: storage and the trial queue.

The queue is what makes ``trials`` exact across any number of workers and machines. The
process that creates the study adds ``trials`` waiting trials; a worker claims one by moving it
from WAITING to RUNNING, which the storage does under a row lock, so two workers never claim the
same trial and no worker ever creates one. A worker that is interrupted puts its trial back
(WAITING, its parameters kept), so a later ``gradwise tune`` runs it again: the study resumes
where it stopped and still ends with exactly ``trials`` trials.

A worker that dies without that chance (killed, its machine gone) leaves its trial RUNNING. Each
worker records a heartbeat for its trial every ``HEARTBEAT_SECONDS`` (Optuna's RDB heartbeat);
a RUNNING trial whose heartbeat is older than ``STALE_SECONDS``, or that never said which
process runs it, goes back to the queue when a worker next looks for work or ``gradwise tune``
next starts or ends. On the worker's own machine a dead process is noticed at once.

Samplers and pruners by name: :mod:`gradwise.tuning.samplers`.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import socket
import time
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import optuna
from optuna.trial import TrialState

from gradwise._background import every
from gradwise.config.tune import ParamSpec
from gradwise.errors import ConfigError
from gradwise.tuning.plan import TunePlan
from gradwise.tuning.samplers import PRUNERS, trial_sampler

BUDGET_ATTR = "gradwise.trials"  # study user attribute: the trials the queue was filled to
METRIC_ATTR = "gradwise.metric"
SPACE_ATTR = "gradwise.space"  # the study's tune.space, as canonical JSON
BUDGET_WAIT_SECONDS = 60.0  # how long a joining worker waits for the creator to fill the queue
HEARTBEAT_SECONDS = 30  # a running trial's worker records a heartbeat this often
STALE_SECONDS = 120  # a running trial silent this long has lost its worker
ORPHAN_LIMIT = 2  # a trial whose worker died this many times is marked failed, not requeued
LOCK_SUFFIX = ":gradwise-top-up"  # the study that marks a queue top-up in progress
LOCK_TIME_ATTR = "gradwise.locked_at"  # when the marker was made (time.time())
LOCK_STALE_SECONDS = 120.0  # a marker this old was left by a process that crashed


def quiet_optuna() -> None:
    """Optuna's own log lines and experimental-feature warnings would drown the progress."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", module="optuna")


# -------------------------------------------------------------------------------- storage
def shown_url(url: str) -> str:
    """The storage URL with its password hidden (for messages and tune.json)."""
    import sqlalchemy

    return sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)


def open_storage(url: str) -> optuna.storages.BaseStorage:
    """An SQLAlchemy URL as an Optuna storage (with heartbeats for running trials); a wrong URL
    or an unreachable server is a :class:`ConfigError` naming the URL (password hidden)."""
    import sqlalchemy

    try:
        shown = shown_url(url)
    except sqlalchemy.exc.ArgumentError:
        raise ConfigError(
            f"--storage {url!r}: not a database URL (expected e.g. sqlite:///study.db or "
            "postgresql://user:password@host:5432/db)"
        ) from None
    sqlite = url.startswith("sqlite")
    engine = SQLITE_ENGINE if sqlite else {"pool_pre_ping": True}
    try:
        with warnings.catch_warnings():  # the heartbeat is "experimental" since Optuna 2.9
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            rdb = optuna.storages.RDBStorage(
                url,
                engine_kwargs=engine,
                heartbeat_interval=HEARTBEAT_SECONDS,
                grace_period=STALE_SECONDS,
            )
    except (ImportError, sqlalchemy.exc.NoSuchModuleError) as exc:
        raise ConfigError(f"--storage {shown}: no database driver for it ({exc})") from None
    except sqlalchemy.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise ConfigError(f"--storage {shown}: cannot open the database ({reason})") from None
    if sqlite:
        sqlalchemy.event.listen(rdb.engine, "begin", _begin_immediate)
    return optuna.storages.get_storage(rdb)


# SQLite: several processes share one file. The driver's own transactions start only at the
# first write, so "read WAITING, then set RUNNING" would not be atomic and two workers could
# claim one trial; every transaction therefore takes the write lock when it begins (BEGIN
# IMMEDIATE; the driver's implicit BEGIN is turned off), and waits for it instead of failing.
SQLITE_ENGINE: dict[str, Any] = {"connect_args": {"timeout": 300, "isolation_level": None}}


def _begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def open_study(plan: TunePlan, storage: optuna.storages.BaseStorage) -> StudyQueue:
    """Create the study and fill its queue, or join the existing one (resuming it, and
    topping its queue up when ``plan.trials`` asks for more trials than it had)."""
    pruner = PRUNERS.get(plan.tune.pruner)(plan)
    sampler = trial_sampler(plan, 0)
    try:
        study = optuna.create_study(
            storage=storage,
            study_name=plan.study,
            direction=plan.direction,
            sampler=sampler,
            pruner=pruner,
        )
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(
            study_name=plan.study, storage=storage, sampler=sampler, pruner=pruner
        )
        queue = StudyQueue(study, storage, plan)
        queue.budget()  # a study just created by another process: wait for its attributes
        queue.check_same_objective()
        queue.check_same_space()
        queue.top_up()
        return queue
    study.set_user_attr(METRIC_ATTR, plan.metric)
    study.set_user_attr(SPACE_ATTR, space_json(plan.tune.space))
    study.set_user_attr(BUDGET_ATTR, plan.trials)  # last, before the queue: joiners wait for it
    queue = StudyQueue(study, storage, plan)
    queue.enqueue(plan.trials)
    return queue


def space_json(searched: Mapping[str, ParamSpec]) -> str:
    """The search space as canonical JSON: the same text for the same space however written
    (``[a, b]`` or ``{type: categorical, choices: [a, b]}``, any key order)."""
    document = {key: spec.model_dump(mode="json") for key, spec in searched.items()}
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


class StudyQueue:
    """A study seen as a queue of waiting trials that workers claim one at a time."""

    def __init__(
        self, study: optuna.Study, storage: optuna.storages.BaseStorage, plan: TunePlan
    ) -> None:
        self.study = study
        self.storage = storage
        self.plan = plan
        self.study_id = storage.get_study_id_from_name(study.study_name)

    def trial_id(self, number: int) -> int:
        return self.storage.get_trial_id_from_study_id_trial_number(self.study_id, number)

    def check_same_objective(self) -> None:
        plan = self.plan
        direction = self.study.direction.name.lower()
        metric = self.study.user_attrs.get(METRIC_ATTR, plan.metric)
        if direction != plan.direction or metric != plan.metric:
            raise ConfigError(
                f"study '{plan.study}' in {shown_url(plan.storage)} optimizes {metric} "
                f"({direction}), not {plan.metric} ({plan.direction}); choose another --study "
                "name or --out folder"
            )

    def check_same_space(self) -> None:
        """A study's trials share one search space: best.yaml, the leaderboard and the plots
        read every trial's parameters by the space's keys (a study made without gradwise, or by
        a version that did not record its space, is not checked)."""
        recorded = self.study.user_attrs.get(SPACE_ATTR)
        if recorded is None or recorded == space_json(self.plan.tune.space):
            return
        before, now = json.loads(recorded), json.loads(space_json(self.plan.tune.space))
        changes = [f"added {k}" for k in now if k not in before]
        changes += [f"removed {k}" for k in before if k not in now]
        changes += [f"changed {k}" for k in now if k in before and before[k] != now[k]]
        raise ConfigError(
            f"tune.space differs from the one study '{self.plan.study}' in "
            f"{shown_url(self.plan.storage)} was created with ({', '.join(changes)}); use a new "
            "--study name (or --out folder) for the new space, or the study's own tune.space"
        )

    def enqueue(self, count: int) -> None:
        for _ in range(count):
            self.study.add_trial(optuna.trial.create_trial(state=TrialState.WAITING))

    def budget(self) -> int:
        """The trials the queue was filled to (a study made without gradwise: its trials)."""
        deadline = time.monotonic() + BUDGET_WAIT_SECONDS
        while True:
            attrs = self.study.user_attrs
            if BUDGET_ATTR in attrs:
                return int(attrs[BUDGET_ATTR])
            trials = len(self.study.get_trials(deepcopy=False))
            if trials or time.monotonic() > deadline:
                return trials
            time.sleep(0.2)  # just created by another process, which sets the budget next

    def top_up(self) -> None:
        """Grow the queue to ``plan.trials``. Several processes may ask at once, for different
        counts; they take turns holding one lock (a marker study: study names are unique in a
        storage), and each adds only what the queue still lacks."""
        trials = self.plan.trials
        if trials <= self.budget():
            return
        with self._top_up_lock():
            if trials <= self.budget():
                return  # grown by the process that held the lock before
            self.study.set_user_attr(BUDGET_ATTR, trials)
            self.enqueue(trials - len(self.study.get_trials(deepcopy=False)))

    @contextlib.contextmanager
    def _top_up_lock(self) -> Iterator[None]:
        """Hold the study's top-up marker; a marker older than ``LOCK_STALE_SECONDS`` was
        left by a process that crashed while holding it, and is removed."""
        name = self.study.study_name + LOCK_SUFFIX
        first_seen: float | None = None
        while True:
            try:
                marker = self.storage.create_new_study([optuna.study.StudyDirection.MINIMIZE], name)
                break
            except optuna.exceptions.DuplicatedStudyError:
                pass
            try:
                holder = self.storage.get_study_id_from_name(name)
                locked_at = self.storage.get_study_user_attrs(holder).get(LOCK_TIME_ATTR)
            except KeyError:
                continue  # released in between
            first_seen = first_seen or time.time()  # a marker whose maker died before its time
            if time.time() - float(locked_at or first_seen) > LOCK_STALE_SECONDS:
                with contextlib.suppress(KeyError):  # another waiter removed it first
                    self.storage.delete_study(holder)
                continue
            time.sleep(0.2)
        try:
            self.storage.set_study_user_attr(marker, LOCK_TIME_ATTR, time.time())
            yield
        finally:
            with contextlib.suppress(KeyError):
                self.storage.delete_study(marker)

    def claim(self) -> optuna.Trial | None:
        """Move one waiting trial to RUNNING and return it; None when every trial of the
        study has started (or ``plan.trials`` of them, when this process asked for fewer)."""
        deadline = time.monotonic() + BUDGET_WAIT_SECONDS
        while True:
            trials = self.storage.get_all_trials(self.study_id, deepcopy=False)
            started = [t for t in trials if t.state != TrialState.WAITING]
            if len(started) >= self.plan.trials:
                if self.requeue_orphans():
                    continue  # a trial whose worker is gone is waiting again
                return None
            for waiting in (t for t in trials if t.state == TrialState.WAITING):
                trial_id = self.trial_id(waiting.number)
                try:
                    if not self.storage.set_trial_state_values(trial_id, TrialState.RUNNING):
                        continue  # another worker claimed it first
                except optuna.exceptions.UpdateFinishedTrialError:
                    continue
                # the heartbeat first: a worker killed before it names itself below still
                # leaves a trial that goes stale (a requeued trial's old heartbeat is refreshed)
                self._beat(trial_id)
                self.study.sampler = trial_sampler(self.plan, waiting.number)
                trial = optuna.Trial(self.study, trial_id)
                trial.set_user_attr("host", socket.gethostname())
                trial.set_user_attr("pid", os.getpid())
                return trial
            if len(trials) >= self.budget() or time.monotonic() > deadline:
                return None
            time.sleep(0.5)  # another process is still filling the queue

    def _beat(self, trial_id: int) -> None:
        if _heartbeat_interval(self.storage) is not None:
            self.storage.record_heartbeat(trial_id)  # type: ignore[attr-defined]

    @contextlib.contextmanager
    def heartbeat(self, trial: optuna.Trial) -> Iterator[None]:
        """Record the trial's heartbeat every ``HEARTBEAT_SECONDS`` while the block runs."""
        interval = _heartbeat_interval(self.storage)
        if interval is None:
            yield
            return
        trial_id = self.trial_id(trial.number)

        def beat() -> None:
            # a failed beat (the server briefly unreachable) is retried at the next one
            with contextlib.suppress(Exception):
                self.storage.record_heartbeat(trial_id)  # type: ignore[attr-defined]

        with every(interval, beat, name=f"heartbeat-{trial.number}", now=False):
            yield

    def requeue(self, number: int) -> None:
        """Put a started trial back in the queue, its parameters kept."""
        with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):
            self.storage.set_trial_state_values(self.trial_id(number), TrialState.WAITING)

    def fail(self, number: int, reason: str) -> None:
        """Mark a started trial failed, with ``reason`` as its ``error`` attribute."""
        trial_id = self.trial_id(number)
        with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):
            self.storage.set_trial_user_attr(trial_id, "error", reason)
            self.storage.set_trial_state_values(trial_id, TrialState.FAIL)

    def running(self) -> list[optuna.trial.FrozenTrial]:
        return self.storage.get_all_trials(
            self.study_id, deepcopy=False, states=(TrialState.RUNNING,)
        )

    def requeue_orphans(self) -> int:
        """Put back the RUNNING trials whose worker is gone (fail them the ``ORPHAN_LIMIT``-th
        time); returns how many. Gone: a process
        on this machine that no longer exists; or, once the trial started ``STALE_SECONDS``
        ago, a worker whose heartbeat stopped that long ago (on any machine), or one that died
        before recording its host and pid."""
        host = socket.gethostname()
        stale = {self.storage.get_trial(i).number for i in _stale_trial_ids(self)}
        now = datetime.datetime.now()  # the clock datetime_start was recorded with
        orphans = []
        for trial in self.running():
            pid = trial.user_attrs.get("pid")
            if trial.user_attrs.get("host") == host and pid is not None:
                gone = not _alive(int(pid))
            else:
                started = trial.datetime_start
                old = started is None or (now - started).total_seconds() > STALE_SECONDS
                gone = old and (pid is None or trial.number in stale)
            if gone:
                orphans.append(trial)
        # requeue only what is still as seen: a trial requeued and claimed again meanwhile
        # (by a worker that also saw it stale) has a new start time
        current = {t.number: t.datetime_start for t in self.running()}
        requeued = 0
        for trial in orphans:
            if trial.number not in current or current[trial.number] != trial.datetime_start:
                continue
            deaths = int(trial.user_attrs.get("orphaned", 0)) + 1
            self.storage.set_trial_user_attr(self.trial_id(trial.number), "orphaned", deaths)
            if deaths >= ORPHAN_LIMIT:  # e.g. killed for memory each time: it would recur
                self.fail(trial.number, f"its worker died {deaths} times while running it")
            else:
                self.requeue(trial.number)
            requeued += 1
        return requeued


def _heartbeat_interval(storage: optuna.storages.BaseStorage) -> int | None:
    get = getattr(storage, "get_heartbeat_interval", None)
    return get() if get is not None else None


def _stale_trial_ids(queue: StudyQueue) -> list[int]:
    """The RUNNING trials whose heartbeat is older than the storage's grace period (the
    storage's own clock: machines' clocks need not agree). What ``optuna.storages.
    fail_stale_trials`` fails; here they go back to the queue instead, keeping ``trials``."""
    if _heartbeat_interval(queue.storage) is None:
        return []
    return queue.storage._get_stale_trial_ids(queue.study_id)  # type: ignore[attr-defined]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
