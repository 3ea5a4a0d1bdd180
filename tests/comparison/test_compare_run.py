"""A comparison end to end on tiny data: identical splits for every model, metric oracles,
the compare.json document, the plot, and the command line."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from matplotlib.figure import Figure

import gradwise
from gradwise.comparison import classical, deep
from gradwise.comparison.curves import nested_order, subset_rows
from gradwise.config import load_config
from gradwise.experiment import load_data
from gradwise.report.size_curves import draw_size_curves
from tests.conftest import run_cli, run_cli_torch_free, tiny_config

MODEL_KEYS = {
    "name",
    "family",
    "test",
    "train_score",
    "gap",
    "fit_time",
    "predict_ms_per_1000",
    "parameters",
    "size_bytes",
}
CURVE_KEYS = {"model", "fraction", "n_train", "mean", "std"}


def iris_config(**compare) -> dict:
    settings = {
        "baselines": ["logistic_regression", "knn"],
        "fractions": [0.5, 1.0],
        "seeds": 2,
        "threads": 1,
        **compare,
    }
    return tiny_config(
        "sklearn:iris", model={"kind": "mlp", "hidden": [8]}, train={"epochs": 3}, compare=settings
    )


@pytest.fixture(scope="module")
def iris_run(tmp_path_factory: pytest.TempPathFactory):
    """One comparison, with every fit's training and test rows recorded."""
    seen: list[dict] = []
    monkeypatch = pytest.MonkeyPatch()
    original_classical, original_build = classical.fit_classical, deep.build_experiment

    def spy_classical(name, config, subset, task, seed, fraction, threads=1):
        seen.append(
            {
                "family": "classical",
                "seed": seed,
                "fraction": fraction,
                "x_train": subset.x_train.copy(),
                "test": subset.indices["test"].copy(),
                "x_test": subset.x_test.copy(),
            }
        )
        return original_classical(name, config, subset, task, seed, fraction, threads)

    def spy_build(config, splits, callbacks=None):
        seen.append(
            {
                "family": "deep",
                "seed": config.seed,
                "x_train": splits.x_train.copy(),
                "test": splits.indices["test"].copy(),
                "x_test": splits.x_test.copy(),
            }
        )
        return original_build(config, splits, callbacks)

    monkeypatch.setattr(classical, "fit_classical", spy_classical)
    monkeypatch.setattr(deep, "build_experiment", spy_build)
    try:
        result = gradwise.compare(iris_config(), out=tmp_path_factory.mktemp("compare"))
    finally:
        monkeypatch.undo()
    return result, seen


def test_every_model_sees_the_same_rows(iris_run):
    _result, seen = iris_run
    config = load_config(iris_config())
    for seed in (0, 1):
        splits = load_data(config.model_copy(update={"seed": seed}))
        order = nested_order(splits.y_train, classification=True, seed=seed)
        for fraction in (0.5, 1.0):
            rows = subset_rows(order, fraction)
            fits = [s for s in seen if s["seed"] == seed and len(s["x_train"]) == len(rows)]
            assert {s["family"] for s in fits} == {"classical", "deep"}
            assert len(fits) == 3  # two baselines and the mlp
            for fit in fits:
                np.testing.assert_array_equal(fit["test"], splits.indices["test"])
                np.testing.assert_array_equal(fit["x_test"], splits.x_test)
                np.testing.assert_array_equal(fit["x_train"], splits.x_train[rows])


def test_classical_score_matches_scikit_learn(iris_run):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score

    result, _ = iris_run
    config = load_config(iris_config())
    splits = load_data(config.model_copy(update={"seed": 1}))
    rows = subset_rows(nested_order(splits.y_train, True, 1), 0.5)
    model = LogisticRegression(max_iter=2000).fit(splits.x_train[rows], splits.y_train[rows])
    expected = accuracy_score(splits.y_test, model.predict(splits.x_test))
    fit = next(
        f
        for f in result.document["fits"]
        if f["model"] == "logistic_regression" and f["seed"] == 1 and f["fraction"] == 0.5
    )
    assert fit["test"]["accuracy"] == pytest.approx(expected)
    assert fit["n_train"] == len(rows) == 52


def test_document_has_the_shared_format(iris_run):
    result, _ = iris_run
    document = json.loads((result.path / "compare.json").read_text())
    assert document["metric"] == "accuracy"
    assert document["dataset"]["rows"] == 150 and document["dataset"]["features"] == 4
    assert document["dataset"]["samples_per_feature"] == pytest.approx(105 / 4)
    assert [m["name"] for m in document["models"]] == ["logistic_regression", "knn", "mlp"]
    for entry in document["models"]:
        assert set(entry) >= MODEL_KEYS
        values = entry["test"]["values"]
        assert len(values) == 2
        assert entry["test"]["mean"] == pytest.approx(np.mean(values))
        assert entry["test"]["std"] == pytest.approx(np.std(values, ddof=1))
        assert entry["gap"] == pytest.approx(entry["train_score"] - entry["test"]["mean"])
    assert {m["name"]: m["family"] for m in document["models"]}["mlp"] == "deep"
    knn = next(m for m in document["models"] if m["name"] == "knn")
    assert knn["parameters"] == 105 * 4  # stored training values
    mlp = next(m for m in document["models"] if m["name"] == "mlp")
    assert mlp["parameters"] == (4 * 8 + 8) + (8 * 3 + 3)
    assert len(document["learning_curves"]) == 3 * 2
    assert all(set(c) >= CURVE_KEYS for c in document["learning_curves"])
    assert {c["n_train"] for c in document["learning_curves"]} == {52, 105}
    assert isinstance(document["verdict"], str) and "mlp" in document["verdict"]
    evidence = document["evidence"]
    assert evidence["deep"] == "mlp" and evidence["classical"] in ("logistic_regression", "knn")
    assert evidence["model_complexity"]["mlp"] == mlp["parameters"]
    assert [p["n_train"] for p in evidence["small_sample"]] == [52, 105]
    assert document["comparison"]["result"] in ("win", "tie", "loss")
    saved = yaml.safe_load((result.path / "experiment.yaml").read_text())
    assert saved["compare"]["seeds"] == 2


def test_learning_curve_plot_is_a_png(iris_run):
    import matplotlib.image

    result, _ = iris_run
    image = matplotlib.image.imread(result.path / "learning_curves.png")
    assert image.shape[:2] == (380, 1100)  # one row of 3 panels, 11 × 3.8 in at 100 dpi
    assert b"Software" not in (result.path / "learning_curves.png").read_bytes()  # no URL chunk
    figure = Figure()
    draw_size_curves(figure, result.document)
    titles = [axes.get_title().split(" (")[0] for axes in figure.axes]
    assert sorted(titles) == ["knn", "logistic_regression", "mlp"]  # one panel per model
    assert titles[0] == "mlp"  # deep first


def test_compare_is_a_function_over_the_comparison_package(monkeypatch: pytest.MonkeyPatch):
    """``gradwise.compare`` stays the function after ``gradwise.comparison.*`` is imported."""
    from gradwise.comparison import runner

    monkeypatch.setattr(runner, "compare", lambda *args, **kwargs: ("ran", args, kwargs))
    assert "gradwise.comparison" in sys.modules
    assert gradwise.compare("exp.yaml", seeds=2) == ("ran", ("exp.yaml",), {"seeds": 2})
    assert gradwise.__getattr__("compare") is runner.compare


def test_regression_rmse_matches_scikit_learn(tmp_path: Path):
    from sklearn.linear_model import Ridge

    config = tiny_config(
        "sklearn:diabetes",
        task="regression",
        compare={"baselines": ["ridge"], "fractions": [1.0], "seeds": 1},
    )
    document = gradwise.compare(config, out=tmp_path).document
    assert document["metric"] == "rmse" and document["higher_is_better"] is False
    assert "one seed" in document["verdict"]
    validated = load_config(config)
    splits = load_data(validated.model_copy(update={"seed": 0}))
    predicted = Ridge(alpha=1.0).fit(splits.x_train, splits.y_train).predict(splits.x_test)
    std = splits.preprocessor.target.std[0]
    expected = math.sqrt(np.mean((predicted - splits.y_test) ** 2)) * std
    ridge = next(m for m in document["models"] if m["name"] == "ridge")
    assert ridge["test"]["mean"] == pytest.approx(expected, rel=1e-5)
    assert ridge["gap"] == pytest.approx(ridge["test"]["mean"] - ridge["train_score"])


def test_best_weights_are_the_best_epochs():
    import torch

    model = torch.nn.Linear(2, 1)
    keeper = deep.BestWeights("valid_loss")

    class Trainer:
        pass

    trainer = Trainer()
    trainer.module = model
    for epoch, loss in enumerate([3.0, 1.0, 2.0], start=1):
        with torch.no_grad():
            model.weight.fill_(epoch)
        keeper.on_epoch_end(trainer, epoch, {"valid_loss": loss})
    assert keeper.monitor.best_epoch == 2
    assert torch.equal(keeper.state["weight"], torch.full((1, 2), 2.0))


# ----------------------------------------------------------------------------- the command line
def _write(tmp_path: Path, config: dict) -> Path:
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_cli_json_prints_the_written_document(tmp_path: Path):
    config = iris_config(baselines=["logistic_regression"], fractions=[1.0])
    config["data"] = {"source": "synthetic:moons"}
    result = run_cli(
        "compare",
        str(_write(tmp_path, config)),
        "--out",
        str(tmp_path / "out"),
        "--json",
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)  # stdout holds exactly one JSON document
    folder = Path(printed["path"])
    assert folder.parent == tmp_path / "out" and folder.name.startswith("tiny-compare-")
    assert printed == json.loads((folder / "compare.json").read_text())
    assert (folder / "learning_curves.png").is_file()


def test_cli_table_and_seeds_flag(tmp_path: Path, capsys: pytest.CaptureFixture):
    from gradwise.cli.main import main

    config = _write(tmp_path, iris_config(baselines=["knn"], fractions=[1.0]))
    assert main(["compare", str(config), "--out", str(tmp_path), "--seeds", "3", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "samples per feature" in printed and "predict ms/1k" in printed
    verdict = next(line for line in printed.splitlines() if line.startswith("verdict: "))
    assert "over seeds" in printed and "mlp" in verdict and "knn" in verdict
    document = json.loads(next(tmp_path.glob("tiny-compare-*/compare.json")).read_text())
    assert document["seeds"] == [0, 1, 2]


def test_compare_help_does_not_import_torch():
    result = run_cli_torch_free(["compare", "--help"])
    assert result.returncode == 0, result.stderr
    assert "--seeds" in result.stdout
