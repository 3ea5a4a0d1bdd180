"""Layer groups: a model cut into consecutive stages, input side first, for discriminative
learning rates and gradual unfreezing (Howard & Ruder, 2018, "Universal Language Model
Fine-tuning for Text Classification").

The groups are read from the module itself, so every registered model has them:

1. The units are the model's top-level children in registration order (which every gradwise
   model keeps in data-flow order); a child that is a plain container (``nn.Sequential``,
   ``nn.ModuleList``) counts as its own children, one level down (``features.0``,
   ``blocks.1``).
2. A unit holding a weight matrix or kernel (a parameter with two or more dimensions) starts a
   new group; a unit with only vectors (a norm's scale and shift) joins the group before it, so
   a Linear and the batch norm after it learn at one rate. Units without parameters are left out.
3. Parameters of the model itself (not of a child) join the first group.

Group ``G − 1`` is the head. Discriminative learning rates give group ``g`` the rate
``lr_g = lr · lr_decay^(G − 1 − g)``: the head learns at ``lr``, each group below it ``lr_decay``
times slower.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import nn

CONTAINERS = (nn.Sequential, nn.ModuleList)


@dataclass(frozen=True)
class LayerGroup:
    """A stage of the model: its units (module names) and the names of its parameters."""

    units: tuple[str, ...]
    parameters: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.units[0] if len(self.units) == 1 else f"{self.units[0]}..{self.units[-1]}"

    def holds(self, module_name: str) -> bool:
        """Whether the module ``module_name`` lies inside one of this group's units."""
        return any(module_name == u or module_name.startswith(f"{u}.") for u in self.units)


def _units(module: nn.Module) -> list[tuple[str, nn.Module]]:
    units: list[tuple[str, nn.Module]] = []
    for name, child in module.named_children():
        if isinstance(child, CONTAINERS):
            units += [(f"{name}.{sub}", grandchild) for sub, grandchild in child.named_children()]
        else:
            units.append((name, child))
    return units


def layer_groups(module: nn.Module) -> list[LayerGroup]:
    """The layer groups of ``module``, input side first (the rules in the module docstring)."""
    grouped: list[list[str]] = []
    for name, unit in _units(module):
        shapes = [p.dim() for p in unit.parameters()]
        if not shapes:
            continue
        if not grouped or max(shapes) > 1:
            grouped.append([name])
        else:
            grouped[-1].append(name)
    parameters: list[list[str]] = [[] for _ in grouped] or [[]]
    for name, _ in module.named_parameters():
        index = next(
            (i for i, units in enumerate(grouped) if any(name.startswith(f"{u}.") for u in units)),
            0,  # the model's own parameters: the first group
        )
        parameters[index].append(name)
    units = grouped or [["(model)"]]
    return [LayerGroup(tuple(u), tuple(p)) for u, p in zip(units, parameters, strict=True) if p]


def group_lr_factors(groups: list[LayerGroup], lr_decay: float | None) -> list[float]:
    """Each group's learning-rate multiplier: ``lr_decay^(G − 1 − g)`` (1 without decay)."""
    if lr_decay is None:
        return [1.0] * len(groups)
    return [lr_decay ** (len(groups) - 1 - g) for g in range(len(groups))]


def optimizer_param_groups(
    module: nn.Module, lr: float, lr_decay: float | None
) -> list[dict[str, Any]]:
    """The optimizer's parameter groups for ``module``: one per layer group, head first (so
    that the logged ``lr``, the first group's, is the configured one), each with its
    discriminative learning rate; one group of every parameter when ``lr_decay`` is None."""
    if lr_decay is None:
        return [{"params": list(module.parameters())}]
    params = dict(module.named_parameters())
    groups = layer_groups(module)
    factors = group_lr_factors(groups, lr_decay)
    return [
        {"params": [params[n] for n in group.parameters], "lr": lr * factor}
        for group, factor in reversed(list(zip(groups, factors, strict=True)))
    ]
