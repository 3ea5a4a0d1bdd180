"""Start N copies of a gradwise module through torchrun's launcher.

``torch.distributed.launcher.elastic_launch`` is what the ``torchrun`` command runs: it starts
``nproc`` processes per machine with the rendezvous environment set (``RANK``, ``WORLD_SIZE``,
``MASTER_ADDR``...), watches them, and stops them all when one fails. ``gradwise train --nproc``
launches ``python -m gradwise.cli.main train ...`` through it, and ``gradwise tune --nproc``
launches each trial's training (:mod:`gradwise.tuning.parallel`) the same way.

Two things are put back as they were when the launch returns, so that a long-lived caller (a
tune worker that launches one trial after another) is not changed by it: the environment, and
the handlers of the signals the launcher takes over (it turns SIGINT/SIGTERM into its own
``SignalException``; here that becomes the ``KeyboardInterrupt`` the rest of gradwise expects).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

# what the launcher handles while it runs (its TORCHELASTIC_SIGNALS_TO_HANDLE default)
LAUNCHER_SIGNALS = ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT")
LAUNCHER_LOGGER = "torch.distributed.elastic"


@dataclass(frozen=True)
class Launch:
    """Where the processes meet and how many there are."""

    nproc: int  # processes on this machine
    nnodes: int = 1  # machines taking part
    rdzv_endpoint: str | None = None  # HOST:PORT of a multi-machine rendezvous; None: local
    rdzv_id: str | None = None  # the same name on every machine; None: a fresh one


def launch_module(
    module: str, argv: list[str], launch: Launch, env: Mapping[str, str] | None = None
) -> dict[int, int]:
    """Run ``python -m module *argv`` in ``launch.nproc`` processes on this machine (with
    ``env`` added to their environment); returns ``{global rank: exit status}`` of the processes
    that failed (a negative status: killed by that signal), empty when all succeeded."""
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    # the processes say what went wrong themselves; the launcher's own log would repeat it
    # (its modules' loggers carry levels of their own: each is quietened)
    for name in [LAUNCHER_LOGGER, *logging.root.manager.loggerDict]:
        if name.startswith(LAUNCHER_LOGGER):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    config = LaunchConfig(
        min_nodes=launch.nnodes,
        max_nodes=launch.nnodes,
        nproc_per_node=launch.nproc,
        run_id=launch.rdzv_id or str(uuid.uuid4()),
        rdzv_backend="c10d",
        rdzv_endpoint=launch.rdzv_endpoint or "localhost:0",
        max_restarts=0,
        monitor_interval=0.1,
    )
    try:
        with _environment(env or {}), _signals_restored():
            elastic_launch(config, sys.executable)("-m", module, *argv)
    except ChildFailedError as exc:
        return {rank: failure.exitcode for rank, failure in sorted(exc.failures.items())}
    return {}


def first_failure(failures: Mapping[int, int]) -> int:
    """The exit status a launcher reports: the first positive one, else 1 (killed); 0 if none."""
    if not failures:
        return 0
    return next((code for code in failures.values() if code > 0), 1)


def thread_environment(processes: int) -> dict[str, str]:
    """``OMP_NUM_THREADS`` for one of ``processes`` processes sharing this machine's cores;
    nothing when the user set it (their choice wins)."""
    if "OMP_NUM_THREADS" in os.environ:
        return {}
    return {"OMP_NUM_THREADS": str(max(1, (os.cpu_count() or 1) // processes))}


@contextlib.contextmanager
def _environment(extra: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _signals_restored() -> Iterator[None]:
    """The caller's signal handlers again after the launch; the launcher's ``SignalException``
    (its processes already stopped) raised as ``KeyboardInterrupt``."""
    from torch.distributed.elastic.multiprocessing.api import SignalException

    numbers = [getattr(signal, name) for name in LAUNCHER_SIGNALS if hasattr(signal, name)]
    # the launcher takes signals over only in the main thread (the only one that may)
    main = threading.current_thread() is threading.main_thread()
    saved = {number: signal.getsignal(number) for number in numbers} if main else {}
    try:
        yield
    except SignalException as exc:
        raise KeyboardInterrupt(str(exc)) from None
    finally:
        for number, handler in saved.items():
            if handler is not None:
                signal.signal(number, handler)
