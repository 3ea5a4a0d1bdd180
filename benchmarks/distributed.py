"""Data-parallel throughput on the CPU: 1 process vs ``--nproc 2`` (torchrun, gloo).

The same experiment (MNIST-1D, global batch 128) trains in one process and in two, the arms
interleaved and repeated; samples/s is the training rows of all epochs over the summary's
``train_time`` (start-up excluded). One thread per process in both arms, so the comparison is
of processes, not of threads within one.

    python benchmarks/distributed.py [--model mlp|cnn1d] [--epochs 10] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml


def experiment(folder: Path, model: str, epochs: int) -> Path:
    models = {
        "mlp": {"kind": "mlp", "hidden": [256, 256]},
        "cnn1d": {"kind": "cnn1d", "channels": [32, 32, 64, 64], "norm": "none"},
    }
    config = {
        "name": f"ddp-{model}",
        "data": {"source": "mnist1d"},
        "model": models[model],
        "train": {"epochs": epochs, "batch_size": 128, "device": "cpu"},
        "diagnose": {"enabled": False},
        "report": {"enabled": False},
    }
    path = folder / f"{model}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def samples_per_second(config: Path, out: Path, nproc: int) -> float:
    argv = [sys.executable, "-m", "gradwise.cli.main", "train", str(config), "--out", str(out)]
    argv += ["--json", "--quiet"] + (["--nproc", str(nproc)] if nproc > 1 else [])
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(argv, capture_output=True, text=True, check=True, env=env)
    summary = json.loads(result.stdout)
    profile = json.loads((Path(summary["run_dir"]) / "profile.json").read_text())
    rows = profile["splits"]["train"]
    return rows * summary["epochs_run"] / summary["train_time"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["mlp", "cnn1d"], default="mlp")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        config = experiment(Path(folder), args.model, args.epochs)
        figures: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(args.repeats):
            for nproc in (1, 2):  # interleaved
                figures[nproc].append(samples_per_second(config, Path(folder) / "runs", nproc))
    one, two = statistics.median(figures[1]), statistics.median(figures[2])
    print(
        f"{args.model}: 1 process {one:,.0f} samples/s, 2 processes {two:,.0f} samples/s "
        f"(median of {args.repeats}); speed-up {two / one:.2f}x"
    )
    print(json.dumps({str(k): [round(v) for v in vs] for k, vs in figures.items()}))


if __name__ == "__main__":
    main()
