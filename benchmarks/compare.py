"""Is deep learning worth it? `gradwise compare` on MNIST-1D and on a tabular R dataset.

1. MNIST-1D, the dataset's own split (4000 train, of which 10% of the whole is held out for
   validation / 1000 test): the default cnn1d recipe (`gradwise init mnist1d --model cnn1d`),
   an MLP (256-256) trained with the same recipe, and every classical baseline. Each measured
   test accuracy is printed beside the published one (Greydanus & Kobak, 2024: logistic
   regression 32%, MLP 68%, CNN 94%).
2. `rdata:Ecdat/Computers` (price of a PC from its specification; regression, RMSE in dollars):
   the default tabular MLP recipe (`gradwise init rdata:Ecdat/Computers`) against the baselines.

    python benchmarks/compare.py [--only mnist1d|computers] [--seeds 3] [--threads 1]
                                 [--fractions 0.1 0.25 0.5 1.0] [--out DIR]

Every fit gets the same CPU thread budget (--threads, default 1: on a shared machine a busy
core makes multi-threaded OpenMP spin, which distorts fit times far more than it speeds them
up). Times are wall seconds as measured, with the process CPU time of the whole run beside them.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from typing import Any

import yaml

import gradwise
from gradwise.cli.compare import print_comparison
from gradwise.comparison.runner import print_progress
from gradwise.config.templates import starting_config

PUBLISHED_MNIST1D = {"logistic_regression": 0.32, "mlp": 0.68, "cnn1d": 0.94}


def mnist1d_config() -> dict[str, Any]:
    config = yaml.safe_load(starting_config("mnist1d", "cnn1d"))
    config["compare"] = {"models": [{"kind": "mlp", "hidden": [256, 256]}]}
    return config


def computers_config() -> dict[str, Any]:
    config = yaml.safe_load(starting_config("rdata:Ecdat/Computers", "mlp"))
    config["compare"] = {}
    return config


CASES = {"mnist1d": mnist1d_config, "computers": computers_config}


def run_case(name: str, args: argparse.Namespace, out: str) -> dict[str, Any]:
    config = CASES[name]()
    config["report"] = {"enabled": False}
    config["compare"].update(seeds=args.seeds, threads=args.threads, fractions=args.fractions)
    print(f"\n=== {name}: {config['data']['source']} ===", flush=True)
    wall, cpu = time.perf_counter(), time.process_time()
    result = gradwise.compare(config, out=out, progress=print_progress)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print()
    print_comparison(result.document)
    print(f"whole comparison: {wall:.0f} s wall, {cpu:.0f} s CPU")
    return result.document


def print_published(document: dict[str, Any]) -> None:
    print("\nMNIST-1D test accuracy, measured (mean ± std over seeds) beside published:")
    print(f"{'model':22} {'measured':>17} {'published':>10}")
    for model in document["models"]:
        published = PUBLISHED_MNIST1D.get(model["name"])
        shown = f"{published:.0%}" if published is not None else "-"
        test = model["test"]
        print(f"{model['name']:22} {test['mean']:9.4f} ± {test['std']:.4f} {shown:>10}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(CASES), default=None)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.1, 0.25, 0.5, 1.0])
    parser.add_argument("--out", default=None, help="keep the comparison folders here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or scratch
        for name in [args.only] if args.only else list(CASES):
            document = run_case(name, args, out)
            if name == "mnist1d":
                print_published(document)
    return 0


if __name__ == "__main__":
    sys.exit(main())
