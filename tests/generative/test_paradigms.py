"""The three paradigms end to end on tiny data: what they log, what the summary holds, resume
and the non-finite guard with two networks, and the one-line errors of bad configs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

import gradwise
from gradwise.errors import ConfigError, TrainingError
from gradwise.tasks import TASKS, load_data
from gradwise.training.callbacks import Callback
from gradwise.training.checkpoint import load_weights
from tests.generative.conftest import config

FD_KEYS = ("fd", "fd_sd", "fd_baseline", "fd_baseline_sd", "fd_floor")


def logged(run) -> set[str]:
    return {k for row in run.metrics for k in row if k.startswith(("train_", "valid_"))} - {
        "train_time"
    }


def test_vae_logs_nats_per_epoch_and_the_summary_holds_the_test_elbo_and_fd_trio(
    digits_npz: Path, tmp_path: Path
):
    run = gradwise.train(
        config(digits_npz, "vae", generative={"latent": 4, "kl_warmup_epochs": 2}), out=tmp_path
    )
    paradigm = TASKS.get("vae")()
    assert logged(run) == set(paradigm.logged_metrics(has_valid=True))  # declared = logged
    rows = run.metrics
    assert [row["train_beta"] for row in rows] == pytest.approx([0.25, 0.75, 1.0], abs=0.06)
    for row in rows:  # ELBO = −(reconstruction + KL), all in nats per sample
        assert row["valid_elbo"] == pytest.approx(-(row["valid_reconstruction"] + row["valid_kl"]))
    per_unit = [json.loads(line) for line in (run.path / "latent_kl.jsonl").read_text().split("\n")
                if line]  # fmt: skip
    assert [r["epoch"] for r in per_unit] == [1, 2, 3] and len(per_unit[0]["kl_per_unit"]) == 4
    assert sum(per_unit[-1]["kl_per_unit"]) == pytest.approx(rows[-1]["valid_kl"], rel=1e-4)
    test = run.summary["test"]
    assert test["elbo"] < 0 and all(math.isfinite(test[k]) for k in FD_KEYS)
    assert test["fd_ratio"] == pytest.approx(test["fd"] / test["fd_baseline"])
    assert test["feature_space"] == "classifier"
    # the sampling mixture was fitted after training and saved with the best weights
    model = gradwise.Run(run.path).model
    assert bool(model.prior.fitted) and model.prior.weights.sum() == pytest.approx(1.0)


def test_labels_are_read_when_present_and_not_required(digits_npz: Path, unlabelled_csv: Path):
    labelled = load_data(gradwise.load_config(config(digits_npz, "vae")))
    assert labelled.y_train is not None and labelled.profile["stratified"]
    plain = load_data(gradwise.load_config(config(unlabelled_csv, "vae")))
    assert plain.y_train is None


def test_autoencoder_summary_sets_deep_clusters_beside_pca(digits_npz: Path, tmp_path: Path):
    run = gradwise.train(
        config(digits_npz, "autoencoder", generative={"latent": 4, "clusters": 10}), out=tmp_path
    )
    test = run.summary["test"]
    assert test["clusters"] == test["pca_clusters"] == 10
    for key in ("ari", "nmi", "pca_ari", "pca_nmi", "silhouette", "pca_silhouette"):
        assert -1 <= test[key] <= 1


class StopAfter(Callback):
    def __init__(self, epoch: int) -> None:
        self.stop_epoch = epoch

    def on_epoch_end(self, trainer, epoch, logs) -> None:
        if epoch == self.stop_epoch:
            raise KeyboardInterrupt


def test_gan_resumed_after_an_interrupt_equals_the_uninterrupted_run(
    digits_npz: Path, tmp_path: Path
):
    experiment = config(
        digits_npz,
        "gan",
        generative={
            "latent": 4,
            "conditional": True,
            "gradient_penalty": 0.5,
            "output_floor": True,
        },
        train={"epochs": 3, "optimizers": {"discriminator": {"lr": 0.002}}},
    )
    whole = gradwise.train(experiment, out=tmp_path / "whole")
    with pytest.raises(KeyboardInterrupt):
        gradwise.train(experiment, out=tmp_path / "split", callbacks=[StopAfter(2)])
    (interrupted,) = (tmp_path / "split").iterdir()
    resumed = gradwise.resume(interrupted)
    assert [r["train_loss"] for r in resumed.metrics] == [r["train_loss"] for r in whole.metrics]
    names = ("generator", "discriminator", "generator_ema")
    for tag in ("last", "best"):
        a = gradwise.Run(whole.path).task.build_module(whole.config, (1, 8, 8))
        b = gradwise.Run(resumed.path).task.build_module(resumed.config, (1, 8, 8))
        load_weights(whole.path / "checkpoints", tag, a)
        load_weights(resumed.path / "checkpoints", tag, b)
        for name in names:
            for (key, x), (_, y) in zip(
                getattr(a, name).state_dict().items(),
                getattr(b, name).state_dict().items(),
                strict=True,
            ):
                assert torch.equal(x, y), f"{tag}: {name}.{key}"
    assert whole.summary["test"]["fd"] == resumed.summary["test"]["fd"]
    assert whole.summary["best_epoch"] == resumed.summary["best_epoch"]
    # the floor (the training minimum: blank pixels, standardized) travels with the weights
    model = gradwise.Run(whole.path).model
    floor = model.generator_ema.floor
    assert torch.equal(floor, model.generator.floor) and floor.abs().sum() > 0


def test_gan_checkpoints_hold_the_averaged_generators_standing_statistics(
    digits_npz: Path, tmp_path: Path
):
    from gradwise.generative.building import STATISTICS_STREAM, stream

    experiment = config(digits_npz, "gan", model={"hidden": [32], "norm": "batch"})
    run = gradwise.train(experiment, out=tmp_path)
    model = gradwise.Run(run.path).model  # the best epoch's weights, as saved
    norms = [m for m in model.generator_ema.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    saved = [(m.running_mean.clone(), m.running_var.clone()) for m in norms]
    model.standing_statistics(stream(experiment["seed"], STATISTICS_STREAM, torch.device("cpu")))
    assert norms
    for (mean, var), norm in zip(saved, norms, strict=True):
        torch.testing.assert_close(mean, norm.running_mean)
        torch.testing.assert_close(var, norm.running_var)


class PoisonGenerator(Callback):
    """Sets one generator weight to NaN after the given step: the next losses are NaN."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_batch_end(self, trainer, loss) -> None:
        if trainer.global_step == self.step:
            with torch.no_grad():
                first = next(trainer.module.generator.parameters())
                first.view(-1)[0] = math.nan


def test_a_non_finite_generator_stops_the_gan_naming_the_layer(digits_npz: Path, tmp_path):
    with pytest.raises(TrainingError, match=r"generator\.body\.body\.0\.weight") as caught:
        gradwise.train(config(digits_npz, "gan"), out=tmp_path, callbacks=[PoisonGenerator(10)])
    run_dir = caught.value.run_dir
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "failed" and "non-finite" in summary["error"]
    model = TASKS.get("gan")().build_module(
        gradwise.load_config(run_dir / "config.yaml"), (1, 8, 8)
    )
    load_weights(run_dir / "checkpoints", "last", model)  # the last good epoch, finite
    assert all(torch.isfinite(p).all() for p in model.parameters())


@pytest.mark.parametrize(
    ("task", "sections", "message"),
    [
        ("gan", {"generative": {"conditional": True}}, "generative.conditional: a class-cond"),
        ("gan", {"train": {"ema": 0.99}}, "train.ema: a GAN already samples from a moving av"),
        ("vae", {"generative": {"prior": "class_mixture"}},
         "generative.prior: class_mixture fits one mixture per class of the labels, and the"),
        ("vae", {"data": {"scale": "standard"}, "generative": {"likelihood": "bernoulli"}},
         "generative.likelihood: bernoulli needs inputs in \\[0, 1\\]"),
        ("gan", {"train": {"optimizers": {"critic": {"lr": 0.1}}}},
         "train.optimizers: task gan has no optimizer 'critic'; its optimizers: discrim"),
        ("vae", {"train": {"optimizers": {"generator": {"lr": 0.1}}}},
         "train.optimizers: task vae has no optimizer 'generator'; its optimizers: main"),
    ],
)  # fmt: skip
def test_bad_generative_configs_are_one_line_errors_before_anything_is_written(
    unlabelled_csv: Path, tmp_path: Path, task, sections, message
):
    with pytest.raises(ConfigError, match=message):
        gradwise.train(config(unlabelled_csv, task, **sections), out=tmp_path)
    assert not any(tmp_path.iterdir())


def test_named_optimizers_inherit_the_shared_optimizer_key_by_key():
    loaded = gradwise.load_config(
        {
            "data": {"source": "mnist1d"},
            "train": {
                "optimizer": {"name": "adam", "lr": 0.001, "betas": [0.5, 0.99]},
                "optimizers": {"discriminator": {"lr": 0.004}},
            },
        }
    )
    d = loaded.train.optimizers["discriminator"]
    assert (d.name, d.lr, d.betas) == ("adam", 0.004, (0.5, 0.99))


def test_a_generative_section_belongs_to_a_generative_task():
    with pytest.raises(ConfigError, match="task 'classification' does not read a generative"):
        gradwise.load_config({"data": {"source": "mnist1d"}, "generative": {"latent": 3}})
