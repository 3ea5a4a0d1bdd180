"""``gradwise train --nproc N``: start N training processes through torchrun's launcher.

The launcher (``torch.distributed.launcher``, what the ``torchrun`` command runs) starts N
copies of ``python -m gradwise.cli.main train ...`` with the rendezvous environment set; each
joins the process group (:mod:`gradwise.training.distributed`) and trains its shard of every
batch. On one machine the rendezvous is local (torchrun's ``--standalone``); across machines
every machine runs the same command with ``--nnodes`` and one ``--rdzv-endpoint`` (README).
"""

from __future__ import annotations

import argparse
import os

from gradwise.errors import ConfigError

MODULE = "gradwise.cli.main"


def add_launch_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("data-parallel training (torchrun)")
    group.add_argument("--nproc", type=int, default=None, help="processes on this machine")
    group.add_argument("--nnodes", type=int, default=1, help="machines taking part (default 1)")
    group.add_argument(
        "--rdzv-endpoint",
        default=None,
        metavar="HOST:PORT",
        help="rendezvous of a multi-machine run (the same on every machine)",
    )
    group.add_argument(
        "--rdzv-id", default=None, help="a name for a multi-machine run (the same everywhere)"
    )


def launched() -> bool:
    """True inside a process that torchrun started."""
    return "TORCHELASTIC_RUN_ID" in os.environ or "LOCAL_RANK" in os.environ


def main_process() -> bool:
    """True unless this is a rank other than 0 of a data-parallel run (which prints nothing)."""
    return os.environ.get("RANK", "0") == "0"


def launch(args: argparse.Namespace, argv: list[str]) -> int:
    """Run ``gradwise <argv>`` in ``args.nproc`` processes per machine; the exit status of
    the first process that failed (its own one-line error is already on stderr), else 0."""
    if args.nproc < 1 or args.nnodes < 1:
        raise ConfigError("train --nproc/--nnodes: give at least 1")
    if args.nnodes > 1 and not args.rdzv_endpoint:
        raise ConfigError("train --nnodes: a multi-machine run needs --rdzv-endpoint HOST:PORT")
    from gradwise.training.launcher import (
        Launch,
        first_failure,
        launch_module,
        thread_environment,
    )

    where = Launch(args.nproc, args.nnodes, args.rdzv_endpoint, args.rdzv_id)
    return first_failure(launch_module(MODULE, argv, where, thread_environment(args.nproc)))


def worker_argv(args: argparse.Namespace) -> list[str]:
    """The ``train`` command line each process runs: this one without the launch options."""
    argv = ["train"]
    argv += [args.config] if args.config else ["--resume", args.resume]
    for override in args.overrides:
        argv += ["--set", override]
    argv += ["--out", args.out]
    argv += ["--quiet"] if args.quiet else []
    argv += ["--json"] if args.json else []
    return argv
