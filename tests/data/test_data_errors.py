"""One test per bad input: each raises DataError with one line naming what is wrong."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gradwise.config.schema import DataConfig
from gradwise.data import load_splits, read_input_file, read_source
from tests.data.conftest import raises_one_line


# ------------------------------------------------------------------------------ files
def test_missing_file(config, tmp_path: Path) -> None:
    with raises_one_line("file not found") as error:
        read_source(config(tmp_path / "nope.csv"))
    assert "nope.csv" in str(error.value)


def test_directory_named_like_a_csv(config, tmp_path: Path) -> None:
    (tmp_path / "x.csv").mkdir()
    with raises_one_line(r"x\.csv' is a directory, expected a CSV file"):
        read_source(config(tmp_path / "x.csv"))


def test_binary_garbage_as_csv(config, tmp_path: Path) -> None:
    path = tmp_path / "garbage.csv"
    path.write_bytes(bytes(range(256)) * 8)
    with raises_one_line("garbage.csv' looks like a binary file"):
        read_source(config(path))


def test_undecodable_csv(config, tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(b"a,b\n\xff\xfe,1\n")
    with raises_one_line("cannot read .*latin.csv' as CSV"):
        read_source(config(path))


def test_empty_csv(config, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with raises_one_line(r"empty\.csv' is empty \(0 bytes\)"):
        read_source(config(path))


def test_header_only_csv(config, tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("a,b,label\n")
    with raises_one_line("header.csv' has a header but no rows"):
        read_source(config(path, target="label"))


def test_garbage_parquet(config, tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    path.write_text("not parquet at all")
    with raises_one_line("cannot read .*bad.parquet' as Parquet"):
        read_source(config(path))


def test_unknown_extension(config, tmp_path: Path) -> None:
    path = tmp_path / "table.xlsx"
    path.write_text("whatever")
    with raises_one_line(r"unknown extension '\.xlsx'; expected \.csv"):
        read_source(config(path))


def test_path_without_file_or_extension(config, tmp_path: Path) -> None:
    with raises_one_line("no such file exists"):
        read_source(config(tmp_path / "data" / "table.feather"))


# ------------------------------------------------------------------------------ npz
@pytest.mark.parametrize(
    ("arrays", "missing"), [({"y": np.arange(3)}, "'x'"), ({"x": np.ones((3, 2))}, "'y'")]
)
def test_npz_without_x_or_y(config, tmp_path: Path, arrays, missing: str) -> None:
    path = tmp_path / "arrays.npz"
    np.savez(path, **arrays)
    with raises_one_line(f"must contain arrays 'x' and 'y'; missing {missing}"):
        read_source(config(path))


def test_npz_length_mismatch(config, tmp_path: Path) -> None:
    path = tmp_path / "arrays.npz"
    np.savez(path, x=np.ones((5, 2)), y=np.arange(4))
    with raises_one_line("'x' has 5 rows but 'y' has 4"):
        read_source(config(path))


def test_npz_with_pickled_objects(config, tmp_path: Path) -> None:
    path = tmp_path / "objects.npz"
    np.savez(path, x=np.array([{"a": 1}, None], dtype=object), y=np.arange(2))
    with raises_one_line("object arrays"):
        read_source(config(path))


def test_npz_test_split_shape_mismatch(config, tmp_path: Path) -> None:
    path = tmp_path / "arrays.npz"
    np.savez(path, x=np.ones((5, 3)), y=np.arange(5), x_test=np.ones((2, 4)), y_test=np.arange(2))
    with raises_one_line("'x_test' rows have shape"):
        read_source(config(path))


def test_npz_garbage(config, tmp_path: Path) -> None:
    path = tmp_path / "arrays.npz"
    path.write_text("no zip here")
    with raises_one_line("cannot read .*arrays.npz' as .npz"):
        read_source(config(path))


# ------------------------------------------------------------------------------ names
@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("mnist1e", r"unknown built-in dataset 'mnist1e' \(did you mean 'mnist1d'\?\)"),
        ("iris", r"did you mean 'sklearn:iris'"),
        ("sklearn:irsi", r"unknown scikit-learn dataset 'irsi' \(did you mean 'iris'\?\)"),
        ("synthetic:moon", r"unknown synthetic dataset 'moon' \(did you mean 'moons'\?\)"),
        ("sklern:iris", r"unknown source kind 'sklern:' \(did you mean 'sklearn'\?\)"),
        (
            "rdata:Ecdat/Hdmaa",
            r"unknown rdata dataset 'Ecdat/Hdmaa' \(did you mean 'Ecdat/Hdma'\?\)",
        ),
    ],
)
def test_unknown_names_suggest_the_closest(config, source: str, message: str) -> None:
    with raises_one_line(message):
        read_source(config(source))


def test_unknown_option_suggests_the_closest() -> None:
    # the config refuses it first (tests/data/test_data_options.py); a source read without the
    # config's check refuses it too
    unchecked = DataConfig.model_construct(source="synthetic:moons", options={"n_sample": 10})
    with raises_one_line(r"data.options.n_sample: unknown key \(did you mean 'n_samples'\?\)"):
        read_source(unchecked)


def test_bad_option_value(config) -> None:
    with raises_one_line("synthetic:signals rejected"):
        read_source(config("synthetic:signals", options={"n_classes": 9}))


# ------------------------------------------------------------------------------ columns
def test_target_column_missing_lists_columns(config, people_csv: Path) -> None:
    with raises_one_line(r"data.target: column 'boughtt' not found .*did you mean 'bought'") as e:
        load_splits(config(people_csv, target="boughtt"), "labels", 0)
    assert "columns: age, income, city, member, country, bought" in str(e.value)


def test_target_not_given_for_a_table(config, people_csv: Path) -> None:
    with raises_one_line("data.target: required .*columns: age, income"):
        load_splits(config(people_csv), "labels", 0)


def test_unknown_feature_column(config, people_csv: Path) -> None:
    with raises_one_line(r"data.features: column 'ages' not found .*did you mean 'age'"):
        load_splits(config(people_csv, target="bought", features=["ages"]), "labels", 0)


def test_non_numeric_regression_target(config, people_csv: Path) -> None:
    with raises_one_line(
        r"target 'city' must be numeric for regression, found '(Lyon|Paris|Nice)'"
    ):
        load_splits(config(people_csv, target="city"), "values", 0)


def test_single_class(config, tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    pd.DataFrame({"a": range(20), "label": ["cat"] * 20}).to_csv(path, index=False)
    with raises_one_line(r"target 'label': classification needs at least 2 classes.*'cat'"):
        load_splits(config(path, target="label"), "labels", 0)


def test_multi_target_classification_is_refused(config, people_csv: Path) -> None:
    with raises_one_line("classification takes one target column, found 2"):
        load_splits(config(people_csv, target=["bought", "city"]), "labels", 0)


def test_too_few_rows(config, tmp_path: Path) -> None:
    path = tmp_path / "tiny.csv"
    pd.DataFrame({"a": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 3.0]}).to_csv(path, index=False)
    with raises_one_line("has 3 rows, too few"):
        load_splits(config(path, target="y", valid=0.3, test=0.4), "values", 0)


def test_predict_input_missing_columns(config, people_csv: Path, people: pd.DataFrame) -> None:
    pre = load_splits(config(people_csv, target="bought"), "labels", 0).preprocessor
    with raises_one_line(r"missing column\(s\) 'income', 'city' used in training"):
        pre.transform_features(people.drop(columns=["income", "city"]))


def test_predict_input_unseen_categories_are_unknown(config, people_csv, people) -> None:
    pre = load_splits(config(people_csv, target="bought"), "labels", 0).preprocessor
    new = people.head(4).copy()
    new.loc[[0, 1, 2], "city"] = ["Brest", "Arles", "Brest"]
    with pytest.warns(UserWarning) as caught:
        encoded = pre.transform_features(new)
    (message,) = [str(w.message) for w in caught if "not seen in training" in str(w.message)]
    assert message == (
        "categories not seen in training, encoded as unknown: city: 'Arles', 'Brest' (3 rows)"
    )
    city = [i for i, name in enumerate(pre.feature_names) if name.startswith("city=")]
    assert (encoded[:3][:, city] == 0).all() and encoded[3, city].sum() == 1
    with raises_one_line(r"column 'city' has categories not seen in training: 'Arles', 'Brest'"):
        pre.transform_features(new, unseen="error")


def test_predict_input_text_in_numeric_column(config, people_csv, people: pd.DataFrame) -> None:
    pre = load_splits(config(people_csv, target="bought"), "labels", 0).preprocessor
    new = people.head(3).astype({"age": object})
    new.loc[1, "age"] = "forty"
    with raises_one_line("column 'age': expected numbers, found 'forty'"):
        pre.transform_features(new)


def test_predict_input_wrong_array_shape(config) -> None:
    pre = load_splits(
        config("synthetic:signals", options={"n_samples": 60}), "labels", 0
    ).preprocessor
    with raises_one_line(r"input rows have shape \(1, 32\), expected \(1, 64\)"):
        pre.transform_features(np.zeros((2, 1, 32)))


def test_unknown_label_at_evaluate(config, people_csv: Path) -> None:
    pre = load_splits(config(people_csv, target="bought"), "labels", 0).preprocessor
    with raises_one_line(r"target 'bought' has labels not seen in training: 'maybe'"):
        pre.encode_target(np.array(["yes", "maybe"], dtype=object))


def test_read_input_file_errors_like_sources(tmp_path: Path) -> None:
    with raises_one_line("file not found"):
        read_input_file(tmp_path / "new.csv")
    with raises_one_line("unknown extension"):
        (tmp_path / "new.txt").write_text("a")
        read_input_file(tmp_path / "new.txt")
