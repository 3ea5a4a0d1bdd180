"""The model section: a layer table (forward order, output shape, parameters) of the run's model.

The model is rebuilt from the run directory (:class:`gradwise.api.Run`) and one all-zero example
of the preprocessor's ``feature_shape`` goes through it once, with a forward hook on every layer
recording what came out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gradwise.report.context import ReportContext
from gradwise.report.page import cards, table
from gradwise.report.sections import section


@dataclass(frozen=True)
class LayerRow:
    name: str  # dotted module path, e.g. "body.0"
    kind: str  # module class, e.g. "Linear"
    output_shape: tuple[int, ...] | None  # one example's output (batch axis dropped); None: unused
    parameters: int  # the layer's own parameters (not its children's)
    trainable: int


def _first_tensor(output: Any) -> Any:
    """The tensor in a layer's output (RNNs return ``(output, state)``)."""
    import torch

    while isinstance(output, (tuple, list)) and output:
        output = output[0]
    return output if isinstance(output, torch.Tensor) else None


def layer_table(model: Any, feature_shape: tuple[int, ...]) -> list[LayerRow]:
    """Every layer that holds parameters or has no sub-layers, in the order forward calls it.

    Layers that forward never reaches are listed after, with no output shape; so are all the
    layers of a container of several models (a GAN's generator and discriminator), which has
    no forward of its own. ``Identity`` placeholders (e.g. ``norm: none``) are left out.
    """
    import torch
    from torch import nn

    called: dict[str, tuple[int, ...] | None] = {}
    handles = []
    named = [
        (name, module)
        for name, module in model.named_modules()
        if name
        and not isinstance(module, nn.Identity)
        and (not list(module.children()) or any(True for _ in module.parameters(recurse=False)))
    ]

    def recorder(name: str):
        def hook(_module: Any, _inputs: Any, output: Any) -> None:
            tensor = _first_tensor(output)
            if name not in called:
                called[name] = tuple(tensor.shape[1:]) if tensor is not None else None

        return hook

    for name, module in named:
        handles.append(module.register_forward_hook(recorder(name)))
    was_training = model.training
    try:
        model.eval()
        device = next((p.device for p in model.parameters()), torch.device("cpu"))
        if type(model).forward is not nn.Module.forward:
            with torch.inference_mode():
                model(torch.zeros((1, *feature_shape), device=device))  # (1, *feature_shape)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    modules = dict(named)
    order = list(called) + [name for name, _ in named if name not in called]
    rows = []
    for name in order:
        own = list(modules[name].parameters(recurse=False))
        rows.append(
            LayerRow(
                name,
                type(modules[name]).__name__,
                called.get(name),
                sum(p.numel() for p in own),
                sum(p.numel() for p in own if p.requires_grad),
            )
        )
    return rows


def _shape_text(shape: tuple[int, ...] | None) -> str:
    if shape is None:
        return "not called"
    return " × ".join(map(str, shape)) if shape else "scalar"


@section("model", "Model", order=20)
def model(context: ReportContext) -> str | None:
    if not context.is_run:
        return None
    run = context.run
    feature_shape = tuple(run.preprocessor.feature_shape)
    rows = layer_table(run.model, feature_shape)
    total = sum(row.parameters for row in rows)
    trainable = sum(row.trainable for row in rows)
    body = [[r.name, r.kind, _shape_text(r.output_shape), r.parameters] for r in rows]
    body.append(["total", "", "", total])
    classes = [""] * len(rows) + ["total"]
    input_text = " × ".join(map(str, feature_shape))
    return cards(
        [
            ("kind", context.config.get("model", {}).get("kind") if context.config else None),
            ("input (per example)", input_text),
            ("parameters", total),
            ("trainable", trainable),
            ("layers", len(rows)),
        ]
    ) + table(
        ["layer", "type", "output shape (per example)", "parameters"],
        body,
        [False, False, False, True],
        classes,
    )
