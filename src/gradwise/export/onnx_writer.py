"""ONNX: the exported module traced by PyTorch's ONNX exporter (opset 17), the batch dimension
of its input and output dynamic; run back with onnxruntime (input ``features``, float64)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

OPSET = 17


def write(module: torch.nn.Module, example: torch.Tensor, path: Path) -> None:
    with warnings.catch_warnings():  # the exporter's notes on tracing are not the user's
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (example,),
            str(path),
            dynamo=False,
            input_names=["features"],
            output_names=["outputs"],
            dynamic_axes={"features": {0: "batch"}, "outputs": {0: "batch"}},
            opset_version=OPSET,
        )
    import onnx

    onnx.checker.check_model(str(path))


def run(path: Path, inputs: np.ndarray) -> np.ndarray:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 4  # a failure is raised as an exception, not also logged
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(None, {"features": np.asarray(inputs, dtype=np.float64)})[0]
