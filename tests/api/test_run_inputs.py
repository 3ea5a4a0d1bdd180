"""Everything the API takes as data: a path, a DataFrame, a mapping (one row or columns), a list of
mappings, an array in training column order; ``run.classes``; warnings that point at the caller."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gradwise
from gradwise.data import Preprocessor, load_splits
from gradwise.errors import DataError
from tests.conftest import run_python, tiny_config


def people(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    color = rng.choice(["red", "green", "blue"], size=n)
    label = np.where(x1 + 0.5 * x2 + (color == "red") > 0.3, "yes", "no")
    return pd.DataFrame({"x1": x1, "x2": x2, "color": color, "label": label})


@pytest.fixture(scope="module")
def table_run(tmp_path_factory: pytest.TempPathFactory) -> gradwise.Run:
    folder = tmp_path_factory.mktemp("table")
    people(240, 0).to_csv(folder / "train.csv", index=False)
    config = tiny_config(str(folder / "train.csv"), data={"target": "label"})
    return gradwise.train(config, out=folder / "runs")


@pytest.fixture(scope="module")
def signal_run(tmp_path_factory: pytest.TempPathFactory) -> gradwise.Run:
    source = {"source": "synthetic:signals", "options": {"n_samples": 120, "length": 16}}
    config = tiny_config("synthetic:signals", data=source, train={"epochs": 1})
    return gradwise.train(config, out=tmp_path_factory.mktemp("signals"))


@pytest.fixture
def new_rows() -> pd.DataFrame:
    return people(12, 1)


def test_evaluate_takes_a_dataframe_holding_the_target(table_run, new_rows, tmp_path: Path):
    new_rows.to_csv(tmp_path / "new.csv", index=False)
    from_frame = table_run.evaluate(new_rows)
    assert from_frame == table_run.evaluate(tmp_path / "new.csv")
    predicted = table_run.predict(new_rows)
    assert from_frame["accuracy"] == pytest.approx((predicted == new_rows["label"]).mean())
    # the same rows as mappings, and as an array with the labels as y
    assert table_run.evaluate(new_rows.to_dict("records")) == from_frame
    features = new_rows.drop(columns="label")
    assert table_run.evaluate(features.to_numpy(dtype=object), y=new_rows["label"]) == from_frame


def test_evaluate_without_labels_says_how_to_give_them(table_run, new_rows):
    with pytest.raises(DataError, match=r"^DataFrame: no target 'label' .*give the labels as y"):
        table_run.evaluate(new_rows.drop(columns="label"))
    with pytest.raises(DataError, match="12 input rows but 3 labels"):
        table_run.evaluate(new_rows, y=["yes", "no", "yes"])


def test_predict_takes_every_form_of_rows(table_run, new_rows):
    features = new_rows.drop(columns="label")
    expected = table_run.predict(features)
    assert table_run.feature_columns == ["x1", "x2", "color"]
    forms = {
        "list of mappings": features.to_dict("records"),
        "columns": features.to_dict("list"),
        "object array": features.to_numpy(dtype=object),
        "columns reordered": features[["color", "x2", "x1"]],
        "extra target column": new_rows,
    }
    for name, rows in forms.items():
        np.testing.assert_array_equal(table_run.predict(rows), expected, err_msg=name)
    one_row = features.iloc[3]
    for rows in (one_row.to_dict(), one_row, one_row.to_numpy(dtype=object)):
        np.testing.assert_array_equal(table_run.predict(rows), expected[3:4])
    proba = table_run.predict_proba(features.to_dict("records"))
    np.testing.assert_allclose(proba, table_run.predict_proba(features))


def test_an_array_of_numbers_for_a_numeric_table(tmp_path: Path):
    frame = people(200, 2).drop(columns="color")
    frame.to_csv(tmp_path / "numbers.csv", index=False)
    run = gradwise.train(
        tiny_config(str(tmp_path / "numbers.csv"), data={"target": "label"}, train={"epochs": 1}),
        out=tmp_path / "runs",
    )
    features = frame.drop(columns="label")
    np.testing.assert_array_equal(run.predict(features.to_numpy()), run.predict(features))


def test_classes_are_the_predict_proba_columns(table_run, new_rows):
    assert table_run.classes == ["no", "yes"]
    proba = table_run.predict_proba(new_rows)
    labels = np.asarray(table_run.classes)[proba.argmax(axis=1)]
    np.testing.assert_array_equal(labels, table_run.predict(new_rows))


def test_classes_of_a_regression_run_is_none(regression_csv: Path, tmp_path: Path):
    config = tiny_config(
        str(regression_csv), task="regression", data={"target": "price"}, train={"epochs": 1}
    )
    run = gradwise.train(config, out=tmp_path)
    assert run.classes is None
    # its test split read again (a plain split) gives the summary's numbers
    again = gradwise.Run(run.path).evaluate()
    assert again["rmse"] == pytest.approx(run.summary["test"]["rmse"], rel=1e-6)


def test_evaluate_reads_the_test_split_without_refitting(table_run, monkeypatch):
    splits = load_splits(table_run.config.data, "labels", table_run.config.seed)
    fresh = gradwise.Run(table_run.path)

    def refit(*args, **kwargs):
        raise AssertionError("the run's preprocessing was fitted again")

    monkeypatch.setattr(Preprocessor, "fit", refit)
    outputs, y_test = fresh.test_outputs()
    np.testing.assert_array_equal(y_test, splits.y_test)
    np.testing.assert_array_equal(outputs, fresh.model_outputs(splits.x_test))
    accuracy = fresh.evaluate()["accuracy"]
    assert accuracy == pytest.approx(table_run.summary["test"]["accuracy"])


def test_array_runs_take_full_and_flattened_arrays(signal_run):
    x = np.random.default_rng(0).normal(size=(5, 1, 16))
    expected = signal_run.predict(x)
    np.testing.assert_array_equal(signal_run.predict(x.reshape(5, 16)), expected)
    np.testing.assert_array_equal(signal_run.predict(list(x)), expected)
    np.testing.assert_array_equal(signal_run.predict(x[2]), expected[2:3])
    np.testing.assert_array_equal(signal_run.predict(x[2].ravel()), expected[2:3])
    assert signal_run.feature_columns is None
    with pytest.raises(DataError, match=r"input rows have shape \(15,\), expected \(1, 16\)"):
        signal_run.predict(x.reshape(5, 16)[:, :15])


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (3.5, r"^inputs: got float; expected a file path \(CSV/Parquet/NPZ"),
        (b"x1,x2", r"^inputs: got bytes; expected .* or a NumPy array$"),
        (
            np.zeros((2, 4)),
            r"^inputs: an array for this run has shape \(n, 3\), one column per "
            r"training input column in order \(x1, x2, color\); got shape \(2, 4\)$",
        ),
        ([], r"^inputs: the list has no rows$"),
        ({"x1": [1.0, 2.0], "x2": [1.0]}, r"^inputs: cannot read the mapping as columns"),
    ],
)
def test_anything_else_is_one_line_naming_what_was_received(table_run, rows, message):
    with pytest.raises(DataError, match=message) as info:
        table_run.predict(rows)
    assert "\n" not in str(info.value)


def test_preprocessor_helpers_take_frames_and_mappings(table_run, new_rows):
    pre = table_run.preprocessor
    np.testing.assert_array_equal(
        pre.targets_of(new_rows.to_dict("records")), new_rows["label"].to_numpy()
    )
    assert pre.targets_of(new_rows.drop(columns="label").to_numpy(dtype=object)) is None
    np.testing.assert_array_equal(
        pre.transform_features(new_rows.to_dict("list")), pre.transform_features(new_rows)
    )


def test_warnings_point_at_the_callers_line(table_run, new_rows, tmp_path: Path):
    gaps = new_rows.drop(columns="label")
    gaps.loc[[0, 4], "x2"] = np.nan
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table_run.predict(gaps)
    (warning,) = caught
    assert "imputed missing values in column(s) x2" in str(warning.message)
    assert (warning.filename, warning.lineno) == (__file__, _line_of("table_run.predict(gaps)"))

    # while training too: the rows dropped for a missing target, the imputed columns
    frame = people(120, 3)
    frame.loc[[1, 7], "x1"] = np.nan
    frame.loc[[2], "label"] = None
    frame.to_csv(tmp_path / "gaps.csv", index=False)
    config = tiny_config(str(tmp_path / "gaps.csv"), data={"target": "label"}, train={"epochs": 1})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gradwise.train(config, out=tmp_path / "runs")
    messages = {
        str(w.message).split(":")[1].split()[0]: w for w in caught if "gaps.csv" in str(w.message)
    }
    assert set(messages) == {"dropped", "imputed"}, [str(w.message) for w in caught]
    for warning in messages.values():
        assert warning.filename == __file__


def _line_of(code: str) -> int:
    """The line of this file holding ``code`` (once)."""
    lines = Path(__file__).read_text(encoding="utf-8").splitlines()
    (number,) = [i for i, line in enumerate(lines, start=1) if line.strip() == code]
    return number


def test_a_bundled_scikit_learn_set_is_read_again_without_importing_it(tmp_path: Path):
    """``gradwise evaluate RUN`` re-reads the test split; for ``sklearn:NAME`` that cost an
    import of scikit-learn (most of a second) every time."""
    script = (
        "import sys; from gradwise.data.builtin import read_sklearn; "
        "raw = read_sklearn('iris', {}, 0); "
        "raw.table.to_csv(sys.argv[1], index=False); print('sklearn' in sys.modules)"
    )
    env = {**os.environ, "GRADWISE_CACHE_DIR": str(tmp_path / "cache")}
    first = run_python("-c", script, str(tmp_path / "first.csv"), env=env)
    again = run_python("-c", script, str(tmp_path / "again.csv"), env=env)
    assert (first.stdout, again.stdout) == ("True\n", "False\n"), first.stderr + again.stderr
    assert (tmp_path / "first.csv").read_text() == (tmp_path / "again.csv").read_text()


def test_a_flat_array_for_a_one_column_table_is_one_value_per_row(tmp_path: Path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=120)
    pd.DataFrame({"x": x, "label": np.where(x > 0, "up", "down")}).to_csv(
        tmp_path / "one.csv", index=False
    )
    run = gradwise.train(
        tiny_config(str(tmp_path / "one.csv"), data={"target": "label"}, train={"epochs": 1}),
        out=tmp_path / "runs",
    )
    values = np.array([-2.0, 0.5, 3.0])
    predicted = run.predict(values)
    assert len(predicted) == 3
    np.testing.assert_array_equal(predicted, run.predict(pd.DataFrame({"x": values})))


def test_evaluate_loss_uses_the_class_weights_training_used_after_resampling(tmp_path: Path):
    config = tiny_config(
        "synthetic:classification",
        data={
            "source": "synthetic:classification",
            "options": {"n_samples": 300, "weights": [0.8, 0.2]},
            "sampling": "oversample",
        },
        train={"epochs": 2, "class_weights": "balanced"},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = gradwise.train(config, out=tmp_path)
    assert run.evaluate()["loss"] == pytest.approx(run.summary["test"]["loss"], rel=1e-5)
