"""``doctor --fix``: re-train with the remedies, compare before/after, and name remedies that
made things worse."""

from __future__ import annotations

import json

import pytest

from gradwise.cli.main import main
from gradwise.diagnose import fix
from gradwise.diagnose.findings import Remedy
from tests.diagnose.cases import BROKEN


def test_fix_repairs_a_huge_learning_rate(trained, capsys: pytest.CaptureFixture) -> None:
    run_dir = trained(BROKEN["lr_too_high"])
    assert main(["doctor", str(run_dir), "--fix", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)  # stdout holds exactly one JSON document
    assert report["remedies"] == [
        {"key": "train.optimizer.lr", "value": 0.001, "why": report["remedies"][0]["why"]}
    ]
    before, after = report["before"], report["after"]
    assert before["findings"][0] == "lr_too_high" and after["findings"] == ["healthy"]
    assert report["verdict"] == "better" and after["test"] > before["test"] + 0.5
    assert report["resolved"] == before["findings"] and report["new"] == []
    assert report["worse_remedies"] == []
    fixed = run_dir.parent / after["run"].rsplit("/", 1)[-1]  # next to the original
    assert fixed.name.startswith("tiny-fixed-") and (fixed / "diagnosis.json").is_file()
    config = (fixed / "config.yaml").read_text()
    assert "lr: 0.001" in config and f"seed: {0}" in config


def test_fix_table_in_text(trained, capsys: pytest.CaptureFixture) -> None:
    run_dir = trained(BROKEN["lr_too_low"])
    assert main(["doctor", str(run_dir), "--fix", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "applied: train.optimizer.lr=0.001" in text
    assert "test accuracy" in text and "verdict: better" in text
    assert "resolved: lr_too_low" in text


def test_remedies_that_hurt_are_named(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Two remedies together make the score worse; each alone shows which one did it."""
    remedies = [Remedy("model.dropout", 0.3, "."), Remedy("train.epochs", 40, ".")]
    scores = {"fixed": 0.70, "only-1": 0.60, "only-2": 0.85}

    def retrain(evidence, applied, suffix, quiet):
        return suffix

    def outcome(suffix, metric):
        return fix.Outcome(suffix, "completed", metric, scores[suffix], None, None, None, [])

    monkeypatch.setattr(fix, "retrain", retrain)
    monkeypatch.setattr(fix.Outcome, "of", staticmethod(outcome))
    before = fix.Outcome("before", "completed", "accuracy", 0.80, None, None, None, [])
    blamed = fix.blame(None, remedies, before, quiet=True)
    assert [(row["key"], row["value"], row["test"]) for row in blamed] == [
        ("model.dropout", 0.3, 0.60)
    ]
    assert fix.compare("accuracy", before.test, scores["fixed"]) == "worse"
    # no remedy hurts alone: all are named, as hurting together
    scores.update({"only-1": 0.80, "only-2": 0.81})
    blamed = fix.blame(None, remedies, before, quiet=True)
    assert [(row["key"], row["together_only"]) for row in blamed] == [
        ("model.dropout", True),
        ("train.epochs", True),
    ]


def test_nothing_to_fix_on_a_healthy_run(trained, capsys: pytest.CaptureFixture) -> None:
    from tests.diagnose.cases import HEALTHY

    run_dir = trained(HEALTHY["iris"])
    runs_before = set(run_dir.parent.iterdir())
    assert main(["doctor", str(run_dir), "--fix"]) == 0
    assert "nothing to fix: healthy" in capsys.readouterr().out
    assert set(run_dir.parent.iterdir()) == runs_before  # nothing was trained
