"""How an epoch is cut into batches: sizes, the step count, groups for the batch transforms."""

from __future__ import annotations

import math
from typing import Any

import torch

# Batch transforms (augmentations) run on groups of consecutive batches at once, up to this many
# bytes of inputs: their fixed cost per call (a few small tensor ops each) is then paid once per
# group instead of once per batch. Mixup partners come from the whole group.
AUGMENT_GROUP_BYTES = 4 * 2**20


def batch_size_of(train: Any) -> int | None:
    """``train.batch_size`` as a number of rows (None: full batch)."""
    return None if train.batch_size == "full" else int(train.batch_size)


def steps_per_epoch(n_train: int, batch_size: int | None) -> int:
    """Optimizer steps per epoch (a last batch of one sample is dropped, see :func:`batches`)."""
    if batch_size is None or batch_size >= n_train:
        return 1
    steps = math.ceil(n_train / batch_size)
    return steps - 1 if n_train % batch_size == 1 else steps


def batches(
    n: int, batch_size: int | None, generator: torch.Generator, device: torch.device
) -> list[torch.Tensor]:
    """Index tensors of one epoch's batches: a shuffled permutation of ``n`` rows, sliced.
    A last batch of one sample is dropped when the others are larger (it breaks batch norm);
    with ``batch_size: 1`` (pure SGD) every sample is its own step."""
    order = torch.randperm(n, device=device, generator=generator)
    chunks = list(order.split(n if batch_size is None else batch_size))
    if len(chunks) > 1 and len(chunks[-1]) == 1 and len(chunks[0]) > 1:
        chunks.pop()
    return chunks


def batch_groups(batches: list[torch.Tensor], row_bytes: int) -> list[list[torch.Tensor]]:
    """Consecutive batches grouped for the batch transforms: each group holds up to
    :data:`AUGMENT_GROUP_BYTES` (inputs and targets; at least one batch)."""
    most_rows = max(1, AUGMENT_GROUP_BYTES // max(row_bytes, 1))
    groups: list[list[torch.Tensor]] = []
    rows = 0
    for index in batches:
        if not groups or rows + len(index) > most_rows:
            groups.append([])
            rows = 0
        groups[-1].append(index)
        rows += len(index)
    return groups
