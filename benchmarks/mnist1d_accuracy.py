"""MNIST-1D accuracy of the default recipes: `gradwise init mnist1d --model mlp|cnn1d`.

4000 train (of which the validation share is held out) / 1000 test — the dataset's own split —
3 seeds each; prints test accuracy and training time per run and the medians.

    python benchmarks/mnist1d_accuracy.py [--models mlp cnn1d] [--seeds 0 1 2] [--set KEY=VALUE ...]

Published references (Greydanus & Kobak, 2024): logistic regression 32%, MLP 68%, CNN 94%,
human 96%.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time

import yaml

import gradwise
from gradwise.config.templates import starting_config

PUBLISHED = {"mlp": 0.68, "cnn1d": 0.94}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["mlp", "cnn1d"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as out:
        for kind in args.models:
            recipe = yaml.safe_load(starting_config("mnist1d", kind))
            accuracies, times = [], []
            for seed in args.seeds:
                recipe["seed"] = seed
                recipe["report"] = {"enabled": False}
                started = time.process_time()
                run = gradwise.train(recipe, out=out, overrides=args.overrides)
                cpu = time.process_time() - started
                summary = run.summary
                accuracies.append(summary["test"]["accuracy"])
                times.append(summary["train_time"])
                print(
                    f"{kind} seed {seed}: test accuracy {accuracies[-1]:.4f}, "
                    f"training {times[-1]:.1f} s wall ({cpu:.1f} s CPU), "
                    f"best epoch {summary['best_epoch']}/{summary['epochs_run']}",
                    flush=True,
                )
            rows.append((kind, statistics.median(accuracies), statistics.median(times)))
    print(f"\n{'model':8} {'median test acc':>16} {'published':>10} {'median train s':>15}")
    for kind, accuracy, seconds in rows:
        published = f"{PUBLISHED[kind]:.0%}" if kind in PUBLISHED else "-"
        print(f"{kind:8} {accuracy:16.4f} {published:>10} {seconds:15.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
