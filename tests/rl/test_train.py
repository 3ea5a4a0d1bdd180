"""A short PPO run end to end: what metrics.jsonl and summary.json hold, the best checkpoint by
eval_return, and `gradwise runs`, `report`, `doctor` and `play` on the run; the non-finite
guard stopping a run whose rewards turn NaN."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import gradwise
from gradwise.cli.main import main
from gradwise.errors import TrainingError
from gradwise.rl.evaluation import sustained_from
from gradwise.training.callbacks import Callback
from tests.rl.conftest import rl_config

PER_UPDATE = (
    "train_loss",
    "train_policy_loss",
    "train_value_loss",
    "train_entropy",
    "train_explained_variance",
    "train_approx_kl",
    "train_value_abs_max",
    "episode_return",
    "episode_length",
    "env_steps",
    "fps",
    "eval_return",
)


@pytest.fixture(scope="module")
def ppo_run(tmp_path_factory: pytest.TempPathFactory) -> gradwise.Run:
    out = tmp_path_factory.mktemp("runs")
    # 6 epochs × 4 envs × 32 steps = 768 steps; evaluations at 256, 512, 768
    config = rl_config("ppo", env={"reward_threshold": 15.0})
    return gradwise.train(config, out=out)


def test_metrics_and_summary_of_a_ppo_run(ppo_run: gradwise.Run) -> None:
    metrics = ppo_run.metrics
    assert len(metrics) == 6
    assert all(key in row for row in metrics for key in PER_UPDATE)
    assert [row["env_steps"] for row in metrics] == [128 * e for e in range(1, 7)]
    evaluated = [(row["env_steps"], row["eval_return"]) for row in metrics if row["eval_return"]]
    assert [step for step, _ in evaluated] == [256, 512, 768]
    summary = ppo_run.summary
    evaluation = summary["eval"]
    assert evaluation["steps"] == 768 and evaluation["episodes"] == 4
    assert evaluation["return_mean"] == pytest.approx(evaluated[-1][1])
    assert evaluation["reward_threshold"] == 15.0
    assert evaluation["sustained_from"] == sustained_from(evaluated, 15.0)
    assert summary["monitor"] == "eval_return"
    best = max(evaluated, key=lambda pair: pair[1])
    assert summary["best_value"] == pytest.approx(best[1])
    assert summary["test"]["episodes"] == 4 and summary["test"]["return"] >= 8
    assert summary["env_steps"] == 768


def test_runs_report_doctor_and_play_open_the_run(
    ppo_run: gradwise.Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = str(ppo_run.path.parent)
    assert main(["runs", "--dir", folder, "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["task"] == "rl" and row["metric"] == "return"
    assert row["test"] == pytest.approx(ppo_run.summary["test"]["return"])
    assert main(["report", str(ppo_run.path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert "reinforcement_learning" in report["sections"]
    assert "Agent and returns" in (ppo_run.path / "report.html").read_text()
    assert main(["doctor", str(ppo_run.path), "--json"]) == 0
    codes = [f["code"] for f in json.loads(capsys.readouterr().out)["findings"]]
    assert "entropy_collapse" not in codes and "value_divergence" not in codes
    assert main(["play", str(ppo_run.path), "--episodes", "3", "--json"]) == 0
    played = json.loads(capsys.readouterr().out)
    assert len(played["returns"]) == 3 and played["lengths"] == [int(r) for r in played["returns"]]
    # the same episodes again: deterministic
    assert main(["play", str(ppo_run.path), "--episodes", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["returns"] == played["returns"]


def test_play_writes_a_gif_of_the_episodes(tmp_path: Path, capsys) -> None:
    config = rl_config("ppo", "GradwiseCorridor-v0", train={"epochs": 2})
    run = gradwise.train(config, out=tmp_path)
    gif = tmp_path / "episodes.gif"
    assert main(["play", str(run.path), "--episodes", "2", "--gif", str(gif), "--json"]) == 0
    played = json.loads(capsys.readouterr().out)
    assert played["frames"] == sum(played["lengths"]) + 2  # each reset and each step
    with Image.open(gif) as image:  # identical consecutive frames are merged into one
        assert 1 < image.n_frames <= played["frames"] and image.size == (32, 8)
    assert main(["play", str(run.path), "--gif", str(tmp_path / "x.png")]) == 2
    assert "must end in .gif" in capsys.readouterr().err


class CountSteps(Callback):
    """Optimizer steps per training epoch (one PPO iteration) and the learning rate of each
    epoch's first step."""

    def __init__(self) -> None:
        self.per_epoch: list[int] = []
        self.first_lrs: list[float] = []

    def on_epoch_start(self, trainer: Any, epoch: int) -> None:
        self.per_epoch.append(0)

    def on_after_backward(self, trainer: Any) -> None:
        if not self.per_epoch[-1]:
            self.first_lrs.append(trainer.lr)
        self.per_epoch[-1] += 1


@pytest.mark.parametrize(("target_kl", "steps"), [(None, 8), (1e-10, 2)])
def test_target_kl_stops_an_update_after_the_epoch_that_passes_it(
    tmp_path: Path, target_kl: float | None, steps: int
) -> None:
    # a rollout of 4 envs × 32 steps in minibatches of 64: 2 steps per epoch, 4 epochs; a
    # policy that moves at all passes a tiny target after its first epoch
    config = rl_config(
        "ppo", "GradwiseCorridor-v0", agent={"target_kl": target_kl}, train={"epochs": 3}
    )
    counter = CountSteps()
    gradwise.train(config, out=tmp_path, callbacks=[counter])
    assert counter.per_epoch == [steps] * 3


def test_the_schedule_follows_the_iterations_when_target_kl_cuts_updates(tmp_path: Path) -> None:
    # 3 iterations of (at most) 8 steps: linear to 0 over 24 steps, whatever target_kl left out
    config = rl_config(
        "ppo",
        "GradwiseCorridor-v0",
        agent={"target_kl": 1e-10},
        train={
            "epochs": 3,
            "optimizer": {"name": "adam", "lr": 0.003},
            "schedule": {"name": "linear"},
        },
    )
    counter = CountSteps()
    gradwise.train(config, out=tmp_path, callbacks=[counter])
    assert counter.per_epoch == [2] * 3
    assert counter.first_lrs == pytest.approx([0.003, 0.002, 0.001])


def test_nan_rewards_stop_the_run_at_the_step(tmp_path: Path) -> None:
    config = rl_config("ppo", "GradwiseNanCorridor-v0", env={"num_envs": 2})
    with pytest.raises(TrainingError, match=r"non-finite loss .* at epoch \d+, step \d+") as caught:
        gradwise.train(config, out=tmp_path)
    summary = json.loads((caught.value.run_dir / "summary.json").read_text())
    assert summary["status"] == "failed" and "non-finite" in summary["error"]


@pytest.mark.parametrize(("eps", "expected"), [(None, 1e-5), (1e-3, 1e-3)])
def test_ppo_adam_eps_defaults_to_the_agents_and_yields_to_the_config(
    tmp_path, eps: float | None, expected: float
) -> None:
    class Grab(Callback):
        def on_fit_end(self, trainer, logs) -> None:
            self.eps = [group["eps"] for group in trainer.optimizers["main"].param_groups]

    grab = Grab()
    optimizer = {"name": "adam", "lr": 3e-4, "eps": eps}
    config = rl_config("ppo", train={"epochs": 1, "optimizer": optimizer})
    gradwise.train(config, out=tmp_path, callbacks=[grab])
    assert grab.eps and all(value == expected for value in grab.eps)
