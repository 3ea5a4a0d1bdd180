"""Configs of task rl: the recipes of `gradwise init`, and one clear line for each mistake."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

import gradwise
from gradwise.cli.main import main
from gradwise.config import load_config
from gradwise.config.rl import DQNConfig, PPOConfig
from gradwise.errors import ConfigError
from gradwise.rl.recipes import steps_per_iteration
from tests.conftest import run_cli_torch_free, tiny_config
from tests.rl.conftest import rl_config


@pytest.mark.parametrize(
    ("env_id", "agent", "lr", "eps", "num_envs", "norm"),
    [
        ("CartPole-v1", "ppo", 2e-3, None, 8, "none"),
        ("CartPole-v1", "dqn", 2.3e-3, 3e-4, 1, "layer"),
        ("Acrobot-v1", "ppo", 3e-4, None, 16, "none"),
    ],
)
def test_init_prints_the_tuned_recipe(
    capsys, env_id: str, agent: str, lr: float, eps: float | None, num_envs: int, norm: str
) -> None:
    assert main(["init", env_id, "--task", "rl", "--agent", agent]) == 0
    text = capsys.readouterr().out
    assert f"settings tuned for {env_id}" in text
    config = load_config(yaml.safe_load(text))
    assert config.task == "rl" and config.env.id == env_id and config.agent.name == agent
    assert config.train.optimizer.lr == lr and config.env.num_envs == num_envs
    assert config.train.optimizer.eps == eps and config.model.norm == norm
    assert config.train.monitor == "eval_return"
    per_epoch = steps_per_iteration(agent, config.env.model_dump(), config.agent.model_dump())
    assert f"{config.train.epochs} epochs = {config.train.epochs * per_epoch} environment" in text
    idle = re.search(r"double_q: true +# no effect while munchausen > 0", text)
    assert bool(idle) == bool(getattr(config.agent, "munchausen", 0))  # said where it is idle


def test_init_of_an_rl_task_is_torch_free() -> None:
    done = run_cli_torch_free(["init", "MountainCar-v0", "--task", "rl", "--agent", "dqn"])
    assert done.returncode == 0, done.stderr
    assert "no tuned recipe for MountainCar-v0" in done.stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["CartPol-v1", "--task", "rl"],
            "unknown Gymnasium environment 'CartPol-v1' (did you mean 'CartPole-v1'?)",
        ),
        (["CartPole-v1", "--task", "rl", "--agent", "a2c"], "init --agent: unknown agent 'a2c'"),
        (["CartPole-v1", "--task", "rl", "--model", "cnn1d"], "init --model: task rl builds MLP"),
    ],
)
def test_init_mistakes(capsys, argv: list[str], message: str) -> None:
    assert main(["init", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and message in captured.err and len(captured.err.splitlines()) == 1


def test_defaults_come_from_the_agent() -> None:
    ppo = load_config({"task": "rl", "env": {"id": "CartPole-v1"}})
    assert isinstance(ppo.agent, PPOConfig) and ppo.train.grad_clip == 0.5
    assert ppo.data is None and ppo.train.monitor == "eval_return"
    dqn = load_config({"task": "rl", "env": {"id": "CartPole-v1"}, "agent": {"name": "dqn"}})
    assert isinstance(dqn.agent, DQNConfig) and dqn.train.grad_clip == 10.0
    kept = load_config(
        {
            "task": "rl",
            "env": {"id": "CartPole-v1"},
            "train": {"grad_clip": None, "monitor": "train_loss"},
        }
    )
    assert kept.train.grad_clip is None and kept.train.monitor == "train_loss"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"task": "rl"},
            "config: env: missing required key (task rl runs in a Gymnasium environment",
        ),
        (
            {"task": "classification"},
            "config: data: missing required key (task 'classification' learns",
        ),
        (
            {**tiny_config("iris"), "env": {"id": "CartPole-v1"}},
            "env: task 'classification' does not read",
        ),
        (rl_config(agent={"name": "a2c"}), "agent.name: must be 'ppo' or 'dqn', got 'a2c'"),
        (
            rl_config(agent={"name": "ppo", "gae_lamda": 0.9}),
            "agent.gae_lamda: unknown key (did you mean 'gae_lambda'?)",
        ),
        (
            rl_config(agent={"name": "ppo", "batch_size": 512}),
            "agent.batch_size: 512 is larger than a rollout",
        ),
        (
            rl_config("dqn", agent={"buffer_size": 3, "n_step": 3}),
            "agent.buffer_size: 3 holds no n-step window (agent.n_step × env.num_envs = 3",
        ),
        (rl_config("dqn", agent={"n_step": 0}), "agent.n_step: must be greater than or equal"),
        (rl_config("dqn", agent={"terminal_share": 1.0}), "agent.terminal_share: must be less"),
        (rl_config(env={"num_envs": 0}), "env.num_envs: must be greater than or equal to 1"),
        (rl_config(model={"kind": "cnn1d"}), "model.kind: task rl builds MLP networks"),
        (rl_config(model={"norm": "batch"}), "model.norm: batch statistics"),
    ],
)
def test_config_mistakes_are_one_line(config: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert message in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"id": "CartPol-v1"},
            "env.id: unknown Gymnasium environment 'CartPol-v1' (did you mean 'CartPole-v1'?)",
        ),
        ({"id": "CartPole-v1", "options": {"gravity": 3}}, "env: cannot make 'CartPole-v1'"),
        ({"id": "Pendulum-v1"}, "the agents (dqn, ppo) take a Discrete action space"),
    ],
)
def test_environment_mistakes_leave_no_run(tmp_path: Path, env: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        gradwise.train(rl_config(env=env), out=tmp_path)
    assert not any(tmp_path.iterdir())


def test_without_gymnasium_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "gymnasium", None)  # import gymnasium → ImportError
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(rl_config()))
    assert main(["train", str(path), "--out", str(tmp_path / "runs")]) == 2
    error = capsys.readouterr().err
    assert error.strip() == (
        "gradwise: error: task: rl needs Gymnasium, which is not installed; install the rl "
        "extra: pip install 'gradwise[rl]'"
    )
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_importing_gradwise_needs_no_gymnasium() -> None:
    done = run_cli_torch_free(["--help"])
    assert done.returncode == 0
    from tests.conftest import run_python

    code = (
        "import sys; sys.modules['gymnasium'] = None\n"
        "import gradwise\n"
        "from gradwise.config import load_config\n"
        "print(load_config({'task': 'rl', 'env': {'id': 'CartPole-v1'}}).agent.name)"
    )
    done = run_python("-c", code)
    assert done.stdout.strip() == "ppo", done.stderr
