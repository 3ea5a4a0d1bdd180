"""kill -9 at seeded random points — after a step, and inside a checkpoint write — then resume:
the run ends bit-identical to an uninterrupted one (weights, optimizer state, metrics, per-step
losses, batch orders), with shuffling and augmentation on, each row seen once per epoch; no file
under a final name is ever partial; ``gradwise runs`` shows the dead run as ``stale``. The
mutation check: with a writer that writes in place, the same check fails."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import yaml

from gradwise._io import HOOK_FILES, KILL_AFTER_BYTES
from gradwise.cli.main import main
from tests.reliability import harness
from tests.reliability.conftest import PARADIGMS

KILLED = -9


@pytest.fixture
def reference(tmp_path: Path, paradigm: str) -> tuple[Path, Path, Path]:
    """The paradigm's config file, and its uninterrupted run and log (trained here)."""
    config = tmp_path / "experiment.yaml"
    config.write_text(yaml.safe_dump(PARADIGMS.get(paradigm).config(tmp_path)))
    log = tmp_path / "reference.jsonl"
    harness.train_segment(config, tmp_path / "reference", log)
    return config, harness.only_run(tmp_path / "reference"), log


def runs_status(out: Path, capsys: pytest.CaptureFixture) -> str:
    capsys.readouterr()
    assert main(["runs", "--dir", str(out), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    return row["status"]


def test_kills_after_a_step_and_inside_a_checkpoint_write_resume_bit_identical(
    tmp_path: Path, paradigm: str, reference, capsys
):
    config, reference_run, reference_log = reference
    rng = random.Random(f"kill-{paradigm}")
    steps = max(int(s) for s in harness.read_log(reference_log)[0])
    per_checkpoint = harness.checkpoint_bytes(reference_run)
    out, log = tmp_path / "chained", tmp_path / "chained.jsonl"

    # 1. killed after a random step of epochs 2..3
    kill_step = rng.randint(steps // 4 + 1, 3 * steps // 4)
    assert harness.segment(config, out, log, kill_at_step=kill_step) == KILLED
    run = harness.only_run(out)
    assert harness.final_name_problems(run) == []
    assert runs_status(out, capsys) == "stale"

    # 2. resumed, then killed inside a checkpoint write, past the first checkpoint it writes
    cut = rng.randint(1, per_checkpoint - 1)
    env = {KILL_AFTER_BYTES: str(per_checkpoint + cut), HOOK_FILES: harness.CHECKPOINT_FILES}
    assert harness.segment(config, out, log, resume=run, env=env) == KILLED
    assert harness.final_name_problems(run) == []

    # 3. resumed to the end
    assert harness.segment(config, out, log, resume=run) == 0
    assert harness.run_problems(reference_run, run) == []
    assert harness.log_problems(reference_log, log) == []
    assert json.loads((run / "summary.json").read_text())["status"] == "completed"
    assert not list(run.rglob(".*"))  # the killed writes' temporary files were cleaned up


def test_a_writer_that_writes_in_place_fails_the_check(tmp_path: Path):
    """The mutation check: the same kill inside a checkpoint write, with the temp-and-rename
    taken out of the writer, leaves a partial file under a final name — which the check sees."""
    config = tmp_path / "experiment.yaml"
    config.write_text(yaml.safe_dump(PARADIGMS.get("classification").config(tmp_path)))
    out, log = tmp_path / "mutant", tmp_path / "mutant.jsonl"
    assert harness.segment(config, out, log, kill_at_step=7) == KILLED  # epoch 1 written
    per_checkpoint = harness.checkpoint_bytes(harness.only_run(out))
    env = {KILL_AFTER_BYTES: str(per_checkpoint + per_checkpoint // 2)}
    env[HOOK_FILES] = harness.CHECKPOINT_FILES
    out = tmp_path / "in-place"
    assert harness.segment(config, out, log, env=env, in_place=True) == KILLED
    assert harness.final_name_problems(harness.only_run(out)) != []
