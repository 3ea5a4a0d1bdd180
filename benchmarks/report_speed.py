"""Report speed: what the report adds to a short run (goal: <= 1 s after the imports it needs)
and how long writing ``report.html`` takes for a 100-epoch run (goal: < 5 s).

Part 1, a short run (iris, MLP [32], 20 epochs, CPU), as a user meets it, every figure the median
of ``--repeats`` (the machine may be shared: repeat, and read medians):

- ``gradwise train EXP`` and ``gradwise train EXP --set report.enabled=false`` as whole commands
  (the difference is what the report costs a run);
- ``gradwise report RUN`` as a whole command (interpreter start and imports included);
- the report alone in a fresh process after the imports a run report needs (torch through
  ``gradwise.api``, the data source's reader), with matplotlib's import counted in the report.

Part 2, a longer run (``--epochs``, MLP on a built-in dataset, diagnostics sampled every
``--every`` steps, so metrics.jsonl has one line per epoch and diagnostics.jsonl ~100 samples):

- warm: in the training process (torch and the data libraries already imported), which is
  what ``gradwise train`` adds to every run; with CPU time (``time.process_time``) beside wall
  time;
- per section, to show where the time goes;
- cold: ``gradwise report RUN`` as a fresh process.

    python benchmarks/report_speed.py [--repeats 5] [--epochs 100] [--source sklearn:digits]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SMALL_GOAL_SECONDS = 1.0
GOAL_SECONDS = 5.0
SMALL_EXPERIMENT = """\
data: {source: sklearn:iris}
model: {kind: mlp, hidden: [32]}
train: {epochs: 20, device: cpu}
"""
# the report alone, in a fresh process whose run-report imports are done (prints wall and cpu)
REPORT_AFTER_IMPORTS = """\
import sys, time
import gradwise.api, sklearn.datasets
from gradwise.report import write_report
wall, cpu = time.perf_counter(), time.process_time()
write_report(sys.argv[1])
print(time.perf_counter() - wall, time.process_time() - cpu)
"""


def timed(action) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def command_seconds(arguments: list[str], cwd: Path) -> float:
    command = [sys.executable, "-m", "gradwise.cli.main", *arguments]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=cwd)
    return time.perf_counter() - started


def median_text(values: list[float]) -> str:
    spread = ", ".join(f"{v:.2f}" for v in values)
    return f"{statistics.median(values):5.2f} s (median of {len(values)}: {spread})"


def small_run(repeats: int) -> float:
    """Part 1; returns the median of the report after its imports."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "exp.yaml").write_text(SMALL_EXPERIMENT, encoding="utf-8")
        train, bare = [], []
        for _ in range(repeats):  # interleaved, so that a busy moment hits both alike
            train.append(command_seconds(["train", "exp.yaml", "--out", "runs", "--quiet"], root))
            no_report = ["--set", "report.enabled=false"]
            bare.append(
                command_seconds(["train", "exp.yaml", "--out", "bare", "--quiet", *no_report], root)
            )
        run = next((root / "runs").iterdir())
        report = [command_seconds(["report", str(run)], root) for _ in range(repeats)]
        alone = []
        for _ in range(repeats):
            result = subprocess.run(
                [sys.executable, "-c", REPORT_AFTER_IMPORTS, str(run)],
                check=True,
                capture_output=True,
                text=True,
            )
            alone.append(tuple(map(float, result.stdout.split())))
    walls = [wall for wall, _ in alone]
    print("short run: iris, mlp [32], 20 epochs, cpu")
    print(f"  gradwise train                          {median_text(train)}")
    print(f"  gradwise train (report.enabled=false)   {median_text(bare)}")
    print(f"  gradwise report RUN                     {median_text(report)}")
    print(
        f"  report after its imports (new process)  {median_text(walls)}, cpu "
        f"{statistics.median(cpu for _, cpu in alone):.2f} s"
    )
    return statistics.median(walls)


def train_run(source: str, epochs: int, every: int, out: str) -> Path:
    import gradwise

    config = {
        "name": "report-speed",
        "seed": 0,
        "data": {"source": source},
        "model": {"kind": "mlp", "hidden": [64, 64, 32]},
        "train": {
            "epochs": epochs,
            "batch_size": 128,
            "device": "cpu",
            "optimizer": {"name": "adam", "lr": 3e-3},
            "schedule": {"name": "cosine"},
        },
        "diagnose": {"every": every},
        "report": {"enabled": False},
    }
    return gradwise.train(config, out=out).path


def long_run(source: str, epochs: int, every: int, repeats: int) -> float:
    """Part 2; returns the median warm report wall time."""
    from gradwise.report import write_report
    from gradwise.report.context import ReportContext
    from gradwise.report.sections import ordered_sections

    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        run = train_run(source, epochs, every, out)
        context = ReportContext(run)
        print(
            f"longer run: {source}, {len(context.metrics)} epochs, "
            f"{len(context.diagnostics)} diagnostics samples, "
            f"trained in {time.perf_counter() - started:.1f} s"
        )

        write_report(run)  # first report in the process: imports matplotlib, fonts
        warm = [timed(lambda: write_report(run)) for _ in range(repeats)]
        wall = statistics.median(w for w, _ in warm)
        cpu = statistics.median(c for _, c in warm)
        size_kib = (run / "report.html").stat().st_size / 1024
        print(
            f"  warm report (in the training process): wall {wall:.2f} s, cpu {cpu:.2f} s "
            f"(median of {repeats}); page {size_kib:.0f} KiB"
        )

        fresh = ReportContext(run)
        for key, entry in ordered_sections():
            seconds, cpu_seconds = timed(lambda entry=entry: entry.render(fresh))
            print(f"    section {key:16s} wall {seconds:5.2f} s  cpu {cpu_seconds:5.2f} s")

        cold = [command_seconds(["report", str(run)], Path(out)) for _ in range(repeats)]
        print(f"  gradwise report RUN (new process)       {median_text(cold)}")
    return wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--source", default="sklearn:digits")
    parser.add_argument("--every", type=int, default=10, help="diagnostics sample interval")
    parser.add_argument("--short-only", action="store_true", help="part 1 only")
    args = parser.parse_args()

    small = small_run(args.repeats)
    verdict = "meets" if small <= SMALL_GOAL_SECONDS else "misses"
    print(f"short run's report: {small:.2f} s — {verdict} the {SMALL_GOAL_SECONDS:.0f} s goal")
    if args.short_only:
        return 0
    wall = long_run(args.source, args.epochs, args.every, args.repeats)
    verdict = "meets" if wall < GOAL_SECONDS else "misses"
    print(
        f"report for a {args.epochs}-epoch run: {wall:.2f} s wall — "
        f"{verdict} the {GOAL_SECONDS:.0f} s goal"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
