"""Splits: fixed by the seed, stratified within one sample, sized as fractions of the whole."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from gradwise.data import load_splits
from gradwise.data.split import controlled_rounding, plain_split, split_sizes, stratified_split


def imbalanced_labels(n: int = 500, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).choice(["a", "b", "c", "d"], n, p=[0.55, 0.25, 0.15, 0.05])


def test_splits_are_fixed_by_the_seed_and_differ_across_seeds(config) -> None:
    data = config("synthetic:classification", options={"n_samples": 300})
    first, again = load_splits(data, "labels", 7), load_splits(data, "labels", 7)
    for name in ("x_train", "y_train", "x_valid", "y_valid", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))
    other = stratified_split(np.asarray(first.profile["classes"] * 150), 30, 60, seed=8)
    same = stratified_split(np.asarray(first.profile["classes"] * 150), 30, 60, seed=7)
    assert not np.array_equal(other[0], same[0])
    assert not np.array_equal(plain_split(300, 30, 60, 1)[2], plain_split(300, 30, 60, 2)[2])


def test_different_seeds_give_different_rows(config, people_csv) -> None:
    data = config(people_csv, target="bought")
    a, b = load_splits(data, "labels", 0), load_splits(data, "labels", 1)
    assert not np.array_equal(a.indices["test"], b.indices["test"])
    assert len(a.indices["test"]) == len(b.indices["test"])


@pytest.mark.parametrize("seed", range(5))
def test_stratification_keeps_class_proportions_within_one_sample(seed: int) -> None:
    labels = imbalanced_labels(seed=seed)
    n_valid, n_test = split_sizes(len(labels), 0.15, 0.25)
    parts = stratified_split(labels, n_valid, n_test, seed)
    assert [len(p) for p in parts] == [len(labels) - n_valid - n_test, n_valid, n_test]
    assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(len(labels)))
    classes, totals = np.unique(labels, return_counts=True)
    for part in parts:
        share = totals * len(part) / len(labels)  # the class's share of this split
        counts = np.array([(labels[part] == c).sum() for c in classes])
        assert np.all(np.abs(counts - share) < 1), (counts, share)


def test_controlled_rounding_keeps_totals_on_random_tables() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        counts = rng.integers(3, 60, size=rng.integers(2, 9))
        n = counts.sum()
        sizes = np.array([0, rng.integers(0, n // 3), rng.integers(0, n // 3)])
        sizes[0] = n - sizes[1:].sum()
        expected = counts[:, None] * sizes[None, :] / n
        table = controlled_rounding(expected, counts, sizes)
        assert (table.sum(axis=1) == counts).all() and (table.sum(axis=0) == sizes).all()
        assert (np.abs(table - expected) < 1).all()


def test_split_sizes_are_fractions_of_the_whole() -> None:
    assert split_sizes(1000, 0.1, 0.2) == (100, 200)
    assert split_sizes(4000, 0.1, 0.2, n_fixed_test=1000) == (500, 0)  # fixed test: 10% of 5000


def test_rare_classes_stay_in_training_with_a_warning() -> None:
    labels = np.array(["a"] * 40 + ["b"] * 40 + ["rare"] * 2)
    with pytest.warns(UserWarning, match="'rare' have fewer than 3 members"):
        train, valid, test = stratified_split(labels, 8, 16, seed=0)
    assert (labels[train] == "rare").sum() == 2
    assert len(valid) == 8 and len(test) == 16


def test_too_many_rare_classes_fall_back_to_a_plain_split() -> None:
    labels = np.arange(50)  # every row its own class
    with pytest.warns(UserWarning, match="plain random split"):
        train, valid, test = stratified_split(labels, 5, 10, seed=0)
    assert (len(train), len(valid), len(test)) == (35, 5, 10)


def test_regression_splits_are_plain_and_seeded(config) -> None:
    data = config("synthetic:regression", options={"n_samples": 200})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no stratification warnings for regression
        splits = load_splits(data, "values", 0)
    assert splits.profile["splits"] == {"train": 140, "valid": 20, "test": 40}
    assert splits.profile["stratified"] is False


@pytest.mark.parametrize(("source", "targets"), [("moons", "labels"), ("regression", "values")])
def test_zero_valid_fraction_gives_an_empty_valid_split(config, source, targets) -> None:
    options = {"n_samples": 100} if source == "moons" else {"n_samples": 100, "n_features": 2}
    splits = load_splits(config(f"synthetic:{source}", valid=0.0, options=options), targets, 0)
    assert splits.x_valid.shape == (0, 2) and splits.y_valid.shape == (0,)
    assert len(splits.x_train) == 80
