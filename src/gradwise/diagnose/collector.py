"""The diagnostics collector: per-layer gradient, weight, update and activation statistics,
sampled every ``diagnose.every`` optimizer steps (and on the first step) into
``diagnostics.jsonl``.

On a step that is not sampled the collector only compares two integers. On a sampled step:

- forward hooks, attached just before the step and removed right after it, summarize the
  activation modules' outputs (mean, std, dead and saturated fractions);
- after ``backward`` (gradients present, before clipping and the optimizer step) the gradient
  and weight norms of every parameterized module are computed with a few batched ops
  (``torch._foreach_norm`` + one ``index_add_``) and the weights are copied;
- after the optimizer step the update norm ‖w_after − w_before‖ gives the update/weight ratio.

Formula (layer ℓ with parameters P_ℓ)::

    grad_norm_ℓ    = sqrt(Σ_{p∈P_ℓ} ‖∂L/∂p‖²)
    weight_norm_ℓ  = sqrt(Σ_{p∈P_ℓ} ‖p‖²)
    update_ratio_ℓ = sqrt(Σ_{p∈P_ℓ} ‖p_{t+1} − p_t‖²) / weight_norm_ℓ
    dead_fraction  = (1/U) Σ_u [y_{b,u} = 0 for every sample b (and position)]   (ReLU family)
    saturated      = mean over elements of [y < 0.01 or y > 0.99] (sigmoid), [|y| > 0.99] (tanh)

A healthy update ratio is around 1e-3 per step (Karpathy, "A Recipe for Training Neural
Networks", 2019); the doctor reads these lines to name vanishing/exploding gradients, dead or
saturated units and learning rates that are far off.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from gradwise.hooks import RUN_CALLBACKS
from gradwise.training.callbacks import Callback, truncate_jsonl
from gradwise.training.engine import non_finite_error

if TYPE_CHECKING:
    from gradwise.training.engine import Trainer

# Output family of each activation module: what "dead" and "saturated" mean for it.
ACTIVATION_FAMILIES: dict[type[nn.Module], str] = {
    nn.ReLU: "relu",
    nn.ReLU6: "relu",
    nn.Sigmoid: "sigmoid",
    nn.Tanh: "tanh",
    nn.Hardtanh: "tanh",
    nn.LeakyReLU: "other",
    nn.ELU: "other",
    nn.SELU: "other",
    nn.GELU: "other",
    nn.SiLU: "other",
    nn.Softplus: "other",
    nn.GRU: "tanh",  # hidden states are convex mixes of tanh outputs, in (−1, 1)
    nn.LSTM: "tanh",  # h = o ⊙ tanh(c), in (−1, 1)
}
SIGMOID_LOW, SIGMOID_HIGH, TANH_BOUND = 0.01, 0.99, 0.99
NAN = float("nan")


def activation_family(module: nn.Module) -> str | None:
    if isinstance(module, nn.RNN):  # a plain RNN's family is its nonlinearity
        return "relu" if module.nonlinearity == "relu" else "tanh"
    return ACTIVATION_FAMILIES.get(type(module))


def activation_stats(output: torch.Tensor, family: str, unit_dim: int) -> torch.Tensor:
    """``(mean, std, dead_fraction, saturated_fraction)`` of one activation output as a (4,)
    tensor, NaN where the statistic does not apply to ``family`` (no host sync)."""
    y = output.detach().float()
    units = y.movedim(unit_dim, -1).reshape(-1, y.shape[unit_dim])  # (samples·positions, U)
    dead = saturated = torch.full((), NAN, device=y.device)
    if family == "relu":
        dead = 1.0 - (units > 0).any(dim=0).float().mean()
    elif family == "sigmoid":
        saturated = ((y < SIGMOID_LOW) | (y > SIGMOID_HIGH)).float().mean()
    elif family == "tanh":
        saturated = (y.abs() > TANH_BOUND).float().mean()
    std = y.std() if y.numel() > 1 else torch.zeros((), device=y.device)
    return torch.stack([y.mean(), std, dead, saturated])


class DiagnosticsCollector(Callback):
    """Samples per-layer statistics every ``every`` training steps into ``path`` (JSON lines).

    A step that updates several optimizers (a GAN's discriminator, then its generator) is
    sampled at each update: a layer's gradient norm is the one of the update that stepped its
    parameters, and the update ratio covers the whole step.
    """

    main_process_only = True

    def __init__(self, path: Path, every: int) -> None:
        self.path = path
        self.every = every
        self.sample_next = False  # hooks are attached for the coming step
        self.handles: list[Any] = []
        self.layer_names: list[str] = []
        self.layer_kinds: list[str] = []
        self.params: list[torch.nn.Parameter] = []
        self.layer_of_param: torch.Tensor | None = None  # (P,) layer index of each parameter
        self.first_param: list[int] = []  # (L,) index in params of each layer's first one
        self.activation_kinds: dict[str, str] = {}  # name -> module class, in first-seen order
        self.activations: dict[str, torch.Tensor] = {}  # name -> (4,) stats of this step
        self.pending: dict[str, Any] | None = None  # a sample waiting for its update norms
        self.forward_order: list[str] = []  # parameterized modules in the order they ran
        self.order_known = False

    # ----------------------------------------------------------------------------- set-up
    def on_fit_start(self, trainer: Trainer) -> None:
        if trainer.epoch > 0:  # resumed: drop the lines of the epoch that was cut short
            truncate_jsonl(self.path, trainer.epoch)
        self.forward_order, self.order_known = [], False
        self.attach(trainer.module, record_order=True)

    def attach(self, model: nn.Module, record_order: bool = False) -> None:
        """Forward hooks for the coming (sampled) step only."""
        self.sample_next = True
        self.activations = {}
        for name, module in model.named_modules():
            family = activation_family(module)
            if family is not None:
                unit_dim = -1 if isinstance(module, nn.RNNBase) else 1
                self.handles.append(
                    module.register_forward_hook(self.stats_hook(name, family, unit_dim))
                )
            if record_order and _has_own_parameters(module):
                self.handles.append(module.register_forward_pre_hook(self.order_hook(name)))

    def stats_hook(self, name: str, family: str, unit_dim: int):
        def hook(module: nn.Module, inputs: Any, output: Any) -> None:
            if not module.training or name in self.activations:
                return  # evaluation passes and repeated calls are not this step's statistics
            tensor = output[0] if isinstance(output, tuple) else output  # RNNs: (out, h)
            if tensor.dim() >= 2:
                self.activations[name] = activation_stats(tensor, family, unit_dim)
                self.activation_kinds.setdefault(name, type(module).__name__)

        return hook

    def order_hook(self, name: str):
        def hook(module: nn.Module, inputs: Any) -> None:
            if module.training and name not in self.forward_order:
                self.forward_order.append(name)

        return hook

    def remove_hooks(self) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles = []

    def detach(self) -> None:
        """Stop sampling until the next :meth:`attach`."""
        self.remove_hooks()
        self.sample_next = False

    def index_layers(self, model: nn.Module) -> None:
        """Fix the layer order (forward order; modules never called go last) and map every
        trainable parameter to its layer."""
        modules = dict(model.named_modules())
        owners = [n for n, m in modules.items() if _has_own_parameters(m)]
        order = [n for n in self.forward_order if n in owners]
        order += [n for n in owners if n not in order]
        self.layer_names, self.layer_kinds, self.params, owner_index = [], [], [], []
        self.first_param = []  # index in self.params of each layer's first parameter
        for name in order:
            trainable = [p for p in modules[name].parameters(recurse=False) if p.requires_grad]
            if not trainable:
                continue
            self.first_param.append(len(self.params))
            self.layer_names.append(name or "model")
            self.layer_kinds.append(type(modules[name]).__name__)
            self.params += trainable
            owner_index += [len(self.layer_names) - 1] * len(trainable)
        device = self.params[0].device if self.params else torch.device("cpu")
        self.layer_of_param = torch.tensor(owner_index, dtype=torch.long, device=device)
        self.order_known = True

    # ----------------------------------------------------------------------------- a step
    def on_after_backward(self, trainer: Trainer) -> None:
        if not self.sample_next:
            return
        self.remove_hooks()  # the step's forward passes are done
        if not self.order_known:
            self.index_layers(trainer.module)
        if not self.params:
            return
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in self.params]
        weights = [p.detach() for p in self.params]
        names = [n for n in self.activation_kinds if n in self.activations]
        parts = [
            self.per_layer(torch._foreach_norm(grads)),  # (L,) gradient norms
            self.per_layer(torch._foreach_norm(weights)),  # (L,) weight norms
        ]
        if names and self.pending is None:
            parts.append(torch.stack([self.activations[n] for n in names]).flatten())  # (4A,)
        values = torch.cat(parts).tolist()  # one host transfer for the norms and statistics
        n_layers = len(self.layer_names)
        grad_norm = values[:n_layers]
        stepped = {id(p) for p in trainer.parameters.get(trainer.stepping or "", self.params)}
        layers = [
            i for i, first in enumerate(self.first_param) if id(self.params[first]) in stepped
        ]
        bad = next((i for i in layers if not math.isfinite(grad_norm[i])), None)
        if bad is not None:
            # before the optimizer step, so the weights (and the checkpoints) stay finite
            raise non_finite_error(
                "non-finite gradient",
                trainer.epoch + 1,
                trainer.global_step + 1,
                f"{self.layer_names[bad]} (gradient)",
            )
        if self.pending is None:  # the step's first update
            self.before = torch._foreach_mul(weights, 1.0)  # copies, for the update norm
            self.pending = {
                "step": trainer.global_step + 1,
                "epoch": trainer.epoch + 1,
                "grad_norm": [math.nan] * n_layers,
                "weight_norm": values[n_layers : 2 * n_layers],
                "activations": names,
                "stats": values[2 * n_layers :],
            }
        for i in layers:  # each layer's gradient as its own optimizer saw it
            self.pending["grad_norm"][i] = grad_norm[i]

    def on_batch_end(self, trainer: Trainer, loss: torch.Tensor) -> None:
        if self.pending is not None:
            self.write_sample()
        self.detach()
        if (trainer.global_step + 1) % self.every == 0:
            self.attach(trainer.module)

    def per_layer(self, norms: list[torch.Tensor] | tuple[torch.Tensor, ...]) -> torch.Tensor:
        """Per-parameter norms → per-layer norms: sqrt of the summed squares, (P,) → (L,)."""
        assert self.layer_of_param is not None
        squares = torch.stack(list(norms)).float().square()  # (P,)
        total = torch.zeros(len(self.layer_names), device=squares.device)
        return total.index_add_(0, self.layer_of_param, squares).sqrt()

    def write_sample(self) -> None:
        """Complete the pending sample with the update norms of the step just taken."""
        pending, self.pending = self.pending, None
        assert pending is not None
        moved = torch._foreach_sub([p.detach() for p in self.params], self.before)
        update_norm = self.per_layer(torch._foreach_norm(moved)).tolist()  # (L,)
        del self.before
        layers = [
            {
                "name": name,
                "kind": kind,
                "grad_norm": _number(grad),
                "weight_norm": _number(weight),
                "update_ratio": _number(update / max(weight, 1e-12)),
            }
            for name, kind, grad, weight, update in zip(
                self.layer_names,
                self.layer_kinds,
                pending["grad_norm"],
                pending["weight_norm"],
                update_norm,
                strict=True,
            )
        ]
        stats = pending["stats"]
        activations = [
            {
                "name": name,
                "kind": self.activation_kinds[name],
                "mean": _number(stats[4 * j]),
                "std": _number(stats[4 * j + 1]),
                "dead_fraction": _number(stats[4 * j + 2]),
                "saturated_fraction": _number(stats[4 * j + 3]),
            }
            for j, name in enumerate(pending["activations"])
        ]
        line = {
            "step": pending["step"],
            "epoch": pending["epoch"],
            "layers": layers,
            "activations": activations,
        }
        with self.path.open("a", encoding="utf-8") as stream:
            stream.write(json.dumps(line) + "\n")
            stream.flush()

    def on_fit_end(self, trainer: Trainer, logs: dict[str, Any]) -> None:
        self.detach()


def _has_own_parameters(module: nn.Module) -> bool:
    return any(True for _ in module.parameters(recurse=False))


def _number(value: float) -> float | None:
    """JSON has no NaN or infinity: a statistic that does not apply (or overflowed) is null."""
    return value if math.isfinite(value) else None


def diagnostics_callback(config: Any, paths: Any, experiment: Any) -> Callback | None:
    """``RUN_CALLBACKS`` factory: a collector for every run with ``diagnose.enabled``."""
    if not config.diagnose.enabled:
        return None
    return DiagnosticsCollector(paths.diagnostics, config.diagnose.every)


RUN_CALLBACKS.register("diagnostics")(diagnostics_callback)
