"""``gradwise compare`` on a multi-task experiment: one classical model per target, a verdict
per target, all on the deep model's own splits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import gradwise
from gradwise.cli.compare import print_comparison
from gradwise.errors import ConfigError
from tests.multitask.conftest import multitask_config


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread: None) -> None:
    """One torch thread for every test here (see tests/conftest.py)."""


def compare_config(source: Path, **compare) -> dict:
    config = multitask_config(source, epochs=2)
    config["compare"] = {"seeds": 2, "fractions": [0.5, 1.0], "threads": 1, **compare}
    return config


def test_each_target_gets_its_classical_models_and_its_verdict(
    diamonds_csv: Path, tmp_path: Path, capsys
):
    baselines = ["ridge", "logistic_regression"]  # a regressor and a classifier
    result = gradwise.compare(compare_config(diamonds_csv, baselines=baselines), out=tmp_path)
    document = json.loads((result.path / "compare.json").read_text())
    targets = document["targets"]
    assert list(targets) == ["price", "cut"]
    assert targets["price"]["metric"] == "rmse" and targets["cut"]["metric"] == "accuracy"
    assert [m["name"] for m in targets["price"]["models"]] == ["ridge", "mlp"]
    assert [m["name"] for m in targets["cut"]["models"]] == ["logistic_regression", "mlp"]
    assert result.verdict.startswith("price: ") and " cut: " in result.verdict
    for name in ("price", "cut"):
        assert targets[name]["verdict"] in result.verdict
    # fits: 2 seeds × 2 fractions × (one classical per target + the deep model)
    fits = document["fits"]
    assert len(fits) == 2 * 2 * 3
    classical = [f for f in fits if f["family"] == "classical"]
    assert {(f["model"], f["target"]) for f in classical} == {
        ("ridge", "price"),
        ("logistic_regression", "cut"),
    }
    # the deep model is measured on the same test rows with each target's own metrics
    deep = next(f for f in fits if f["family"] == "deep" and f["fraction"] == 1.0)
    assert {"price_rmse", "cut_accuracy"} <= set(deep["test"])
    mlp_cut = next(m for m in targets["cut"]["models"] if m["name"] == "mlp")
    full = sorted(
        (f for f in fits if f["family"] == "deep" and f["fraction"] == 1.0),
        key=lambda f: f["seed"],
    )
    assert mlp_cut["test"]["values"] == [f["test"]["cut_accuracy"] for f in full]
    # the command line prints each target's tables and verdict
    print_comparison(document)
    printed = capsys.readouterr().out
    price, cut = printed.split("=== target cut ===")
    assert "=== target price ===" in price and "test rmse" in price and "ridge" in price
    assert "test accuracy" in cut and "logistic_regression" in cut
    assert f"verdict: {targets['cut']['verdict']}" in cut


def test_a_baseline_list_that_cannot_learn_a_target_is_refused(diamonds_csv: Path, tmp_path):
    config = compare_config(diamonds_csv, baselines=["logistic_regression"])
    with pytest.raises(
        ConfigError, match=r"none of logistic_regression can learn the target 'price'"
    ):
        gradwise.compare(config, out=tmp_path)
    assert not any(tmp_path.iterdir())
