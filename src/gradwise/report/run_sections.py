"""The torch-free run sections: the experiment (headline figures, dataset profile, config) and
the learning curves."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from gradwise.config.load import flatten_config
from gradwise.report.context import ReportContext
from gradwise.report.page import Raw, cards, escape, format_value, image, key_values, table
from gradwise.report.plots import learning_curves_png
from gradwise.report.sections import section

MAX_CLASS_ROWS = 30
CONFIG_SECTIONS = ("data", "model", "train")
# metrics measured in the target's own units (regression errors)
TARGET_UNIT_METRICS = ("rmse", "mae")


def headline(context: ReportContext) -> list[tuple[str, Any]]:
    """The figures a reader looks for first."""
    summary, config = context.summary, context.config or {}
    metric = context.main_metric
    test = summary.get("test", {})
    epochs_planned = config.get("train", {}).get("epochs")
    pairs: list[tuple[str, Any]] = [
        ("status", summary.get("status", "unknown")),
        ("task", context.task),
        ("model", summary.get("model") or config.get("model", {}).get("kind")),
    ]
    if metric and metric in test:
        pairs.append((f"test {metric}", test[metric]))
    pairs += [
        ("best epoch", summary.get("best_epoch")),
        ("epochs run", f"{summary.get('epochs_run', '–')} of {epochs_planned or '–'}"),
        ("parameters", summary.get("parameters")),
    ]
    if "train_time" in summary:
        pairs.append(("training time", f"{summary['train_time']:.1f} s"))
    return pairs


def config_groups(
    config: dict[str, Any], unread: Mapping[str, tuple[str, ...]] | None = None
) -> list[tuple[str, list[tuple[str, Any]]]]:
    """Small tables of the experiment's settings: one per section (``data``, ``model``,
    ``train`` first, then any other), and one per nested block (``train.optimizer``, ...),
    without the keys ``unread`` names by section (those the run's paradigm does not read)."""
    groups = []
    unread = unread or {}
    names = [*CONFIG_SECTIONS, *(k for k in config if k not in CONFIG_SECTIONS)]
    for name in names:
        settings = config.get(name)
        if not isinstance(settings, dict):
            continue
        settings = {k: v for k, v in settings.items() if k not in unread.get(name, ())}
        groups.append(
            (name, [(k, v) for k, v in settings.items() if not (isinstance(v, dict) and v)])
        )
        groups += [
            (f"{name}.{k}", flatten_config(v))
            for k, v in settings.items()
            if isinstance(v, dict) and v
        ]
    return groups


def _config_tables(config: dict[str, Any], unread: Mapping[str, tuple[str, ...]]) -> str:
    """The settings as small tables side by side, and the whole file folded away."""
    blocks = [
        f"<div><h3>{escape(title)}</h3>{key_values(pairs)}</div>"
        for title, pairs in config_groups(config, unread)
    ]
    listing = yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    return (
        f'<div class="settings">{"".join(blocks)}</div>'
        f"<details><summary>Full resolved config (config.yaml)</summary>"
        f"<pre>{escape(listing)}</pre></details>"
    )


def _missing_text(missing: dict[str, int]) -> str:
    if not missing:
        return "none"
    return ", ".join(f"{column}: {count}" for column, count in missing.items())


def _profile_table(profile: dict[str, Any]) -> str:
    splits = profile.get("splits", {})
    shape = profile.get("feature_shape") or []
    pairs: list[tuple[str, Any]] = [
        ("source", profile.get("source")),
        ("input kind", profile.get("input_kind")),
        ("rows", profile.get("rows")),
        ("features", f"{profile.get('features')} (shape {' × '.join(map(str, shape))})"),
        (
            "splits (train / valid / test)",
            " / ".join(str(splits.get(k, "–")) for k in ("train", "valid", "test")),
        ),
        ("stratified split", profile.get("stratified")),
        ("fixed test split from the source", profile.get("fixed_test_split")),
        ("missing values (cells per column)", _missing_text(profile.get("missing_values", {}))),
    ]
    if profile.get("rows_dropped_missing_target"):
        pairs.append(("rows dropped (no target)", profile["rows_dropped_missing_target"]))
    if profile.get("categorical_columns"):
        pairs.append(("categorical columns", ", ".join(profile["categorical_columns"])))
    if profile.get("embedded_columns"):
        embedded = profile["embedded_columns"].items()
        text = ", ".join(f"{name} ({count} categories)" for name, count in embedded)
        pairs.append(("categorical columns embedded (learned vectors)", text))
    if profile.get("dropped_columns"):
        pairs.append(("constant columns dropped", ", ".join(profile["dropped_columns"])))
    if profile.get("date_columns"):
        pairs.append(
            ("date columns (as year, month, ... parts)", ", ".join(profile["date_columns"]))
        )
    for name, why in profile.get("left_out_columns", {}).items():
        pairs.append((f"left out: {name}", why))
    for suspect in profile.get("leakage", []):
        score = f"{suspect['metric']} {suspect['score']:.4f} alone on the validation rows"
        pairs.append((f"possible target leakage: {suspect['column']}", score))
    if "imbalance_ratio" in profile:
        pairs.append(
            ("imbalance ratio (largest / smallest class, train)", profile["imbalance_ratio"])
        )
    return key_values(pairs)


def _class_balance(profile: dict[str, Any]) -> str:
    classes = profile.get("classes")
    counts = profile.get("class_counts")
    if not classes or not counts:
        return ""
    train = counts.get("train", [0] * len(classes))
    largest = max(max(train), 1)
    total = max(sum(train), 1)
    rows = []
    for index, name in enumerate(classes[:MAX_CLASS_ROWS]):
        share = train[index] / total
        bar = Raw(
            f'<span class="bar" style="width:{120 * train[index] / largest:.0f}px"></span>'
            f"{share:.1%}"
        )
        rows.append(
            [
                name,
                *(counts.get(s, [None] * len(classes))[index] for s in ("train", "valid", "test")),
                bar,
            ]
        )
    more = len(classes) - MAX_CLASS_ROWS
    note = f'<p class="note">… and {more} more classes.</p>' if more > 0 else ""
    headers = ["class", "train", "valid", "test", "share of train"]
    return (
        "<h3>Classes and their balance</h3>"
        + table(headers, rows, [False, True, True, True, False])
        + note
    )


@section("experiment", "Experiment", order=10)
def experiment(context: ReportContext) -> str | None:
    if context.config is None:
        return None
    parts = [cards(headline(context))]
    if context.summary.get("error"):
        parts.append(
            f'<p class="note">Stopped with an error: {escape(context.summary["error"])}</p>'
        )
    if context.profile:
        parts.append('<div class="grid"><div><h3>Dataset</h3>')
        parts.append(_profile_table(context.profile) + "</div>")
        parts.append(f"<div>{_class_balance(context.profile)}</div></div>")
    unread = context.paradigm.unread_keys() if context.paradigm else {}
    parts.append("<h3>Configuration</h3>" + _config_tables(context.config, unread))
    return "".join(parts)


# ------------------------------------------------------------------------- learning curves
def _epoch_rows(context: ReportContext) -> str:
    metrics = context.metrics
    shown = {"best": context.best_epoch, "last": metrics[-1]["epoch"]}
    keys = [k for k in metrics[-1] if k.endswith("_loss") or k.startswith("valid_")]
    keys = list(dict.fromkeys([*keys, "lr"]))
    rows = []
    for label, epoch in shown.items():
        row = next((r for r in metrics if r.get("epoch") == epoch), None)
        if row is not None:
            rows.append([f"{label} (epoch {epoch})", *(row.get(k) for k in keys)])
    return table(["epoch", *keys], rows, [False, *[True] * len(keys)])


@section("learning_curves", "Learning curves", order=30)
def learning_curves(context: ReportContext) -> str | None:
    if not context.metrics:
        return None
    summary, metric = context.summary, context.main_metric
    unit = " (target units)" if metric in TARGET_UNIT_METRICS else ""
    png = learning_curves_png(
        context.metrics, metric, context.best_epoch, context.loss_name or "", unit
    )
    epochs = len(context.metrics)
    seconds = sum(row.get("time", 0.0) for row in context.metrics)
    sentence = f"{epochs} epochs in {seconds:.1f} s ({seconds / epochs:.2f} s per epoch)."
    if summary.get("best_epoch") is not None:
        sentence = (
            f"Best epoch {summary['best_epoch']} of {summary.get('epochs_run', epochs)} by "
            f"{escape(summary.get('monitor', 'valid_loss'))} = "
            f"{format_value(summary.get('best_value'))}. " + sentence
        )
    if summary.get("stopped_early"):
        sentence += " Training stopped early."
    return (
        f"<p>{sentence}</p>"
        + image(png, "learning curves: loss, main metric and learning rate per epoch")
        + _epoch_rows(context)
    )
