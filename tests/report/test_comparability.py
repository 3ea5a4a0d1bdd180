"""Several runs on one page compare like with like: runs of different tasks or losses get their
own curves, no "best" mark between them, and a note saying they are not comparable."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

from gradwise.report import write_report
from gradwise.report.compare_runs import best_in_row
from tests.report.fixtures import parse_page

CLASSIFICATION = "classification, loss cross_entropy, main metric accuracy"
REGRESSION = "regression, loss mse, main metric rmse"


def bold_cells(text: str, row: str) -> list[int]:
    """Run columns (0-based) whose value is bold in the metrics table row named ``row``."""
    match = re.search(rf"<tr><td>{re.escape(row)}</td>(.*?)</tr>", text)
    assert match, f"no row {row!r}"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", match.group(1))
    return [i for i, cell in enumerate(cells) if 'class="best"' in cell]


def copy_with_test(run: Path, copy: Path, **test: float) -> Path:
    """A copy of ``run`` whose summary has the given test metrics."""
    shutil.copytree(run, copy)
    summary = json.loads((copy / "summary.json").read_text())
    summary["test"].update(test)
    (copy / "summary.json").write_text(json.dumps(summary))
    return copy


def test_a_classifier_and_a_regressor_are_not_compared(
    classification_run, regression_run, tmp_path
):
    result = write_report([classification_run, regression_run], tmp_path / "mixed.html")
    text = result.path.read_text(encoding="utf-8")
    page = parse_page(text)
    assert "Not all comparable" in text
    assert f"{CLASSIFICATION}: {classification_run.name}" in text
    assert f"{REGRESSION}: {regression_run.name}" in text
    # one figure per task: cross-entropy and standardized MSE never share an axis
    assert len(page.images) == 2
    assert {CLASSIFICATION, REGRESSION} <= set(page.headings)
    assert [alt for _, alt in page.images] == [
        f"learning curves overlaid: {classification_run.name}",
        f"learning curves overlaid: {regression_run.name}",
    ]
    # both runs have a test loss, of different kinds: neither is "best"
    assert bold_cells(text, "test loss") == []
    assert 'class="best"' not in text
    assert "runs of different tasks or losses are not compared" in text


def test_comparable_runs_are_still_ranked_beside_one_that_is_not(
    classification_run, regression_run, tmp_path
):
    better = copy_with_test(classification_run, tmp_path / "better", loss=0.01, accuracy=1.0)
    regressor = copy_with_test(regression_run, tmp_path / "regressor", loss=1e-6)  # the least
    result = write_report([classification_run, regressor, better], tmp_path / "three.html")
    text = result.path.read_text(encoding="utf-8")
    assert bold_cells(text, "test loss") == [2]  # against the other classifier only
    assert bold_cells(text, "test accuracy") == [2]
    assert bold_cells(text, "test rmse") == []  # one regressor: nothing to rank
    assert len(parse_page(text).images) == 2  # the two classifiers share one figure


def test_runs_of_one_task_and_loss_need_no_note(classification_run, tmp_path):
    twin = tmp_path / "twin"
    shutil.copytree(classification_run, twin)
    text = write_report([classification_run, twin], tmp_path / "twins.html").path.read_text()
    assert "Not all comparable" not in text
    assert "Best value in each row in bold" in text


def test_best_in_row_compares_within_task_and_loss():
    runs = [
        SimpleNamespace(task="classification", loss_name="cross_entropy"),
        SimpleNamespace(task="classification", loss_name="cross_entropy"),
        SimpleNamespace(task="regression", loss_name="mse"),
        SimpleNamespace(task="classification", loss_name="bce"),
    ]
    assert best_in_row(runs, "loss", [0.5, 0.3, 0.1, 0.01]) == {1}
    assert best_in_row(runs, "accuracy", [0.7, 0.8, None, 0.9]) == {3}  # same task, any loss
    assert best_in_row(runs, "rmse", [None, None, 3.0, None]) == set()
    assert best_in_row(runs, "loss", [0.5, "n/a", 0.1, None]) == set()
