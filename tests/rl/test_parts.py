"""The RL building blocks against references: GAE against a plain loop over the definition,
running moments against numpy, the replay ring, environment snapshots, sustained_from."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradwise
from gradwise.config.rl import EnvConfig
from gradwise.errors import CheckpointError
from gradwise.rl.agents import dqn as dqn_module
from gradwise.rl.agents.dqn import DQN
from gradwise.rl.buffers import ReplayBuffer, RolloutBuffer
from gradwise.rl.collector import Collector
from gradwise.rl.envs import VectorEnv, env_state, load_env_state, make_env
from gradwise.rl.evaluation import sustained_from
from gradwise.rl.normalize import RunningMeanStd
from tests.rl.conftest import rl_config


def test_gae_matches_the_definition() -> None:
    generator = torch.Generator().manual_seed(0)
    steps, envs, gamma, lam = 7, 3, 0.9, 0.8
    buffer = RolloutBuffer(steps, envs, 2, torch.device("cpu"))
    buffer.rewards = torch.randn(steps, envs, generator=generator)
    buffer.values = torch.randn(steps, envs, generator=generator)
    buffer.dones = (torch.rand(steps, envs, generator=generator) < 0.3).float()
    last = torch.randn(envs, generator=generator)
    advantages, returns = buffer.advantages(last, gamma, lam)
    for env in range(envs):  # A_t = Σ_k (γλ)^k δ_{t+k}, cut at the first episode end
        for t in range(steps):
            total, factor = 0.0, 1.0
            for k in range(t, steps):
                next_value = last[env] if k == steps - 1 else buffer.values[k + 1, env]
                alive = 1.0 - buffer.dones[k, env]
                delta = buffer.rewards[k, env] + gamma * next_value * alive - buffer.values[k, env]
                total += factor * delta
                if alive == 0:
                    break
                factor *= gamma * lam
            assert advantages[t, env] == pytest.approx(float(total), abs=1e-5)
    assert torch.allclose(returns, advantages + buffer.values)


def test_running_moments_match_numpy() -> None:
    rng = np.random.default_rng(0)
    batches = [rng.normal(3.0, 2.0, size=(n, 4)) for n in (5, 17, 1, 30)]
    stats = RunningMeanStd((4,))
    for batch in batches:
        stats.update(batch)
    everything = np.concatenate(batches)
    assert np.allclose(stats.mean, everything.mean(0), atol=1e-4)
    assert np.allclose(stats.var, everything.var(0), atol=1e-3)


def test_replay_ring_wraps_and_restores() -> None:
    buffer = ReplayBuffer(5, 1, torch.device("cpu"))
    for start in range(0, 8, 2):  # 8 transitions through a ring of 5
        obs = torch.tensor([[float(start)], [float(start + 1)]])
        buffer.add(obs, torch.tensor([0, 1]), obs[:, 0], obs, torch.zeros(2))
    assert buffer.size == 5 and buffer.position == 3
    assert sorted(buffer.obs[:, 0].tolist()) == [3.0, 4.0, 5.0, 6.0, 7.0]
    copy = ReplayBuffer(5, 1, torch.device("cpu"))
    copy.load_state_dict(buffer.state_dict())
    one, two = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    assert torch.equal(buffer.sample(16, one)["obs"], copy.sample(16, two)["obs"])
    older = {k: v for k, v in buffer.state_dict().items() if k not in ("width", "dones")}
    with pytest.raises(CheckpointError, match=r"lacks width, dones \(saved by an older gradwise\)"):
        copy.load_state_dict(older)  # a buffer saved before n-step returns: one clear line


@pytest.mark.parametrize("capacity", [200, 37])  # 37: the ring wraps, windows cross its end
def test_n_step_samples_match_the_definition(capacity: int) -> None:
    generator = torch.Generator().manual_seed(0)
    steps, envs, n, gamma = 40, 3, 3, 0.9
    buffer = ReplayBuffer(capacity, 1, torch.device("cpu"))
    rewards = torch.randn(steps, envs, generator=generator)
    terminated = (torch.rand(steps, envs, generator=generator) < 0.1).float()
    truncated = (torch.rand(steps, envs, generator=generator) < 0.1).float() * (1 - terminated)
    ids = torch.arange(steps * envs, dtype=torch.float32).reshape(steps, envs)
    for t in range(steps):  # observation = the transition's id; s' = −id
        buffer.add(
            ids[t, :, None],
            torch.zeros(envs, dtype=torch.long),
            rewards[t],
            -ids[t, :, None],
            terminated[t],
            torch.maximum(terminated[t], truncated[t]),
        )
    batch = buffer.sample(300, generator, n_step=n, gamma=gamma)
    for row in range(300):
        t, env = divmod(int(batch["obs"][row, 0]), envs)
        assert int(batch["obs"][row, 0]) >= steps * envs - capacity  # still in the ring
        assert t <= steps - n  # a complete window
        total, k = 0.0, 0
        while True:  # Σ_k γ^k r_{t+k} up to n steps or the episode's end
            total += gamma**k * float(rewards[t + k, env])
            if k == n - 1 or terminated[t + k, env] or truncated[t + k, env]:
                break
            k += 1
        assert float(batch["rewards"][row]) == pytest.approx(total, abs=1e-5)
        assert float(batch["next_obs"][row, 0]) == -float(ids[t + k, env])
        assert float(batch["terminated"][row]) == float(terminated[t + k, env])
        assert float(batch["discounts"][row]) == pytest.approx(gamma ** (k + 1))
    one_step = buffer.sample(50, generator, gamma=gamma)
    assert torch.equal(one_step["next_obs"], -one_step["obs"])
    assert torch.all(one_step["discounts"] == gamma)


@pytest.mark.parametrize("capacity", [500, 53])  # 53: the ring wraps
def test_terminal_share_redraws_from_the_steps_before_a_termination(capacity: int) -> None:
    generator = torch.Generator().manual_seed(0)
    steps, envs, window, share = 60, 2, 4, 0.3
    buffer = ReplayBuffer(capacity, 1, torch.device("cpu"))
    terminated = torch.zeros(steps, envs)
    terminated[[9, 30, 57], [0, 1, 0]] = 1.0
    ids = torch.arange(steps * envs, dtype=torch.float32).reshape(steps, envs)
    for t in range(steps):  # observation = the transition's id
        obs = ids[t, :, None]
        buffer.add(obs, torch.zeros(envs, dtype=torch.long), torch.zeros(envs), obs, terminated[t])
    oldest = steps * envs - buffer.size
    near = {  # (t, env) up to window − 1 steps of env before its termination, if still held
        (t - k, env) for t, env in [(9, 0), (30, 1), (57, 0)] for k in range(window)
    }
    expected = sorted(int(ids[t, env]) for t, env in near if ids[t, env] >= oldest)
    start = buffer.position if buffer.size == capacity else 0
    slots = buffer.near_terminations(buffer.size, start, window)
    assert sorted(buffer.obs[slots, 0].int().tolist()) == expected
    drawn = buffer.sample(20_000, generator, terminal_share=share, terminal_window=window)
    hits = torch.isin(drawn["obs"][:, 0].int(), torch.tensor(expected)).float().mean()
    base = len(expected) / buffer.size  # P(near) = q + (1 − q)·|near| / M
    assert float(hits) == pytest.approx(share + (1 - share) * base, abs=0.015)
    plain = buffer.sample(64, torch.Generator().manual_seed(3))  # no share: draws unchanged
    same = buffer.sample(64, torch.Generator().manual_seed(3), terminal_share=0.0)
    assert torch.equal(plain["obs"], same["obs"])


def test_target_values_match_a_pass_over_every_draw() -> None:
    """The target network's values of replayed states and next states, read once per distinct
    state (a next state from its successor's slot where that holds it), equal a pass over
    every drawn row: across episode ends, the ring's seam and its newest step."""
    config = gradwise.load_config(rl_config("dqn"))
    envs = 3
    agent = DQN(config, obs_size=2, n_actions=2, num_envs=envs, device=torch.device("cpu"))
    buffer = agent.buffer = ReplayBuffer(61, 2, torch.device("cpu"))  # 61: wraps off-grid
    generator = torch.Generator().manual_seed(0)
    obs = torch.randn(envs, 2, generator=generator)
    for _ in range(50):
        following = torch.randn(envs, 2, generator=generator)
        ends = (torch.rand(envs, generator=generator) < 0.2).float()
        final = torch.where(ends[:, None] > 0, torch.randn(envs, 2, generator=generator), following)
        buffer.add(obs, torch.zeros(envs, dtype=torch.long), torch.zeros(envs), final, ends)
        obs = following
    batch = buffer.sample(400, generator, n_step=3, gamma=0.9)
    rows = []
    agent.q.target.register_forward_hook(lambda module, args, out: rows.append(len(args[0])))
    with torch.no_grad():
        q, next_q = agent.target_values(batch["slots"], batch["next_slots"], batch["next_obs"])
        # each stored state once, a next state apart only at an episode's end or the newest step
        assert sum(rows) <= 61 + int(buffer.dones.sum()) + envs
        assert torch.equal(q, agent.q.target(batch["obs"]))
        assert torch.equal(next_q, agent.q.target(batch["next_obs"]))
        alone = agent.target_values(None, batch["next_slots"], batch["next_obs"])[1]
        assert torch.equal(alone, next_q)


class StepTaker:
    """The one trainer method an agent's updates call."""

    def optimizer_step(self, name: str, loss: torch.Tensor) -> torch.Tensor:
        return loss.detach()


def test_update_blocks_hold_at_most_block_values_observation_values(monkeypatch) -> None:
    config = gradwise.load_config(rl_config("dqn"))  # 16 gradient steps on batches of 32
    agent = DQN(config, obs_size=3, n_actions=2, num_envs=1, device=torch.device("cpu"))
    for _ in range(100):
        agent.buffer.add(
            torch.randn(1, 3),
            torch.zeros(1, dtype=torch.long),
            torch.zeros(1),
            torch.randn(1, 3),
            torch.zeros(1),
        )
    drawn: list[int] = []
    sample = agent.buffer.sample
    monkeypatch.setattr(
        agent.buffer, "sample", lambda count, *args: drawn.append(count) or sample(count, *args)
    )
    assert len(list(agent.updates(StepTaker()))) == 16
    assert drawn == [16 * 32]  # one block
    drawn.clear()
    monkeypatch.setattr(dqn_module, "BLOCK_VALUES", 3 * 100)  # 100 observations: 3 batches
    assert len(list(agent.updates(StepTaker()))) == 16
    assert drawn == [96] * 5 + [32]


@pytest.mark.parametrize("double_q", [True, False])
def test_dqn_targets_match_the_definition(double_q: bool) -> None:
    config = gradwise.load_config(rl_config("dqn", agent={"double_q": double_q}))
    agent = DQN(config, obs_size=3, n_actions=4, num_envs=1, device=torch.device("cpu"))
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():  # the two networks part ways, as after some updates
        for weight in agent.q.online.parameters():
            weight.add_(torch.randn(weight.shape, generator=generator))
    batch = {
        "actions": torch.tensor([0, 1, 3, 2, 1]),
        "rewards": torch.randn(5, generator=generator),
        "next_obs": torch.randn(5, 3, generator=generator),
        "terminated": torch.tensor([0.0, 1.0, 0.0, 0.0, 0.0]),
        "discounts": torch.tensor([0.9, 0.9, 0.81, 0.9, 0.729]),
    }
    with torch.no_grad():
        next_q = agent.q.target(batch["next_obs"])
        batch["rewards"], batch["next_q"] = agent.bootstrap(batch, None, next_q)
        targets = agent.targets(batch)
        online = agent.q.online(batch["next_obs"])
    assert not torch.equal(online.argmax(-1), next_q.argmax(-1))  # the choice matters here
    for i in range(5):  # double Q: the online network's choice, the target network's value
        best = int(online[i].argmax()) if double_q else int(next_q[i].argmax())
        alive = 1.0 - float(batch["terminated"][i])
        expected = float(batch["rewards"][i]) + float(batch["discounts"][i]) * alive * float(
            next_q[i, best]
        )
        assert targets[i] == pytest.approx(expected, abs=1e-6)


def test_munchausen_targets_match_the_definition() -> None:
    alpha, tau = 0.9, 0.5
    config = gradwise.load_config(
        rl_config("dqn", agent={"munchausen": alpha, "munchausen_temperature": tau})
    )
    agent = DQN(config, obs_size=3, n_actions=2, num_envs=1, device=torch.device("cpu"))
    generator = torch.Generator().manual_seed(0)
    batch = {
        "obs": torch.randn(5, 3, generator=generator),
        "actions": torch.tensor([0, 1, 1, 0, 1]),
        "rewards": torch.randn(5, generator=generator),
        "next_obs": torch.randn(5, 3, generator=generator),
    }
    with torch.no_grad():
        q, next_q = agent.q.target(batch["obs"]), agent.q.target(batch["next_obs"])
        rewards, next_values = agent.bootstrap(batch, q, next_q)
    for i in range(5):  # π(a|s) = exp(Q(s,a)/τ) / Σ_b exp(Q(s,b)/τ)
        policy = [float(np.exp(v / tau) / np.exp(q[i] / tau).sum()) for v in q[i]]
        bonus = min(0.0, max(-1.0, tau * np.log(policy[int(batch["actions"][i])])))
        assert rewards[i] == pytest.approx(float(batch["rewards"][i]) + alpha * bonus, abs=1e-5)
        next_policy = [float(np.exp(v / tau) / np.exp(next_q[i] / tau).sum()) for v in next_q[i]]
        soft = sum(
            p * (float(v) - tau * np.log(p)) for p, v in zip(next_policy, next_q[i], strict=True)
        )
        assert next_values[i] == pytest.approx(soft, abs=1e-5)


def test_replay_stores_raw_experience_and_normalizes_each_draw_with_current_statistics() -> None:
    config = gradwise.load_config(
        rl_config("dqn", env={"normalize_obs": True, "normalize_reward": True})
    )
    cpu = torch.device("cpu")
    collector = Collector(config.env, config.agent.gamma, seed=0, device=cpu)
    agent = DQN(config, collector.obs_size, collector.n_actions, collector.num_envs, cpu)
    agent.generator.manual_seed(0)
    first_mean = collector.obs_norm.stats.mean.copy()
    agent.collect(collector)
    agent.collect(collector)
    buffer = agent.buffer
    stored = torch.cat([buffer.obs[: buffer.size], buffer.next_obs[: buffer.size]])
    assert torch.all(buffer.rewards[: buffer.size] == 1.0)  # CartPole's raw reward
    assert torch.allclose(collector.obs, collector.normalize(collector.raw_obs.numpy()))
    scaling = collector.replay_scaling()
    assert not np.allclose(collector.obs_norm.stats.mean, first_mean)  # statistics moved on
    assert scaling.reward_scale == pytest.approx(collector.reward_norm.scale()) != 1.0
    expected = torch.as_tensor(collector.obs_norm(stored.numpy()))  # today's statistics
    assert torch.allclose(scaling.observations(stored), expected, atol=1e-5)
    seen: dict[str, list[torch.Tensor]] = {"online": [], "target": []}
    for name in seen:
        getattr(agent.q, name).register_forward_pre_hook(
            lambda module, args, name=name: seen[name].append(args[0].detach())
        )
    list(agent.updates(StepTaker(), scaling))
    for name, inputs in seen.items():  # every row a network saw is a stored row, normalized now
        exact = "donot_use_mm_for_euclid_dist"
        distance = torch.cdist(torch.cat(inputs), expected, compute_mode=exact).min(1).values
        assert float(distance.max()) < 1e-4, name


def test_environment_snapshot_continues_exactly() -> None:
    config = EnvConfig(id="CartPole-v1")
    venv = VectorEnv(lambda: make_env(config), 2, seed=3)
    rng = np.random.default_rng(0)
    for _ in range(30):  # some episodes end: the resets draw from the environments' RNG
        venv.step(rng.integers(0, 2, size=2))
    saved = venv.state_dict()
    actions = rng.integers(0, 2, size=(60, 2))
    first = [venv.step(a)[0].copy() for a in actions]
    other = VectorEnv(lambda: make_env(config), 2, seed=99)
    other.load_state_dict(saved)
    second = [other.step(a)[0].copy() for a in actions]
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    env = make_env(config)
    env.reset(seed=5)
    state = env_state(env)
    expected = [env.step(1)[0] for _ in range(5)]
    load_env_state(env, state)
    assert all(np.array_equal(env.step(1)[0], e) for e in expected)


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ([(5000, 480.0), (10000, 300.0), (15000, 500.0), (20000, 476.0)], 15000),
        ([(5000, 500.0), (10000, 500.0)], 5000),
        ([(5000, 500.0), (10000, 100.0)], None),
        ([], None),
    ],
)
def test_sustained_from(history: list[tuple[int, float]], expected: int | None) -> None:
    assert sustained_from(history, 475.0) == expected
    assert sustained_from(history, None) is None
