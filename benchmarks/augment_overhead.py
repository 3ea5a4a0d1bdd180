"""Augmentation overhead: training-epoch time with a typical augmentation list vs none.

MNIST-1D (3600 training rows after the validation share), the default ``cnn1d`` and ``mlp``
recipes, batch 128, on CPU. Each pair trains one epoch without augmentation and one with
``TYPICAL`` (shift, stretch, Gaussian noise, mixup), interleaved so machine noise hits both
alike; the figure is the median of per-pair ratios, in wall time and in process CPU time.

    python benchmarks/augment_overhead.py [--pairs 15] [--models cnn1d mlp] [--threads 1]

Budget: the augmented epoch costs ≤ 1.15 × the plain one for the typical list.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings

import yaml

TYPICAL = [{"shift": 4}, {"stretch": 0.1}, {"gaussian_noise": 0.1}, {"mixup": 0.2}]
BUDGET = 1.15


def trainer_for(kind: str, augment: list, splits):
    import gradwise
    from gradwise.config.templates import starting_config
    from gradwise.experiment import build_experiment

    recipe = yaml.safe_load(starting_config("mnist1d", kind))
    recipe["data"]["augment"] = augment
    recipe["train"]["device"] = "cpu"
    config = gradwise.load_config(recipe)
    experiment = build_experiment(config, splits)
    return experiment.trainer, experiment.train_split


def timed_epoch(trainer, train) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    trainer.train_epoch(train)
    return time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=15)
    parser.add_argument("--models", nargs="+", default=["cnn1d", "mlp"])
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args(argv)
    import torch

    import gradwise
    from gradwise.data import load_splits

    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")
    data = gradwise.load_config({"data": {"source": "mnist1d"}}).data
    splits = load_splits(data, "labels", 0)
    print(f"typical list: {TYPICAL}; {args.threads} torch thread(s)")
    verdicts = []
    for kind in args.models:
        plain, train = trainer_for(kind, [], splits)
        augmented, _ = trainer_for(kind, TYPICAL, splits)
        timed_epoch(plain, train), timed_epoch(augmented, train)  # warm-up
        wall_ratios, cpu_ratios, plain_walls = [], [], []
        for _ in range(args.pairs):
            plain_wall, plain_cpu = timed_epoch(plain, train)
            aug_wall, aug_cpu = timed_epoch(augmented, train)
            wall_ratios.append(aug_wall / plain_wall)
            cpu_ratios.append(aug_cpu / plain_cpu)
            plain_walls.append(plain_wall)
        wall, cpu = statistics.median(wall_ratios), statistics.median(cpu_ratios)
        print(
            f"{kind:6} plain epoch {statistics.median(plain_walls):.3f} s; augmented / plain: "
            f"wall {wall:.3f}x (min {min(wall_ratios):.3f}, max {max(wall_ratios):.3f}), "
            f"CPU {cpu:.3f}x over {args.pairs} pairs"
        )
        verdicts.append((kind, cpu))
    for kind, cpu in verdicts:
        status = "within" if cpu <= BUDGET else "OVER"
        print(
            f"{kind}: overhead {100 * (cpu - 1):+.1f}% of epoch time (CPU), {status} the 15% budget"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
