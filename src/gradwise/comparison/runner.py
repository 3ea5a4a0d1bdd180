"""``gradwise.compare(config)``: classical baselines against the deep model(s) on the same data.

For each seed s (``config.seed``, ``config.seed + 1``, …) the data is split and preprocessed
once by ``load_data(config)`` with seed s; one nested order of the training rows is
drawn (:mod:`.curves`); then for each training fraction, smallest first, every baseline and
every deep variant is fitted on the same rows and scored on the same test split. The results go
to ``<out>/<name>-compare-<timestamp>/``: ``compare.json``, ``learning_curves.png`` and the
resolved ``experiment.yaml`` (the picture: :func:`gradwise.report.size_curves.size_curves_png`).
Nothing is written before every fit has finished.

>>> import gradwise
>>> result = gradwise.compare("exp.yaml", overrides=["compare.seeds=5"])
>>> result.verdict
'cnn1d beats the best classical model (hist_gradient_boosting) by 22.4 ± 1.1 points ...'
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from gradwise._io import atomic_write_bytes, atomic_write_json, atomic_write_text
from gradwise.comparison.baselines import BASELINES, resolve_baselines
from gradwise.comparison.curves import check_fractions, nested_order, subset_rows
from gradwise.comparison.records import FitRecord
from gradwise.config import dump_config, load_config
from gradwise.config.compare import METRICS_BY_TARGETS, CompareConfig
from gradwise.config.load import ConfigSource
from gradwise.data.kinds import MULTI
from gradwise.errors import ConfigError, did_you_mean
from gradwise.runs import check_out_dir, create_stamped_dir
from gradwise.tasks import TASKS

Progress = Callable[[FitRecord, int, int], None]  # (record, fits done, fits in all)


@dataclass
class Comparison:
    """A finished comparison: its directory and its ``compare.json`` document."""

    path: Path
    document: dict[str, Any]

    @property
    def verdict(self) -> str:
        return self.document["verdict"]

    def __repr__(self) -> str:
        return f"Comparison({str(self.path)!r})"


def compare(
    config: ConfigSource,
    *,
    out: str | Path = "runs",
    overrides: list[str] | dict[str, Any] | None = None,
    seeds: int | None = None,
    quiet: bool = True,
    progress: Progress | None = None,
) -> Comparison:
    """Run the comparison described by ``config`` (its ``compare:`` section, or the defaults)."""
    config = load_config(config, overrides)
    if seeds is not None:
        config = load_config(config, {"compare.seeds": seeds})
    settings = config.compare or CompareConfig()
    config = config.model_copy(update={"compare": settings})  # the settings used, written out
    several = TASKS.get(config.task).target_kind == MULTI  # one classical model per target
    metric = None if several else resolve_metric(settings.metric, config.task)
    check_out_dir(out)  # before minutes of fitting, not after
    seed_list = [config.seed + i for i in range(settings.seeds)]

    from gradwise.tasks import load_data

    first_splits = load_data(config)  # seed_list[0] is config.seed
    n_train = len(first_splits.x_train)
    check_fractions(settings.fractions, first_splits.y_train)  # rows; classes per seed below
    if progress is None and not quiet:
        progress = print_progress
    if metric is None:
        from gradwise.comparison.multitarget import compare_targets

        document = compare_targets(config, settings, seed_list, first_splits, progress)
        return Comparison(write_comparison(out, config, document), document)
    baselines = resolve_baselines(settings.baselines, config.task, n_train)
    records = _fit_all(config, settings, baselines, seed_list, first_splits, progress)
    document = build_document(config, settings, seed_list, metric, first_splits.profile, records)
    return Comparison(write_comparison(out, config, document), document)


def resolve_metric(name: str | None, task: str) -> str:
    """The comparison's metric: ``name`` checked against the metrics of the task's target kind,
    or the first of them."""
    allowed = METRICS_BY_TARGETS.get(TASKS.get(task).target_kind)
    if allowed is None:
        raise ConfigError(
            f"compare: task '{task}' has no labels or values to predict, so classical "
            "baselines cannot be compared with it"
        )
    if name is None:
        return allowed[0]
    if name not in allowed:
        raise ConfigError(
            f"compare.metric: '{name}' is not a {task} metric{did_you_mean(name, allowed)}; "
            f"choose from: {', '.join(allowed)}"
        )
    return name


def _fit_all(
    config: Any,
    settings: CompareConfig,
    baselines: list[str],
    seed_list: list[int],
    first_splits: Any,
    progress: Progress | None,
) -> list[FitRecord]:
    import torch

    from gradwise.comparison.deep import deep_variants

    variants = deep_variants(config)
    threads = settings.threads or torch.get_num_threads()
    total = len(seed_list) * len(settings.fractions) * (len(baselines) + len(variants))
    records: list[FitRecord] = []
    with thread_budget(threads):
        for seed in seed_list:
            splits = first_splits if seed == seed_list[0] else None
            for fit in _fits_of_seed(config, settings, baselines, variants, seed, splits, threads):
                records.append(fit())
                if progress:
                    progress(records[-1], len(records), total)
    return records


def _fits_of_seed(
    config: Any,
    settings: CompareConfig,
    baselines: list[str],
    variants: list[tuple[str, Any]],
    seed: int,
    splits: Any | None,
    threads: int,
) -> Iterator[Callable[[], FitRecord]]:
    """The fits of one seed, in order: per fraction (smallest first) every baseline, then every
    deep variant, all on the same training rows of the same split."""
    from gradwise.comparison.classical import fit_classical
    from gradwise.comparison.deep import fit_deep
    from gradwise.experiment import create_paradigm
    from gradwise.tasks import load_data

    splits = splits or load_data(config.model_copy(update={"seed": seed}))
    task = create_paradigm(config, splits)
    classification = task.target_kind == "labels"
    order = nested_order(splits.y_train, classification, seed)
    # before this seed's first fit (the first seed's: before any fit)
    check_fractions(settings.fractions, splits.y_train, order if classification else None)
    for fraction in settings.fractions:
        rows = subset_rows(order, fraction)
        subset = replace(splits, x_train=splits.x_train[rows], y_train=splits.y_train[rows])
        for name in baselines:
            yield partial(fit_classical, name, config, subset, task, seed, fraction, threads)
        for name, model_config in variants:
            yield partial(fit_deep, name, model_config, config, subset, seed, fraction)


@contextmanager
def thread_budget(threads: int) -> Iterator[None]:
    """Every fit runs with ``threads`` CPU threads: torch's intra-op pool and the native
    OpenMP/BLAS pools of the classical libraries (restored afterwards)."""
    import torch
    from threadpoolctl import threadpool_limits

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        torch.set_num_threads(previous)


def print_progress(record: FitRecord, done: int, total: int) -> None:
    """One line per finished fit on stderr."""
    import sys

    scores = "  ".join(f"{k} {v:.4g}" for k, v in record.test.items())
    sys.stderr.write(
        f"[{done}/{total}] seed {record.seed}  {record.fraction:>5.0%} ({record.n_train} rows)  "
        f"{record.model:<24} {scores}  ({record.fit_time:.1f} s)\n"
    )
    sys.stderr.flush()


def build_document(
    config: Any,
    settings: CompareConfig,
    seed_list: list[int],
    metric: str,
    profile: dict[str, Any],
    records: list[FitRecord],
) -> dict[str, Any]:
    """The ``compare.json`` document (see DESIGN §4 and the module docs of :mod:`.summary`)."""
    from gradwise.comparison.summary import (
        dataset_summary,
        decide,
        evidence,
        learning_curves,
        model_table,
    )
    from gradwise.metric_names import higher_is_better

    higher = higher_is_better(metric)
    counts = {name: BASELINES.get(name).counts for name in BASELINES}
    verdict, outcome = decide(records, metric, higher)
    dataset = dataset_summary(profile)
    table = model_table(records, metric, higher, counts)
    curves = learning_curves(records, metric)
    return {
        "name": config.name,
        "task": config.task,
        "metric": metric,
        "higher_is_better": higher,
        "seeds": seed_list,
        "fractions": settings.fractions,
        "dataset": dataset,
        "models": table,
        "learning_curves": curves,
        "verdict": verdict,
        "comparison": outcome.to_dict() if outcome else None,
        "evidence": evidence(table, curves, dataset, outcome),
        "fits": [r.to_dict() for r in records],
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def write_comparison(out: str | Path, config: Any, document: dict[str, Any]) -> Path:
    from gradwise.report.size_curves import size_curves_png

    picture = size_curves_png(document)  # drawn before the folder exists: nothing half-written
    folder = create_stamped_dir(out, f"{config.name}-compare")
    document["path"] = str(folder)
    atomic_write_text(folder / "experiment.yaml", dump_config(config))
    atomic_write_bytes(folder / "learning_curves.png", picture)
    atomic_write_json(folder / "compare.json", document)
    return folder
