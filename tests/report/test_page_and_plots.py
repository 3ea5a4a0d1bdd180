"""Page building blocks and figures: escaping, self-containment, PNG output, and the per-class
arithmetic checked against scikit-learn."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from gradwise.report import heatmaps, plots
from gradwise.report.diagnostics import layer_series
from gradwise.report.page import Raw, RenderedSection, format_value, image, render_page, table
from gradwise.report.results import confusion_counts, per_class_scores, predicted_classes
from gradwise.report.size_curves import size_curves_png
from tests.conftest import run_python
from tests.report.fixtures import decode_png, diagnostics_records, parse_page, tiny_png

URL = re.compile(r"(?i)\b(?:https?|ftp|wss?|file)://|url\(|@import")


def png_size(data: bytes) -> tuple[int, int]:
    picture = Image.open(io.BytesIO(data))
    picture.load()
    return picture.size


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "–"),
        (True, "yes"),
        (12345, "12,345"),
        (0.000123456, "0.0001235"),
        (2.5e7, "2.500e+07"),
        (float("nan"), "nan"),
        ("<b>", "&lt;b&gt;"),
        ([1, 2], "[1, 2]"),
    ],
)
def test_format_value(value, text):
    assert format_value(value) == text


def test_table_escapes_cells_but_not_raw_html():
    html = table(["name", "bar"], [["<script>x</script>", Raw("<span class=bar></span>")]])
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<span class=bar></span>" in html


def test_image_refuses_bytes_that_are_not_png():
    with pytest.raises(ValueError, match="not a PNG"):
        image(b"GIF89a....", "a gif")


def test_page_is_self_contained_with_a_content_policy():
    text = render_page("a <run>", "sub", [RenderedSection("one", "One", image(tiny_png(), "x"))])
    page = parse_page(text)
    assert page.sections == ["one"]
    assert "default-src 'none'" in text  # a browser may load nothing from anywhere
    assert not URL.search(text)
    assert not page.tags & {"script", "link", "iframe", "object", "embed"}
    assert all(link.startswith(("data:image/png;base64,", "#")) for link in page.links)
    assert decode_png(page.images[0][0]).size == (3, 2)
    assert "a &lt;run&gt;" in text


def test_step_edges_put_each_sample_in_its_own_cell():
    edges = heatmaps.step_edges([1, 50, 100])
    np.testing.assert_allclose(edges, [0.0, 25.5, 75.0, 125.0])  # the first cell stops at 0
    np.testing.assert_allclose(heatmaps.step_edges([100, 200, 300]), [50, 150, 250, 350])
    np.testing.assert_allclose(heatmaps.step_edges([7]), [6.5, 7.5])


def test_figures_are_pngs_of_the_planned_size():
    metrics = [
        {
            "epoch": e,
            "lr": 0.1 / e,
            "train_loss": 1 / e,
            "valid_loss": 1.2 / e,
            "valid_accuracy": 1 - 1 / (e + 1),
        }
        for e in range(1, 41)
    ]
    curves = plots.learning_curves_png(metrics, "accuracy", 40, "cross_entropy")
    assert png_size(curves) == (plots.FULL_WIDTH * plots.DPI, 360)
    assert b"matplotlib.org" not in curves  # no Software text chunk carrying a URL
    confusion = plots.confusion_png(np.array([[5, 1], [2, 7]]), ["no", "yes"])
    assert png_size(confusion)[0] > 300
    records = diagnostics_records()
    grads = layer_series(records, "layers", "grad_norm")
    flow = heatmaps.gradient_flow_png(
        [r["step"] for r in records], [r["epoch"] for r in records], grads.labels, grads.values
    )
    assert png_size(flow)[0] == plots.FULL_WIDTH * plots.DPI
    rng = np.random.default_rng(0)
    actual = rng.normal(size=(50, 2))
    scatter = plots.regression_png(actual, actual + 0.1, ["price", "rent"])
    assert png_size(scatter) == (1100, 800)  # one row of two panels per target


def test_layer_series_keeps_forward_order_and_marks_missing_values():
    records = diagnostics_records(samples=3)
    del records[1]["layers"][2]  # head missing from the second sample
    series = layer_series(records, "layers", "grad_norm")
    assert series.labels == ["body.0 (Linear)", "body.3 (Linear)", "head (Linear)"]
    np.testing.assert_allclose(series.values[0], [1.0, 0.1, 0.01])
    assert np.isnan(series.values[2, 1]) and series.values[2, 2] == 0.5
    saturated = layer_series(records, "activations", "saturated_fraction")
    assert np.isnan(saturated.values[0]).all()  # ReLU reports null
    np.testing.assert_allclose(saturated.values[1], 0.25)


def test_per_class_scores_match_scikit_learn():
    rng = np.random.default_rng(3)
    true = rng.integers(0, 4, size=300)
    predicted = np.where(rng.random(300) < 0.6, true, rng.integers(0, 4, size=300))
    predicted[predicted == 3] = 2  # class 3 is never predicted: precision 0, not NaN
    counts = confusion_counts(true, predicted, 4)
    np.testing.assert_array_equal(counts, confusion_matrix(true, predicted, labels=range(4)))
    scores = per_class_scores(counts)
    reference = precision_recall_fscore_support(true, predicted, labels=range(4), zero_division=0)
    for mine, theirs in zip(("precision", "recall", "f1", "support"), reference, strict=True):
        np.testing.assert_allclose(scores[mine], theirs)


def test_predicted_classes_from_logits_and_from_one_binary_logit():
    np.testing.assert_array_equal(predicted_classes(np.array([[0.1, 2.0], [3.0, -1.0]])), [1, 0])
    np.testing.assert_array_equal(predicted_classes(np.array([[0.3], [-0.2]])), [1, 0])


def test_figure_writers_leave_pyplot_alone_and_embed_no_software_chunk(tmp_path):
    # drawing must not import pyplot (which would pick or switch a notebook user's backend)
    code = f"""
import sys
from pathlib import Path
from gradwise.report.size_curves import size_curves_png
from gradwise.tuning import plots as study_plots
from tests.report.fixtures import COMPARE
out = Path({str(tmp_path)!r})
(out / "size.png").write_bytes(size_curves_png(COMPARE))
study_plots.importances_png({{"train.optimizer.lr": 0.7}}, "valid_loss", out / "importances.png")
board = [{{"trial": 0, "state": "complete", "value": 0.5, "params": {{}}}}]
study_plots.history_png(board, "valid_loss", "minimize", out / "history.png")
assert "matplotlib.pyplot" not in sys.modules, "pyplot imported"
"""
    root = Path(__file__).resolve().parents[2]  # for ``tests.report.fixtures``
    result = run_python("-c", code, cwd=root)
    assert result.returncode == 0, result.stderr
    for name in ("size.png", "importances.png", "history.png"):
        data = (tmp_path / name).read_bytes()
        assert data.startswith(b"\x89PNG") and b"Software" not in data and b"matplotlib" not in data
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "history.png",
        "importances.png",
        "size.png",
    ]


def test_size_curves_tolerate_older_and_partial_documents():
    # no family, seeds or higher_is_better; a point without a mean is left out
    document = {
        "metric": "rmse",
        "learning_curves": [
            {"model": "ridge", "n_train": 10, "mean": 3.0, "std": None},
            {"model": "ridge", "n_train": 40, "mean": 2.0, "std": 0.5},
            {"model": "mlp", "n_train": 40, "mean": None},
        ],
    }
    assert png_size(size_curves_png(document))[0] == 1100  # a missing mean is left out
    assert plots.comparison_higher_is_better(document) is False  # from the name: rmse
    assert plots.comparison_higher_is_better({**document, "higher_is_better": True}) is True
