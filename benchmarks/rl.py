"""gradwise's default RL recipes against Stable-Baselines3 with the RL-Zoo settings, same run.

For each environment, agent and seed the two arms run one after the other (interleaved, so a
busy machine slows both alike). Evaluation protocol, identical for both: the mean return of 20
deterministic episodes each time training crosses a multiple of 5k environment steps (gradwise
evaluates at the end of the iteration that crosses it: PPO on CartPole at 5120, 10240, …; SB3
at the vector step that crosses it). ``sustained_from`` is the first evaluation step from which
every later evaluation stayed ≥ the environment's reward threshold (CartPole-v1 475; Acrobot-v1:
−100, the goal of the issue), ``-`` if never; the goal counts the seeds sustained from the 25k
evaluation or an earlier one (gradwise's 25k evaluation of PPO on CartPole is at step 25088).

Training time excludes evaluation in both arms (gradwise: the run's ``train_time`` minus its
``eval_time``; SB3: ``learn`` minus the evaluation callback), reported per 10k environment
steps; both arms train with one torch thread (gradwise does so by itself, SB3 is set to it).

    python benchmarks/rl.py --envs CartPole-v1 --algos ppo,dqn --seeds 8 --out rl.jsonl

Each result is appended to ``--out`` as one JSON line as soon as it is measured, and a table is
printed at the end (``--summarize FILE`` prints the table of a results file).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

THRESHOLDS = {"CartPole-v1": 475.0, "Acrobot-v1": -100.0}
EVAL_EVERY = 5000
EVAL_EPISODES = 20

# Stable-Baselines3 with the RL-Zoo hyperparameters (rl-baselines3-zoo hyperparams/*.yml);
# ``lin`` marks a linear schedule to 0 over training; ``normalize`` a VecNormalize wrapper.
SB3_SETTINGS: dict[tuple[str, str], dict[str, Any]] = {
    ("CartPole-v1", "ppo"): {
        "n_envs": 8,
        "steps": 50_000,
        "kwargs": {
            "n_steps": 32,
            "batch_size": 256,
            "gae_lambda": 0.8,
            "gamma": 0.98,
            "n_epochs": 20,
            "ent_coef": 0.0,
        },
        "lin": {"learning_rate": 1e-3, "clip_range": 0.2},
    },
    ("CartPole-v1", "dqn"): {
        "n_envs": 1,
        "steps": 50_000,
        "kwargs": {
            "learning_rate": 2.3e-3,
            "batch_size": 64,
            "buffer_size": 100_000,
            "learning_starts": 1000,
            "gamma": 0.99,
            "target_update_interval": 10,
            "train_freq": 256,
            "gradient_steps": 128,
            "exploration_fraction": 0.16,
            "exploration_final_eps": 0.04,
            "policy_kwargs": {"net_arch": [256, 256]},
        },
    },
    ("Acrobot-v1", "ppo"): {
        "n_envs": 16,
        "steps": 100_000,
        "normalize": True,
        "kwargs": {"n_steps": 256, "gae_lambda": 0.94, "gamma": 0.99, "n_epochs": 4},
    },
    ("Acrobot-v1", "dqn"): {
        "n_envs": 1,
        "steps": 100_000,
        "kwargs": {
            "learning_rate": 6.3e-4,
            "batch_size": 128,
            "buffer_size": 50_000,
            "learning_starts": 0,
            "gamma": 0.99,
            "target_update_interval": 250,
            "train_freq": 4,
            "gradient_steps": -1,
            "exploration_fraction": 0.12,
            "exploration_final_eps": 0.1,
            "policy_kwargs": {"net_arch": [256, 256]},
        },
    },
}


def sustained(history: list[tuple[int, float]], threshold: float) -> int | None:
    from gradwise.rl.evaluation import sustained_from

    return sustained_from(history, threshold)


# ------------------------------------------------------------------------------- gradwise
def run_gradwise(env_id: str, algo: str, seed: int, steps: int | None) -> dict[str, Any]:
    import gradwise
    from gradwise.rl.recipes import recipe
    from gradwise.tasks import InitRequest

    config = yaml.safe_load(recipe(InitRequest(env_id, agent=algo)))
    config["seed"] = seed
    config["report"] = {"enabled": False}
    if steps is not None:
        from gradwise.rl.recipes import steps_per_iteration

        per_epoch = steps_per_iteration(algo, config["env"], config["agent"])
        config["train"]["epochs"] = -(-steps // per_epoch)
    with tempfile.TemporaryDirectory() as out:
        run = gradwise.train(config, out=out)
        summary = run.summary
    evaluation = summary["eval"]
    history = [(int(s), float(m)) for s, m, _ in evaluation["history"]]
    train_seconds = summary["train_time"] - summary["eval_time"]
    return {
        "history": history,
        "final": history[-1][1],
        "steps": summary["env_steps"],
        "train_seconds": train_seconds,
    }


# ------------------------------------------------------------------------------------ SB3
def run_sb3(env_id: str, algo: str, seed: int, steps: int | None) -> dict[str, Any]:
    import gymnasium as gym
    from stable_baselines3 import DQN, PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    from gradwise.rl.evaluation import run_episodes

    settings = SB3_SETTINGS[(env_id, algo)]
    total = steps or settings["steps"]
    venv = make_vec_env(env_id, n_envs=settings["n_envs"], seed=seed)
    if settings.get("normalize"):
        venv = VecNormalize(venv, gamma=settings["kwargs"].get("gamma", 0.99))
    kwargs = dict(settings["kwargs"])
    for key, start in settings.get("lin", {}).items():
        kwargs[key] = (lambda s: lambda progress_remaining: progress_remaining * s)(start)
    algorithm = {"ppo": PPO, "dqn": DQN}[algo]
    model = algorithm("MlpPolicy", venv, seed=seed, device="cpu", verbose=0, **kwargs)
    eval_envs = [gym.make(env_id) for _ in range(EVAL_EPISODES)]

    def policy(obs: np.ndarray) -> np.ndarray:
        if settings.get("normalize"):
            obs = venv.normalize_obs(obs)
        return model.predict(obs, deterministic=True)[0]

    class Evaluate(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.history: list[tuple[int, float]] = []
            self.eval_seconds = 0.0

        def _on_step(self) -> bool:
            done = self.num_timesteps
            previous = done - self.training_env.num_envs
            if done // EVAL_EVERY > previous // EVAL_EVERY:
                started = time.perf_counter()
                round_ = len(self.history)
                seeds = [10_000 * seed + 100 * round_ + i for i in range(EVAL_EPISODES)]
                returns, _ = run_episodes(eval_envs, policy, seeds)
                self.history.append((done, float(np.mean(returns))))
                self.eval_seconds += time.perf_counter() - started
            return True

    callback = Evaluate()
    started = time.perf_counter()
    model.learn(total_timesteps=total, callback=callback)
    seconds = time.perf_counter() - started - callback.eval_seconds
    if not callback.history or callback.history[-1][0] < model.num_timesteps:
        round_ = len(callback.history)
        seeds = [10_000 * seed + 100 * round_ + i for i in range(EVAL_EPISODES)]
        returns, _ = run_episodes(eval_envs, policy, seeds)
        callback.history.append((model.num_timesteps, float(np.mean(returns))))
    return {
        "history": callback.history,
        "final": callback.history[-1][1],
        "steps": model.num_timesteps,
        "train_seconds": seconds,
    }


ARMS = {"gradwise": run_gradwise, "sb3": run_sb3}
RETRIES = 3  # a run that fails (e.g. a working tree caught mid-edit) is tried again


def attempt(arm: Any, env_id: str, algo: str, seed: int, steps: int | None) -> dict[str, Any]:
    for remaining in range(RETRIES - 1, -1, -1):
        try:
            return arm(env_id, algo, seed, steps)
        except Exception as exc:
            if not remaining:
                raise
            print(f"{env_id} {algo} seed {seed}: {type(exc).__name__}: {exc}; retrying", flush=True)
            time.sleep(30)
    raise AssertionError("unreachable")


# ---------------------------------------------------------------------------------- table
GOAL_STEPS = 25_000  # the goal: sustained from ≤ 25k environment steps


def within_goal(since: int | None) -> bool:
    """Sustained from the evaluation round of ``GOAL_STEPS`` or an earlier one.

    Rounds, not raw steps: gradwise evaluates at the end of the iteration that crosses a
    multiple of 5k (PPO on CartPole: 25088 = 98 × 256), SB3 at the step that crosses it
    (25000), and both are that multiple's evaluation (``step // EVAL_EVERY`` is its round).
    """
    return since is not None and since // EVAL_EVERY <= GOAL_STEPS // EVAL_EVERY


def summarize(results: list[dict[str, Any]]) -> None:
    """The table per environment and agent; a seed measured twice keeps its last result."""
    latest = {(r["env"], r["algo"], r["arm"], r["seed"]): r for r in results}
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for result in latest.values():
        groups.setdefault((result["env"], result["algo"]), []).append(result)
    for (env_id, algo), rows in groups.items():
        threshold = THRESHOLDS.get(env_id)
        print(f"\n{env_id} {algo} (threshold {threshold}, evaluation every {EVAL_EVERY} steps)")
        print(f"{'arm':<9} {'seed':>4} {'sustained_from':>14} {'final':>8} {'s/10k':>7}")
        per_arm: dict[str, list[dict[str, Any]]] = {}
        for row in sorted(rows, key=lambda r: (r["arm"], r["seed"])):
            per_arm.setdefault(row["arm"], []).append(row)
            since = row["sustained_from"]
            print(
                f"{row['arm']:<9} {row['seed']:>4} {since if since is not None else '-':>14} "
                f"{row['final']:>8.1f} {row['seconds_per_10k']:>7.2f}"
            )
        for arm, arm_rows in per_arm.items():
            within = sum(1 for r in arm_rows if within_goal(r["sustained_from"]))
            ever = sum(1 for r in arm_rows if r["sustained_from"] is not None)
            median = statistics.median(r["seconds_per_10k"] for r in arm_rows)
            print(
                f"{arm}: sustained ≥ threshold from ≤ 25k steps on {within}/{len(arm_rows)} seeds "
                f"(by the end: {ever}/{len(arm_rows)}); median {median:.2f} s per 10k steps"
            )
        paired = [
            (g["seconds_per_10k"], s["seconds_per_10k"])
            for g in per_arm.get("gradwise", [])
            for s in per_arm.get("sb3", [])
            if g["seed"] == s["seed"]
        ]
        if paired:
            ratios = [g / s for g, s in paired]
            print(
                f"time ratio gradwise/SB3 per seed: median {statistics.median(ratios):.2f} "
                f"(min {min(ratios):.2f}, max {max(ratios):.2f}, {len(ratios)} pairs)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", default="CartPole-v1,Acrobot-v1")
    parser.add_argument("--algos", default="ppo,dqn")
    parser.add_argument("--seeds", type=int, default=8, help="seeds 0..N-1")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--arms", default="gradwise,sb3")
    parser.add_argument("--steps", type=int, default=None, help="override the step budget")
    parser.add_argument("--out", default="rl-benchmark.jsonl", help="results, one JSON a line")
    parser.add_argument("--summarize", default=None, metavar="FILE", help="only print FILE")
    args = parser.parse_args()
    if args.summarize:
        summarize([json.loads(line) for line in Path(args.summarize).read_text().splitlines()])
        return
    torch.set_num_threads(1)
    import gradwise.api
    import gradwise.data.load
    import gradwise.tasks.rl  # noqa: F401

    results = []
    for env_id in args.envs.split(","):
        for algo in args.algos.split(","):
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                for arm in args.arms.split(","):
                    measured = attempt(ARMS[arm], env_id, algo, seed, args.steps)
                    threshold = THRESHOLDS.get(env_id)
                    row = {
                        "env": env_id,
                        "algo": algo,
                        "seed": seed,
                        "arm": arm,
                        "sustained_from": sustained(measured["history"], threshold),
                        "final": measured["final"],
                        "steps": measured["steps"],
                        "seconds_per_10k": measured["train_seconds"] / measured["steps"] * 1e4,
                        "history": measured["history"],
                    }
                    results.append(row)
                    with open(args.out, "a", encoding="utf-8") as stream:
                        stream.write(json.dumps(row) + "\n")
                    print(
                        f"{env_id} {algo} seed {seed} {arm}: sustained_from "
                        f"{row['sustained_from']}, final {row['final']:.1f}, "
                        f"{row['seconds_per_10k']:.2f} s/10k",
                        flush=True,
                    )
    summarize(results)


if __name__ == "__main__":
    main()
