"""Generative and unsupervised learning against their classical baselines, measured.

For each dataset (``sklearn:digits``, ``mnist1d``) and seed, with the recipes ``gradwise init DATA
--task vae | gan | autoencoder`` prints (nothing tuned here):

- VAE and GAN: the Fréchet distance of the samples (``fd``) against that of a 10-component
  full-covariance Gaussian mixture fitted to the same training split (``fd_baseline``; each
  the mean of five sample draws or mixture fits, with its standard deviation) and of real
  training data (``fd_floor``), all measured in the same run against the held-out test split;
  their ratio (goal: fd / fd_baseline < 1), training time, the VAE's test ELBO;
- autoencoder + k-means vs PCA + k-means: ARI and NMI against the labels (test split);
- the doctor on a deliberately collapsed GAN (unconditional, no R1, no spectral norm, no
  minibatch std, no weight average, Adam β₁ = 0.9) and a posterior-collapsed VAE (β = 8): the
  finding, and what ``doctor --fix`` does to the judged figure.

Usage::

    python benchmarks/generative.py [--datasets sklearn:digits mnist1d] [--seeds 0 1 2]
        [--parts quality clustering doctor] [--out results.json] [--artifacts DIR]

One thread per process (the machines are shared); every figure printed is measured here.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch
import yaml

import gradwise
from gradwise.config.templates import starting_config

RUNS = Path("/tmp/gradwise-bench-generative")


def recipe(dataset: str, task: str, seed: int, **overrides: Any) -> Any:
    """The ``gradwise init`` recipe of ``task`` for ``dataset``, CPU, no report."""
    raw = yaml.safe_load(starting_config(dataset, task=task))
    raw.update(name=f"{dataset.split(':')[-1]}-{task}-{seed}", seed=seed)
    raw["train"]["device"] = "cpu"
    raw["report"] = {"enabled": False}
    raw["diagnose"] = {"enabled": False}
    config = gradwise.load_config(raw)
    return gradwise.load_config(config.model_dump(mode="json"), overrides) if overrides else config


def train(config: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    run = gradwise.train(config, out=RUNS)
    return run, time.perf_counter() - started


def quality(dataset: str, seed: int, task: str, **overrides: Any) -> dict[str, Any]:
    run, seconds = train(recipe(dataset, task, seed, **overrides))
    test = run.summary["test"]
    keys = ("fd", "fd_sd", "fd_baseline", "fd_baseline_sd", "fd_floor", "fd_ratio", "elbo")
    row = {k: test.get(k) for k in keys}
    row.update(
        dataset=dataset,
        seed=seed,
        task=task,
        variant=",".join(f"{k}={v}" for k, v in overrides.items()) or "recipe",
        seconds=seconds,
        train_time=run.summary["train_time"],
        best_epoch=run.summary["best_epoch"],
        run=str(run.path),
    )
    return row


def clustering(dataset: str, seed: int) -> dict[str, Any]:
    run, seconds = train(recipe(dataset, "autoencoder", seed))
    test = run.summary["test"]
    keys = ("ari", "nmi", "clusters", "pca_ari", "pca_nmi", "pca_clusters")
    return {"dataset": dataset, "seed": seed, "seconds": seconds, **{k: test.get(k) for k in keys}}


BROKEN = {
    # a naive GAN pushed into collapse: unconditional, no R1 penalty, no spectral norm, no
    # minibatch std, no weight average, no output floor, no dropout in D, Adam(0.9, 0.999),
    # and a generator ten times faster than its discriminator (it chases the one spot D
    # currently likes)
    "gan": {
        "generative.conditional": False,
        "generative.output_floor": False,
        "generative.discriminator_dropout": 0.0,
        "generative.gradient_penalty": 0.0,
        "generative.spectral_norm": False,
        "generative.minibatch_std": False,
        "generative.generator_ema": None,
        "train.optimizer.betas": [0.9, 0.999],
        "train.optimizers": {"generator": {"lr": 0.005}, "discriminator": {"lr": 0.0005}},
        "train.epochs": 40,
    },
    # β = 8 charges every nat of information eightfold: most units switch off
    "vae": {"generative.beta": 8.0, "generative.kl_warmup_epochs": 0.0, "train.epochs": 40},
}
JUDGED = {"gan": "fd", "vae": "elbo"}


def doctor(dataset: str, task: str) -> dict[str, Any]:
    from gradwise.diagnose.doctor import diagnose
    from gradwise.diagnose.fix import fix_run

    run, _ = train(recipe(dataset, task, 0, **BROKEN[task]))
    found = diagnose(run.path)
    fixed = fix_run(run.path)
    return {
        "dataset": dataset,
        "task": task,
        "findings": found.codes,
        "remedies": {r.key: r.value for r in fixed.remedies},
        "metric": fixed.metric,
        "before": fixed.before.test,
        "after": fixed.after.test if fixed.after else None,
        "verdict": fixed.verdict,
        "findings_after": fixed.after.findings if fixed.after else None,
        "run": str(run.path),
    }


def summarize(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in keys:
        values = [r[key] for r in rows if isinstance(r.get(key), (int, float))]
        if values:
            out[key] = statistics.mean(values)
            out[f"{key}_sd"] = statistics.stdev(values) if len(values) > 1 else 0.0
    return out


def artifacts(folder: Path, rows: list[dict[str, Any]]) -> None:
    """A sample grid and the report of each dataset's seed-0 VAE and GAN runs."""
    from gradwise.generative.sampling import sample_to_file
    from gradwise.report import write_report

    folder.mkdir(parents=True, exist_ok=True)
    for row in rows:
        if row["seed"] != 0:
            continue
        name = f"{row['dataset'].split(':')[-1]}-{row['task']}-{row['variant']}"
        run = gradwise.Run(row["run"])
        suffix = "csv" if run.preprocessor.input_kind == "tabular" else "png"
        sample_to_file(run, 64, 0, folder / f"{name}.{suffix}")
        write_report(row["run"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["sklearn:digits", "mnist1d"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument(
        "--parts", nargs="+", default=["quality", "clustering", "doctor"],
        choices=["quality", "clustering", "doctor"],
    )  # fmt: skip
    parser.add_argument("--tasks", nargs="+", default=["vae", "gan"])
    parser.add_argument("--doctor-tasks", nargs="+", default=["gan", "vae"])
    parser.add_argument("--out", type=Path, default=None, help="results as JSON")
    parser.add_argument("--artifacts", type=Path, default=None, help="sample grids and reports")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    results: dict[str, Any] = {"quality": [], "clustering": [], "doctor": []}

    def save() -> None:
        if args.out is not None:
            args.out.write_text(json.dumps(results, indent=1, default=str))

    for dataset in args.datasets:
        for seed in args.seeds:
            if "quality" in args.parts:
                for task in args.tasks:
                    row = quality(dataset, seed, task)
                    results["quality"].append(row)
                    print(json.dumps(row), flush=True)
                    save()
            if "clustering" in args.parts:
                row = clustering(dataset, seed)
                results["clustering"].append(row)
                print(json.dumps(row), flush=True)
                save()
        if "doctor" in args.parts and dataset == "sklearn:digits":
            for task in args.doctor_tasks:
                row = doctor(dataset, task)
                results["doctor"].append(row)
                print(json.dumps(row, default=str), flush=True)
                save()
    print("\n== summary (mean ± sd over seeds) ==")
    for dataset in args.datasets:
        for task in args.tasks:
            rows = [r for r in results["quality"] if r["dataset"] == dataset and r["task"] == task]
            if rows:
                keys = ("fd", "fd_baseline", "fd_floor", "fd_ratio", "elbo", "train_time")
                print(dataset, task, json.dumps(summarize(rows, keys)))
        rows = [r for r in results["clustering"] if r["dataset"] == dataset]
        if rows:
            print(dataset, "clustering", json.dumps(summarize(rows, ("ari", "pca_ari", "nmi",
                                                                     "pca_nmi"))))  # fmt: skip
    if args.artifacts is not None:
        artifacts(args.artifacts, results["quality"])
    save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
