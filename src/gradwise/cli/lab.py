"""``gradwise lab optimizers|batch|regularization CONFIG``: the textbook questions, measured.

Prints the lab's result table and where its folder (``lab.json``, PNG figures, ``lab.html``,
the arms' runs) is; ``--json`` prints the ``lab.json`` document instead. Torch is imported only
when the lab runs.
"""

from __future__ import annotations

import argparse
import sys

from gradwise.cli.commands import _json_flag, _set_flag, command
from gradwise.cli.output import print_json, print_table

LAB_NAMES = ("optimizers", "batch", "regularization")  # for the help; the registry decides


def _lab_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("lab", help=" | ".join(LAB_NAMES))
    parser.add_argument("config", help="experiment YAML file")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per arm (3)")
    parser.add_argument(
        "--budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="seconds of training for the whole lab, split evenly over its runs",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="runs trained at once, in processes (1)"
    )
    parser.add_argument("--out", default="labs", metavar="DIR", help="folder for the lab (labs/)")
    parser.add_argument(
        "--arms", default=None, metavar="A,B", help="only these arms (comma-separated names)"
    )
    parser.add_argument(
        "--lr-points", type=int, default=4, help="learning rates per optimizer sweep (4)"
    )
    parser.add_argument(
        "--lr-scaling",
        default="sqrt",
        help="batch lab: lr against batch size, sqrt | linear | none (sqrt)",
    )
    _set_flag(parser, example="train.epochs=10")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    _json_flag(parser, "lab.json")


@command("lab", "measure optimizers, batch sizes or regularizers on an experiment", _lab_args)
def lab(args: argparse.Namespace) -> int:
    from gradwise.lab.runner import lab as run_lab

    arms = [a.strip() for a in args.arms.split(",") if a.strip()] if args.arms else None
    result = run_lab(
        args.lab,
        args.config,
        overrides=args.overrides,
        seeds=args.seeds,
        budget=args.budget,
        workers=args.workers,
        out=args.out,
        arms=arms,
        lr_points=args.lr_points,
        lr_scaling=args.lr_scaling,
        quiet=args.quiet or args.json or not sys.stderr.isatty(),
    )
    if args.json:
        print_json(result.document)
        return 0
    document = result.document
    print(f"lab {document['lab']}: {document['question']}")
    print(f"experiment {document['experiment']}, {document['metric']}, seeds {document['seeds']}")
    headers, rows = result.table
    print_table(headers, rows)
    if document.get("target_definition"):
        print(f"{document['target_definition']}; target {document['target']:.4g}")
    if document.get("lr_rule"):
        print(f"learning rate: {document['lr_rule']}")
    if any(row.get("lr_at_edge") for row in document["rows"].values()):
        print("(edge): the chosen rate is the sweep's smallest or largest; widen the sweep")
    for line in _critical_batch_lines(document):
        print(line)
    print(f"lab: {result.folder}  (lab.json, lab.html, {', '.join(document['figures'])})")
    return 0


def _critical_batch_lines(document: dict) -> list[str]:
    lines = []
    fit = document.get("critical_batch")
    if fit is not None:
        value = fit.get("b_crit")
        lines.append(
            f"critical batch size from the curves: {value:.3g}"
            if value
            else "critical batch size from the curves: not found (fewer than two arms reached "
            "the target, or the steps still fell at the largest batch)"
        )
    for when, measured in (document.get("noise_scale") or {}).items():
        value, bound = measured.get("b_simple"), measured.get("b_simple_at_least")
        shown = (
            f"{value:.3g}"
            if value
            else f"≥ {bound:.3g} (|G|² below its noise)"
            if bound
            else "not resolved (|G|² below its noise)"
        )
        lines.append(f"gradient noise scale B_simple ({when} of training): {shown}")
    return lines
