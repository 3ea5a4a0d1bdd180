"""The report does no work a reader does not see (timings are in benchmarks/report_speed.py):
each figure is drawn once, and a short run's single diagnostic sample gets tables, not heatmaps.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from gradwise._plotting import render_png
from gradwise.report import render_report
from tests.report.fixtures import diagnostics_records, parse_page, write_jsonl


def test_a_figure_is_drawn_once(monkeypatch):
    draws = []
    real_draw = Figure.draw
    monkeypatch.setattr(
        Figure, "draw", lambda self, renderer: draws.append(1) or real_draw(self, renderer)
    )

    def draw(figure):
        axes = figure.subplots(1, 2)
        axes[0].plot([1, 2, 3], [3, 1, 2], label="a line")
        axes[0].legend()
        axes[1].imshow(np.arange(6).reshape(2, 3))
        figure.colorbar(axes[1].images[0], ax=axes[1]).set_label("value")

    png = render_png(draw, 6.0, 3.0)
    assert len(draws) == 1  # savefig would lay out and draw a constrained figure twice
    picture = Image.open(io.BytesIO(png))
    assert picture.size == (600, 300) and picture.mode == "RGB"  # opaque: no alpha to encode
    assert b"Software" not in png


def test_one_diagnostic_sample_is_shown_as_tables_without_heatmaps(tmp_path):
    write_jsonl(tmp_path / "diagnostics.jsonl", diagnostics_records(samples=2)[:1])
    text, _ = render_report([tmp_path])
    page = parse_page(text)
    assert page.images == []  # a heatmap over training needs two samples
    assert "One diagnostic sample (step 1, epoch 1)" in text
    assert "Layers at the last sample (step 1, epoch 1)" in page.headings
    assert "Activations at the last sample (step 1, epoch 1)" in page.headings


def test_two_diagnostic_samples_get_both_heatmaps(tmp_path):
    write_jsonl(tmp_path / "diagnostics.jsonl", diagnostics_records(samples=2))
    page = parse_page(render_report([tmp_path])[0])
    assert [alt for _, alt in page.images] == [
        "gradient flow heatmap: layers by optimizer step",
        "dead and saturated unit fractions per activation layer",
    ]
