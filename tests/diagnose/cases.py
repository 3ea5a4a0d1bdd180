"""Deliberately broken experiments, one per finding, and well-configured ones that must come
out healthy. Tiny and fast (a second or two each on CPU); ``benchmarks/doctor_fix.py`` runs the
same cases at more realistic sizes."""

from __future__ import annotations

from typing import Any

from tests.conftest import tiny_config

# sklearn:breast_cancer without scaling: 30 positive features up to ~4000 (areas, perimeters)
UNSCALED = {"source": "sklearn:breast_cancer", "scale": "none"}


def case(
    source: str | dict[str, Any], model: dict[str, Any], every: int = 5, **sections: Any
) -> dict[str, Any]:
    data = {"source": source} if isinstance(source, str) else source
    config = tiny_config(data["source"], data=data, diagnose={"every": every}, **sections)
    config["model"] = model  # replaced whole: each model kind has its own keys
    config["report"] = {"enabled": False}
    return config


def train(**values: Any) -> dict[str, Any]:
    return {"batch_size": 32, "device": "cpu", **values}


BROKEN: dict[str, dict[str, Any]] = {
    # 20 sigmoid layers, no normalization: gradients shrink ~4× per layer on the way back
    "vanishing_gradients": case(
        {"source": "synthetic:classification", "options": {"n_samples": 400}},
        model={"kind": "mlp", "hidden": [32] * 20, "activation": "sigmoid"},
        train=train(epochs=4),
    ),
    # a plain RNN over 64 steps, SGD at lr 0.5, no clipping
    "exploding_gradients": case(
        {"source": "synthetic:signals", "options": {"n_samples": 400}},
        model={"kind": "rnn", "cell": "rnn", "hidden_size": 64},
        train=train(epochs=5, optimizer={"name": "sgd", "lr": 0.5}),
    ),
    # two hidden units for ten classes of 8×8 digits
    "underfitting": case(
        "sklearn:digits",
        every=20,
        model={"kind": "mlp", "hidden": [2]},
        train=train(epochs=20, optimizer={"lr": 0.01}),
    ),
    # a wide network, 200 noisy samples, no regularization, many epochs
    "overfitting": case(
        {"source": "synthetic:classification", "options": {"n_samples": 200, "flip_y": 0.2}},
        every=50,
        model={"kind": "mlp", "hidden": [256, 256]},
        train=train(epochs=60),
    ),
    "lr_too_high": case(
        "sklearn:digits",
        every=10,
        model={"kind": "mlp", "hidden": [64, 64]},
        train=train(epochs=8, optimizer={"lr": 1.0}),
    ),
    "lr_too_low": case(
        "sklearn:digits",
        every=10,
        model={"kind": "mlp", "hidden": [64, 64]},
        train=train(epochs=8, optimizer={"lr": 1e-6}),
    ),
    # 95/5 labels and weakly separated classes
    "class_imbalance": case(
        {
            "source": "synthetic:classification",
            "options": {"n_samples": 1000, "weights": [0.95, 0.05], "class_sep": 0.5, "flip_y": 0},
        },
        every=20,
        model={"kind": "mlp", "hidden": [64, 64]},
        train=train(epochs=20),
    ),
    # SGD at lr 5 on a regression: the loss overflows within a few steps
    "non_finite_loss": case(
        "synthetic:regression",
        task="regression",
        model={"kind": "mlp", "hidden": [64, 64]},
        train=train(epochs=5, optimizer={"name": "sgd", "lr": 5.0}),
    ),
    # unscaled positive inputs and lr 0.01: most ReLU units end up negative for every sample
    "dead_units": case(
        UNSCALED,
        model={"kind": "mlp", "hidden": [64, 64]},
        train=train(epochs=20, optimizer={"lr": 0.01}),
    ),
    # unscaled inputs into tanh: pre-activations in the hundreds
    "saturated_units": case(
        UNSCALED,
        model={"kind": "mlp", "hidden": [64, 64], "activation": "tanh"},
        train=train(epochs=20),
    ),
}

# 60 sigmoid layers of 8 units: the gradient underflows to exactly 0 long before the first layer
# (a finding whose message must say "zero gradient", not a capped number of orders of magnitude)
ZERO_GRADIENT = case(
    {"source": "synthetic:classification", "options": {"n_samples": 400}},
    model={"kind": "mlp", "hidden": [8] * 60, "activation": "sigmoid"},
    train=train(epochs=2),
)

HEALTHY: dict[str, dict[str, Any]] = {
    "iris": case("sklearn:iris", model={"kind": "mlp", "hidden": [32, 32]}, train=train(epochs=50)),
    "wine": case("sklearn:wine", model={"kind": "mlp", "hidden": [32, 32]}, train=train(epochs=50)),
    "breast_cancer": case(
        "sklearn:breast_cancer",
        every=20,
        model={"kind": "mlp", "hidden": [32, 32]},
        train=train(epochs=30),
    ),
    "signals_cnn": case(
        {"source": "synthetic:signals", "options": {"n_samples": 400}},
        every=10,
        model={"kind": "cnn1d", "channels": [16, 16, 32, 32]},
        train=train(epochs=15, optimizer={"name": "adamw", "lr": 1e-2}),
    ),
}
