"""The HTTP application: ``POST /predict``, ``GET /health``, ``GET /metadata`` and FastAPI's own
OpenAPI pages (``/docs``, ``/redoc``, ``/openapi.json``).

A body the run cannot predict from is answered with HTTP 422 and ``{"detail": "<one line>"}``;
the server goes on serving. The body is read here (not by FastAPI's validation) so that an
oversize body is refused before it is read in full, and each problem gets one message naming
where it is rather than a list of schema paths.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

import gradwise
from gradwise.errors import GradwiseError
from gradwise.serving.payload import Limits, PayloadError, parse_body, read_payload, too_large
from gradwise.serving.predictor import Predictor


# ------------------------------------------------------------------- documented shapes
class RowsBody(BaseModel):
    rows: list[list[Any]] = Field(
        description="one list per row, values in the order of /metadata's features",
        examples=[[[5.1, 3.5, 1.4, 0.2]]],
    )


class RecordsBody(BaseModel):
    records: list[dict[str, Any]] = Field(
        description="one object per row, keyed by input column (null: a missing value)",
        examples=[[{"sepal length (cm)": 5.1, "sepal width (cm)": 3.5}]],
    )


class Predictions(BaseModel):
    predictions: list[Any] = Field(
        description="a label or value per row (a list per row "
        "when the run predicts several targets)"
    )
    classes: list[Any] | None = Field(None, description="classifiers: the class labels")
    probabilities: list[list[float]] | None = Field(
        None, description="classifiers: one row per input, columns in the order of classes"
    )
    columns: list[str] | None = Field(None, description="several targets: what each value is")
    warnings: list[str] = Field(description="what the preprocessing repaired (imputed values)")


class Problem(BaseModel):
    detail: str = Field(description="what is wrong with the request, in one line")


def _body_schema() -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"oneOf": [RowsBody.model_json_schema(), RecordsBody.model_json_schema()]}
            }
        },
    }


# -------------------------------------------------------------------------- the app
def create_app(predictor: Predictor, limits: Limits | None = None) -> FastAPI:
    """The FastAPI application serving ``predictor`` (its model already loaded)."""
    limits = limits or Limits()
    metadata = predictor.metadata() | {
        "limits": {"max_rows": limits.max_rows, "max_bytes": limits.max_bytes}
    }
    app = FastAPI(
        title=f"gradwise: {metadata['name']}",
        version=gradwise.__version__,
        description=(
            f"Predictions of the {metadata['task']} run `{metadata['run']}` "
            f"({metadata['model']} model). Send `rows` or `records` to `/predict`; "
            "`/metadata` lists the input columns."
        ),
    )
    app.state.predictor = predictor

    @app.get("/health", summary="the server is up and its model is loaded")
    def health() -> dict[str, str]:
        return {"status": "ok", "run": metadata["run"]}

    @app.get("/metadata", summary="input features, classes, task, versions")
    def get_metadata() -> dict[str, Any]:
        return metadata

    @app.post(
        "/predict",
        summary="predictions (and class probabilities) for rows or records",
        openapi_extra={"requestBody": _body_schema()},
        responses={200: {"model": Predictions}, 422: {"model": Problem}},
    )
    async def predict(request: Request) -> JSONResponse:
        try:
            body = await read_body(request, limits)
            inputs = read_payload(parse_body(body, limits), predictor.layout, limits)
            answer = await run_in_threadpool(predictor.predict, inputs)
        except GradwiseError as exc:  # the payload, or what the preprocessing found in it
            return JSONResponse({"detail": str(exc)}, status_code=422)
        return JSONResponse(answer)

    return app


async def read_body(request: Request, limits: Limits) -> bytes:
    """The request body, refused as soon as it is known to pass ``limits.max_bytes``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limits.max_bytes:
        raise PayloadError(too_large(int(declared), limits))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limits.max_bytes:
            raise PayloadError(too_large(size, limits))
        chunks.append(chunk)
    return b"".join(chunks)
