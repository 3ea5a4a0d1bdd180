"""Mixup: Beta variates against scipy, inputs and targets mixed with the same λ and partner."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import stats

from gradwise.augment.compose import AugmentContext, build_batch_transforms
from gradwise.augment.mixup import beta_symmetric, log_gamma
from gradwise.training.losses import LOSSES


@pytest.mark.parametrize("alpha", [0.2, 1.0, 2.5])
def test_beta_variates_follow_scipy_beta(alpha: float):
    generator = torch.Generator().manual_seed(0)
    cpu = torch.device("cpu")  # float64: float32 rounds ~2% of Beta(0.2, 0.2) draws to 0 or 1
    samples = beta_symmetric(alpha, 20_000, generator, cpu, torch.float64).numpy()
    assert np.isfinite(samples).all() and (samples >= 0).all() and (samples <= 1).all()
    assert stats.kstest(samples, stats.beta(alpha, alpha).cdf).pvalue > 1e-3


@pytest.mark.parametrize("shape", [0.3, 1.0, 4.0])
def test_gamma_variates_follow_scipy_gamma(shape: float):
    generator = torch.Generator().manual_seed(1)
    samples = log_gamma(shape, 20_000, generator, torch.device("cpu"), torch.float64).exp().numpy()
    assert stats.kstest(samples, stats.gamma(shape).cdf).pvalue > 1e-3


def mixup(alpha=0.4, p=1.0, output_dim=4, n_classes=4, seed=0):
    context = AugmentContext(
        generator=torch.Generator().manual_seed(seed),
        n_classes=n_classes,
        output_dim=output_dim,
        input_kind="tabular",
        feature_shape=(4,),
    )
    (transform,) = build_batch_transforms([{"mixup": {"alpha": alpha, "p": p}}], context)
    return transform


def test_classification_targets_become_mixed_one_hot_with_the_inputs_lambda():
    y = torch.randint(0, 4, (256,), generator=torch.Generator().manual_seed(2))
    x = F.one_hot(y, 4).float()  # inputs equal to the one-hot targets: both must mix alike
    x_mixed, y_mixed = mixup()(x, y)
    assert y_mixed.shape == (256, 4) and y_mixed.dtype == torch.float32
    assert torch.allclose(y_mixed.sum(1), torch.ones(256))
    assert torch.allclose(x_mixed, y_mixed, atol=1e-6)
    assert (y_mixed.max(1).values < 1).any()  # something was mixed


def test_regression_targets_mix_directly():
    x = torch.randn(128, 4, generator=torch.Generator().manual_seed(3))
    y = x.sum(1)  # a linear target: mixing commutes with it
    x_mixed, y_mixed = mixup(output_dim=1, n_classes=None)(x, y)
    assert y_mixed.shape == y.shape
    assert torch.allclose(x_mixed.sum(1), y_mixed, atol=1e-5)


def test_single_logit_binary_targets_are_probabilities():
    y = torch.randint(0, 2, (64,), generator=torch.Generator().manual_seed(4))
    x = y.float()[:, None].expand(64, 4).clone()
    x_mixed, y_mixed = mixup(output_dim=1, n_classes=2)(x, y)
    assert y_mixed.shape == (64,) and torch.allclose(x_mixed[:, 0], y_mixed)


def test_p_keeps_unchosen_samples_as_they_were():
    y = torch.randint(0, 4, (2000,), generator=torch.Generator().manual_seed(5))
    x = F.one_hot(y, 4).float()
    _, y_mixed = mixup(alpha=1.0, p=0.25)(x, y)
    pure = (y_mixed.max(1).values == 1).float().mean().item()
    # kept samples (75%) plus chosen ones that drew themselves or a same-class partner
    assert 0.75 <= pure < 0.85


def test_soft_targets_and_label_smoothing_match_torch():
    from gradwise.config import load_config

    train = load_config({"data": {"source": "x"}, "train": {"label_smoothing": 0.1}}).train
    loss = LOSSES.get("cross_entropy")(train)
    logits = torch.randn(8, 4, generator=torch.Generator().manual_seed(6))
    soft = torch.softmax(torch.randn(8, 4, generator=torch.Generator().manual_seed(7)), -1)
    smoothed = soft * 0.9 + 0.1 / 4
    expected = -(smoothed * torch.log_softmax(logits, -1)).sum(-1).mean()
    assert torch.allclose(loss(logits, soft), expected, atol=1e-6)
    hard = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    assert torch.allclose(loss(logits, hard), loss(logits, F.one_hot(hard, 4).float()), atol=1e-6)
