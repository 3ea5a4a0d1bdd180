"""Transfer learning for one experiment: starting weights, freezing, layer groups — and the
record of it (``summary.json`` ``transfer``, the log lines, the report section).

:func:`gradwise.experiment.build_experiment` calls, for every paradigm that builds a module:
:meth:`Transfer.prepare_inputs` on the splits (before they become tensors),
:meth:`Transfer.prepare_module` on the built parts (load, freeze, check), and
:meth:`Transfer.attach` once the trainer exists. The discriminative learning rates themselves
are the optimizer's parameter groups (:func:`gradwise.transfer.groups.optimizer_param_groups`,
used by :func:`gradwise.training.optimizers.build_optimizer` when it is given a module).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from torch import nn

from gradwise.errors import ConfigError
from gradwise.transfer.freeze import FreezeSchedule, Freezing, restrict_l1
from gradwise.transfer.groups import LayerGroup, group_lr_factors, layer_groups
from gradwise.transfer.source import LoadReport, Source, adopt_inputs, load_matching, resolve_source

if TYPE_CHECKING:
    from gradwise.config.schema import ExperimentConfig
    from gradwise.tasks.base import Parts
    from gradwise.training.callbacks import Callback
    from gradwise.training.engine import Trainer

FORMAT_VERSION = 1  # of summary.json's "transfer" record


class Transfer:
    """The transfer settings of an experiment (:meth:`from_config`: None when it has none)."""

    def __init__(self, config: ExperimentConfig) -> None:
        self.config = config
        model = config.model
        self.init_from: str | None = getattr(model, "init_from", None)
        self.patterns: list[str] = list(getattr(model, "freeze", []) or [])
        self.unfreeze = config.train.unfreeze
        self.lr_decay: float | None = config.train.optimizer.lr_decay
        self.source: Source | None = resolve_source(self.init_from) if self.init_from else None
        self.inputs_note = ""
        self.load: LoadReport | None = None
        self.schedule: FreezeSchedule | None = None
        self.module: nn.Module | None = None
        self.groups: list[LayerGroup] = []  # of the module, set by prepare_module

    @classmethod
    def from_config(cls, config: ExperimentConfig) -> Transfer | None:
        model, train = config.model, config.train
        wanted = (
            getattr(model, "init_from", None)
            or getattr(model, "freeze", None)
            or train.unfreeze is not None
            or train.optimizer.lr_decay is not None
        )
        return cls(config) if wanted else None

    # ---------------------------------------------------------------------------- building
    def prepare_inputs(self, splits: Any | None) -> None:
        """Check the data against the source run's inputs, and reuse its scaling."""
        if self.source is not None and splits is not None:
            self.inputs_note = adopt_inputs(self.source, splits)

    def prepare_module(self, parts: Parts) -> None:
        """Load the starting weights into the built module, and freeze it for epoch 1."""
        module = self.module = parts.module
        self.groups = layer_groups(module)
        if self.source is not None:
            self.load = load_matching(module, self.source)
            self.load.inputs = self.inputs_note
        if self.patterns or self.unfreeze is not None:
            self.schedule = FreezeSchedule(module, self.patterns, self.groups, self.unfreeze)
            self.schedule.apply(1)
            self._check_something_trains(parts)
        if (
            self.lr_decay is not None
            and all(len(o.param_groups) == 1 for o in parts.optimizers.values())
            and len(self.groups) > 1
        ):
            raise ConfigError(
                f"train.optimizer.lr_decay: task '{self.config.task}' builds its optimizers "
                "from plain parameter lists, so they have no layer groups to give rates to"
            )

    def _check_something_trains(self, parts: Parts) -> None:
        for name, optimizer in parts.optimizers.items():
            params = [p for group in optimizer.param_groups for p in group["params"]]
            if params and not any(p.requires_grad for p in params):
                which = f"optimizer '{name}'" if len(parts.optimizers) > 1 else "the model"
                raise ConfigError(
                    f"model.freeze: {self.patterns} freezes every parameter of {which} in "
                    "epoch 1, so nothing would train; leave the head out of the patterns or "
                    "set train.unfreeze"
                )

    def callbacks(self) -> list[Callback]:
        """The callbacks training needs: the per-epoch freeze, when there is one."""
        return [Freezing(self.schedule)] if self.schedule is not None else []

    def attach(self, trainer: Trainer) -> None:
        """Keep the trainer's L1 penalty to the weights that train in epoch 1."""
        if self.schedule is not None:
            restrict_l1(trainer)

    # ---------------------------------------------------------------------------- records
    def parameter_counts(self, epoch: int) -> dict[str, int]:
        assert self.module is not None
        params = dict(self.module.named_parameters())
        frozen = self.schedule.state(epoch).parameters if self.schedule is not None else set()
        total = sum(p.numel() for p in params.values())
        frozen_count = sum(params[n].numel() for n in frozen)
        return {"total": total, "trainable": total - frozen_count, "frozen": frozen_count}

    def record(self) -> dict[str, Any]:
        """``summary.json``'s ``transfer``: what was loaded, the layer groups (learning-rate
        factor, parameters, first epoch they train), and parameter counts in the first and
        last epoch."""
        assert self.module is not None
        params = dict(self.module.named_parameters())
        last_epoch = self.config.train.epochs
        factors = group_lr_factors(self.groups, self.lr_decay)
        groups = []
        for index, (group, factor) in enumerate(zip(self.groups, factors, strict=True)):
            trains_from = (
                1 if self.schedule is None else self.schedule.release_epoch(index, last_epoch)
            )
            groups.append(
                {
                    "name": group.name,
                    "parameters": sum(params[n].numel() for n in group.parameters),
                    "lr": self.config.train.optimizer.lr * factor,
                    "trains_from_epoch": trains_from,
                }
            )
        return {
            "format_version": FORMAT_VERSION,
            "load": None if self.load is None else self.load.to_dict(),
            "freeze": self.patterns,
            "unfreeze": None if self.unfreeze is None else self.unfreeze.model_dump(),
            "lr_decay": self.lr_decay,
            "layer_groups": groups,
            "parameters": {
                "first_epoch": self.parameter_counts(1),
                "last_epoch": self.parameter_counts(last_epoch),
            },
        }


def log_lines(record: dict[str, Any]) -> list[str]:
    """The transfer record as short log lines (printed before training)."""
    lines = []
    load = record.get("load")
    if load:
        lines.append(
            f"transfer: from {load['init_from']}: {load['loaded']} tensors loaded, "
            f"{load['fresh']} freshly initialized, {load['unused']} unused"
        )
        lines += [
            f"  {row['status']:<7} {row['name']}  ({row['reason']})"
            for row in load["tensors"]
            if row["status"] != "loaded"
        ]
        if load.get("inputs"):
            lines.append(f"  inputs: {load['inputs']}")
    counts = record["parameters"]["first_epoch"]
    lines.append(
        f"transfer: parameters {counts['total']:,}: {counts['trainable']:,} trainable, "
        f"{counts['frozen']:,} frozen in epoch 1"
    )
    if record.get("freeze") or record.get("lr_decay") is not None:
        for group in reversed(record["layer_groups"]):
            starts = group["trains_from_epoch"]
            when = f"trains from epoch {starts}" if starts else "frozen throughout"
            lines.append(
                f"  group {group['name']:<24} {group['parameters']:>9,} params  "
                f"lr {group['lr']:.3g}  {when}"
            )
    return lines
