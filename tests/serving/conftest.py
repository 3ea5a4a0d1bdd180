"""A trained table run and a real ``gradwise serve`` process answering for it."""

from __future__ import annotations

import json
import select
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest

import gradwise
from tests.conftest import tiny_config

MAX_ROWS, MAX_BYTES = 50, 20_000  # the served limits, small so that tests can pass them


def people(n: int, seed: int) -> pd.DataFrame:
    """Two numeric columns and a categorical one; the label depends on all three."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    color = rng.choice(["red", "green", "blue"], size=n)
    label = np.where(x1 + 0.5 * x2 + (color == "red") > 0.3, "yes", "no")
    return pd.DataFrame({"x1": x1, "x2": x2, "color": color, "label": label})


@pytest.fixture(scope="session")
def table_run(tmp_path_factory: pytest.TempPathFactory) -> gradwise.Run:
    folder = tmp_path_factory.mktemp("served")
    people(240, 0).to_csv(folder / "train.csv", index=False)
    config = tiny_config(
        str(folder / "train.csv"), data={"target": "label"}, report={"enabled": False}
    )
    return gradwise.train(config, out=folder / "runs")


@dataclass
class Response:
    status: int
    body: Any


@dataclass
class Server:
    url: str
    process: subprocess.Popen

    def get(self, path: str) -> Response:
        return self.send(urllib.request.Request(self.url + path))

    def post(
        self, path: str, body: bytes | Any, content_type: str = "application/json"
    ) -> Response:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method="POST", headers={"Content-Type": content_type}
        )
        return self.send(request)

    @staticmethod
    def send(request: urllib.request.Request) -> Response:
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return Response(answer.status, json.loads(answer.read()))
        except urllib.error.HTTPError as error:
            return Response(error.code, json.loads(error.read()))


def start_server(args: list[str], timeout: float = 60.0) -> Server:
    """``gradwise serve ARGS --port 0`` in a subprocess; returns once ``/health`` answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gradwise.cli.main", "serve", *args, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + timeout
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    line = process.stdout.readline() if ready else ""
    if "http://" not in line:
        process.kill()
        raise AssertionError(f"server did not start: {line!r} {process.stderr.read()!r}")
    server = Server(line.split(" at ")[1].split()[0], process)
    while time.monotonic() < deadline:
        try:
            if server.get("/health").status == 200:
                return server
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("server never answered /health")


@pytest.fixture(scope="session")
def server(table_run: gradwise.Run) -> Iterator[Server]:
    limits = ["--max-rows", str(MAX_ROWS), "--max-bytes", str(MAX_BYTES)]
    started = start_server([str(table_run.path), *limits])
    yield started
    started.process.terminate()  # uvicorn shuts down gracefully on SIGTERM
    started.process.wait(timeout=30)
    started.process.stdout.close()
    started.process.stderr.close()


@pytest.fixture
def new_rows() -> pd.DataFrame:
    return people(20, 1).drop(columns="label")


def records_of(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records"))


def rows_of(frame: pd.DataFrame) -> list[list[Any]]:
    return json.loads(frame.to_json(orient="values"))
