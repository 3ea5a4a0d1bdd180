"""`gradwise tune` over an agent's hyperparameters, judged by eval_return (the default metric of
task rl)."""

from __future__ import annotations

import json
from pathlib import Path

import gradwise
from tests.rl.conftest import rl_config


def test_tune_searches_rl_hyperparameters_by_eval_return(tmp_path: Path) -> None:
    space = {"agent.clip_range": [0.1, 0.3]}
    config = rl_config(
        "ppo",
        train={"epochs": 2},
        env={"eval_episodes": 2},
        diagnose={"enabled": False},
        tune={"space": space, "sampler": "grid", "pruner": "none"},
    )
    result = gradwise.tune(config, trials=2, out=tmp_path / "study")
    document = json.loads((result.study_dir / "tune.json").read_text())
    assert (document["metric"], document["direction"]) == ("eval_return", "maximize")
    assert document["counts"]["complete"] == 2
    board = document["leaderboard"]
    assert sorted(e["params"]["agent.clip_range"] for e in board) == [0.1, 0.3]
    for entry in board:  # each trial's value is the best evaluation of its run
        lines = (Path(entry["run_dir"]) / "metrics.jsonl").read_text().splitlines()
        rows = [json.loads(line) for line in lines]
        best = max(r["eval_return"] for r in rows if r["eval_return"] is not None)
        assert entry["value"] == best
