"""Report speed: how long writing ``report.html`` takes for a 100-epoch run (goal: < 5 s).

Trains a real run for ``--epochs`` epochs (MLP on a built-in dataset, diagnostics sampled every
``--every`` steps, so metrics.jsonl has one line per epoch and diagnostics.jsonl ~100 samples),
then times the report three ways:

- warm: in the training process (torch and the data libraries already imported), which is
  what ``gradwise train`` adds to every run; the median of ``--repeats``, with CPU time
  (``time.process_time``) beside wall time because the machine may be shared;
- per section, to show where the time goes;
- cold: ``gradwise report RUN`` as a fresh process (interpreter start and imports included).

    python benchmarks/report_speed.py [--epochs 100] [--source sklearn:digits] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_SECONDS = 5.0


def timed(action) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--source", default="sklearn:digits")
    parser.add_argument("--every", type=int, default=10, help="diagnostics sample interval")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from gradwise.report import write_report
    from gradwise.report.context import ReportContext
    from gradwise.report.sections import ordered_sections

    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        run = train_run(args.source, args.epochs, args.every, out)
        context = ReportContext(run)
        print(
            f"run: {args.source}, {len(context.metrics)} epochs, "
            f"{len(context.diagnostics)} diagnostics samples, "
            f"trained in {time.perf_counter() - started:.1f} s"
        )

        write_report(run)  # first report in the process: imports matplotlib, fonts
        warm = [timed(lambda: write_report(run)) for _ in range(args.repeats)]
        wall = statistics.median(w for w, _ in warm)
        cpu = statistics.median(c for _, c in warm)
        size_kib = (run / "report.html").stat().st_size / 1024
        print(
            f"warm report (in the training process): wall {wall:.2f} s, cpu {cpu:.2f} s "
            f"(median of {args.repeats}); page {size_kib:.0f} KiB"
        )

        fresh = ReportContext(run)
        for key, entry in ordered_sections():
            seconds, cpu_seconds = timed(lambda entry=entry: entry.render(fresh))
            print(f"  section {key:16s} wall {seconds:5.2f} s  cpu {cpu_seconds:5.2f} s")

        command = [sys.executable, "-m", "gradwise.cli.main", "report", str(run)]
        cold_wall, _ = timed(lambda: subprocess.run(command, check=True, capture_output=True))
        print(f"cold `gradwise report RUN` (new process, imports torch): wall {cold_wall:.2f} s")

    verdict = "meets" if wall < GOAL_SECONDS else "misses"
    print(
        f"report for a {args.epochs}-epoch run: {wall:.2f} s wall, {cpu:.2f} s cpu — "
        f"{verdict} the {GOAL_SECONDS:.0f} s goal"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
