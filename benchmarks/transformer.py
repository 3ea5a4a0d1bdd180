"""The Transformer encoder on MNIST-1D beside the cnn1d recipe: test accuracy and training time.

Both recipes as `gradwise init mnist1d --model transformer|cnn1d` writes them (the cnn1d one is
`examples/mnist1d-cnn.yaml`), on the dataset's own 4000/1000 split, interleaved in one process
(cnn1d, transformer, cnn1d, ... one seed at a time) so that both see the same machine load.
Prints each run, then the median test accuracy and training time per model and the time ratio.

    python benchmarks/transformer.py [--seeds 0 1 2] [--set KEY=VALUE ...]  (--set: transformer)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

import gradwise
from gradwise.config.templates import starting_config

CNN_RECIPE = Path(__file__).resolve().parent.parent / "examples" / "mnist1d-cnn.yaml"


def recipes() -> dict[str, dict]:
    return {
        "cnn1d": yaml.safe_load(CNN_RECIPE.read_text()),
        "transformer": yaml.safe_load(starting_config("mnist1d", "transformer")),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args(argv)
    results: dict[str, list[tuple[float, float, float]]] = {}
    with tempfile.TemporaryDirectory() as out:
        for seed in args.seeds:
            for kind, recipe in recipes().items():
                recipe.update(seed=seed, report={"enabled": False})
                overrides = args.overrides if kind == "transformer" else []
                started = time.process_time()
                run = gradwise.train(recipe, out=out, overrides=overrides)
                cpu = time.process_time() - started
                summary = run.summary
                row = (summary["test"]["accuracy"], summary["train_time"], cpu)
                results.setdefault(kind, []).append(row)
                print(
                    f"{kind:<11} seed {seed}: test accuracy {row[0]:.4f}, training {row[1]:.1f} s "
                    f"wall ({cpu:.1f} s CPU), {summary['parameters']:,} parameters, best epoch "
                    f"{summary['best_epoch']}/{summary['epochs_run']}",
                    flush=True,
                )
    print(f"\n{'model':<11} {'median test acc':>16} {'median train s':>15} {'median CPU s':>13}")
    medians = {}
    for kind, rows in results.items():
        medians[kind] = [statistics.median(column) for column in zip(*rows, strict=True)]
        accuracy, wall, cpu = medians[kind]
        print(f"{kind:<11} {accuracy:16.4f} {wall:15.1f} {cpu:13.1f}")
    ratios = [t[1] / c[1] for t, c in zip(results["transformer"], results["cnn1d"], strict=True)]
    print(
        f"transformer / cnn1d training time, per seed: {', '.join(f'{r:.2f}' for r in ratios)} "
        f"(median {statistics.median(ratios):.2f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
