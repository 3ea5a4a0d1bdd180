"""Checkpoints: weights as safetensors, training state as a tensors-and-primitives file, and a
manifest with their checksums, written last.

Everything loads without executing code: safetensors is a plain tensor container, the state
file is read with ``torch.load(weights_only=True)`` and the manifest is JSON. Each file is
written atomically (temp file, rename). A checkpoint ``{tag}`` is valid when its manifest
``{tag}.json`` names files whose SHA-256 match, the weights fit the model (names, shapes,
dtypes) and are finite, and the state belongs to the same epoch; the model is touched only
after all of that has been checked.

``last`` keeps a ``previous``: before a new ``last`` is written, the current one is hard-linked
to ``previous`` (file by file, each link renamed into place), so at every instant — a kill in
the middle of any write included — at least one of the two is complete and valid, and a resume
falls back to ``previous`` saying why ``last`` was skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from gradwise._io import atomic_write, atomic_write_json
from gradwise.errors import CheckpointError

WEIGHTS = "{tag}.safetensors"
STATE = "{tag}.state.pt"
MANIFEST = "{tag}.json"
FORMAT_VERSION = 1  # of checkpoint manifests and weight metadata; newer ones are refused
RESUME_TAGS = ("last", "previous")  # tried in this order by a resume


def weights_copy(model: torch.nn.Module, copy: bool = True) -> dict[str, torch.Tensor]:
    """The model's weights on the CPU; with ``copy``, detached from later training steps (else
    CPU tensors may share the model's memory, for an immediate write)."""
    return {
        name: t.detach().to("cpu", copy=copy).contiguous() for name, t in model.state_dict().items()
    }


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ------------------------------------------------------------------------------------ writing
def save_weights(
    folder: Path, tag: str, weights: torch.nn.Module | dict[str, torch.Tensor], epoch: int
) -> Path:
    """Write a model's weights (or a :func:`weights_copy` of them) as ``{tag}.safetensors``,
    then its manifest (a single-file checkpoint such as ``best``)."""
    path = _write_weights(folder, tag, weights, epoch)
    _write_manifest(folder, tag, epoch, [path])
    return path


def save_checkpoint(
    folder: Path, tag: str, module: torch.nn.Module, state: dict[str, Any], epoch: int
) -> None:
    """Write checkpoint ``tag`` (weights, training state, manifest last); the one it replaces
    is kept as ``previous`` first."""
    _keep_previous(folder, tag)
    weights = _write_weights(folder, tag, module, epoch)
    state_path = folder / STATE.format(tag=tag)
    atomic_write(state_path, lambda tmp: torch.save(state, tmp))
    _write_manifest(folder, tag, epoch, [weights, state_path])


def _write_weights(
    folder: Path, tag: str, weights: torch.nn.Module | dict[str, torch.Tensor], epoch: int
) -> Path:
    if isinstance(weights, torch.nn.Module):
        weights = weights_copy(weights, copy=False)
    path = folder / WEIGHTS.format(tag=tag)
    metadata = {"epoch": str(epoch), "format_version": str(FORMAT_VERSION)}
    atomic_write(path, lambda tmp: save_file(weights, str(tmp), metadata=metadata))
    return path


def _write_manifest(folder: Path, tag: str, epoch: int, files: list[Path]) -> None:
    manifest = {
        "format_version": FORMAT_VERSION,
        "epoch": epoch,
        # by suffix, not by name: ``previous`` is a link of ``last``, manifest included
        "files": {
            p.name.removeprefix(f"{tag}."): {"sha256": sha256(p), "bytes": p.stat().st_size}
            for p in files
        },
    }
    atomic_write_json(folder / MANIFEST.format(tag=tag), manifest)


def _keep_previous(folder: Path, tag: str) -> None:
    """Hard-link ``tag``'s files to ``previous`` (copy where links are not possible), the
    manifest last, so ``previous`` becomes valid only once all its files are in place. A
    ``last`` that does not verify (a write was cut short) leaves ``previous`` as it is."""
    if tag != "last" or not (folder / MANIFEST.format(tag=tag)).is_file():
        return
    try:
        verify_manifest(folder, tag)
    except CheckpointError:
        return
    for name in (WEIGHTS, STATE, MANIFEST):
        source = folder / name.format(tag=tag)
        if source.is_file():
            _link_into_place(source, folder / name.format(tag="previous"))


def _link_into_place(source: Path, target: Path) -> None:
    """``target`` becomes the same file as ``source``: linked (or copied) under a temporary
    name, then renamed over ``target``."""
    tmp = target.with_name(f".{target.name}.link")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
    except OSError:  # a file system without hard links
        atomic_write(tmp, lambda part: part.write_bytes(source.read_bytes()))
    os.replace(tmp, target)


# ------------------------------------------------------------------------------------ reading
@dataclass
class Restored:
    """The checkpoint a resume continues from, and the ones it skipped (``tag: reason``)."""

    tag: str
    epoch: int
    state: dict[str, Any]
    skipped: list[str] = field(default_factory=list)


def load_weights(folder: Path, tag: str, model: torch.nn.Module) -> int:
    """Load ``tag`` weights into ``model`` once they have been checked; returns the epoch they
    were saved at."""
    tensors, epoch = read_weights(folder, tag, model)
    model.load_state_dict(tensors)
    return epoch


def load_state(folder: Path, tag: str) -> dict[str, Any]:
    path = folder / STATE.format(tag=tag)
    if not path.is_file():
        raise CheckpointError(f"{path}: no training state to resume from")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any unpickling failure means a damaged or foreign file
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path}: cannot read training state ({reason})") from None
    if not isinstance(state, dict) or not isinstance(state.get("epoch"), int):
        raise CheckpointError(f"{path}: not a gradwise training state (no epoch)")
    return state


def load_checkpoint(folder: Path, model: torch.nn.Module, tags=RESUME_TAGS) -> Restored:
    """The newest valid checkpoint among ``tags``: its weights loaded into ``model`` (only
    once everything has been checked) and its training state; the skipped ones with why."""
    skipped: list[str] = []
    for tag in tags:
        if not (folder / WEIGHTS.format(tag=tag)).is_file() and tag != tags[0]:
            continue
        try:
            tensors, epoch = read_weights(folder, tag, model)
            state = load_state(folder, tag)
            if state["epoch"] != epoch:
                raise CheckpointError(
                    f"{folder / tag}: weights (epoch {epoch}) and training state "
                    f"(epoch {state['epoch']}) do not match"
                )
            check_finite(folder / WEIGHTS.format(tag=tag), tensors)
        except CheckpointError as exc:
            skipped.append(f"{tag}: {exc}")
            continue
        model.load_state_dict(tensors)
        return Restored(tag, epoch, state, skipped)
    raise CheckpointError(f"{folder}: no valid checkpoint to resume from ({'; '.join(skipped)})")


def read_weights(
    folder: Path, tag: str, model: torch.nn.Module
) -> tuple[dict[str, torch.Tensor], int]:
    """``tag``'s weights, checked against its manifest and against ``model`` (names, shapes,
    dtypes), and the epoch they were saved at; the model is not touched."""
    path = folder / WEIGHTS.format(tag=tag)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint")
    try:
        verify_manifest(folder, tag)
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: cannot load weights ({exc})") from None
    try:
        tensors = load_file(str(path), device="cpu")
        metadata = _metadata(path)
        epoch = int(metadata.get("epoch", -1))
        version = int(metadata.get("format_version", FORMAT_VERSION))
    except (SafetensorError, RuntimeError, OSError, ValueError) as exc:  # damaged or foreign
        raise CheckpointError(f"{path}: cannot load weights ({_first_line(exc)})") from None
    if version > FORMAT_VERSION:
        raise CheckpointError(_newer(path, version))
    check_fits(path, tensors, model)
    return tensors, epoch


def verify_manifest(folder: Path, tag: str) -> None:
    """Check ``tag``'s files against its manifest (none for checkpoints written before
    manifests existed: their files are read as they are); the error says why, naming the
    files but not their folder."""
    path = folder / MANIFEST.format(tag=tag)
    if not path.is_file():
        return
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        version = int(manifest.get("format_version", 0))
        files = dict(manifest["files"])
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        raise CheckpointError(f"{path.name} is damaged") from None
    if version > FORMAT_VERSION:
        raise CheckpointError(_newer(path.name, version))
    for suffix, expected in files.items():
        listed = folder / f"{tag}.{Path(str(suffix)).name}"  # files of this tag, in this folder
        if not listed.is_file():
            raise CheckpointError(f"{listed.name} is missing (listed in {path.name})")
        if not isinstance(expected, dict) or sha256(listed) != expected.get("sha256"):
            raise CheckpointError(f"{listed.name} does not match its checksum in {path.name}")


def check_fits(path: Path, tensors: dict[str, torch.Tensor], model: torch.nn.Module) -> None:
    """The saved tensors have exactly the model's names, shapes and dtypes."""
    expected = model.state_dict()
    missing = sorted(expected.keys() - tensors.keys())
    extra = sorted(tensors.keys() - expected.keys())
    if missing or extra:
        parts = [f"missing {', '.join(missing[:3])}" if missing else ""]
        parts += [f"unexpected {', '.join(extra[:3])}" if extra else ""]
        what = "; ".join(p for p in parts if p)
        raise CheckpointError(f"{path}: weights do not fit the run's model ({what})")
    for name, tensor in tensors.items():
        want = expected[name]
        if tensor.shape != want.shape or tensor.dtype != want.dtype:
            raise CheckpointError(
                f"{path}: {name} is {tuple(tensor.shape)} {tensor.dtype}, the model expects "
                f"{tuple(want.shape)} {want.dtype}"
            )


def check_finite(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise CheckpointError(f"{path}: {name} holds non-finite values")


def _metadata(path: Path) -> dict[str, str]:
    """The safetensors header's ``__metadata__`` (the header is 8 bytes of length, then JSON;
    ``load_file`` has already checked both)."""
    with path.open("rb") as stream:
        length = int.from_bytes(stream.read(8), "little")
        header = json.loads(stream.read(length))
    return header.get("__metadata__") or {}


def _newer(path: Path | str, version: int) -> str:
    return (
        f"{path}: written by a newer gradwise (format version {version}; this one reads up to "
        f"{FORMAT_VERSION}); upgrade gradwise to read it"
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
