"""Built-in sets and synthetic generators: shapes, seeding, and the static catalog."""

from __future__ import annotations

import numpy as np
import pytest

from gradwise.data import BUILTIN_DATASETS, load_splits, read_source
from gradwise.data.raw import BUILTINS, SOURCE_KINDS
from gradwise.data.synthetic import GENERATORS
from tests.conftest import run_python

CHEAP = [d for d in BUILTIN_DATASETS if d["name"].split(":")[0] in ("sklearn", "synthetic")]


@pytest.mark.parametrize("entry", CHEAP, ids=lambda d: d["name"])
def test_catalog_matches_the_data(config, entry: dict) -> None:
    splits = load_splits(config(entry["name"]), entry["targets"], 0)
    profile = splits.profile
    assert profile["rows"] == entry["rows"]
    assert profile["input_kind"] == entry["kind"]
    raw = read_source(config(entry["name"]))
    width = raw.table.shape[1] - 1 if raw.is_table else int(np.prod(raw.x.shape[1:]))
    assert width == entry["features"]
    assert len(profile.get("classes") or []) == (entry["classes"] or 0)


def test_catalog_names_resolve() -> None:
    for entry in BUILTIN_DATASETS:
        prefix = entry["name"].partition(":")[0]
        assert entry["name"] in BUILTINS or prefix in SOURCE_KINDS
        assert set(entry) >= {"name", "kind", "targets", "rows", "features", "classes"}
        assert (entry["targets"] == "labels") == (entry["classes"] is not None)
        assert entry["targets"] in ("labels", "values") and entry["description"]
    assert {f"synthetic:{n}" for n in GENERATORS} <= {d["name"] for d in BUILTIN_DATASETS}


def test_listing_datasets_imports_no_heavy_modules() -> None:
    code = (
        "import sys; from gradwise.data import BUILTIN_DATASETS; "
        "print(sorted(m for m in ('pandas', 'numpy', 'sklearn', 'torch') if m in sys.modules))"
    )
    out = run_python("-c", code, check=True)
    assert out.stdout.strip() == "[]"


def test_iris_labels_are_class_names(config) -> None:
    splits = load_splits(config("sklearn:iris"), "labels", 0)
    assert splits.preprocessor.classes == ["setosa", "versicolor", "virginica"]
    assert splits.profile["class_counts"]["test"] == [10, 10, 10]  # 30 test rows, 3 equal classes


def test_digits_as_images(config) -> None:
    splits = load_splits(config("sklearn:digits", options={"as_image": True}), "labels", 0)
    assert splits.x_train.shape[1:] == (1, 8, 8)
    assert splits.profile["input_kind"] == "image"
    raw = read_source(config("sklearn:digits", options={"as_image": True}))
    assert raw.x.min() >= 0.0 and raw.x.max() <= 1.0


@pytest.mark.parametrize("name", GENERATORS.names())
def test_synthetic_is_seeded(config, name: str) -> None:
    data = config(f"synthetic:{name}", options={"n_samples": 120})
    a, b, c = read_source(data, seed=1), read_source(data, seed=1), read_source(data, seed=2)
    if a.is_table:
        assert a.table.equals(b.table) and not a.table.equals(c.table)
        assert len(a.table) == 120
    else:
        np.testing.assert_array_equal(a.x, b.x)
        assert not np.array_equal(a.x, c.x) and len(a.x) == 120


@pytest.mark.parametrize("name", ["classification", "signals", "images"])
def test_synthetic_weights_make_imbalance(config, name: str) -> None:
    weights = [0.9, 0.1] if name == "classification" else [0.7, 0.1, 0.1, 0.1]
    data = config(f"synthetic:{name}", options={"n_samples": 1000, "weights": weights})
    profile = load_splits(data, "labels", 0).profile
    counts = np.array(profile["class_counts"]["train"])
    assert profile["imbalance_ratio"] == pytest.approx(counts.max() / counts.min())
    assert profile["imbalance_ratio"] > 4


def test_signal_and_image_shapes(config) -> None:
    signals = read_source(config("synthetic:signals", options={"n_samples": 40, "length": 100}))
    images = read_source(config("synthetic:images", options={"n_samples": 40, "size": 12}))
    assert signals.x.shape == (40, 1, 100) and signals.input_kind == "signal"
    assert images.x.shape == (40, 1, 12, 12) and images.input_kind == "image"
    assert images.x.dtype == np.float32 and images.x.min() >= 0.0 and images.x.max() <= 1.0


def test_images_classes_differ_in_orientation() -> None:
    """The bars are what separates the classes: mean images differ by orientation."""
    from gradwise.config.schema import DataConfig

    raw = read_source(DataConfig(source="synthetic:images", options={"noise": 0.0}), seed=0)
    horizontal = raw.x[raw.y == "horizontal"][:, 0]  # (n, h, w)
    vertical = raw.x[raw.y == "vertical"][:, 0]
    # a horizontal bar is constant along rows; a vertical bar along columns
    assert horizontal.std(axis=2).mean() < 0.05 < horizontal.std(axis=1).mean()
    assert vertical.std(axis=1).mean() < 0.05 < vertical.std(axis=2).mean()
