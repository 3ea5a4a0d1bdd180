"""Does ``gradwise doctor --fix`` repair broken experiments? Before/after on realistic sizes.

One deliberately broken experiment per finding (the test suite's cases, scaled up: thousands of
samples, tens of epochs), each trained, diagnosed, and re-trained with the remedies the doctor
proposes (same seed). The table shows the judged test metric before → after (balanced accuracy
for class imbalance, accuracy or RMSE otherwise), the last epoch's validation loss, the findings
before → after, and any remedy that made things worse. (Both runs keep their best-validation
checkpoint, so an overfitting run's test score already has early stopping's benefit; its fix
shows in the final validation loss and the shorter run.) Well-configured controls (the
``gradwise init mnist1d`` recipes, small MLPs on scikit-learn datasets) must come out
``healthy``.

    python benchmarks/doctor_fix.py [--only CASE ...] [--no-controls] [--threads 1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
import yaml

import gradwise
from gradwise.cli.output import print_table
from gradwise.config.templates import starting_config
from gradwise.diagnose.doctor import diagnose
from gradwise.diagnose.fix import fix_run
from gradwise.errors import TrainingError
from gradwise.runs import RunPaths, read_summary


def experiment(
    source: str | dict[str, Any], model: dict[str, Any], task: str = "classification", **train: Any
) -> dict[str, Any]:
    data = {"source": source} if isinstance(source, str) else source
    return {
        "name": "broken",
        "seed": 0,
        "task": task,
        "data": data,
        "model": model,
        "train": {"batch_size": 64, "device": "cpu", **train},
        "report": {"enabled": False},
    }


MLP = {"kind": "mlp", "hidden": [256, 256]}
SYNTHETIC = {"n_samples": 4000, "n_features": 20, "n_informative": 10}
UNSCALED = {"source": "sklearn:breast_cancer", "scale": "none"}

BROKEN: dict[str, dict[str, Any]] = {
    "vanishing_gradients": experiment(
        {"source": "synthetic:classification", "options": SYNTHETIC},
        {"kind": "mlp", "hidden": [64] * 20, "activation": "sigmoid"},
        epochs=30,
    ),
    "exploding_gradients": experiment(
        {"source": "synthetic:signals", "options": {"n_samples": 3000}},
        {"kind": "rnn", "cell": "rnn", "hidden_size": 64},
        epochs=20,
        optimizer={"name": "sgd", "lr": 0.5},
    ),
    "underfitting": experiment("mnist1d", {"kind": "mlp", "hidden": [2]}, epochs=50),
    "overfitting": experiment(
        {
            "source": "synthetic:classification",
            "options": {"n_samples": 400, "n_features": 40, "flip_y": 0.2},
        },
        {"kind": "mlp", "hidden": [512, 512]},
        epochs=200,
        batch_size=32,
    ),
    "lr_too_high": experiment("mnist1d", MLP, epochs=30, optimizer={"lr": 1.0}),
    "lr_too_low": experiment("mnist1d", MLP, epochs=30, optimizer={"lr": 1e-6}),
    "class_imbalance": experiment(
        {
            "source": "synthetic:classification",
            "options": {**SYNTHETIC, "weights": [0.95, 0.05], "class_sep": 0.5, "flip_y": 0},
        },
        MLP,
        epochs=30,
    ),
    "non_finite_loss": experiment(
        {"source": "synthetic:regression", "options": {"n_samples": 4000}},
        MLP,
        task="regression",
        epochs=30,
        optimizer={"name": "sgd", "lr": 5.0},
    ),
    "dead_units": experiment(UNSCALED, MLP, epochs=50, optimizer={"lr": 0.01}),
    "saturated_units": experiment(UNSCALED, {**MLP, "activation": "tanh"}, epochs=50),
}


def controls() -> dict[str, dict[str, Any]]:
    """Well-configured experiments: the recipes of `gradwise init`, small MLPs."""
    found: dict[str, dict[str, Any]] = {}
    for model in ("mlp", "cnn1d"):
        config = yaml.safe_load(starting_config("mnist1d", model))
        config["train"]["device"] = "cpu"
        config["report"] = {"enabled": False}
        found[f"init mnist1d --model {model}"] = config
    for name in ("iris", "wine", "breast_cancer"):
        found[f"sklearn:{name} mlp [32, 32]"] = experiment(
            f"sklearn:{name}", {"kind": "mlp", "hidden": [32, 32]}, epochs=50, batch_size=32
        )
    return found


def train(config: dict[str, Any], out: Path) -> Path:
    before = set(out.iterdir())
    try:
        return gradwise.train(config, out=out).path
    except TrainingError:
        (created,) = [p for p in out.iterdir() if p not in before]
        return created


def fmt(value: float | None) -> str:
    return "failed" if value is None else f"{value:.4g}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="case names to run")
    parser.add_argument("--no-controls", action="store_true")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        for case, config in BROKEN.items():
            if args.only is not None and case not in args.only:
                continue
            started = time.perf_counter()
            report = fix_run(train(config, out))
            after = report.after
            rows.append(
                [
                    case,
                    "yes" if case in report.before.findings else "NO",
                    f"test {report.metric}",
                    fmt(report.before.test),
                    fmt(after.test) if after else "-",
                    report.verdict,
                    f"{fmt(report.before.valid_loss)} → {fmt(after.valid_loss) if after else '-'}",
                    f"{report.before.epochs} → {after.epochs if after else '-'}",
                    ", ".join(report.before.findings),
                    ", ".join(after.findings) if after else "-",
                    ", ".join(f"{r['key']}={r['value']}" for r in report.worse_remedies) or "-",
                ]
            )
            print(f"{case}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        print_table(
            [
                "case",
                "found",
                "metric",
                "before",
                "after",
                "verdict",
                "final valid loss",
                "epochs",
                "findings before",
                "findings after",
                "made worse",
            ],
            rows,
        )
        if not args.no_controls and args.only is None:
            print()
            control_rows = []
            for name, config in controls().items():
                diagnosis = diagnose(train(config, out))
                summary = read_summary(RunPaths(Path(diagnosis.run)))
                metric = summary["main_metric"]
                control_rows.append(
                    [
                        name,
                        f"test {metric}",
                        fmt(summary["test"][metric]),
                        ", ".join(diagnosis.codes),
                    ]
                )
            print_table(["control", "metric", "value", "diagnosis"], control_rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
