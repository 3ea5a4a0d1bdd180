"""Learning-curve subsets: nested, stratified in every prefix, fixed by the seed."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gradwise.comparison.curves import check_fractions, nested_order, subset_rows, subset_size
from gradwise.errors import ConfigError


def _labels(sizes: list[int], seed: int = 0) -> np.ndarray:
    labels = np.repeat(np.arange(len(sizes)), sizes)
    return np.random.default_rng(seed).permutation(labels)


@pytest.mark.parametrize("trial", range(12))
def test_every_prefix_is_stratified_within_one_row(trial: int):
    rng = np.random.default_rng(trial)
    sizes = rng.integers(1, 120, size=rng.integers(2, 9)).tolist()
    if trial % 3 == 0:
        sizes[0] *= 15  # one dominant class
    y = _labels(sizes, trial)
    order = nested_order(y, classification=True, seed=trial)
    assert sorted(order.tolist()) == list(range(len(y)))  # a permutation of the rows
    share = np.bincount(y) / len(y)
    counts = np.cumsum(np.eye(len(sizes), dtype=np.int64)[y[order]], axis=0)  # (n, K)
    expected = np.arange(1, len(y) + 1)[:, None] * share[None, :]
    assert np.abs(counts - expected).max() < 1.0


def test_subsets_are_nested_and_the_same_for_the_same_seed():
    y = _labels([300, 120, 30])
    order = nested_order(y, classification=True, seed=3)
    fractions = [0.1, 0.25, 0.5, 1.0]
    subsets = [set(subset_rows(order, f).tolist()) for f in fractions]
    for smaller, larger in itertools.pairwise(subsets):
        assert smaller < larger
    assert [len(s) for s in subsets] == [45, 112, 225, 450]
    np.testing.assert_array_equal(order, nested_order(y, classification=True, seed=3))
    assert not np.array_equal(order, nested_order(y, classification=True, seed=4))


def test_small_subset_keeps_class_shares():
    y = _labels([700, 200, 100])  # 70/20/10
    rows = subset_rows(nested_order(y, classification=True, seed=0), 0.1)
    assert np.bincount(y[rows]).tolist() == [70, 20, 10]


def test_regression_subsets_are_nested_random_rows():
    y = np.linspace(0, 1, 200).astype(np.float32)
    order = nested_order(y, classification=False, seed=0)
    assert sorted(order.tolist()) == list(range(200))
    assert set(subset_rows(order, 0.25)) < set(subset_rows(order, 0.5))
    assert not np.array_equal(order[:50], np.arange(50))  # shuffled, not the first rows


def test_subset_size_rounds_and_stays_in_range():
    assert subset_size(0.1, 105) == 10
    assert subset_size(1.0, 105) == 105
    assert subset_size(0.001, 105) == 1


def test_fraction_too_small_for_the_data_is_an_error():
    with pytest.raises(
        ConfigError,
        match=r"compare\.fractions: 0\.05 of the 105 training rows "
        r"is 5 row\(s\); each share must hold at least 10 rows",
    ):
        check_fractions([0.05, 1.0], np.zeros(105))


def test_fraction_whose_subset_holds_one_class_is_an_error():
    y = _labels([679, 21])  # a 3% minority: absent from the first 16 rows of the order
    order = nested_order(y, classification=True, seed=0)
    assert len(np.unique(y[subset_rows(order, 0.02)])) == 1  # the actual 14-row subset
    with pytest.raises(
        ConfigError,
        match=r"compare\.fractions: 0\.02 of the 700 training rows is 14 rows, all of one class "
        r"\(the training split has 2\); a classifier needs at least 2 classes",
    ):
        check_fractions([0.02, 1.0], y, order)
    check_fractions([0.05, 1.0], y, order)  # 35 rows: one of them from the minority
    check_fractions([0.02], y.astype(np.float64))  # regression (no order): rows only
