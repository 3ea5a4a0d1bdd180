"""`gradwise lab` end to end on iris (one or two epochs, a few arms): one JSON document with
--json, the folder's lab.json/PNGs/lab.html, failed arms recorded, and one line per mistake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from gradwise.cli.main import main
from gradwise.errors import ConfigError
from gradwise.lab import lab
from gradwise.lab.jobs import Job
from gradwise.lab.workers import run_jobs
from gradwise.report.page import PNG_SIGNATURE
from tests.conftest import run_cli_torch_free
from tests.lab.conftest import TINY


def only_folder(out: Path) -> Path:
    (folder,) = out.iterdir()
    return folder


def test_optimizers_lab_json_folder_and_page(tmp_path: Path, tiny_yaml: Path, capsys) -> None:
    out = tmp_path / "labs"
    code = main(
        ["lab", "optimizers", str(tiny_yaml), "--arms", "sgd,adam", "--seeds", "2",
         "--lr-points", "2", "--set", "train.epochs=1", "--out", str(out), "--json"]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    document = json.loads(printed)  # exactly one JSON document on stdout
    folder = only_folder(out)
    assert folder.name.startswith("tiny-optimizers-")
    assert document == json.loads((folder / "lab.json").read_text())
    assert document["format_version"] == 1 and document["lab"] == "optimizers"
    assert [a["name"] for a in document["arms"]] == ["sgd", "adam"]
    assert document["arms"][0]["overrides"]["train.optimizer.momentum"] == 0.0
    for arm in ("sgd", "adam"):
        sweep = [p for p in document["sweep"] if p["arm"] == arm]
        assert len(sweep) == 2
        best = max(sweep, key=lambda p: p["best"])
        assert document["rows"][arm]["lr"] == best["lr"]  # chosen on validation
        assert document["rows"][arm]["lr_at_edge"]  # two rates: every choice is at an edge
        assert document["rows"][arm]["runs"] == 2  # the sweep's run + one more seed
        seeds = [r["seed"] for r in document["results"][arm]]
        assert seeds == [0, 1] and {r["lr"] for r in document["results"][arm]} == {best["lr"]}
    # 2 arms × 2 learning rates + 2 arms × 1 more seed, each a run directory
    assert len([p for p in (folder / "runs").iterdir() if p.is_dir()]) == 6
    for name in ("curves.png", "lr_sweep.png"):
        assert (folder / name).read_bytes().startswith(PNG_SIGNATURE)
    page = (folder / "lab.html").read_text()
    assert "Content-Security-Policy" in page and page.count("data:image/png;base64,") == 2
    assert (
        "SGD" in page and "time to target" in page and "http" not in page.replace("http-equiv", "")
    )


def test_batch_lab_scales_the_lr_and_measures_the_noise_scale(tmp_path: Path) -> None:
    config = {**TINY, "model": {"kind": "mlp", "hidden": [8], "norm": "batch"}}
    result = lab("batch", config, arms=["bs1", "bs32"], seeds=1, out=tmp_path, workers=1)
    rows = result.document["rows"]
    assert rows["bs1"]["failed"] == 0 and rows["bs32"]["failed"] == 0
    # batch statistics need two samples: pure SGD swaps batch norm for layer norm, and says so
    pure = next(a for a in result.document["arms"] if a["name"] == "bs1")
    assert pure["overrides"]["model.norm"] == "layer" and "layer norm" in pure["note"]
    # the experiment's batch size is B₀ = 32 with lr₀ = 0.01; sqrt rule: lr(1) = 0.01/√32
    assert rows["bs32"]["lr"] == 0.01 and rows["bs1"]["lr"] == pytest.approx(0.00177)
    assert rows["bs1"]["steps_per_epoch"] == 90  # iris: 90 training rows
    noise = result.document["noise_scale"]
    assert set(noise) == {"start", "end"} and noise["start"]["b_big"] == 90
    assert result.document["critical_batch"]["points"] <= 2
    assert (result.folder / "critical_batch.png").read_bytes().startswith(PNG_SIGNATURE)


def test_a_failed_run_is_recorded_with_its_reason(tmp_path: Path) -> None:
    """An arm whose run cannot be built (batch norm on one sample) fails alone, with why."""
    job = Job("bad", "a", 0, {"train.batch_size": 1, "model.norm": "batch"})
    (result,) = run_jobs(TINY, [job], tmp_path, "valid_accuracy", workers=1)
    assert result.status == "failed" and "model.norm" in (result.error or "")
    assert json.loads((tmp_path / "bad.result.json").read_text())["status"] == "failed"


def test_regularization_lab_gap_is_measured_cleanly_on_the_kept_model(tmp_path: Path) -> None:
    config = {**TINY, "train": {**TINY["train"], "early_stopping": {"patience": 5}}}
    result = lab(
        "regularization", config, arms=["none", "early_stopping", "all"], seeds=1, out=tmp_path
    )
    document = result.document
    none = next(a for a in document["arms"] if a["name"] == "none")
    # "none" takes away the experiment's own dropout and early stopping
    assert none["overrides"]["model.dropout"] == 0.0
    assert none["overrides"]["train.early_stopping"] is None
    everything = next(a for a in document["arms"] if a["name"] == "all")["overrides"]
    assert everything["data.augment"] == [{"gaussian_noise": 0.1}, {"mixup": 0.2}]  # a table
    assert everything["train.label_smoothing"] == 0.1
    rows = document["rows"]
    evaluated = document["results"]["none"][0]["evaluated"]
    accuracy = {split: evaluated[split]["accuracy"] for split in ("train", "valid", "test")}
    assert rows["none"]["gap_mean"] == pytest.approx(accuracy["train"] - accuracy["valid"])
    assert rows["none"]["test_mean"] == pytest.approx(accuracy["test"])
    assert rows["none"]["test_change"] == 0.0
    assert rows["none"]["kept"] == "last" and rows["early_stopping"]["kept"] == "best"
    headers, table_rows = result.table
    assert headers[3] == "train − valid gap" and len(table_rows) == 3


def test_two_workers_run_every_job_once_and_return_them_in_order(tmp_path: Path) -> None:
    jobs = [Job(f"a{i}", "a", i, {"train.epochs": 1}) for i in range(2)]
    results = run_jobs(TINY, jobs, tmp_path, "valid_accuracy", workers=2)
    assert [r.key for r in results] == ["a0", "a1"]
    assert [r.seed for r in results] == [0, 1]
    assert all(r.status == "completed" and r.epochs == 1 for r in results)
    assert len([p for p in tmp_path.iterdir() if p.is_dir()]) == 2


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["optimiser", "{cfg}"], "unknown lab 'optimiser' (did you mean 'optimizers'?)"),
        (["batch", "{cfg}", "--budget", "0"], "--budget: must be a positive number of seconds"),
        (["batch", "{cfg}", "--budget", "-5"], "--budget: must be a positive number of seconds"),
        (["batch", "{cfg}", "--budget", "nan"], "--budget: must be a positive number of seconds"),
        (["batch", "missing.yaml"], "missing.yaml"),
        (["batch", "{cfg}", "--seeds", "0"], "--seeds: must be ≥ 1, got 0"),
        (["batch", "{cfg}", "--workers", "0"], "--workers: must be ≥ 1, got 0"),
        (["optimizers", "{cfg}", "--arms", "adma"], "no arm 'adma' (did you mean 'adam'?)"),
        (["optimizers", "{cfg}", "--lr-points", "1"], "--lr-points: must be between 2 and 9"),
        (["batch", "{cfg}", "--lr-scaling", "sqr"], "unknown lr scaling rule 'sqr'"),
        (["batch", "{cfg}", "--set", "data.valid=0"], "data.valid: a lab judges its arms"),
        (["batch", "{cfg}", "--set", "train.optimzer.lr=1"], "train.optimzer"),
    ],
)
def test_mistakes_are_one_line_exit_2_and_write_nothing(
    tmp_path: Path, tiny_yaml: Path, capsys, args: list[str], fragment: str
) -> None:
    out = tmp_path / "labs"
    argv = [a.replace("{cfg}", str(tiny_yaml)) for a in args]
    if argv[1] == "missing.yaml":
        argv[1] = str(tmp_path / "missing.yaml")
    code = main(["lab", *argv, "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.startswith("gradwise: error: ") and captured.err.count("\n") == 1
    assert fragment in captured.err
    assert captured.out == ""
    assert not out.exists()


def test_regression_has_no_label_smoothing_arm(tmp_path: Path) -> None:
    config = {
        **TINY,
        "task": "regression",
        "data": {"source": "sklearn:diabetes", "target": "target", "valid": 0.2},
    }
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(config))
    result = lab("regularization", path, arms=["none"], seeds=1, out=tmp_path / "labs")
    assert result.document["metric"] == "valid_rmse" and not result.document["higher_is_better"]
    with pytest.raises(ConfigError, match="no arm 'label_smoothing'"):
        lab("regularization", path, arms=["label_smoothing"], out=tmp_path / "labs")


def test_help_does_not_import_torch() -> None:
    result = run_cli_torch_free(["lab", "--help"])
    assert result.returncode == 0, result.stderr
    assert "--budget" in result.stdout and "--workers" in result.stdout


def test_doctor_findings_point_to_the_labs() -> None:
    from gradwise.diagnose import curves
    from tests.diagnose.test_doctor_edge_cases import run_files

    overfit = run_files(
        [1.0, 0.6, 0.4, 0.3, 0.2, 0.1, 0.05, 0.03, 0.02, 0.01],
        [1.0, 0.5, 0.4, 0.5, 0.7, 0.9, 1.0, 1.1, 1.2, 1.3],
        {},
    )
    assert "gradwise lab regularization" in curves.overfitting(overfit).message
    slow = run_files(
        [2.3, 2.29, 2.28, 2.27, 2.26, 2.25],
        [2.3, 2.29, 2.28, 2.27, 2.26, 2.25],
        {},
        config={"train": {"optimizer": {"name": "sgd", "lr": 1e-4}}},
        profile={"class_counts": {"train": [50, 50, 50]}},
    )
    assert "gradwise lab optimizers" in curves.lr_too_low(slow).message
