"""``gradwise serve`` as a user meets it: a real server process on a free port, real HTTP."""

from __future__ import annotations

import http.client
import json
import threading
import urllib.request
from urllib.parse import urlparse

import numpy as np
import pytest

import gradwise
from tests.serving.conftest import MAX_BYTES, MAX_ROWS, Server, records_of, rows_of


def test_health_and_metadata_describe_the_served_run(server: Server, table_run: gradwise.Run):
    assert server.get("/health").body == {"status": "ok", "run": table_run.path.name}
    metadata = server.get("/metadata").body
    assert metadata["run"] == table_run.path.name
    assert metadata["task"] == "classification"
    assert metadata["classes"] == ["no", "yes"]
    assert metadata["gradwise_version"] == gradwise.__version__
    assert [f["name"] for f in metadata["features"]] == ["x1", "x2", "color"]
    assert [f["kind"] for f in metadata["features"]] == ["numeric", "numeric", "categorical"]
    assert metadata["features"][2]["categories"] == ["blue", "green", "red"]
    assert metadata["limits"] == {"max_rows": MAX_ROWS, "max_bytes": MAX_BYTES}


def test_openapi_documents_the_three_endpoints(server: Server):
    schema = server.get("/openapi.json").body
    assert {"/predict", "/health", "/metadata"} <= set(schema["paths"])
    body = schema["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]
    assert {"rows", "records"} == {next(iter(s["properties"])) for s in body["schema"]["oneOf"]}
    with urllib.request.urlopen(server.url + "/docs", timeout=30) as page:
        assert "swagger-ui" in page.read().decode()


@pytest.mark.parametrize("shape", ["rows", "records"])
def test_predictions_equal_run_predict(server: Server, table_run: gradwise.Run, new_rows, shape):
    payload = rows_of(new_rows) if shape == "rows" else records_of(new_rows)
    answer = server.post("/predict", {shape: payload})
    assert answer.status == 200, answer.body
    assert answer.body["predictions"] == table_run.predict(new_rows).tolist()
    assert answer.body["classes"] == table_run.classes
    np.testing.assert_allclose(
        answer.body["probabilities"], table_run.predict_proba(new_rows), rtol=0, atol=1e-6
    )
    assert answer.body["warnings"] == []


def test_a_missing_value_is_imputed_as_predict_does(server: Server, table_run, new_rows):
    rows = rows_of(new_rows.head(3))
    rows[1][1] = None
    answer = server.post("/predict", {"rows": rows})
    assert answer.status == 200
    frame = new_rows.head(3).copy()
    frame.loc[1, "x2"] = np.nan
    with pytest.warns(UserWarning, match="imputed"):
        expected = table_run.predict(frame)
    assert answer.body["predictions"] == expected.tolist()
    assert len(answer.body["warnings"]) == 1 and "x2" in answer.body["warnings"][0]


def test_an_unseen_category_is_unknown_and_said(server):
    answer = server.post("/predict", {"records": [{"x1": 0.1, "x2": 0.2, "color": "purple"}]})
    assert answer.status == 200 and len(answer.body["predictions"]) == 1
    (warning,) = answer.body["warnings"]
    assert "encoded as unknown" in warning and "'purple' (1 row)" in warning


GOOD = [0.1, -0.4, "red"]
BAD_PAYLOADS = {
    "empty body": (b"", "empty body"),
    "blank body": (b"  \n", "empty body"),
    "not JSON": (b'{"rows": [[0.1, ', "not valid JSON"),
    "NaN": (b'{"rows": [[NaN, 0.2, "red"]]}', "NaN is not a JSON number"),
    "not UTF-8": (b'{"rows": [["\xff"]]}', "not UTF-8"),
    "a list at the top": ([GOOD], "expected a JSON object"),
    "neither key": ({}, "got neither"),
    "both keys": ({"rows": [GOOD], "records": []}, "got both"),
    "unknown key": ({"rows": [GOOD], "row": 1}, "unknown key(s) 'row'"),
    "rows not a list": ({"rows": "x1"}, "'rows' must be a list, got text 'x1'"),
    "empty rows": ({"rows": []}, "'rows' is empty"),
    "empty records": ({"records": []}, "'records' is empty"),
    "row not a list": ({"rows": [GOOD, 3]}, "rows[1] must be a list"),
    "short row": ({"rows": [GOOD, [0.1, "red"]]}, "rows[1] has 2 values; this run takes 3"),
    "text in a number column": (
        {"rows": [[0.1, "high", "red"]]},
        "rows[0][1] (x2) must be a number or null, got text 'high'",
    ),
    "boolean in a number column": (
        {"records": [{"x1": True, "x2": 0.0, "color": "red"}]},
        "records[0].x1 must be a number or null, got a boolean",
    ),
    "list in a cell": ({"rows": [[0.1, 0.2, ["red"]]]}, "rows[0][2] (color) must be a number"),
    "record not an object": ({"records": [[0.1, 0.2, "red"]]}, "records[0] must be an object"),
    "missing column": (
        {"records": [{"x1": 0.1, "color": "red"}]},
        "records[0] is missing column(s) 'x2'",
    ),
    "too many rows": ({"rows": [GOOD] * (MAX_ROWS + 1)}, f"over the limit of {MAX_ROWS}"),
    "too many bytes": (
        {"rows": [[0.1, 0.2, "x" * MAX_BYTES]]},
        f"over the limit of {MAX_BYTES} bytes",
    ),
}


@pytest.mark.parametrize("case", list(BAD_PAYLOADS))
def test_a_bad_payload_is_422_with_one_line_and_the_server_goes_on(server: Server, case: str):
    body, expected = BAD_PAYLOADS[case]
    answer = server.post("/predict", body)
    assert answer.status == 422
    assert set(answer.body) == {"detail"}
    assert expected in answer.body["detail"]
    assert "\n" not in answer.body["detail"]
    assert server.post("/predict", {"rows": [GOOD]}).status == 200


def test_concurrent_requests_each_get_their_own_answer(server: Server, table_run, new_rows):
    """Eight clients at once, each with different rows: no answer is mixed up with another."""
    chunks = [new_rows.iloc[i : i + 1 + i % 3] for i in range(8)]
    expected = [table_run.predict(chunk).tolist() for chunk in chunks]
    answers: list[list] = [[] for _ in chunks]

    def client(i: int) -> None:
        for _ in range(5):
            answers[i].append(server.post("/predict", {"rows": rows_of(chunks[i])}))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(chunks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for i, replies in enumerate(answers):
        assert [r.status for r in replies] == [200] * 5
        assert all(r.body["predictions"] == expected[i] for r in replies)


def test_a_body_sent_as_form_data_is_read_as_json_or_refused(server: Server):
    answer = server.post("/predict", json.dumps({"rows": [GOOD]}).encode(), "text/plain")
    assert answer.status == 200
    answer = server.post("/predict", b"rows=1", "application/x-www-form-urlencoded")
    assert answer.status == 422 and "not valid JSON" in answer.body["detail"]


def test_an_oversize_body_without_a_length_is_refused_while_it_is_read(server: Server):
    """Chunked transfer declares no length: the limit is applied to what has arrived."""
    address = urlparse(server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    chunks = iter([b'{"rows": [[0.1, 0.2, "', b"x" * MAX_BYTES, b'"]]}'])
    connection.request("POST", "/predict", body=chunks, encode_chunked=True)
    answer = connection.getresponse()
    assert answer.status == 422
    assert f"over the limit of {MAX_BYTES} bytes" in json.loads(answer.read())["detail"]
    connection.close()
    assert server.get("/health").status == 200
