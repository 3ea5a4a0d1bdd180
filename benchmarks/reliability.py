"""The long reliability matrix: many kill points, kills inside checkpoint writes at many byte
offsets, many corruptions (offsets, bit flips, zeroed pages), a full disk at many offsets, the
in-place-writer mutation at many offsets, and the cost of the per-step gradient check.

Prints one row per category: cases tried, passed, seconds. Every case is a check the suite
(``tests/reliability``) makes once or twice, repeated here at seeded random points::

    python benchmarks/reliability.py            # about 13 minutes on 2 busy cores (7 paradigms)
    python benchmarks/reliability.py --quick    # a few cases per category (about 3 minutes)
    python benchmarks/reliability.py --fresh    # segments in new interpreters (slower)
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.reliability import corruption, harness  # noqa: E402
from tests.reliability.conftest import PARADIGMS  # noqa: E402

from gradwise import _io, api  # noqa: E402
from gradwise._io import ENOSPC_AFTER_BYTES, HOOK_FILES, KILL_AFTER_BYTES  # noqa: E402
from gradwise.errors import CheckpointError, WriteError  # noqa: E402
from gradwise.training import engine  # noqa: E402
from gradwise.training.checkpoint import load_checkpoint  # noqa: E402

KILLED = -9


@dataclass
class Category:
    name: str
    tried: int = 0
    passed: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)  # where the cases landed

    def note(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def record(self, label: str, problems: list[str]) -> None:
        self.tried += 1
        if problems:
            self.failures.append(f"{label}: {problems[:3]}")
        else:
            self.passed += 1


@dataclass
class Reference:
    config: Path
    run: Path
    log: Path
    steps: int
    epochs: int
    seconds: float  # the reference segment's wall time
    lines: int  # of its log
    per_checkpoint: int


def reference(folder: Path, paradigm: str) -> Reference:
    config = folder / "experiment.yaml"
    config.write_text(yaml.safe_dump(PARADIGMS.get(paradigm).config(folder)))
    log = folder / "reference.jsonl"
    began = time.perf_counter()
    harness.segment(config, folder / "reference", log)  # as the chained segments run
    seconds = time.perf_counter() - began
    run = harness.only_run(folder / "reference")
    losses, orders = harness.read_log(log)
    per_checkpoint = harness.checkpoint_bytes(run)
    lines = len(log.read_text().splitlines())
    return Reference(config, run, log, max(losses), len(orders), seconds, lines, per_checkpoint)


def chain(ref: Reference, folder: Path, kills: list[dict], fresh: bool) -> list[str]:
    """Segments killed as ``kills`` say (``{"step": k}`` or ``{"bytes": n}``), then one to the
    end; the problems found (none: bit-identical to the reference)."""
    out, log = folder / "out", folder / "log.jsonl"
    run: Path | None = None
    problems: list[str] = []
    for kill in kills:
        env = {}
        if "bytes" in kill:
            env = {KILL_AFTER_BYTES: str(kill["bytes"]), HOOK_FILES: harness.CHECKPOINT_FILES}
        status = harness.segment(ref.config, out, log, run, kill.get("step"), env=env, fresh=fresh)
        if status != KILLED:
            return [f"segment {kill} ended with status {status}, not killed"]
        run = harness.only_run(out)
        problems += harness.final_name_problems(run)
    status = harness.segment(ref.config, out, log, run, fresh=fresh)
    if status != 0:
        return [*problems, f"final segment status {status}"]
    run = harness.only_run(out)
    return problems + harness.run_problems(ref.run, run) + harness.log_problems(ref.log, log)


def kill_after_steps(
    ref: Reference, work: Path, rng: random.Random, n: int, fresh: bool, category: Category
) -> None:
    for i in range(n):
        # after the first checkpoint (before it a run has nothing to resume from)
        first = ref.steps // ref.epochs + 1
        population = range(first, ref.steps)  # an agent's run has one step per epoch: few
        points = sorted(rng.sample(population, k=rng.randint(1, min(3, len(population)))))
        folder = work / f"steps-{i}"
        folder.mkdir()
        category.record(
            f"kills after steps {points}", chain(ref, folder, [{"step": p} for p in points], fresh)
        )


def kill_at_random_times(
    ref: Reference, work: Path, rng: random.Random, n: int, category: Category
) -> None:
    """SIGKILL from outside at a random moment (wherever the process is then: a step, the
    evaluation, a checkpoint write, start-up): a random 0-30 ms after the log reaches a random
    line; then resume — or start again when it died before its first checkpoint — and
    compare with the reference."""
    for i in range(n):
        folder = work / f"time-{i}"
        folder.mkdir()
        out, log = folder / "out", folder / "log.jsonl"
        delay, lines = rng.uniform(0.0, 0.03), rng.randint(0, ref.lines)
        status = harness.segment(
            ref.config, out, log, kill_after_seconds=delay, kill_after_lines=lines
        )
        problems: list[str] = []
        if status == KILLED:
            run = harness.only_run(out) if out.is_dir() and any(out.iterdir()) else None
            problems += harness.final_name_problems(run) if run else []
            written = run is not None and (run / "checkpoints" / "last.json").is_file()
            category.note("killed, resumed" if written else "killed before a checkpoint")
            if not written:  # nothing to resume: a new run, its log from the start
                shutil.rmtree(out, ignore_errors=True)
                log.unlink(missing_ok=True)
            status = harness.segment(ref.config, out, log, run if written else None)
        else:
            category.note("finished before the kill")
        if status != 0:
            problems.append(f"ended with status {status}")
        else:
            run = harness.only_run(out)
            problems += harness.run_problems(ref.run, run) + harness.log_problems(ref.log, log)
        category.record(f"killed {delay:.3f} s after log line {lines}", problems)


def kill_inside_writes(
    ref: Reference, work: Path, rng: random.Random, n: int, fresh: bool, category: Category
) -> None:
    for i in range(n):  # past the first checkpoint, before the last one is complete
        at = rng.randint(ref.per_checkpoint + 1, (ref.epochs - 1) * ref.per_checkpoint - 1)
        folder = work / f"bytes-{i}"
        folder.mkdir()
        category.record(
            f"kill after {at} checkpoint bytes", chain(ref, folder, [{"bytes": at}], fresh)
        )


def mutation(ref: Reference, work: Path, rng: random.Random, n: int, category: Category) -> None:
    """With the in-place writer, a kill inside a checkpoint write must be seen by the check
    (a case passes when the check finds the partial file)."""
    for i in range(n):
        at = ref.per_checkpoint + rng.randint(0, ref.per_checkpoint - 1)
        folder = work / f"mutant-{i}"
        folder.mkdir()
        env = {KILL_AFTER_BYTES: str(at), HOOK_FILES: harness.CHECKPOINT_FILES}
        status = harness.segment(ref.config, folder / "out", folder / "log", env=env, in_place=True)
        found = status == KILLED and harness.final_name_problems(harness.only_run(folder / "out"))
        category.record(f"in-place writer killed at {at}", [] if found else ["not detected"])


def damages(rng: random.Random, n: int) -> list[tuple[str, Callable]]:
    """The named damages, plus ``n`` random truncations, bit flips and zeroed pages."""
    cases = [(name, corruption.DAMAGES.get(name)) for name in corruption.DAMAGES.names()]
    for _ in range(n):
        cases.append(
            ("truncated at a random fraction", corruption.truncate_at(rng.uniform(0.0, 0.999)))
        )
        cases.append(("a random bit flipped", corruption.flip_bits(1)))
        cases.append(
            ("a random bit of the state flipped", corruption.flip_bits(1, corruption.STATE))
        )
        cases.append(("a zeroed page at a random place", corruption.zero_page(rng.random())))
    return cases


def corruptions(ref: Reference, work: Path, rng: random.Random, n: int, category: Category) -> None:
    for i, (name, damage) in enumerate(damages(rng, n)):
        run = work / f"damaged-{i}"
        shutil.copytree(ref.run, run)
        folder = run / "checkpoints"
        damage(folder, random.Random(i))
        reference_run = api.Run(ref.run)
        module = reference_run.task.model_for(reference_run.config, reference_run.preprocessor)
        before = {k: t.clone() for k, t in module.state_dict().items()}
        problems = []
        try:
            load_checkpoint(folder, module, tags=("last",))
            problems.append("the damaged checkpoint loaded")
        except CheckpointError:
            pass
        if not all(torch.equal(before[k], t) for k, t in module.state_dict().items()):
            problems.append("weights reached the model")
        try:
            restored = load_checkpoint(folder, module)
            if restored.tag != "previous" or not restored.skipped:
                problems.append(f"resumed from {restored.tag}, skipped {restored.skipped}")
        except CheckpointError as exc:
            problems.append(f"no fallback: {exc}")
        category.record(name, problems)
        shutil.rmtree(run)


def disk_full(ref: Reference, work: Path, rng: random.Random, n: int, category: Category) -> None:
    original = api.Checkpointer
    api.Checkpointer = harness.EveryEpoch
    try:
        for i in range(n):
            at = rng.randint(ref.per_checkpoint, 3 * ref.per_checkpoint)
            out = work / f"full-{i}"
            problems = []
            with _env({ENOSPC_AFTER_BYTES: str(at), HOOK_FILES: harness.CHECKPOINT_FILES}):
                _io.reset_test_hooks()
                try:
                    api.train(ref.config, out=out)
                    problems.append("no error")
                except WriteError as exc:
                    if "No space left on device" not in str(exc) or "last." not in str(exc):
                        problems.append(f"message: {exc}")
            run = harness.only_run(out)
            problems += harness.final_name_problems(run)
            try:
                load_checkpoint(run / "checkpoints", api.Run(run).model)
            except CheckpointError as exc:
                problems.append(f"no checkpoint loads: {exc}")
            category.record(f"ENOSPC after {at} bytes", problems)
    finally:
        api.Checkpointer = original
        _io.reset_test_hooks()


class _env:
    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def __enter__(self) -> None:
        import os

        self.saved = {k: os.environ.get(k) for k in self.values}
        os.environ.update(self.values)

    def __exit__(self, *exc: object) -> None:
        import os

        for key, value in self.saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def gradient_check_cost(repeats: int) -> str:
    """Training time with the per-step gradient check over without it (interleaved)."""
    import gradwise

    config = PARADIGMS.get("classification").config(Path(tempfile.mkdtemp()))
    config["train"]["epochs"] = 30
    config["data"]["augment"] = []
    real = engine.gradients_finite
    times: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(repeats):
        for checked in (True, False):
            engine.gradients_finite = real if checked else (lambda parameters: True)
            with tempfile.TemporaryDirectory() as out:
                run = gradwise.train(config, out=out)
                times[checked].append(run.summary["train_time"])
    engine.gradients_finite = real
    with_check, without = sorted(times[True]), sorted(times[False])
    median = len(with_check) // 2
    return (
        f"per-step gradient check: training {with_check[median]:.3f} s with, "
        f"{without[median]:.3f} s without (median of {repeats}); ratio "
        f"{with_check[median] / without[median]:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few cases per category")
    parser.add_argument("--fresh", action="store_true", help="segments in new interpreters")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    scale = 1 if args.quick else 6
    rng = random.Random(args.seed)
    categories = {
        name: Category(name)
        for name in (
            "kill -9 after steps, resume",
            "kill -9 at a random time, resume",
            "kill -9 inside a checkpoint write",
            "corrupt checkpoint: clean error + fallback",
            "disk full (ENOSPC) during checkpoints",
            "mutation: in-place writer detected",
        )
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for paradigm in PARADIGMS.names():
            work = Path(tmp) / paradigm
            work.mkdir()
            ref = reference(work, paradigm)
            jobs = [
                (
                    "kill -9 after steps, resume",
                    lambda c, ref=ref, work=work: kill_after_steps(
                        ref, work, rng, 2 * scale, args.fresh, c
                    ),
                ),
                (
                    "kill -9 inside a checkpoint write",
                    lambda c, ref=ref, work=work: kill_inside_writes(
                        ref, work, rng, 2 * scale, args.fresh, c
                    ),
                ),
                (
                    "corrupt checkpoint: clean error + fallback",
                    lambda c, ref=ref, work=work: corruptions(ref, work, rng, 4 * scale, c),
                ),
                (
                    "disk full (ENOSPC) during checkpoints",
                    lambda c, ref=ref, work=work: disk_full(ref, work, rng, scale, c),
                ),
                (
                    "mutation: in-place writer detected",
                    lambda c, ref=ref, work=work: mutation(ref, work, rng, scale, c),
                ),
            ]
            jobs.insert(
                1,
                (
                    "kill -9 at a random time, resume",
                    lambda c, ref=ref, work=work: kill_at_random_times(
                        ref, work, rng, 3 * scale, c
                    ),
                ),
            )
            for name, job in jobs:
                category = categories[name]
                began = time.perf_counter()
                job(category)
                category.seconds += time.perf_counter() - began
    total = time.perf_counter() - started
    print(
        f"paradigms: {', '.join(PARADIGMS.names())}; segments in "
        f"{'new interpreters' if args.fresh else 'forked processes'}; seed {args.seed}"
    )
    print(f"{'category':45s} {'tried':>6s} {'passed':>7s} {'seconds':>8s}")
    for category in categories.values():
        print(
            f"{category.name:45s} {category.tried:6d} {category.passed:7d} {category.seconds:8.1f}"
        )
    tried = sum(c.tried for c in categories.values())
    passed = sum(c.passed for c in categories.values())
    print(f"{'all':45s} {tried:6d} {passed:7d} {total:8.1f}")
    for category in categories.values():
        if category.outcomes:
            shares = ", ".join(f"{k}: {v}" for k, v in sorted(category.outcomes.items()))
            print(f"{category.name}: {shares}")
        for failure in category.failures[:5]:
            print(f"FAILED {category.name}: {failure}")
    print(gradient_check_cost(3 if args.quick else 7))


if __name__ == "__main__":
    main()
