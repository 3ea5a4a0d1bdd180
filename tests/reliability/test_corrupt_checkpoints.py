"""Damaged or foreign checkpoints (truncated, bit flips, zeroed pages, a lying header, wrong
names/shapes/dtypes, a missing state file, a future format version): every one is a clean
``CheckpointError`` before any weight reaches the model, and a resume falls back to the
previous checkpoint, saying which it skipped and why."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from gradwise.api import Run
from gradwise.cli.main import main
from gradwise.errors import CheckpointError
from gradwise.training.checkpoint import load_checkpoint
from tests.reliability.corruption import DAMAGES


def fresh_module(run_dir: Path) -> torch.nn.Module:
    run = Run(run_dir)
    return run.task.model_for(run.config, run.preprocessor)  # no weights loaded


def snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: t.clone() for name, t in module.state_dict().items()}


@pytest.mark.parametrize("damage", DAMAGES.names())
def test_a_damaged_checkpoint_is_refused_untouched_and_resume_takes_the_previous(
    trained_run: Path, damage: str
):
    folder = trained_run / "checkpoints"
    DAMAGES.get(damage)(folder, random.Random(damage))
    module = fresh_module(trained_run)
    before = snapshot(module)
    with pytest.raises(CheckpointError, match=r"checkpoints: no valid checkpoint .*\(last: "):
        load_checkpoint(folder, module, tags=("last",))
    after = snapshot(module)
    assert all(torch.equal(before[k], after[k]) for k in before), "weights reached the model"

    restored = load_checkpoint(folder, module)
    assert restored.tag == "previous" and restored.epoch == 3
    assert len(restored.skipped) == 1 and restored.skipped[0].startswith("last: ")
    previous = load_file(folder / "previous.safetensors")
    assert all(torch.equal(previous[k], v) for k, v in module.state_dict().items())


def test_the_cli_resume_says_what_it_skipped_and_finishes(trained_run: Path, capsys):
    DAMAGES.get("one bit flipped")(trained_run / "checkpoints", random.Random(0))
    summary = json.loads((trained_run / "summary.json").read_text())
    (trained_run / "summary.json").write_text(json.dumps({**summary, "status": "interrupted"}))
    status = main(["train", "--resume", str(trained_run), "--quiet"])
    err = capsys.readouterr().err
    assert status == 0, err
    (line,) = [line for line in err.splitlines() if "skipped" in line]
    assert "skipped checkpoint last:" in line and "last.safetensors does not match" in line
    assert line.endswith("resuming from previous (epoch 3)")
    assert [m["epoch"] for m in Run(trained_run).metrics] == [1, 2, 3, 4]


def test_no_valid_checkpoint_at_all_is_one_line(trained_run: Path, capsys):
    folder = trained_run / "checkpoints"
    for tag in ("last", "previous"):
        (folder / f"{tag}.safetensors").write_bytes(b"\0" * 16)
    summary = json.loads((trained_run / "summary.json").read_text())
    (trained_run / "summary.json").write_text(json.dumps({**summary, "status": "interrupted"}))
    status = main(["train", "--resume", str(trained_run), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "no valid checkpoint to resume from (last: " in err and "; previous: " in err
