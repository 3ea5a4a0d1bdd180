"""HTTP predictions from a trained run (``gradwise serve``; FastAPI + uvicorn, the ``serve``
extra).

>>> from gradwise.serving import serve
>>> serve("runs/iris-20261130-101500", host="127.0.0.1", port=8000)

:func:`serve` loads the run once, binds the address (a taken port is one error line) and runs
uvicorn until interrupted; :func:`create_app` gives the FastAPI application itself (for tests, or
to mount under another app). The payload rules are in :mod:`.payload`, the model in
:mod:`.predictor`.
"""

from __future__ import annotations

import importlib.util
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from gradwise.errors import GradwiseError
from gradwise.serving.payload import Limits, PayloadError

DEFAULT_BATCH_ROWS = 1024  # as gradwise.serving.predictor, which imports torch

if TYPE_CHECKING:
    from fastapi import FastAPI

    from gradwise.serving.predictor import Predictor

SERVE_PACKAGES = ("fastapi", "uvicorn")

__all__ = ["Limits", "PayloadError", "check_serve_extra", "create_app", "serve"]


def check_serve_extra() -> None:
    """GradwiseError naming the missing packages when the ``serve`` extra is not installed."""
    missing = [name for name in SERVE_PACKAGES if not _installed(name)]
    if missing:
        raise GradwiseError(
            f"serve needs FastAPI and uvicorn (not installed: {', '.join(missing)}); "
            "pip install 'gradwise[serve]'"
        )


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a broken or spec-less module counts as missing
        return False


def create_app(predictor: Predictor, limits: Limits | None = None) -> FastAPI:
    """The FastAPI application answering for ``predictor`` (see :mod:`.app`)."""
    check_serve_extra()
    from gradwise.serving.app import create_app as build

    return build(predictor, limits)


def serve(
    run_dir: str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    limits: Limits | None = None,
    access_log: bool = False,
    on_ready: Callable[[str], None] | None = None,
    threads: int | None = 1,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> None:
    """Serve ``run_dir`` at ``http://host:port`` until interrupted (port 0: any free port).

    The run directory is checked and the address bound before the model is loaded (a bad
    directory or a taken port is one error, at once); ``on_ready`` receives the URL once the
    model is loaded. Requests that arrive meanwhile wait in the socket's queue.

    ``batch_rows``: the most rows of waiting requests answered in one pass (0: one request
    per pass; :mod:`.predictor`). ``threads``: torch's intra-op threads in this process
    (None: torch's default). Passes through the model run one at a time, and small ones gain
    nothing from several threads but their synchronisation: on 2 busy cores a 64-row request
    took 14 ms with 1 thread and 40 ms with 2 (``benchmarks/serve_load.py``).
    """
    check_serve_extra()
    from gradwise.runs import open_run

    open_run(run_dir)
    listener = bind(host, port)
    try:
        import torch
        import uvicorn

        from gradwise.serving.predictor import Predictor

        if threads is not None:
            torch.set_num_threads(threads)
        app = create_app(Predictor(run_dir, batch_rows), limits)
    except BaseException:
        listener.close()
        raise
    bound_port = listener.getsockname()[1]
    level = "info" if access_log else "warning"  # uvicorn logs requests at info
    server = uvicorn.Server(
        uvicorn.Config(app, log_level=level, access_log=access_log, lifespan="off")
    )
    if on_ready is not None:
        shown = f"[{host}]" if ":" in host else host
        on_ready(f"http://{shown}:{bound_port}")
    server.run(sockets=[listener])


def bind(host: str, port: int) -> socket.socket:
    """A listening socket at ``host:port``; GradwiseError when the address cannot be used."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as exc:
        raise GradwiseError(
            f"--host {host}: not an address of this machine ({exc.strerror})"
        ) from None
    # IPPROTO_TCP named explicitly: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on
    # sockets that say they are TCP; with proto 0 every response whose headers and body are
    # written separately waits for the client's delayed ACK (~40 ms per request)
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
        listener.listen(2048)
    except OSError as exc:
        listener.close()
        raise GradwiseError(
            f"--host {host} --port {port}: cannot listen there ({exc.strerror}); "
            "choose another --port (0 picks a free one)"
        ) from None
    listener.set_inheritable(True)
    return listener
