"""Reinforcement learning (``task: rl``): an agent (``agent: dqn | ppo``) in a Gymnasium
environment (``env``) instead of a dataset.

How it maps onto the engine: the training "split" is one row, so each epoch is exactly one
training step, and that step is one iteration of the agent — collect experience, then update
through ``trainer.optimizer_step`` (so the non-finite guard, ``train.grad_clip`` and
``train.schedule`` apply to every gradient step; the schedule's clock is the iteration, so a
linear schedule reaches 0 at the last one even when PPO's ``target_kl`` ends updates early).
``train.epochs`` is therefore the number of iterations; the environment steps are ``epochs ×
steps per iteration`` (PPO: ``n_steps × env.num_envs``; DQN: ``train_freq``). After each
iteration the paradigm logs the episode statistics and, every ``env.eval_every`` environment
steps (and after the last iteration), a deterministic evaluation of ``env.eval_episodes``
episodes as ``eval_return``; the best checkpoint is the best ``eval_return``. The test "split"
is a final set of evaluation episodes (other seeds) played with the best weights:
``summary.json``'s ``test``. The environments, the normalization statistics, the replay buffer
and every random stream are checkpointed.

Torch-free at import (torch and gymnasium are imported when a run is built).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from gradwise.tasks.base import InitRequest, Paradigm, Parts, TrainingData
from gradwise.tasks.registry import TASKS

if TYPE_CHECKING:
    import torch

    from gradwise.config.schema import ExperimentConfig
    from gradwise.training.engine import Batch, TensorSplit, Trainer

# Per-epoch metrics beyond the agent's losses (logged as named).
EPOCH_METRICS = (
    "episode_return",
    "episode_length",
    "episodes",
    "env_steps",
    "fps",
    "eval_return",
    "eval_return_std",
)
AGENT_STREAM = 2  # the agent's random stream (stream_seed(seed, 2))
ENV_STREAM = 3  # environment seeds
EVAL_STREAM = 4  # evaluation episodes' seeds
TEST_STREAM = 5  # the final test episodes' seeds
ADAMS = ("adam", "adamw")  # the optimizers an agent's adam_eps applies to


@TASKS.register("rl")
class ReinforcementLearning(Paradigm):
    """An agent that learns from the returns of its own episodes."""

    needs_data = False
    target_kind = None
    main_metric = "return"
    loss_tracks_learning = False  # the losses chase moving targets (returns, Q-values)
    config_sections: ClassVar[tuple[str, ...]] = ("env", "agent")
    eval_metrics: ClassVar[tuple[str, ...]] = ("return", "return_std", "length", "episodes")

    def __init__(self, config: ExperimentConfig) -> None:
        from gradwise.rl.agents import AGENTS

        self.config = config
        self.agent_class = AGENTS.get(config.agent.name)
        self.train_losses = self.agent_class.losses  # type: ignore[misc]
        self.agent: Any = None
        self.collector: Any = None
        self.eval_envs: list[Any] = []
        self.evaluations: list[tuple[int, float, float]] = []  # (env step, mean, std)
        self.iteration_seconds = math.nan
        self.eval_seconds = 0.0  # time spent evaluating (part of the epochs' train_time)

    @classmethod
    def create(cls, config: Any, preprocessor: Any, train_targets: Any = None) -> Paradigm:
        return cls(config)

    # ------------------------------------------------------------------------------ config
    @classmethod
    def config_defaults(cls, config: ExperimentConfig) -> dict[str, Any]:
        from gradwise.config.rl import AGENT_CONFIGS, DEFAULT_AGENT

        agent = config.agent or AGENT_CONFIGS[DEFAULT_AGENT]()
        return {"agent": agent, "train.monitor": "eval_return", "train.grad_clip": agent.grad_clip}

    @classmethod
    def check_config(cls, config: ExperimentConfig) -> tuple[str, str] | None:
        if config.env is None:
            return (
                "env",
                "missing required key (task rl runs in a Gymnasium environment, e.g. "
                "env: {id: CartPole-v1})",
            )
        model = config.model
        if model.kind != "mlp":
            return ("model.kind", f"task rl builds MLP networks; got '{model.kind}'")
        if model.norm == "batch":
            return (
                "model.norm",
                "batch statistics of the few observations an agent acts on are meaningless; "
                "use layer or none",
            )
        if model.dropout > 0:
            return ("model.dropout", "task rl networks take no dropout; set 0")
        agent = config.agent
        if agent is not None and agent.name == "dqn":
            window = agent.n_step * config.env.num_envs
            if agent.buffer_size <= window:
                return (
                    "agent.buffer_size",
                    f"{agent.buffer_size} holds no n-step window (agent.n_step × env.num_envs "
                    f"= {window} transitions); make it larger",
                )
        if agent is not None and agent.name == "ppo":
            rollout = agent.n_steps * config.env.num_envs
            if agent.batch_size > rollout:
                return (
                    "agent.batch_size",
                    f"{agent.batch_size} is larger than a rollout (agent.n_steps × "
                    f"env.num_envs = {rollout})",
                )
        return None

    @classmethod
    def starting_config(cls, request: InitRequest) -> str | None:
        from gradwise.rl.recipes import recipe

        return recipe(request)

    def progress_metrics(self) -> list[str]:
        return ["episode_return", "eval_return"]

    def logged_metrics(self, has_valid: bool) -> list[str]:
        return [f"train_{name}" for name in self.train_losses] + list(EPOCH_METRICS)

    # ------------------------------------------------------------------------------ build
    def training_data(self, config: Any, splits: Any, device: torch.device) -> TrainingData:
        """One row per epoch (one iteration), no validation, and the test episodes."""
        import torch

        from gradwise.training.engine import TensorSplit

        iteration = TensorSplit({"iteration": torch.zeros(1, device=device)})
        episodes = torch.arange(config.env.eval_episodes, device=device)
        return TrainingData(iteration, None, TensorSplit({"episode": episodes}))

    def build_module(self, config: Any, feature_shape: tuple[int, ...]) -> torch.nn.Module:
        """The agent's networks, on the CPU (the environment is made to read its spaces)."""
        import torch

        from gradwise.rl.envs import make_env, spaces_of

        env = make_env(config.env)
        obs_size, n_actions = spaces_of(env, config.env.id)
        env.close()
        agent = self.agent_class(config, obs_size, n_actions, 1, torch.device("cpu"))
        return agent.module

    def build(self, config: Any, data: TrainingData, device: Any, augment: Any) -> Parts:
        from gradwise.rl.collector import Collector, make_eval_envs
        from gradwise.training.engine import stream_seed
        from gradwise.training.optimizers import build_optimizer
        from gradwise.training.schedules import LRSchedule

        gamma = config.agent.gamma
        env_seed = stream_seed(config.seed, ENV_STREAM) % 2**31
        self.collector = Collector(config.env, gamma, env_seed, device)
        self.eval_envs = make_eval_envs(config.env, config.env.eval_episodes)
        collector = self.collector
        agent = self.agent_class(
            config, collector.obs_size, collector.n_actions, collector.num_envs, device
        )
        agent.generator.manual_seed(stream_seed(config.seed, AGENT_STREAM))
        self.agent = agent
        settings = config.train.optimizer
        if settings.eps is None and agent.adam_eps is not None and settings.name in ADAMS:
            settings = settings.model_copy(update={"eps": agent.adam_eps})  # the agent's default
        optimizer = build_optimizer(agent.trained_parameters(), settings, device)
        per_epoch = agent.updates_per_iteration()
        total = per_epoch * config.train.epochs
        schedule = LRSchedule(optimizer, config.train.schedule, per_epoch, total)
        generators = {"agent": agent.generator}
        return Parts(agent.module, {"main": optimizer}, {"main": schedule}, generators=generators)

    # --------------------------------------------------------------------------- training
    def train_step(self, trainer: Trainer, batch: Batch) -> dict[str, torch.Tensor]:
        started = time.perf_counter()
        progress = trainer.epoch / max(1, trainer.epochs)
        # the schedule follows the iterations, as the clip range and ε do: PPO's target_kl
        # ends some iterations' updates early, and DQN waits for learning_starts
        trainer.schedules["main"].seek(trainer.epoch * self.agent.updates_per_iteration())
        with one_thread(trainer.device):
            losses = self.agent.iterate(trainer, self.collector, progress)
        self.iteration_seconds = time.perf_counter() - started
        return losses

    def forward(self, trainer: Trainer, batch: Batch) -> Any:
        """The networks on the agent's current observations (run by the non-finite guard to
        find the first layer that went non-finite)."""
        return trainer.module(self.collector.obs)

    def epoch_metrics(self, trainer: Trainer) -> dict[str, float]:
        collector = self.collector
        logs: dict[str, float] = {
            **collector.episode_stats(),
            "episodes": collector.episodes,
            "env_steps": collector.env_steps,
            "fps": self.agent.env_steps_per_iteration() / self.iteration_seconds,
            "eval_return": math.nan,
            "eval_return_std": math.nan,
        }
        every = self.config.env.eval_every
        steps = collector.env_steps
        previous = steps - self.agent.env_steps_per_iteration()
        last_epoch = trainer.epoch + 1 >= trainer.epochs
        if steps // every > previous // every or last_epoch:
            started = time.perf_counter()
            returns, _ = self.play(trainer, len(self.eval_envs), EVAL_STREAM, len(self.evaluations))
            self.eval_seconds += time.perf_counter() - started
            mean, std = float(returns.mean()), float(returns.std())
            self.evaluations.append((steps, mean, std))
            logs["eval_return"], logs["eval_return_std"] = mean, std
        return logs

    def play(self, trainer: Trainer, episodes: int, stream: int, round_: int) -> tuple[Any, Any]:
        """Returns and lengths of ``episodes`` deterministic episodes, seeded by ``stream``
        and ``round_`` (the same seeds for the same round of any run with this seed)."""
        import numpy as np

        from gradwise.rl.evaluation import greedy_policy, run_episodes
        from gradwise.training.engine import stream_seed

        base = stream_seed(self.config.seed, stream) % 2**31
        seeds = [(base + 10_007 * round_ + i) % 2**31 for i in range(episodes)]
        while len(self.eval_envs) < episodes:
            from gradwise.rl.collector import make_eval_envs

            self.eval_envs += make_eval_envs(self.config.env, episodes - len(self.eval_envs))
        was_training = trainer.module.training
        trainer.module.eval()
        policy = greedy_policy(self.agent.act, self.collector.normalize)
        with one_thread(trainer.device):
            returns, lengths = run_episodes(self.eval_envs[:episodes], policy, seeds)
        trainer.module.train(was_training)
        return np.asarray(returns), np.asarray(lengths)

    def evaluate(self, trainer: Trainer, split: TensorSplit) -> dict[str, float]:
        """``len(split)`` deterministic test episodes (seeds of their own)."""
        returns, lengths = self.play(trainer, len(split), TEST_STREAM, 0)
        return {
            "return": float(returns.mean()),
            "return_std": float(returns.std()),
            "length": float(lengths.mean()),
            "episodes": len(returns),
        }

    def summary_fields(self, trainer: Trainer) -> dict[str, Any]:
        """``eval``: the last evaluation (mean and std of its returns, its episodes and step)
        and ``sustained_from`` (the first evaluation step from which every later one stayed
        ≥ the reward threshold; null if never), with the threshold and every evaluation."""
        from gradwise.rl.evaluation import sustained_from

        if self.collector is None:
            return {}
        threshold = self.collector.threshold
        fields: dict[str, Any] = {
            "env_steps": self.collector.env_steps,
            "eval_time": self.eval_seconds,
        }
        if self.evaluations:
            step, mean, std = self.evaluations[-1]
            pairs = [(s, m) for s, m, _ in self.evaluations]
            fields["eval"] = {
                "return_mean": mean,
                "return_std": std,
                "episodes": self.config.env.eval_episodes,
                "steps": step,
                "sustained_from": sustained_from(pairs, threshold),
                "reward_threshold": threshold,
                "history": [list(e) for e in self.evaluations],
            }
        return fields

    # ---------------------------------------------------------------------------- resuming
    def state_dict(self) -> dict[str, Any]:
        return {
            "collector": self.collector.state_dict(),
            "agent": self.agent.state_dict(),
            "evaluations": [list(e) for e in self.evaluations],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if not state:
            return
        self.collector.load_state_dict(state["collector"])
        self.agent.load_state_dict(state["agent"])
        self.evaluations = [(int(s), float(m), float(d)) for s, m, d in state["evaluations"]]


@contextlib.contextmanager
def one_thread(device: torch.device) -> Iterator[None]:
    """One intra-op thread on the CPU while the agent runs: its tensors are a few rows of a
    small network, where threads only add synchronization — on a busy machine a 2-thread
    pool made PPO ~40× slower than one thread (measured on CartPole)."""
    import torch

    if device.type != "cpu":
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
