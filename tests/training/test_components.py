"""Losses, metrics, schedules and optimizers checked against trusted references."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
import torch
from sklearn import metrics as skm

from gradwise.config.schema import OptimizerConfig, ScheduleConfig, TrainConfig
from gradwise.training import LOSSES, OPTIMIZERS, SCHEDULES, LRSchedule, build_optimizer
from gradwise.training.metrics import classification_metrics, regression_metrics

CPU = torch.device("cpu")
TORCH_OPTIMIZERS = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "adagrad": torch.optim.Adagrad,
    "rmsprop": torch.optim.RMSprop,
}


def test_cross_entropy_label_smoothing_and_class_weights_match_formula():
    torch.manual_seed(0)
    logits, targets = torch.randn(6, 3), torch.tensor([0, 1, 2, 2, 1, 0])
    loss = LOSSES.get("cross_entropy")(TrainConfig(label_smoothing=0.1))
    q = torch.full((6, 3), 0.1 / 3) + 0.9 * torch.nn.functional.one_hot(targets, 3)
    expected = -(q * torch.log_softmax(logits, -1)).sum(-1).mean()
    assert torch.allclose(loss(logits, targets), expected, atol=1e-6)
    weights = torch.tensor([1.0, 2.0, 3.0])
    weighted = LOSSES.get("cross_entropy")(TrainConfig(), class_weights=weights)
    nll = -torch.log_softmax(logits, -1)[torch.arange(6), targets]
    w = weights[targets]
    assert torch.allclose(weighted(logits, targets), (w * nll).sum() / w.sum(), atol=1e-6)


def test_regression_losses_match_formulas():
    o, t = torch.tensor([0.0, 2.0, -3.0]), torch.tensor([1.0, 0.0, 0.0])
    cfg = TrainConfig(huber_delta=1.0)
    assert LOSSES.get("mse")(cfg)(o, t).item() == pytest.approx((1 + 4 + 9) / 3)
    assert LOSSES.get("mae")(cfg)(o, t).item() == pytest.approx((1 + 2 + 3) / 3)
    assert LOSSES.get("huber")(cfg)(o, t).item() == pytest.approx((0.5 + 1.5 + 2.5) / 3)


def test_bce_on_one_logit():
    logits, targets = torch.tensor([[0.3], [-1.0]]), torch.tensor([1, 0])
    p = torch.sigmoid(logits.squeeze())
    expected = -(torch.log(p[0]) + torch.log(1 - p[1])) / 2
    assert LOSSES.get("bce")(TrainConfig())(logits, targets).item() == pytest.approx(
        expected.item(), rel=1e-6
    )


@pytest.mark.parametrize("n_classes", [2, 4])
def test_classification_metrics_match_sklearn(n_classes):
    rng = np.random.default_rng(n_classes)
    logits = torch.tensor(rng.normal(size=(200, n_classes)), dtype=torch.float32)
    targets = torch.tensor(rng.integers(0, n_classes, size=200))
    logits[torch.arange(100), targets[:100]] += 2  # make it better than chance
    got = classification_metrics(logits, targets, n_classes)
    probs = torch.softmax(logits, -1).numpy()
    predicted = probs.argmax(1)
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(targets, predicted))
    assert got["f1"] == pytest.approx(skm.f1_score(targets, predicted, average="macro"))
    reference = (
        skm.roc_auc_score(targets, probs[:, 1])
        if n_classes == 2
        else skm.roc_auc_score(targets, probs, multi_class="ovr", average="macro")
    )
    assert got["auc"] == pytest.approx(reference)


def test_regression_metrics_in_original_units_match_sklearn():
    rng = np.random.default_rng(0)
    y = rng.normal(size=100)
    pred = y + rng.normal(scale=0.3, size=100)
    std = 7.0
    got = regression_metrics(torch.tensor(pred), torch.tensor(y), torch.tensor(std))
    assert got["rmse"] == pytest.approx(math.sqrt(skm.mean_squared_error(y, pred)) * std)
    assert got["mae"] == pytest.approx(skm.mean_absolute_error(y, pred) * std)
    assert got["r2"] == pytest.approx(skm.r2_score(y, pred))


def _lrs(name: str, epochs: int = 10, steps: int = 10, **cfg) -> list[float]:
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=1.0)
    schedule = LRSchedule(optimizer, ScheduleConfig(name=name, **cfg), steps, epochs * steps)
    lrs = []
    for _ in range(epochs * steps):
        lrs.append(schedule.lr)
        schedule.step()
    return lrs


def test_schedules_follow_their_formulas():
    assert set(_lrs("constant")) == {1.0}
    step = _lrs("step", step_epochs=3, gamma=0.5)
    assert step[0] == 1.0 and step[30] == 0.5 and step[60] == 0.25
    expo = _lrs("exponential", gamma=0.9)
    assert expo[10] == pytest.approx(0.9) and expo[25] == pytest.approx(0.9**2.5)
    cos = _lrs("cosine")
    assert cos[0] == 1.0 and cos[50] == pytest.approx(0.5) and cos[-1] < 0.01
    cycle = _lrs("one_cycle", pct_start=0.3)
    peak = int(np.argmax(cycle))
    assert cycle[0] == pytest.approx(1 / 25) and peak == 30 and cycle[-1] < 0.01


def test_warmup_rises_linearly_then_hands_over():
    lrs = _lrs("cosine", warmup_epochs=2)
    assert lrs[0] == pytest.approx(0.01) and lrs[10] == pytest.approx(0.01 + 0.99 * 0.5)
    assert lrs[19] < lrs[20] or lrs[20] == pytest.approx(1.0)


def test_schedules_match_torch_references():
    param = torch.nn.Parameter(torch.zeros(1))
    reference = torch.optim.SGD([param], lr=1.0)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(reference, T_max=100)
    ours = _lrs("cosine")
    for t in range(100):
        assert ours[t] == pytest.approx(reference.param_groups[0]["lr"], abs=1e-9)
        reference.step()
        cosine.step()


def test_plateau_reduces_after_patience():
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=1.0)
    schedule = LRSchedule(optimizer, ScheduleConfig(name="plateau", patience=2, factor=0.5), 1, 10)
    for value in [1.0, 0.9, 0.95, 0.95, 0.95]:
        schedule.epoch_end(value)
    assert schedule.lr == pytest.approx(0.5)


@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_every_optimizer_matches_torch_reference(name):
    cfg = OptimizerConfig(
        name=name, lr=0.01, weight_decay=0.01, momentum=0.5, nesterov=name == "sgd"
    )
    torch.manual_seed(0)
    ours_param = torch.nn.Parameter(torch.randn(5))
    ref_param = torch.nn.Parameter(ours_param.detach().clone())
    ours = build_optimizer([ours_param], cfg, torch.device("cpu"))
    reference_cls = TORCH_OPTIMIZERS[name]
    kwargs = {"lr": 0.01, "weight_decay": 0.01}
    if name in ("sgd", "rmsprop"):
        kwargs["momentum"] = 0.5
    if name == "sgd":
        kwargs["nesterov"] = True
    reference = reference_cls([ref_param], **kwargs)
    for _ in range(5):
        for param, optimizer in ((ours_param, ours), (ref_param, reference)):
            optimizer.zero_grad()
            (param**2).sum().backward()
            optimizer.step()
    assert torch.allclose(ours_param, ref_param, atol=1e-6)


@pytest.mark.parametrize("name", ["adam", "adamw", "rmsprop", "adagrad"])
def test_an_adaptive_optimizers_eps_reaches_torch_and_shrinks_small_steps(name):
    """With |gradient| far below ε the step shrinks by about |g|/ε against the default ε."""
    start = torch.full((3,), 1e-4)
    moved = {}
    for eps in (None, 0.1):
        param = torch.nn.Parameter(start.clone())
        optimizer = build_optimizer([param], OptimizerConfig(name=name, lr=0.01, eps=eps), CPU)
        default = inspect.signature(TORCH_OPTIMIZERS[name]).parameters["eps"].default
        assert optimizer.defaults["eps"] == (eps if eps is not None else default)
        optimizer.zero_grad()
        (param**2).sum().backward()  # gradient 2e-4
        optimizer.step()
        moved[eps] = float((start - param.detach()).abs().max())
    assert moved[0.1] < moved[None] / 50


def test_registries_reject_unknown_names_with_suggestion():
    from gradwise.errors import ConfigError

    with pytest.raises(ConfigError, match="did you mean 'cosine'"):
        SCHEDULES.get("cosin")
    with pytest.raises(ConfigError, match="did you mean 'huber'"):
        LOSSES.get("hubber")
