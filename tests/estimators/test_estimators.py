"""gradwise's estimators inside scikit-learn: pipelines, searches, cloning, pickling, tables,
partial_fit, config merging, every model kind, and an oracle against least squares."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.base import clone
from sklearn.datasets import load_iris, make_regression
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from gradwise.config.models import MODEL_CONFIGS
from gradwise.sklearn import InputError, NeuralClassifier, NeuralRegressor, ParameterError

FAST = {"hidden": (16,), "epochs": 10, "lr": 1e-2, "batch_size": 32, "device": "cpu"}
# rows of 16 values read as each model kind expects them (others take the flat rows)
INPUT_SHAPES = {"cnn2d": (1, 4, 4), "cnn1d": (1, 16), "rnn": (1, 16)}
KIND_OPTIONS = {
    "cnn1d": {"model.channels": [4, 4]},
    "cnn2d": {"model.channels": [4, 4]},
    "rnn": {"model.hidden_size": 8},
}


@pytest.fixture(scope="module")
def iris() -> tuple[np.ndarray, np.ndarray]:
    data = load_iris()
    return data.data, data.target_names[data.target]  # string labels


def test_pipeline_grid_search_and_cross_validation(iris) -> None:
    x, y = iris
    pipe = make_pipeline(StandardScaler(), NeuralClassifier(random_state=0, **FAST))
    search = GridSearchCV(pipe, {"neuralclassifier__lr": [1e-3, 3e-2]}, cv=3).fit(x, y)
    assert search.best_params_ == {"neuralclassifier__lr": 3e-2}  # 10 epochs: the larger step
    scores = cross_val_score(NeuralClassifier(random_state=0, **{**FAST, "lr": 3e-2}), x, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.8
    assert list(search.best_estimator_[-1].classes_) == ["setosa", "versicolor", "virginica"]


def test_clone_keeps_parameters_and_pickle_predicts_the_same(iris) -> None:
    x, y = iris
    model = NeuralClassifier("mlp", options={"train.grad_clip": 1.0}, random_state=3, **FAST)
    copy = clone(model)
    assert copy.get_params() == model.get_params() and not hasattr(copy, "module_")
    model.fit(x, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(x), model.predict_proba(x))
    assert restored.config_.train.grad_clip == 1.0


def test_fit_is_reproducible_with_random_state(iris) -> None:
    x, y = iris
    first = NeuralClassifier(random_state=7, **FAST).fit(x, y).predict_proba(x)
    again = NeuralClassifier(random_state=7, **FAST).fit(x, y).predict_proba(x)
    other = NeuralClassifier(random_state=8, **FAST).fit(x, y).predict_proba(x)
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - other).max() > 1e-4


def test_dataframe_inputs_names_and_categories() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"size": rng.normal(size=200), "colour": rng.choice(["red", "blue"], size=200)}
    )
    y = np.where((frame["colour"] == "red") ^ (frame["size"] > 0), "a", "b")
    model = NeuralClassifier(random_state=0, **{**FAST, "epochs": 40, "hidden": (32,)})
    model.fit(frame, y)
    assert list(model.feature_names_in_) == ["size", "colour"] and model.n_features_in_ == 2
    assert model.preprocessor_.feature_names == ["size", "colour=blue", "colour=red"]
    assert model.score(frame, y) > 0.9
    with pytest.raises(ValueError, match="same order"):  # scikit-learn's rule for names
        model.predict(frame[["colour", "size"]])
    unseen = frame.assign(colour="green")  # a new category: unknown (all-zero), said
    with pytest.warns(UserWarning, match=r"encoded as unknown.*colour: 'green'"):
        assert len(model.predict(unseen)) == len(frame)


def test_a_many_valued_category_is_embedded_as_in_gradwise_train() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"size": rng.normal(size=300), "shop": rng.integers(0, 20, 300)})
    frame["shop"] = "s" + frame["shop"].astype(str)
    y = np.where(frame["shop"].isin([f"s{i}" for i in range(10)]), "a", "b")
    model = NeuralClassifier(random_state=0, **{**FAST, "epochs": 40, "hidden": (32,)})
    model.fit(frame, y)
    assert model.preprocessor_.feature_names == ["size", "shop#code"]
    assert "inputs.embeddings.0.weight" in model.module_.state_dict()
    assert model.score(frame, y) > 0.9


def test_partial_fit_continues_on_new_rows_with_the_same_classes(iris) -> None:
    x, y = iris
    model = NeuralClassifier(random_state=0, **FAST)
    first_rows = np.isin(y, ["setosa", "versicolor"])
    model.partial_fit(x[first_rows], y[first_rows], classes=np.unique(y))
    assert list(model.classes_) == ["setosa", "versicolor", "virginica"]
    before = model.module_.state_dict()["head.weight"].clone()
    for _ in range(30):
        model.partial_fit(x, y)
    assert len(model.history_) == 31 and model.score(x, y) > 0.8
    assert not np.allclose(before.numpy(), model.module_.state_dict()["head.weight"].numpy())
    with pytest.raises(ValueError, match="not among the classes"):
        model.partial_fit(x[:5], np.array(["rose"] * 5))
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(x[:, :3], y)


def test_regressor_partial_fit_keeps_the_target_scaling() -> None:
    x, y = make_regression(n_samples=120, n_features=4, noise=1.0, random_state=0)
    model = NeuralRegressor(random_state=0, **FAST).partial_fit(x[:60], y[:60] + 100)
    mean = model.preprocessor_.target.mean
    errors = []
    for _ in range(20):
        model.partial_fit(x, y + 100)
        errors.append(np.abs(model.predict(x) - (y + 100)).mean())
    assert model.preprocessor_.target.mean == mean  # fitted once, on the first rows
    assert errors[-1] < 0.5 * errors[0]
    with pytest.raises(ValueError, match="2 target"):
        model.partial_fit(x, np.c_[y, y])


def test_config_is_merged_under_the_parameters(tmp_path: Path, iris) -> None:
    x, y = iris
    path = tmp_path / "exp.yaml"
    experiment = {
        "data": {"source": "some.csv", "target": "label", "scale": "minmax"},
        "model": {"kind": "mlp", "hidden": [8], "dropout": 0.1},
        "train": {"epochs": 3, "optimizer": {"name": "sgd", "lr": 0.05}},
    }
    path.write_text(yaml.safe_dump(experiment))
    model = NeuralClassifier(config=str(path), epochs=4, device="cpu").fit(x, y)
    config = model.config_
    assert (config.train.epochs, config.train.optimizer.name) == (4, "sgd")
    assert (config.model.hidden, config.model.dropout, config.data.scale) == ([8], 0.1, "minmax")
    assert len(model.history_) == 4 and config.data.source == "memory:fit"
    from_dict = NeuralClassifier(config=experiment, model="rnn", device="cpu", epochs=1)
    assert from_dict.fit(x, y).config_.model.kind == "rnn"  # another kind: its own defaults


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"optimizer": "adamm"}, r"^optimizer='adamm'.*did you mean 'adam'"),
        ({"model": "mlpp"}, "^model='mlpp'"),
        ({"options": {"train.gradclip": 1.0}}, r"^options\['train.gradclip'\].*grad_clip"),
        ({"options": {"task": "regression"}}, r"^options\['task'\]: the estimator's class"),
        ({"lr": -1.0}, "'lr' parameter"),
        ({"config": "missing.yaml"}, "missing.yaml: no such experiment file"),
        ({"input_shape": (3, 3)}, r"input_shape=\(3, 3\): holds 9 values per row"),
    ],
)
def test_bad_parameters_are_one_line_value_errors(iris, params, message) -> None:
    x, y = iris
    with pytest.raises(ValueError, match=message) as caught:
        NeuralClassifier(**{**FAST, **params}).fit(x, y)
    assert "\n" not in str(caught.value)
    if not isinstance(caught.value, (InputError, ParameterError)):
        assert type(caught.value).__name__ == "InvalidParameterError"  # sklearn's own check


def test_one_class_is_refused(iris) -> None:
    x, _ = iris
    with pytest.raises(InputError, match="at least 2 classes, found 1 class"):
        NeuralClassifier(**FAST).fit(x, np.zeros(len(x)))


@pytest.mark.parametrize("kind", list(MODEL_CONFIGS))
def test_every_model_kind_fits_predicts_and_pickles(kind: str) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 16))
    y = (x[:, :8].sum(axis=1) > 0).astype(int)
    params = {**FAST, "hidden": None, "epochs": 2, "options": KIND_OPTIONS.get(kind)}
    model = NeuralClassifier(kind, input_shape=INPUT_SHAPES.get(kind), **params).fit(x, y)
    proba = model.predict_proba(x)
    assert proba.shape == (64, 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert model.config_.model.kind == kind
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(x), proba)
    values = NeuralRegressor(kind, input_shape=INPUT_SHAPES.get(kind), **params)
    assert values.fit(x, np.c_[x[:, 0], x[:, 1]]).predict(x).shape == (64, 2)


def test_linear_regressor_matches_least_squares() -> None:
    """Oracle: an MLP without hidden layers is a linear model; trained to convergence it
    predicts as ordinary least squares does."""
    x, y = make_regression(n_samples=200, n_features=5, noise=5.0, random_state=0)
    model = NeuralRegressor(
        hidden=(), epochs=400, lr=0.05, batch_size="full", device="cpu", random_state=0
    ).fit(x, y)
    reference = LinearRegression().fit(x, y).predict(x)
    assert np.abs(model.predict(x) - reference).max() < 0.05 * np.abs(reference).std()


def test_early_stopping_holds_out_validation_rows(iris) -> None:
    x, y = iris
    model = NeuralClassifier(early_stopping=2, random_state=0, **{**FAST, "epochs": 200})
    model.fit(x, y)
    assert model.config_.data.valid == 0.1 and "valid_loss" in model.history_[0]
    assert len(model.history_) < 200 and model.best_epoch_ <= len(model.history_)


def test_out_writes_a_run_directory_that_exports(iris, tmp_path: Path) -> None:
    from gradwise.export import export_run

    x, y = iris
    params = {**FAST, "options": {"diagnose.enabled": False, "report.enabled": False}}
    model = NeuralClassifier(out=tmp_path / "runs", random_state=0, **params).fit(x, y)
    run = model.run_dir_
    assert run.parent == tmp_path / "runs" and (run / "checkpoints" / "best.safetensors").is_file()
    assert len(model.history_) == 10 and model.best_epoch_ is not None
    written = export_run(run, "onnx", tmp_path / "iris.onnx")
    from gradwise.export.onnx_writer import run as run_onnx

    probabilities = run_onnx(Path(written["output"]), x)
    assert np.abs(probabilities - model.predict_proba(x)).max() < 1e-5
    unfitted = NeuralClassifier(**FAST).fit(x, y)
    assert not hasattr(unfitted, "run_dir_")
