"""A split read from disk chunk by chunk (:mod:`gradwise.data.streaming`), shaped like a
:class:`~gradwise.training.engine.TensorSplit` for the engine and the supervised paradigms.

Its targets sit on the device (one value per row); its inputs are encoded chunk by chunk on the
host and copied to the device (from pinned memory, without blocking, on a GPU). The engine asks
it for an epoch's batches (:meth:`StreamSplit.epoch_batches`); evaluation reads its inputs in
order (:class:`ChunkedInputs`), keeping only the model's outputs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from gradwise.data import streaming
from gradwise.data.streaming import StreamedSplits, training_chunks

Batch = dict[str, torch.Tensor]


class StreamSplit:
    """One split (``train``, ``valid`` or ``test``) of a streamed source."""

    def __init__(
        self, splits: StreamedSplits, name: str, targets: torch.Tensor | None, device: torch.device
    ) -> None:
        self.splits = splits
        self.rows = splits.indices[name]
        self.targets = targets
        self.device = device

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, name: object) -> bool:
        return name == "x" or (name == "y" and self.targets is not None)

    def __getitem__(self, name: str) -> Any:
        if name == "x":
            return ChunkedInputs(self)
        if name == "y" and self.targets is not None:
            return self.targets
        raise KeyError(name)

    @property
    def tensors(self) -> dict[str, Any]:
        return {name: self[name] for name in ("x", "y") if name in self}

    def chunks(self, parts: Any = None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """(positions in the split, encoded inputs on the device) chunk by chunk."""
        preprocessor = self.splits.preprocessor
        for picked, features in training_chunks(self.splits.reader, self.rows, parts):
            x = preprocessor.transform_features(features, warn_missing=False, unseen="zeros")
            positions = torch.from_numpy(np.searchsorted(self.rows, picked))
            yield positions.to(self.device), to_device(torch.from_numpy(x), self.device)

    def epoch_batches(
        self, batch_size: int | None, generator: torch.Generator
    ) -> Iterator[tuple[Batch, int]]:
        """An epoch's batches: the parts in a shuffled order, rows shuffled within a buffer of
        ``BUFFER_CHUNKS`` chunks; a remainder smaller than a batch joins the next buffer (a last
        batch of one row is dropped, as in memory)."""
        size = batch_size or len(self)
        parts = torch.randperm(self.splits.reader.parts, generator=generator, device="cpu")
        pending: list[tuple[torch.Tensor, torch.Tensor]] = []
        rows = 0
        for positions, x in self.chunks(parts.tolist()):
            pending.append((positions, x))
            rows += len(positions)
            if rows >= streaming.BUFFER_CHUNKS * streaming.CHUNK_ROWS and rows >= size:
                pending = yield from self._drain(pending, size, generator, final=False)
                rows = sum(len(p) for p, _ in pending)
        yield from self._drain(pending, size, generator, final=True)

    def _drain(self, pending: list, size: int, generator: torch.Generator, final: bool):
        positions = torch.cat([p for p, _ in pending])
        x = torch.cat([chunk for _, chunk in pending])
        order = torch.randperm(len(positions), generator=generator, device="cpu").to(x.device)
        positions, x = positions[order], x[order]
        full = len(positions) // size * size
        stop = len(positions) if final else full
        for start in range(0, stop, size):
            end = min(start + size, stop)
            if end - start == 1 and size > 1:
                break  # a last batch of one row breaks batch norm
            batch = {"x": x[start:end]}
            if self.targets is not None:
                batch["y"] = self.targets[positions[start:end]]
            yield batch, end - start
        return [] if final else [(positions[full:], x[full:])]


class ChunkedInputs:
    """A streamed split's inputs, read in order chunk by chunk (what ``predict_outputs``
    runs the model over)."""

    def __init__(self, split: StreamSplit) -> None:
        self.split = split

    def __len__(self) -> int:
        return len(self.split)

    def chunks(self) -> Iterator[torch.Tensor]:
        for _, x in self.split.chunks():
            yield x


def to_device(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``x`` on ``device``: from pinned memory without blocking on a GPU."""
    if device.type == "cuda":
        return x.pin_memory().to(device, non_blocking=True)
    return x


def stream_training_data(paradigm: Any, splits: StreamedSplits, device: torch.device) -> Any:
    """The paradigm's :class:`~gradwise.tasks.TrainingData` of a streamed source: each split a
    :class:`StreamSplit`, its targets encoded as the paradigm wants them (an empty split is
    None)."""
    from gradwise.tasks.base import TrainingData

    def split(name: str) -> StreamSplit | None:
        if len(splits.indices[name]) == 0:
            return None
        y = splits.targets[name]
        targets = None if y is None else paradigm.targets_tensor(y, device)
        return StreamSplit(splits, name, targets, device)

    return TrainingData(split("train"), split("valid"), split("test"), splits)
