"""Diagnostics overhead: the same training with the per-layer statistics collector on and off.

MLP 40→256→256→10 on MNIST-1D, Adam lr 1e-3, batch 128, 50 epochs, CPU. Two measurements:

1. Whole runs (``gradwise.train`` with ``diagnose.enabled`` true vs false), interleaved in pairs
   within one process, alternating which goes first so a drift in machine load favours neither.
   The figure is the median of the per-pair ratios of training time (the engine's summed
   per-epoch ``train_time``, where the collector works); fit time and process CPU time alongside.
2. Epoch-interleaved: one model and trainer, epochs alternating between the collector on and
   off (the sampling cadence runs on across epochs). Load changes on a 2-core machine shared with
   other jobs are slower than an epoch, so this isolates the collector's cost much more tightly.

The budget is ≤ 1.05× at the default cadence (``diagnose.every``).

    python benchmarks/diagnostics_overhead.py [--pairs 15] [--epochs 50] [--every N] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

import gradwise
from gradwise._io import read_jsonl
from gradwise.config.schema import DiagnoseConfig
from gradwise.diagnose.collector import DiagnosticsCollector
from gradwise.experiment import build_experiment, load_data
from gradwise.training.callbacks import CallbackList


def experiment_config(enabled: bool, every: int, epochs: int, seed: int) -> dict:
    return {
        "name": "diag-on" if enabled else "diag-off",
        "seed": seed,
        "data": {"source": "mnist1d"},
        "model": {"kind": "mlp", "hidden": [256, 256]},
        "train": {
            "epochs": epochs,
            "batch_size": 128,
            "device": "cpu",
            "optimizer": {"name": "adam", "lr": 1e-3},
        },
        "diagnose": {"enabled": enabled, "every": every},
        "report": {"enabled": False},
    }


def run(enabled: bool, every: int, epochs: int, seed: int, out: str) -> dict[str, float]:
    cpu_started = time.process_time()
    summary = gradwise.train(experiment_config(enabled, every, epochs, seed), out=out).summary
    samples = len(read_jsonl(Path(summary["run_dir"]) / "diagnostics.jsonl"))
    return {
        "train": summary["train_time"],
        "fit": summary["fit_time"],
        "cpu": time.process_time() - cpu_started,
        "samples": samples,
    }


def whole_runs(args: argparse.Namespace) -> None:
    ratios: dict[str, list[float]] = {"train": [], "fit": [], "cpu": []}
    with tempfile.TemporaryDirectory() as out:
        run(True, args.every, 2, 0, out)  # warm-up: first-call costs out of the measurement
        run(False, args.every, 2, 0, out)
        for pair in range(args.pairs):
            if pair % 2:
                on = run(True, args.every, args.epochs, pair, out)
                off = run(False, args.every, args.epochs, pair, out)
            else:
                off = run(False, args.every, args.epochs, pair, out)
                on = run(True, args.every, args.epochs, pair, out)
            for key in ratios:
                ratios[key].append(on[key] / off[key])
            print(
                f"pair {pair}: off {off['train']:.2f} s  on {on['train']:.2f} s "
                f"({int(on['samples'])} samples)  train ratio {ratios['train'][-1]:.3f}  "
                f"fit ratio {ratios['fit'][-1]:.3f}  cpu ratio {ratios['cpu'][-1]:.3f}",
                flush=True,
            )
    train = ratios["train"]
    print(
        f"whole runs, diagnostics on / off (every {args.every} steps): median "
        f"{statistics.median(train):.3f}x training time (min {min(train):.3f}, max "
        f"{max(train):.3f}) over {args.pairs} pairs; fit time "
        f"{statistics.median(ratios['fit']):.3f}x, process CPU time "
        f"{statistics.median(ratios['cpu']):.3f}x"
    )


def interleaved_epochs(args: argparse.Namespace) -> None:
    config = gradwise.load_config(experiment_config(True, args.every, 2 * args.epoch_pairs, 0))
    experiment = build_experiment(config, load_data(config))
    trainer = experiment.trainer
    with tempfile.TemporaryDirectory() as folder:
        collector = DiagnosticsCollector(Path(folder) / "diagnostics.jsonl", args.every)
        with_collector, without = CallbackList([collector]), CallbackList([])
        collector.on_fit_start(trainer)
        times: dict[bool, list[float]] = {True: [], False: []}
        for pair in range(args.epoch_pairs + 1):
            for enabled in (True, False) if pair % 2 else (False, True):
                if not enabled:
                    collector.detach()  # no hooks left over from the other side
                trainer.callbacks = with_collector if enabled else without
                started = time.perf_counter()
                trainer.train_epoch(experiment.train_split)
                trainer.epoch += 1
                if pair > 0:  # the first pair warms up
                    times[enabled].append(time.perf_counter() - started)
        samples = len(read_jsonl(Path(folder) / "diagnostics.jsonl"))
    ratios = [on / off for on, off in zip(times[True], times[False], strict=True)]
    print(
        f"epoch-interleaved, diagnostics on / off (every {args.every} steps, {samples} samples): "
        f"median {statistics.median(ratios):.3f}x per epoch pair, total "
        f"{sum(times[True]) / sum(times[False]):.3f}x over {args.epoch_pairs} pairs "
        f"({statistics.median(times[False]) * 1e3:.0f} ms per epoch off)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=15, help="whole-run pairs")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--epoch-pairs", type=int, default=200, help="epoch-interleaved pairs")
    parser.add_argument("--every", type=int, default=DiagnoseConfig().every)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1: stable)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    interleaved_epochs(args)
    if args.pairs > 0:
        whole_runs(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
