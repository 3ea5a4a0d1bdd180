"""The diagnosis commands: ``doctor`` (what went wrong, and ``--fix``) and ``lr-find``.

``doctor RUN`` reads files only and never imports torch; ``--fix`` and ``lr-find`` train.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gradwise.cli.commands import _json_flag, _set_flag, command
from gradwise.cli.output import print_json, print_table


# --------------------------------------------------------------------------------- doctor
def _doctor_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run directory")
    parser.add_argument(
        "--fix", action="store_true", help="re-train with the remedies and compare before/after"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar during --fix")
    _json_flag(parser)


@command("doctor", "diagnose a run: findings with evidence and remedies", _doctor_args)
def doctor(args: argparse.Namespace) -> int:
    if args.fix:
        from gradwise.diagnose.fix import fix_run

        report = fix_run(args.run, quiet=args.quiet or args.json)
        if args.json:
            print_json(report.to_dict())
        else:
            print_fix_report(report)
        return 0
    from gradwise.diagnose.doctor import diagnose, format_diagnosis

    diagnosis = diagnose(args.run)
    if args.json:
        print_json(diagnosis.to_dict())
    else:
        print(format_diagnosis(diagnosis))
    return 0


def print_fix_report(report: Any) -> None:
    from gradwise.diagnose.doctor import format_value

    print(f"run: {report.run}")
    if report.after is None:
        print(f"{report.verdict}: {', '.join(report.before.findings)}")
        return
    print("applied: " + "  ".join(f"{r.key}={format_value(r.value)}" for r in report.remedies))
    before, after = report.before, report.after
    rows = [
        [f"test {report.metric}", before.test, after.test],
        [f"valid {report.metric}", before.valid, after.valid],
        ["train loss (final)", before.train_loss, after.train_loss],
        ["valid loss (final)", before.valid_loss, after.valid_loss],
        ["epochs run", before.epochs, after.epochs],
        ["status", before.status, after.status],
        ["findings", ", ".join(before.findings), ", ".join(after.findings)],
    ]
    print()
    print_table(["", "before", "after"], rows)
    print()
    print(f"verdict: {report.verdict} on test {report.metric}")
    print(f"resolved: {', '.join(report.resolved) or '-'}")
    print(f"new: {', '.join(report.new) or '-'}")
    for row in report.worse_remedies:
        alone = ""
        if row.get("test") is not None:
            alone = f" (alone: test {report.metric} {row['test']:.4g})"
        together = " only together with the others" if row.get("together_only") else ""
        print(f"made it worse{together}: {row['key']}={format_value(row['value'])}{alone}")
    print(f"fixed run: {after.run}")


# -------------------------------------------------------------------------------- lr-find
def _lr_find_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="experiment YAML file")
    _set_flag(parser)
    parser.add_argument("--write", metavar="FILE", help="write a copy of the config with the lr")
    parser.add_argument("--out", metavar="PNG", help="plot file (default: next to the config)")
    parser.add_argument("--steps", type=int, default=200, help="range-test steps (200)")
    parser.add_argument("--min-lr", type=float, default=1e-7, help="first learning rate")
    parser.add_argument("--max-lr", type=float, default=10.0, help="last learning rate")
    _json_flag(parser)


@command("lr-find", "learning-rate range test: suggest an lr, plot loss vs lr", _lr_find_args)
def lr_find(args: argparse.Namespace) -> int:
    from gradwise.config.load import read_yaml_mapping
    from gradwise.diagnose.lr_find import lr_find as range_test
    from gradwise.diagnose.lr_find import write_config_with_lr

    config = Path(args.config)
    read_yaml_mapping(config)  # a missing or broken file is reported before any work
    plot = Path(args.out) if args.out else config.with_name(f"{config.stem}-lr-find.png")
    result = range_test(
        config,
        args.overrides,
        steps=args.steps,
        min_lr=args.min_lr,
        max_lr=args.max_lr,
        plot=plot,
    )
    if args.write:
        result.written = str(
            write_config_with_lr(config, args.overrides, result.suggested_lr, Path(args.write))
        )
    if args.json:
        print_json(result.to_dict())
        return 0
    print(f"suggested lr: {result.suggested_lr:.2g}")
    print(
        f"(steepest descent at {result.steepest_lr:.2g}, lowest loss at "
        f"{result.min_loss_lr:.2g}, {len(result.lrs)} steps)"
    )
    print(f"plot: {result.plot}")
    if result.written:
        print(f"config with train.optimizer.lr={result.suggested_lr:.2g}: {result.written}")
    return 0
