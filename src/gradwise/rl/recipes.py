"""``gradwise init ENV --task rl --agent ppo|dqn``: commented starting experiments.

The tuned recipes start from the RL-Zoo (Raffin, 2020) settings for CartPole-v1 and Acrobot-v1,
which ``benchmarks/rl.py`` measures against Stable-Baselines3. On CartPole-v1 (seeds 0–7,
sustained ≥ 475 from the 25k evaluation or earlier): PPO adds ``target_kl`` (an update stops its
epochs once the policy has moved) and twice the Zoo's learning rate, decayed linearly to 0 on
the iterations' clock (8 of 8 seeds; 4 with the Zoo's rate, 3 with three times it).

DQN learns from 3-step Munchausen targets (an implicit penalty on changing the greedy policy)
through a Q-network with a LayerNorm before each activation, with a learning rate decayed
linearly to 0: 32 gradient steps on batches of 512 per 128 environment steps (the target
network, copied every 10 steps, is the online network of the previous round), γ = 0.99, Adam's
ε = 3·10⁻⁴, and a tenth of every minibatch drawn from the 20 steps before a termination
(``terminal_share``). Seeds 0–31, counted: sustained ≥ 475 from the 25k evaluation or earlier.

- γ = 0.99 and ε = 3·10⁻⁴ (the Zoo's 0.98 and PyTorch's 10⁻⁸; 64 batches per 256 steps, no
  LayerNorm): 24 (the Zoo's γ and ε: 21, within the seeds' noise). Where γ = 0.98 failed, the
  greedy policy balanced the pole and let the cart drift off the track (seed 17 at 25k: 18 of 20
  evaluation episodes ended at |x| > 2.4 after 191–498 steps); a horizon 1/(1 − γ) of 50 steps
  barely sees the drift. ε = 3·10⁻⁴ shrinks Adam's steps where the gradients of a settled
  Q-function are tiny (seeds 0–23: γ alone 17 of 24, with ε 19; ε alone 16, neither 15; 3·10⁻³
  slows learning). The failures were mostly collapses after reaching 500: carts driven off the
  track once the replay held mostly balanced states.
- ``terminal_share: 0.1``: 28, the failures three slow starts (475 first at 30k) and one dip.
  A slow start ends its evaluation episodes with the cart off the track (seed 5 with
  ``terminal_share: 0.2``: 20 of 20 at 10k, 15k, 20k and 25k).
- A LayerNorm, with the target refreshed every 128 steps (the recipe): 29, most from 5–10k
  (median 10k; the recipe before it: 20k). The three failures are single evaluations at 30k
  (425, 462, 471) between 500s. On 0–7 in ``benchmarks/rl.py``: 8 of 8, at 0.92× SB3's time per
  10k steps (0.77× before; the recipe takes ≈ 1.2× as long as the one before). Refreshing the
  target every 128 steps without the LayerNorm learns as fast but lets the Q-values run away:
  on seed 3 the largest |Q| grew from 164 at 23k to 1,896 at 44k (no discounted return exceeds
  100) and the policy fell to ≈ 100; with the LayerNorm the same seed keeps |Q| at 103–106 and
  500 at every evaluation. Seeds 0–15: without the LayerNorm 13 of 16, with it 15; the
  LayerNorm with the target refreshed every 256 steps 14; the LayerNorm with 24 gradient steps
  per 128 in place of 32, 15 in runs ≈ 7% shorter (not yet measured on seeds 16–31); 24
  gradient steps without the LayerNorm, 6 of the first 12.

Tried and dropped: ensembles of Q-networks acting on their mean Q-values (members batched in
one matmul; before ``terminal_share``, on the eight seeds the first recipe failed: 2 × [128,
128] 4 and 5 of 8, 3 × [128, 128] 6, 2 × [256, 256] with 48 gradient steps 6 at 1.6× the
time); a moving average of the online weights for the greedy policy (decays 0.99–0.999 per
gradient step, seeds 0–11 with ``terminal_share: 0.2``: 8 of 12 each against the online
network's 9; its dips and collapses are the online network's); γ = 0.995 (4 of the first 12
fail, by dips and collapses); on eight seeds where the recipe then sustained 4, a learning rate
of 3·10⁻³ (5: collapses after 500) and 96 gradient steps per 256 (7, at 1.6× the time);
``terminal_share: 0.2`` (seeds 0–11: 9, the recipe then 11).

On Acrobot-v1 DQN keeps the Zoo's settings with its learning rate decayed linearly to 0: at the
Zoo's constant rate a greedy policy that had held ≈ −80 for 30k steps fell to −357 and, at the
last evaluation, −314 (seed 2; the same seed holds from 30k with the decay).
Any other environment starts from the CartPole recipe of its agent. Torch-free (Gymnasium is
read, when installed, to check the id).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from gradwise.config.rl import AGENT_CONFIGS, DEFAULT_AGENT
from gradwise.errors import ConfigError, did_you_mean


@dataclass(frozen=True)
class Recipe:
    """An agent's settings for one environment: ``env``, ``agent`` and ``train`` keys that
    differ from the defaults, the network, and the environment steps to train for."""

    steps: int
    env: dict[str, Any] = field(default_factory=dict)
    agent: dict[str, Any] = field(default_factory=dict)
    hidden: tuple[int, ...] = (64, 64)
    activation: str = "tanh"
    norm: str = "none"  # model.norm: none | layer
    lr: float = 3e-4
    eps: float | None = None  # Adam's ε; None: PyTorch's default
    schedule: str = "constant"


RECIPES: dict[tuple[str, str], Recipe] = {
    ("CartPole-v1", "ppo"): Recipe(
        steps=50_000,
        env={"num_envs": 8},
        agent={
            "n_steps": 32,
            "batch_size": 256,
            "n_epochs": 20,
            "gamma": 0.98,
            "gae_lambda": 0.8,
            "target_kl": 0.02,
        },
        lr=2e-3,
        schedule="linear",
    ),
    ("CartPole-v1", "dqn"): Recipe(
        steps=50_000,
        env={"num_envs": 1},
        agent={
            "gamma": 0.99,
            "n_step": 3,
            "munchausen": 0.9,
            "learning_starts": 1000,
            "batch_size": 512,
            "train_freq": 128,
            "gradient_steps": 32,
            "iteration_steps": 256,
            "target_update_interval": 10,
            "exploration_fraction": 0.16,
            "exploration_final_eps": 0.04,
            "terminal_share": 0.1,
            "terminal_window": 20,
        },
        hidden=(256, 256),
        activation="relu",
        norm="layer",
        lr=2.3e-3,
        eps=3e-4,
        schedule="linear",
    ),
    ("Acrobot-v1", "ppo"): Recipe(
        steps=100_000,
        env={"num_envs": 16, "normalize_obs": True, "normalize_reward": True},
        agent={
            "n_steps": 256,
            "batch_size": 64,
            "n_epochs": 4,
            "gamma": 0.99,
            "gae_lambda": 0.94,
            "anneal_clip": False,
            "target_kl": None,
        },
    ),
    ("Acrobot-v1", "dqn"): Recipe(
        steps=100_000,
        env={"num_envs": 1},
        agent={
            "learning_starts": 0,
            "batch_size": 128,
            "buffer_size": 50_000,
            "train_freq": 4,
            "gradient_steps": 4,
            "iteration_steps": 1000,
            "target_update_interval": 250,
            "exploration_fraction": 0.12,
            "exploration_final_eps": 0.1,
            "n_step": 1,
        },
        hidden=(256, 256),
        activation="relu",
        lr=6.3e-4,
        schedule="linear",
    ),
}


def steps_per_iteration(agent: str, env: dict[str, Any], settings: dict[str, Any]) -> int:
    """Environment steps of one training epoch (one agent iteration)."""
    num_envs = env.get("num_envs", 8)
    defaults = AGENT_CONFIGS[agent]()
    if agent == "ppo":
        return settings.get("n_steps", defaults.n_steps) * num_envs
    train_freq = settings.get("train_freq", defaults.train_freq)
    per_update = math.ceil(train_freq / num_envs) * num_envs
    iteration = settings.get("iteration_steps") or train_freq
    return max(1, round(iteration / per_update)) * per_update


def yaml_value(value: Any) -> str:
    """A scalar as YAML writes it (``true``, ``null``, ``0.2``)."""
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    return str(value)


def idle_note(key: str, settings: dict[str, Any]) -> str:
    """A comment for a key that the other settings leave without effect."""
    if key == "double_q" and settings.get("munchausen"):
        return "  # no effect while munchausen > 0: its targets replace double Q"
    return ""


def check_env_id(env_id: str) -> None:
    """An unknown id is refused (with a did-you-mean) when Gymnasium is installed."""
    try:
        import gymnasium
    except ImportError:
        return
    ids = list(gymnasium.envs.registry)
    if env_id not in ids:
        raise ConfigError(
            f"init: unknown Gymnasium environment '{env_id}'{did_you_mean(env_id, ids)}; "
            "e.g. CartPole-v1, Acrobot-v1"
        )


def recipe(request: Any) -> str:
    """The starting experiment for ``request.dataset`` (an environment id) and its agent."""
    agent = request.agent or DEFAULT_AGENT
    if agent not in AGENT_CONFIGS:
        raise ConfigError(
            f"init --agent: unknown agent '{agent}'{did_you_mean(agent, AGENT_CONFIGS)}; "
            f"choose from: {', '.join(AGENT_CONFIGS)}"
        )
    if request.model not in (None, "mlp"):
        raise ConfigError(f"init --model: task rl builds MLP networks; got '{request.model}'")
    if request.target is not None:
        raise ConfigError("init --target: an environment has no target column; leave it out")
    env_id = request.dataset
    check_env_id(env_id)
    tuned = (env_id, agent) in RECIPES
    chosen = RECIPES.get((env_id, agent)) or RECIPES[("CartPole-v1", agent)]
    env = {"num_envs": 8, **chosen.env}
    per_epoch = steps_per_iteration(agent, env, chosen.agent)
    epochs = math.ceil(chosen.steps / per_epoch)
    origin = (
        f"settings tuned for {env_id}, measured by benchmarks/rl.py"
        if tuned
        else f"no tuned recipe for {env_id}: the CartPole-v1 settings of {agent}; tune them"
    )
    other = "dqn" if agent == "ppo" else "ppo"
    defaults = AGENT_CONFIGS[agent]()
    settings = {**defaults.model_dump(exclude={"name"}), **chosen.agent}
    agent_lines = "".join(
        f"  {key}: {yaml_value(value)}{idle_note(key, settings)}\n"
        for key, value in settings.items()
        if value is not None or key in chosen.agent
    )
    optimizer_eps = "" if chosen.eps is None else f", eps: {chosen.eps:g}"
    env_lines = "".join(f"  {key}: {yaml_value(value)}\n" for key, value in env.items())
    return f"""\
# gradwise experiment: {agent} on {env_id} ({origin}).
# Train it with: gradwise train THIS_FILE
# (the other agent: gradwise init {env_id} --task rl --agent {other})
# One epoch is one iteration of the agent: {per_epoch} environment steps and their updates;
# {epochs} epochs = {epochs * per_epoch} environment steps.
name: {env_id.split("/")[-1].lower()}-{agent}
seed: 0
task: rl
env:
  id: {env_id}
{env_lines}  eval_every: 5000              # environment steps between deterministic evaluations
  eval_episodes: 20             # episodes per evaluation (logged as eval_return)
agent:
  name: {agent}                   # dqn | ppo
{agent_lines}model:
  kind: mlp
  hidden: [{", ".join(map(str, chosen.hidden))}]
  activation: {chosen.activation}
  norm: {chosen.norm:<24}# none | layer (a LayerNorm before each activation)
train:
  epochs: {epochs}
  optimizer: {{name: adam, lr: {chosen.lr:g}{optimizer_eps}}}
  schedule: {{name: {chosen.schedule}}}  # constant | linear (to 0 over training) | cosine | ...
  grad_clip: {defaults.grad_clip:g}                # max global gradient norm
  monitor: eval_return          # the best checkpoint: the best evaluation
  device: cpu                   # small networks: the CPU is faster than a GPU here
"""
