"""The exported module: a run's best model between its folded input scaling and output step.

Formula::

    z = float32((features - offset) / factor) # the run's fitted scaling, in float64 as in gradwise
    outputs = model(z)                        # (B, out), float32
    classification: p_k = exp(o_k) / Σ_j exp(o_j)   (one logit: [1 - σ(o), σ(o)])
    regression:     y = outputs · std + mean  # back to the target's own units, in float64
    other tasks:    the model's outputs as they are
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from gradwise.export.preprocessing import scaling_vectors
from gradwise.training.metrics import class_probabilities


class ClassProbabilities(nn.Module):
    def forward(self, outputs: torch.Tensor) -> torch.Tensor:  # (B, K) or (B, 1) -> (B, K)
        return class_probabilities(outputs)


class TargetUnits(nn.Module):
    """Standardized regression outputs back in the target's units: ``y = o · std + mean``
    (float64, as gradwise decodes them)."""

    def __init__(self, mean: list[float], std: list[float]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float64).reshape(1, -1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float64).reshape(1, -1))

    def forward(self, outputs: torch.Tensor) -> torch.Tensor:  # (B, T) float32 -> float64
        return outputs.double() * self.std + self.mean


class ExportedModel(nn.Module):
    """Unscaled float64 features ``(B, *feature_shape)`` → probabilities, values or outputs.

    The scaling runs in float64 and the model in float32, as in gradwise: large raw values
    (timestamps, prices) keep their precision up to the scaling."""

    def __init__(self, model: nn.Module, offset: np.ndarray, factor: np.ndarray, head: nn.Module):
        super().__init__()
        self.model = model
        self.register_buffer("offset", torch.as_tensor(offset, dtype=torch.float64))
        self.register_buffer("factor", torch.as_tensor(factor, dtype=torch.float64))
        self.head = head

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        scaled = (features.double() - self.offset) / self.factor  # (B, *S) per feature/channel
        return self.head(self.model(scaled.float()))


def _probabilities(run: Any) -> tuple[nn.Module, dict[str, Any]]:
    return ClassProbabilities(), {
        "name": "probabilities",
        "shape": ["batch", len(run.classes or [])],
        "dtype": "float32",
        "meaning": "class probabilities, columns in the order of 'classes'",
        "folded": ["softmax"],
    }


def _values(run: Any) -> tuple[nn.Module, dict[str, Any]]:
    target = run.preprocessor.target
    return TargetUnits(target.mean, target.std), {
        "name": "values",
        "shape": ["batch", target.width],
        "dtype": "float64",
        "meaning": f"predicted values of {target.names or ['y']} in their own units",
        "folded": ["target_scaling"],
    }


def _raw_outputs(run: Any) -> tuple[nn.Module, dict[str, Any]]:
    return nn.Identity(), {
        "name": "outputs",
        "shape": ["batch", None],
        "dtype": "float32",
        "meaning": "the model's outputs",
        "folded": [],
    }


# the last step of prediction, by the kind of targets the run learned (others: raw outputs)
OUTPUT_STEPS: dict[str, Callable[[Any], tuple[nn.Module, dict[str, Any]]]] = {
    "labels": _probabilities,
    "values": _values,
}


def output_head(run: Any) -> tuple[nn.Module, dict[str, Any]]:
    """The last step for the run's targets, and the description of the model's output."""
    return OUTPUT_STEPS.get(run.preprocessor.target_kind, _raw_outputs)(run)


def exported_model(run: Any) -> tuple[ExportedModel, dict[str, Any]]:
    """The run's best model wrapped for export (CPU, eval mode), and its output description."""
    offset, factor = scaling_vectors(run.preprocessor)
    head, output = output_head(run)
    module = ExportedModel(run.model.cpu(), offset, factor, head).eval()
    return module, output


def raw_examples(run: Any, rows: int, seed: int = 0) -> torch.Tensor:
    """``rows`` plausible unscaled inputs: standard normal draws in the scaled space, mapped
    back through the run's scaling (``x = z · factor + offset``)."""
    offset, factor = scaling_vectors(run.preprocessor)
    shape = (rows, *run.preprocessor.feature_shape)
    z = np.random.default_rng(seed).standard_normal(shape)
    return torch.as_tensor(z * factor + offset, dtype=torch.float64)
