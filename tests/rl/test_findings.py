"""The two RL findings on deliberately broken runs (and their remedies), and a healthy run's
numbers that must not fire them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import gradwise
from gradwise.diagnose import remedies
from gradwise.diagnose.doctor import diagnose
from tests.rl.conftest import rl_config


def test_a_negative_entropy_coefficient_collapses_the_policy(tmp_path: Path) -> None:
    # ent_coef < 0 rewards certainty: the policy turns deterministic in a few updates and
    # CartPole's returns stay near 10
    config = rl_config(
        "ppo",
        agent={"ent_coef": -1.0, "n_steps": 64, "n_epochs": 10},
        env={"eval_every": 10_000, "eval_episodes": 2},  # one evaluation, at the end
        train={"epochs": 8, "optimizer": {"lr": 0.005}},
        diagnose={"enabled": False},
    )
    run = gradwise.train(config, out=tmp_path)
    diagnosis = diagnose(run.path)
    assert diagnosis.codes[0] == "entropy_collapse"
    finding = diagnosis.findings[0]
    assert finding.severity == "error" and finding.evidence["collapse_epoch"] <= 4
    assert finding.evidence["entropy_at_collapse"] < 0.1 * finding.evidence["entropy_first"]
    fixes = {r.key: r.value for r in diagnosis.remedies()}
    assert fixes["agent.ent_coef"] == 0.01 and fixes["train.optimizer.lr"] < 0.005
    saved = json.loads((run.path / "diagnosis.json").read_text())
    assert saved["findings"][0]["code"] == "entropy_collapse"


def test_undiscounted_bootstrapping_makes_q_values_diverge(tmp_path: Path) -> None:
    # γ = 1 in an environment whose episodes all end by the time limit (−1 per step): each
    # bootstrapped backup adds another −1, without bound, far past the returns of −20
    config = rl_config(
        "dqn",
        "GradwiseEndless-v0",
        agent={
            "gamma": 1.0,
            "train_freq": 2,
            "gradient_steps": 2,
            "iteration_steps": 100,
            "learning_starts": 50,
            "target_update_interval": 1,
            "double_q": False,
            "loss": "mse",
        },
        env={"eval_every": 1000, "eval_episodes": 2},
        train={"epochs": 4, "grad_clip": None, "optimizer": {"lr": 0.01}},
        diagnose={"enabled": False},
    )
    run = gradwise.train(config, out=tmp_path)
    diagnosis = diagnose(run.path)
    assert diagnosis.codes[0] == "value_divergence"
    evidence = diagnosis.findings[0].evidence
    assert evidence["series"] == "train_q_abs_max" and evidence["ratio"] >= 10
    assert evidence["largest_return_seen"] == 20
    fixes = {r.key: r.value for r in diagnosis.remedies()}
    assert fixes["agent.loss"] == "huber" and fixes["agent.double_q"] is True
    assert fixes["model.norm"] == "layer"
    assert fixes["train.grad_clip"] == 1.0 and fixes["agent.target_update_interval"] >= 1000


@pytest.mark.parametrize(("munchausen", "offered"), [(0.0, True), (0.9, False)])
def test_double_q_is_offered_only_where_it_picks_the_next_action(
    munchausen: float, offered: bool
) -> None:
    """Munchausen targets bootstrap from soft values: switching double Q on changes nothing
    there."""
    config = gradwise.load_config(
        rl_config("dqn", agent={"double_q": False, "munchausen": munchausen})
    )
    remedy = remedies.double_q(config)
    assert (remedy is not None) == offered
    if remedy is not None:
        gradwise.load_config(config.model_dump(mode="json"), {remedy.key: remedy.value})


def test_healthy_learning_curves_do_not_fire(tmp_path: Path) -> None:
    """A solved CartPole PPO run's shape (entropy 0.69 → 0.3, values up to 50 as returns reach
    500) and a DQN run's (Q up to 100): neither finding."""
    from gradwise.config import dump_config, load_config
    from gradwise.runs import RunPaths

    for agent, scale_key, scale in (
        ("ppo", "train_value_abs_max", 50.0),
        ("dqn", "train_q_abs_max", 100.0),
    ):
        paths = RunPaths(tmp_path / agent)
        paths.root.mkdir()
        paths.config.write_text(dump_config(load_config(rl_config(agent))))
        rows = []
        for epoch in range(1, 41):
            progress = epoch / 40
            rows.append(
                {
                    "epoch": epoch,
                    "train_loss": 5.0 * (1 - progress) ** 2 + (3.0 if epoch % 7 == 0 else 0.0),
                    "train_entropy": 0.69 - 0.4 * progress,
                    scale_key: scale * min(1.0, 2 * progress),
                    "episode_return": 20 + 480 * progress,
                    "episode_length": 20 + 480 * progress,
                    "env_steps": 1000 * epoch,
                    "eval_return": 500.0 if epoch % 5 == 0 else None,
                }
            )
        paths.metrics.write_text("".join(json.dumps(r) + "\n" for r in rows))
        (paths.root / "summary.json").write_text(
            json.dumps({"status": "completed", "task": "rl", "eval": {"reward_threshold": 475}})
        )
        diagnosis = diagnose(paths.root, write=False)
        assert diagnosis.codes == ["healthy"], (agent, diagnosis.codes)
