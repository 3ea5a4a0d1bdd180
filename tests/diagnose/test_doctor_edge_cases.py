"""The doctor on runs that are regularized, stopped early, cut short or half written: no false
alarms, no tracebacks. Most cases are run files written by hand (instant); the run-directory
cases copy one tiny trained run and tamper with it."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest

from gradwise.config import load_config
from gradwise.diagnose import curves, gradients
from gradwise.diagnose.doctor import diagnose, healthy
from gradwise.diagnose.evidence import RunEvidence
from gradwise.runs import RunPaths
from tests.diagnose.cases import case, train

TINY = case("sklearn:iris", model={"kind": "mlp", "hidden": [16]}, every=2, train=train(epochs=4))


def run_files(
    train_loss: list[float],
    valid_loss: list[float],
    summary: dict[str, Any],
    config: dict[str, Any] | None = None,
    profile: dict[str, Any] | None = None,
    preprocess: dict[str, Any] | None = None,
    diagnostics: list[dict[str, Any]] | None = None,
) -> RunEvidence:
    """A run's parsed files, written by hand."""
    metrics = [
        {"epoch": e + 1, "train_loss": t, "valid_loss": v}
        for e, (t, v) in enumerate(zip(train_loss, valid_loss, strict=True))
    ]
    return RunEvidence(
        RunPaths(Path(".")),
        load_config({"data": {"source": "x"}, **(config or {})}),
        metrics,
        diagnostics or [],
        summary,
        profile or {},
        preprocess or {},
    )


# ------------------------------------------------------------------- regularized, stopped early
def test_mixup_inflated_training_loss_is_not_underfitting() -> None:
    """Mixup α=1 on breast_cancer: the training loss stays at ~0.31 (mixed labels) while the
    validation loss reaches 0.12 and accuracy 0.947; the validation loss shows what was learned.
    The validation loss still improves at the end, so only the progress measure can clear it."""
    epochs = 30
    train_loss = [0.66, 0.58, 0.49, 0.40] + [0.31 + 0.02 * (e % 3) for e in range(epochs - 4)]
    valid_loss = [0.58, 0.45, 0.31, 0.20] + [0.15 - 0.001 * e for e in range(epochs - 4)]
    evidence = run_files(
        train_loss,
        valid_loss,
        {"status": "completed", "best_epoch": epochs, "valid": {"accuracy": 0.947}},
        profile={"class_counts": {"train": [250, 148], "valid": [36, 21]}},
    )
    assert evidence.progress(curves.final_train_loss(evidence)) < curves.CAPACITY_LIMITED
    assert not curves.validation_plateaued(evidence)
    progress, which, _ = curves.best_fit(evidence)
    assert which == "validation" and progress > curves.CAPACITY_LIMITED
    assert curves.underfitting(evidence) is None


DIABETES_TRAIN = [0.981, 0.863, 0.772, 0.696, 0.625, 0.579, 0.540, 0.510, 0.489, 0.473, 0.466]
DIABETES_TRAIN += [0.455, 0.451, 0.447, 0.441, 0.436, 0.433, 0.432, 0.425, 0.423, 0.421, 0.418]
DIABETES_TRAIN += [0.413, 0.411, 0.408, 0.406, 0.401, 0.400, 0.397, 0.393, 0.391]
DIABETES_VALID = [0.553, 0.497, 0.458, 0.434, 0.427, 0.425, 0.425, 0.421, 0.412, 0.406, 0.399]
DIABETES_VALID += [0.400, 0.399, 0.398, 0.403, 0.403, 0.400, 0.403, 0.400, 0.399, 0.392, 0.403]
DIABETES_VALID += [0.402, 0.401, 0.396, 0.403, 0.401, 0.402, 0.398, 0.404, 0.399]


def diabetes(stopped_early: bool) -> RunEvidence:
    """sklearn:diabetes, AdamW, early_stopping patience 10: stopped at 31 of 60, best epoch 21."""
    return run_files(
        DIABETES_TRAIN,
        DIABETES_VALID,
        {
            "status": "completed",
            "stopped_early": stopped_early,
            "best_epoch": 21,
            "valid": {"rmse": 49.08, "r2": 0.418},
        },
        config={"task": "regression", "train": {"epochs": 60}},
        preprocess={"target": {"std": [77.0]}},
    )


def test_early_stopped_run_is_not_still_falling_nor_capacity_bound() -> None:
    evidence = diabetes(stopped_early=True)
    assert curves.late_improvement(evidence) >= curves.PLATEAU  # the training loss still fell
    assert not curves.still_improving(evidence)  # ... but validation said stop
    assert curves.validation_plateaued(evidence)
    assert curves.underfitting(evidence) is None  # was: more epochs and a bigger model


def test_still_falling_without_early_stop() -> None:
    assert curves.still_improving(diabetes(stopped_early=False))


# ----------------------------------------------------------------------------- hardening
@pytest.mark.parametrize(
    "valid",
    [
        {"loss": 0.1, "accuracy": 0.96},  # no minority scores
        {"loss": 0.1, "accuracy": 0.96, "f1": None, "balanced_accuracy": None},
    ],
)
def test_class_imbalance_skips_missing_and_null_scores(valid: dict[str, Any]) -> None:
    evidence = run_files(
        [0.5, 0.2],
        [0.5, 0.2],
        {"status": "completed", "valid": valid, "test": valid},
        profile={"class_counts": {"train": [950, 50]}, "imbalance_ratio": 19.0},
    )
    assert curves.class_imbalance(evidence) is None


def test_class_imbalance_uses_the_scores_that_are_there() -> None:
    valid = {"accuracy": 0.96, "f1": None, "balanced_accuracy": 0.6}
    evidence = run_files(
        [0.5, 0.2],
        [0.5, 0.2],
        {"status": "completed", "valid": valid, "test": None},
        profile={"class_counts": {"train": [950, 50]}, "imbalance_ratio": 19.0},
    )
    finding = curves.class_imbalance(evidence)
    assert finding is not None and finding.evidence["balanced_accuracy"] == 0.6
    assert "f1" not in finding.evidence


def imbalanced(valid: dict[str, Any], classes: list[Any], counts: list[int]) -> RunEvidence:
    ratio = max(counts) / min(counts)
    profile = {"classes": classes, "class_counts": {"train": counts}, "imbalance_ratio": ratio}
    summary = {"status": "completed", "valid": valid}
    return run_files([0.5, 0.2], [0.5, 0.2], summary, profile=profile)


def test_class_imbalance_message_states_the_recalls_not_an_adjective() -> None:
    """A minority recall of 0.69 is not "mostly missed": the message gives the numbers."""
    valid = {"accuracy": 0.93, "balanced_accuracy": 0.83, "recall_0": 0.97, "recall_1": 0.69}
    finding = curves.class_imbalance(imbalanced(valid, [0, 1], [900, 100]))
    assert finding is not None
    assert "minority-class recall 0.69 (class 1) vs majority 0.97 (class 0)" in finding.message
    assert "misses 31% of class 1 against 3% of class 0" in finding.message
    assert "class ratio ≥ 4× with accuracy ≥ 0.10 above" in finding.message
    assert "mostly missed" not in finding.message


@pytest.mark.parametrize(
    "keys",
    [
        {"recall_no": 0.98, "recall_maybe_later": 0.61, "recall_yes": 0.4},  # by class name
        {"recall_0": 0.98, "recall_1": 0.61, "recall_2": 0.4},  # older runs: by class index
    ],
)
def test_class_imbalance_reads_recalls_by_name_or_by_index(keys: dict[str, float]) -> None:
    valid = {"accuracy": 0.9, "balanced_accuracy": 0.66, **keys}
    labels = ["No", "maybe later", "Yes!"]
    finding = curves.class_imbalance(imbalanced(valid, labels, [800, 150, 50]))
    assert finding is not None
    # the minority classes (≤ 1/4 of the largest), lowest recall first, against the majority
    recalls = "minority-class recall 0.40 (class Yes!), 0.61 (class maybe later) vs majority 0.98"
    assert recalls + " (class No)" in finding.message
    assert finding.evidence["minority_recall"] == {"Yes!": 0.4, "maybe later": 0.61}
    assert finding.evidence["majority_recall"] == {"No": 0.98}


def test_class_imbalance_index_keys_with_numeric_labels() -> None:
    """Labels 1, 2, 3 with recalls keyed by index 0, 1, 2: recall_0 cannot be a label."""
    valid = {"accuracy": 0.9, "f1": 0.7, "recall_0": 0.95, "recall_1": 0.9, "recall_2": 0.3}
    finding = curves.class_imbalance(imbalanced(valid, [1, 2, 3], [700, 250, 50]))
    assert finding is not None
    assert "minority-class recall 0.30 (class 3) vs majority 0.95 (class 1)" in finding.message


def test_class_imbalance_without_recalls_words_the_score_gap() -> None:
    valid = {"accuracy": 0.96, "balanced_accuracy": 0.6}
    finding = curves.class_imbalance(imbalanced(valid, [0, 1], [950, 50]))
    assert finding is not None
    assert "accuracy 0.960 but balanced_accuracy 0.600, 0.36 lower" in finding.message
    assert "mostly missed" not in finding.message and "≥ 4×" in finding.message


def test_a_zero_first_layer_gradient_is_named_not_counted_in_orders() -> None:
    diagnostics = [
        {"step": s, "layers": [layer("body.0", 0.0), layer("body.2", 1e-4), layer("head", 0.5)]}
        for s in range(4)
    ]
    evidence = run_files([1.0], [1.0], {}, diagnostics=diagnostics)
    finding = gradients.vanishing_gradients(evidence)
    assert finding is not None and finding.evidence["orders_of_magnitude"] is None
    assert finding.message == (
        "Vanishing gradients: the first layer (body.0) gets a zero gradient (exactly 0 in 4 of 4 "
        "samples) while the last (head) gets a relative gradient ‖∂L/∂W‖/‖W‖ of 0.5; a layer "
        "with a zero gradient does not learn at all."
    )
    assert finding.evidence["zero_gradient_layers"] == ["body.0"]


def layer(name: str, grad: float | None, weight: float = 1.0) -> dict[str, Any]:
    return {"name": name, "kind": "Linear", "grad_norm": grad, "weight_norm": weight}


def test_relative_gradients_are_aligned_by_sample() -> None:
    """A layer missing from one diagnostics sample leaves a gap there, not a shifted series."""
    diagnostics = [
        {"step": 1, "layers": [layer("head", 1.0)]},  # body.0 missing
        {"step": 2, "layers": [layer("body.0", 1e-5), layer("head", 1.0)]},
        {"step": 3, "layers": [layer("body.0", 1e-5), layer("head", None)]},
        {"step": 4, "layers": [layer("body.0", 1e-5), layer("head", 1.0)]},
    ]
    evidence = run_files([1.0], [1.0], {}, diagnostics=diagnostics)
    relative = gradients.relative_gradients(evidence)
    assert list(relative) == ["body.0", "head"]  # forward order, though sample 1 lacks body.0
    assert [math.isnan(v) for v in relative["body.0"]] == [True, False, False, False]
    assert [math.isnan(v) for v in relative["head"]] == [False, False, True, False]
    finding = gradients.vanishing_gradients(evidence)
    assert finding is not None and finding.evidence["orders_of_magnitude"] == pytest.approx(5)


def test_activation_values_come_with_their_kinds() -> None:
    diagnostics = [
        {"activations": [{"name": "body.1", "kind": "ReLU", "dead_fraction": 0.9}]},
        {"activations": [{"name": "body.1", "kind": "ReLU", "dead_fraction": 0.8}]},
    ]
    evidence = run_files([1.0], [1.0], {}, diagnostics=diagnostics)
    values, kinds = evidence.activation_values("dead_fraction")
    assert values == {"body.1": [0.9, 0.8]} and kinds == {"body.1": "ReLU"}
    finding = gradients.dead_units(evidence)  # the kind reaches the message without a side effect
    assert finding is not None and "body.1 (ReLU)" in finding.message


def test_error_cause_drops_the_advice() -> None:
    error = "non-finite loss (nan) at epoch 1, step 3; the last good checkpoint is kept. Try x"
    assert gradients.error_cause(error) == "non-finite loss (nan) at epoch 1, step 3"


def test_non_finite_loss_reports_the_top_update_ratio() -> None:
    diagnostics = [
        {"layers": [{**layer("body.0", 1.0), "update_ratio": 0.5}, layer("head", 1.0)]},
    ]
    error = "non-finite loss (inf) at epoch 1, step 2; the last good checkpoint is kept"
    summary = {"status": "failed", "error": error}
    evidence = run_files([1.0], [1.0], summary, diagnostics=diagnostics)
    finding = gradients.non_finite_loss(evidence)
    assert finding is not None
    assert finding.evidence["max_update_ratio"] == evidence.top_update_ratio == 0.5
    assert finding.message.startswith("Non-finite loss: non-finite loss (inf) at epoch 1, step 2.")


# ------------------------------------------------------------------ incomplete runs on disk
@pytest.fixture
def run_copy(trained, tmp_path: Path) -> Path:
    """A copy of one tiny completed run, free to tamper with."""
    return Path(shutil.copytree(trained(TINY), tmp_path / "run"))


def test_torn_last_metrics_line_is_skipped(run_copy: Path) -> None:
    epochs = len((run_copy / "metrics.jsonl").read_text().splitlines())
    with (run_copy / "metrics.jsonl").open("a") as file:
        file.write('{"epoch": 5, "train_lo')  # killed mid-write
    diagnosis = diagnose(run_copy, write=False)
    assert RunEvidence.load(run_copy).epochs == epochs
    assert diagnosis.findings


@pytest.mark.parametrize("status", ["running", "interrupted", "failed"])
def test_incomplete_run_is_not_called_healthy(run_copy: Path, status: str) -> None:
    (run_copy / "metrics.jsonl").write_text("")
    (run_copy / "diagnostics.jsonl").write_text("")
    (run_copy / "summary.json").write_text(json.dumps({"status": status, "name": "tiny"}))
    diagnosis = diagnose(run_copy, write=False)
    assert diagnosis.codes == ["healthy"]  # no detector fires on an empty run ...
    (finding,) = diagnosis.findings
    assert finding.severity == "info"
    assert finding.message.startswith(f"Incomplete run (status {status})")
    assert "No problems found" not in finding.message
    assert "diagnose.enabled is off" not in finding.message  # it is on in this run's config
    assert finding.evidence["status"] == status
    assert not diagnosis.healthy  # ... but the run is not healthy


def test_diagnostics_off_is_said_only_when_the_config_says_so() -> None:
    summary = {"status": "completed", "best_epoch": 2, "valid": {"accuracy": 1.0}}
    loss = [0.5, 0.1]
    on = healthy(run_files(loss, loss, summary))
    off = healthy(run_files(loss, loss, summary, config={"diagnose": {"enabled": False}}))
    assert on.message.startswith("No problems found") and off.message.startswith("No problems")
    assert "diagnose.enabled is off" in off.message
    assert "diagnose.enabled is off" not in on.message
    assert "no per-layer statistics were collected" in on.message
