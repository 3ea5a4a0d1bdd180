"""``train.precision`` (bf16 / fp16 autocast; fp16 with loss scaling whose skipped steps are not
failures) and ``train.compile`` (falls back to eager with one warning where it fails)."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

import gradwise
from gradwise.config import load_config
from gradwise.errors import ConfigError
from gradwise.training.device import autocast_dtype
from tests.conftest import tiny_config
from tests.training.test_engine import LinearFit, data, trainer_for


@pytest.mark.parametrize(
    ("precision", "dtype"),
    [(32, None), ("32", None), ("bf16", torch.bfloat16), ("fp16", torch.float16)],
)
def test_precision_chooses_the_autocast_dtype(precision, dtype):
    config = load_config(tiny_config("sklearn:iris", train={"precision": precision}))
    assert autocast_dtype(config.train, torch.device("cpu")) is dtype


def test_mixed_precision_shorthand_is_bf16_on_a_gpu_only():
    config = load_config(tiny_config("sklearn:iris", train={"mixed_precision": True}))
    assert autocast_dtype(config.train, torch.device("cpu")) is None


def test_an_unknown_precision_names_the_key():
    with pytest.raises(ConfigError, match=r"train\.precision"):
        load_config(tiny_config("sklearn:iris", train={"precision": "fp8"}))


def test_bf16_trains_on_the_cpu_as_well_as_fp32(tmp_path):
    def accuracy(precision: str) -> float:
        config = tiny_config("sklearn:iris", train={"precision": precision, "epochs": 20})
        return gradwise.train(config, out=tmp_path / precision).summary["test"]["accuracy"]

    assert accuracy("bf16") == pytest.approx(accuracy("32"), abs=0.05)


def test_fp16_overflow_skips_steps_without_failing():
    trainer = trainer_for(LinearFit(), autocast_dtype=torch.float16)
    trainer.scalers["main"] = torch.amp.GradScaler("cpu", init_scale=2.0**60)  # overflows
    trainer.epochs = 6
    history = trainer.fit(data(64), data(16, seed=1))
    assert trainer.skipped_steps > 0  # the scale came down instead of the run stopping
    assert history[-1]["skipped_steps"] == trainer.skipped_steps
    assert all(torch.isfinite(p).all() for p in trainer.module.parameters())
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    state = trainer.state_dict()
    assert state["scalers"]["main"]["scale"] < 2.0**60  # the scale resumes where it was


def test_a_failing_compile_falls_back_to_eager_with_one_warning(tmp_path, monkeypatch):
    def broken_compile(module: nn.Module, **_: object):
        def compiled(*args: object, **kwargs: object):
            raise RuntimeError("no C++ compiler found\nmore detail")

        return compiled

    monkeypatch.setattr(torch, "compile", broken_compile)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = gradwise.train(tiny_config("sklearn:iris", train={"compile": True}), out=tmp_path)
    messages = [str(w.message) for w in caught if "train.compile" in str(w.message)]
    assert messages == [
        "train.compile: torch.compile failed (no C++ compiler found); training continues without it"
    ]
    assert run.summary["status"] == "completed"
    assert set(run.model.state_dict()) == {k for k in run.model.state_dict() if "compiled" not in k}
