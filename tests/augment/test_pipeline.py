"""Augmentation and sampling inside a run: training split only, reproducible by seed."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import yaml

import gradwise
from gradwise.config import load_config
from gradwise.errors import ConfigError
from gradwise.experiment import build_experiment, load_data
from tests.conftest import run_cli, tiny_config

SIGNALS = {"source": "synthetic:signals", "options": {"n_samples": 240, "length": 24}}
IMBALANCED = {
    "source": "synthetic:signals",
    "options": {"n_samples": 300, "length": 24, "n_classes": 2, "weights": [0.85, 0.15]},
}
AUGMENT = [{"shift": 3}, {"gaussian_noise": 0.5}, {"mixup": 0.4}]
QUICK = {"report": {"enabled": False}, "diagnose": {"enabled": False}}  # no extras to write


def experiment(data: dict, seed: int = 0, **train):
    config = load_config(
        tiny_config(data["source"], data=data, seed=seed, train={"epochs": 2, **train})
    )
    splits = load_data(config)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_experiment(config, splits)


class Recorder:
    """A batch transform that keeps what it was given."""

    def __init__(self) -> None:
        self.inputs: list[torch.Tensor] = []
        self.targets: list[torch.Tensor] = []

    def __call__(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        self.inputs.append(batch["x"].clone())
        self.targets.append(batch["y"].clone())
        return batch


def test_only_training_batches_are_augmented():
    exp = experiment({**SIGNALS, "augment": AUGMENT})
    before, after = Recorder(), Recorder()
    exp.trainer.batch_transforms = [before, *exp.trainer.batch_transforms, after]
    exp.trainer.fit(exp.train_split, exp.valid_split)
    exp.trainer.evaluate(exp.test_split)
    # the epoch's batches are augmented together (one group: the split is small)
    assert len(before.inputs) == len(after.inputs) == 2  # evaluation never called them
    train_rows = {row.numpy().tobytes() for row in exp.train_split["x"]}
    seen = torch.cat(before.inputs)
    assert all(row.numpy().tobytes() in train_rows for row in seen)
    assert len(seen) == 2 * len(exp.train_split)  # every training row, once per epoch
    mixed = torch.cat(after.targets)
    assert mixed.dtype == torch.float32 and mixed.shape[1] == 4  # soft targets came out


def test_evaluation_is_the_same_with_or_without_augmentation_and_sampling():
    plain = experiment(SIGNALS)
    augmented = experiment({**SIGNALS, "augment": AUGMENT, "sampling": "oversample"})
    for name in ("valid_split", "test_split"):
        assert torch.equal(getattr(plain, name)["x"], getattr(augmented, name)["x"])
        assert torch.equal(getattr(plain, name)["y"], getattr(augmented, name)["y"])
    augmented.module.load_state_dict(plain.module.state_dict())
    assert plain.trainer.evaluate(plain.test_split) == augmented.trainer.evaluate(
        augmented.test_split
    )


def test_sampling_changes_the_training_split_only():
    exp = experiment({**IMBALANCED, "sampling": "oversample"})
    splits = exp.splits
    assert np.array_equal(exp.valid_split["y"].numpy(), splits.y_valid)
    assert np.array_equal(exp.test_split["x"].numpy(), splits.x_test)
    counts = np.bincount(exp.train_split["y"].numpy())
    assert counts[0] == counts[1] == np.bincount(splits.y_train).max()
    record = splits.profile["sampling"]
    assert record["method"] == "oversample"
    assert record["before"] == dict(
        zip(["sine", "square"], np.bincount(splits.y_train).tolist(), strict=True)
    )


def test_same_seed_same_batches_other_seed_other_batches():
    def batches(seed: int) -> list[torch.Tensor]:
        exp = experiment({**SIGNALS, "augment": AUGMENT}, seed=seed)
        recorder = Recorder()
        exp.trainer.batch_transforms.append(recorder)
        exp.trainer.fit(exp.train_split, exp.valid_split)
        return recorder.inputs + recorder.targets

    first, again, other = batches(1), batches(1), batches(2)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True))


def test_whole_runs_repeat_exactly(tmp_path: Path):
    config = tiny_config(
        "synthetic:signals",
        data={**SIGNALS, "augment": AUGMENT, "sampling": {"name": "random", "fraction": 0.5}},
        **QUICK,
    )
    losses = []
    for name in ("a", "b"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run = gradwise.train(config, out=tmp_path / name)
        losses.append([m["train_loss"] for m in run.metrics])
        assert run.summary["status"] == "completed"
    assert losses[0] == losses[1]
    profile = json.loads((run.path / "profile.json").read_text())
    assert (
        sum(profile["sampling"]["after"].values())
        == sum(profile["sampling"]["before"].values()) // 2
    )


def test_imbalance_metrics_are_reported_for_imbalanced_runs(tmp_path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = gradwise.train(
            tiny_config(
                "synthetic:signals", data={**IMBALANCED, "sampling": "class_weight"}, **QUICK
            ),
            out=tmp_path,
        )
    test_metrics = set(run.summary["test"])  # each class's recall named by its label
    assert {"balanced_accuracy", "recall_sine", "recall_square", "pr_auc", "f1"} <= test_metrics
    assert "valid_balanced_accuracy" in run.metrics[0]
    reloaded = gradwise.Run(run.path).evaluate()  # a run read back from disk reports them too
    assert reloaded["balanced_accuracy"] == pytest.approx(run.summary["test"]["balanced_accuracy"])
    balanced = gradwise.train(tiny_config("synthetic:signals", data=SIGNALS, **QUICK), out=tmp_path)
    assert "balanced_accuracy" not in balanced.summary["test"]


def test_class_weight_sampling_weighs_the_loss():
    exp = experiment({**IMBALANCED, "sampling": {"name": "class_weight"}})
    counts = np.bincount(exp.splits.y_train)
    weights = torch.tensor(len(exp.splits.y_train) / (2 * counts), dtype=torch.float32)
    logits = torch.randn(16, 2, generator=torch.Generator().manual_seed(0))
    labels = torch.arange(16) % 2
    expected = F.cross_entropy(logits, labels, weight=weights)
    assert torch.allclose(exp.paradigm.loss_fn(logits, labels), expected)
    assert len(exp.train_split) == len(exp.splits.y_train)  # no resampling


def test_cli_prints_the_class_counts_as_a_warning_line(tmp_path: Path):
    config = tiny_config(
        "synthetic:signals", data={**IMBALANCED, "sampling": "undersample"}, **QUICK
    )
    config["train"]["epochs"] = 1
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(config))
    result = run_cli("train", str(path), "--out", str(tmp_path), check=True)
    lines = [line for line in result.stderr.splitlines() if "data.sampling" in line]
    assert len(lines) == 1
    assert lines[0].startswith("gradwise: warning: data.sampling: undersample: training class")
    assert "→" in lines[0]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({**SIGNALS, "augment": [{"hflip": 0.5}]}, r"data\.augment\[0\]\.hflip: works on image"),
        ({"source": "synthetic:moons", "augment": [{"shift": 2}]}, r"shift: works on signal"),
        (
            {"source": "synthetic:regression", "sampling": "smote"},
            r"data\.sampling: smote balances classes",
        ),
    ],
)
def test_augmentation_or_sampling_that_does_not_fit_the_data(data, expected):
    task = "regression" if "regression" in data["source"] else "classification"
    config = load_config({**tiny_config(data["source"], data=data), "task": task})
    splits = load_data(config)
    with pytest.raises(ConfigError, match=expected):
        build_experiment(config, splits)


def test_batches_are_augmented_in_groups_and_trained_one_by_one(monkeypatch: pytest.MonkeyPatch):
    from gradwise.training import batching

    exp = experiment({**SIGNALS, "augment": AUGMENT})
    row_bytes = exp.train_split.row_bytes  # inputs and targets
    monkeypatch.setattr(batching, "AUGMENT_GROUP_BYTES", 3 * 32 * row_bytes)  # 3 batches a group
    recorder, sizes = Recorder(), []
    exp.trainer.batch_transforms.append(recorder)
    train_step = exp.trainer.train_step

    def recording_step(batch: dict[str, torch.Tensor]):
        sizes.append(len(batch["x"]))
        return train_step(batch)

    monkeypatch.setattr(exp.trainer, "train_step", recording_step)
    exp.trainer.train_epoch(exp.train_split)
    n = len(exp.train_split)
    expected = [32] * (n // 32) + ([n % 32] if n % 32 > 1 else [])
    assert sizes == expected  # steps see the configured batch size
    assert [len(x) for x in recorder.inputs] == [
        sum(expected[i : i + 3]) for i in range(0, len(expected), 3)
    ]
