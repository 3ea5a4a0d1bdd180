"""Freezing (``model.freeze``) and gradual unfreezing (``train.unfreeze``).

A frozen parameter has ``requires_grad = False``: it gets no gradient, so no optimizer moves
it — neither its update nor its weight decay (PyTorch's optimizers skip parameters without a
gradient) — and the L1 penalty leaves it out. A frozen batch-norm layer also stays in eval
mode while the model trains: it normalizes with its running statistics and leaves them as they
are (a forward pre-hook puts it back in eval mode after ``model.train()``).

Patterns are matched with :func:`fnmatch.fnmatchcase` against the names of ``named_modules``
and ``named_parameters``: a matched module freezes everything inside it (``features``,
``blocks.0``), a matched parameter only itself (``*.bias``).

Gradual unfreezing (Howard & Ruder, 2018): with ``train.unfreeze`` the top ``1 + r(e)`` layer
groups (:mod:`gradwise.transfer.groups`, from the head down) are trainable in epoch ``e``
whatever ``model.freeze`` says, with ``r(e)`` the releases so far::

    every: N        r(e) = ⌊(e − 1) / N⌋
    epochs: [k…]    r(e) = #{k ≤ e}

So ``freeze: ["*"]`` with ``unfreeze: {every: 1}`` trains the head alone in epoch 1, the head
and the group below it in epoch 2, and so on. The frozen set is a function of the epoch only,
set at the start of each epoch, so a resumed run freezes exactly as an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from torch import nn

from gradwise.errors import ConfigError, did_you_mean
from gradwise.training.callbacks import Callback
from gradwise.transfer.groups import LayerGroup

if TYPE_CHECKING:
    from gradwise.training.engine import Trainer

NORMS = (nn.modules.batchnorm._BatchNorm,)  # layers whose running statistics a freeze keeps


def releases(unfreeze: Any, epoch: int) -> int:
    """``r(e)``: how many layer groups the ``train.unfreeze`` schedule has released by the
    start of ``epoch`` (beyond the head, which trains from epoch 1)."""
    if unfreeze.every is not None:
        return (epoch - 1) // unfreeze.every
    return sum(1 for k in unfreeze.epochs if k <= epoch)


def matched_names(module: nn.Module, patterns: Sequence[str]) -> tuple[set[str], set[str]]:
    """The parameters and modules ``patterns`` freeze: matched ones and everything inside a
    matched module. A pattern that matches nothing is a :class:`ConfigError` naming it."""
    module_names = [name for name, _ in module.named_modules() if name]
    param_names = [name for name, _ in module.named_parameters()]
    frozen_modules: set[str] = set()
    frozen_params: set[str] = set()
    for index, pattern in enumerate(patterns):
        modules = {m for m in module_names if fnmatchcase(m, pattern)}
        params = {p for p in param_names if fnmatchcase(p, pattern)}
        if not modules and not params:
            top = [name for name, _ in module.named_children()]
            raise ConfigError(
                f"model.freeze[{index}]: '{pattern}' matches no module or parameter of this "
                f"model{did_you_mean(pattern, module_names + param_names)}; its top-level "
                f"modules are: {', '.join(top)} (patterns are fnmatch-style, e.g. "
                f"'{top[0] if top else 'body'}' or '{top[0] if top else 'body'}.*')"
            )
        inside = {n for n in module_names for m in modules if n.startswith(f"{m}.")}
        frozen_modules |= modules | inside
        frozen_params |= params | {
            p for p in param_names if any(p.startswith(f"{m}.") for m in modules)
        }
    return frozen_params, frozen_modules


def keep_eval(module: nn.Module, args: Any) -> None:
    """Forward pre-hook of a freezable norm layer: while frozen it runs in eval mode."""
    if module.training and module.__dict__.get("gradwise_frozen", False):
        module.train(False)


@dataclass
class FreezeState:
    """What is frozen in one epoch."""

    parameters: frozenset[str]
    norms: frozenset[str]


class FreezeSchedule:
    """``model.freeze`` and ``train.unfreeze`` for one module: the frozen set of each epoch,
    and :meth:`apply` to set it."""

    def __init__(
        self,
        module: nn.Module,
        patterns: Sequence[str],
        groups: list[LayerGroup],
        unfreeze: Any | None,
    ) -> None:
        if unfreeze is not None and not patterns:
            raise ConfigError(
                "train.unfreeze: nothing is frozen to release; set model.freeze (e.g. ['*'] "
                "to start from the head alone)"
            )
        self.module = module
        self.groups = groups
        self.unfreeze = unfreeze
        self.frozen_params, frozen_modules = matched_names(module, patterns)
        self.norm_names = {
            name
            for name, layer in module.named_modules()
            if isinstance(layer, NORMS)
            and (
                name in frozen_modules
                or (
                    any(True for _ in layer.parameters(recurse=False))
                    and all(
                        f"{name}.{p}" in self.frozen_params
                        for p, _ in layer.named_parameters(recurse=False)
                    )
                )
            )
        }
        self.hooks = [
            layer.register_forward_pre_hook(keep_eval)
            for name, layer in module.named_modules()
            if name in self.norm_names
        ]

    def state(self, epoch: int) -> FreezeState:
        """The frozen parameters and norm layers in ``epoch`` (counted from 1)."""
        if self.unfreeze is None:
            return FreezeState(frozenset(self.frozen_params), frozenset(self.norm_names))
        top = 1 + releases(self.unfreeze, epoch)  # the head and the groups released so far
        trainable = self.groups[max(0, len(self.groups) - top) :]
        released = {p for group in trainable for p in group.parameters}
        norms = {n for n in self.norm_names if any(g.holds(n) for g in trainable)}
        return FreezeState(
            frozenset(self.frozen_params - released), frozenset(self.norm_names - norms)
        )

    def release_epoch(self, group_index: int, last_epoch: int) -> int | None:
        """The first epoch in which layer group ``group_index`` trains (None: not by
        ``last_epoch``)."""
        names = set(self.groups[group_index].parameters)
        for epoch in range(1, last_epoch + 1):
            if not names <= self.state(epoch).parameters:
                return epoch
        return None

    def apply(self, epoch: int) -> FreezeState:
        """Freeze what ``epoch`` freezes and release the rest."""
        state = self.state(epoch)
        for name, param in self.module.named_parameters():
            param.requires_grad_(name not in state.parameters)
        for name, layer in self.module.named_modules():
            if name in self.norm_names:
                layer.__dict__["gradwise_frozen"] = name in state.norms
        return state


class Freezing(Callback):
    """Sets each epoch's frozen set at its start (so a resume is exact), and keeps the L1
    penalty to the trainable weights."""

    def __init__(self, schedule: FreezeSchedule) -> None:
        self.schedule = schedule

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        self.schedule.apply(epoch)
        restrict_l1(trainer)


def restrict_l1(trainer: Trainer) -> None:
    """The trainer's L1 penalty over its trainable weights only (all of them when every weight
    of an optimizer is frozen: the penalty of frozen weights is then a constant)."""
    for name, params in trainer.parameters.items():
        weights = [p for p in params if p.dim() > 1]
        trainable = [p for p in weights if p.requires_grad]
        trainer.l1_weights[name] = trainable or weights
