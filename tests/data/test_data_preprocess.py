"""Preprocessing: statistics from the training split only, and an exact JSON round trip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gradwise.data import Preprocessor, load_splits
from gradwise.errors import CheckpointError
from tests.data.conftest import raises_one_line


def signals_npz(tmp_path: Path, channels: int = 3) -> Path:
    rng = np.random.default_rng(0)
    centres = np.array([1.0, -5.0, 20.0])[:channels, None]  # (c, 1)
    x = rng.normal(loc=centres, scale=2.0, size=(90, channels, 16))
    y = rng.integers(0, 3, 90)
    path = tmp_path / "signals.npz"
    np.savez(path, x=x, y=y)
    return path


@pytest.mark.parametrize("scale", ["standard", "minmax"])
def test_table_scaling_uses_train_rows_only(config, people_csv, scale: str) -> None:
    splits = load_splits(config(people_csv, target="bought", scale=scale), "labels", 4)
    table = pd.read_csv(people_csv)
    train = table.iloc[splits.indices["train"]]
    for column in ("age", "income"):
        values = train[column].to_numpy()
        if scale == "standard":  # oracle: numpy on the training rows
            expected = (values - values.mean()) / values.std()
        else:
            expected = (values - values.min()) / (values.max() - values.min())
        position = splits.preprocessor.feature_names.index(column)
        np.testing.assert_allclose(splits.x_train[:, position], expected, rtol=1e-5, atol=1e-6)
        if scale == "standard":  # and not the statistics of all rows
            everything = table[column].to_numpy()
            assert splits.preprocessor.columns[position]["offset"] != pytest.approx(
                everything.mean()
            )


def test_array_scaling_is_per_channel_on_train_rows(config, tmp_path) -> None:
    path = signals_npz(tmp_path)
    splits = load_splits(config(path), "labels", 0)
    raw = np.load(path)["x"].astype(np.float32).astype(np.float64)  # arrays are read as float32
    train = raw[splits.indices["train"]]  # (n, c, length)
    mean, std = train.mean(axis=(0, 2)), train.std(axis=(0, 2))
    np.testing.assert_allclose(splits.preprocessor.offset, mean, rtol=1e-12)
    np.testing.assert_allclose(splits.preprocessor.factor, std, rtol=1e-12)
    expected = (raw[splits.indices["test"]] - mean[None, :, None]) / std[None, :, None]
    np.testing.assert_allclose(splits.x_test, expected, rtol=1e-5, atol=1e-5)
    assert splits.profile["input_kind"] == "signal"
    assert splits.profile["feature_shape"] == [3, 16]


def test_array_scaling_is_per_feature_for_2d_arrays(config, tmp_path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(loc=[0.0, 10.0, -3.0], scale=[1.0, 5.0, 0.1], size=(100, 3)).astype(np.float32)
    path = tmp_path / "tab.npz"
    np.savez(path, x=x, y=rng.normal(size=100))
    splits = load_splits(config(path, scale="minmax"), "values", 0)
    train = x[splits.indices["train"]].astype(np.float64)
    np.testing.assert_allclose(splits.preprocessor.offset, train.min(axis=0))
    np.testing.assert_allclose(splits.preprocessor.factor, np.ptp(train, axis=0))
    assert splits.x_train.min() == pytest.approx(0.0) and splits.x_train.max() == pytest.approx(1.0)


def test_scale_none_leaves_values(config, tmp_path) -> None:
    path = signals_npz(tmp_path, channels=1)
    splits = load_splits(config(path, scale="none"), "labels", 0)
    np.testing.assert_allclose(
        splits.x_train, np.load(path)["x"][splits.indices["train"]], rtol=1e-6
    )


@pytest.mark.parametrize("kind", ["table", "array"])
def test_round_trip_through_json_gives_identical_transforms(
    config, people_csv, tmp_path, kind: str
) -> None:
    if kind == "table":
        splits = load_splits(config(people_csv, target="bought"), "labels", 0)
        inputs = pd.read_csv(people_csv)
    else:
        splits = load_splits(config(signals_npz(tmp_path)), "labels", 0)
        inputs = np.load(tmp_path / "signals.npz")["x"]
    pre = splits.preprocessor
    stored = json.loads(json.dumps(pre.to_dict()))  # what preprocess.json holds
    again = Preprocessor.from_dict(stored)
    assert again.to_dict() == pre.to_dict() == stored
    assert again.feature_shape == pre.feature_shape and again.classes == pre.classes
    np.testing.assert_array_equal(again.transform_features(inputs), pre.transform_features(inputs))
    outputs = np.random.default_rng(0).normal(size=(7, len(pre.classes)))
    np.testing.assert_array_equal(
        again.decode_predictions(outputs), pre.decode_predictions(outputs)
    )


def test_round_trip_regression_targets(config) -> None:
    splits = load_splits(
        config("synthetic:regression", options={"n_samples": 100, "n_targets": 2}), "values", 0
    )
    pre = splits.preprocessor
    again = Preprocessor.from_dict(json.loads(json.dumps(pre.to_dict())))
    np.testing.assert_array_equal(
        again.decode_predictions(splits.y_test), pre.decode_predictions(splits.y_test)
    )
    assert again.n_outputs == 2


def test_target_scaling_can_be_turned_off(config) -> None:
    data = config("synthetic:regression", options={"n_samples": 100, "scale_target": False})
    splits = load_splits(data, "values", 0)
    assert splits.preprocessor.target.mean == [0.0]
    assert abs(splits.y_train).max() > 5  # raw make_regression targets


def test_unknown_preprocess_version_is_a_checkpoint_error() -> None:
    with raises_one_line(r"format version 3 .*found 99", CheckpointError):
        Preprocessor.from_dict({"version": 99})
