"""Target kinds: features only (``target_kind=None``), and preprocess.json from before kinds."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from gradwise.data import Preprocessor, RawData, load_splits
from gradwise.data.targets import TargetEncoder
from gradwise.errors import CheckpointError
from tests.data.conftest import raises_one_line


def test_array_source_ignores_y_without_targets(config, tmp_path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(loc=3.0, scale=2.0, size=(80, 5))
    y = np.array([0] * 70 + [1] * 10)  # would be stratified for labels
    np.savez(tmp_path / "a.npz", x=x, y=y)
    splits = load_splits(config(tmp_path / "a.npz"), None, 0)
    assert splits.y_train is None and splits.y_valid is None and splits.y_test is None
    pre = splits.preprocessor
    assert pre.target is None and pre.target_kind is None and pre.classes is None
    assert pre.n_outputs == 0
    # oracle: the source rows of each split, standardized with the training rows' statistics
    train = x.astype(np.float32).astype(np.float64)[splits.indices["train"]]
    expected = (train - train.mean(axis=0)) / train.std(axis=0)
    np.testing.assert_allclose(splits.x_train, expected, rtol=1e-5, atol=1e-5)
    every_row = np.concatenate([splits.indices[name] for name in ("train", "valid", "test")])
    assert sorted(every_row) == list(range(80))


def test_split_without_targets_is_the_plain_split(config, tmp_path) -> None:
    x = np.random.default_rng(1).normal(size=(60, 3))
    np.savez(tmp_path / "a.npz", x=x, y=np.arange(60) % 3)
    unlabelled = load_splits(config(tmp_path / "a.npz"), None, 5)
    values = load_splits(config(tmp_path / "a.npz"), "values", 5)  # also unstratified
    for name in ("train", "valid", "test"):
        np.testing.assert_array_equal(unlabelled.indices[name], values.indices[name])
    assert unlabelled.profile["stratified"] is False


def test_table_target_column_is_never_an_input(config, people_csv) -> None:
    splits = load_splits(config(people_csv, target="bought"), None, 0)
    names = splits.preprocessor.feature_names
    assert not any(name.startswith("bought") for name in names)
    assert "age" in names and splits.y_train is None
    assert splits.x_train.shape[1] == len(names)


def test_default_target_of_a_source_is_left_out_without_targets(config) -> None:
    splits = load_splits(config("sklearn:iris"), None, 0)
    assert splits.x_train.shape[1] == 4  # the four measurements, not the species
    assert "target" not in splits.preprocessor.feature_names


def test_table_without_a_target_uses_every_column(config, tmp_path) -> None:
    table = pd.DataFrame({"a": np.arange(30.0), "b": np.arange(30.0) ** 2})
    table.to_csv(tmp_path / "t.csv", index=False)
    splits = load_splits(config(tmp_path / "t.csv"), None, 0)
    assert splits.preprocessor.feature_names == ["a", "b"]
    with raises_one_line(r"data\.target: required"):
        load_splits(config(tmp_path / "t.csv"), "values", 0)


def test_missing_targets_drop_no_rows_without_targets(config, people, tmp_path) -> None:
    people.loc[:4, "bought"] = np.nan
    people.to_csv(tmp_path / "p.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "dropped rows with a missing target"
        splits = load_splits(config(tmp_path / "p.csv", target="bought"), None, 0)
    assert splits.profile["rows"] == len(people)
    assert splits.profile["rows_dropped_missing_target"] == 0
    with pytest.warns(UserWarning, match="dropped 5 row"):
        load_splits(config(tmp_path / "p.csv", target="bought"), "labels", 0)


def test_profile_without_targets_has_no_classes(config, people_csv) -> None:
    profile = load_splits(config(people_csv, target="bought"), None, 0).profile
    assert profile["targets"] is None and profile["target"] is None
    assert profile["stratified"] is False
    assert not {"classes", "class_counts", "imbalance_ratio"} & set(profile)
    assert sum(profile["splits"].values()) == profile["rows"] == 60
    json.dumps(profile)
    labelled = load_splits(config(people_csv, target="bought"), "labels", 0).profile
    assert labelled["targets"] == "labels" and labelled["classes"] == ["no", "yes"]


@pytest.mark.parametrize("kind", ["table", "array"])
def test_round_trip_without_targets(config, people_csv, tmp_path, kind: str) -> None:
    if kind == "table":
        splits = load_splits(config(people_csv, target="bought"), None, 0)
        inputs = pd.read_csv(people_csv)
    else:
        inputs = np.random.default_rng(0).normal(size=(40, 2, 8))
        np.savez(tmp_path / "s.npz", x=inputs, y=np.zeros(40))
        splits = load_splits(config(tmp_path / "s.npz"), None, 0)
    pre = splits.preprocessor
    stored = json.loads(json.dumps(pre.to_dict()))  # what preprocess.json holds
    assert stored["targets"] is None and stored["target"] is None and "task" not in stored
    again = Preprocessor.from_dict(stored)
    assert again.to_dict() == stored and again.target is None
    np.testing.assert_array_equal(again.transform_features(inputs), pre.transform_features(inputs))
    read = RawData("t", table=inputs) if kind == "table" else RawData("a", x=inputs, y=inputs[:, 0])
    assert again.targets_of(read) is None  # nothing to evaluate against


def test_target_methods_without_targets_raise_a_clear_error(config, people_csv) -> None:
    pre = load_splits(config(people_csv, target="bought"), None, 0).preprocessor
    with raises_one_line(r"cannot encode targets: .*fitted without targets"):
        pre.encode_target(["yes", "no"])
    with raises_one_line(r"cannot decode predictions: .*fitted without targets"):
        pre.decode_predictions(np.zeros((2, 2)))


def test_unknown_target_kind_is_a_data_error() -> None:
    with raises_one_line("targets: expected one of 'labels', 'values' or None"):
        TargetEncoder.fit(np.array([1, 2, 3]), "label")
    with raises_one_line("'labels' needs target values"):
        Preprocessor.fit(np.zeros((4, 2)), target_kind="labels")


# preprocess.json as written before target kinds (format version 1): a task name, no "targets"
OLD_LABELS = {
    "version": 1,
    "task": "classification",
    "feature_shape": [2],
    "input_kind": "tabular",
    "scale": "standard",
    "target": {
        "task": "classification",
        "names": None,
        "classes": ["no", "yes"],
        "mean": None,
        "std": None,
        "width": 1,
    },
    "columns": None,
    "dropped_columns": [],
    "offset": [1.0, 2.0],
    "factor": [2.0, 4.0],
}
OLD_VALUES = {
    **OLD_LABELS,
    "task": "regression",
    "target": {
        "task": "regression",
        "names": None,
        "classes": None,
        "mean": [10.0],
        "std": [5.0],
        "width": 1,
    },
}


def test_old_preprocess_json_with_labels_still_loads() -> None:
    pre = Preprocessor.from_dict(json.loads(json.dumps(OLD_LABELS)))
    assert pre.target_kind == "labels" and pre.classes == ["no", "yes"]
    np.testing.assert_allclose(pre.transform_features(np.array([[3.0, 6.0]])), [[1.0, 1.0]])
    assert pre.decode_predictions(np.array([[0.1, 0.9], [2.0, -1.0]])).tolist() == ["yes", "no"]
    rewritten = pre.to_dict()  # saved again in the current format
    assert rewritten["version"] == 3 and rewritten["targets"] == "labels"
    assert "task" not in rewritten and "task" not in rewritten["target"]
    assert Preprocessor.from_dict(rewritten).to_dict() == rewritten


def test_old_preprocess_json_with_values_still_loads() -> None:
    pre = Preprocessor.from_dict(OLD_VALUES)
    assert pre.target_kind == "values" and pre.classes is None
    np.testing.assert_allclose(pre.decode_predictions(np.array([0.0, 1.0, -2.0])), [10, 15, 0])
    np.testing.assert_allclose(pre.encode_target([15.0]), [1.0])


def test_preprocess_json_whose_kind_contradicts_its_encoder_is_rejected() -> None:
    stored = Preprocessor.from_dict(OLD_VALUES).to_dict()
    stored["targets"] = "labels"
    with raises_one_line(r"'targets' is 'labels' but .* for 'values'", CheckpointError):
        Preprocessor.from_dict(stored)
