"""The training engine: a fast loop over tensors that already sit on the device.

Per epoch the training split is shuffled with one ``randperm`` and sliced into batches with
``index_select`` — no DataLoader, no per-sample Python, no host↔device copies in the loop. The
loss is accumulated on the device and read once per epoch. Everything else (logging,
checkpoints, early stopping, diagnostics, pruning, progress) is a callback.

Subclasses change one step, not the loop: ``compute_loss`` (e.g. an extra regularizer), or
``train_step`` (e.g. two optimizers for a GAN).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from gradwise.errors import TrainingError
from gradwise.training.callbacks import Callback, CallbackList
from gradwise.training.losses import LossFn, l1_penalty
from gradwise.training.schedules import LRSchedule
from gradwise.training.tasks import Task

BatchTransform = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


@dataclass
class TensorSplit:
    """Inputs and targets of one split, on the training device."""

    x: torch.Tensor  # (N, *feature_shape)
    y: torch.Tensor  # (N,) class indices or (N,)/(N, T) standardized targets

    def __len__(self) -> int:
        return self.x.shape[0]


# Batch transforms (augmentations) run on groups of consecutive batches at once, up to this many
# bytes of inputs: their fixed cost per call (a few small tensor ops each) is then paid once per
# group instead of once per batch. Mixup partners come from the whole group.
AUGMENT_GROUP_BYTES = 4 * 2**20


class Trainer:
    def __init__(
        self,
        model: nn.Module,
        task: Task,
        loss_fn: LossFn,
        optimizer: torch.optim.Optimizer,
        schedule: LRSchedule,
        *,
        batch_size: int | None,  # None: full batch
        epochs: int,
        device: torch.device,
        generator: torch.Generator,
        callbacks: list[Callback] | None = None,
        batch_transforms: list[BatchTransform] | None = None,
        grad_clip: float | None = None,
        l1: float = 0.0,
        autocast_dtype: torch.dtype | None = None,
        eval_batch_size: int = 8192,
    ) -> None:
        self.model = model
        self.task = task
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.schedule = schedule
        self.batch_size = batch_size
        self.epochs = epochs
        self.device = device
        self.generator = generator
        self.callbacks = CallbackList(callbacks or [])
        self.batch_transforms = batch_transforms or []
        self.grad_clip = grad_clip
        self.l1 = l1
        self.l1_weights = [p for n, p in model.named_parameters() if p.dim() > 1]
        self.autocast_dtype = autocast_dtype
        self.eval_batch_size = eval_batch_size
        self.epoch = 0  # epochs completed
        self.global_step = 0
        self.stop_training = False
        self.history: list[dict[str, Any]] = []
        # On CPU reading the loss is free, so every step is checked; on GPU it would force a
        # sync, so the check happens at the end of each epoch.
        self.check_every_step = device.type == "cpu"

    # ----------------------------------------------------------------------------- one step
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.autocast_dtype is None:
            return self.model(x)
        with torch.autocast(self.device.type, dtype=self.autocast_dtype):
            return self.model(x)

    def compute_loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        loss = self.loss_fn(outputs.float(), targets)
        if self.l1 > 0:
            loss = loss + l1_penalty(self.l1_weights, self.l1)
        return loss

    def train_step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One optimizer step on a batch; returns the (detached) loss and the outputs."""
        outputs = self.forward(x)
        loss = self.compute_loss(outputs, y)
        if self.check_every_step and not math.isfinite(loss.item()):
            self.raise_non_finite(loss, x)  # before the step: the weights stay finite
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.callbacks.on_after_backward(self)
        if self.grad_clip is not None:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
        self.optimizer.step()
        self.schedule.step()
        return loss.detach(), outputs.detach()

    # ---------------------------------------------------------------------------- the loop
    def fit(self, train: TensorSplit, valid: TensorSplit | None) -> list[dict[str, Any]]:
        self.callbacks.on_fit_start(self)
        while self.epoch < self.epochs and not self.stop_training:
            epoch = self.epoch + 1
            self.callbacks.on_epoch_start(self, epoch)
            started = time.perf_counter()
            logs = {"epoch": epoch, "lr": self.schedule.lr}
            logs.update(self.train_epoch(train))
            self.callbacks.on_train_epoch_end(self, epoch)
            train_seconds = time.perf_counter() - started
            if valid is not None and len(valid):
                logs.update({f"valid_{k}": v for k, v in self.evaluate(valid).items()})
            logs["time"] = time.perf_counter() - started
            logs["train_time"] = train_seconds
            self.schedule.epoch_end(logs.get("valid_loss", logs["train_loss"]))
            self.epoch = epoch
            self.history.append(logs)
            self.callbacks.on_epoch_end(self, epoch, logs)
        final = self.history[-1] if self.history else {}
        self.callbacks.on_fit_end(self, final)
        return self.history

    def batches(self, n: int) -> list[torch.Tensor]:
        """Index tensors of this epoch's batches (a shuffled permutation, sliced)."""
        order = torch.randperm(n, device=self.device, generator=self.generator)
        size = n if self.batch_size is None else self.batch_size
        chunks = list(order.split(size))
        if len(chunks) > 1 and len(chunks[-1]) == 1:  # a 1-sample batch breaks batch norm
            chunks.pop()
        return chunks

    def batch_groups(self, batches: list[torch.Tensor], row_bytes: int) -> list[list[torch.Tensor]]:
        """Consecutive batches grouped for the batch transforms: each group holds up to
        :data:`AUGMENT_GROUP_BYTES` of inputs (at least one batch). Without transforms every
        batch is its own group."""
        if not self.batch_transforms:
            return [[index] for index in batches]
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

    def train_epoch(self, train: TensorSplit) -> dict[str, float]:
        self.model.train()
        loss_sum = torch.zeros((), device=self.device)
        seen = 0
        full_batch = self.batch_size is None or self.batch_size >= len(train)
        row_bytes = train.x[:1].numel() * train.x.element_size()
        for group in self.batch_groups(self.batches(len(train)), row_bytes):
            if full_batch and not self.batch_transforms:
                x, y = train.x, train.y
            else:
                index = group[0] if len(group) == 1 else torch.cat(group)
                x, y = train.x.index_select(0, index), train.y.index_select(0, index)
            for transform in self.batch_transforms:
                x, y = transform(x, y)
            if len(group) == 1:
                batches = [(x, y)]
            else:
                sizes = [len(index) for index in group]
                batches = list(zip(x.split(sizes), y.split(sizes), strict=True))
            for x_batch, y_batch in batches:
                loss, _ = self.train_step(x_batch, y_batch)
                loss_sum += loss * len(x_batch)
                seen += len(x_batch)
                self.global_step += 1
                self.callbacks.on_batch_end(self, loss)
        train_loss = (loss_sum / max(seen, 1)).item()
        # a non-finite gradient with a finite loss leaves non-finite weights: catch them before
        # the epoch's checkpoint is written (one batched check per epoch)
        if not math.isfinite(train_loss):
            self.raise_non_finite(torch.tensor(train_loss))
        if not parameters_finite(self.model):
            raise non_finite_error(
                "non-finite weights (after a non-finite gradient)",
                self.epoch + 1,
                self.global_step,
                first_non_finite_layer(self.model),
            )
        return {"train_loss": train_loss}

    @torch.inference_mode()
    def predict_outputs(self, x: torch.Tensor) -> torch.Tensor:
        """Model outputs for all of ``x`` in eval mode, in batches of ``eval_batch_size``."""
        was_training = self.model.training
        self.model.eval()
        outputs = torch.cat(
            [self.forward(chunk).float() for chunk in x.split(self.eval_batch_size)]
        )
        self.model.train(was_training)
        return outputs

    def evaluate(self, split: TensorSplit) -> dict[str, float]:
        outputs = self.predict_outputs(split.x)
        with torch.inference_mode():
            loss = self.loss_fn(outputs, split.y).item()
        return {"loss": loss, **self.task.metrics(outputs, split.y)}

    # ------------------------------------------------------------------------ failures
    def raise_non_finite(self, loss: torch.Tensor, x: torch.Tensor | None = None) -> None:
        """Stop on a non-finite ``loss`` of the coming step (``x``: its batch, for the layer)."""
        layer = first_non_finite_layer(self.model, x)
        what = f"non-finite loss ({loss.item()})"
        raise non_finite_error(what, self.epoch + 1, self.global_step + 1, layer)

    # ------------------------------------------------------------------------- resuming
    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "epoch": self.epoch,
            "global_step": self.global_step,
            "optimizer": self.optimizer.state_dict(),
            "schedule": self.schedule.state_dict(),
            "generator": self.generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "callbacks": self.callbacks.state_dict(),
        }
        if self.device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch = state["epoch"]
        self.global_step = state["global_step"]
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        self.generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        if "cuda_rng" in state and self.device.type == "cuda":
            torch.cuda.set_rng_state(state["cuda_rng"], self.device)
        self.callbacks.load_state_dict(state["callbacks"])


def parameters_finite(model: nn.Module) -> bool:
    """Whether every parameter is finite (NaN/inf in any makes the summed norms non-finite)."""
    weights = [p.detach() for p in model.parameters()]
    return not weights or bool(torch.isfinite(torch.stack(torch._foreach_norm(weights)).sum()))


def non_finite_error(what: str, epoch: int, step: int, layer: str | None) -> TrainingError:
    """The error that stops training: ``what`` went non-finite at ``step``, first in ``layer``."""
    where = f"; first non-finite layer: {layer}" if layer else ""
    return TrainingError(
        f"{what} at epoch {epoch}, step {step}{where}; the last good checkpoint is kept. Try a "
        "lower train.optimizer.lr or set train.grad_clip"
    )


def first_non_finite_layer(model: nn.Module, x: torch.Tensor | None = None) -> str | None:
    """Where the numbers first stopped being finite: a parameter (in registration order ≈
    forward order) whose value or gradient is NaN/inf, else the first module whose output on
    the batch ``x`` is, as ``name (weights|gradient|output)``."""
    for name, param in model.named_parameters():
        if not torch.isfinite(param).all():
            return f"{name} (weights)"
        if param.grad is not None and not torch.isfinite(param.grad).all():
            return f"{name} (gradient)"
    if x is None:
        return None
    found: list[str] = []

    def check(name: str):
        def hook(module: nn.Module, inputs: Any, output: Any) -> None:
            if not found and isinstance(output, torch.Tensor) and not torch.isfinite(output).all():
                found.append(f"{name} (output)")

        return hook

    leaves = [(n, m) for n, m in model.named_modules() if n and not list(m.children())]
    handles = [m.register_forward_hook(check(n)) for n, m in leaves]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return found[0] if found else "none (the loss itself overflowed)"
