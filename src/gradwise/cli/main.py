"""``gradwise`` command line: a thin layer over the Python API.

User mistakes (:class:`gradwise.errors.GradwiseError`) become one line on stderr and exit
status 2; warnings become one line each.
"""

from __future__ import annotations

import argparse
import importlib
import shlex
import sys
import warnings
from pathlib import Path

from gradwise import __version__
from gradwise.cli.commands import COMMANDS
from gradwise.cli.output import error, warning_line
from gradwise.errors import GradwiseError
from gradwise.runs import RunPaths

# Modules that register commands (with ``gradwise.cli.commands.command``) when imported. They
# must not import torch at module level: `gradwise --help` stays instant.
COMMAND_MODULES = (
    "gradwise.cli.commands",
    "gradwise.cli.report",
    "gradwise.cli.compare",
    "gradwise.cli.tune",
    "gradwise.cli.doctor",
    "gradwise.cli.generative",
    "gradwise.cli.play",
    "gradwise.cli.serve",
    "gradwise.cli.lab",
    "gradwise.cli.export",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradwise", description="Train, diagnose, tune and compare deep-learning models."
    )
    parser.add_argument("--version", action="version", version=f"gradwise {__version__}")
    for module in COMMAND_MODULES:
        importlib.import_module(module)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        entry = COMMANDS.get(name)
        entry.configure(sub.add_parser(name, help=entry.help, description=entry.help))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    warnings.showwarning = warning_line
    try:
        return COMMANDS.get(args.command).run(args)
    except GradwiseError as exc:
        error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt as exc:
        if sys.stderr.isatty():
            sys.stderr.write("\n")  # off the line that ^C (or a live progress line) left open
        error(interrupted(getattr(exc, "run_dir", None)))
        return 130


def interrupted(run_dir: Path | None) -> str:
    """``interrupted``, and how to continue when training left a run directory behind."""
    if run_dir is None:
        return "interrupted"
    if not (RunPaths(Path(run_dir)).checkpoints / "last.safetensors").is_file():
        return f"interrupted before the first epoch ended; nothing to resume in {run_dir}"
    return f"interrupted; resume with: gradwise train --resume {shlex.quote(str(run_dir))}"


if __name__ == "__main__":
    sys.exit(main())
