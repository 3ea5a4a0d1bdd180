"""``gradwise compare CONFIG``: is deep learning worth it on this data?

Prints the data's dimensions, a table per model (test metric mean ± std over seeds, train score
and train–test gap, fit time, prediction time per 1000 rows, parameters and size), the learning
curves as a table, and the verdict; ``--json`` prints the ``compare.json`` document instead.
Torch is imported only when the comparison runs.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from gradwise.cli.commands import _json_flag, _set_flag, command
from gradwise.cli.output import print_json, print_table


def _compare_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="experiment YAML file (its compare: section, if any)")
    _set_flag(parser, example="compare.fractions=[0.5,1.0]")
    parser.add_argument("--out", default="runs", help="folder for the comparison (runs/)")
    parser.add_argument("--seeds", type=int, default=None, help="repeats (compare.seeds, 3)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    _json_flag(parser, "compare.json")


@command("compare", "classical baselines against deep learning on the same data", _compare_args)
def compare(args: argparse.Namespace) -> int:
    from gradwise.comparison.runner import compare as run_comparison

    result = run_comparison(
        args.config,
        out=args.out,
        overrides=args.overrides,
        seeds=args.seeds,
        quiet=args.quiet or args.json or not sys.stdout.isatty(),  # progress on terminals only
    )
    if args.json:
        print_json(result.document)
    else:
        print_comparison(result.document)
    return 0


def _size(n_bytes: float) -> str:
    for unit in ("B", "KB", "MB"):
        if n_bytes < 1024:
            return f"{n_bytes:.0f} B" if unit == "B" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.1f} GB"


def _decimals(document: dict[str, Any]) -> int:
    """Shares (accuracy, F1, AUC, R²): 4 decimals; errors in target units: 4 significant digits
    of the largest mean test error."""
    from gradwise.comparison.verdict import POINT_METRICS

    if document["metric"] in POINT_METRICS:
        return 4
    largest = max((abs(m["test"]["mean"]) for m in document["models"]), default=1.0)
    return max(0, 3 - math.floor(math.log10(largest))) if largest > 0 else 4


def _curve_cell(point: dict[str, Any] | None, decimals: int) -> str:
    if point is None:
        return "-"
    return f"{point['mean']:.{decimals}f} ± {point['std']:.{decimals}f}"


def print_comparison(document: dict[str, Any]) -> None:
    """The tables and the verdict; with several targets, those of each target in turn."""
    for name, part in (document.get("targets") or {}).items():
        print(f"\n=== target {name} ===")
        _print_one({**document, **part})
    if not document.get("targets"):
        _print_one(document)


def _print_one(document: dict[str, Any]) -> None:
    metric, data = document["metric"], document["dataset"]
    places = _decimals(document)
    seeds = len(document["seeds"])
    print(
        f"data: {data['source']}  {data['rows']} rows, {data['features']} features, "
        f"{data['train_rows']}/{data['valid_rows']}/{data['test_rows']} train/valid/test, "
        f"{data['samples_per_feature']:.1f} training samples per feature"
    )
    print(f"\non the whole training split ({seeds} seed(s); gap > 0: better on train than test)")
    rows = [
        [
            m["name"],
            m["family"],
            _curve_cell(m["test"], places),
            f"{m['train_score']:.{places}f}",
            f"{m['gap']:+.{places}f}",
            f"{m['fit_time']:.2f}",
            f"{m['predict_ms_per_1000']:.2f}",
            f"{m['parameters']:,} {m.get('parameters_count', '')}".strip(),
            _size(m["size_bytes"]),
        ]
        for m in document["models"]
    ]
    print_table(
        [
            "model",
            "family",
            f"test {metric}",
            "train",
            "gap",
            "fit s",
            "predict ms/1k",
            "parameters",
            "size",
        ],
        rows,
    )
    fractions = document["fractions"]
    curves = {(c["model"], c["fraction"]): c for c in document["learning_curves"]}
    header = ["model"] + [
        f"{f:.0%} ({curves.get((document['models'][0]['name'], f), {}).get('n_train', '?')})"
        for f in fractions
    ]
    print(f"\nlearning curves: test {metric}, mean ± std over seeds, by share of training rows")
    print_table(
        header,
        [
            [m["name"]] + [_curve_cell(curves.get((m["name"], f)), places) for f in fractions]
            for m in document["models"]
        ],
    )
    if document.get("evidence"):
        print_evidence(document["evidence"], metric, places)
    print(f"\nverdict: {document['verdict']}")
    print(f"comparison: {document['path']}")


def print_evidence(evidence: dict[str, Any], metric: str, places: int) -> None:
    """The classic DL-vs-ML dimensions, each with its measured figure."""
    deep, classical = evidence["deep"], evidence["classical"]
    data = evidence["data_dimensionality"]
    cost, gap = evidence["optimization_cost"], evidence["generalization"]
    complexity, units = evidence["model_complexity"], evidence["parameters_count"]
    curve = "; ".join(
        f"{p['n_train']} rows: {p[deep]:.{places}f} vs {p[classical]:.{places}f}"
        for p in evidence["small_sample"]
    )
    print(f"\nevidence, best deep ({deep}) vs best classical ({classical}):")
    print_table(
        ["dimension", "measured"],
        [
            [
                "data dimensionality",
                f"{data['rows']} rows, {data['features']} features, "
                f"{data['samples_per_feature']:.1f} training samples per feature",
            ],
            [
                "model complexity",
                f"{complexity[deep]:,} {units[deep]} vs {complexity[classical]:,} "
                f"{units[classical]}",
            ],
            [
                "optimization cost",
                f"{cost[deep]:.2f} s vs {cost[classical]:.2f} s to fit ({cost['ratio']:.2g}×)",
            ],
            [
                "generalization",
                f"train–test gap {gap[deep]:+.{places}f} vs {gap[classical]:+.{places}f}",
            ],
            ["small-sample behaviour", f"test {metric}: {curve}"],
        ],
    )
