"""The loss weighting against hand-computed formulas (Kendall, Gal & Cipolla, 2018)."""

from __future__ import annotations

import math

import pytest
import torch

from gradwise.tasks.loss_weights import KIND_FACTOR, weighted_total


def test_fixed_weights_are_a_weighted_sum():
    losses = torch.tensor([0.3, 1.7])
    total, effective = weighted_total(losses, torch.tensor([2.0, 0.5]), None)
    assert total.item() == pytest.approx(2.0 * 0.3 + 0.5 * 1.7)
    assert effective.tolist() == [2.0, 0.5]


def test_uncertainty_weights_follow_the_paper_in_sigma():
    # regression: 1/(2σ²)·L + log σ; classification: 1/σ²·L + log σ, with s = log σ²
    sigma = torch.tensor([0.5, 2.0])
    s = torch.log(sigma**2)
    losses = torch.tensor([0.8, 1.3])
    factors = torch.tensor([KIND_FACTOR["values"], KIND_FACTOR["labels"]])
    total, effective = weighted_total(losses, factors, s)
    expected = (
        0.8 / (2 * 0.5**2)
        + math.log(0.5)  # the regression target
        + 1.3 / 2.0**2
        + math.log(2.0)  # the classification target
    )
    assert total.item() == pytest.approx(expected, rel=1e-6)
    assert effective.tolist() == pytest.approx([1 / (2 * 0.25), 1 / 4.0])


def test_the_learned_variance_settles_where_sigma_squared_tracks_the_loss():
    # d/ds [c·exp(−s)·L + s/2] = 0  ⇔  exp(s) = 2·c·L: gradient descent on s finds it
    losses = torch.tensor([0.4, 2.5])
    factors = torch.tensor([0.5, 1.0])
    s = torch.zeros(2, requires_grad=True)
    optimizer = torch.optim.SGD([s], lr=0.2)
    for _ in range(500):
        optimizer.zero_grad()
        weighted_total(losses, factors, s)[0].backward()
        optimizer.step()
    assert torch.exp(s).tolist() == pytest.approx((2 * factors * losses).tolist(), rel=1e-3)
