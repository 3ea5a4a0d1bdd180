"""``gradwise serve`` mistakes (one line, exit status 2, nothing served) and array runs."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from fastapi.testclient import TestClient

import gradwise
from gradwise.serving import Limits, create_app
from gradwise.serving.predictor import Predictor
from tests.conftest import run_cli, run_cli_torch_free, run_torch_free, tiny_config


def one_error_line(result, expected: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gradwise: error: "), result.stderr
    assert expected in lines[0]


def test_serve_help_does_not_import_torch():
    result = run_cli_torch_free(["serve", "--help"])
    assert result.returncode == 0, result.stderr
    assert "--max-rows" in result.stdout


def test_a_folder_that_is_not_a_run_is_one_line(tmp_path: Path):
    one_error_line(run_cli("serve", str(tmp_path), "--port", "0"), "not a gradwise run")


def test_a_taken_port_is_one_line(table_run: gradwise.Run):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        one_error_line(run_cli("serve", str(table_run.path), "--port", port), "cannot listen")


def test_without_the_serve_extra_one_line_before_anything_loads(table_run: gradwise.Run):
    argv = ["serve", str(table_run.path)]
    code = (
        "import sys\nsys.modules['uvicorn'] = None\n"
        "from gradwise.cli.main import main\n"
        f"status = main({argv!r})\nsys.stderr.write(f'status {{status}}')\n"
    )
    result = run_torch_free(code)
    assert result.returncode == 0, result.stderr  # and torch was never imported
    assert result.stderr == (
        "gradwise: error: serve needs FastAPI and uvicorn (not installed: uvicorn); "
        "pip install 'gradwise[serve]'\nstatus 2"
    )


def test_bad_limits_are_refused_by_the_parser(table_run: gradwise.Run):
    result = run_cli_torch_free(["serve", str(table_run.path), "--max-rows", "0"])
    assert "--max-rows: expected a number ≥ 1, got 0" in result.stderr


# ------------------------------------------------------------------ an array (signal) run
@pytest.fixture(scope="module")
def signal_client(tmp_path_factory: pytest.TempPathFactory) -> tuple[TestClient, gradwise.Run]:
    source = {"source": "synthetic:signals", "options": {"n_samples": 120, "length": 16}}
    config = tiny_config(
        "synthetic:signals", data=source, train={"epochs": 1}, report={"enabled": False}
    )
    run = gradwise.train(config, out=tmp_path_factory.mktemp("signals"))
    return TestClient(create_app(Predictor(run.path), Limits(max_rows=8))), run


def test_an_array_run_takes_flat_or_shaped_rows(signal_client):
    client, run = signal_client
    x = np.random.default_rng(0).normal(size=(4, *run.preprocessor.feature_shape))
    metadata = client.get("/metadata").json()
    assert metadata["input_shape"] == list(run.preprocessor.feature_shape)
    for rows in (x.tolist(), x.reshape(len(x), -1).tolist()):
        answer = client.post("/predict", json={"rows": rows})
        assert answer.status_code == 200, answer.json()
        assert answer.json()["predictions"] == run.predict(x).tolist()
        np.testing.assert_allclose(answer.json()["probabilities"], run.predict_proba(x), atol=1e-6)


def test_the_model_runs_under_inference_mode(signal_client):
    client, _ = signal_client
    predictor = client.app.state.predictor
    seen: list[bool] = []
    hook = predictor.run.model.register_forward_hook(
        lambda module, inputs, output: seen.append(torch.is_inference_mode_enabled())
    )
    try:
        assert client.post("/predict", json={"rows": [[0.0] * 16]}).status_code == 200
    finally:
        hook.remove()
    assert seen == [True]


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"records": [{"x0": 1.0}]}, "this run reads arrays, not named columns"),
        ({"rows": [[1.0, 2.0]]}, "input rows have shape (2,), expected"),
        ({"rows": [[1.0, "2"]]}, "rows[0][1] must be a number, got text '2'"),
        ({"rows": [[1.0]] * 9}, "over the limit of 8"),
    ],
)
def test_bad_array_payloads_are_422(signal_client, payload, expected):
    client, _ = signal_client
    answer = client.post("/predict", json=payload)
    assert answer.status_code == 422
    assert expected in answer.json()["detail"]


def test_a_regression_run_answers_values_in_original_units(tmp_path: Path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(150, 2))
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "price": 3 * x[:, 0] - x[:, 1] + 10})
    frame.to_csv(tmp_path / "houses.csv", index=False)
    config = tiny_config(
        str(tmp_path / "houses.csv"),
        task="regression",
        data={"target": "price"},
        train={"epochs": 2},
        report={"enabled": False},
    )
    run = gradwise.train(config, out=tmp_path / "runs")
    client = TestClient(create_app(Predictor(run.path)))
    rows = frame[["a", "b"]].head(5)
    answer = client.post("/predict", json={"records": rows.to_dict("records")}).json()
    np.testing.assert_allclose(answer["predictions"], run.predict(rows), rtol=1e-6)
    assert "probabilities" not in answer and "classes" not in answer
    assert client.get("/metadata").json()["classes"] is None


def test_the_listening_socket_is_tcp_without_nagle():
    """asyncio disables Nagle's algorithm only on sockets created as IPPROTO_TCP; without it a
    response written as headers then body waits for the client's delayed ACK (~40 ms)."""
    from gradwise.serving import bind

    listener = bind("127.0.0.1", 0)
    try:
        assert listener.proto == socket.IPPROTO_TCP
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        listener.close()
