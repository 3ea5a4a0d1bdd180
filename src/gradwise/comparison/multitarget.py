"""``gradwise compare`` for a run with several targets: one classical model per target.

A classical baseline learns one target, so each target t gets its own baselines (those serving
its kind: classifiers for classes, regressors for values), fitted on the same training rows as
the deep multi-task model and scored on the same test split with the target's own metrics. The
deep model is fitted once per seed and fraction (all targets at once) and its per-target metrics
(``<key>_<metric>``) are read back under the plain names for target t. Each target then gets the
single-target comparison document (:func:`gradwise.comparison.runner.build_document`): its own
table, learning curves and verdict. ``compare.json`` holds them under ``targets``; its top-level
``metric``/``models``/``learning_curves`` are the first target's (what the picture draws) and its
``verdict`` joins one sentence per target.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np

from gradwise.comparison.baselines import BASELINES, resolve_baselines
from gradwise.comparison.curves import check_fractions, nested_order, subset_rows
from gradwise.comparison.records import FitRecord
from gradwise.config.compare import METRICS_BY_TARGETS, CompareConfig
from gradwise.errors import ConfigError
from gradwise.tasks import task_for_targets

PER_TARGET_KEYS = (
    "metric",
    "higher_is_better",
    "models",
    "learning_curves",
    "verdict",
    "comparison",
    "evidence",
)


def target_metric(name: str | None, kind: str) -> str:
    """``compare.metric`` when it measures targets of ``kind``, else the kind's first metric."""
    allowed = METRICS_BY_TARGETS[kind]
    return name if name in allowed else allowed[0]


def target_baselines(names: list[str] | None, targets: list[Any], n_train: int) -> dict[str, list]:
    """Target name → the baselines fitted for it: the named ones that serve its kind (each
    named one must serve some target), or every default one for its kind."""
    if names is None:
        return {t.name: resolve_baselines(None, task_for_targets(t.kind), n_train) for t in targets}
    kinds = {t.kind for t in targets}
    for name in names:
        if not kinds & set(BASELINES.get(name).targets):  # unknown name: did-you-mean
            raise ConfigError(f"compare.baselines: '{name}' serves none of the targets' kinds")
    chosen = {}
    for t in targets:
        serving = [n for n in names if t.kind in BASELINES.get(n).targets]
        if not serving:
            raise ConfigError(
                f"compare.baselines: none of {', '.join(names)} can learn the target "
                f"'{t.name}' ({t.kind}); add one that does"
            )
        chosen[t.name] = resolve_baselines(serving, task_for_targets(t.kind), n_train)
    return chosen


def strata(y: np.ndarray, targets: list[Any]) -> np.ndarray | None:
    """The first classification target's class indices (subsets keep its class shares)."""
    for j, target in enumerate(targets):
        if target.kind == "labels":
            return y[:, j].astype(np.int64)
    return None


def one_target(split: Any, j: int, target: Any) -> Any:
    """The split with target ``j``'s column alone, encoded as its single-target task reads it."""

    def column(y: np.ndarray | None) -> np.ndarray | None:
        if y is None:
            return None
        values = np.asarray(y).reshape(len(y), -1)[:, j]
        return values.astype(np.int64) if target.kind == "labels" else values

    return replace(
        split,
        y_train=column(split.y_train),
        y_valid=column(split.y_valid),
        y_test=column(split.y_test),
    )


def fits_of_seed(
    config: Any,
    settings: CompareConfig,
    baselines: dict[str, list[str]],
    variants: list[tuple[str, Any]],
    seed: int,
    splits: Any | None,
    threads: int,
) -> Iterator[tuple[str | None, Any]]:
    """(target name or None for a deep fit, fit) of one seed, smallest fraction first."""
    from gradwise.comparison.classical import fit_classical
    from gradwise.comparison.deep import fit_deep
    from gradwise.experiment import create_paradigm
    from gradwise.tasks import load_data

    splits = splits or load_data(config.model_copy(update={"seed": seed}))
    task = create_paradigm(config, splits)
    labels = strata(splits.y_train, task.targets)
    order = nested_order(labels if labels is not None else splits.y_train, labels is not None, seed)
    check_fractions(settings.fractions, splits.y_train, None)
    if labels is not None:
        check_fractions(settings.fractions, labels, order)
    for fraction in settings.fractions:
        rows = subset_rows(order, fraction)
        subset = replace(splits, x_train=splits.x_train[rows], y_train=splits.y_train[rows])
        for j, target in enumerate(task.targets):
            view = one_target(subset, j, target)
            for name in baselines[target.name]:
                fit = partial(
                    fit_classical, name, config, view, target.task, seed, fraction, threads
                )
                yield target.name, fit
        for name, model_config in variants:
            yield None, partial(fit_deep, name, model_config, config, subset, seed, fraction)


def for_target(record: FitRecord, key: str) -> FitRecord:
    """A deep fit's record with target ``key``'s metrics alone, under their plain names."""
    prefix = f"{key}_"

    def plain(metrics: dict[str, float]) -> dict[str, float]:
        return {k[len(prefix) :]: v for k, v in metrics.items() if k.startswith(prefix)}

    return replace(record, test=plain(record.test), train=plain(record.train))


def compare_targets(
    config: Any,
    settings: CompareConfig,
    seed_list: list[int],
    first_splits: Any,
    progress: Any,
) -> dict[str, Any]:
    """Fit and measure every baseline per target and the deep model(s); the document."""
    import torch

    from gradwise.comparison.deep import deep_variants
    from gradwise.comparison.runner import build_document, thread_budget
    from gradwise.experiment import create_paradigm

    targets = create_paradigm(config, first_splits).targets
    baselines = target_baselines(settings.baselines, targets, len(first_splits.x_train))
    variants = deep_variants(config)
    threads = settings.threads or torch.get_num_threads()
    per_seed = len(settings.fractions) * (sum(map(len, baselines.values())) + len(variants))
    fits: list[tuple[str | None, FitRecord]] = []
    with thread_budget(threads):
        for seed in seed_list:
            splits = first_splits if seed == seed_list[0] else None
            jobs = fits_of_seed(config, settings, baselines, variants, seed, splits, threads)
            for target, fit in jobs:
                fits.append((target, fit()))
                if progress:  # a classical fit's line names its target
                    shown = fits[-1][1]
                    if target is not None:
                        shown = replace(shown, model=f"{shown.model} ({target})")
                    progress(shown, len(fits), per_seed * len(seed_list))
    documents = {}
    for target in targets:
        records = [
            record if name == target.name else for_target(record, target.key)
            for name, record in fits
            if name in (None, target.name)
        ]
        metric = target_metric(settings.metric, target.kind)
        documents[target.name] = build_document(
            config, settings, seed_list, metric, first_splits.profile, records
        )
    first = documents[targets[0].name]
    return {
        **first,
        "verdict": " ".join(f"{name}: {doc['verdict']}" for name, doc in documents.items()),
        "targets": {
            name: {key: doc[key] for key in PER_TARGET_KEYS} for name, doc in documents.items()
        },
        "fits": [{**record.to_dict(), "target": name} for name, record in fits],
    }
