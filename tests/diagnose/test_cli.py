"""``gradwise doctor`` on the command line: text, JSON, no torch import, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gradwise.cli.main import main
from tests.conftest import run_python
from tests.diagnose.cases import BROKEN


def test_doctor_json_without_importing_torch(trained) -> None:
    run_dir = trained(BROKEN["class_imbalance"])
    code = (
        "import sys; from gradwise.cli.main import main; "
        f"status = main(['doctor', {str(run_dir)!r}, '--json']); "
        "sys.stderr.write('torch imported' if 'torch' in sys.modules else ''); sys.exit(status)"
    )
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr
    assert "torch imported" not in result.stderr
    document = json.loads(result.stdout)  # exactly one JSON document
    assert document["run"] == str(run_dir)
    assert document["findings"][0]["code"] == "class_imbalance"
    assert json.loads((run_dir / "diagnosis.json").read_text()) == document


def test_doctor_text_lists_findings_and_remedies(trained, capsys: pytest.CaptureFixture) -> None:
    run_dir = trained(BROKEN["class_imbalance"])
    assert main(["doctor", str(run_dir)]) == 0
    text = capsys.readouterr().out
    assert "[warning] class_imbalance" in text
    assert "fix: --set train.class_weights=balanced" in text
    assert text.rstrip().endswith(f"apply them all with: gradwise doctor {run_dir} --fix")


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda root: root / "nope", "no such run directory"),
        (lambda root: root, "not a gradwise run (missing config.yaml)"),
    ],
)
def test_doctor_user_errors(make, fragment: str, tmp_path: Path, capsys) -> None:
    assert main(["doctor", str(make(tmp_path))]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("gradwise: error:") and fragment in line
