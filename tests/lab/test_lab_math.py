"""The labs' arithmetic against oracles: the sweep grid, the critical-batch fit, the target,
the gradient noise scale (against per-example gradients computed one by one), the arm lists."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from gradwise.config import load_config
from gradwise.errors import ConfigError
from gradwise.experiment import build_experiment, load_data
from gradwise.lab.base import Arm, select_arms
from gradwise.lab.batch import batch_sizes, fit_critical_batch
from gradwise.lab.jobs import Job, JobResult, interleaved
from gradwise.lab.noise_scale import noise_scale
from gradwise.lab.optimizers import sweep_rates
from gradwise.lab.summary import add_targets, arm_summary, mean_curve, reached_at
from tests.lab.conftest import TINY


def test_sweep_rates_span_two_decades_log_spaced_around_the_centre() -> None:
    assert sweep_rates(1e-3, 5) == pytest.approx([1e-4, 3.16e-4, 1e-3, 3.16e-3, 1e-2])
    assert sweep_rates(0.1, 3) == pytest.approx([0.01, 0.1, 1.0])
    assert sweep_rates(3.0, 3)[-1] == 10.0  # capped at the schema's bound


def test_critical_batch_fit_recovers_the_model_it_was_generated_from() -> None:
    """S(B) = S_min + E_min/B with S_min = 100, E_min = 6400: B_crit = 64 exactly."""
    points = [(b, 100 + 6400 / b) for b in (8, 32, 128, 512, 2048)]
    fit = fit_critical_batch(points)
    assert fit["s_min"] == pytest.approx(100)
    assert fit["e_min"] == pytest.approx(6400)
    assert fit["b_crit"] == pytest.approx(64)
    # arms that never reached the target are left out; one batch size is no fit
    assert fit_critical_batch([(8, 900.0), (32, None)])["b_crit"] is None
    # steps still falling in proportion at the largest batch: no saturation, no B_crit
    assert fit_critical_batch([(b, 6400 / b) for b in (8, 64)])["b_crit"] is None


def result(arm: str, values: list[float], seed: int = 0) -> JobResult:
    curve = [{"epoch": e + 1, "time": 0.5 * (e + 1), "value": v} for e, v in enumerate(values)]
    return JobResult(f"{arm}-{seed}", arm, seed, None, "completed", curve=curve, epochs=len(values))


def test_target_is_95_percent_of_the_best_arm_and_time_is_to_the_first_epoch_past_it() -> None:
    results = {
        "fast": [result("fast", [0.5, 0.96, 0.97]), result("fast", [0.95, 0.99, 1.0], 1)],
        "slow": [result("slow", [0.3, 0.5, 0.8]), result("slow", [0.2, 0.9, 0.96], 1)],
    }
    rows = {arm: arm_summary(rs, higher=True) for arm, rs in results.items()}
    assert rows["fast"]["best_mean"] == pytest.approx(0.985)
    assert rows["fast"]["best_std"] == pytest.approx(math.sqrt(2 * 0.015**2))
    target = add_targets(rows, results, higher=True)
    assert target == pytest.approx(0.95 * 0.985)
    assert rows["fast"]["epochs_to_target"] == pytest.approx(1.5)  # epochs 2 and 1
    assert rows["fast"]["time_to_target"] == pytest.approx(0.75)
    assert rows["slow"]["reached"] == 1 and rows["slow"]["epochs_to_target"] == 3
    # an error metric: the target is best / 0.95 and "at or past" means at or below
    low = result("rmse", [3.0, 2.0, 1.0])
    assert reached_at(low, 1.0 / 0.95, higher=False)["epoch"] == 3


def test_mean_curve_averages_over_the_epochs_every_seed_ran() -> None:
    curve = mean_curve([result("a", [0.1, 0.3, 0.5]), result("a", [0.3, 0.5], 1)], "epoch")
    assert curve["x"] == [1, 2]
    assert curve["mean"] == pytest.approx([0.2, 0.4])
    assert curve["low"] == [0.1, 0.3] and curve["high"] == [0.3, 0.5]


def test_jobs_run_round_robin_over_arms() -> None:
    jobs = [Job(f"{a}{i}", a, 0, {}) for a, n in (("x", 3), ("y", 1), ("z", 2)) for i in range(n)]
    assert [j.key for j in interleaved(jobs)] == ["x0", "y0", "z0", "x1", "z1", "x2"]


def test_batch_sizes_run_from_pure_sgd_to_the_full_batch() -> None:
    assert batch_sizes(128, 300) == [1, 8, 32, 128, 300]
    assert batch_sizes(100, 300) == [1, 8, 32, 100, 128, 300]
    assert batch_sizes("full", 20) == [1, 8, 20]


def test_unknown_arm_names_the_closest_one() -> None:
    arms = [Arm("adam", "Adam"), Arm("sgd", "SGD")]
    assert [a.name for a in select_arms(arms, ["sgd"], "optimizers")] == ["sgd"]
    with pytest.raises(ConfigError, match=r"no arm 'adma' \(did you mean 'adam'\?\)"):
        select_arms(arms, ["adma"], "optimizers")


def test_noise_scale_matches_per_example_gradients(tmp_path: Path) -> None:
    """Oracle: G and Σ from every training example's own gradient, one backward each;
    B_simple = tr(Σ)/|G|². The two-batch-size estimator must land near it."""
    config = load_config({**TINY, "model": {"kind": "mlp", "hidden": [8], "dropout": 0.0}})
    experiment = build_experiment(config, load_data(config))
    trainer, train = experiment.trainer, experiment.train_split
    params = [p for p in experiment.module.parameters() if p.requires_grad]
    experiment.module.eval()
    per_example = []
    for i in range(len(train)):
        batch = train.rows(torch.tensor([i]))
        loss = trainer.compute_loss(trainer.paradigm.forward(trainer, batch), batch)
        grads = torch.autograd.grad(loss, params)
        per_example.append(torch.cat([g.reshape(-1) for g in grads]))
    stacked = torch.stack(per_example)  # (N, P)
    mean = stacked.mean(0)
    trace = (stacked - mean).pow(2).sum(1).mean().item()  # tr(Σ), population covariance
    exact = trace / mean.pow(2).sum().item()
    estimate = noise_scale(experiment, small=4, big=64, repeats=200, seed=1)
    assert estimate["b_simple"] == pytest.approx(exact, rel=0.25)
    assert estimate["trace_sigma"] == pytest.approx(trace, rel=0.25)
    assert estimate["b_big"] == 64 and estimate["b_small"] == 4


def test_a_newly_registered_optimizer_is_an_arm_of_the_optimizer_lab(
    monkeypatch: pytest.MonkeyPatch, tiny_yaml: Path
) -> None:
    from gradwise.lab.optimizers import DEFAULT_LR_CENTRE, LR_CENTRES, OptimizerLab
    from gradwise.lab.plan import plan_lab
    from gradwise.registry import Registry
    from gradwise.training import optimizers

    registry: Registry = Registry("optimizer", key="train.optimizer.name")
    for name in optimizers.OPTIMIZERS:
        registry.register(name)(optimizers.OPTIMIZERS.get(name))
    registry.register("lion")(optimizers.adam)
    monkeypatch.setattr(optimizers, "OPTIMIZERS", registry)
    arms = OptimizerLab().arms(plan_lab("optimizers", tiny_yaml))
    names = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "lion"]
    assert [arm.name for arm in arms] == names
    assert arms[-1].overrides == {"train.optimizer.name": "lion", "train.optimizer.weight_decay": 0}
    assert "lion" not in LR_CENTRES and DEFAULT_LR_CENTRE == 1e-3  # its sweep: 1e-4 … 1e-2
    # decoupled weight decay only for AdamW; RMSProp without momentum, as Tieleman & Hinton
    decays = {a.name: a.overrides["train.optimizer.weight_decay"] for a in arms}
    assert decays.pop("adamw") == 0.01 and set(decays.values()) == {0.0}
    assert arms[4].overrides["train.optimizer.momentum"] == 0.0


def test_the_help_names_every_registered_lab() -> None:
    """The command line's help lists the labs without importing them (torch-free): the list
    must follow the registry."""
    from gradwise.cli.lab import LAB_NAMES
    from gradwise.lab import load_labs
    from gradwise.lab.base import LABS

    load_labs()
    assert sorted(LAB_NAMES) == LABS.names()


def test_batch_norm_statistics_are_refreshed_before_an_eval_mode_measurement() -> None:
    """At initialization the running statistics are (0, 1); after the refresh the model in eval
    mode computes what it computes in training on the same rows."""
    from gradwise.lab.noise_scale import refresh_batch_norm

    model = {"kind": "mlp", "hidden": [8], "dropout": 0.0, "norm": "batch"}
    config = load_config({**TINY, "model": model})
    experiment = build_experiment(config, load_data(config))
    rows = experiment.train_split.tensors
    trainer = experiment.trainer
    module = experiment.module
    with torch.no_grad():
        module.eval()
        stale = trainer.paradigm.forward(trainer, rows)
        module.train()
        trained = trainer.paradigm.forward(trainer, rows)
        refresh_batch_norm(experiment, batch_size=len(experiment.train_split))
        module.eval()
        fresh = trainer.paradigm.forward(trainer, rows)
    assert not torch.allclose(stale, trained, atol=0.05)
    # the same rows, up to the unbiased (n−1) variance the running statistics keep
    assert torch.allclose(fresh, trained, atol=0.05)
