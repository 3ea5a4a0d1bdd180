"""Training-set sampling: exact class counts, oracles against imbalanced-learn, the warnings."""

from __future__ import annotations

import re
import sys
import warnings

import numpy as np
import pytest

from gradwise.augment.sampling import SAMPLERS, proportional_quota, resample
from gradwise.errors import ConfigError, DataError


def imbalanced(n_major: int = 190, n_minor: int = 10, features: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_major + n_minor, features)).astype(np.float32)
    y = np.r_[np.zeros(n_major, np.int64), np.ones(n_minor, np.int64)]
    return x, y


def run(spec, x, y, seed=0, names=("no", "yes")):
    """Resample with class ``names`` (None: the targets are values)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        x_new, y_new, record = resample(spec, x, y, seed, list(names) if names else None)
    return x_new, y_new, record, [str(w.message) for w in caught]


def rows_of(x_new: np.ndarray, x: np.ndarray) -> bool:
    """Every resampled row is one of the original rows."""
    original = {row.tobytes() for row in x}
    return all(row.tobytes() in original for row in x_new)


def test_every_sampling_name_has_a_sampler():
    from gradwise.augment.options import SAMPLING_OPTIONS

    assert set(SAMPLERS.names()) == set(SAMPLING_OPTIONS)


def test_oversample_repeats_minority_rows_to_balance():
    x, y = imbalanced()
    x_new, y_new, record, messages = run("oversample", x, y)
    assert np.bincount(y_new).tolist() == [190, 190]
    assert rows_of(x_new, x) and np.array_equal(x_new[:200], x)  # originals kept, in order
    assert record == {
        "method": "oversample",
        "before": {"no": 190, "yes": 10},
        "after": {"no": 190, "yes": 190},
    }
    assert (
        "data.sampling: oversample: training class counts no: 190, yes: 10 → no: 190, "
        "yes: 190" in messages
    )


def test_oversample_ratio():
    x, y = imbalanced()
    _, y_new, _, _ = run({"name": "oversample", "ratio": 0.5}, x, y)
    assert np.bincount(y_new).tolist() == [190, 95]


def test_undersample_drops_majority_rows():
    x, y = imbalanced()
    x_new, y_new, _, _ = run("undersample", x, y)
    assert np.bincount(y_new).tolist() == [10, 10] and rows_of(x_new, x)
    _, y_half, _, _ = run({"name": "undersample", "ratio": 0.5}, x, y)
    assert np.bincount(y_half).tolist() == [20, 10]


def test_smote_matches_imbalanced_learn_and_interpolates_within_the_class():
    from imblearn.over_sampling import SMOTE

    x, y = imbalanced(features=4)
    x_new, y_new, _, _ = run("smote", x, y, seed=3)
    assert np.bincount(y_new).tolist() == [190, 190]
    rng = np.random.default_rng([3, 1])  # resample's stream for seed 3
    oracle = SMOTE(k_neighbors=5, random_state=int(rng.integers(2**31 - 1)))
    x_ref, y_ref = oracle.fit_resample(x.astype(np.float64), y)
    np.testing.assert_allclose(x_new, x_ref.astype(np.float32), rtol=1e-6)
    assert np.array_equal(y_new, y_ref)
    synthetic = x_new[200:]  # new minority rows lie inside the minority's bounding box
    minority = x[y == 1]
    assert (synthetic >= minority.min(0) - 1e-6).all() and (
        synthetic <= minority.max(0) + 1e-6
    ).all()


def test_smote_keeps_the_sample_shape():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 1, 8)).astype(np.float32)
    y = np.r_[np.zeros(50, np.int64), np.ones(10, np.int64)]
    x_new, y_new, _, _ = run("smote", x, y)
    assert np.bincount(y_new).tolist() == [50, 50]
    assert x_new.shape == (100, 1, 8) and x_new.dtype == np.float32


def test_smote_lowers_k_for_a_small_class_with_a_warning():
    x, y = imbalanced(n_minor=4)
    _, y_new, _, messages = run("smote", x, y)
    assert np.bincount(y_new).tolist() == [190, 190]
    assert any("k_neighbors=5 lowered to 3" in m for m in messages)


def test_smote_refuses_a_class_of_one():
    x, y = imbalanced(n_minor=1)
    with pytest.raises(DataError, match="smote needs at least 2 training samples"):
        run("smote", x, y)


def test_smote_without_imbalanced_learn_is_a_config_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "imblearn", None)  # None in sys.modules: import fails
    monkeypatch.setitem(sys.modules, "imblearn.over_sampling", None)
    x, y = imbalanced()
    with pytest.raises(ConfigError, match=re.escape("pip install 'gradwise[imbalance]'")):
        run("smote", x, y)


def test_random_fraction_is_stratified():
    x, y = imbalanced(n_major=300, n_minor=100)
    x_new, y_new, _, _ = run({"name": "random", "fraction": 0.25}, x, y)
    assert np.bincount(y_new).tolist() == [75, 25] and rows_of(x_new, x)
    assert len(np.unique(x_new, axis=0)) == 100  # without replacement


def test_random_size_and_plain_regression_subsample():
    x, y = imbalanced(n_major=300, n_minor=100)
    _, y_new, _, _ = run({"name": "random", "size": 41}, x, y)
    assert len(y_new) == 41 and np.bincount(y_new).tolist() == [31, 10]
    targets = np.linspace(0, 1, 400).astype(np.float32)
    x_new, t_new, record, messages = run({"name": "random", "size": 50}, x, targets, names=None)
    assert len(t_new) == 50 and record["before"] == {"rows": 400}
    assert "data.sampling: random: training rows 400 → 50" in messages[0]
    assert np.array_equal(x_new, x[np.isin(targets, t_new)])  # rows stay paired


def test_proportional_quota_sums_exactly():
    counts = np.array([7, 13, 80])
    for size in (1, 10, 33, 99, 100):
        quota = proportional_quota(counts, size)
        assert quota.sum() == size and (quota <= counts).all()


def test_same_seed_same_rows_other_seed_other_rows():
    x, y = imbalanced()
    first = run("oversample", x, y, seed=1)[0]
    assert np.array_equal(first, run("oversample", x, y, seed=1)[0])
    assert not np.array_equal(first, run("oversample", x, y, seed=2)[0])


def test_none_and_class_weight_leave_the_data_alone():
    x, y = imbalanced()
    x_new, _, record, messages = run("none", x, y)
    assert x_new is x and record is None and not messages
    x_new, _, record, _ = run("class_weight", x, y)
    assert x_new is x and record["after"] == record["before"]


def test_warns_when_the_minority_class_is_tiny():
    x, y = imbalanced(n_minor=6)
    _, _, _, messages = run("oversample", x, y)
    assert any("class 'yes' has only 6 training samples (< 10)" in m for m in messages)
    _, _, _, messages = run("oversample", *imbalanced(n_minor=12))
    assert not any("has only" in m for m in messages)


def test_balancing_a_regression_target_is_an_error():
    x, _ = imbalanced()
    with pytest.raises(ConfigError, match=r"data\.sampling: oversample balances classes"):
        run("oversample", x, np.zeros(len(x), np.float32), names=None)
