"""Reports of real tiny runs: sections, images, the layer table and test results checked against
the run's own numbers, the multi-run page, the train hook and the command line."""

from __future__ import annotations

import json
import re
import shutil
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest

from gradwise.cli.main import main
from gradwise.report import write_report
from gradwise.report.context import ReportContext
from gradwise.report.model_summary import layer_table
from gradwise.report.plugin import write_run_report
from gradwise.report.results import confusion_counts, predicted_classes, split_outputs
from tests.conftest import tiny_config
from tests.report.fixtures import decode_png, parse_page, table_with_header, write_study

URL = re.compile(r"(?i)\b(?:https?|ftp|wss?|file)://|url\(|@import")
RUN_SECTIONS = ["experiment", "model", "learning_curves", "results", "diagnostics"]


def assert_self_contained(text: str) -> None:
    page = parse_page(text)
    assert not URL.search(text)
    assert not page.tags & {"script", "link", "iframe", "object", "embed", "base"}
    assert all(link.startswith(("data:image/png;base64,", "#")) for link in page.links)
    for src, alt in page.images:
        assert alt, "every image says what it shows"
        assert decode_png(src).width > 100


def test_train_writes_report_html_by_default(classification_run: Path):
    report = classification_run / "report.html"  # only the RUN_FINISHED hook writes it here
    text = report.read_text(encoding="utf-8")
    assert parse_page(text).sections == RUN_SECTIONS
    assert_self_contained(text)


def test_report_enabled_false_writes_no_report(regression_run: Path):
    assert not (regression_run / "report.html").exists()


def test_classification_report(classification_run: Path, tmp_path: Path):
    result = write_report(classification_run, tmp_path / "page.html")
    assert result.sections == RUN_SECTIONS
    text = result.path.read_text(encoding="utf-8")
    assert_self_contained(text)
    page = parse_page(text)
    # learning curves, confusion matrix, gradient flow, dead/saturated units
    assert len(page.images) == 4
    assert {"Dataset", "Classes and their balance", "Per-class metrics (test)"} <= set(
        page.headings
    )
    classes = table_with_header(page, "class")
    assert [row[0] for row in classes[1:]] == ["setosa", "versicolor", "virginica"]
    per_class = next(rows for rows in page.tables if rows[0][:2] == ["class", "precision"])
    assert [row[0] for row in per_class[1:]] == [
        "setosa",
        "versicolor",
        "virginica",
        "macro average",
    ]
    assert per_class[-1][-1] == "30"  # test support


def test_layer_table_matches_the_model(classification_run: Path):
    context = ReportContext(classification_run)
    rows = layer_table(context.run.model, (4,))
    assert [(r.name, r.kind, r.output_shape) for r in rows] == [
        ("flatten", "Flatten", (4,)),
        ("body.0", "Linear", (16,)),
        ("body.2", "ReLU", (16,)),
        ("body.3", "Linear", (8,)),
        ("body.5", "ReLU", (8,)),
        ("head", "Linear", (3,)),
    ]
    assert (
        sum(r.parameters for r in rows)
        == context.summary["parameters"]
        == 4 * 16 + 16 + (16 * 8 + 8) + (8 * 3 + 3)
    )


def test_recomputed_predictions_agree_with_the_runs_test_metrics(classification_run: Path):
    context = ReportContext(classification_run)
    outputs, targets = split_outputs(context)
    counts = confusion_counts(targets, predicted_classes(outputs), 3)
    assert counts.sum() == context.profile["splits"]["test"]
    accuracy = counts.trace() / counts.sum()
    assert accuracy == pytest.approx(context.summary["test"]["accuracy"], abs=1e-9)


def test_regression_report(regression_run: Path):
    result = write_report(regression_run)  # default output: RUN/report.html
    assert result.path == regression_run / "report.html"
    assert result.sections == RUN_SECTIONS
    text = result.path.read_text(encoding="utf-8")
    assert_self_contained(text)
    page = parse_page(text)
    assert any(
        "Predicted vs actual" in alt or "predicted vs actual" in alt for _, alt in page.images
    )
    residuals = table_with_header(page, "target")
    test_rmse = json.loads((regression_run / "summary.json").read_text())["test"]["rmse"]
    assert float(residuals[1][3]) == pytest.approx(test_rmse, rel=1e-3)  # original units
    assert "Confusion matrix" not in text


@pytest.fixture(scope="module")
def second_classification_run(classification_run: Path) -> Path:
    import gradwise

    config = tiny_config(
        "sklearn:iris",
        name="iris",
        model={"hidden": [16, 8]},
        train={"epochs": 2, "optimizer": {"lr": 0.003}},
        diagnose={"enabled": False},
        report={"enabled": False},
    )
    return gradwise.train(config, out=classification_run.parent).path


def test_several_runs_are_compared_on_one_page(classification_run, second_classification_run):
    runs = [classification_run, second_classification_run]
    result = write_report(runs)
    assert result.path == classification_run.parent / "runs-report.html"
    assert result.sections == ["runs", "curves", "metrics", "config"]
    text = result.path.read_text(encoding="utf-8")
    assert_self_contained(text)
    page = parse_page(text)
    assert len(page.images) == 1
    metrics = table_with_header(page, "metric")
    assert metrics[0][1:] == [classification_run.name, second_classification_run.name]
    assert "test accuracy" in [row[0] for row in metrics]
    differences = {row[0]: row[1:] for row in table_with_header(page, "config key")[1:]}
    assert differences["train.optimizer.lr"] == ["0.01", "0.003"]
    assert differences["train.epochs"] == ["6", "2"]
    assert "model.hidden" not in differences


def test_several_directories_must_all_be_runs(classification_run, tmp_path):
    with pytest.raises(Exception, match="not a gradwise run"):
        write_report([classification_run, tmp_path], tmp_path / "x.html")


def test_cli_prints_the_path_or_one_json_document(tmp_path, capsys):
    study = write_study(tmp_path / "study")
    out = tmp_path / "r.html"
    assert main(["report", str(study), "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert main(["report", str(study), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document == {
        "report": str(study / "report.html"),
        "sections": ["tuning"],
        "runs": [str(study)],
    }


def test_cli_error_for_a_missing_run_is_one_line(tmp_path, capsys):
    assert main(["report", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"gradwise: error: {tmp_path / 'missing'}: no such run, study or comparison directory"
    ]


def test_the_train_hook_warns_instead_of_failing_a_finished_run(tmp_path):
    run = SimpleNamespace(
        path=tmp_path, config=SimpleNamespace(report=SimpleNamespace(enabled=True))
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        write_run_report(run)  # an empty folder: nothing to report
    assert len(caught) == 1 and "report.html not written" in str(caught[0].message)
    run.config.report.enabled = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_run_report(run)


def test_a_run_without_checkpoints_still_gets_a_page(classification_run, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(classification_run, broken)
    shutil.rmtree(broken / "checkpoints")
    summary = json.loads((broken / "summary.json").read_text())
    summary.update(status="failed", error="non-finite loss at step 3")
    summary.pop("test")
    (broken / "summary.json").write_text(json.dumps(summary))
    result = write_report(broken, tmp_path / "broken.html")
    assert result.sections == RUN_SECTIONS
    text = result.path.read_text(encoding="utf-8")
    assert "Stopped with an error: non-finite loss at step 3" in text
    assert text.count("This section could not be drawn") == 1  # the model: no weights
    assert "No test results: the run did not complete." in text
    assert_self_contained(text)


def test_the_report_after_training_reuses_the_trained_run(tmp_path: Path, monkeypatch):
    import gradwise
    import gradwise.api

    loads = []
    load_data = gradwise.api.load_data
    monkeypatch.setattr(
        gradwise.api, "load_data", lambda *a, **k: loads.append(1) or load_data(*a, **k)
    )
    run = gradwise.train(tiny_config("sklearn:iris"), out=tmp_path)
    assert (run.path / "report.html").is_file()
    assert len(loads) == 1  # the report used the run's own test split, not a second load
