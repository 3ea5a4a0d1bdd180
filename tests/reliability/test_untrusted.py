"""A run directory from someone else never executes code: a state file with a pickle payload,
crafted safetensors headers, a crafted ``preprocess.json`` and a YAML tag that would call a
function are each refused with one line, and the payload's marker file never appears."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest
import torch

from gradwise.cli.main import main
from gradwise.tasks import TASKS
from gradwise.training.checkpoint import sha256
from tests.reliability.conftest import PARADIGMS, one_line_error


class Payload:
    """Unpickling this runs ``os.system(command)``."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def rehash(folder: Path, tag: str, suffix: str) -> None:
    """Make the manifest agree with the crafted file (an attacker would)."""
    manifest = json.loads((folder / f"{tag}.json").read_text())
    manifest["files"][suffix]["sha256"] = sha256(folder / f"{tag}.{suffix}")
    (folder / f"{tag}.json").write_text(json.dumps(manifest))


def interrupted(run: Path) -> None:
    summary = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps({**summary, "status": "interrupted"}))


def test_a_pickle_payload_in_the_state_file_never_runs(trained_run: Path, tmp_path: Path, capsys):
    marker = tmp_path / "pwned"
    folder = trained_run / "checkpoints"
    for tag in ("last", "previous"):
        torch.save({"epoch": 3, "payload": Payload(f"touch {marker}")}, folder / f"{tag}.state.pt")
        rehash(folder, tag, "state.pt")
    interrupted(trained_run)
    status = main(["train", "--resume", str(trained_run), "--quiet"])
    err = capsys.readouterr().err
    one_line_error(status, err, "no valid checkpoint to resume from", "cannot read training state")
    assert not marker.exists()


def safetensors_bytes(header: dict, data: bytes = b"") -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


CRAFTED = {
    "offsets past the end": {"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 1 << 40]}},
    "a huge shape": {"w": {"dtype": "F32", "shape": [1 << 40, 1 << 20], "data_offsets": [0, 16]}},
    "an unknown dtype": {"w": {"dtype": "PYOBJ", "shape": [4], "data_offsets": [0, 16]}},
    "a header that is a list": [1, 2, 3],
    "overlapping tensors": {
        "a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
        "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]},
    },
}


@pytest.mark.parametrize("craft", sorted(CRAFTED))
def test_crafted_safetensors_are_one_line(
    trained_run: Path, paradigm: str, tmp_path: Path, capsys, craft: str
):
    folder = trained_run / "checkpoints"
    for tag in ("best", "last"):
        (folder / f"{tag}.safetensors").write_bytes(safetensors_bytes(CRAFTED[craft], bytes(24)))
        rehash(folder, tag, "safetensors")
    loading = PARADIGMS.get(paradigm).loads(trained_run, tmp_path)
    one_line_error(main(loading.argv), capsys.readouterr().err, "best.safetensors")
    assert loading.output is None or not loading.output.exists()


PREPROCESS = {
    "not a mapping": ["__import__('os').system('touch pwned')"],
    "a future version": {"version": 99},
    "columns of the wrong type": {"columns": "os.system"},
    "a missing entry": {"target": None},
}


@pytest.mark.parametrize("craft", sorted(PREPROCESS))
def test_a_crafted_preprocess_json_is_one_line(
    trained_run: Path, paradigm: str, tmp_path: Path, capsys, craft: str, monkeypatch
):
    if "preprocess.json" not in TASKS.get(paradigm).run_files():
        pytest.skip(f"a {paradigm} run reads no dataset, so it has no preprocess.json")
    path = trained_run / "preprocess.json"
    crafted = PREPROCESS[craft]
    if isinstance(crafted, dict):
        crafted = {**json.loads(path.read_text()), **crafted}
        crafted = {k: v for k, v in crafted.items() if craft != "a missing entry" or k != "scale"}
    path.write_text(json.dumps(crafted))
    monkeypatch.chdir(tmp_path)
    loading = PARADIGMS.get(paradigm).loads(trained_run, tmp_path)
    one_line_error(main(loading.argv), capsys.readouterr().err, "preprocess.json")
    assert not (tmp_path / "pwned").exists()
    assert loading.output is None or not loading.output.exists()


def test_a_yaml_tag_calling_a_function_is_refused(trained_run: Path, tmp_path: Path, capsys):
    marker = tmp_path / "pwned"
    config = trained_run / "config.yaml"
    config.write_text(f"name: !!python/object/apply:os.system ['touch {marker}']\n" + "seed: 0\n")
    status = main(["evaluate", str(trained_run)])
    one_line_error(status, capsys.readouterr().err, "config.yaml")
    assert not marker.exists()
