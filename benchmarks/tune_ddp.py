"""``gradwise tune --nproc 2`` vs trials trained in the worker: wall time and objectives.

A tiny 4-trial study (random sampler, no pruning: every trial trains all its epochs) runs once
with each trial in the worker and once with each trial as a 2-process data-parallel run, the
arms interleaved and repeated. Printed per arm: the study's wall time (median over repeats),
the trials' summed ``train_time`` (training alone, start-up excluded), and how far each trial's
objective is from the same trial trained in one process (the same parameters: each trial's
sampler is seeded by the study seed and the trial number). ``--workers 2 --nproc 2`` can be
added as a third arm (two trials at a time, four training processes).

    python benchmarks/tune_ddp.py [--trials 4] [--epochs 5] [--repeats 2] [--with-workers]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ARMS = {"in the worker": [], "--nproc 2": ["--nproc", "2"]}
WORKERS_ARM = {"--workers 2 --nproc 2": ["--workers", "2", "--nproc", "2"]}


def experiment(folder: Path, epochs: int) -> Path:
    config = {
        "name": "digits",
        "seed": 0,
        "data": {"source": "sklearn:digits", "valid": 0.2, "test": 0.2},
        "model": {"kind": "mlp", "hidden": [64]},
        "train": {"epochs": epochs, "batch_size": 64, "device": "cpu"},
        "diagnose": {"enabled": False},
        "tune": {
            "space": {"train.optimizer.lr": {"low": 1e-3, "high": 3e-2, "log": True}},
            "metric": "valid_loss",
            "sampler": "random",
            "pruner": "none",
        },
    }
    path = folder / "exp.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def run_study(config: Path, out: Path, trials: int, extra: list[str]) -> tuple[float, dict]:
    argv = [sys.executable, "-m", "gradwise.cli.main", "tune", str(config), "--out", str(out)]
    argv += ["--trials", str(trials), "--json", "--quiet", *extra]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    started = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"tune {' '.join(extra)} failed:\n{result.stderr}")
    document = json.loads(result.stdout)
    failed = [
        entry.get("error") for entry in document["leaderboard"] if entry["state"] != "complete"
    ]
    if failed:
        raise SystemExit(f"tune {' '.join(extra)}: trials did not complete: {failed}")
    return wall, document


def objectives(document: dict) -> dict[int, float]:
    return {entry["trial"]: entry["value"] for entry in document["leaderboard"]}


def train_seconds(document: dict) -> float:
    total = 0.0
    for entry in document["leaderboard"]:
        summary = json.loads((Path(entry["run_dir"]) / "summary.json").read_text())
        total += summary["train_time"]
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--with-workers", action="store_true")
    args = parser.parse_args()
    arms = {**ARMS, **(WORKERS_ARM if args.with_workers else {})}
    walls: dict[str, list[float]] = {arm: [] for arm in arms}
    trains: dict[str, list[float]] = {arm: [] for arm in arms}
    values: dict[str, dict[int, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        config = experiment(Path(folder), args.epochs)
        for repeat in range(args.repeats):
            for arm, extra in arms.items():  # interleaved
                out = Path(folder) / f"{repeat}-{len(walls[arm])}-{extra and extra[-1]}-{arm[:2]}"
                wall, document = run_study(config, out, args.trials, extra)
                walls[arm].append(wall)
                trains[arm].append(train_seconds(document))
                values.setdefault(arm, objectives(document))
                print(f"repeat {repeat} {arm}: {wall:.1f} s", file=sys.stderr)
    reference = values["in the worker"]
    base = statistics.median(walls["in the worker"])
    print(
        f"{args.trials} trials x {args.epochs} epochs (sklearn:digits, MLP 64), OMP_NUM_THREADS=1"
    )
    print(
        f"{'arm':24} {'wall s':>8} {'ratio':>6} {'train s':>8} {'max rel diff of objectives':>28}"
    )
    for arm in arms:
        wall = statistics.median(walls[arm])
        diff = max(abs(values[arm][t] - reference[t]) / abs(reference[t]) for t in reference)
        print(
            f"{arm:24} {wall:8.1f} {wall / base:6.2f} {statistics.median(trains[arm]):8.2f} "
            f"{diff:28.2e}"
        )
    print("walls:", {arm: [round(w, 1) for w in ws] for arm, ws in walls.items()})
    print(
        "objectives:", {arm: {t: round(v, 6) for t, v in vs.items()} for arm, vs in values.items()}
    )


if __name__ == "__main__":
    main()
