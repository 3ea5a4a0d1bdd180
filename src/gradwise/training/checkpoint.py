"""Checkpoints: weights as safetensors, training state as a tensors-and-primitives file.

Both load without executing code: safetensors is a plain tensor container, and the state file is
read with ``torch.load(weights_only=True)``. Each file is written atomically (temp file, rename);
the epoch is recorded in both so a mismatched pair is detected instead of silently resumed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from gradwise._io import atomic_write
from gradwise.errors import CheckpointError

WEIGHTS = "{tag}.safetensors"
STATE = "{tag}.state.pt"


def weights_copy(model: torch.nn.Module, copy: bool = True) -> dict[str, torch.Tensor]:
    """The model's weights on the CPU; with ``copy``, detached from later training steps (else
    CPU tensors may share the model's memory, for an immediate write)."""
    return {
        name: t.detach().to("cpu", copy=copy).contiguous() for name, t in model.state_dict().items()
    }


def save_weights(
    folder: Path, tag: str, weights: torch.nn.Module | dict[str, torch.Tensor], epoch: int
) -> Path:
    """Write a model's weights (or a :func:`weights_copy` of them) as ``{tag}.safetensors``."""
    if isinstance(weights, torch.nn.Module):
        weights = weights_copy(weights, copy=False)
    path = folder / WEIGHTS.format(tag=tag)
    atomic_write(path, lambda tmp: save_file(weights, str(tmp), metadata={"epoch": str(epoch)}))
    return path


def save_state(folder: Path, tag: str, state: dict[str, Any]) -> Path:
    path = folder / STATE.format(tag=tag)
    atomic_write(path, lambda tmp: torch.save(state, tmp))
    return path


def load_weights(folder: Path, tag: str, model: torch.nn.Module) -> int:
    """Load ``tag`` weights into ``model``; returns the epoch they were saved at."""
    path = folder / WEIGHTS.format(tag=tag)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint")
    try:
        tensors = load_file(str(path), device="cpu")
        with safe_open(str(path), framework="pt") as handle:
            epoch = int((handle.metadata() or {}).get("epoch", -1))
        model.load_state_dict(tensors)
    except (SafetensorError, RuntimeError, OSError, ValueError) as exc:  # damaged or foreign
        raise CheckpointError(f"{path}: cannot load weights ({str(exc).splitlines()[0]})") from None
    return epoch


def load_state(folder: Path, tag: str) -> dict[str, Any]:
    path = folder / STATE.format(tag=tag)
    if not path.is_file():
        raise CheckpointError(f"{path}: no training state to resume from")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any unpickling failure means a damaged or foreign file
        raise CheckpointError(f"{path}: cannot read training state ({exc})") from None
