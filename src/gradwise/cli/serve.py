"""``gradwise serve RUN``: HTTP predictions from a trained run (the ``serve`` extra).

Torch-free at import: the run, FastAPI and uvicorn are loaded when the command runs.
"""

from __future__ import annotations

import argparse
import sys

from gradwise.cli.commands import command


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number ≥ 1, got {value}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number ≥ 0, got {value}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port in 0..65535, got {value}")
    return value


def _serve_args(parser: argparse.ArgumentParser) -> None:
    from gradwise.serving import DEFAULT_BATCH_ROWS  # torch-free: the defaults
    from gradwise.serving.payload import Limits

    parser.add_argument("run", help="run directory (a classification or regression run)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument(
        "--port", type=_port, default=8000, help="port to listen on (8000; 0: any free port)"
    )
    parser.add_argument(
        "--max-rows",
        type=_positive,
        default=Limits.max_rows,
        help=f"most rows per request ({Limits.max_rows})",
    )
    parser.add_argument(
        "--max-bytes",
        type=_positive,
        default=Limits.max_bytes,
        help=f"largest request body in bytes ({Limits.max_bytes})",
    )
    parser.add_argument(
        "--batch-rows",
        type=_count,
        default=DEFAULT_BATCH_ROWS,
        help="most rows of waiting requests answered in one pass "
        f"({DEFAULT_BATCH_ROWS}; 0: one request per pass)",
    )
    parser.add_argument(
        "--threads",
        type=_positive,
        default=1,
        help="torch threads for inference (1: lowest latency for small requests)",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request on stderr")


@command("serve", "serve a run's predictions over HTTP (FastAPI; /docs)", _serve_args)
def serve(args: argparse.Namespace) -> int:
    from gradwise.serving import Limits, check_serve_extra
    from gradwise.serving import serve as run_server

    check_serve_extra()  # before the run (and torch) is loaded

    def ready(url: str) -> None:
        print(f"serving {args.run} at {url} (API docs: {url}/docs); Ctrl-C stops", flush=True)

    run_server(
        args.run,
        host=args.host,
        port=args.port,
        limits=Limits(max_rows=args.max_rows, max_bytes=args.max_bytes),
        access_log=args.access_log,
        on_ready=ready,
        threads=args.threads,
        batch_rows=args.batch_rows,
    )
    print("stopped", file=sys.stderr)
    return 0
