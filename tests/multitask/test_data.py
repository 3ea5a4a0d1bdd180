"""Several targets in the data layer: kinds, encoding, the split, preprocess.json both ways."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gradwise.config import load_config
from gradwise.data import Preprocessor, load_splits
from gradwise.data.kinds import MULTI
from gradwise.data.targets import MultiTargetEncoder
from gradwise.errors import DataError


def data_section(source: Path | str, target) -> object:
    return load_config({"data": {"source": str(source), "target": target}}).data


def test_a_list_infers_each_kind_and_a_mapping_sets_it(diamonds_csv: Path):
    splits = load_splits(data_section(diamonds_csv, ["price", "cut"]), MULTI, seed=0)
    target = splits.preprocessor.target
    assert isinstance(target, MultiTargetEncoder)
    assert target.kinds == {"price": "values", "cut": "labels"}
    assert target.widths == [1, 3]  # one value, three classes
    assert target.parts[1].classes == ["Fair", "Good", "Ideal"]
    assert "price" not in splits.preprocessor.input_columns
    assert "cut" not in splits.preprocessor.input_columns
    # the mapping decides: the colour letters as classes, cut as classes too
    mapped = data_section(diamonds_csv, {"colour": "classification", "price": "regression"})
    kinds = load_splits(mapped, MULTI, seed=0).preprocessor.target.kinds
    assert kinds == {"colour": "labels", "price": "values"}


def test_targets_are_encoded_per_column_and_decoded_back(diamonds_csv: Path):
    splits = load_splits(data_section(diamonds_csv, ["price", "cut"]), MULTI, seed=0)
    y = splits.y_train
    assert y.dtype == np.float32 and y.shape == (len(splits.x_train), 2)
    target = splits.preprocessor.target
    # price standardized on the training split; cut as class indices
    assert abs(float(y[:, 0].mean())) < 1e-4 and float(y[:, 0].std()) == pytest.approx(1, abs=1e-3)
    assert set(np.unique(y[:, 1])) == {0.0, 1.0, 2.0}
    decoded = target.decode_targets(y)
    assert list(decoded.columns) == ["price", "cut"]
    assert set(decoded["cut"]) == {"Fair", "Good", "Ideal"}
    # model outputs (n, 1 + 3) decode to one column per target
    outputs = np.zeros((2, 4))
    outputs[:, 0] = [0.0, 1.0]
    outputs[1, 3] = 5.0  # second row: Ideal
    frame = target.decode(outputs)
    assert frame["price"].tolist() == pytest.approx(
        [target.parts[0].mean[0], target.parts[0].mean[0] + target.parts[0].std[0]]
    )
    assert frame["cut"].tolist() == ["Fair", "Ideal"]


def test_the_split_is_stratified_by_the_classification_target(diamonds_csv: Path):
    splits = load_splits(data_section(diamonds_csv, ["price", "cut"]), MULTI, seed=3)
    assert splits.profile["stratified"] is True
    shares = [
        np.bincount(y[:, 1].astype(int), minlength=3) / len(y)
        for y in (splits.y_train, splits.y_test)
    ]
    assert np.abs(shares[0] - shares[1]).max() < 0.05
    columns = splits.profile["target_columns"]
    assert columns["price"] == {"kind": "values"}
    assert sum(columns["cut"]["class_counts"]["train"]) == len(splits.y_train)


def test_preprocess_json_round_trip_and_older_files_still_load(diamonds_csv: Path):
    pre = load_splits(data_section(diamonds_csv, ["price", "cut"]), MULTI, seed=0).preprocessor
    stored = json.loads(json.dumps(pre.to_dict()))
    assert stored["targets"] == "multi"
    again = Preprocessor.from_dict(stored)
    assert again.target.kinds == pre.target.kinds
    assert again.target.parts[0].mean == pre.target.parts[0].mean
    assert again.encode_target(np.array([[1000.0, "Good"]], dtype=object)).tolist() == (
        pre.encode_target(np.array([[1000.0, "Good"]], dtype=object)).tolist()
    )
    # a single-target file of the first format (a task name, no target kind) still reads
    older = {
        "version": 1,
        "task": "classification",
        "feature_shape": [2],
        "input_kind": "tabular",
        "scale": "standard",
        "target": {
            "names": ["cut"],
            "classes": ["Fair", "Good"],
            "mean": None,
            "std": None,
            "width": 1,
        },
        "columns": None,
        "dropped_columns": [],
        "offset": [0.0, 0.0],
        "factor": [1.0, 1.0],
    }
    assert Preprocessor.from_dict(older).target_kind == "labels"


def test_an_unknown_target_column_names_it(diamonds_csv: Path):
    with pytest.raises(DataError, match=r"data\.target: column 'prize' not found .*'price'"):
        load_splits(data_section(diamonds_csv, ["prize", "cut"]), MULTI, seed=0)


def test_several_targets_need_a_table(tmp_path: Path):
    arrays = tmp_path / "arrays.npz"
    np.savez(arrays, x=np.zeros((40, 3)), y=np.zeros((40, 2)))
    with pytest.raises(DataError, match=r"several targets need a table .*'.*arrays\.npz' holds"):
        load_splits(data_section(arrays, ["a", "b"]), MULTI, seed=0)


def test_a_classification_target_with_one_class_is_refused(tmp_path: Path, diamonds_csv: Path):
    import pandas as pd

    table = pd.read_csv(diamonds_csv).assign(cut="Ideal")
    path = tmp_path / "one.csv"
    table.to_csv(path, index=False)
    with pytest.raises(DataError, match="target 'cut': classification needs at least 2 classes"):
        load_splits(data_section(path, {"price": "regression", "cut": "classification"}), MULTI, 0)
