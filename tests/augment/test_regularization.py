"""Dropout, weight decay, L1, batch/layer norm, label smoothing, early stopping and weight
averaging: all reachable from one config, each with its effect checked against a reference."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import gradwise
from gradwise.config import load_config
from gradwise.experiment import build_experiment, load_data
from gradwise.training import EarlyStopping, build_optimizer
from gradwise.training.averaging import WeightAveraging
from gradwise.training.callbacks import config_callbacks
from tests.conftest import tiny_config

MOONS = {"source": "synthetic:moons", "options": {"n_samples": 300}}
EVERYTHING = {
    "data": {**MOONS, "augment": [{"gaussian_noise": 0.05}, {"mixup": 0.2}]},
    "model": {"kind": "mlp", "hidden": [32, 32], "dropout": 0.3, "norm": "batch"},
    "train": {
        "epochs": 20,
        "batch_size": 32,
        "device": "cpu",
        "optimizer": {"name": "adamw", "lr": 0.01, "weight_decay": 0.1},
        "l1": 1e-4,
        "label_smoothing": 0.1,
        # an impossible improvement: stops after 1 + patience epochs
        "early_stopping": {"patience": 2, "min_delta": 1e9},
        "ema": 0.99,
    },
    "report": {"enabled": False},
    "diagnose": {"enabled": False},
}


def experiment(**sections):
    config = load_config(tiny_config(MOONS["source"], **sections))
    splits = load_data(config)
    return build_experiment(config, splits)


def test_everything_together_from_one_config(tmp_path: Path):
    config = tiny_config(MOONS["source"], **EVERYTHING)
    exp = experiment(**{k: v for k, v in config.items() if k in ("data", "model", "train")})
    kinds = {type(m) for m in exp.module.modules()}
    assert {nn.Dropout, nn.BatchNorm1d} <= kinds
    assert isinstance(exp.trainer.optimizers["main"], torch.optim.AdamW)
    assert exp.trainer.optimizers["main"].param_groups[0]["weight_decay"] == 0.1
    assert exp.trainer.l1 == 1e-4 and len(exp.trainer.batch_transforms) == 2
    logits, labels = torch.randn(8, 2), torch.arange(8) % 2
    expected = F.cross_entropy(logits, labels, label_smoothing=0.1)
    assert torch.allclose(exp.paradigm.loss_fn(logits, labels), expected)
    stopping, averaging = config_callbacks(load_config(config).train)
    assert isinstance(stopping, EarlyStopping) and isinstance(averaging, WeightAveraging)
    assert averaging.decay == 0.99
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = gradwise.train(config, out=tmp_path)
    assert run.summary["epochs_run"] == 3 and run.summary["stopped_early"]


def test_adamw_decay_is_decoupled_and_shrinks_weights():
    """With a zero gradient AdamW multiplies each weight by (1 − lr·λ); Adam's coupled L2
    instead feeds λ·w through the adaptive step (a move of about lr per weight)."""
    config = load_config(
        tiny_config("x", train={"optimizer": {"name": "adamw", "lr": 0.01, "weight_decay": 0.5}})
    )
    weight = nn.Parameter(torch.full((4, 4), 2.0))
    optimizer = build_optimizer([weight], config.train.optimizer, torch.device("cpu"))
    weight.grad = torch.zeros_like(weight)
    optimizer.step()
    assert torch.allclose(weight.detach(), torch.full((4, 4), 2.0 * (1 - 0.01 * 0.5)))
    coupled = load_config(
        tiny_config("x", train={"optimizer": {"name": "adam", "lr": 0.01, "weight_decay": 0.5}})
    )
    weight = nn.Parameter(torch.full((4, 4), 2.0))
    optimizer = build_optimizer([weight], coupled.train.optimizer, torch.device("cpu"))
    weight.grad = torch.zeros_like(weight)
    optimizer.step()
    assert torch.allclose(weight.detach(), torch.full((4, 4), 2.0 - 0.01), atol=1e-5)


def weight_norm(model: nn.Module, p: int) -> float:
    return sum(w.norm(p).item() for n, w in model.named_parameters() if w.dim() > 1)


@pytest.mark.parametrize(
    ("train", "p"),
    [({"optimizer": {"name": "adamw", "lr": 0.01, "weight_decay": 1.0}}, 2), ({"l1": 0.01}, 1)],
)
def test_weight_decay_and_l1_make_weights_smaller(train: dict, p: int):
    base = {"epochs": 5, "optimizer": {"name": "adamw", "lr": 0.01, "weight_decay": 0.0}}
    plain = experiment(data=MOONS, train=base)
    plain.trainer.fit(plain.train_split, None)
    shrunk = experiment(data=MOONS, train={**base, **train})
    shrunk.trainer.fit(shrunk.train_split, None)
    assert weight_norm(shrunk.module, p) < 0.8 * weight_norm(plain.module, p)


def test_l1_penalty_is_added_to_the_stepped_loss_not_to_the_validation_loss():
    exp = experiment(data=MOONS, train={"l1": 0.01})
    batch = exp.train_split.rows(torch.arange(8))
    penalty = 0.01 * sum(w.abs().sum() for n, w in exp.module.named_parameters() if w.dim() > 1)
    data_loss = exp.trainer.compute_loss(exp.module(batch["x"]), batch)
    assert torch.allclose(data_loss, exp.paradigm.loss_fn(exp.module(batch["x"]), batch["y"]))
    stepped = exp.trainer.optimizer_step("main", data_loss)  # before the step: old weights
    assert torch.allclose(stepped, data_loss.detach() + penalty.detach())


def test_dropout_changes_training_outputs_but_not_evaluation():
    exp = experiment(data=MOONS, model={"kind": "mlp", "hidden": [64], "dropout": 0.5})
    x = exp.valid_split["x"]
    exp.module.train()
    assert not torch.equal(exp.module(x), exp.module(x))
    exp.module.eval()
    assert torch.equal(exp.module(x), exp.module(x))


@pytest.mark.parametrize(
    ("norm", "layer", "dim"), [("batch", nn.BatchNorm1d, 0), ("layer", nn.LayerNorm, 1)]
)
def test_norm_layers_normalize(norm: str, layer: type, dim: int):
    exp = experiment(data=MOONS, model={"kind": "mlp", "hidden": [16], "norm": norm})
    seen = []
    (module,) = [m for m in exp.module.modules() if isinstance(m, layer)]
    module.register_forward_hook(lambda m, i, o: seen.append(o.detach()))
    exp.module.train()
    exp.module(exp.train_split["x"][:64])
    out = seen[0]  # batch norm: each feature over the batch; layer norm: each sample
    assert torch.allclose(out.mean(dim), torch.zeros(out.shape[1 - dim]), atol=1e-5)
    assert torch.allclose(out.var(dim, unbiased=False), torch.ones(out.shape[1 - dim]), atol=1e-3)
