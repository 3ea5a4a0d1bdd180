"""The run directory (DESIGN.md §4): where each file lives, and finding runs (torch-free).

runs/<name>-<YYYYmmdd-HHMMSS>/
    config.yaml          the resolved experiment
    preprocess.json      the fitted preprocessing (columns, categories, scaling, classes)
    metrics.jsonl        one line per epoch
    diagnostics.jsonl    per-layer statistics
    checkpoints/         last.safetensors + last.state.pt, best.safetensors
    summary.json         final metrics, best epoch, timings, parameter count, versions
    heartbeat            touched every few seconds while the training process lives
    report.html

Every JSON file of a run carries ``format_version`` (:data:`FORMAT_VERSION`). The JSON-lines
files (``metrics.jsonl``, ``diagnostics.jsonl``, ...) are logs of one record per line: their
lines carry none (a header line would be read as a record); ``summary.json``'s version, written
before their first line, is theirs.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gradwise import _background as background
from gradwise._io import read_json, read_jsonl
from gradwise.errors import CheckpointError

FORMAT_VERSION = 1  # of a run directory's JSON files; older run directories stay readable
HEARTBEAT_SECONDS = 5.0  # how often a training process touches its run's heartbeat
STALE_AFTER_SECONDS = 60.0  # a running run whose heartbeat is older than this is stale


def versioned(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with the run format's ``format_version`` first."""
    return {"format_version": FORMAT_VERSION, **document}


@dataclass(frozen=True)
class RunPaths:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def preprocess(self) -> Path:
        return self.root / "preprocess.json"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.jsonl"

    @property
    def diagnostics(self) -> Path:
        return self.root / "diagnostics.jsonl"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def summary(self) -> Path:
        return self.root / "summary.json"

    @property
    def report(self) -> Path:
        return self.root / "report.html"

    @property
    def heartbeat(self) -> Path:
        return self.root / "heartbeat"


def check_out_dir(out_dir: str | Path) -> Path:
    """``--out`` as a path; a file there is a one-line error."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise CheckpointError(f"--out {out}: exists and is not a folder")
    return out


def create_stamped_dir(out_dir: str | Path, name: str) -> Path:
    """Make ``out_dir/<name>-<timestamp>`` (with ``-2``, ``-3``… if taken)."""
    base = check_out_dir(out_dir) / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    candidate, n = base, 1
    while True:
        try:
            candidate.mkdir(parents=True)
            return candidate
        except FileExistsError:
            n += 1
            candidate = base.with_name(f"{base.name}-{n}")


def create_run_dir(out_dir: str | Path, name: str) -> RunPaths:
    """A new run directory ``out_dir/<name>-<timestamp>`` with its ``checkpoints/`` folder."""
    root = create_stamped_dir(out_dir, name)
    (root / "checkpoints").mkdir()
    return RunPaths(root)


def open_run(path: str | Path) -> RunPaths:
    """Check that ``path`` is a run directory: a resolved config, and the files its paradigm
    says a run holds (e.g. ``preprocess.json`` when it learns from a dataset)."""
    root = Path(path)
    if not root.is_dir():
        raise CheckpointError(f"{root}: no such run directory")
    paths = RunPaths(root)
    if not paths.config.is_file():
        raise CheckpointError(f"{root}: not a gradwise run (missing {paths.config.name})")
    missing = [name for name in run_files(paths) if not (root / name).is_file()]
    if missing:
        raise CheckpointError(f"{root}: not a gradwise run (missing {', '.join(missing)})")
    return paths


def remove_partial_writes(paths: RunPaths) -> list[Path]:
    """Delete the hidden temporary files of writes cut short (a process killed mid-write
    leaves ``.NAME.*.tmp``; the file under its final name was never touched); returns them."""
    leftovers = [
        p
        for folder in (paths.root, paths.checkpoints)
        if folder.is_dir()
        for p in folder.iterdir()
        if p.name.startswith(".") and p.name.endswith((".tmp", ".link")) and p.is_file()
    ]
    for path in leftovers:
        path.unlink(missing_ok=True)
    return leftovers


def run_files(paths: RunPaths) -> tuple[str, ...]:
    """The files the run's paradigm requires (none when its task is unknown or unreadable:
    loading the config then says what is wrong)."""
    import yaml

    from gradwise.tasks import DEFAULT_TASK, TASKS

    try:
        raw = yaml.safe_load(paths.config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return ()
    task = raw.get("task", DEFAULT_TASK) if isinstance(raw, dict) else None
    return TASKS.get(task).run_files() if task in TASKS else ()


def read_metrics(paths: RunPaths) -> list[dict[str, Any]]:
    return read_jsonl(paths.metrics)


def read_summary(paths: RunPaths) -> dict[str, Any]:
    """The run's ``summary.json`` (``{}`` when absent or damaged: a listing goes on)."""
    return read_json(paths.summary, {}, lenient=True)


def find_runs(out_dir: str | Path) -> list[RunPaths]:
    """Every run directly under ``out_dir``, oldest first."""
    out = Path(out_dir)
    if not out.is_dir():
        return []
    found = [RunPaths(p) for p in out.iterdir() if (p / "config.yaml").is_file()]
    return sorted(found, key=lambda r: r.root.stat().st_mtime)


# ------------------------------------------------------------------------------ liveness
def process_identity() -> dict[str, Any]:
    """What ``summary.json`` records of the process training a run, to tell later whether it
    still lives."""
    return {"pid": os.getpid(), "host": socket.gethostname()}


@contextmanager
def heartbeat(paths: RunPaths, every: float = HEARTBEAT_SECONDS) -> Iterator[None]:
    """Touch ``paths.heartbeat`` now and every ``every`` seconds (a daemon thread) while the
    block runs; a process killed without a word (kill -9, power loss) stops touching it."""

    def beat() -> None:
        with contextlib.suppress(OSError):  # a vanished or read-only folder
            paths.heartbeat.touch()

    with background.every(every, beat, name="gradwise-heartbeat"):
        yield


def run_status(paths: RunPaths, summary: dict[str, Any], now: float | None = None) -> str:
    """The summary's status, except that a ``running`` run whose process is gone (same host)
    or whose heartbeat is older than :data:`STALE_AFTER_SECONDS` is ``stale``."""
    status = summary.get("status", "unknown")
    if status != "running":
        return status
    pid, host = summary.get("pid"), summary.get("host")
    if isinstance(pid, int) and host == socket.gethostname() and not _alive(pid):
        return "stale"
    try:
        last_beat = paths.heartbeat.stat().st_mtime
    except OSError:  # written before heartbeats: the summary's own time
        try:
            last_beat = paths.summary.stat().st_mtime
        except OSError:
            return status
    return "stale" if (now or time.time()) - last_beat > STALE_AFTER_SECONDS else status


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
