"""Which device a run trains on (``train.device``)."""

from __future__ import annotations

import torch

from gradwise.errors import ConfigError


def resolve_device(name: str) -> torch.device:
    """``auto`` is CUDA when available, else the CPU; ``cuda`` without a GPU is an error."""
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("train.device: cuda was asked for but no CUDA device is available")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def autocast_dtype(mixed_precision: bool, device: torch.device) -> torch.dtype | None:
    """bf16 autocast for ``train.mixed_precision`` on a CUDA device that supports it (bf16
    keeps fp32's range: no loss scaling needed); None otherwise."""
    if mixed_precision and device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return None
