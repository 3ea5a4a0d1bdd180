"""Engine overhead: gradwise vs a hand-written PyTorch loop on the same model and data.

MLP 40→256→256→10 on MNIST-1D (the same train/valid split for both), Adam lr 1e-3, batch 128,
50 epochs, validation accuracy every epoch in both. Pairs run interleaved in one process so
machine noise hits both sides alike; the figure is the median of per-pair time ratios.

    python benchmarks/overhead.py [--pairs 5] [--epochs 50]

The hand loop is what a careful user writes: tensors in memory, ``randperm`` + slicing, the
default ``torch.optim.Adam``. gradwise's time is its whole ``fit`` (validation, metrics file,
best/last checkpoints every epoch included).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time

import torch
import torch.nn.functional as F
from torch import nn

import gradwise
from gradwise.data import load_splits


def hand_loop(splits, epochs: int, seed: int, fused: bool | None = None) -> tuple[float, float]:
    torch.manual_seed(seed)
    x = torch.as_tensor(splits.x_train)
    y = torch.as_tensor(splits.y_train)
    xv, yv = torch.as_tensor(splits.x_valid), torch.as_tensor(splits.y_valid)
    model = nn.Sequential(
        nn.Flatten(),
        nn.Linear(40, 256),
        nn.ReLU(),
        nn.Linear(256, 256),
        nn.ReLU(),
        nn.Linear(256, 10),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=fused)
    started = time.perf_counter()
    n = len(x)
    for _ in range(epochs):
        model.train()
        order = torch.randperm(n)
        for start in range(0, n, 128):
            index = order[start : start + 128]
            loss = F.cross_entropy(model(x[index]), y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            accuracy = (model(xv).argmax(1) == yv).float().mean().item()
    return time.perf_counter() - started, accuracy


def gradwise_run(epochs: int, seed: int, out: str) -> tuple[float, float]:
    config = {
        "name": "overhead",
        "seed": seed,
        "data": {"source": "mnist1d"},
        "model": {"kind": "mlp", "hidden": [256, 256]},
        "train": {
            "epochs": epochs,
            "batch_size": 128,
            "device": "cpu",
            "optimizer": {"name": "adam", "lr": 1e-3},
        },
    }
    run = gradwise.train(config, out=out)
    summary = run.summary
    return summary["fit_time"], summary["valid"]["accuracy"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=50)
    args = parser.parse_args(argv)
    data = gradwise.load_config({"data": {"source": "mnist1d"}}).data
    splits = load_splits(data, "labels", 0)
    hand_loop(splits, 2, 0)  # warm-up: first-call costs out of the measurement
    ratios, fused_ratios = [], []
    with tempfile.TemporaryDirectory() as out:
        gradwise_run(2, 0, out)
        for pair in range(args.pairs):
            hand_time, hand_acc = hand_loop(splits, args.epochs, pair)
            ours_time, ours_acc = gradwise_run(args.epochs, pair, out)
            fused_time, _ = hand_loop(splits, args.epochs, pair, fused=True)
            ratios.append(ours_time / hand_time)
            fused_ratios.append(ours_time / fused_time)
            print(
                f"pair {pair}: hand {hand_time:.2f} s (valid acc {hand_acc:.3f})  "
                f"gradwise {ours_time:.2f} s (valid acc {ours_acc:.3f})  "
                f"hand+fused Adam {fused_time:.2f} s  ratio {ratios[-1]:.3f}",
                flush=True,
            )
    print(
        f"gradwise / hand loop: median {statistics.median(ratios):.3f}x "
        f"(min {min(ratios):.3f}, max {max(ratios):.3f}) over {args.pairs} pairs"
    )
    print(f"gradwise / hand loop with fused Adam: median {statistics.median(fused_ratios):.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
