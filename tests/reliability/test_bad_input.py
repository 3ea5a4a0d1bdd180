"""Bad input, case by case: configs, data files, predict inputs and paths. Each is one line on
stderr naming the file/key/column, exit status 2, and no run directory left behind."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from gradwise.cli.main import main
from tests.reliability.conftest import PARADIGMS, new_rows, one_line_error

INF = {3: "inf", 17: "-inf"}  # data rows 4 and 18
BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9) if prev else 'x, x, x, x, x, x, x, x, x'}]\n"
    for prev, name in zip(["", *"abcdefg"], "abcdefgh", strict=True)
)


def experiment(folder: Path, source: str = "good.csv", **sections) -> dict:
    config = PARADIGMS.get("classification").config(folder)
    config["data"]["source"] = str(folder / source)
    config["train"]["epochs"] = 1
    for key, value in sections.items():
        config[key] = {**config.get(key, {}), **value}
    return config


CONFIGS = {
    "a wrong type": (
        lambda f: yaml.safe_dump(experiment(f, train={"epochs": "many"})),
        "train.epochs: must be a valid integer",
    ),
    "out of range": (
        lambda f: yaml.safe_dump(experiment(f, train={"optimizer": {"lr": -1}})),
        "train.optimizer.lr: must be greater than 0",
    ),
    "an unknown key": (
        lambda f: yaml.safe_dump({**experiment(f), "trian": {}}),
        "trian: unknown key (did you mean 'train'?)",
    ),
    "an empty file": (lambda f: "", "the file is empty"),
    "a list at the top": (lambda f: "- a\n- b\n", "expected a mapping of keys at the top"),
    "a list where a mapping belongs": (
        lambda f: yaml.safe_dump({**experiment(f), "model": [1, 2]}),
        "model: must be a valid dictionary",
    ),
    "invalid YAML": (lambda f: "name: [unclosed\n", "not valid YAML at line 2"),
    "a YAML bomb": (lambda f: BOMB + "data: {source: x}\n", "expands to more than 100,000"),
    "not UTF-8": (lambda f: "name: caf\udce9\n", "cannot read the file"),
}


@pytest.mark.parametrize("case", sorted(CONFIGS))
def test_a_bad_config(tmp_path: Path, capsys, case: str):
    write, fragment = CONFIGS[case]
    (tmp_path / "good.csv").write_text("a,b,y\n1,2,yes\n")
    path = tmp_path / "exp.yaml"
    path.write_bytes(write(tmp_path).encode("utf-8", errors="surrogateescape"))
    status = main(["train", str(path), "--out", str(tmp_path / "runs"), "--quiet"])
    one_line_error(status, capsys.readouterr().err, str(path), fragment)
    assert not (tmp_path / "runs").exists()


def rows(n: int, line) -> str:
    return "".join(line(i) for i in range(n))


DATA_FILES: dict[str, tuple[bytes, str]] = {
    "empty": (b"", "is empty (0 bytes)"),
    "header only": (b"a,b,color,y\n", "has a header but no rows"),
    "ragged": (b"a,b,color,y\n1,2,red,yes\n1,2\n3,4,blue,no,9,9\n", "Expected 4 fields"),
    "binary": (bytes(np.random.default_rng(1).integers(0, 256, 3000, np.uint8)), "binary"),
    "wrong encoding": (
        (
            "a,b,color,y\n" + rows(40, lambda i: f"{i % 5},1,caf\xe9,{'yes' if i % 2 else 'no'}\n")
        ).encode("latin-1"),
        "codec can't decode",
    ),
    "one class": (
        ("a,b,color,y\n" + rows(40, lambda i: f"{i % 5},{i % 3},red,yes\n")).encode(),
        "needs at least 2 classes, found only 'yes'",
    ),
    "all-missing columns": (
        ("a,b,color,y\n" + rows(40, lambda i: f",,,{'yes' if i % 2 else 'no'}\n")).encode(),
        "no usable feature columns",
    ),
    "infinite values in a feature": (
        (
            "a,b,color,y\n"
            + rows(40, lambda i: f"{INF.get(i, i)},1,red,{'yes' if i % 2 else 'no'}\n")
        ).encode(),
        "data.source: column 'a' of '{folder}/data.csv' holds ±inf in 2 row(s) (the first is "
        "data row 4); inputs must be finite",
    ),
    "no target column": (
        ("a,b,color\n" + rows(40, lambda i: f"{i % 5},{i % 3},red\n")).encode(),
        "data.target: column 'y' not found",
    ),
}


@pytest.mark.parametrize("case", sorted(DATA_FILES))
def test_a_bad_data_file(tmp_path: Path, capsys, case: str):
    content, fragment = DATA_FILES[case]
    (tmp_path / "data.csv").write_bytes(content)
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(experiment(tmp_path, "data.csv")))
    status = main(["train", str(path), "--out", str(tmp_path / "runs"), "--quiet"])
    one_line_error(status, capsys.readouterr().err, fragment.format(folder=tmp_path))
    assert not (tmp_path / "runs").exists()


def test_an_infinite_regression_target(tmp_path: Path, capsys):
    (tmp_path / "data.csv").write_text(
        "a,b,y\n" + rows(40, lambda i: f"{i % 5},{i % 3},{'inf' if i == 3 else i / 2}\n")
    )
    config = experiment(tmp_path, "data.csv")
    config["task"] = "regression"
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(config))
    status = main(["train", str(path), "--out", str(tmp_path / "runs"), "--quiet"])
    source = tmp_path / "data.csv"
    line = f"data.target: column 'y' of '{source}' holds ±inf in 1 row(s) (the first is data row 4)"
    one_line_error(status, capsys.readouterr().err, line)
    assert not (tmp_path / "runs").exists()


def predict(run: Path, frame: pd.DataFrame, folder: Path) -> tuple[int, Path]:
    source, output = folder / "in.csv", folder / "out.csv"
    frame.to_csv(source, index=False)
    return main(["predict", str(run), str(source), "-o", str(output)]), output


@pytest.fixture
def table_run(trained_runs) -> Path:
    return trained_runs("classification")


def test_predict_reads_columns_by_name_in_any_order_and_ignores_extra_ones(
    table_run: Path, tmp_path: Path
):
    base = pd.read_csv(new_rows(tmp_path))
    assert predict(table_run, base, tmp_path)[0] == 0
    expected = pd.read_csv(tmp_path / "out.csv")
    shuffled = base[["color", "b", "a"]].assign(extra=1.0)
    assert predict(table_run, shuffled, tmp_path)[0] == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "out.csv"), expected)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda f: f.drop(columns="b"), "'b'"),
        (lambda f: f.assign(a="seven"), "column 'a': expected numbers, found 'seven'"),
        (lambda f: f.iloc[:0], "no rows"),
        (
            lambda f: f.assign(a=f["a"].mask(f.index == 1, -np.inf)),
            "column 'a': holds ±inf in 1 row(s) (the first is row 2); inputs must be finite",
        ),
    ],
    ids=["a missing column", "a wrong type", "no rows", "an infinite value"],
)
def test_a_bad_predict_input(table_run: Path, tmp_path: Path, capsys, change, fragment):
    status, output = predict(table_run, change(pd.read_csv(new_rows(tmp_path))), tmp_path)
    one_line_error(status, capsys.readouterr().err, fragment)
    assert not output.exists()


def test_paths(tmp_path: Path, capsys, table_run: Path):
    missing = tmp_path / "nope.yaml"
    one_line_error(main(["train", str(missing)]), capsys.readouterr().err, str(missing))
    one_line_error(main(["train", str(tmp_path)]), capsys.readouterr().err, str(tmp_path))
    a_file = tmp_path / "file"
    a_file.write_text("x")
    status = main(["train", str(missing), "--out", str(a_file)])
    one_line_error(status, capsys.readouterr().err)
    status = main(["predict", str(tmp_path / "no-run"), str(a_file), "-o", "x.csv"])
    one_line_error(status, capsys.readouterr().err, "no-run")


def test_non_ascii_names_work(tmp_path: Path, capsys):
    folder = tmp_path / "données-ü"
    folder.mkdir()
    config = PARADIGMS.get("regression").config(folder)
    config["name"] = "expérience-β"
    path = folder / "expérience.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    assert main(["train", str(path), "--out", str(folder / "runs"), "--quiet"]) == 0
    (run,) = (folder / "runs").iterdir()
    assert run.name.startswith("expérience-β-")


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_unreadable_config_and_read_only_output(tmp_path: Path, capsys):
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(PARADIGMS.get("regression").config(tmp_path)))
    path.chmod(0)
    one_line_error(main(["train", str(path)]), capsys.readouterr().err, str(path))
    path.chmod(0o644)
    out = tmp_path / "read-only"
    out.mkdir(mode=0o555)
    status = main(["train", str(path), "--out", str(out), "--quiet"])
    one_line_error(status, capsys.readouterr().err, str(out))
