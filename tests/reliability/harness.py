"""Kill-and-resume machinery shared by the suite and ``benchmarks/reliability.py``.

A *segment* trains (or resumes) one run in a separate process, which may SIGKILL itself after a
given optimizer step, or — through the atomic writer's test hook — in the middle of a file write.
Each segment appends to a JSON-lines log: every step's loss (as a hex float, so equality is
bit-equality) and every epoch's batch order. A run chained from killed segments must end with
the weights, optimizer state, per-epoch metrics, per-step losses and batch orders of one
uninterrupted run, and every epoch must visit each training row exactly once.

Segments run in a forked child (fast: torch is already imported) or, with ``fresh=True``, in a
new interpreter (``python -m tests.reliability.harness ...``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
import yaml
from safetensors.torch import load_file

import gradwise
from gradwise import _io, api
from gradwise.training import Callback
from gradwise.training import engine as engine_module

CHECKPOINT_FILES = "last.*"  # the hook's glob for kills inside a checkpoint write
UNSTABLE_METRICS = ("time", "train_time", "fps")  # wall-clock fields of metrics.jsonl


class EveryEpoch(api.Checkpointer):
    """A checkpoint at every epoch (the default paces writes 30 s apart)."""

    def __init__(self, folder: Path, monitor: str, mode: str = "auto", interval: float = 0.0):
        super().__init__(folder, monitor, mode, interval=0.0)


class Recorder(Callback):
    """Logs each step's loss and each epoch's batch order; SIGKILLs the process after step
    ``kill_at_step``."""

    def __init__(self, log: Path, kill_at_step: int | None = None) -> None:
        self.stream = log.open("a", encoding="utf-8")
        self.kill_at_step = kill_at_step
        self.epoch = 0

    def write(self, record: dict[str, Any]) -> None:
        self.stream.write(json.dumps(record) + "\n")
        self.stream.flush()  # a SIGKILL drops Python's buffers, not the kernel's

    def on_epoch_start(self, trainer, epoch: int) -> None:
        self.epoch = epoch

    def on_batch_end(self, trainer, loss: torch.Tensor) -> None:
        self.write({"step": trainer.global_step, "loss": float(loss).hex()})
        if trainer.global_step == self.kill_at_step:
            os.kill(os.getpid(), signal.SIGKILL)

    @contextmanager
    def orders(self) -> Iterator[None]:
        """Record the batch order the engine draws each epoch."""
        original = engine_module.batches

        def recorded(n: int, *args: Any, **kwargs: Any) -> list[torch.Tensor]:
            order = original(n, *args, **kwargs)
            self.write({"epoch": self.epoch, "n": n, "order": [i.tolist() for i in order]})
            return order

        engine_module.batches = recorded
        try:
            yield
        finally:
            engine_module.batches = original


def write_in_place(path: str | Path, write: Any) -> Path:
    """The mutant writer: straight into the final name (no temp file, no rename), with the
    same test hooks as the real one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write(path)
    _io._test_hooks(path, path)
    return path


@contextmanager
def in_place_writes() -> Iterator[None]:
    """Every gradwise module's ``atomic_write`` replaced by :func:`write_in_place`."""
    patched = [
        module
        for name, module in list(sys.modules.items())
        if name.startswith("gradwise") and getattr(module, "atomic_write", None) is _io.atomic_write
    ]
    original = _io.atomic_write
    for module in patched:
        module.atomic_write = write_in_place
    try:
        yield
    finally:
        for module in patched:
            module.atomic_write = original


def train_segment(
    config: Path | dict[str, Any],
    out: Path,
    log: Path,
    resume: Path | None = None,
    kill_at_step: int | None = None,
    in_place: bool = False,
) -> None:
    """Train (or resume) with a checkpoint every epoch, logging to ``log``."""
    torch.set_num_threads(1)
    recorder = Recorder(log, kill_at_step)
    original = api.Checkpointer
    api.Checkpointer = EveryEpoch
    try:
        writes = in_place_writes() if in_place else _nothing()
        with recorder.orders(), writes, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if resume is None:
                gradwise.train(config, out=out, callbacks=[recorder])
            else:
                gradwise.resume(resume, callbacks=[recorder])
    finally:
        api.Checkpointer = original
        recorder.stream.close()


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def segment(
    config: Path,
    out: Path,
    log: Path,
    resume: Path | None = None,
    kill_at_step: int | None = None,
    env: dict[str, str] | None = None,
    in_place: bool = False,
    fresh: bool = False,
    kill_after_seconds: float | None = None,
    kill_after_lines: int = 0,
) -> int:
    """:func:`train_segment` in another process; its exit status (``-9``: SIGKILLed). With
    ``kill_after_seconds`` the caller SIGKILLs it that long after ``log`` has
    ``kill_after_lines`` lines, wherever it is then (forked only)."""
    if fresh:
        argv = [sys.executable, "-m", "tests.reliability.harness", str(config), str(out), str(log)]
        argv += ["--resume", str(resume)] if resume else []
        argv += ["--kill-at-step", str(kill_at_step)] if kill_at_step else []
        argv += ["--in-place"] if in_place else []
        child_env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
        return subprocess.run(argv, env=child_env, capture_output=True, timeout=600).returncode
    pid = os.fork()
    if pid == 0:  # the child never returns into the caller
        status = 1
        try:
            os.environ.update(env or {})
            _io.reset_test_hooks()
            train_segment(config, out, log, resume, kill_at_step, in_place)
            status = 0
        except BaseException:
            status = 3
        finally:
            os._exit(status)
    if kill_after_seconds is not None:
        deadline = None
        while deadline is None or time.monotonic() < deadline:
            if deadline is None and _lines(log) >= kill_after_lines:
                deadline = time.monotonic() + kill_after_seconds
            done, wait_status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(wait_status)
            time.sleep(0.002)
        os.kill(pid, signal.SIGKILL)
    _, wait_status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(wait_status)


def _lines(log: Path) -> int:
    try:
        with log.open("rb") as stream:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 16), b""))
    except OSError:
        return 0


# ------------------------------------------------------------------------------ checks
def read_log(log: Path) -> tuple[dict[int, list[str]], dict[int, list[dict[str, Any]]]]:
    """Every loss recorded per step, and every order recorded per epoch (a re-run step or
    epoch after a kill appears more than once)."""
    losses: dict[int, list[str]] = {}
    orders: dict[int, list[dict[str, Any]]] = {}
    for line in log.read_text().splitlines():
        record = json.loads(line)
        if "step" in record:
            losses.setdefault(record["step"], []).append(record["loss"])
        else:
            orders.setdefault(record["epoch"], []).append(record)
    return losses, orders


def log_problems(reference: Path, chained: Path) -> list[str]:
    """Where the chained run's steps and orders differ from the reference's, or an epoch did
    not visit every row exactly once."""
    ref_losses, ref_orders = read_log(reference)
    losses, orders = read_log(chained)
    problems = []
    if sorted(losses) != sorted(ref_losses):
        problems.append(f"steps {sorted(set(ref_losses) ^ set(losses))} differ")
    for step, values in losses.items():
        if any(v != ref_losses.get(step, [None])[0] for v in values):
            problems.append(f"step {step}: loss {values} != {ref_losses.get(step)}")
    if sorted(orders) != sorted(ref_orders):
        problems.append(f"epochs {sorted(orders)} != {sorted(ref_orders)}")
    for epoch, records in orders.items():
        for record in records:
            if record["order"] != ref_orders.get(epoch, [{}])[0].get("order"):
                problems.append(f"epoch {epoch}: batch order differs from the reference")
            rows = sorted(i for batch in record["order"] for i in batch)
            if rows != list(range(record["n"])):
                problems.append(f"epoch {epoch}: rows not visited exactly once")
    return problems


def run_problems(reference: Path, run: Path) -> list[str]:
    """Where the run's final weights, training state and metrics differ from the reference's
    (bit for bit)."""
    problems = []
    for tag in ("last", "best"):
        a = load_file(reference / f"checkpoints/{tag}.safetensors")
        b = load_file(run / f"checkpoints/{tag}.safetensors")
        if a.keys() != b.keys() or not all(torch.equal(a[k], b[k]) for k in a):
            problems.append(f"{tag} weights differ")
    a = torch.load(reference / "checkpoints/last.state.pt", weights_only=True)
    b = torch.load(run / "checkpoints/last.state.pt", weights_only=True)
    for part in ("epoch", "global_step", "optimizers", "schedules", "generators", "torch_rng"):
        if not equal(a[part], b[part]):
            problems.append(f"training state differs in {part}")
    if metrics(reference) != metrics(run):
        problems.append("metrics.jsonl differs")
    return problems


def metrics(run: Path) -> list[dict[str, Any]]:
    rows = _io.read_jsonl(run / "metrics.jsonl")
    return [{k: v for k, v in row.items() if k not in UNSTABLE_METRICS} for row in rows]


def equal(a: Any, b: Any) -> bool:
    """Exact equality of nested state (tensors bit for bit)."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return (
            isinstance(a, torch.Tensor)
            and isinstance(b, torch.Tensor)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and torch.equal(a, b)
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def final_name_problems(run: Path) -> list[str]:
    """Files under a final name (not a writer's hidden temporary) that do not read whole."""
    problems = []
    for path in sorted(run.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        try:
            read_whole(path)
        except Exception as exc:
            problems.append(f"{path.relative_to(run)}: {type(exc).__name__}")
    return problems


def read_whole(path: Path) -> None:
    """Read ``path`` the way gradwise does, raising if it is partial or damaged."""
    if path.suffix == ".safetensors":
        load_file(path)
    elif path.name.endswith(".state.pt"):
        torch.load(path, weights_only=True)
    elif path.suffix == ".json":
        json.loads(path.read_text())
    elif path.suffix == ".jsonl":
        for line in path.read_text().splitlines():
            json.loads(line)  # a torn last line counts too: appends are not atomic
    elif path.suffix == ".yaml" and not isinstance(yaml.safe_load(path.read_text()), dict):
        raise ValueError("not a mapping")


def only_run(out: Path) -> Path:
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    return run


def checkpoint_bytes(run: Path) -> int:
    """Bytes one ``last`` checkpoint write takes (weights, state, manifest)."""
    return sum((run / "checkpoints" / f"last.{s}").stat().st_size for s in CHECKPOINT_PARTS)


CHECKPOINT_PARTS = ("safetensors", "state.pt", "json")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="one training segment (reliability tests)")
    parser.add_argument("config", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("log", type=Path)
    parser.add_argument("--resume", type=Path)
    parser.add_argument("--kill-at-step", type=int)
    parser.add_argument("--in-place", action="store_true")
    args = parser.parse_args(argv)
    train_segment(args.config, args.out, args.log, args.resume, args.kill_at_step, args.in_place)


if __name__ == "__main__":
    main()
