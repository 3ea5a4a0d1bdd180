"""``gradwise tune CONFIG``: search the experiment's ``tune.space`` with Optuna.

Prints the leaderboard (best trials and their parameters), the importances and where
``best.yaml`` and the plots are; ``--json`` prints the ``tune.json`` document instead. Torch and
Optuna are imported only when the study runs.
"""

from __future__ import annotations

import argparse
from typing import Any

from gradwise.cli.commands import _json_flag, _set_flag, command
from gradwise.cli.output import print_json, print_table

LEADERBOARD_ROWS = 10


def _tune_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="experiment YAML file with a tune: section")
    parser.add_argument("--trials", type=int, default=None, help="trials in the whole study")
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes on this machine (1)"
    )
    parser.add_argument(
        "--nproc",
        type=int,
        default=None,
        help="processes that train each trial data-parallel (torchrun, as train --nproc)",
    )
    parser.add_argument(
        "--storage",
        default=None,
        metavar="URL",
        help="SQLAlchemy URL shared by every worker, e.g. postgresql://user:pw@host/db "
        "(default: sqlite study.db in the study directory)",
    )
    parser.add_argument("--study", default=None, help="study name (default: the experiment name)")
    parser.add_argument(
        "--out", default=None, metavar="DIR", help="study directory (default: runs/<study>-tune)"
    )
    _set_flag(parser, example="tune.sampler=random")
    parser.add_argument("--timeout", type=float, default=None, help="seconds; then no new trial")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    _json_flag(parser, "tune.json")


@command("tune", "search hyperparameters with Optuna (many workers, many machines)", _tune_args)
def tune(args: argparse.Namespace) -> int:
    from gradwise.tuning.search import tune as run_study

    result = run_study(
        args.config,
        trials=args.trials,
        workers=args.workers,
        storage=args.storage,
        study=args.study,
        out=args.out,
        overrides=args.overrides,
        timeout=args.timeout,
        quiet=args.quiet or args.json,
        nproc=args.nproc,
    )
    if args.json:
        print_json(result.document)
    else:
        print_study(result.document, str(result.study_dir))
    return 0


def print_study(document: dict[str, Any], study_dir: str) -> None:
    counts, metric = document["counts"], document["metric"]
    print(
        f"study {document['study']}: {counts['complete']} complete, {counts['pruned']} pruned, "
        f"{counts['failed']} failed ({metric}, {document['direction']})"
    )
    board = document["leaderboard"]
    if board:
        names = list(dict.fromkeys(k for e in board[:LEADERBOARD_ROWS] for k in e["params"]))
        print_table(
            ["trial", "state", metric, "epochs", *names],
            [
                [
                    e["trial"],
                    e["state"],
                    e["value"],
                    e["epochs"],
                    *(e["params"].get(n) for n in names),
                ]
                for e in board[:LEADERBOARD_ROWS]
            ],
        )
    failed = [e for e in board if e["state"] == "failed"]
    for entry in failed[:3]:
        print(f"trial {entry['trial']} failed: {entry.get('error', 'unknown reason')}")
    if document["importances"]:
        shares = ", ".join(f"{k} {v:.2f}" for k, v in document["importances"].items())
        print(f"importances: {shares}")
    best = document["best"]
    if best is None:
        print("no trial completed: no best.yaml")
    else:
        print(f"best: trial {best['trial']}, {metric} {best['value']:.4f}")
        print(f"best config: {study_dir}/best.yaml  (gradwise train {study_dir}/best.yaml)")
    if document.get("waiting"):
        print(f"{document['waiting']} trials not run yet: run the same command again to go on")
    print(f"study: {study_dir}  (tune.json, history.png, parallel.png, importances.png)")
