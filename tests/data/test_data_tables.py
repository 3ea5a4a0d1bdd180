"""Tables: column selection, imputation with training statistics, one-hot encoding, targets."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gradwise.data import load_splits, read_input_file


def with_gaps(people: pd.DataFrame) -> pd.DataFrame:
    table = people.copy()
    table.loc[[3, 10, 25, 40], "income"] = np.nan
    table.loc[[5, 33], "city"] = None
    return table


def test_imputation_uses_training_medians_and_modes(config, tmp_path, people) -> None:
    table = with_gaps(people)
    path = tmp_path / "gaps.csv"
    table.to_csv(path, index=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        splits = load_splits(config(path, target="bought", scale="none"), "labels", 3)
    imputation = [w for w in caught if "imputed" in str(w.message)]
    assert len(imputation) == 1  # one warning naming every imputed column
    assert "income (4)" in str(imputation[0].message)
    assert "city (2)" in str(imputation[0].message)

    pre = splits.preprocessor
    specs = {spec["name"]: spec for spec in pre.columns}
    # oracle: statistics of the training rows only, recomputed with pandas
    train_rows = pd.read_csv(path).iloc[splits.indices["train"]]
    assert len(train_rows) == len(splits.x_train)
    assert specs["income"]["fill"] == pytest.approx(train_rows["income"].median())
    assert specs["city"]["fill"] == train_rows["city"].mode().iloc[0]
    assert specs["income"]["fill"] != pytest.approx(table["income"].median())  # not whole-data

    gaps = pd.DataFrame({"age": [np.nan], "income": [np.nan], "city": [None], "member": [True]})
    encoded = pre.transform_features(gaps, warn_missing=False)
    names = pre.feature_names
    assert encoded[0, names.index("income")] == pytest.approx(specs["income"]["fill"])
    assert encoded[0, names.index("age")] == pytest.approx(specs["age"]["fill"])
    assert encoded[0, names.index(f"city={specs['city']['fill']}")] == 1.0


def test_profile_counts_missing_values_before_imputation(config, tmp_path, people) -> None:
    path = tmp_path / "gaps.csv"
    with_gaps(people).to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        profile = load_splits(config(path, target="bought"), "labels", 0).profile
    assert profile["missing_values"] == {"income": 4, "city": 2}


def test_one_hot_and_constant_columns(config, people_csv, people) -> None:
    splits = load_splits(config(people_csv, target="bought"), "labels", 0)
    pre = splits.preprocessor
    assert pre.dropped_columns == ["country"]  # a single value carries no information
    assert pre.feature_names == [
        "age",
        "income",
        "city=Lyon",
        "city=Nice",
        "city=Paris",
        "member=False",
        "member=True",
    ]
    assert splits.x_train.shape == (len(splits.y_train), 7)
    assert splits.x_train.dtype == np.float32
    one_hot = splits.x_train[:, 2:5]
    assert set(np.unique(one_hot)) == {0.0, 1.0}  # one-hot columns are not scaled
    assert (one_hot.sum(axis=1) == 1).all()
    assert splits.profile["numeric_columns"] == ["age", "income"]
    assert splits.profile["categorical_columns"] == ["city", "member"]


def test_features_selects_columns(config, people_csv) -> None:
    splits = load_splits(config(people_csv, target="bought", features=["age", "city"]), "labels", 0)
    assert splits.preprocessor.feature_names == ["age", "city=Lyon", "city=Nice", "city=Paris"]


def test_class_labels_are_sorted_training_labels(config, people_csv, people) -> None:
    splits = load_splits(config(people_csv, target="bought"), "labels", 0)
    pre = splits.preprocessor
    assert pre.classes == ["no", "yes"]
    assert splits.y_train.dtype == np.int64
    labels = pre.decode_predictions(splits.y_valid)
    assert list(pre.encode_target(labels)) == list(splits.y_valid)
    scores = np.array([[2.0, -1.0], [0.1, 0.3]])  # (n, classes)
    assert list(pre.decode_predictions(scores)) == ["no", "yes"]


def test_regression_target_is_standardized_on_train(config, tmp_path) -> None:
    rng = np.random.default_rng(1)
    table = pd.DataFrame({"a": rng.normal(size=80), "b": rng.normal(size=80)})
    table["y"] = 100 + 20 * table["a"] + rng.normal(size=80)
    path = tmp_path / "reg.parquet"
    table.to_parquet(path)
    splits = load_splits(config(path, target="y"), "values", 0)
    assert splits.y_train.dtype == np.float32 and splits.y_train.shape == (len(splits.x_train),)
    assert splits.y_train.mean() == pytest.approx(0.0, abs=1e-5)
    assert splits.y_train.std() == pytest.approx(1.0, abs=1e-5)
    decoded = splits.preprocessor.decode_predictions(splits.y_test)
    original = splits.preprocessor.target.mean[0] + splits.preprocessor.target.std[0] * (
        splits.y_test.astype(np.float64)
    )
    np.testing.assert_allclose(decoded, original)
    np.testing.assert_allclose(decoded, table["y"].to_numpy()[splits.indices["test"]], rtol=1e-5)
    train_y = table["y"].to_numpy()[splits.indices["train"]]  # oracle: train rows only
    assert splits.preprocessor.target.mean[0] == pytest.approx(train_y.mean())
    assert splits.preprocessor.target.std[0] == pytest.approx(train_y.std())


def test_multi_target_regression(config, tmp_path) -> None:
    rng = np.random.default_rng(2)
    table = pd.DataFrame(
        {"a": rng.normal(size=50), "t1": rng.normal(5, 2, 50), "t2": rng.normal(-3, 9, 50)}
    )
    path = tmp_path / "multi.csv"
    table.to_csv(path, index=False)
    splits = load_splits(config(path, target=["t1", "t2"]), "values", 0)
    assert splits.y_train.shape == (len(splits.x_train), 2)
    assert splits.preprocessor.n_outputs == 2
    np.testing.assert_allclose(splits.y_train.mean(axis=0), 0.0, atol=1e-5)
    back = splits.preprocessor.decode_predictions(splits.y_valid)
    assert back.shape == (len(splits.y_valid), 2)


def test_missing_targets_are_dropped_with_a_warning(config, tmp_path, people) -> None:
    table = people.copy()
    table.loc[[0, 1, 2], "bought"] = None
    path = tmp_path / "t.csv"
    table.to_csv(path, index=False)
    with pytest.warns(UserWarning, match=r"dropped 3 row\(s\) with a missing target"):
        splits = load_splits(config(path, target="bought"), "labels", 0)
    assert splits.profile["rows"] == len(table) - 3
    assert splits.profile["rows_dropped_missing_target"] == 3


def test_predict_file_goes_through_the_training_encoding(config, people_csv, tmp_path) -> None:
    splits = load_splits(config(people_csv, target="bought"), "labels", 0)
    pre = splits.preprocessor
    new = tmp_path / "new.csv"
    pd.read_csv(people_csv).drop(columns=["bought", "country"]).head(5).to_csv(new, index=False)
    x = pre.transform_features(read_input_file(new))
    assert x.shape == (5, *pre.feature_shape)
    assert pre.targets_of(read_input_file(new)) is None
    assert list(pre.targets_of(read_input_file(people_csv))[:3]) == list(
        pd.read_csv(people_csv)["bought"][:3]
    )


def test_imputation_at_predict_time_warns(config, people_csv, people) -> None:
    pre = load_splits(config(people_csv, target="bought"), "labels", 0).preprocessor
    new = people.head(3).copy()
    new.loc[0, "age"] = np.nan
    with pytest.warns(UserWarning, match=r"imputed missing values in column\(s\) age"):
        pre.transform_features(new)


def test_numeric_labels_stay_numbers(config, tmp_path: Path) -> None:
    table = pd.DataFrame({"a": np.arange(30.0), "label": [3, 1, 2] * 10})
    path = tmp_path / "n.csv"
    table.to_csv(path, index=False)
    pre = load_splits(config(path, target="label"), "labels", 0).preprocessor
    assert pre.classes == [1, 2, 3]
    assert list(pre.decode_predictions(np.array([0, 2]))) == [1, 3]


def test_identifier_columns_are_left_out_unless_features_name_them(config, tmp_path) -> None:
    table = pd.DataFrame({"id": [f"u{i}" for i in range(150)], "a": np.arange(150.0)})
    table["label"] = ["x", "y", "z"] * 50
    path = tmp_path / "ids.csv"
    table.to_csv(path, index=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        splits = load_splits(config(path, target="label"), "labels", 0)
    messages = [str(w.message) for w in caught]
    assert any("left out 'id' (identifier: 150 distinct values in 150 rows)" in m for m in messages)
    assert splits.profile["left_out_columns"] == {
        "id": "identifier: 150 distinct values in 150 rows"
    }
    assert splits.preprocessor.feature_names == ["a"]

    # named in data.features, it is kept: one-hot, unseen ids all-zero, said once per split
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        splits = load_splits(config(path, target="label", features=["id", "a"]), "labels", 0)
    messages = [str(w.message) for w in caught]
    assert any("column 'id' has 105 categories" in m for m in messages)
    assert sum("categories not seen in training" in m for m in messages) == 2
    id_block = [i for i, n in enumerate(splits.preprocessor.feature_names) if n.startswith("id=")]
    assert splits.x_test[:, id_block].sum() == 0
    assert (splits.x_train[:, id_block].sum(axis=1) == 1).all()
