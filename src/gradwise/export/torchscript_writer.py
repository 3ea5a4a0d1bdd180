"""TorchScript: the exported module compiled with ``torch.jit.script`` (every shape stays
dynamic), traced when a model cannot be scripted; loaded back with ``torch.jit.load``."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch


def write(module: torch.nn.Module, example: torch.Tensor, path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compiled = torch.jit.script(module)
        except Exception:  # a model using Python that TorchScript cannot compile
            compiled = torch.jit.trace(module, (example,), check_trace=False)
        torch.jit.save(compiled, str(path))


def run(path: Path, inputs: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = torch.jit.load(str(path), map_location="cpu")
    with torch.inference_mode():
        return loaded(torch.as_tensor(inputs, dtype=torch.float64)).numpy()
