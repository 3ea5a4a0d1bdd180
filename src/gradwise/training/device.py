"""Which device a run trains on (``train.device``) and in which precision (``train.precision``)."""

from __future__ import annotations

import warnings

import torch
from torch import nn

from gradwise.errors import ConfigError

PRECISIONS = {"32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(name: str) -> torch.device:
    """``auto`` is CUDA when available, else the CPU; ``cuda`` without a GPU is an error."""
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("train.device: cuda was asked for but no CUDA device is available")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def autocast_dtype(train: object, device: torch.device) -> torch.dtype | None:
    """The autocast dtype of ``train.precision`` (bf16 keeps fp32's range; fp16 needs loss
    scaling, which the engine adds); ``train.mixed_precision`` is bf16 on a CUDA device that
    supports it and nothing elsewhere."""
    precision = getattr(train, "precision", "32")
    if precision != "32":
        if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
            raise ConfigError("train.precision: bf16 is not supported by this GPU; use fp16")
        return PRECISIONS[precision]
    if getattr(train, "mixed_precision", False) and device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    return None


class CompiledOrEager(nn.Module):
    """``torch.compile(module)`` that falls back to ``module`` itself, with one warning, when
    compiling fails (compilation happens at the first call, so that is where it is caught).
    Both share the parameters; checkpoints hold ``module``."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.eager = module
        self.compiled = torch.compile(module)
        self.failed = False

    def forward(self, *args: object, **kwargs: object) -> object:
        if not self.failed:
            try:
                return self.compiled(*args, **kwargs)
            except Exception as exc:
                self.failed = True
                first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                warnings.warn(
                    f"train.compile: torch.compile failed ({first_line[:160]}); "
                    "training continues without it",
                    stacklevel=2,
                )
        return self.eager(*args, **kwargs)
