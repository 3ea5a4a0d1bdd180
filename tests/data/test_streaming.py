"""Data larger than memory: a Parquet table or an ``.npy`` array read in chunks. The split and
the preprocessing equal the in-memory path's, every training row is seen once per epoch, a
streamed run trains, resumes, evaluates and predicts like any other, and mistakes are one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import gradwise
from gradwise.config import load_config
from gradwise.data import streaming
from gradwise.errors import ConfigError, DataError
from gradwise.tasks import load_data
from gradwise.training.streamed import StreamSplit
from tests.conftest import tiny_config


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    """Chunks of 100 rows, buffers of 2 chunks: many chunks even in a small file."""
    monkeypatch.setattr(streaming, "CHUNK_ROWS", 100)
    monkeypatch.setattr(streaming, "BUFFER_CHUNKS", 2)


@pytest.fixture
def table(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    n = 1000
    frame = pd.DataFrame(
        {
            "a": rng.normal(3, 2, size=n),
            "b": rng.exponential(size=n),
            "color": rng.choice(["red", "green", "blue"], size=n),
        }
    )
    frame.loc[::37, "a"] = np.nan
    frame["label"] = np.where(frame["a"].fillna(3) - 3 + frame["b"] > 1.0, "yes", "no")
    path = tmp_path / "table.parquet"
    frame.to_parquet(path, row_group_size=230)  # row groups cut into several chunks
    return path


def config_for(source: Path, **data) -> dict:
    return tiny_config(
        str(source), data={"target": "label", **data}, train={"epochs": 3, "batch_size": 64}
    )


def test_the_split_and_preprocessing_equal_the_in_memory_ones(table: Path):
    streamed = load_data(load_config(config_for(table, stream=True)))
    in_memory = load_data(load_config(config_for(table, stream=False)))
    assert streamed.profile["streamed"] and not in_memory.profile.get("streamed")
    for name in ("train", "valid", "test"):
        assert np.array_equal(streamed.indices[name], in_memory.indices[name])
    assert np.array_equal(streamed.targets["train"], in_memory.y_train)
    ours, theirs = streamed.preprocessor.columns, in_memory.preprocessor.columns
    assert [c["name"] for c in ours] == [c["name"] for c in theirs]
    for mine, reference in zip(ours, theirs, strict=True):
        for key, value in reference.items():  # fill: the exact median of every value here
            exact = isinstance(value, (str, list))  # names, kinds, categories, a mode
            assert mine[key] == (value if exact else pytest.approx(value, rel=1e-9))


def test_every_training_row_is_seen_once_per_epoch_in_a_shuffled_order(table: Path):
    splits = load_data(load_config(config_for(table, stream=True)))
    y = torch.as_tensor(np.arange(len(splits.indices["train"])))  # a row's position as target
    split = StreamSplit(splits, "train", y, torch.device("cpu"))
    generator = torch.Generator().manual_seed(0)
    epochs = [torch.cat([b["y"] for b, _ in split.epoch_batches(64, generator)]) for _ in range(2)]
    for seen in epochs:
        assert sorted(seen.tolist()) == list(range(len(split)))
    assert not torch.equal(epochs[0], epochs[1])
    assert not torch.equal(epochs[0], epochs[0].sort().values)


def test_a_streamed_run_trains_evaluates_predicts_and_resumes(table: Path, tmp_path: Path):
    streamed = gradwise.train(config_for(table, stream=True), out=tmp_path / "s")
    in_memory = gradwise.train(config_for(table, stream=False), out=tmp_path / "m")
    assert streamed.summary["test"]["accuracy"] == pytest.approx(
        in_memory.summary["test"]["accuracy"], abs=0.05
    )
    reopened = gradwise.Run(streamed.path)
    assert reopened.evaluate()["accuracy"] == pytest.approx(streamed.summary["test"]["accuracy"])
    rows = pd.read_parquet(table).drop(columns="label").head(5)
    assert len(reopened.predict(rows)) == 5

    short = gradwise.train(
        config_for(table, stream=True), out=tmp_path / "r", overrides=["train.epochs=2"]
    )
    resumed = gradwise.resume(short.path, overrides=["train.epochs=3"])
    for key, value in streamed.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[key], value)


def test_an_npy_array_streams_memory_mapped(tmp_path: Path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(600, 2, 8)).astype(np.float32)  # (n, channels, length)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", (x[:, 0].mean(axis=1) > 0).astype(np.int64))
    config = tiny_config(str(tmp_path / "x.npy"), data={"target": "y.npy"}, train={"epochs": 15})
    run = gradwise.train(config, out=tmp_path / "runs")
    assert run.preprocessor.feature_shape == (2, 8)
    train = x.astype(np.float64)[load_data(load_config(config)).indices["train"]]
    flat = np.moveaxis(train, 1, -1).reshape(-1, 2)  # every position of each channel
    assert run.preprocessor.offset == pytest.approx(flat.mean(axis=0).tolist(), rel=1e-6)
    assert run.summary["test"]["accuracy"] > 0.8


def test_auto_streams_only_beyond_the_memory_budget(table: Path, monkeypatch):
    data = load_config(config_for(table)).data
    monkeypatch.setenv("GRADWISE_MEMORY_BUDGET", str(10**9))
    assert not streaming.stream_wanted(data)
    monkeypatch.setenv("GRADWISE_MEMORY_BUDGET", "1000")
    assert streaming.stream_wanted(data)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"source": "CSV", "stream": True}, ConfigError, "cannot be streamed"),
        ({"target": "colour"}, DataError, "no column 'colour'"),
        ({"sampling": "oversample"}, ConfigError, "data.sampling: resampling needs"),
        ({"source": "NPY", "target": "missing.npy"}, DataError, "is not one"),
        ({"source": "NPY", "target": "y.npy", "stream": False}, ConfigError, "memory-mapped"),
    ],
)
def test_streaming_mistakes_name_the_key(table: Path, tmp_path, change, error, message):
    files = {"CSV": tmp_path / "t.csv", "NPY": tmp_path / "x.npy"}
    pd.read_parquet(table).to_csv(files["CSV"], index=False)
    np.save(files["NPY"], np.zeros((10, 3)))
    np.save(tmp_path / "y.npy", np.zeros(10))
    source = str(files.get(change.pop("source", ""), table))
    config = load_config(config_for(Path(source), **{"stream": True, **change}))
    with pytest.raises(error, match=message):
        load_data(config)
