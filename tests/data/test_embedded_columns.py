"""Many-valued categorical columns reach an MLP as codes it embeds; robust scaling; the table
input layer (embeddings, smooth clipping, periodic number embeddings)."""

from __future__ import annotations

import json
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import gradwise
from gradwise.data import tabular
from gradwise.data.preprocess import Preprocessor
from gradwise.errors import DataError
from gradwise.models.tabular import TabularInputs, embedding_width

SHOPS = 40


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread: None) -> None:
    """One torch thread for every test here (see tests/conftest.py)."""


def shops_table(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """A shop column with 40 values (each shop its own effect), a number and a 3-value colour."""
    rng = np.random.default_rng(seed)
    shop = rng.integers(0, SHOPS, n)
    effect = np.random.default_rng(99).normal(0.0, 2.0, SHOPS)
    frame = pd.DataFrame(
        {
            "shop": [f"shop{i:02d}" for i in shop],
            "x": rng.normal(size=n),
            "colour": rng.choice(["red", "green", "blue"], n),
        }
    )
    frame["y"] = effect[shop] + frame["x"] + (frame["colour"] == "red") + rng.normal(0, 0.1, n)
    return frame


def test_a_column_with_more_categories_than_one_hot_max_is_one_code() -> None:
    table = shops_table().drop(columns="y")
    specs, _ = tabular.fit_columns(table, "standard", one_hot_max=9)
    kinds = {spec["name"]: spec["kind"] for spec in specs}
    assert kinds == {"shop": "embedded", "x": "numeric", "colour": "categorical"}
    assert tabular.feature_names(specs) == [
        "shop#code",
        "x",
        "colour=blue",
        "colour=green",
        "colour=red",
    ]
    new = table.head(3).copy()
    new.loc[1, "shop"] = "a new shop"
    encoded, report = tabular.transform_table(new, specs)
    shops = specs[0]["categories"]
    assert encoded[:, 0].tolist() == [shops.index(new.shop[0]), -1, shops.index(new.shop[2])]
    assert report.unseen == {"shop": ["a new shop"]} and report.unseen_rows == {"shop": 1}
    with pytest.raises(DataError, match="'shop' has categories not seen"):
        tabular.transform_table(new, specs, unseen="error")


def test_without_one_hot_max_every_category_is_one_hot() -> None:
    specs, _ = tabular.fit_columns(shops_table().drop(columns="y"), "standard")
    assert [spec["kind"] for spec in specs] == ["categorical", "numeric", "categorical"]
    assert len(tabular.feature_names(specs)) == SHOPS + 1 + 3


def test_the_layout_says_where_numbers_and_codes_are() -> None:
    frame = shops_table()
    frame["sold"] = pd.date_range("2024-01-01", periods=len(frame), freq="7h").astype(str)
    pre = Preprocessor.fit(
        frame.drop(columns="y"), frame["y"].to_numpy(), target_kind="values", one_hot_max=9
    )
    names = pre.feature_names
    layout = pre.table_layout
    assert layout["embedded"] == [[names.index("shop#code"), SHOPS]]
    numbers = [name for name in names if name == "x" or name.startswith("sold.")]
    assert [names[p] for p in layout["numeric"]] == numbers
    restored = Preprocessor.from_dict(pre.to_dict())
    assert restored.table_layout == layout


def test_robust_scaling_uses_the_median_and_the_interquartile_range() -> None:
    values = np.r_[np.arange(1.0, 100.0), 1e6]  # one huge outlier
    offset, factor = tabular.scale_stats(values[:, None], "robust")
    q1, q3 = np.percentile(values, [25, 75])
    assert offset[0] == np.median(values)
    assert factor[0] == pytest.approx((q3 - q1) / tabular.IQR_OF_NORMAL)
    constant_quartiles = np.r_[np.zeros(90), np.arange(1.0, 11.0)]  # IQR 0: the std instead
    _, factor = tabular.scale_stats(constant_quartiles[:, None], "robust")
    assert factor[0] == pytest.approx(constant_quartiles.std())


def test_embedding_width_rule() -> None:
    assert [embedding_width(k) for k in (2, 12, 100, 10_000)] == [2, 6, 21, 32]


def test_unknown_codes_use_their_own_slot_and_the_layer_is_the_identity_otherwise() -> None:
    plain = TabularInputs(3, {"numeric": [0, 1, 2], "embedded": []})
    x = torch.randn(4, 3)
    assert plain.width == 3 and not list(plain.parameters()) and torch.equal(plain(x), x)

    layer = TabularInputs(3, {"numeric": [1], "embedded": [[0, 5]]}, clip=3.0)
    table = layer.embeddings[0].weight
    rows = torch.tensor([[-1.0, 0.0, 1.0], [4.0, 100.0, 0.0], [9.0, -2.0, 1.0]])
    out = layer(rows)
    assert out.shape == (3, layer.width) and layer.width == 1 + 1 + embedding_width(5)
    torch.testing.assert_close(out[0, 2:], table[0])  # -1: the unknown slot
    torch.testing.assert_close(out[1, 2:], table[5])
    torch.testing.assert_close(out[2, 2:], table[5])  # out of range: clamped to the table
    assert out[1, 0].item() == pytest.approx(100 / np.sqrt(1 + (100 / 3) ** 2))  # < 3


def test_periodic_embedding_keeps_each_number_beside_its_features() -> None:
    layer = TabularInputs(2, {"numeric": [0, 1], "embedded": []}, numeric_embedding="periodic")
    x = torch.randn(5, 2)
    out = layer(x)
    assert out.shape == (5, 8) and layer.width == 8
    torch.testing.assert_close(out[:, [0, 4]], x)
    out.sum().backward()
    assert layer.periodic.frequency.grad is not None


def test_an_mlp_embeds_the_shop_and_predicts_new_shops_as_unknown(tmp_path: Path) -> None:
    frame = shops_table(1200)
    frame.to_csv(tmp_path / "shops.csv", index=False)
    config = {
        "name": "shops",
        "task": "regression",
        "data": {"source": str(tmp_path / "shops.csv"), "target": "y", "scale": "robust"},
        "model": {"kind": "mlp", "hidden": [32], "numeric_embedding": "periodic", "clip": 3.0},
        "train": {"epochs": 30, "batch_size": 64, "optimizer": {"name": "adam", "lr": 0.01}},
        "diagnose": {"enabled": False},
        "report": {"enabled": False},
    }
    run = gradwise.train(config, out=tmp_path / "runs")
    assert run.preprocessor.feature_shape == (5,)  # one code, not 40 one-hot columns
    profile = json.loads((run.path / "profile.json").read_text())
    assert profile["embedded_columns"] == {"shop": SHOPS}
    assert "inputs.embeddings.0.weight" in run.model.state_dict()
    assert run.summary["test"]["r2"] > 0.9  # the shop effects (std 2) are learned
    new = frame.drop(columns="y").head(4).copy()
    new.loc[[0, 2], "shop"] = ["shop99", "elsewhere"]
    with pytest.warns(
        UserWarning, match=r"encoded as unknown: shop: 'elsewhere', 'shop99' \(2 rows\)"
    ):
        predictions = run.predict(new)
    assert np.isfinite(predictions).all() and len(predictions) == 4
    reloaded = gradwise.Run(run.path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(reloaded.predict(new), predictions, rtol=1e-6)


def test_models_that_reconstruct_their_inputs_see_one_hot_categories(tmp_path: Path) -> None:
    shops_table(300).to_csv(tmp_path / "shops.csv", index=False)
    config = {
        "name": "ae",
        "task": "autoencoder",
        "data": {"source": str(tmp_path / "shops.csv")},
        "train": {"epochs": 1},
        "diagnose": {"enabled": False},
        "report": {"enabled": False},
    }
    run = gradwise.train(config, out=tmp_path / "runs")
    kinds = Counter(spec["kind"] for spec in run.preprocessor.columns)
    assert kinds["embedded"] == 0 and kinds["categorical"] == 2


def test_streamed_tables_embed_the_same_way(tmp_path: Path) -> None:
    from gradwise.data.streaming import ParquetChunks, fit_table

    frame = shops_table().drop(columns="y")
    path = tmp_path / "shops.parquet"
    frame.to_parquet(path, row_group_size=100)
    reader = ParquetChunks(path, None, None)
    specs, _ = fit_table(reader, np.arange(len(frame)), "robust", 0, one_hot_max=9)
    in_memory, _ = tabular.fit_columns(frame, "robust", one_hot_max=9)
    assert [s["kind"] for s in specs] == [s["kind"] for s in in_memory]
    assert specs[0]["categories"] == in_memory[0]["categories"]
    assert specs[1]["offset"] == pytest.approx(in_memory[1]["offset"])  # all rows sampled here


def test_classical_baselines_get_embedded_columns_one_hot_again() -> None:
    from gradwise.comparison.records import ONE_HOT_FOR_CLASSICAL, flat_features

    x = np.array([[2.0, 0.5, 7.0], [-1.0, 1.5, 300.0], [0.0, 2.5, 3.0]])
    many = ONE_HOT_FOR_CLASSICAL + 1
    layout = {"numeric": [1], "embedded": [[0, 3], [2, many]]}
    flat = flat_features(x, layout)
    assert flat.shape == (3, 2 + 3)  # the number, the many-valued code, 3 one-hot columns
    np.testing.assert_array_equal(flat[:, :2], x[:, 1:])
    np.testing.assert_array_equal(flat[:, 2:], [[0, 0, 1], [0, 0, 0], [1, 0, 0]])
    assert flat_features(x).shape == (3, 3)  # arrays: as they are


def test_model_kinds_that_read_the_layout_take_it() -> None:
    import inspect

    from gradwise.config.models import MODEL_CONFIGS
    from gradwise.models import MODELS

    for kind, section in MODEL_CONFIGS.items():
        takes_layout = "layout" in inspect.signature(MODELS.get(kind)).parameters
        assert takes_layout == section.reads_table_layout, kind
