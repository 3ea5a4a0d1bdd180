"""Bad input: one line naming the key, exit status 2, and no comparison folder left behind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.comparison.test_compare_run import iris_config
from tests.conftest import run_torch_free, tiny_config


def _run(tmp_path: Path, config: dict, capsys: pytest.CaptureFixture, *extra: str) -> str:
    """Run the command in-process; return its one error line (and check nothing was written)."""
    from gradwise.cli.main import main

    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(config))
    out = tmp_path / "out"
    assert main(["compare", str(path), "--out", str(out), "--quiet", *extra]) == 2
    stderr = capsys.readouterr().err
    errors = [line for line in stderr.splitlines() if line.startswith("gradwise: error: ")]
    assert len(errors) == 1 and "Traceback" not in stderr
    assert not out.exists() or not any(out.iterdir())
    return errors[0]


def test_unknown_baseline_one_line_with_did_you_mean(tmp_path: Path, capsys):
    line = _run(tmp_path, iris_config(baselines=["random_forrest"]), capsys)
    assert line == (
        "gradwise: error: compare.baselines: unknown baseline 'random_forrest' (did you mean "
        "'random_forest'?); choose from: hist_gradient_boosting, knn, lightgbm, "
        "logistic_regression, random_forest, ridge, svm, xgboost"
    )


def test_user_errors_do_not_import_torch(tmp_path: Path):
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(iris_config(baselines=["svn"])))
    result = run_torch_free(
        "from gradwise.cli.main import main\n"
        f"assert main(['compare', {str(path)!r}, '--quiet']) == 2"
    )
    assert result.returncode == 0, result.stderr
    assert "unknown baseline 'svn' (did you mean 'svm'?)" in result.stderr


def test_fraction_out_of_range(tmp_path: Path, capsys: pytest.CaptureFixture):
    line = _run(tmp_path, iris_config(fractions=[0.5, 1.5]), capsys)
    assert "compare.fractions: every fraction must be in (0, 1]" in line and "[0.5, 1.5]" in line


def test_fraction_leaving_too_few_rows(tmp_path: Path, capsys: pytest.CaptureFixture):
    line = _run(tmp_path, iris_config(fractions=[0.05, 1.0]), capsys)
    assert "compare.fractions: 0.05 of the 105 training rows is 5 row(s)" in line


def test_metric_of_the_other_task(tmp_path: Path, capsys: pytest.CaptureFixture):
    line = _run(tmp_path, iris_config(metric="rmse"), capsys)
    assert "compare.metric: 'rmse' is not a classification metric; choose from: accuracy" in line


def test_unknown_metric_suggests(tmp_path: Path, capsys: pytest.CaptureFixture):
    line = _run(tmp_path, iris_config(metric="acuracy"), capsys)
    assert "compare.metric:" in line and "(did you mean 'accuracy'?)" in line


def test_seeds_flag_below_one(tmp_path: Path, capsys: pytest.CaptureFixture):
    line = _run(tmp_path, iris_config(), capsys, "--seeds", "0")
    assert "compare.seeds: must be greater than or equal to 1, got 0" in line


def test_baseline_of_the_other_task(tmp_path: Path, capsys: pytest.CaptureFixture):
    line = _run(tmp_path, iris_config(baselines=["ridge"]), capsys)
    assert "compare.baselines: 'ridge' is for regression, not classification" in line


def test_bad_extra_model_names_its_key(tmp_path: Path, capsys: pytest.CaptureFixture):
    line = _run(tmp_path, iris_config(models=[{"kind": "mlp", "hiden": [4]}]), capsys)
    assert "compare.models.0.hiden: unknown key (did you mean 'hidden'?)" in line


def test_unknown_compare_key(tmp_path: Path, capsys: pytest.CaptureFixture):
    config = tiny_config("sklearn:iris", compare={"seed": 2})
    line = _run(tmp_path, config, capsys)
    assert "compare.seed: unknown key (did you mean 'seeds'?)" in line


def test_out_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture):
    from gradwise.cli.main import main

    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(iris_config()))
    taken = tmp_path / "taken"
    taken.write_text("")
    assert main(["compare", str(path), "--out", str(taken), "--quiet"]) == 2
    assert f"--out {taken}: exists and is not a folder" in capsys.readouterr().err


def test_fraction_whose_subset_holds_one_class(tmp_path: Path, capsys: pytest.CaptureFixture):
    # a 3% minority: the 2% subset of the training rows holds the majority class only, which
    # logistic regression cannot fit; the error comes before any fit, naming the fraction
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x1": rng.normal(size=1000), "x2": rng.normal(size=1000)})
    frame["label"] = np.where(np.arange(1000) < 30, "rare", "common")
    frame.to_csv(tmp_path / "rare.csv", index=False)
    config = iris_config(fractions=[0.02, 1.0])
    config["data"] = {"source": str(tmp_path / "rare.csv"), "target": "label"}
    line = _run(tmp_path, config, capsys)
    assert line.startswith("gradwise: error: compare.fractions: 0.02 of the ")
    assert "rows, all of one class (the training split has 2)" in line
