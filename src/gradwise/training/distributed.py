"""Data-parallel training across processes started by ``torchrun`` (``torch.distributed``).

gradwise does not invent a distributed system: ``gradwise train --nproc N`` starts N copies of
the same command through torchrun's launcher, and each process joins the process group that
torchrun's environment describes (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``...; gloo on the CPU,
NCCL on GPUs). Every process reads the same data, builds the same model from the same seed and
walks the same shuffled order of the training split; of each global batch of ``B`` rows, rank
``r`` of ``W`` trains on its slice ``B_r`` (:func:`shard`).

Gradients are averaged in the one place every paradigm's update passes through
(``Trainer.optimizer_step``), with one all-reduce of all that optimizer's gradients flattened
together — what ``DistributedDataParallel`` does, without its wrapper, so that paradigms with
several models and optimizers (a GAN's generator and discriminator) need nothing of their own.
With a loss that is a mean over the rows of a batch, rank ``r`` scales its gradient by
``|B_r| / |B|`` before the sum, so the update is the one-process gradient of the global batch:

    g = Σ_r (|B_r| / |B|) · ∇ mean_{i ∈ B_r} ℓ_i = ∇ (1/|B|) Σ_{i ∈ B} ℓ_i

Only the order of the floating-point sums differs from one process, so the weights agree to
rounding (see ``tests/training/test_distributed.py`` for the tolerance reached).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import torch
import torch.distributed as dist
from torch import nn

# The launcher's variables: set in every process torchrun starts.
LAUNCHED_ENV = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def world_size() -> int:
    """Processes training together (1 when not distributed)."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank() -> int:
    """This process's rank (0 when not distributed)."""
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def launched_by_torchrun() -> bool:
    return all(name in os.environ for name in LAUNCHED_ENV) and int(os.environ["WORLD_SIZE"]) > 1


def join_process_group(device: torch.device) -> None:
    """Join the process group torchrun's environment describes (once per process): NCCL for
    CUDA devices — each local rank on its own GPU — and gloo on the CPU."""
    if not launched_by_torchrun() or dist.is_initialized():
        return
    if device.type == "cuda":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")


def local_device(device: torch.device) -> torch.device:
    """The device of this process: its own GPU under torchrun (``LOCAL_RANK``)."""
    if device.type == "cuda" and launched_by_torchrun():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    return device


def shard(index: torch.Tensor) -> torch.Tensor:
    """This rank's slice of a global batch's row indices (slices differ by ≤ 1 row)."""
    return index.tensor_split(world_size())[rank()]


def all_reduce_gradients(
    parameters: Iterable[nn.Parameter], weight: float, flag: float = 0.0
) -> float:
    """Replace each gradient by ``Σ_r weight_r · grad_r`` over the ranks, in one flattened
    all-reduce (parameters without a gradient are left out, alike on every rank); ``flag``
    rides along in the same all-reduce and its sum over the ranks is returned (e.g. how many
    ranks saw a non-finite loss)."""
    grads = [p.grad for p in parameters if p.grad is not None]
    flat = torch._utils._flatten_dense_tensors(grads).mul_(weight) if grads else None
    carried = torch.tensor([flag], device=flat.device if flat is not None else "cpu")
    flat = carried if flat is None else torch.cat([flat, carried.to(flat.dtype)])
    dist.all_reduce(flat)
    if grads:
        reduced = torch._utils._unflatten_dense_tensors(flat[:-1], grads)
        for grad, value in zip(grads, reduced, strict=True):
            grad.copy_(value)
    return float(flat[-1])


def sum_across(values: torch.Tensor) -> torch.Tensor:
    """Element-wise sum of ``values`` over the ranks (in place; returned)."""
    dist.all_reduce(values)
    return values


def any_across(flag: bool, device: torch.device) -> bool:
    """True on every rank when ``flag`` is true on any (a decision all ranks must share)."""
    if world_size() == 1:
        return flag
    return bool(sum_across(torch.tensor([float(flag)], device=device)).item() > 0)


def gather_rows(local: torch.Tensor, total: int) -> torch.Tensor:
    """Every rank's rows of a split of ``total`` rows cut by :func:`shard`, in order, on every
    rank (rows are padded to the largest slice for the all-gather, then trimmed)."""
    sizes = [len(part) for part in torch.arange(total).tensor_split(world_size())]
    padded = local.new_zeros((max(sizes), *local.shape[1:]))
    padded[: len(local)] = local
    pieces = [torch.empty_like(padded) for _ in sizes]
    dist.all_gather(pieces, padded.contiguous())
    return torch.cat([piece[:size] for piece, size in zip(pieces, sizes, strict=True)])


def broadcast_module(module: nn.Module, buffers_only: bool = False) -> None:
    """Rank 0's parameters and buffers (or its buffers alone: batch-norm statistics) on every
    rank."""
    tensors = module.buffers() if buffers_only else module.state_dict().values()
    for tensor in tensors:  # state_dict's tensors share the parameters' storage
        if tensor.dtype != torch.bool:
            dist.broadcast(tensor, src=0)


def broadcast_text(text: str | None, device: torch.device) -> str:
    """Rank 0's ``text`` on every rank (e.g. the run directory it created)."""
    data = torch.tensor(list((text or "").encode()), dtype=torch.uint8, device=device)
    length = torch.tensor([len(data)], device=device)
    dist.broadcast(length, src=0)
    if rank() != 0:
        data = torch.empty(int(length.item()), dtype=torch.uint8, device=device)
    dist.broadcast(data, src=0)
    return bytes(data.tolist()).decode()


def broadcast_int(value: int | None, device: torch.device) -> int | None:
    """Rank 0's ``value`` (None allowed) on every rank."""
    tensor = torch.tensor([-1 if value is None else value], dtype=torch.int64, device=device)
    dist.broadcast(tensor, src=0)
    found = int(tensor.item())
    return None if found < 0 else found


def barrier() -> None:
    if world_size() > 1:
        dist.barrier()


def leave_process_group() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
