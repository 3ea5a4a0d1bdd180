"""A full disk, simulated by the atomic writer's test hook (ENOSPC once n bytes are written):
the error is one line naming the file, the file it would have replaced is intact, the previous
checkpoint loads, and nothing under a final name is partial."""

from __future__ import annotations

import errno
import json
import random
from pathlib import Path

import pytest
import yaml

from gradwise import _io, api
from gradwise._io import ENOSPC_AFTER_BYTES, HOOK_FILES, atomic_write_text
from gradwise.api import Run
from gradwise.cli.main import main
from gradwise.errors import WriteError
from gradwise.training.checkpoint import load_checkpoint
from tests.reliability import harness
from tests.reliability.conftest import PARADIGMS, one_line_error


@pytest.fixture
def full_disk(monkeypatch):
    """``fill(n, files)``: writes of ``files`` (a glob) fail with ENOSPC past ``n`` bytes."""

    def fill(n: int, files: str = "*") -> None:
        monkeypatch.setenv(ENOSPC_AFTER_BYTES, str(n))
        monkeypatch.setenv(HOOK_FILES, files)
        _io.reset_test_hooks()

    yield fill
    _io.reset_test_hooks()


def test_a_failed_write_keeps_the_old_file_and_names_the_new(tmp_path: Path, full_disk):
    target = tmp_path / "summary.json"
    target.write_text("old")
    full_disk(3)
    with pytest.raises(WriteError) as caught:
        atomic_write_text(target, "new content")
    assert str(caught.value) == f"{target}: cannot write (No space left on device)"
    assert caught.value.errno == errno.ENOSPC and isinstance(caught.value, OSError)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == [target.name]


@pytest.mark.parametrize("seed", [0, 1])
def test_the_disk_filling_up_during_a_checkpoint(
    tmp_path: Path, paradigm: str, seed: int, trained_runs, full_disk, monkeypatch, capsys
):
    per_checkpoint = harness.checkpoint_bytes(trained_runs(paradigm))
    cut = random.Random(f"{paradigm}-{seed}").randint(0, per_checkpoint - 1)
    config = tmp_path / "experiment.yaml"
    config.write_text(yaml.safe_dump(PARADIGMS.get(paradigm).config(tmp_path)))
    monkeypatch.setattr(api, "Checkpointer", harness.EveryEpoch)
    full_disk(per_checkpoint + cut, harness.CHECKPOINT_FILES)  # epoch 1 fits, epoch 2 does not
    status = main(["train", str(config), "--out", str(tmp_path / "runs"), "--quiet"])
    line = one_line_error(status, capsys.readouterr().err, "cannot write (No space left on device)")
    run = harness.only_run(tmp_path / "runs")
    assert f"{run}/checkpoints/last." in line
    assert harness.final_name_problems(run) == []
    restored = load_checkpoint(run / "checkpoints", Run(run).model)
    assert restored.epoch == 1
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "failed" and "No space left on device" in summary["error"]


def test_every_file_failing_leaves_the_run_readable(tmp_path: Path, full_disk, monkeypatch):
    config = PARADIGMS.get("classification").config(tmp_path)
    monkeypatch.setattr(api, "Checkpointer", harness.EveryEpoch)
    full_disk(30_000)  # the config, preprocessing, summary and one checkpoint, about
    with pytest.raises(WriteError, match=r"cannot write \(No space left on device\)"):
        api.train(config, out=tmp_path / "runs")
    run = harness.only_run(tmp_path / "runs")
    assert harness.final_name_problems(run) == []
    assert json.loads((run / "summary.json").read_text())["status"] == "running"
