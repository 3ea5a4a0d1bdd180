"""The training engine: a fast loop over tensors that already sit on the device.

Per epoch the training split is shuffled with one ``randperm`` (from the engine's own *order*
generator) and sliced into batches with ``index_select`` — no DataLoader, no per-sample Python,
no host↔device copies in the loop. A batch is a mapping of tensors (``{"x": ..., "y": ...}`` for
supervised learning). The engine knows nothing of any paradigm: it calls the paradigm's
``train_step``, which does its own math and calls :meth:`Trainer.optimizer_step` once per update;
that one method owns the non-finite guard, the after-backward hook, gradient clipping, the step
and the schedule. Losses are accumulated on the device and read once per epoch. Everything else
(logging, checkpoints, early stopping, diagnostics, pruning, progress) is a callback.

Subclasses change one step, not the loop (Keras' order): ``compute_loss`` (reaches training and
validation alike), ``train_step``, or ``optimizer_step``.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from gradwise.errors import TrainingError
from gradwise.training import distributed
from gradwise.training.batching import batch_groups, batches
from gradwise.training.callbacks import Callback, CallbackList
from gradwise.training.losses import l1_penalty
from gradwise.training.schedules import LRSchedule

if TYPE_CHECKING:
    from gradwise.tasks.base import BatchTransform, Paradigm

Batch = dict[str, torch.Tensor]
EVAL_BATCH_SIZE = 8192  # rows per forward pass when evaluating or predicting


class TensorSplit:
    """The named tensors of one split on the training device, all with the same first
    dimension: ``{"x": (N, *feature_shape), "y": (N,) or (N, T)}`` for supervised learning."""

    def __init__(self, tensors: Batch) -> None:
        self.tensors = tensors

    def __len__(self) -> int:
        return next(iter(self.tensors.values())).shape[0] if self.tensors else 0

    def __getitem__(self, name: str) -> torch.Tensor:
        return self.tensors[name]

    def __contains__(self, name: object) -> bool:
        return name in self.tensors

    def rows(self, index: torch.Tensor) -> Batch:
        """The batch of the rows at ``index``."""
        return {name: t.index_select(0, index) for name, t in self.tensors.items()}

    @property
    def row_bytes(self) -> int:
        return sum(t[:1].numel() * t.element_size() for t in self.tensors.values())


def stream_seed(seed: int, stream: int) -> int:
    """An independent 63-bit seed for random stream ``stream`` of a run seeded ``seed``."""
    return int(np.random.SeedSequence([seed, stream]).generate_state(1, np.uint64)[0] >> 1)


class Trainer:
    """Runs a paradigm's training steps over epochs of shuffled batches.

    ``module`` is the trained module (what checkpoints hold); ``model`` is what forward passes
    run — the same object in one process, its data-parallel wrapper under ``torchrun``.
    ``optimizers`` and ``schedules`` are named alike (``{"main": ...}`` for supervised
    learning); ``generators`` are the random streams the paradigm draws from (augmentation,
    noise), checkpointed with the engine's own ``order`` stream.
    """

    def __init__(
        self,
        module: nn.Module,
        paradigm: Paradigm,
        optimizers: dict[str, torch.optim.Optimizer],
        schedules: dict[str, LRSchedule],
        *,
        batch_size: int | None,  # None: full batch
        epochs: int,
        device: torch.device,
        seed: int,
        generators: dict[str, torch.Generator] | None = None,
        callbacks: list[Callback] | None = None,
        batch_transforms: list[BatchTransform] | None = None,
        grad_clip: float | None = None,
        l1: float = 0.0,
        autocast_dtype: torch.dtype | None = None,
        eval_batch_size: int = EVAL_BATCH_SIZE,
    ) -> None:
        self.module = module
        self.model: nn.Module = module
        self.paradigm = paradigm
        self.optimizers = optimizers
        self.schedules = schedules
        self.batch_size = batch_size
        self.epochs = epochs
        self.device = device
        self.order_generator = torch.Generator(device=device).manual_seed(seed)
        self.generators = {"order": self.order_generator, **(generators or {})}
        self.rank = distributed.rank()
        self.world_size = distributed.world_size()
        self.batch_share = 1.0  # this rank's share of the global batch's rows
        # fp16 autocast scales each optimizer's loss (its own scaler: GAN steps are separate)
        self.scalers = {
            name: torch.amp.GradScaler(device.type)
            for name in optimizers
            if autocast_dtype == torch.float16
        }
        self.skipped_steps = 0  # fp16 steps skipped for overflowing gradients
        self.set_callbacks(callbacks or [])
        self.batch_transforms = batch_transforms or []
        self.grad_clip = grad_clip
        self.l1 = l1
        self.parameters = {
            name: [p for group in optimizer.param_groups for p in group["params"]]
            for name, optimizer in optimizers.items()
        }
        self.l1_weights = {
            name: [p for p in ps if p.dim() > 1] for name, ps in self.parameters.items()
        }
        self.autocast_dtype = autocast_dtype
        self.eval_batch_size = eval_batch_size
        self.epoch = 0  # epochs completed
        self.global_step = 0
        self.stop_training = False
        self.history: list[dict[str, Any]] = []
        self.batch: Batch | None = None  # the batch being trained on
        self.stepping: str | None = None  # the optimizer whose gradients on_after_backward sees
        # On CPU reading the loss is free, so every step is checked; on GPU it would force a
        # sync, so the check happens at the end of each epoch.
        self.check_every_step = device.type == "cpu"

    def set_callbacks(self, callbacks: list[Callback]) -> None:
        """Use ``callbacks`` from now on; main-process-only ones are left out on other ranks."""
        self.callbacks = CallbackList(
            [cb for cb in callbacks if self.rank == 0 or not cb.main_process_only]
        )

    # ----------------------------------------------------------------------------- one step
    def autocast(self) -> contextlib.AbstractContextManager:
        """Mixed precision for forward passes when configured (bf16 on CUDA)."""
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with self.autocast():
            return self.model(x)

    def compute_loss(self, outputs: Any, batch: Batch) -> torch.Tensor:
        """The paradigm's loss of ``outputs`` on ``batch``, in training and validation."""
        return self.paradigm.compute_loss(self, outputs, batch)

    def train_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """The paradigm's step on one batch; returns its detached losses (``loss`` required)."""
        return self.paradigm.train_step(self, batch)

    def optimizer_step(self, name: str, loss: torch.Tensor) -> torch.Tensor:
        """One update of optimizer ``name`` from ``loss``: add the L1 penalty of its weights,
        stop on a non-finite loss (before the step: the weights stay finite), backward, the
        after-backward hook (diagnostics), gradient clipping, the step and its schedule.
        Returns the loss stepped on, detached."""
        optimizer = self.optimizers[name]
        if self.l1 > 0:
            loss = loss + l1_penalty(self.l1_weights[name], self.l1)
        if self.world_size == 1 and self.check_every_step and not math.isfinite(loss.item()):
            self.raise_non_finite(loss)
        optimizer.zero_grad(set_to_none=True)
        scaler = self.scalers.get(name)
        (loss if scaler is None else scaler.scale(loss)).backward()
        if self.world_size > 1:  # the ranks agree: a loss non-finite on any stops them all
            bad = float(not math.isfinite(loss.item()))  # rides along with the gradients
            if distributed.all_reduce_gradients(self.parameters[name], self.batch_share, bad):
                self.raise_non_finite(loss)  # before the step: the weights stay finite
        if scaler is not None:
            scaler.unscale_(optimizer)  # hooks and clipping see true gradients
        self.stepping = name
        self.callbacks.on_after_backward(self)
        # (with fp16 loss scaling an overflowing gradient is expected: the scaler skips it)
        self.check_and_clip(name, check=scaler is None and self.check_every_step)
        if scaler is None:
            optimizer.step()
        else:
            scale = scaler.get_scale()
            scaler.step(optimizer)  # skipped when the gradients overflowed fp16: not a failure
            scaler.update()
            self.skipped_steps += int(scaler.get_scale() < scale)
        self.schedules[name].step()
        return loss.detach()

    def check_and_clip(self, name: str, check: bool) -> None:
        """Stop on a non-finite gradient of optimizer ``name`` when ``check`` (before its step:
        the weights stay finite), then scale its gradients g by min(1, c / (‖g‖₂ + 10⁻⁶)) with
        c = ``train.grad_clip``, as ``nn.utils.clip_grad_norm_`` does.

        With clipping one norm serves both: ‖g‖₂ is finite exactly when every gradient is (or
        else too large to measure). Where reading it is free (``check_every_step``: the CPU),
        gradients already within the bound are left as they are: scaling by 1 changes nothing.
        """
        parameters = self.parameters[name]
        if self.grad_clip is None:
            finite = not check or gradients_finite(parameters)
        else:
            grads = [p.grad for p in parameters if p.grad is not None]
            norm = gradient_norm(grads)
            finite = not check or math.isfinite(norm)
            if finite and (not self.check_every_step or norm > self.grad_clip):
                torch._foreach_mul_(grads, (self.grad_clip / (norm + 1e-6)).clamp(max=1.0))
        if not finite:
            layer = first_non_finite_layer(self.module)
            step = self.global_step + 1
            raise non_finite_error("non-finite gradient", self.epoch + 1, step, layer)

    # ---------------------------------------------------------------------------- the loop
    @property
    def lr(self) -> float:
        """The learning rate of the first optimizer's first parameter group."""
        return next(iter(self.schedules.values())).lr

    def fit(self, train: TensorSplit, valid: TensorSplit | None) -> list[dict[str, Any]]:
        self.callbacks.on_fit_start(self)
        while self.epoch < self.epochs and not self.stop_training:
            epoch = self.epoch + 1
            self.callbacks.on_epoch_start(self, epoch)
            started = time.perf_counter()
            logs: dict[str, Any] = {"epoch": epoch, "lr": self.lr}
            if len(self.schedules) > 1:
                logs.update({f"lr_{name}": s.lr for name, s in self.schedules.items()})
            logs.update(self.train_epoch(train))
            if self.scalers:  # fp16 steps skipped on overflow so far (loss scaling, not failures)
                logs["skipped_steps"] = self.skipped_steps
            self.paradigm.after_epoch(self)
            logs.update(self.paradigm.epoch_metrics(self))  # the paradigm's per-epoch measures
            self.callbacks.on_train_epoch_end(self, epoch)
            train_seconds = time.perf_counter() - started
            if valid is not None and len(valid):
                logs.update({f"valid_{k}": v for k, v in self.evaluate(valid).items()})
                if not math.isfinite(logs.get("valid_loss") or 0.0):
                    self.raise_non_finite_validation(valid, logs["valid_loss"], epoch)
            logs["time"] = time.perf_counter() - started
            logs["train_time"] = train_seconds
            monitored = logs.get("valid_loss", logs["train_loss"])
            for schedule in self.schedules.values():
                schedule.epoch_end(monitored)
            self.epoch = epoch
            self.history.append(logs)
            self.callbacks.on_epoch_end(self, epoch, logs)
            self.stop_training = distributed.any_across(self.stop_training, self.device)
        final = self.history[-1] if self.history else {}
        self.callbacks.on_fit_end(self, final)
        return self.history

    def epoch_batches(self, train: TensorSplit) -> Iterator[tuple[Batch, int]]:
        """This epoch's training batches (after the batch transforms) and their sizes."""
        if not isinstance(train, TensorSplit):  # a split streamed from disk orders itself
            yield from self.streamed_batches(train)
            return
        order = batches(len(train), self.batch_size, self.order_generator, self.device)
        shares = iter(())
        if self.world_size > 1:
            order, shares = self.rank_slices(order)
        if not self.batch_transforms:
            if len(order) == 1 and len(order[0]) == len(train):
                yield train.tensors, len(train)  # full batch: no gather
                return
            for index in order:
                self.batch_share = next(shares, 1.0)
                yield train.rows(index), len(index)
            return
        for group in batch_groups(order, train.row_bytes):
            batch = train.rows(group[0] if len(group) == 1 else torch.cat(group))
            for transform in self.batch_transforms:
                batch = transform(batch)
            if len(group) == 1:
                self.batch_share = next(shares, 1.0)
                yield batch, len(group[0])
                continue
            sizes = [len(index) for index in group]
            pieces = {name: t.split(sizes) for name, t in batch.items()}
            for j, size in enumerate(sizes):
                self.batch_share = next(shares, 1.0)
                yield {name: parts[j] for name, parts in pieces.items()}, size

    def streamed_batches(self, train: Any) -> Iterator[tuple[Batch, int]]:
        """The batches of a split that reads itself from disk
        (:class:`gradwise.training.streamed.StreamSplit`), transformed, and this rank's slice
        of each."""
        for batch, size in train.epoch_batches(self.batch_size, self.order_generator):
            if self.world_size > 1:
                if size < self.world_size:
                    continue
                mine = distributed.shard(torch.arange(size, device=self.device))
                batch = {name: t[mine] for name, t in batch.items()}
                self.batch_share, size = len(mine) / size, len(mine)
            for transform in self.batch_transforms:
                batch = transform(batch)
            yield batch, size

    def rank_slices(self, order: list[torch.Tensor]) -> tuple[list[torch.Tensor], Iterator[float]]:
        """This rank's slice of each global batch, and its share of the batch's rows (global
        batches with fewer rows than ranks are dropped)."""
        kept = [index for index in order if len(index) >= self.world_size]
        local = [distributed.shard(index) for index in kept]
        shares = [len(mine) / len(index) for mine, index in zip(local, kept, strict=True)]
        return local, iter(shares)

    def train_epoch(self, train: TensorSplit) -> dict[str, float]:
        self.model.train()
        epoch_losses = EpochLosses()
        for batch, size in self.epoch_batches(train):
            self.batch = batch
            losses = self.train_step(batch)
            epoch_losses.add(losses, size)
            self.global_step += 1
            self.callbacks.on_batch_end(self, losses["loss"])
        self.batch = None
        if self.world_size > 1:
            means = epoch_losses.global_means(self.device)
            distributed.broadcast_module(self.module, buffers_only=True)  # batch-norm statistics
        else:
            means = epoch_losses.means()
        if not math.isfinite(means.get("loss", 0.0)):
            self.raise_non_finite(torch.tensor(means["loss"]))
        # a non-finite gradient with a finite loss leaves non-finite weights: catch them before
        # the epoch's checkpoint is written (one batched check per epoch)
        if not parameters_finite(self.module):
            raise non_finite_error(
                "non-finite weights (after a non-finite gradient)",
                self.epoch + 1,
                self.global_step,
                first_non_finite_layer(self.module),
            )
        return {f"train_{key}": value for key, value in means.items()}

    def predict_outputs(self, x: torch.Tensor) -> torch.Tensor:
        """Model outputs for all of ``x`` in eval mode, in batches of ``eval_batch_size``."""
        was_training = self.model.training
        self.model.eval()
        if hasattr(x, "chunks"):  # inputs streamed from disk, in order
            chunks = [batched_outputs(self.forward, c, self.eval_batch_size) for c in x.chunks()]
            outputs = torch.cat(chunks)
        elif self.world_size > 1:  # each rank its slice; every rank gets all the outputs
            mine = batched_outputs(self.forward, distributed.shard(x), self.eval_batch_size)
            outputs = distributed.gather_rows(mine, len(x))
        else:
            outputs = batched_outputs(self.forward, x, self.eval_batch_size)
        self.model.train(was_training)
        return outputs

    def evaluate(self, split: TensorSplit) -> dict[str, float]:
        """The paradigm's loss and metrics on a whole split."""
        return self.paradigm.evaluate(self, split)

    # ------------------------------------------------------------------------ failures
    def raise_non_finite(self, loss: torch.Tensor) -> None:
        """Stop on a non-finite ``loss`` of the coming step, naming the first layer, and the
        batch's non-finite inputs when the numbers came in with the data."""
        batch = self.batch
        probe = None if batch is None else (lambda: self.paradigm.forward(self, batch))
        layer = first_non_finite_layer(self.module, probe)
        inputs = non_finite_inputs(batch or {})
        if inputs:
            layer = f"{layer}; non-finite input: {inputs}"
        what = f"non-finite loss ({loss.item()})"
        raise non_finite_error(what, self.epoch + 1, self.global_step + 1, layer)

    def raise_non_finite_validation(self, valid: TensorSplit, loss: float, epoch: int) -> None:
        """Stop on a non-finite validation loss (before the epoch's checkpoint), naming the
        first layer whose eval-mode output is non-finite on the validation split."""
        was_training = self.model.training
        self.model.eval()
        try:
            layer = first_non_finite_layer(
                self.module, lambda: self.paradigm.forward(self, valid.tensors)
            )
        finally:
            self.model.train(was_training)
        raise non_finite_error(f"non-finite valid_loss ({loss})", epoch, self.global_step, layer)

    # ------------------------------------------------------------------------- resuming
    def state_dict(self) -> dict[str, Any]:
        """Everything a resume needs beyond the weights: every named optimizer, schedule and
        random stream, the global RNGs, the callbacks' and the paradigm's state."""
        state: dict[str, Any] = {
            "epoch": self.epoch,
            "global_step": self.global_step,
            "optimizers": {name: o.state_dict() for name, o in self.optimizers.items()},
            "schedules": {name: s.state_dict() for name, s in self.schedules.items()},
            "generators": {name: g.get_state() for name, g in self.generators.items()},
            "torch_rng": torch.get_rng_state(),
            "callbacks": self.callbacks.state_dict(),
            "paradigm": self.paradigm.state_dict(),
            "scalers": {name: scaler.state_dict() for name, scaler in self.scalers.items()},
        }
        if self.device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if "optimizers" not in state:  # written before optimizers were named: one of each
            state = {
                **state,
                "optimizers": {"main": state["optimizer"]},
                "schedules": {"main": state["schedule"]},
                "generators": {"order": state["generator"]},
            }
        self.epoch = state["epoch"]
        self.global_step = state["global_step"]
        for name, optimizer in self.optimizers.items():
            optimizer.load_state_dict(state["optimizers"][name])
        for name, schedule in self.schedules.items():
            schedule.load_state_dict(state["schedules"][name])
        for name, generator in self.generators.items():
            if name in state["generators"]:
                generator.set_state(state["generators"][name])
        torch.set_rng_state(state["torch_rng"])
        if "cuda_rng" in state and self.device.type == "cuda":
            torch.cuda.set_rng_state(state["cuda_rng"], self.device)
        self.callbacks.load_state_dict(state["callbacks"])
        self.paradigm.load_state_dict(state.get("paradigm", {}))
        for name, scaler in self.scalers.items():
            if name in state.get("scalers", {}):
                scaler.load_state_dict(state["scalers"][name])


class EpochLosses:
    """Size-weighted means of each step's losses over an epoch: ``Σ_s n_s·loss_s / Σ_s n_s``.

    The steps' (detached, scalar) losses are kept and folded in blocks — one stack and one dot
    product per loss name every :attr:`BLOCK` steps — instead of two tensor ops per step.
    """

    BLOCK = 1024

    def __init__(self) -> None:
        self.pending: list[dict[str, torch.Tensor]] = []
        self.sizes: list[int] = []
        self.sums: dict[str, torch.Tensor] = {}
        self.rows = 0

    def add(self, losses: dict[str, torch.Tensor], size: int) -> None:
        self.pending.append(losses)
        self.sizes.append(size)
        if len(self.pending) >= self.BLOCK:
            self.fold()

    def fold(self) -> None:
        if not self.pending:
            return
        first = next(iter(self.pending[0].values()))
        weights = torch.tensor(self.sizes, dtype=torch.float32, device=first.device)  # (S,)
        for name in self.pending[0]:
            values = torch.stack([losses[name] for losses in self.pending]).float()  # (S,)
            total = values @ weights
            self.sums[name] = self.sums[name] + total if name in self.sums else total
        self.rows += sum(self.sizes)
        self.pending, self.sizes = [], []

    def means(self) -> dict[str, float]:
        """Each loss's mean over the epoch's rows (one host read)."""
        self.fold()
        if not self.sums:
            return {}
        averages = (torch.stack(list(self.sums.values())) / self.rows).tolist()
        return dict(zip(self.sums, averages, strict=True))

    def global_means(self, device: torch.device) -> dict[str, float]:
        """Each loss's mean over every rank's rows: the sums and row counts are summed over
        the ranks in one all-reduce."""
        self.fold()
        totals = torch.stack([*self.sums.values(), torch.tensor(float(self.rows), device=device)])
        totals = distributed.sum_across(totals.float())
        return dict(zip(self.sums, (totals[:-1] / totals[-1]).tolist(), strict=True))


@torch.inference_mode()
def batched_outputs(
    forward: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, batch_size: int
) -> torch.Tensor:
    """``forward`` over ``x`` in chunks of ``batch_size`` rows, concatenated as float32."""
    if len(x) <= batch_size:
        return forward(x).float()
    return torch.cat([forward(chunk).float() for chunk in x.split(batch_size)])


def parameters_finite(model: nn.Module) -> bool:
    """Whether every parameter is finite (NaN/inf in any makes the summed norms non-finite)."""
    weights = [p.detach() for p in model.parameters()]
    return not weights or bool(torch.isfinite(torch.stack(torch._foreach_norm(weights)).sum()))


def gradients_finite(parameters: list[nn.Parameter]) -> bool:
    """Whether every gradient is finite, in one fused pass over all of them (the check AMP's
    gradient scaler runs; it multiplies each gradient by 1, which changes no value)."""
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return True
    found = torch.zeros(1, device=grads[0].device)  # set to 1 by a NaN/inf anywhere
    torch._amp_foreach_non_finite_check_and_unscale_(grads, found, _one(grads[0].device))
    return not found.item()


def gradient_norm(grads: list[torch.Tensor]) -> torch.Tensor:
    """The global norm ‖g‖₂ = √Σᵢ‖gᵢ‖² of ``grads`` (0 when there are none), in one fused pass
    (``nn.utils.clip_grad_norm_``'s)."""
    if not grads:
        return torch.zeros(())
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))


_ONES: dict[torch.device, torch.Tensor] = {}  # read-only 1.0 per device, for the check


def _one(device: torch.device) -> torch.Tensor:
    if device not in _ONES:
        _ONES[device] = torch.ones(1, device=device)
    return _ONES[device]


def non_finite_inputs(batch: Batch) -> str | None:
    """The batch's floating-point tensors holding NaN/inf, as ``batch['x']``."""
    names = [
        f"batch[{name!r}]"
        for name, t in batch.items()
        if t.is_floating_point() and not torch.isfinite(t).all()
    ]
    return ", ".join(names) or None


def non_finite_error(what: str, epoch: int, step: int, layer: str | None) -> TrainingError:
    """The error that stops training: ``what`` went non-finite at ``step``, first in ``layer``."""
    where = f"; first non-finite layer: {layer}" if layer else ""
    return TrainingError(
        f"{what} at epoch {epoch}, step {step}{where}; the last good checkpoint is kept. Try a "
        "lower train.optimizer.lr or set train.grad_clip"
    )


def first_non_finite_layer(model: nn.Module, probe: Callable[[], Any] | None = None) -> str | None:
    """Where the numbers first stopped being finite: a parameter (in registration order ≈
    forward order) whose value or gradient is NaN/inf, else the first module whose output is,
    in a forward pass run by ``probe``, as ``name (weights|gradient|output)``."""
    for name, param in model.named_parameters():
        if not torch.isfinite(param).all():
            return f"{name} (weights)"
        if param.grad is not None and not torch.isfinite(param.grad).all():
            return f"{name} (gradient)"
    if probe is None:
        return None
    found: list[str] = []

    def check(name: str):
        def hook(module: nn.Module, inputs: Any, output: Any) -> None:
            if not found and isinstance(output, torch.Tensor) and not torch.isfinite(output).all():
                found.append(f"{name} (output)")

        return hook

    leaves = [(n or "model", m) for n, m in model.named_modules() if not list(m.children())]
    handles = [m.register_forward_hook(check(n)) for n, m in leaves]
    try:
        with torch.no_grad():
            probe()
    finally:
        for handle in handles:
            handle.remove()
    return found[0] if found else "none (the loss itself overflowed)"
