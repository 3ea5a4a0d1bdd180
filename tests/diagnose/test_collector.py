"""The diagnostics collector against torch references: norms, update ratios, activation
statistics, sampling cadence, and that unsampled steps carry no hooks."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

import gradwise
from gradwise.config import load_config
from gradwise.diagnose.collector import DiagnosticsCollector, diagnostics_callback
from gradwise.errors import TrainingError
from gradwise.models import build_model
from gradwise.training import Callback
from tests.conftest import tiny_config


def mlp(activation: str = "relu") -> torch.nn.Module:
    config = load_config(
        {"data": {"source": "x"}, "model": {"hidden": [16, 8], "activation": activation}}
    )
    torch.manual_seed(0)
    return build_model(config.model, (5,), 3)  # flatten, body.{0,3} Linear, body.{2,5} act, head


def one_step(model, collector, trainer, x, y, optimizer) -> None:
    """What the engine does for one step, with the collector's hooks."""
    loss = F.cross_entropy(model(x), y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    collector.on_after_backward(trainer)
    optimizer.step()
    trainer.global_step += 1
    collector.on_batch_end(trainer, loss.detach())


def test_statistics_match_torch(tmp_path: Path) -> None:
    model = mlp()
    with torch.no_grad():
        model.body[0].bias[:3] = -1e3  # three of 16 units never fire: dead
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    trainer = SimpleNamespace(module=model, parameters={}, stepping=None, epoch=0, global_step=0)
    collector = DiagnosticsCollector(tmp_path / "diagnostics.jsonl", every=10)
    x, y = torch.randn(32, 5), torch.randint(0, 3, (32,))

    collector.on_fit_start(trainer)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    loss = F.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    collector.on_after_backward(trainer)
    optimizer.step()
    trainer.global_step += 1
    collector.on_batch_end(trainer, loss.detach())

    (line,) = [json.loads(s) for s in (tmp_path / "diagnostics.jsonl").read_text().splitlines()]
    assert (line["step"], line["epoch"]) == (1, 1)
    assert [layer["name"] for layer in line["layers"]] == ["body.0", "body.3", "head"]
    for layer in line["layers"]:
        names = [f"{layer['name']}.weight", f"{layer['name']}.bias"]
        grad = torch.cat([grads[n].flatten() for n in names]).norm().item()
        weight = torch.cat([before[n].flatten() for n in names]).norm().item()
        moved = (
            torch.cat(
                [(dict(model.named_parameters())[n].detach() - before[n]).flatten() for n in names]
            )
            .norm()
            .item()
        )
        assert layer["kind"] == "Linear"
        assert layer["grad_norm"] == pytest.approx(grad, rel=1e-5)
        assert layer["weight_norm"] == pytest.approx(weight, rel=1e-5)
        assert layer["update_ratio"] == pytest.approx(moved / weight, rel=1e-4)
    hidden = F.relu(before["body.0.weight"] @ x.T + before["body.0.bias"][:, None]).T  # (32, 16)
    first = line["activations"][0]
    assert (first["name"], first["kind"]) == ("body.2", "ReLU")
    assert first["mean"] == pytest.approx(hidden.mean().item(), rel=1e-5)
    assert first["std"] == pytest.approx(hidden.std().item(), rel=1e-5)
    assert first["dead_fraction"] == pytest.approx((hidden.amax(0) <= 0).float().mean().item())
    assert first["dead_fraction"] >= 3 / 16
    assert first["saturated_fraction"] is None


def test_saturation_of_sigmoid_and_tanh(tmp_path: Path) -> None:
    for activation, bound in (("sigmoid", None), ("tanh", 0.99)):
        model = mlp(activation)
        trainer = SimpleNamespace(
            module=model, parameters={}, stepping=None, epoch=0, global_step=0
        )
        path = tmp_path / f"{activation}.jsonl"
        collector = DiagnosticsCollector(path, every=10)
        collector.on_fit_start(trainer)
        x, y = 30 * torch.randn(64, 5), torch.randint(0, 3, (64,))  # big inputs: saturation
        one_step(model, collector, trainer, x, y, torch.optim.SGD(model.parameters(), lr=0.01))
        stats = json.loads(path.read_text())["activations"][0]
        with torch.no_grad():
            out = model.body[:3](x)  # (64, 16) after the first activation
        expected = (out.abs() > bound) if bound else ((out < 0.01) | (out > 0.99))
        assert stats["saturated_fraction"] == pytest.approx(expected.float().mean().item())
        assert stats["saturated_fraction"] > 0.3 and stats["dead_fraction"] is None


def test_non_finite_gradient_stops_before_the_step(tmp_path: Path) -> None:
    model = mlp()
    trainer = SimpleNamespace(module=model, parameters={}, stepping=None, epoch=2, global_step=7)
    collector = DiagnosticsCollector(tmp_path / "d.jsonl", every=1)
    collector.on_fit_start(trainer)
    F.cross_entropy(model(torch.randn(8, 5)), torch.zeros(8, dtype=torch.long)).backward()
    model.body[3].weight.grad[0, 0] = float("nan")
    with pytest.raises(TrainingError, match=r"epoch 3, step 8; first non-finite layer: body\.3"):
        collector.on_after_backward(trainer)


class HookProbe(Callback):
    """Counts forward hooks on the model after each step's callbacks (then the next step runs)."""

    def __init__(self) -> None:
        self.hooks_after_step: list[int] = []

    def on_batch_end(self, trainer, loss) -> None:
        modules = trainer.model.modules()
        self.hooks_after_step.append(sum(len(m._forward_hooks) for m in modules))


def test_cadence_and_no_hooks_on_unsampled_steps(tmp_path: Path) -> None:
    probe = HookProbe()
    config = tiny_config(
        "sklearn:iris",
        diagnose={"every": 4},
        train={"epochs": 3, "batch_size": 16, "device": "cpu"},
        report={"enabled": False},
    )
    run = gradwise.train(config, out=tmp_path, callbacks=[probe])
    lines = [json.loads(s) for s in (run.path / "diagnostics.jsonl").read_text().splitlines()]
    steps = len(probe.hooks_after_step)  # 105 training rows / 16 → 7 steps per epoch
    sampled = [1, *range(4, steps + 1, 4)]
    assert [line["step"] for line in lines] == sampled
    assert [line["epoch"] for line in lines] == [1 + (s - 1) // 7 for s in sampled]
    # hooks exist only between the step before a sampled step and that step's backward
    for step, hooks in enumerate(probe.hooks_after_step, start=1):
        assert (hooks > 0) == ((step + 1) % 4 == 0), step


def test_disabled_diagnostics_write_nothing(tmp_path: Path) -> None:
    config = tiny_config(
        "sklearn:iris",
        model={"kind": "mlp", "hidden": [32, 32]},
        train={"epochs": 50, "batch_size": 32, "device": "cpu"},
        diagnose={"enabled": False},
        report={"enabled": False},
    )
    assert diagnostics_callback(load_config(config), None, None) is None
    run = gradwise.train(config, out=tmp_path)
    assert not (run.path / "diagnostics.jsonl").exists()
    (finding,) = run.doctor(write=False)  # the loss-curve detectors still work
    assert finding.code == "healthy"
    assert "no per-layer statistics were collected" in finding.message


def test_recurrent_layers_are_reported(tmp_path: Path) -> None:
    config = tiny_config(
        "synthetic:signals",
        data={"source": "synthetic:signals", "options": {"n_samples": 120, "length": 16}},
        diagnose={"every": 2},
        report={"enabled": False},
    )
    config["model"] = {"kind": "rnn", "cell": "gru", "hidden_size": 8}
    run = gradwise.train(config, out=tmp_path)
    line = json.loads((run.path / "diagnostics.jsonl").read_text().splitlines()[0])
    assert [(x["name"], x["kind"]) for x in line["layers"]] == [("rnn", "GRU"), ("head", "Linear")]
    (gru,) = line["activations"]
    assert gru["kind"] == "GRU" and 0 <= gru["saturated_fraction"] <= 1


def test_resume_drops_the_unfinished_epoch(tmp_path: Path) -> None:
    path = tmp_path / "diagnostics.jsonl"
    path.write_text(
        "".join(json.dumps({"step": s, "epoch": e}) + "\n" for s, e in [(1, 1), (5, 2), (9, 3)])
    )
    collector = DiagnosticsCollector(path, every=4)
    collector.on_fit_start(SimpleNamespace(module=mlp(), epoch=2, global_step=8))
    assert [json.loads(s)["epoch"] for s in path.read_text().splitlines()] == [1, 2]
