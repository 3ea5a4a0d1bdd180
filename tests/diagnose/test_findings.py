"""The doctor on deliberately broken experiments (one per finding) and on healthy ones."""

from __future__ import annotations

import json

import pytest

import gradwise
from gradwise.config import load_config
from gradwise.diagnose.doctor import diagnose
from gradwise.diagnose.findings import CODES
from tests.diagnose.cases import BROKEN, HEALTHY, ZERO_GRADIENT


@pytest.mark.parametrize("code", list(BROKEN))
def test_each_broken_experiment_is_diagnosed(code: str, trained) -> None:
    run_dir = trained(BROKEN[code])
    diagnosis = diagnose(run_dir)
    by_code = {f.code: f for f in diagnosis.findings}
    assert code in by_code, diagnosis.codes
    finding = by_code[code]
    assert finding.caused_by is None  # named as a cause, not as a symptom of another finding
    assert finding.severity in ("warning", "error")
    assert finding.evidence and finding.message
    assert "healthy" not in by_code
    # the remedies are real config changes: each applies and changes its key
    assert finding.remedies
    config_file = run_dir / "config.yaml"
    for remedy in finding.remedies:
        changed = load_config(config_file, {remedy.key: remedy.value})
        assert _get(changed, remedy.key) != _get(load_config(config_file), remedy.key)
        assert remedy.why.endswith(".")


@pytest.mark.parametrize("name", list(HEALTHY))
def test_well_configured_runs_are_healthy(name: str, trained) -> None:
    diagnosis = diagnose(trained(HEALTHY[name]))
    assert diagnosis.codes == ["healthy"], [f.message for f in diagnosis.findings]
    assert diagnosis.healthy and diagnosis.remedies() == []


def test_vanishing_evidence_names_the_first_and_last_layers(trained) -> None:
    finding = _finding(trained, "vanishing_gradients")
    assert finding.evidence["first_layer"] == "body.0"
    assert finding.evidence["last_layer"] == "head"
    assert finding.evidence["orders_of_magnitude"] >= 6  # sigmoid: ≤ 0.25 per layer, 20 layers
    assert {r.key: r.value for r in finding.remedies} == {
        "model.activation": "relu",
        "model.norm": "batch",
    }


def test_exploding_gradients_come_with_clipping(trained) -> None:
    finding = _finding(trained, "exploding_gradients")
    assert finding.evidence["settled_growth"] >= 10
    remedies = {r.key: r.value for r in finding.remedies}
    assert remedies["train.grad_clip"] == 1.0
    assert remedies["train.optimizer.lr"] < 0.5


def test_learning_rate_remedies_go_the_right_way(trained) -> None:
    high = _finding(trained, "lr_too_high")
    low = _finding(trained, "lr_too_low")
    assert [(r.key, r.value) for r in high.remedies] == [("train.optimizer.lr", 0.001)]
    assert [(r.key, r.value) for r in low.remedies] == [("train.optimizer.lr", 0.001)]
    assert low.evidence["update_ratio"] < 1e-4  # Adam at 1e-6 moves weights by ~1e-5 per step
    assert high.evidence["blow_up_epochs"][0] == 1


def test_symptoms_point_at_their_cause(trained) -> None:
    findings = diagnose(trained(BROKEN["lr_too_high"])).findings
    assert findings[0].code == "lr_too_high"
    symptoms = [f for f in findings if f.caused_by is not None]
    assert symptoms and all(f.severity == "info" for f in symptoms)
    assert all("consequence of" in f.message for f in symptoms)


def test_non_finite_loss_names_the_step(trained) -> None:
    finding = _finding(trained, "non_finite_loss")
    assert finding.evidence["epoch"] == 1
    assert isinstance(finding.evidence["step"], int) and finding.evidence["step"] >= 1
    assert "non-finite loss" in finding.evidence["error"]


def test_class_imbalance_evidence(trained) -> None:
    finding = _finding(trained, "class_imbalance")
    counts = finding.evidence["train_class_counts"]
    assert finding.evidence["imbalance_ratio"] == pytest.approx(max(counts) / min(counts))
    evidence = finding.evidence
    assert evidence["accuracy"] - evidence["balanced_accuracy"] >= 0.1
    assert evidence["balanced_accuracy"] == pytest.approx(
        (evidence["recall_0"] + evidence["recall_1"]) / 2
    )
    assert evidence["recall_1"] < 0.5  # the 5% class is mostly missed
    assert [(r.key, r.value) for r in finding.remedies] == [("train.class_weights", "balanced")]
    # the message is worded from the numbers, with the thresholds that flagged it
    assert evidence["minority_recall"] == {"1": evidence["recall_1"]}
    assert evidence["majority_recall"] == {"0": evidence["recall_0"]}
    recalls = f"minority-class recall {evidence['recall_1']:.2f} (class 1) vs majority "
    assert recalls + f"{evidence['recall_0']:.2f} (class 0)" in finding.message
    assert f"misses {1 - evidence['recall_1']:.0%} of class 1" in finding.message
    assert "class ratio ≥ 4×" in finding.message and "≥ 0.10" in finding.message
    assert "mostly missed" not in finding.message


def test_a_zero_gradient_is_called_zero(trained) -> None:
    """Gradients that underflow to exactly 0 are not "30.0 orders of magnitude" (the log cap)."""
    diagnosis = diagnose(trained(ZERO_GRADIENT), write=False)
    finding = next(f for f in diagnosis.findings if f.code == "vanishing_gradients")
    assert finding.severity == "error"
    assert finding.message.startswith(
        "Vanishing gradients: the first layer (body.0) gets a zero gradient (exactly 0 in "
    )
    assert "orders of magnitude" not in finding.message and "30.0" not in finding.message
    assert finding.evidence["orders_of_magnitude"] is None
    zero_layers = finding.evidence["zero_gradient_layers"]
    assert zero_layers[0] == "body.0" and "head" not in zero_layers
    assert f"{len(zero_layers)} of 61 weight layers (body.0 … {zero_layers[-1]})" in finding.message
    assert finding.evidence["zero_gradient_samples"] == finding.evidence["samples"]


def test_dead_and_saturated_units_name_their_layers(trained) -> None:
    dead = _finding(trained, "dead_units")
    saturated = _finding(trained, "saturated_units")
    assert all(
        dead.evidence["dead_fraction_by_layer"][n] >= 0.5 for n in dead.evidence["affected_layers"]
    )
    assert "body.2" in saturated.evidence["affected_layers"]
    assert ("data.scale", "standard") in [(r.key, r.value) for r in dead.remedies]
    assert ("model.activation", "relu") in [(r.key, r.value) for r in saturated.remedies]


def test_diagnosis_json_format(trained) -> None:
    run_dir = trained(BROKEN["overfitting"])
    findings = gradwise.Run(run_dir).doctor()
    document = json.loads((run_dir / "diagnosis.json").read_text())
    assert set(document) == {"format_version", "run", "findings"}
    assert document["run"] == str(run_dir)
    assert [f["code"] for f in document["findings"]] == [f.code for f in findings]
    for finding in document["findings"]:
        assert finding["code"] in CODES
        assert finding["severity"] in ("info", "warning", "error")
        assert isinstance(finding["message"], str) and isinstance(finding["evidence"], dict)
        for remedy in finding["remedies"]:
            assert set(remedy) == {"key", "value", "why"}


def _finding(trained, code: str):
    diagnosis = diagnose(trained(BROKEN[code]), write=False)
    return next(f for f in diagnosis.findings if f.code == code)


def _get(config, dotted: str):
    node = config
    for part in dotted.split("."):
        node = getattr(node, part)
    return node.model_dump() if hasattr(node, "model_dump") else node
