"""The learning-rate range test on a problem whose good and diverging learning rates are known:
Adam on standardized 8×8 digits trains well at 1e-3 and blows up at 1.0 (see the lr_too_high
case); SGD with momentum trains well around 0.01–0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from gradwise.cli.main import main
from gradwise.config import load_config
from gradwise.diagnose.lr_find import lr_find
from tests.conftest import tiny_config

DIGITS = tiny_config(
    "sklearn:digits",
    model={"kind": "mlp", "hidden": [64, 64]},
    train={"batch_size": 64, "device": "cpu"},
)


def test_adam_suggestion_is_near_a_good_lr_and_far_below_a_diverging_one(tmp_path: Path) -> None:
    result = lr_find(DIGITS, steps=150, plot=tmp_path / "adam.png")
    assert 1e-4 <= result.suggested_lr <= 1e-2  # within 10× of 1e-3
    assert result.suggested_lr <= 1.0 / 30
    assert result.lrs == sorted(result.lrs) and len(result.lrs) == len(result.losses) <= 150
    assert min(result.smoothed) < 0.5 * result.smoothed[0]  # it did learn on the way
    assert Path(result.plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert list(tmp_path.iterdir()) == [tmp_path / "adam.png"]  # no run directory


def test_sgd_suggestion(tmp_path: Path) -> None:
    result = lr_find(DIGITS, {"train.optimizer.name": "sgd"}, steps=150)
    assert 1e-3 <= result.suggested_lr <= 0.3
    assert result.plot is None


def test_cli_writes_plot_and_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "exp.yaml"
    config.write_text(yaml.safe_dump(DIGITS))
    written = tmp_path / "tuned.yaml"
    args = ["lr-find", str(config), "--set", "model.hidden=[32]", "--steps", "80"]
    assert main([*args, "--write", str(written), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["plot"] == str(tmp_path / "exp-lr-find.png") and Path(result["plot"]).is_file()
    tuned = load_config(written)
    assert tuned.train.optimizer.lr == pytest.approx(result["suggested_lr"], rel=0.05)
    assert tuned.model.hidden == [32]  # the --set overrides travel with the copy
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "exp-lr-find.png",
        "exp.yaml",
        "tuned.yaml",
    ]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["missing.yaml"], "missing.yaml: no such experiment file"),
        (["{config}", "--steps", "3"], "--steps must be at least 10"),
        (["{config}", "--min-lr", "1", "--max-lr", "0.1"], "need 0 < min_lr < max_lr"),
    ],
)
def test_cli_user_errors(
    args: list[str], fragment: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    config = tmp_path / "exp.yaml"
    config.write_text(yaml.safe_dump(DIGITS))
    argv = ["lr-find", *(a.format(config=config) for a in args)]
    assert main(argv) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("gradwise: error:") and fragment in line
