"""Interrupted and resumed runs end exactly where uninterrupted ones do: the networks, the
optimizer, the environments (physics, time limits, random generators), the normalization
statistics, the replay buffer and every random stream are in the checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

import gradwise
from gradwise.rl.play import play
from gradwise.training.callbacks import Callback
from tests.rl.conftest import rl_config

TIMINGS = ("time", "train_time", "fps")


class InterruptAt(Callback):
    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, Any]) -> None:
        if epoch == self.epoch:
            raise KeyboardInterrupt


def without_timings(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k not in TIMINGS} for row in rows]


@pytest.mark.parametrize(
    ("agent", "sections"),
    [
        ("ppo", {"env": {"normalize_obs": True, "normalize_reward": True}}),
        (  # time limits cut episodes mid-buffer; the replay stores them raw
            "dqn",
            {"env": {"max_episode_steps": 40, "normalize_obs": True, "normalize_reward": True}},
        ),
        ("dqn", {"agent": {"munchausen": 0.9}}),
    ],
)
def test_resume_equals_an_uninterrupted_run(tmp_path: Path, agent: str, sections: dict) -> None:
    config = rl_config(agent, train={"epochs": 5}, diagnose={"enabled": False}, **sections)
    whole = gradwise.train(config, out=tmp_path / "whole")
    with pytest.raises(KeyboardInterrupt) as caught:
        gradwise.train(config, out=tmp_path / "cut", callbacks=[InterruptAt(3)])
    run_dir = caught.value.run_dir  # type: ignore[attr-defined]
    resumed = gradwise.resume(run_dir)
    assert resumed.summary["status"] == "completed"
    assert without_timings(resumed.metrics) == without_timings(whole.metrics)
    for tag in ("last", "best"):
        expected = load_file(str(whole.path / "checkpoints" / f"{tag}.safetensors"))
        found = load_file(str(resumed.path / "checkpoints" / f"{tag}.safetensors"))
        assert expected.keys() == found.keys()
        assert all(torch.equal(expected[k], found[k]) for k in expected)
    assert resumed.summary["eval"] == whole.summary["eval"]
    assert resumed.summary["test"] == whole.summary["test"]
    # play reads the saved observation statistics (PPO normalizes here): the same episodes
    assert play(resumed, episodes=2)["returns"] == play(whole, episodes=2)["returns"]
