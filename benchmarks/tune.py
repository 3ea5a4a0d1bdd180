"""Hyperparameter search on MNIST-1D with an MLP: TPE + median pruning against random search
without pruning, at the same number of trials; and ``--workers 2`` against ``--workers 1``.

    python benchmarks/tune.py                      # both parts, 5 seeds, 40 trials x 20 epochs
    python benchmarks/tune.py --part search --seeds 0 2 4 --results DIR   # part of the seeds
    python benchmarks/tune.py --part summary --results DIR                # table of DIR/*.json
    python benchmarks/tune.py --part workers       # wall time of a fixed study, 1 vs 2 workers

Search: for each seed both arms run on the same data (the experiment and the sampler take the
seed); reported per arm are the best validation accuracy of the study and the epochs trained by
all its trials. Goal: TPE + pruning within 0.5 points of random search's best (median over
seeds) while training at most 50% of its epochs.

Workers: the same study (random sampler, no pruning: a fixed set of configurations, since each
trial's sampler is seeded by its number) through the CLI with ``--workers 1`` and
``--workers 2``, interleaved, and the ratio of wall times.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

SPACE = {
    "train.optimizer.lr": {"type": "float", "low": 1e-4, "high": 0.1, "log": True},
    "model.hidden": {
        "type": "layers",
        "layers": {"low": 1, "high": 4},
        "width": {"low": 32, "high": 512, "log": True},
    },
    "model.dropout": {"type": "float", "low": 0.0, "high": 0.5},
    "train.optimizer.weight_decay": {"type": "float", "low": 1e-6, "high": 1e-2, "log": True},
    "train.batch_size": {"type": "categorical", "choices": [32, 64, 128, 256]},
    "train.optimizer.name": {"type": "categorical", "choices": ["sgd", "adam", "adamw"]},
}
ARMS = {"tpe+median": ("tpe", "median"), "random": ("random", "none")}


def experiment(seed: int, epochs: int, sampler: str, pruner: str, trials: int) -> dict:
    return {
        "name": "mnist1d-mlp",
        "seed": seed,
        "data": {"source": "mnist1d"},
        "model": {"kind": "mlp", "hidden": [256, 256]},
        "train": {"epochs": epochs, "batch_size": 128, "device": "cpu"},
        "diagnose": {"enabled": False},
        "report": {"enabled": False},
        "tune": {"space": SPACE, "trials": trials, "sampler": sampler, "pruner": pruner},
    }


# ----------------------------------------------------------------------------- search
def run_search(seeds: list[int], trials: int, epochs: int, results: Path) -> None:
    import torch

    import gradwise

    torch.set_num_threads(1)  # epochs and accuracy do not depend on it; the CPU is shared
    results.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        for seed in seeds:
            for arm, (sampler, pruner) in ARMS.items():
                started, cpu = time.perf_counter(), time.process_time()
                result = gradwise.tune(
                    experiment(seed, epochs, sampler, pruner, trials),
                    out=Path(scratch) / f"{arm}-{seed}",
                )
                row = {
                    "arm": arm,
                    "seed": seed,
                    "best": result.best_value,
                    "epochs": sum(e["epochs"] for e in result.leaderboard),
                    "counts": {k: result.counts[k] for k in ("complete", "pruned", "failed")},
                    "wall": time.perf_counter() - started,
                    "cpu": time.process_time() - cpu,
                }
                (results / f"{arm}-{seed}.json").write_text(json.dumps(row))
                print(
                    f"seed {seed} {arm:10}: best valid acc {row['best']:.4f}, "
                    f"{row['epochs']} epochs, {row['counts']}, {row['wall']:.0f} s wall, "
                    f"{row['cpu']:.0f} s CPU",
                    flush=True,
                )


def summarize(results: Path, trials: int, epochs: int) -> None:
    rows = [json.loads(p.read_text()) for p in sorted(results.glob("*.json"))]
    by_seed: dict[int, dict[str, dict]] = {}
    for row in rows:
        by_seed.setdefault(row["seed"], {})[row["arm"]] = row
    paired = {s: arms for s, arms in sorted(by_seed.items()) if set(arms) == set(ARMS)}
    if not paired:
        print(f"no complete seed in {results}")
        return
    print(f"\nMNIST-1D MLP, {trials} trials x {epochs} epochs per study, seeds {list(paired)}")
    print(
        f"{'seed':>4} {'TPE+median best':>16} {'random best':>12} {'diff (pts)':>11} "
        f"{'TPE epochs':>11} {'random epochs':>14} {'epoch ratio':>12}"
    )
    diffs, ratios = [], []
    for seed, arms in paired.items():
        tpe, rnd = arms["tpe+median"], arms["random"]
        diff, ratio = 100 * (tpe["best"] - rnd["best"]), tpe["epochs"] / rnd["epochs"]
        diffs.append(diff)
        ratios.append(ratio)
        print(
            f"{seed:>4} {tpe['best']:>16.4f} {rnd['best']:>12.4f} {diff:>+11.2f} "
            f"{tpe['epochs']:>11} {rnd['epochs']:>14} {ratio:>12.3f}"
        )
    tpe_best = statistics.median(a["tpe+median"]["best"] for a in paired.values())
    random_best = statistics.median(a["random"]["best"] for a in paired.values())
    median_gap = 100 * (tpe_best - random_best)
    median_ratio = statistics.median(ratios)
    print(
        f"median best valid accuracy: TPE+median {tpe_best:.4f}, random {random_best:.4f} "
        f"({median_gap:+.2f} points); median per-seed difference "
        f"{statistics.median(diffs):+.2f}"
    )
    print(
        f"epochs trained, TPE+median / random: median {median_ratio:.3f} "
        f"(range {min(ratios):.3f}-{max(ratios):.3f})"
    )
    met = median_gap >= -0.5 and median_ratio <= 0.5
    print(f"goal (within 0.5 points, <= 50% of the epochs): {'met' if met else 'NOT met'}")


# ---------------------------------------------------------------------------- workers
def run_workers(trials: int, epochs: int, repeats: int) -> None:
    root = Path(__file__).resolve().parents[1]
    gradwise_cli = Path(sys.executable).with_name("gradwise")
    walls: dict[int, list[float]] = {1: [], 2: []}
    cpus: dict[int, list[float]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as scratch:
        config = Path(scratch) / "study.yaml"
        config.write_text(yaml.safe_dump(experiment(0, epochs, "random", "none", trials)))
        for repeat in range(repeats):
            for workers in (1, 2):  # interleaved pairs
                out = Path(scratch) / f"w{workers}-{repeat}"
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                started = time.perf_counter()
                subprocess.run(
                    [
                        str(gradwise_cli),
                        "tune",
                        str(config),
                        "--workers",
                        str(workers),
                        "--out",
                        str(out),
                        "--quiet",
                    ],
                    check=True,
                    cwd=root,
                    stdout=subprocess.DEVNULL,
                    env={**os.environ, "PYTHONUNBUFFERED": "1"},
                )
                wall = time.perf_counter() - started
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
                walls[workers].append(wall)
                cpus[workers].append(cpu)
                print(
                    f"repeat {repeat} --workers {workers}: {wall:.1f} s wall, {cpu:.1f} s CPU",
                    flush=True,
                )
    ratios = [w2 / w1 for w1, w2 in zip(walls[1], walls[2], strict=True)]
    print(
        f"\nfixed study: {trials} trials x {epochs} epochs (random sampler, no pruning), "
        f"{os.cpu_count()} cores"
    )
    print(
        f"wall time --workers 2 / --workers 1: {', '.join(f'{r:.2f}' for r in ratios)} "
        f"(median {statistics.median(ratios):.2f}); median wall {statistics.median(walls[1]):.1f}"
        f" s vs {statistics.median(walls[2]):.1f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["all", "search", "summary", "workers"], default="all")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--results", type=Path, default=None, help="per-study JSON folder")
    parser.add_argument("--worker-trials", type=int, default=24)
    parser.add_argument("--worker-epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        results = args.results or Path(scratch)
        if args.part in ("all", "search"):
            run_search(args.seeds, args.trials, args.epochs, results)
        if args.part in ("all", "search", "summary"):
            summarize(results, args.trials, args.epochs)
    if args.part in ("all", "workers"):
        run_workers(args.worker_trials, args.worker_epochs, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
