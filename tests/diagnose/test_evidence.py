"""The reference numbers of the doctor against torch: the best constant predictor's loss (with
class weights, label smoothing, BCE), and the learning-rate range test's helpers."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from gradwise.config import load_config
from gradwise.diagnose.evidence import RunEvidence
from gradwise.diagnose.fix import compare
from gradwise.diagnose.lr_find import lr_schedule, smooth, suggest
from gradwise.runs import RunPaths

COUNTS = [70, 20, 10]


def evidence(train: dict, loss: str | None = None) -> RunEvidence:
    config = load_config({"data": {"source": "x"}, "train": {**train, "loss": loss}})
    profile = {"class_counts": {"train": COUNTS[: 2 if loss == "bce" else 3]}}
    return RunEvidence(RunPaths(Path(".")), config, [], [], {}, profile)


def best_constant_loss(loss_of_logits, k: int) -> float:
    """Minimize the loss of one constant logit vector over the training labels (an oracle)."""
    logits = torch.zeros(k, requires_grad=True)
    optimizer = torch.optim.LBFGS([logits], lr=1, max_iter=200, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        value = loss_of_logits(logits)
        value.backward()
        return value

    optimizer.step(closure)
    return loss_of_logits(logits).item()


LABELS = torch.cat([torch.full((n,), k) for k, n in enumerate(COUNTS)])  # (100,)


@pytest.mark.parametrize(
    "train",
    [
        {},
        {"class_weights": "balanced"},
        {"class_weights": [1.0, 2.0, 5.0]},
        {"label_smoothing": 0.2},
        # PyTorch weights the smoothing term by w_k too (regression: the two used to be mixed)
        {"class_weights": [1.0, 2.0, 5.0], "label_smoothing": 0.2},
        {"class_weights": "balanced", "label_smoothing": 0.1},
    ],
)
def test_trivial_cross_entropy_is_the_best_constant_predictor(train: dict) -> None:
    found = evidence(train)
    weights = found.class_weight_vector()
    weight = torch.tensor(weights, dtype=torch.float32) if weights else None
    smoothing = train.get("label_smoothing", 0.0)

    def loss(logits):
        batch = logits.expand(len(LABELS), -1)
        return F.cross_entropy(batch, LABELS, weight=weight, label_smoothing=smoothing)

    assert found.trivial_loss == pytest.approx(best_constant_loss(loss, 3), rel=1e-4)


def test_loss_floor_with_label_smoothing_is_a_perfect_models_loss() -> None:
    found = evidence({"label_smoothing": 0.2})
    perfect = torch.full((len(LABELS), 3), -1e4).scatter(1, LABELS[:, None], 1e4)  # one-hot
    soft_best = torch.log(
        torch.full((len(LABELS), 3), 0.2 / 3).scatter(1, LABELS[:, None], 0.8 + 0.2 / 3)
    )
    expected = F.cross_entropy(soft_best, LABELS, label_smoothing=0.2).item()
    assert found.loss_floor == pytest.approx(expected, rel=1e-5)
    assert F.cross_entropy(perfect, LABELS, label_smoothing=0.2).item() > found.loss_floor


@pytest.mark.parametrize(
    "train",
    [{"label_smoothing": 0.2}, {"class_weights": [1.0, 2.0, 5.0], "label_smoothing": 0.2}],
)
def test_loss_floor_is_the_best_per_class_predictor(train: dict) -> None:
    """The oracle: one free logit vector per class (a model that knows the label)."""
    found = evidence(train)
    weights = found.class_weight_vector()
    weight = torch.tensor(weights, dtype=torch.float32) if weights else None

    def loss(logits):
        per_class = logits.reshape(3, 3)
        return F.cross_entropy(
            per_class[LABELS], LABELS, weight=weight, label_smoothing=train["label_smoothing"]
        )

    assert found.loss_floor == pytest.approx(best_constant_loss(loss, 9), rel=1e-4)
    assert 0 < found.loss_floor < found.trivial_loss


def test_trivial_loss_uses_the_class_counts_after_resampling() -> None:
    """data.sampling: oversample trains on balanced batches: the constant predictor's loss is
    log 2, not the entropy of the 87/13 split it was drawn from."""
    config = load_config({"data": {"source": "x", "sampling": "oversample"}})
    profile = {
        "classes": ["no", "yes"],
        "class_counts": {"train": [608, 92], "valid": [87, 13]},
        "sampling": {
            "method": "oversample",
            "before": {"no": 608, "yes": 92},
            "after": {"no": 608, "yes": 608},
        },
    }
    found = RunEvidence(RunPaths(Path(".")), config, [], [], {}, profile)
    assert found.class_prior == [0.5, 0.5]
    assert found.trivial_loss == pytest.approx(math.log(2))
    assert found.valid_prior == pytest.approx([0.87, 0.13])  # validation is never resampled
    # "after" keyed by class name, in any order
    profile["sampling"]["after"] = {"yes": 300, "no": 100}
    assert RunEvidence(RunPaths(Path(".")), config, [], [], {}, profile).class_prior == [
        0.25,
        0.75,
    ]


def test_trivial_bce_with_pos_weight() -> None:
    found = evidence({"class_weights": [1.0, 3.0]}, loss="bce")
    labels = torch.cat([torch.zeros(70), torch.ones(20)])

    def loss(logit):
        return F.binary_cross_entropy_with_logits(
            logit[:1].expand(len(labels)), labels, pos_weight=torch.tensor(3.0)
        )

    assert found.trivial_loss == pytest.approx(best_constant_loss(loss, 1), rel=1e-4)


def test_progress_runs_from_trivial_to_floor() -> None:
    found = evidence({})
    assert found.progress(found.trivial_loss) == pytest.approx(0.0)
    assert found.progress(0.0) == pytest.approx(1.0)
    assert found.progress(math.nan) is None


def test_compare_knows_which_way_is_better() -> None:
    assert compare("accuracy", 0.80, 0.90) == "better"
    assert compare("accuracy", 0.80, 0.803) == "same"
    assert compare("rmse", 10.0, 8.0) == "better"
    assert compare("rmse", 10.0, 12.0) == "worse"
    assert compare("f1", None, 0.5) == "better"  # the run no longer fails
    assert compare("f1", 0.5, None) == "worse"
    # one test sample of 200 is noise: the standard error at p = 0.745 is 0.031
    assert compare("accuracy", 0.745, 0.740, n_test=200) == "same"
    assert compare("accuracy", 0.745, 0.700, n_test=200) == "worse"
    assert compare("accuracy", 0.745, 0.740) == "same"  # half a point, without n
    assert compare("accuracy", 0.745, 0.735) == "worse"


def test_range_test_helpers() -> None:
    lrs = lr_schedule(1e-6, 1.0, 61)
    assert lrs[0] == pytest.approx(1e-6) and lrs[-1] == pytest.approx(1.0)
    assert lrs[30] == pytest.approx(1e-3)  # geometric: the middle step is the geometric mean
    assert smooth([1.0] * 10) == [1.0] * 10
    # a loss that falls fastest at lr 1e-3 (in log lr) and is lowest at 1e-1
    curve = [
        2 - math.tanh(math.log10(lr) + 3) if lr < 0.1 else 1 + (math.log10(lr) + 1) for lr in lrs
    ]
    suggested, steepest, lowest = suggest(lrs, curve)
    assert steepest == pytest.approx(1e-3, rel=0.3)
    assert lowest == pytest.approx(0.1, rel=0.3)
    assert suggested == min(steepest, lowest / 10)
