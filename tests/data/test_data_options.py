"""``data.options`` is checked against the options of its source when the config loads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gradwise.config import load_config
from gradwise.data import builtin, options, read_source, synthetic
from gradwise.data.catalog import BUILTIN_DATASETS
from gradwise.data.raw import BUILTINS, FILE_FORMATS, SOURCE_KINDS
from gradwise.errors import ConfigError
from tests.conftest import run_python
from tests.data.conftest import one_line


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An image folder: one sub-folder per class."""
    from PIL import Image

    for label in ("cat", "dog"):
        (tmp_path / "imgs" / label).mkdir(parents=True)
        for index in range(3):
            pixels = np.full((10, 12), 40 * index, dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / "imgs" / label / f"{index}.png")
    return tmp_path / "imgs"


def check(source: str | Path, **given) -> dict:
    return load_config({"data": {"source": str(source), "options": given}}).data.options


def refused(source: str | Path, **given) -> str:
    with pytest.raises(ConfigError) as caught:
        check(source, **given)
    return one_line(str(caught.value))


# ------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("source", "given", "start"),
    [
        (
            "synthetic:moons",
            {"n_sample": 10},
            "data.options.n_sample: unknown key (did you mean 'n_samples'?); "
            "valid keys here: scale_target, n_samples, noise",
        ),
        (
            "synthetic:signals",
            {"lenght": 10},
            "data.options.lenght: unknown key (did you mean 'length'?)",
        ),
        (
            "sklearn:digits",
            {"as_images": True},
            "data.options.as_images: unknown key (did you mean 'as_image'?); "
            "valid keys here: scale_target, as_image",
        ),
        (
            "sklearn:iris",
            {"as_image": True},
            "data.options.as_image: unknown key; valid keys here: scale_target",
        ),
        (
            "mnist1d",
            {"num_sample": 500},
            "data.options.num_sample: unknown key (did you mean 'num_samples'?)",
        ),
        (
            "rdata:datasets/iris",
            {"sep": ";"},
            "data.options.sep: unknown key; valid keys here: scale_target",
        ),
        (
            "table.csv",
            {"seperator": ";"},
            "data.options.seperator: unknown key; valid keys here: scale_target, sep",
        ),
        (
            "table.parquet",
            {"sep": ";"},
            "data.options.sep: unknown key; valid keys here: scale_target",
        ),
        (
            "arrays.npz",
            {"image_size": 8},
            "data.options.image_size: unknown key; valid keys here: scale_target",
        ),
    ],
)
def test_unknown_option_names_the_key(source: str, given: dict, start: str):
    assert refused(source, **given).startswith(f"config: {start}")


def test_unknown_option_of_an_image_folder(folder: Path):
    assert refused(folder, image_sise=8) == (
        "config: data.options.image_sise: unknown key (did you mean 'image_size'?); "
        "valid keys here: scale_target, image_size, channels"
    )


@pytest.mark.parametrize(
    ("source", "given", "expected"),
    [
        (
            "synthetic:moons",
            {"n_samples": "many"},
            "data.options.n_samples: must be a valid "
            "integer, unable to parse string as an integer, got 'many'",
        ),
        (
            "synthetic:classification",
            {"n_samples": 0},
            "data.options.n_samples: must be greater than or equal to 1, got 0",
        ),
        (
            "synthetic:classification",
            {"weights": "skewed"},
            "data.options.weights: must be a valid list, got 'skewed'",
        ),
        (
            "sklearn:digits",
            {"as_image": "maybe"},
            "data.options.as_image: must be a valid "
            "boolean, unable to interpret input, got 'maybe'",
        ),
        ("mnist1d", {"padding": [36]}, "data.options.padding.1: missing required key"),
        (
            "table.csv",
            {"sep": ""},
            "data.options.sep: must have at least 1 character, got ''",
        ),
        (
            "synthetic:regression",
            {"scale_target": "no way"},
            "data.options.scale_target: must be "
            "a valid boolean, unable to interpret input, got 'no way'",
        ),
    ],
)
def test_wrong_type_names_the_key(source: str, given: dict, expected: str):
    assert refused(source, **given) == f"config: {expected}"


def test_wrong_type_for_an_image_folder(folder: Path):
    assert refused(folder, channels=2).startswith(
        "config: data.options.channels: must be 1 or 3, got 2"
    )


def test_unknown_sources_are_left_to_the_reader():
    # which options apply is unknown; reading the source says what is wrong with it
    assert check("synthetic:moon", n_samples=10) == {"n_samples": 10}
    assert check("no-such-dataset", anything=1) == {"anything": 1}


# ----------------------------------------------------------------------------- good input
@pytest.mark.parametrize(
    ("source", "given"),
    [
        ("synthetic:classification", {"n_samples": 200, "weights": [0.9, 0.1], "flip_y": 0}),
        ("synthetic:regression", {"n_targets": 2, "noise": 0.5, "scale_target": False}),
        ("synthetic:moons", {"n_samples": 50, "noise": 0.1}),
        ("synthetic:blobs", {"centers": [[0, 0], [3, 3]], "cluster_std": [0.5, 1.0]}),
        ("synthetic:signals", {"length": 32, "n_classes": 3}),
        ("synthetic:images", {"size": 8, "noise": 0.0}),
        ("sklearn:digits", {"as_image": True}),
        ("sklearn:iris", {}),
        ("mnist1d", {"num_samples": 500, "seed": 3, "padding": [30, 50]}),
        ("rdata:datasets/iris", {"scale_target": True}),
        ("table.csv", {"sep": ";"}),
        ("table.parquet", {}),
        ("arrays.npz", {}),
    ],
)
def test_each_source_accepts_its_options(source: str, given: dict):
    assert check(source, **given) == given  # kept as written (the mnist1d cache key)
    model = options.options_model(source)
    assert model is not None
    parsed = model.model_validate(given)
    assert parsed.given_args() == {k: v for k, v in given.items() if k != "scale_target"}


def test_an_image_folder_accepts_its_options(folder: Path):
    check(folder, image_size=[6, 7], channels=1)
    raw = read_source(
        load_config({"data": {"source": str(folder), "options": {"image_size": [6, 7]}}}).data
    )
    assert raw.x.shape == (6, 1, 6, 7)


def test_sources_read_the_checked_options(tmp_path: Path):
    path = tmp_path / "semi.csv"
    pd.DataFrame({"a": [1, 2], "b": [3, 4]}).to_csv(path, sep=";", index=False)
    raw = read_source(load_config({"data": {"source": str(path), "options": {"sep": ";"}}}).data)
    assert list(raw.table.columns) == ["a", "b"]
    raw = read_source(
        load_config(
            {"data": {"source": "synthetic:signals", "options": {"n_samples": 30, "length": 16}}}
        ).data
    )
    assert raw.x.shape == (30, 1, 16)


# ------------------------------------------------------------------------------- contracts
def test_every_registered_source_declares_its_options():
    assert set(SOURCE_KINDS) == set(options.PREFIXED_OPTIONS)
    assert set(BUILTINS) == set(options.BUILTIN_OPTIONS)
    assert set(FILE_FORMATS) == set(options.FILE_OPTIONS)
    assert set(synthetic.GENERATORS) == set(options.SYNTHETIC_OPTIONS)
    assert set(builtin.SKLEARN_SETS) == set(options.SKLEARN_OPTIONS)
    for entry in BUILTIN_DATASETS:
        assert options.options_model(entry["name"]) is not None, entry["name"]
    # the readers that read options by name use the models the config checks against
    assert options.options_model("table.csv") is options.CsvOptions
    assert options.options_model("sklearn:digits") is options.DigitsOptions


def test_mnist1d_options_have_the_generator_defaults():
    from mnist1d.data import get_dataset_args

    defaults = get_dataset_args(as_dict=True)
    defaults.pop("url")  # only the downloader reads it
    assert options.Mnist1dOptions().model_dump(mode="json", exclude={"scale_target"}) == defaults


def test_checking_options_imports_neither_torch_nor_pandas():
    code = (
        "import sys; from gradwise.config import load_config; "
        "load_config({'data': {'source': 'synthetic:moons', 'options': {'n_samples': 10}}}); "
        "bad = [m for m in ('torch', 'pandas', 'sklearn') if m in sys.modules]; "
        "assert not bad, bad"
    )
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr
