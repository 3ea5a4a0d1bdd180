"""``gradwise export``: every registered model kind, exported as ONNX and TorchScript, predicts
the run's test split as gradwise does (probabilities, and values for regression) when fed
features built from the written JSON alone; bad input is one line and exit status 2."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import gradwise
from gradwise.cli.main import main
from gradwise.config.models import MODEL_CONFIGS
from gradwise.data import load_splits
from gradwise.export import EXPORT_FORMATS, export_run, preprocessing_path
from gradwise.export.formats import ExportError
from gradwise.tasks.checks import MODEL_INPUTS
from tests.conftest import run_cli_torch_free

PARITY = 1e-5  # max absolute difference with gradwise's own predictions
# small versions of each kind (a kind added later trains with its defaults)
KIND_OPTIONS: dict[str, dict[str, Any]] = {
    "mlp": {"hidden": [16]},
    "cnn1d": {"channels": [4, 8], "hidden": [8]},
    "cnn2d": {"channels": [4, 8]},
    "rnn": {"hidden_size": 8},
    "transformer": {"d_model": 16, "heads": 2, "layers": 1, "feedforward": 32},
}
ARRAY_SHAPES = {"signal": (2, 16), "image": (1, 8, 8)}


def array_source(folder: Path, input_kind: str) -> Path:
    """An NPZ of 160 examples shaped for ``input_kind``, labels from their means."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(160, *ARRAY_SHAPES[input_kind])) * 3.0 + 1.0
    y = np.where(x.reshape(160, -1).mean(axis=1) > 1.0, "high", "low")
    path = folder / f"{input_kind}.npz"
    np.savez(path, x=x, y=y)
    return path


def train_run(folder: Path, source: Path, kind: str, task: str = "classification", **data):
    config = {
        "name": f"export-{kind}",
        "task": task,
        "data": {"source": str(source), "valid": 0.1, "test": 0.25, **data},
        "model": {"kind": kind, **KIND_OPTIONS.get(kind, {})},
        "train": {"epochs": 2, "batch_size": 32, "device": "cpu"},
        "diagnose": {"enabled": False},
        "report": {"enabled": False},
    }
    return gradwise.train(config, out=folder / "runs")


DATE_PARTS = {  # as the JSON's recipe for a date column describes them
    "year": lambda when: when.dt.year,
    "month": lambda when: when.dt.month,
    "day": lambda when: when.dt.day,
    "weekday": lambda when: when.dt.weekday,
    "hour": lambda when: when.dt.hour,
    "elapsed_days": lambda when: (when - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1),
}


def date_block(column: dict[str, Any], cells: pd.Series) -> np.ndarray:
    when = pd.to_datetime(cells, utc=True).dt.tz_localize(None)
    parts = np.column_stack([DATE_PARTS[part](when).to_numpy(float) for part in column["parts"]])
    return np.where(np.isnan(parts), np.asarray(column["fill"]), parts)


def features_from_spec(spec: dict[str, Any], raw: pd.DataFrame | np.ndarray) -> np.ndarray:
    """Another runtime's preprocessing, from the JSON alone: fill missing cells, one-hot the
    categories, take the parts of dates, leave the scaling to the model."""
    if "columns" not in spec:
        return np.asarray(raw, dtype=np.float64)
    blocks = []
    for column in spec["columns"]:
        if column["kind"] == "datetime":
            blocks.append(date_block(column, raw[column["name"]]))
            continue
        cells = raw[column["name"]].where(raw[column["name"]].notna(), column["fill"])
        if column["kind"] == "numeric":
            blocks.append(cells.to_numpy(dtype=np.float64)[:, None])
        elif column["kind"] == "embedded":  # the category's index, -1 when unseen
            index = {category: i for i, category in enumerate(column["categories"])}
            blocks.append(np.array([[index.get(c, -1)] for c in cells], dtype=np.float64))
        else:
            categories = column["categories"]
            blocks.append((cells.to_numpy()[:, None] == np.asarray(categories)[None]) * 1.0)
    return np.concatenate(blocks, axis=1)  # float64, as the model's input


def raw_test_rows(run: Any, source: Path, target_kind: str) -> pd.DataFrame | np.ndarray:
    """The run's test rows as they are in the source file, before any preprocessing."""
    rows = load_splits(run.config.data, target_kind, run.config.seed).indices["test"]
    if source.suffix == ".npz":
        return np.load(source)["x"][rows]
    return pd.read_csv(source).iloc[rows].drop(columns=[run.config.data.target])


def exported_predictions(path: Path, features: np.ndarray, format_name: str) -> np.ndarray:
    return EXPORT_FORMATS.get(format_name).load_writer().run(path, features)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("export")


@pytest.fixture(scope="module")
def table_source(folder: Path) -> Path:
    """A table with a categorical column, one with 15 categories (embedded by the MLP), a date
    column and missing values (also in the test rows)."""
    rng = np.random.default_rng(0)
    n = 200
    frame = pd.DataFrame({"x1": rng.normal(size=n) * 5 + 20, "x2": rng.normal(size=n)})
    frame["colour"] = rng.choice(["red", "green", "blue"], size=n)
    frame["shop"] = rng.choice([f"s{i}" for i in range(15)], size=n)
    frame["label"] = np.where(frame["x1"] / 5 + frame["x2"] > 4 + (frame["colour"] == "red"), 1, 0)
    sold = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.uniform(0, 700, size=n), unit="D")
    frame["sold"] = sold.strftime("%Y-%m-%dT%H:%M")
    frame.loc[::7, "x2"] = np.nan
    frame.loc[3::11, "sold"] = None
    path = folder / "table.csv"
    frame.to_csv(path, index=False)
    return path


def source_for(kind: str, folder: Path, table_source: Path) -> tuple[Path, dict[str, str]]:
    input_kind = MODEL_INPUTS.get(kind, ("tabular",))[0]
    if input_kind == "tabular":
        return table_source, {"target": "label"}
    return array_source(folder, input_kind), {}


@pytest.mark.parametrize("kind", list(MODEL_CONFIGS))
def test_every_model_kind_exports_with_parity(kind: str, folder: Path, table_source: Path) -> None:
    source, data = source_for(kind, folder, table_source)
    run = train_run(folder / kind, source, kind, **data)
    raw = raw_test_rows(run, source, "labels")
    expected = run.predict_proba(raw)
    assert len(expected) >= 40  # the test split, a batch size the export never saw
    for format_name in EXPORT_FORMATS:
        output = folder / kind / f"model.{format_name}"
        written = export_run(run.path, format_name, output)
        spec = json.loads(preprocessing_path(output).read_text())
        assert spec["classes"] == run.classes and spec["folded_into_model"][0] == "scaling"
        found = exported_predictions(output, features_from_spec(spec, raw), format_name)
        assert found.shape == expected.shape
        assert np.abs(found - expected).max() <= PARITY, (kind, format_name)
        assert written["check"]["max_abs_diff"] <= PARITY


def test_regression_exports_values_in_target_units(folder: Path, regression_csv: Path) -> None:
    run = train_run(folder / "regression", regression_csv, "mlp", "regression", target="price")
    raw = raw_test_rows(run, regression_csv, "values")
    expected = run.predict(raw)
    for format_name in EXPORT_FORMATS:
        output = folder / "regression" / f"model.{format_name}"
        export_run(run.path, format_name, output)
        spec = json.loads(preprocessing_path(output).read_text())
        assert spec["output"]["name"] == "values" and "target_scaling" in spec["folded_into_model"]
        found = exported_predictions(output, features_from_spec(spec, raw), format_name)
        assert np.abs(found[:, 0] - expected).max() <= PARITY


def test_onnx_batch_dimension_is_dynamic(folder: Path, table_source: Path) -> None:
    import onnx

    run = train_run(folder / "dynamic", table_source, "mlp", target="label")
    output = folder / "dynamic" / "model.onnx"
    export_run(run.path, "onnx", output)
    graph = onnx.load(str(output)).graph
    for tensor in (graph.input[0], graph.output[0]):
        assert tensor.type.tensor_type.shape.dim[0].dim_param == "batch"
    spec = json.loads(preprocessing_path(output).read_text())
    kinds = [column["kind"] for column in spec["columns"]]
    assert kinds == ["numeric", "numeric", "categorical", "embedded", "datetime"]  # own recipes
    positions = [p for column in spec["columns"] for p in column["positions"]]
    assert positions == list(range(spec["input"]["shape"][1]))
    one_row = np.zeros((1, spec["input"]["shape"][1]))
    assert exported_predictions(output, one_row, "onnx").shape == (1, 2)


# ------------------------------------------------------------------------------- bad input
@pytest.fixture(scope="module")
def small_run(folder: Path, table_source: Path) -> Any:
    return train_run(folder / "small", table_source, "mlp", target="label")


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_json_prints_one_document(small_run, tmp_path: Path, capsys) -> None:
    output = tmp_path / "out" / "model.onnx"
    code, out, _ = cli(
        capsys, "export", str(small_run.path), "--format", "onnx", "-o", str(output), "--json"
    )
    written = json.loads(out)
    assert code == 0 and written["output"] == str(output) and output.is_file()
    assert written["preprocessing"] == str(tmp_path / "out" / "model.onnx.preprocess.json")


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("not_a_run", "not a gradwise run"),
        ("missing_run", "no such run directory"),
        ("unknown_format", "unknown export format 'onx' (did you mean 'onnx'?)"),
        ("output_is_folder", "is a folder"),
        ("output_under_a_file", "is not a folder"),
        ("output_in_proc", "cannot write"),  # refused even to root
    ],
)
def test_bad_input_is_one_line_and_exit_2(small_run, tmp_path: Path, capsys, case, message):
    run_dir, fmt, output = str(small_run.path), "onnx", tmp_path / "model.onnx"
    (tmp_path / "plain").mkdir()
    (tmp_path / "file.txt").write_text("x")
    if case == "not_a_run":
        run_dir = str(tmp_path / "plain")
    elif case == "missing_run":
        run_dir = str(tmp_path / "nowhere")
    elif case == "unknown_format":
        fmt = "onx"
    elif case == "output_is_folder":
        output = tmp_path / "plain"
    elif case == "output_under_a_file":
        output = tmp_path / "file.txt" / "model.onnx"
    elif case == "output_in_proc":
        output = Path("/proc/gradwise-export/model.onnx")
    code, out, err = cli(capsys, "export", run_dir, "--format", fmt, "-o", str(output))
    assert code == 2 and out == "" and message in err and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt", "plain"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
def test_unwritable_output_folder(small_run, tmp_path: Path, capsys) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, _, err = cli(
        capsys, "export", str(small_run.path), "--format", "onnx", "-o", str(locked / "m.onnx")
    )
    assert code == 2 and "permission denied" in err and not any(locked.iterdir())


def test_missing_extra_names_it(small_run, tmp_path: Path, capsys, monkeypatch) -> None:
    from gradwise.export import formats

    real = formats.importlib.util.find_spec
    monkeypatch.setattr(
        formats.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "onnxruntime" else real(name, *a),
    )
    code, _, err = cli(
        capsys, "export", str(small_run.path), "--format", "onnx", "-o", str(tmp_path / "m.onnx")
    )
    assert code == 2 and "pip install 'gradwise[export]'" in err and err.count("\n") == 1
    assert not any(tmp_path.iterdir())


def test_failed_export_leaves_nothing(small_run, tmp_path: Path, monkeypatch) -> None:
    from gradwise.export import torchscript_writer

    def broken(module, example, path):
        raise RuntimeError("cannot compile this model\nsecond line")

    monkeypatch.setattr(torchscript_writer, "write", broken)
    with pytest.raises(ExportError, match=r"could not be exported: cannot compile this model$"):
        export_run(small_run.path, "torchscript", tmp_path / "m.pt")
    assert not any(tmp_path.iterdir())


def test_command_and_package_import_without_torch() -> None:
    result = run_cli_torch_free(["export", "--help"])
    assert result.returncode == 0, result.stderr
    assert "onnx | torchscript" in result.stdout
