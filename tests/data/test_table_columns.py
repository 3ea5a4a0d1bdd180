"""Tables as users bring them: a row-index column (R's ``write.csv``, pandas' ``to_csv``) and
identifier columns are left out with a warning, ``data.drop``/``data.features`` decide
explicitly, dates become numeric parts, and a column that alone predicts the target is flagged
as ``target_leakage`` — but not on the built-in tables."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gradwise
from gradwise.config import load_config
from gradwise.data.load import load_splits
from gradwise.errors import DataError
from gradwise.tasks import load_data
from tests.conftest import tiny_config


def sales(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "customer_id": rng.permutation(n) + 10_000,  # integers, one per row
            "order": [f"A-{i:05d}" for i in rng.permutation(n)],  # text, one per row
            "sold": pd.date_range("2021-01-01", periods=n, freq="3D7h").astype(str),
            "visits": rng.integers(0, 10**6, size=n),  # integers, distinct, not an id
            "price": rng.normal(10, 2, size=n),
            "region": rng.choice(["north", "south", "east"], size=n),
        }
    )
    frame["spend"] = 3 * frame["price"] + (frame["region"] == "north") + rng.normal(size=n)
    return frame


def splits_of(path: Path, **data) -> tuple:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        config = load_config(tiny_config(str(path), task="regression", data=data))
        splits = load_data(config)
    return splits, [str(w.message) for w in caught]


@pytest.mark.parametrize(("index_label", "start"), [("", 1), (None, 0)])
def test_row_index_columns_are_left_out(tmp_path: Path, index_label, start):
    frame = sales()
    frame.index += start  # R numbers rows from 1, pandas from 0
    path = tmp_path / "sales.csv"
    frame.to_csv(path, index=True, index_label=index_label)  # header "" or none: "Unnamed: 0"
    splits, messages = splits_of(path, target="spend")
    left_out = splits.profile["left_out_columns"]
    assert left_out["Unnamed: 0"] == f"row index {start}..{start + len(frame) - 1}"
    assert any("left out 'Unnamed: 0'" in m for m in messages)
    assert not any(name.startswith("Unnamed") for name in splits.preprocessor.feature_names)


def test_identifiers_are_left_out_and_distinct_measurements_kept(tmp_path: Path):
    path = tmp_path / "sales.csv"
    sales().to_csv(path, index=False)
    splits, messages = splits_of(path, target="spend")
    assert splits.profile["left_out_columns"] == {
        "customer_id": "identifier: 400 distinct integers in 400 rows",
        "order": "identifier: 400 distinct values in 400 rows",
    }
    assert sum("left out" in m for m in messages) == 1  # one line naming both
    inputs = splits.preprocessor.input_columns
    assert inputs == ["sold", "visits", "price", "region"]  # visits: distinct, but a measure
    assert splits.preprocessor.feature_shape[0] < 20  # no one-hot column per row


def test_features_and_drop_decide_explicitly(tmp_path: Path):
    path = tmp_path / "sales.csv"
    sales().to_csv(path, index=False)
    kept, _ = splits_of(path, target="spend", features=["customer_id", "price"])
    assert kept.preprocessor.input_columns == ["customer_id", "price"]
    dropped, _ = splits_of(path, target="spend", drop=["visits", "sold"])
    assert dropped.preprocessor.input_columns == ["price", "region"]
    with pytest.raises(DataError, match=r"data\.drop: column 'vists' not found .*did you mean"):
        splits_of(path, target="spend", drop=["vists"])


def test_dates_become_numeric_parts_also_at_prediction(tmp_path: Path):
    frame = sales()
    frame.loc[::25, "sold"] = None
    path = tmp_path / "sales.parquet"
    frame.assign(sold=pd.to_datetime(frame["sold"])).to_parquet(path)  # a datetime dtype
    csv = tmp_path / "sales.csv"
    frame.to_csv(csv, index=False)  # ISO text
    for source in (path, csv):
        splits, _ = splits_of(source, target="spend")
        names = splits.preprocessor.feature_names
        assert [n for n in names if n.startswith("sold.")] == [
            "sold.year",
            "sold.month",
            "sold.day",
            "sold.weekday",
            "sold.hour",
            "sold.elapsed_days",
        ]
        assert splits.profile["date_columns"] == ["sold"]
        assert np.isfinite(splits.x_train).all()  # missing dates imputed
    run = gradwise.train(
        tiny_config(str(csv), task="regression", data={"target": "spend"}), out=tmp_path / "runs"
    )
    new = frame.drop(columns="spend").head(3).assign(sold=["2030-05-01", None, "2021-02-03T10:00"])
    assert np.isfinite(run.predict(new)).all()


def leaky(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    frame["label"] = np.where(frame["a"] + rng.normal(scale=1.0, size=n) > 0, "yes", "no")
    frame["approved"] = frame["label"].map({"yes": "granted", "no": "refused"})  # known after
    return frame


def test_a_column_that_alone_predicts_the_target_is_target_leakage(tmp_path: Path):
    path = tmp_path / "loans.csv"
    leaky().to_csv(path, index=False)
    config = tiny_config(str(path), data={"target": "label"}, train={"epochs": 2})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = gradwise.train(config, out=tmp_path / "runs")
    assert any("column 'approved' alone scores accuracy 1.0000" in str(w.message) for w in caught)
    profile = json.loads((run.path / "profile.json").read_text())
    assert profile["leakage"] == [{"column": "approved", "metric": "accuracy", "score": 1.0}]
    (finding,) = [f for f in run.doctor() if f.code == "target_leakage"]
    assert finding.severity == "error"
    assert finding.evidence["suspects"][0]["column"] == "approved"
    assert "test_accuracy" in finding.evidence
    assert [(r.key, r.value) for r in finding.remedies] == [("data.drop", ["approved"])]
    html = (run.path / "report.html").read_text()
    assert "possible target leakage: approved" in html


@pytest.mark.parametrize(
    ("source", "target", "task"),
    [
        ("sklearn:breast_cancer", None, "classification"),
        ("sklearn:diabetes", None, "regression"),
        ("synthetic:classification", None, "classification"),
        ("rdata:Ecdat/Computers", "price", "regression"),
        ("rdata:ggplot2/diamonds", "cut", "classification"),
    ],
)
def test_healthy_tables_raise_no_leakage(source, target, task):
    data = {"source": source, **({"target": target} if target else {})}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        splits = load_splits(load_config({"task": task, "data": data}).data, *_kind(task))
    assert "leakage" not in splits.profile
    assert "left_out_columns" not in splits.profile


def _kind(task: str) -> tuple[str, int]:
    return ("labels" if task == "classification" else "values"), 0
