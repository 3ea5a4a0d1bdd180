"""The core commands: datasets, init, train, evaluate, predict, runs.

Each command is registered with its argument setup; ``main`` builds the parser from the registry.
Commands that do not train (``datasets``, ``init``, ``runs``) never import torch.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gradwise.cli.launch import add_launch_args, launch, launched, main_process, worker_argv
from gradwise.cli.output import data_from, print_json, print_table
from gradwise.registry import Registry


@dataclass
class Command:
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


COMMANDS: Registry[Command] = Registry("command")


def command(name: str, help: str, configure: Callable[[argparse.ArgumentParser], None]):
    def register(run: Callable[[argparse.Namespace], int]):
        COMMANDS.register(name)(Command(help, configure, run))
        return run

    return register


def _set_flag(parser: argparse.ArgumentParser, example: str | None = None) -> None:
    """``--set KEY=VALUE`` (repeatable) into ``args.overrides``."""
    hint = f", e.g. {example}" if example else ""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"override a config key (repeatable){hint}",
    )


def _json_flag(parser: argparse.ArgumentParser, document: str = "one JSON document") -> None:
    """``--json``: print ``document`` on stdout instead of the human-readable output."""
    parser.add_argument("--json", action="store_true", help=f"print {document} on stdout")


# ------------------------------------------------------------------------------- datasets
@command("datasets", "list the built-in datasets", _json_flag)
def datasets(args: argparse.Namespace) -> int:
    from gradwise.data.catalog import BUILTIN_DATASETS

    if args.json:
        print_json(BUILTIN_DATASETS)
        return 0
    print_table(
        ["name", "kind", "targets", "rows", "features", "description"],
        [
            [d["name"], d["kind"], _targets_cell(d), d["rows"], d["features"], d["description"]]
            for d in BUILTIN_DATASETS
        ],
    )
    return 0


def _targets_cell(entry: dict[str, object]) -> str:
    """``labels (3 classes)``, ``values`` or ``none``: the catalog's natural target kind."""
    kind = entry.get("targets")
    if kind is None:
        return "none"
    return f"{kind} ({entry['classes']} classes)" if entry.get("classes") else str(kind)


# ----------------------------------------------------------------------------------- init
def _init_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", help="a built-in dataset name or a data file path")
    model = parser.add_argument(
        "--model", default=None, help="%(kinds)s (default: by the kind of dataset)"
    )
    model.kinds = _ModelKinds()  # type: ignore[attr-defined]  # argparse fills %(kinds)s from it
    parser.add_argument(
        "--target",
        action="append",
        default=None,
        help="the column to predict (needed for a table file); several (repeated, or a,b) "
        "make a multi-task experiment",
    )
    parser.add_argument(
        "--task", default=None, help="the kind of learning (default: inferred from the data)"
    )
    parser.add_argument("--agent", default=None, help="the agent of an RL task (e.g. ppo, dqn)")


class _ModelKinds:
    """``mlp | cnn1d | ...`` from the config's table of model kinds, read only when the help is
    printed: building the parser must not import pydantic and the schema."""

    def __str__(self) -> str:
        from gradwise.config.models import MODEL_CONFIGS

        return " | ".join(MODEL_CONFIGS)


@command("init", "print a commented starting experiment file", _init_args)
def init(args: argparse.Namespace) -> int:
    from gradwise.config.templates import starting_config

    target = ",".join(args.target) if args.target else None
    text = starting_config(args.dataset, args.model, target, args.task, args.agent)
    print(text, end="")
    return 0


# ---------------------------------------------------------------------------------- train
def _train_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", nargs="?", help="experiment YAML file")
    _set_flag(parser)
    parser.add_argument("--out", default="runs", help="folder for run directories (runs/)")
    parser.add_argument("--resume", metavar="RUN", help="continue a run from its last checkpoint")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    _json_flag(parser)
    add_launch_args(parser)


@command("train", "train an experiment and write a run directory", _train_args)
def train(args: argparse.Namespace) -> int:
    from gradwise.errors import ConfigError

    if bool(args.config) == bool(args.resume):
        raise ConfigError("train: give either CONFIG or --resume RUN")
    if args.nproc is not None and not launched():
        if args.config:
            from gradwise.config import load_config

            load_config(args.config, args.overrides)  # a mistake is said once, before launching
        return launch(args, worker_argv(args))
    if not main_process():  # rank 0 says it once
        import warnings

        warnings.simplefilter("ignore")
    if args.resume and not args.overrides and (done := _completed(args.resume)) is not None:
        return _say_complete(done, args.json)  # nothing to train: no rebuilt report either
    from gradwise import api

    if args.resume:
        run = api.resume(args.resume, overrides=args.overrides, quiet=args.quiet or args.json)
    else:
        run = api.train(
            args.config, out=args.out, overrides=args.overrides, quiet=args.quiet or args.json
        )
    if launched():  # a process of a data-parallel run: leave its group cleanly
        from gradwise.training.distributed import leave_process_group

        leave_process_group()
    if not main_process():
        return 0  # rank 0 speaks for a data-parallel run
    summary = run.summary
    if args.json:
        print_json(summary)
        return 0
    _print_summary(summary)
    return 0


def _completed(run_dir: str) -> dict | None:
    """The summary of a run that already completed (None when there is more to train)."""
    from gradwise.runs import open_run, read_summary

    summary = read_summary(open_run(run_dir))
    return summary if summary.get("status") == "completed" else None


def _say_complete(summary: dict, as_json: bool) -> int:
    if as_json:
        print_json(summary)
        return 0
    stopped = ", stopped early" if summary.get("stopped_early") else ""
    print(
        f"{summary.get('run_dir')}: already complete ({summary.get('epochs_run')} epochs"
        f"{stopped}); nothing to resume"
    )
    return 0


def _print_summary(summary: dict) -> None:
    test = summary.get("test", {})
    metrics = "  ".join(f"{k} {v:.4f}" for k, v in test.items() if isinstance(v, float))
    print(f"test: {metrics}")
    print(
        f"best epoch {summary.get('best_epoch')} of {summary.get('epochs_run')}, "
        f"training {summary.get('train_time', 0):.1f} s, {summary.get('parameters')} parameters"
    )
    print(f"run: {summary['run_dir']}")
    from gradwise.runs import RunPaths

    report = RunPaths(Path(summary["run_dir"])).report
    if report.is_file():
        print(f"report: {report}")


# ------------------------------------------------------------------------------- evaluate
def _evaluate_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run directory")
    parser.add_argument("--data", default=None, help="labelled CSV/Parquet/NPZ (default: test)")
    _json_flag(parser)


@command("evaluate", "metrics of a run on its test split or on a labelled file", _evaluate_args)
def evaluate(args: argparse.Namespace) -> int:
    from gradwise.api import Run

    run = Run(args.run)
    with data_from("--data", args.data):
        metrics = run.evaluate(args.data)
    if args.json:
        print_json(metrics)
        return 0
    rows = metrics.pop("rows", None)
    loss = metrics.pop("loss", None)
    print(f"{rows} rows of {args.data or 'the test split'}")
    first = [("loss", loss)] if loss is not None else []
    print_table(["metric", "value"], first + sorted(metrics.items()))
    return 0


# -------------------------------------------------------------------------------- predict
def _predict_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run directory")
    parser.add_argument("input", help="CSV/Parquet/NPZ with the same feature columns")
    parser.add_argument(
        "-o", "--output", required=True, help="predictions file (.csv/.parquet; - for stdout)"
    )
    _json_flag(parser)


@command("predict", "predict new data with a trained run", _predict_args)
def predict(args: argparse.Namespace) -> int:
    if args.output == "-":
        return _predict_to_stdout(args)
    from gradwise.predict import write_predictions

    with data_from("", args.input, readers_only=True):
        written = write_predictions(args.run, args.input, args.output)
    if args.json:
        print_json(written)
    else:
        print(f"{written['rows']} predictions written to {written['output']}")
    return 0


def _predict_to_stdout(args: argparse.Namespace) -> int:
    """``-o -``: the predictions as CSV on stdout, nothing else there."""
    from gradwise.errors import ConfigError

    if args.json:
        raise ConfigError("predict: -o - writes CSV on stdout; it cannot share it with --json")
    from gradwise.api import Run
    from gradwise.predict import predictions_frame

    run = Run(args.run)
    with data_from("", args.input, readers_only=True):
        frame = predictions_frame(run, args.input)
    sys.stdout.write(frame.to_csv(index=False))
    return 0


# ----------------------------------------------------------------------------------- runs
def _runs_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", default=None, help="folder holding run directories (runs)")
    _json_flag(parser)


@command("runs", "a table of past runs", _runs_args)
def runs(args: argparse.Namespace) -> int:
    from gradwise.errors import CheckpointError
    from gradwise.runs import find_runs, read_summary, run_status

    folder = Path(args.dir or "runs")
    if args.dir is not None and not folder.is_dir():  # the default may not exist yet
        what = "not a folder" if folder.exists() else "no such folder"
        raise CheckpointError(f"runs --dir {args.dir}: {what}")
    rows = []
    for paths in find_runs(folder):
        summary = read_summary(paths)
        metric = summary.get("main_metric")
        test = summary.get("test", {})
        rows.append(
            {
                "run": paths.root.name,
                "task": summary.get("task"),
                "model": summary.get("model"),
                "status": run_status(paths, summary),  # running, or stale when it died
                "metric": metric,
                "test": test.get(metric) if metric else None,
                "epochs": summary.get("epochs_run"),
                "seconds": summary.get("train_time"),
            }
        )
    if args.json:
        print_json(rows)
    elif not rows:
        print(f"no runs under {folder}")
    else:
        print_table(list(rows[0]), [list(r.values()) for r in rows])
    return 0
