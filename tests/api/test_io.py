"""Reading the run's JSON files: absent, damaged and torn files, each with one clear outcome."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradwise._io import atomic_write_json, read_json, read_jsonl
from gradwise.errors import CheckpointError


def test_read_json_round_trips_and_returns_the_default_for_an_absent_file(tmp_path: Path):
    path = atomic_write_json(tmp_path / "a.json", {"x": [1, 2]})
    assert read_json(path) == {"x": [1, 2]}
    assert read_json(tmp_path / "missing.json", None) is None
    with pytest.raises(CheckpointError, match=r"missing\.json: no such file"):
        read_json(tmp_path / "missing.json")


def test_a_damaged_json_file_is_one_line_unless_lenient(tmp_path: Path):
    path = tmp_path / "summary.json"
    path.write_text('{"status": ', encoding="utf-8")
    with pytest.raises(CheckpointError) as info:
        read_json(path, {})
    assert str(info.value).startswith(f"{path}: not valid JSON (")
    assert "\n" not in str(info.value)
    assert read_json(path, {}, lenient=True) == {}


def test_jsonl_skips_a_torn_last_line_and_names_a_bad_line_elsewhere(tmp_path: Path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"epoch": 1}\n\n{"epoch": 2}\n{"epo', encoding="utf-8")
    assert read_jsonl(path) == [{"epoch": 1}, {"epoch": 2}]
    path.write_text('{"epoch": 1}\n{"epo\n{"epoch": 3}\n', encoding="utf-8")
    with pytest.raises(CheckpointError, match="line 2 is not valid JSON"):
        read_jsonl(path)
    assert read_jsonl(tmp_path / "absent.jsonl") == []
