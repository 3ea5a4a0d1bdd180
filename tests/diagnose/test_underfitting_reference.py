"""Underfitting is judged against what is achievable on the data: a quick classical reference
on the run's own split. A noisy target (R's SLID wages) is not underfitting when the reference
does no better; a model held back on a learnable table still is, with the reference named."""

from __future__ import annotations

import warnings

import gradwise
from gradwise.diagnose import curves
from tests.conftest import tiny_config


def train(tmp_path, **sections):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gradwise.train(tiny_config(**sections), out=tmp_path)


def test_a_noisy_target_is_not_underfitting_when_the_reference_does_no_better(
    tmp_path, monkeypatch
):
    run = train(
        tmp_path,
        source="rdata:car/SLID",
        task="regression",
        data={"target": "wages"},
        model={"kind": "mlp", "hidden": [64, 64]},
        train={"epochs": 15, "batch_size": 128},
    )
    assert run.summary["test"]["r2"] < 0.5  # most of the variance is noise
    assert "underfitting" not in [f.code for f in run.doctor()]
    # the share of a constant predictor's loss alone would have called it underfitting
    monkeypatch.setattr(curves, "reference_score", lambda evidence: None)
    assert "underfitting" in [f.code for f in run.doctor()]


def test_a_held_back_model_on_a_learnable_table_is_underfitting_beside_the_reference(tmp_path):
    run = train(
        tmp_path,
        source="synthetic:regression",
        task="regression",
        model={"kind": "mlp", "hidden": [4]},
        train={"epochs": 3, "batch_size": 256, "optimizer": {"name": "sgd", "lr": 1e-4}},
    )
    (finding,) = [f for f in run.doctor() if f.code == "underfitting"]
    assert finding.evidence["reference"] == "hist_gradient_boosting"
    assert finding.evidence["reference_clearly_better"] is True
    assert finding.evidence["reference_valid_r2"] > finding.evidence["model_valid_r2"] + 0.02
