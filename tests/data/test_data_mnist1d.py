"""MNIST-1D: generated offline, the fixed 4000/1000 split, cached in-process and on disk."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from gradwise.data import builtin, load_splits, read_source


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One cache folder for the module, so MNIST-1D is generated once here."""
    folder = tmp_path_factory.mktemp("mnist1d-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADWISE_CACHE_DIR", str(folder))
        builtin._mnist1d_arrays.cache_clear()
        yield folder


def test_fixed_split_and_identical_second_call(config, cache: Path) -> None:
    np.random.seed(123)
    random.seed(5)
    numpy_before, python_before = np.random.get_state()[1].copy(), random.getstate()
    first = read_source(config("mnist1d"))
    assert np.array_equal(np.random.get_state()[1], numpy_before)  # global RNGs untouched
    assert random.getstate() == python_before
    assert first.x.shape == (4000, 1, 40) and first.x_test.shape == (1000, 1, 40)
    assert first.y.dtype == np.int64 and set(np.unique(first.y)) == set(range(10))
    second = read_source(config("mnist1d"))
    np.testing.assert_array_equal(first.x, second.x)
    np.testing.assert_array_equal(first.y_test, second.y_test)
    second.x[:] = 0  # callers get copies: the cache is not changed through them
    assert read_source(config("mnist1d")).x.any()


def test_cache_file_is_used(config, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = read_source(config("mnist1d"))
    files = list(cache.glob("mnist1d-*.npz"))
    assert len(files) == 1
    assert files[0] == builtin.mnist1d_cache_path({})
    builtin._mnist1d_arrays.cache_clear()  # forget the in-process copy ...

    def no_generation(*args, **kwargs):
        raise AssertionError("make_dataset must not run when the cache file exists")

    import mnist1d.data

    monkeypatch.setattr(mnist1d.data, "make_dataset", no_generation)
    loaded = read_source(config("mnist1d"))  # ... so this must come from the file
    np.testing.assert_array_equal(loaded.x, expected.x)
    np.testing.assert_array_equal(loaded.y, expected.y)


def test_load_splits_keeps_the_fixed_test_split(config, cache: Path) -> None:
    raw = read_source(config("mnist1d"))
    splits = load_splits(config("mnist1d", valid=0.1, test=0.3), "labels", 0)
    assert splits.profile["splits"] == {"train": 3500, "valid": 500, "test": 1000}  # test ignored
    assert splits.profile["fixed_test_split"] is True
    pre = splits.preprocessor
    np.testing.assert_array_equal(splits.y_test, raw.y_test)
    np.testing.assert_allclose(splits.x_test, pre.transform_features(raw.x_test))
    train = raw.x[splits.indices["train"]].astype(np.float64)
    np.testing.assert_allclose(pre.offset, [train.mean()], rtol=1e-10)  # one channel
    assert splits.x_train.shape == (3500, 1, 40) and pre.input_kind == "signal"


def test_options_change_the_data_and_the_cache_key(config, cache: Path) -> None:
    small = read_source(config("mnist1d", options={"num_samples": 500, "seed": 3}))
    assert small.x.shape == (400, 1, 40) and small.x_test.shape == (100, 1, 40)
    names = {p.name for p in cache.glob("mnist1d-*.npz")}
    small_path = builtin.mnist1d_cache_path({"num_samples": 500, "seed": 3})
    assert small_path.name in names
    # a key of its own (whether the default file exists depends on which tests ran here first)
    assert small_path != builtin.mnist1d_cache_path({})
