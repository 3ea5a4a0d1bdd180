"""A run without a test split (``data.test: 0``) still gets its report."""

from __future__ import annotations

import gradwise
from tests.conftest import tiny_config


def test_a_run_without_a_test_split_has_a_report(tmp_path):
    run = gradwise.train(tiny_config("sklearn:iris", data={"test": 0.0}), out=tmp_path)
    assert "test" not in run.summary
    html = (run.path / "report.html").read_text()
    assert "No test split: the figures above are validation's." in html
