"""Transfer learning on MNIST-1D: pretrain on digits 0–4, fine-tune on digits 5–9 from a few
labelled examples, and compare with training from scratch.

Pretraining: the cnn1d recipe (`examples/mnist1d-cnn.yaml`) on the training rows of digits 0–4
(≈2000). Fine-tuning: k = 5, 20, 100 examples per class of digits 5–9 (drawn per seed from the
training split), tested on every digit 5–9 of the dataset's own test split (≈500 rows). Arms,
all with the same recipe (AdamW lr 0.003, cosine schedule, batch 32, 60 epochs and at least
300 optimizer steps — 300 epochs at 5 per class):

- scratch      the cnn1d from a random initialization
- frozen body  init_from the pretrained body, model.freeze: [features] (only the head learns)
- fine-tune    init_from, every layer at the same learning rate
- discr. LR    init_from, train.optimizer.lr_decay: 0.5 per layer group from the head down

The transfer arms start from the pretrained run's best weights without its head (written to a
``.safetensors`` file), so the head is freshly initialized as for a new task — the table in
``summary.json`` lists ``head.weight``/``head.bias`` as missing in the source. (Loading the old
5-class head as well starts the new task from confidently wrong logits.) From a weights file
the fine-tuning data keeps its own scaling (one mean and standard deviation for the signal's
channel, which 25 rows already estimate well). Prints the test
accuracy of each arm and seed, the mean per arm and size, and the gain of each transfer arm over
scratch in points.

    python benchmarks/transfer.py [--sizes 5 20 100] [--seeds 0 1 2] [--epochs 60] [--steps 300]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from safetensors.torch import load_file, save_file

import gradwise
from gradwise.data.builtin import load_mnist1d

BATCH = 32
RECIPE = Path(__file__).resolve().parent.parent / "examples" / "mnist1d-cnn.yaml"
ARMS: dict[str, dict[str, Any]] = {
    "scratch": {},
    "frozen body": {"model": {"freeze": ["features"]}},
    "fine-tune": {"model": {}},
    "discr. LR": {"model": {}, "train": {"optimizer": {"lr_decay": 0.5}}},
}


def write_npz(path: Path, x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray):
    np.savez(path, x=x[:, None, :], y=y, x_test=x_test[:, None, :], y_test=y_test)
    return path


def pretrain(out: Path, arrays: dict[str, np.ndarray], epochs: int | None) -> gradwise.Run:
    low, low_test = arrays["y"] < 5, arrays["y_test"] < 5
    source = write_npz(
        out / "digits0-4.npz",
        arrays["x"][low],
        arrays["y"][low],
        arrays["x_test"][low_test],
        arrays["y_test"][low_test],
    )
    recipe = yaml.safe_load(RECIPE.read_text())
    recipe.update(name="pretrain-0-4", report={"enabled": False})
    if epochs is not None:
        recipe["train"]["epochs"] = epochs
    recipe["data"] = {**recipe["data"], "source": str(source)}
    return gradwise.train(recipe, out=out)


def fine_tune_data(out: Path, arrays: dict[str, np.ndarray], k: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    rows = np.concatenate(
        [
            rng.choice(np.flatnonzero(arrays["y"] == digit), k, replace=False)
            for digit in range(5, 10)
        ]
    )
    high_test = arrays["y_test"] >= 5
    return write_npz(
        out / f"digits5-9-k{k}-seed{seed}.npz",
        arrays["x"][rows],
        arrays["y"][rows],
        arrays["x_test"][high_test],
        arrays["y_test"][high_test],
    )


def body_weights(out: Path, source: gradwise.Run) -> Path:
    """The pretrained run's best weights without the head, as a local .safetensors file."""
    weights = load_file(source.path / "checkpoints" / "best.safetensors")
    path = out / "pretrained-body.safetensors"
    save_file({n: t for n, t in weights.items() if not n.startswith("head.")}, str(path))
    return path


def fine_tune_config(data: Path, arm: str, source: Path, seed: int, epochs: int) -> dict[str, Any]:
    """``arm``'s experiment on ``data`` for ``epochs`` epochs."""
    recipe = yaml.safe_load(RECIPE.read_text())
    changes = ARMS[arm]
    model = {**recipe["model"], **changes.get("model", {})}
    if "model" in changes:
        model["init_from"] = str(source)
    optimizer = {"name": "adamw", "lr": 0.003, "weight_decay": 0.01}
    optimizer.update(changes.get("train", {}).get("optimizer", {}))
    return {
        "name": f"ft-{arm.replace(' ', '').replace('.', '')}",
        "seed": seed,
        "data": {"source": str(data), "valid": 0.0},  # too few rows to hold some out
        "model": model,
        "train": {
            "epochs": epochs,
            "batch_size": BATCH,
            "optimizer": optimizer,
            "schedule": {"name": "cosine"},
            "monitor": "train_loss",
        },
        "report": {"enabled": False},
        "diagnose": {"enabled": False},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[5, 20, 100])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--steps", type=int, default=300, help="fewest optimizer steps per run")
    parser.add_argument("--pretrain-epochs", type=int, default=None, help="default: the recipe's")
    args = parser.parse_args(argv)
    arrays = load_mnist1d({})
    accuracy: dict[tuple[int, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        started = time.perf_counter()
        source = pretrain(out, arrays, args.pretrain_epochs)
        print(
            f"pretrained on digits 0-4: test accuracy {source.summary['test']['accuracy']:.4f} "
            f"({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
        body = body_weights(out, source)
        for k in args.sizes:
            for seed in args.seeds:
                data = fine_tune_data(out, arrays, k, seed)
                # at least --steps optimizer steps: the smallest sets get more epochs
                epochs = max(args.epochs, math.ceil(args.steps / math.ceil(5 * k / BATCH)))
                for arm in ARMS:  # interleaved: every arm on the same rows, one after the other
                    config = fine_tune_config(data, arm, body, seed, epochs)
                    run = gradwise.train(config, out=out / "runs")
                    value = run.summary["test"]["accuracy"]
                    accuracy.setdefault((k, arm), []).append(value)
                    print(f"k={k:<3} seed {seed} {arm:<12} test accuracy {value:.4f}", flush=True)
    print(f"\nmean test accuracy on digits 5-9 over seeds {args.seeds} (gain over scratch, points)")
    print(f"{'per class':>9} " + " ".join(f"{arm:>22}" for arm in ARMS))
    for k in args.sizes:
        scratch = statistics.mean(accuracy[(k, "scratch")])
        cells = []
        for arm in ARMS:
            mean = statistics.mean(accuracy[(k, arm)])
            gain = "" if arm == "scratch" else f" ({100 * (mean - scratch):+.1f})"
            cells.append(f"{mean:.4f}{gain}".rjust(22))
        print(f"{k:>9} " + " ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
