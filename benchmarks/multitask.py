"""Multi-task learning on R's diamonds: price (regression) and cut (5 classes) from one body.

Data: ``rdata:ggplot2/diamonds`` (53,940 rows; its row-index column is left out by the reader),
a fixed random subsample of ``--rows`` rows (default 20,000) written to a temporary CSV. Inputs:
carat, color, clarity, depth, table, x, y, z (neither target is an input of any arm).

Arms (same MLP 2×256 ReLU, AdamW 3e-3 with a one-cycle schedule, batch 256, ``--epochs``
epochs, best checkpoint by ``valid_loss``):

- ``single price`` / ``single cut``: one target trained alone — the multi-task config with
  the other target's loss weight 0 (its head gets no gradient, so the body learns from one
  loss only). This keeps every arm on exactly the same rows: the split is stratified by cut
  in every arm, which a plain regression run would not be.
- ``multitask fixed``: both losses, weights 1 and 1 (price standardized MSE + cut cross-entropy).
- ``multitask uncertainty``: learned homoscedastic weights (Kendall, Gal & Cipolla, 2018).

Per arm: test RMSE of price (dollars) and test accuracy of cut, mean ± std over the seeds, mean
training time (``fit_time``: the epochs, without start-up), and (uncertainty arm) the learned
weights c_t·exp(−s_t) at the end of training.

    python benchmarks/multitask.py [--seeds 0 1 2] [--rows 20000] [--epochs 30] [--jobs 2]
                                   [--arms NAME ...] [--price-weight W]

``--price-weight W`` adds the arm ``single price xW`` (price alone, its loss weighted W): the
learned weights scale price's loss up, and this arm tells a larger loss scale apart from the
sharing of the body.

Goal: show whether sharing one body between price and cut helps either target, and what the
learned weights settle to.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

TARGETS = {"price": "regression", "cut": "classification"}
ARMS: dict[str, Any] = {
    "single price": {"price": 1.0, "cut": 0.0},
    "single cut": {"price": 0.0, "cut": 1.0},
    "multitask fixed": {"price": 1.0, "cut": 1.0},
    "multitask uncertainty": "uncertainty",
}


def write_subsample(folder: Path, rows: int) -> Path:
    """A fixed random subsample of diamonds (seed 0) as a CSV."""
    from gradwise.config import load_config
    from gradwise.data import read_source

    config = load_config({"data": {"source": "rdata:ggplot2/diamonds", "target": "price"}})
    table = read_source(config.data, 0).table
    sample = table.sample(n=min(rows, len(table)), random_state=0).reset_index(drop=True)
    path = folder / "diamonds.csv"
    sample.to_csv(path, index=False)
    return path


def one_run(job: tuple[str, int, str, int]) -> dict[str, Any]:
    arm, seed, csv, epochs, weights = job
    import warnings

    import torch

    import gradwise

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    config = {
        "name": f"diamonds-{arm.replace(' ', '-')}",
        "seed": seed,
        "data": {"source": csv, "target": TARGETS},
        "model": {"kind": "mlp", "hidden": [256, 256]},
        "train": {
            "epochs": epochs,
            "batch_size": 256,
            "device": "cpu",
            "optimizer": {"name": "adamw", "lr": 3e-3},
            "schedule": {"name": "one_cycle"},
            "loss_weights": weights,
        },
        "diagnose": {"enabled": False},
        "report": {"enabled": False},
    }
    with tempfile.TemporaryDirectory() as out:
        summary = gradwise.train(config, out=out).summary
    return {
        "arm": arm,
        "seed": seed,
        "price_rmse": summary["test"]["price_rmse"],
        "cut_accuracy": summary["test"]["cut_accuracy"],
        "seconds": summary["fit_time"],  # training and validation, without start-up
        "weights": summary["loss_weights"]["weights"],
    }


def mean_std(values: list[float]) -> str:
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.4f} ± {spread:.4f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--arms", nargs="+", default=None, help="arms to run (default: all)")
    parser.add_argument("--price-weight", type=float, default=None)
    args = parser.parse_args(argv)
    arms = dict(ARMS)
    if args.price_weight is not None:
        arms[f"single price x{args.price_weight:g}"] = {"price": args.price_weight, "cut": 0.0}
    if args.arms:
        arms = {name: arms[name] for name in args.arms}
    with tempfile.TemporaryDirectory() as folder:
        csv = str(write_subsample(Path(folder), args.rows))
        # seeds outermost, arms interleaved: a slow moment of the machine hits every arm alike
        jobs = [(arm, seed, csv, args.epochs, arms[arm]) for seed in args.seeds for arm in arms]
        with ProcessPoolExecutor(args.jobs) as pool:
            results = list(pool.map(one_run, jobs))
    print(f"diamonds, {args.rows} rows, {args.epochs} epochs, seeds {args.seeds}")
    print(f"{'arm':<24} {'price test RMSE ($)':>22} {'cut test accuracy':>20} {'time (s)':>9}")
    for arm, weights in arms.items():
        mine = [r for r in results if r["arm"] == arm]
        trained = weights if isinstance(weights, dict) else {"price": 1, "cut": 1}
        rmse = mean_std([r["price_rmse"] for r in mine]) if trained["price"] else "—"
        accuracy = mean_std([r["cut_accuracy"] for r in mine]) if trained["cut"] else "—"
        seconds = statistics.mean(r["seconds"] for r in mine)
        print(f"{arm:<24} {rmse:>22} {accuracy:>20} {seconds:>9.1f}")
    print("per seed:")
    for r in results:
        weights = ", ".join(f"{k} {v:.3f}" for k, v in r["weights"].items())
        print(
            f"  {r['arm']:<24} seed {r['seed']}  price RMSE {r['price_rmse']:.2f}  "
            f"cut accuracy {r['cut_accuracy']:.4f}  {r['seconds']:.1f} s  weights: {weights}"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
