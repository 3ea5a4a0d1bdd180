"""User files: CSV/Parquet tables, NPZ arrays (with a fixed test split), image folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from gradwise.data import load_splits, read_input_file, read_source
from tests.data.conftest import raises_one_line


def test_csv_and_parquet_read_the_same_table(config, tmp_path, people) -> None:
    people.to_csv(tmp_path / "p.csv", index=False)
    people.to_parquet(tmp_path / "p.parquet")
    a = load_splits(config(tmp_path / "p.csv", target="bought"), "labels", 0)
    b = load_splits(config(tmp_path / "p.parquet", target="bought"), "labels", 0)
    np.testing.assert_allclose(a.x_train, b.x_train, rtol=1e-6)
    assert a.preprocessor.feature_names == b.preprocessor.feature_names


def test_csv_separator_option(config, tmp_path, people) -> None:
    people.to_csv(tmp_path / "p.csv", index=False, sep=";")
    raw = read_source(config(tmp_path / "p.csv", options={"sep": ";"}))
    assert list(raw.table.columns) == list(people.columns)


def test_npz_fixed_test_split(config, tmp_path) -> None:
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "a.npz",
        x=rng.normal(size=(80, 5)),
        y=rng.integers(0, 2, 80),
        x_test=rng.normal(size=(20, 5)),
        y_test=rng.integers(0, 2, 20),
    )
    splits = load_splits(config(tmp_path / "a.npz", valid=0.1), "labels", 0)
    assert splits.profile["splits"] == {"train": 70, "valid": 10, "test": 20}
    assert splits.profile["fixed_test_split"] is True
    np.testing.assert_array_equal(splits.y_test, np.load(tmp_path / "a.npz")["y_test"])


@pytest.mark.parametrize(
    ("shape", "kind"),
    [((30, 6), "tabular"), ((30, 2, 9), "signal"), ((30, 3, 4, 4), "image"), ((30,), "tabular")],
)
def test_npz_shapes_give_input_kinds(config, tmp_path, shape, kind) -> None:
    np.savez(tmp_path / "a.npz", x=np.random.default_rng(0).normal(size=shape), y=np.arange(30) % 3)
    splits = load_splits(config(tmp_path / "a.npz"), "labels", 0)
    assert splits.profile["input_kind"] == kind
    assert splits.x_train.shape[1:] == (shape[1:] or (1,))


def test_npz_with_nan_is_refused(config, tmp_path) -> None:
    x = np.ones((20, 2))
    x[3, 1] = np.nan
    np.savez(tmp_path / "a.npz", x=x, y=np.arange(20) % 2)
    with raises_one_line("1 missing or infinite values"):
        load_splits(config(tmp_path / "a.npz"), "labels", 0)


def write_images(folder: Path, mode: str = "L") -> None:
    rng = np.random.default_rng(0)
    for label, brightness in (("dark", 40), ("light", 220)):
        (folder / label).mkdir(parents=True)
        for i in range(6):
            size = (10 + i, 12)  # differing sizes are resized to a common one
            pixels = np.clip(rng.normal(brightness, 10, (*size[::-1], 3)), 0, 255).astype(np.uint8)
            image = Image.fromarray(pixels, "RGB").convert(mode)
            image.save(folder / label / f"{i}.{'png' if i % 2 else 'jpg'}")


def test_image_folder(config, tmp_path) -> None:
    write_images(tmp_path / "imgs")
    raw = read_source(config(tmp_path / "imgs", options={"image_size": 8}))
    assert raw.x.shape == (12, 1, 8, 8) and raw.input_kind == "image"
    assert raw.x.min() >= 0.0 and raw.x.max() <= 1.0
    dark = raw.x[raw.y == "dark"].mean()
    assert dark == pytest.approx(40 / 255, abs=0.05)
    splits = load_splits(
        config(tmp_path / "imgs", options={"image_size": 8}, valid=0.2, test=0.3),
        "labels",
        0,
    )
    assert splits.preprocessor.classes == ["dark", "light"]
    assert splits.preprocessor.reader_options() == {"channels": 1, "image_size": [8, 8]}


def test_color_image_folder_and_predict_folder(config, tmp_path) -> None:
    write_images(tmp_path / "imgs", mode="RGB")
    splits = load_splits(config(tmp_path / "imgs", options={"image_size": [6, 7]}), "labels", 0)
    pre = splits.preprocessor
    assert pre.feature_shape == (3, 6, 7)
    flat = tmp_path / "new"
    flat.mkdir()
    for file in sorted((tmp_path / "imgs" / "light").iterdir())[:2]:
        (flat / file.name).write_bytes(file.read_bytes())
    new = read_input_file(flat, pre.reader_options())  # images straight in the folder
    assert new.y is None
    assert pre.transform_features(new).shape == (2, 3, 6, 7)


def test_empty_image_folder(config, tmp_path) -> None:
    (tmp_path / "imgs" / "cats").mkdir(parents=True)
    with raises_one_line("has no sub-folders with images"):
        read_source(config(tmp_path / "imgs"))


def test_broken_image(config, tmp_path) -> None:
    write_images(tmp_path / "imgs")
    (tmp_path / "imgs" / "dark" / "broken.png").write_bytes(b"not an image")
    with raises_one_line(r"cannot read image '.*broken.png'"):
        read_source(config(tmp_path / "imgs"))


def test_read_input_file_npz_needs_only_x(tmp_path) -> None:
    np.savez(tmp_path / "new.npz", x=np.ones((4, 3)))
    raw = read_input_file(tmp_path / "new.npz")
    assert raw.x.shape == (4, 3) and raw.y is None


def test_read_input_file_table(tmp_path, people) -> None:
    people.to_parquet(tmp_path / "new.parquet")
    raw = read_input_file(tmp_path / "new.parquet")
    pd.testing.assert_frame_equal(raw.table, people)
