"""Ways to damage a checkpoint, by name (shared by the suite and the benchmark).

Each takes the checkpoint folder and a random generator and damages ``last``; the checks then
demand a clean error before any weight reaches the model, and a resume from ``previous``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from gradwise.registry import Registry
from gradwise.training.checkpoint import sha256

Damage = Callable[[Path, random.Random], None]
DAMAGES: Registry[Damage] = Registry("checkpoint damage")
WEIGHTS, STATE, MANIFEST = "last.safetensors", "last.state.pt", "last.json"


def truncate_at(offset: int | float) -> Damage:
    """Cut the weights at ``offset`` bytes (a float: that fraction of the file)."""

    def damage(folder: Path, rng: random.Random) -> None:
        data = (folder / WEIGHTS).read_bytes()
        at = int(offset * len(data)) if isinstance(offset, float) else offset
        (folder / WEIGHTS).write_bytes(data[:at])

    return damage


def flip_bits(count: int, file: str = WEIGHTS) -> Damage:
    def damage(folder: Path, rng: random.Random) -> None:
        data = bytearray((folder / file).read_bytes())
        for _ in range(count):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        (folder / file).write_bytes(bytes(data))

    return damage


def zero_page(where: float) -> Damage:
    """4 KiB of zeros at ``where`` (a fraction of the file)."""

    def damage(folder: Path, rng: random.Random) -> None:
        data = bytearray((folder / WEIGHTS).read_bytes())
        start = int(where * max(len(data) - 1, 0))
        data[start : start + 4096] = bytes(min(4096, len(data) - start))
        (folder / WEIGHTS).write_bytes(bytes(data))

    return damage


def header_longer_than_file(folder: Path, rng: random.Random) -> None:
    data = (folder / WEIGHTS).read_bytes()
    (folder / WEIGHTS).write_bytes((len(data) * 4).to_bytes(8, "little") + data[8:])


def rewritten(change: Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]]) -> Damage:
    """A well-formed file with changed tensors, its manifest updated to match (so only the
    check against the model can catch it)."""

    def damage(folder: Path, rng: random.Random) -> None:
        tensors = change(load_file(folder / WEIGHTS))
        save_file(tensors, folder / WEIGHTS, metadata={"epoch": _epoch(folder)})
        _rehash(folder, "safetensors")

    return damage


def _epoch(folder: Path) -> str:
    return str(json.loads((folder / MANIFEST).read_text())["epoch"])


def _rehash(folder: Path, suffix: str) -> None:
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["files"][suffix]["sha256"] = sha256(folder / f"last.{suffix}")
    (folder / MANIFEST).write_text(json.dumps(manifest))


def renamed(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {f"x{name}": t for name, t in tensors.items()}


def reshaped(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    name = next(iter(tensors))
    return {**tensors, name: torch.zeros(tensors[name].numel() + 1)}


def retyped(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {name: t.double() for name, t in tensors.items()}


def non_finite(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    name = next(n for n, t in tensors.items() if t.is_floating_point())  # not a step counter
    poisoned = tensors[name].clone()
    poisoned.view(-1)[0] = float("nan")
    return {**tensors, name: poisoned}


def missing_state(folder: Path, rng: random.Random) -> None:
    (folder / STATE).unlink()


def missing_manifest_and_torn_state(folder: Path, rng: random.Random) -> None:
    """A checkpoint from before manifests, its state file cut short."""
    (folder / MANIFEST).unlink()
    data = (folder / STATE).read_bytes()
    (folder / STATE).write_bytes(data[: len(data) // 2])


def future_manifest(folder: Path, rng: random.Random) -> None:
    manifest = json.loads((folder / MANIFEST).read_text())
    (folder / MANIFEST).write_text(json.dumps({**manifest, "format_version": 99}))


def future_weights(folder: Path, rng: random.Random) -> None:
    tensors = load_file(folder / WEIGHTS)
    metadata = {"epoch": _epoch(folder), "format_version": "99"}
    save_file(tensors, folder / WEIGHTS, metadata=metadata)
    _rehash(folder, "safetensors")


def mismatched_epochs(folder: Path, rng: random.Random) -> None:
    """The weights of ``previous`` under ``last``'s name (manifest updated): a mismatched pair."""
    (folder / WEIGHTS).write_bytes((folder / "previous.safetensors").read_bytes())
    _rehash(folder, "safetensors")


def damaged_manifest(folder: Path, rng: random.Random) -> None:
    (folder / MANIFEST).write_text('{"format_version": 1, "files": ')


for _offset in (0, 7, 8, 100, 0.5, -1):
    DAMAGES.register(f"truncated at {_offset}")(truncate_at(_offset))
DAMAGES.register("one bit flipped")(flip_bits(1))
DAMAGES.register("8 bits flipped")(flip_bits(8))
DAMAGES.register("one bit flipped in the state")(flip_bits(1, STATE))
DAMAGES.register("zeroed page at the start")(zero_page(0.0))
DAMAGES.register("zeroed page in the middle")(zero_page(0.5))
DAMAGES.register("header length larger than the file")(header_longer_than_file)
DAMAGES.register("wrong tensor names")(rewritten(renamed))
DAMAGES.register("wrong tensor shape")(rewritten(reshaped))
DAMAGES.register("wrong tensor dtypes")(rewritten(retyped))
DAMAGES.register("non-finite tensor")(rewritten(non_finite))
DAMAGES.register("missing state file")(missing_state)
DAMAGES.register("no manifest, torn state file")(missing_manifest_and_torn_state)
DAMAGES.register("manifest from a future version")(future_manifest)
DAMAGES.register("weights from a future version")(future_weights)
DAMAGES.register("weights and state of different epochs")(mismatched_epochs)
DAMAGES.register("damaged manifest")(damaged_manifest)
